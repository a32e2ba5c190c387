/**
 * The builder's two halves against each other: what `build` assembles `verify` accepts, and every way
 * a proposal can be wrong (spans, bundles, data, results and auction commitments, payloads) is refused
 * with its typed code.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  type AuctionSource,
  type BundleLookup,
  type BundleSource,
  createBlockBuilder,
  type ExecutorView,
  executorResults,
  type ResultsSource,
  type SelectedBundle,
} from '../../../src/builder/index.ts';
import {
  computeAuctionHash,
  computeDataHash,
  computeResultsHash,
  NO_AUCTION,
  type ResultLeaf,
} from '../../../src/codec/commitments.ts';
import { AUCTION_NAMESPACE, txHash } from '../../../src/codec/index.ts';
import { bytesEqual as bytesEq, latin1Key } from '../../../src/crypto/index.ts';
import type { NamespaceResult } from '../../../src/exec/index.ts';
import type { Block, BundleSpan, TxEnvelope } from '../../../src/types.ts';
import { blockOf } from './fixtures.ts';

const rollups = [
  { namespace: 1, name: 'one', maxTxBytes: 64 },
  { namespace: 2, name: 'two', maxTxBytes: 64 },
  { namespace: 3, name: 'three', maxTxBytes: 64 },
];

const tx = (namespace: number, n: number): TxEnvelope => ({
  namespace,
  payload: new Uint8Array([n, namespace]),
});

function mempool(txs: TxEnvelope[]) {
  return {
    reap: ({ maxTxs }: { maxBytes: number; maxTxs: number }) => txs.slice(0, maxTxs),
    stats: () => ({ txs: txs.length }),
    get: () => undefined,
  };
}

const leaf = (namespace: number, b: number): ResultLeaf => ({
  namespace,
  stateRoot: new Uint8Array(32).fill(b),
  receiptsRoot: new Uint8Array(32).fill(b + 1),
});

/** Results of every height: two executed rollups whose roots depend on the height. */
const results: ResultsSource = {
  results: (h) => Promise.resolve(h <= 0 ? [] : [leaf(2, h), leaf(3, h + 100)]),
};

function bundleSource(
  known: SelectedBundle[],
  included: Uint8Array[] = [],
  window = { min: 0, max: 0 },
): BundleSource {
  const byKey = new Map(known.map((b) => [latin1Key(b.bundleHash), b]));
  const inc = new Set(included.map(latin1Key));
  return {
    select: () => Promise.resolve(known),
    lookup: (hash): BundleLookup => {
      if (inc.has(latin1Key(hash))) return { kind: 'included', height: 1 };
      const b = byKey.get(latin1Key(hash));
      return b === undefined
        ? { kind: 'unknown' }
        : {
            kind: 'known',
            txs: b.txs,
            minHeight: window.min,
            maxHeight: window.max,
            atomicity: b.atomicity,
            reverting: b.reverting,
          };
    },
  };
}

/** The block with a changed body or header; the data hash is recomputed unless `keepDataHash`. */
function tamper(
  b: Block,
  change: { txs?: TxEnvelope[]; bundles?: BundleSpan[]; header?: Partial<Block['header']> },
  keepDataHash = false,
): Block {
  const txs = change.txs ?? b.txs;
  const bundles = change.bundles ?? b.bundles;
  const header = { ...b.header, txCount: txs.length, ...change.header };
  if (!keepDataHash && change.header?.dataHash === undefined) {
    try {
      header.dataHash = computeDataHash(txs, bundles);
    } catch {
      // unsorted spans cannot be hashed: keep the old hash (the layout check refuses them first)
    }
  }
  return { header, txs, bundles };
}

const bh = (n: number): Uint8Array => new Uint8Array(32).fill(n);
/** A cross-rollup bundle: one tx in rollup 1, two in rollup 3. */
const cross: SelectedBundle = {
  bundleHash: bh(7),
  txs: [tx(1, 70), tx(3, 71), tx(3, 72)],
  atomicity: 1,
  reverting: new Set(),
};
const single: SelectedBundle = { bundleHash: bh(8), txs: [tx(3, 80)], atomicity: 1, reverting: new Set() };
const pool = [tx(1, 1), tx(1, 2), tx(2, 3), tx(3, 4)];

describe('block builder', () => {
  it('builds the fair selection with every commitment, and verifies its own block', async () => {
    const b = createBlockBuilder({ rollups, mempool: mempool(pool), results });
    const built = await b.build(5, 1 << 20, 100);
    expect(built.txs).toEqual(pool);
    expect(built.bundles).toEqual([]);
    expect(built.dataHash).toEqual(computeDataHash(pool, []));
    expect(built.resultsHash).toEqual(computeResultsHash({ height: 3, results: [leaf(2, 3), leaf(3, 103)] }));
    expect(built.auctionHash).toEqual(computeAuctionHash(5, NO_AUCTION));
    expect(await b.verify(blockOf(5, built))).toEqual({ ok: true });
  });

  it('commits to "no results" for the first two heights', async () => {
    const b = createBlockBuilder({ rollups, mempool: mempool([]), results });
    for (const h of [1, 2]) {
      const built = await b.build(h, 1 << 20, 100);
      expect(built.resultsHash).toEqual(computeResultsHash({ height: 0, results: [] }));
      expect(await b.verify(blockOf(h, built))).toEqual({ ok: true });
    }
  });

  it("puts bundles at the top of their rollups' slices, whole, before the fair selection", async () => {
    const bundles = bundleSource([cross, single]);
    const b = createBlockBuilder({ rollups, mempool: mempool([...pool, cross.txs[1]!]), results, bundles });
    const built = await b.build(5, 1 << 20, 100);
    expect(built.txs).toEqual([
      tx(1, 70),
      tx(1, 1),
      tx(1, 2),
      tx(2, 3),
      tx(3, 71),
      tx(3, 72),
      tx(3, 80),
      tx(3, 4),
    ]);
    expect(built.bundles).toEqual([
      { bundleHash: bh(7), namespace: 1, start: 0, count: 1, atomicity: 1, reverting: [] },
      { bundleHash: bh(7), namespace: 3, start: 0, count: 2, atomicity: 1, reverting: [] },
      { bundleHash: bh(8), namespace: 3, start: 2, count: 1, atomicity: 1, reverting: [] },
    ]);
    expect(built.dataHash).toEqual(computeDataHash(built.txs, built.bundles));
    expect(built.dataHash).not.toEqual(computeDataHash(built.txs, []));
    expect(await b.verify(blockOf(5, built))).toEqual({ ok: true });
  });

  it("finds a compact proposal's transactions in the mempool and in the bundle pool (no fetch from a peer)", () => {
    const inPool = tx(1, 1);
    const mp = {
      ...mempool(pool),
      get: (h: Uint8Array) => (bytesEq(h, txHash(inPool)) ? inPool : undefined),
    };
    const legs = new Map(cross.txs.map((t) => [latin1Key(txHash(t)), t]));
    const bundles: BundleSource = { ...bundleSource([cross]), tx: (h) => legs.get(latin1Key(h)) };
    const b = createBlockBuilder({ rollups, mempool: mp, results, bundles });
    expect(b.findTx?.(txHash(inPool))).toBe(inPool);
    for (const t of cross.txs) expect(b.findTx?.(txHash(t))).toBe(t);
    expect(b.findTx?.(txHash(tx(2, 99)))).toBeUndefined();
    // A bundle source without the lookup: only the mempool answers, as before.
    const plain = createBlockBuilder({ rollups, mempool: mp, results, bundles: bundleSource([cross]) });
    expect(plain.findTx?.(txHash(cross.txs[0]!))).toBeUndefined();
  });

  it('leaves out a bundle that does not fit whole', async () => {
    const b = createBlockBuilder({
      rollups,
      mempool: mempool(pool),
      results,
      bundles: bundleSource([cross, single]),
    });
    const built = await b.build(5, 1 << 20, 2);
    expect(built.bundles.map((s) => s.bundleHash[0])).toEqual([8]);
    expect(built.txs).toEqual([tx(1, 1), tx(3, 80)]);
  });
});

describe('block builder: verify refuses a bad proposal with a typed reason', async () => {
  const bundles = bundleSource([cross, single]);
  const b = createBlockBuilder({ rollups, mempool: mempool(pool), results, bundles });
  const good = blockOf(5, await b.build(5, 1 << 20, 100));
  const spans = good.bundles;
  const code = async (blk: Block) => {
    const v = await b.verify(blk);
    return v.ok ? 'ok' : v.code;
  };
  const withSpans = (s: BundleSpan[]) => tamper(good, { bundles: s });

  it('accepts the honest block', async () => {
    expect(await code(good)).toBe('ok');
  });
  it('wrong spans: malformed, out of the slice, unsorted, overlapping, duplicated', async () => {
    expect(await code(withSpans([{ ...spans[0]!, count: 0 }, ...spans.slice(1)]))).toBe('SPAN_MALFORMED');
    expect(
      await code(
        withSpans([
          ...spans,
          { bundleHash: bh(9), namespace: 4, start: 0, count: 1, atomicity: 1, reverting: [] },
        ]),
      ),
    ).toBe('SPAN_MALFORMED');
    expect(await code(withSpans([spans[0]!, spans[1]!, { ...spans[2]!, start: 4 }]))).toBe(
      'SPAN_OUT_OF_SLICE',
    );
    expect(await code(withSpans([spans[1]!, spans[0]!, spans[2]!]))).toBe('SPAN_UNSORTED');
    expect(await code(withSpans([spans[0]!, spans[1]!, { ...spans[2]!, start: 1 }]))).toBe('SPAN_OVERLAP');
    expect(await code(withSpans([spans[0]!, spans[1]!, { ...spans[1]!, start: 3, count: 1 }]))).toBe(
      'SPAN_DUPLICATE',
    );
  });
  it("a split bundle: one rollup's span missing, or a span holding other transactions", async () => {
    expect(await code(withSpans([spans[1]!, spans[2]!]))).toBe('BUNDLE_PARTIAL');
    // The span moved onto the fair selection's transaction: contiguous and in the slice, but not the bundle.
    expect(await code(withSpans([{ ...spans[0]!, start: 1 }, spans[1]!, spans[2]!]))).toBe('BUNDLE_PARTIAL');
    const shorter = tamper(good, {
      txs: good.txs.filter((t) => !(t.namespace === 3 && t.payload[0] === 72)),
      bundles: [spans[0]!, { ...spans[1]!, count: 1 }, { ...spans[2]!, start: 1 }],
    });
    expect(await code(shorter)).toBe('BUNDLE_PARTIAL');
  });
  it('a bundle that is unknown, already included (split across blocks), or outside its window', async () => {
    const unknown = createBlockBuilder({ rollups, mempool: mempool(pool), results });
    expect(await unknown.verify(good)).toMatchObject({
      code: 'BUNDLE_UNKNOWN',
    });
    const included = createBlockBuilder({
      rollups,
      mempool: mempool(pool),
      results,
      bundles: bundleSource([cross, single], [bh(7)]),
    });
    expect(await included.verify(good)).toMatchObject({ ok: false, code: 'BUNDLE_ALREADY_INCLUDED' });
    const late = createBlockBuilder({
      rollups,
      mempool: mempool(pool),
      results,
      bundles: bundleSource([cross, single], [], { min: 1, max: 4 }),
    });
    expect(await late.verify(good)).toMatchObject({ ok: false, code: 'BUNDLE_OUT_OF_WINDOW' });
  });
  it('a data hash that does not cover the spans or the transactions', async () => {
    expect(await code(tamper(good, { header: { dataHash: computeDataHash(good.txs, []) } }))).toBe(
      'DATA_HASH_MISMATCH',
    );
    expect(await code(tamper(good, { header: { dataHash: bh(1) } }))).toBe('DATA_HASH_MISMATCH');
  });
  it('a wrong results commitment', async () => {
    const otherHeight = computeResultsHash({ height: 4, results: [leaf(2, 4), leaf(3, 104)] });
    expect(await code(tamper(good, { header: { resultsHash: otherHeight } }))).toBe('RESULTS_HASH_MISMATCH');
    const otherRoot = computeResultsHash({ height: 3, results: [leaf(2, 3), leaf(3, 3)] });
    expect(await code(tamper(good, { header: { resultsHash: otherRoot } }))).toBe('RESULTS_HASH_MISMATCH');
    expect(await code(tamper(good, { header: { resultsHash: new Uint8Array(0) } }))).toBe(
      'RESULTS_HASH_MISMATCH',
    );
  });
  it('a wrong auction commitment', async () => {
    expect(await code(tamper(good, { header: { auctionHash: computeAuctionHash(4, NO_AUCTION) } }))).toBe(
      'AUCTION_HASH_MISMATCH',
    );
    expect(await code(tamper(good, { header: { auctionHash: new Uint8Array(0) } }))).toBe(
      'AUCTION_HASH_MISMATCH',
    );
  });
  it('unknown namespaces, oversized and invalid payloads', async () => {
    const plain = createBlockBuilder({
      rollups,
      mempool: mempool(pool),
      results,
      checkPayload: (_ns, p) => (p[0] === 99 ? 'bad payload' : undefined),
    });
    const base = blockOf(5, await plain.build(5, 1 << 20, 100));
    const codeOf = async (blk: Block) => {
      const v = await plain.verify(blk);
      return v.ok ? 'ok' : v.code;
    };
    expect(await codeOf(tamper(base, { txs: [...base.txs, tx(9, 1)] }))).toBe('UNKNOWN_NAMESPACE');
    expect(
      await codeOf(tamper(base, { txs: [...base.txs, { namespace: 3, payload: new Uint8Array(65) }] })),
    ).toBe('TX_TOO_LARGE');
    expect(await codeOf(tamper(base, { txs: [...base.txs, tx(3, 99)] }))).toBe('INVALID_TX');
  });
});

describe('the auction lane cap (lane.maxTxsPerBlock)', () => {
  const atx = (n: number): TxEnvelope => ({ namespace: AUCTION_NAMESPACE, payload: new Uint8Array([n]) });
  const lane = [tx(1, 1), atx(1), atx(2), atx(3), atx(4)];
  /** An auction source that sells nothing and accepts every auction transaction, capped at `cap`. */
  const capped = (cap: number): AuctionSource => ({
    outcome: () => Promise.resolve({ outcome: NO_AUCTION, winners: [] }),
    checkTx: () => undefined,
    maxTxsPerBlock: cap,
  });

  it('the builder places at most the cap, in the order reaped', async () => {
    const b = createBlockBuilder({ rollups, mempool: mempool(lane), results, auction: capped(2) });
    const built = await b.build(5, 1 << 20, 100);
    expect(built.txs.filter((t) => t.namespace === AUCTION_NAMESPACE)).toEqual([atx(1), atx(2)]);
    expect(await b.verify(blockOf(5, built))).toEqual({ ok: true });
  });

  it('an honest validator refuses a proposal with more auction transactions than the cap', async () => {
    const byzantine = createBlockBuilder({ rollups, mempool: mempool(lane), results, auction: capped(9) });
    const honest = createBlockBuilder({ rollups, mempool: mempool(lane), results, auction: capped(3) });
    const over = blockOf(5, await byzantine.build(5, 1 << 20, 100));
    expect(over.txs.filter((t) => t.namespace === AUCTION_NAMESPACE)).toHaveLength(4);
    expect(await honest.verify(over)).toMatchObject({ ok: false, code: 'AUCTION_LANE_FULL' });
    expect(((await honest.verify(over)) as { message: string }).message).toMatch(
      /4 auction transactions.*allows 3/,
    );
    const atCap = tamper(over, { txs: over.txs.slice(0, 4) }); // tx(1,1) + 3 auction txs
    expect(await honest.verify(atCap)).toEqual({ ok: true });
  });
});

describe('bundle rules across spans (issue #22)', () => {
  const a3: SelectedBundle = {
    bundleHash: bh(20),
    txs: [tx(1, 20), tx(3, 21)],
    atomicity: 1,
    reverting: new Set(),
  };
  const b3: SelectedBundle = {
    bundleHash: bh(21),
    txs: [tx(1, 30), tx(3, 31)],
    atomicity: 1,
    reverting: new Set(),
  };
  const kinds = [
    { namespace: 1, name: 'one', maxTxBytes: 64, kind: 'opaque' as const },
    { namespace: 2, name: 'two', maxTxBytes: 64, kind: 'transfer' as const },
    { namespace: 3, name: 'three', maxTxBytes: 64, kind: 'evm' as const },
  ];
  const codeOf = async (b: ReturnType<typeof createBlockBuilder>, blk: Block) => {
    const v = await b.verify(blk);
    return v.ok ? 'ok' : v.code;
  };

  it('refuses a cycle in the bundle order across namespaces (A before B in one rollup, B before A in another)', async () => {
    const b = createBlockBuilder({ rollups, mempool: mempool([]), results, bundles: bundleSource([a3, b3]) });
    const good = blockOf(5, await b.build(5, 1 << 20, 100));
    expect(await codeOf(b, good)).toBe('ok');
    const cyclic = tamper(good, {
      txs: [tx(1, 20), tx(1, 30), tx(3, 31), tx(3, 21)],
      bundles: [
        { bundleHash: bh(20), namespace: 1, start: 0, count: 1, atomicity: 1, reverting: [] },
        { bundleHash: bh(21), namespace: 1, start: 1, count: 1, atomicity: 1, reverting: [] },
        { bundleHash: bh(21), namespace: 3, start: 0, count: 1, atomicity: 1, reverting: [] },
        { bundleHash: bh(20), namespace: 3, start: 1, count: 1, atomicity: 1, reverting: [] },
      ],
    });
    expect(await b.verify(cyclic)).toMatchObject({ ok: false, code: 'SPAN_CYCLE' });
  });

  it("refuses spans whose atomicity or reverting indices differ from the bundle's or from each other", async () => {
    const withRev: SelectedBundle = { ...cross, reverting: new Set([2]) };
    const b = createBlockBuilder({
      rollups,
      mempool: mempool(pool),
      results,
      bundles: bundleSource([withRev]),
    });
    const good = blockOf(5, await b.build(5, 1 << 20, 100));
    // The reverting index 2 of the bundle (tx(3, 72)) is index 1 within rollup 3's span.
    expect(good.bundles.map((s) => s.reverting)).toEqual([[], [1]]);
    expect(await codeOf(b, good)).toBe('ok');
    const [s1, s3] = good.bundles as [BundleSpan, BundleSpan];
    expect(await codeOf(b, tamper(good, { bundles: [{ ...s1, atomicity: 2 }, s3] }))).toBe('BUNDLE_MISMATCH');
    expect(
      await codeOf(
        b,
        tamper(good, {
          bundles: [
            { ...s1, atomicity: 2 },
            { ...s3, atomicity: 2 },
          ],
        }),
      ),
    ).toBe('BUNDLE_MISMATCH');
    expect(await codeOf(b, tamper(good, { bundles: [s1, { ...s3, reverting: [] }] }))).toBe(
      'BUNDLE_MISMATCH',
    );
    expect(await codeOf(b, tamper(good, { bundles: [s1, { ...s3, reverting: [0, 1] }] }))).toBe(
      'BUNDLE_MISMATCH',
    );
    expect(await codeOf(b, tamper(good, { bundles: [s1, { ...s3, reverting: [1, 0] }] }))).toBe(
      'SPAN_MALFORMED',
    );
    expect(await codeOf(b, tamper(good, { bundles: [s1, { ...s3, reverting: [2] }] }))).toBe(
      'SPAN_MALFORMED',
    );
  });

  it("refuses a bundle's transaction that appears again in the block", async () => {
    const b = createBlockBuilder({
      rollups,
      mempool: mempool(pool),
      results,
      bundles: bundleSource([cross]),
    });
    const good = blockOf(5, await b.build(5, 1 << 20, 100));
    expect(await codeOf(b, good)).toBe('ok');
    // tx(3, 71) once more at the end of rollup 3's slice (the layout stays sound).
    const dup = tamper(good, { txs: [...good.txs, tx(3, 71)] });
    expect(await b.verify(dup)).toMatchObject({ ok: false, code: 'BUNDLE_TX_DUPLICATE' });
  });

  it('refuses execution atomicity on an opaque rollup, and the proposer never picks such a bundle', async () => {
    const plain = createBlockBuilder({
      rollups,
      mempool: mempool(pool),
      results,
      bundles: bundleSource([cross]),
    });
    const good = blockOf(5, await plain.build(5, 1 << 20, 100));
    const typed = createBlockBuilder({
      rollups: kinds,
      mempool: mempool(pool),
      results,
      bundles: bundleSource([cross]),
    });
    expect(await typed.verify(good)).toMatchObject({ ok: false, code: 'ATOMICITY_UNSUPPORTED' });
    expect((await typed.build(5, 1 << 20, 100)).bundles).toEqual([]);
    const inclusion: SelectedBundle = { ...cross, atomicity: 2 };
    const ok = createBlockBuilder({
      rollups: kinds,
      mempool: mempool(pool),
      results,
      bundles: bundleSource([inclusion]),
    });
    const built = blockOf(5, await ok.build(5, 1 << 20, 100));
    expect(built.bundles).toHaveLength(2);
    expect(await codeOf(ok, built)).toBe('ok');
  });

  it('never chooses two bundles that share a transaction (the first one offered wins)', async () => {
    const other: SelectedBundle = {
      bundleHash: bh(9),
      txs: [tx(2, 90), tx(3, 72)],
      atomicity: 1,
      reverting: new Set(),
    };
    const twice: SelectedBundle = {
      bundleHash: bh(10),
      txs: [tx(2, 91), tx(2, 91)],
      atomicity: 1,
      reverting: new Set(),
    };
    const b = createBlockBuilder({
      rollups,
      mempool: mempool(pool),
      results,
      bundles: bundleSource([cross, other, twice, single]),
    });
    const built = await b.build(5, 1 << 20, 100);
    expect([...new Set(built.bundles.map((s) => s.bundleHash[0]))]).toEqual([7, 8]);
    expect(await b.verify(blockOf(5, built))).toEqual({ ok: true });
  });
});

describe('builder metrics', () => {
  it('counts verdicts by code and observes the results wait', async () => {
    const registry = new Registry();
    const b = createBlockBuilder({ rollups, mempool: mempool(pool), results, registry });
    const good = blockOf(5, await b.build(5, 1 << 20, 100));
    await b.verify(good);
    await b.verify(tamper(good, { header: { auctionHash: new Uint8Array(32) } }));
    const text = await registry.metrics();
    expect(text).toContain('ordo_builder_verify_total{verdict="ok"} 1');
    expect(text).toContain('ordo_builder_verify_total{verdict="AUCTION_HASH_MISMATCH"} 1');
    expect(text).toMatch(/ordo_builder_results_wait_seconds_count 2/);
  });
});

describe('executor results', () => {
  function fakeExecutor(): ExecutorView & { run(h: number): void } {
    let head = 0;
    const listeners = new Set<(h: number, r: Map<number, NamespaceResult>) => void>();
    const result = (ns: number, h: number): NamespaceResult => ({
      namespace: ns,
      height: h,
      receipts: [],
      stateRoot: new Uint8Array(32).fill(h),
      resultsHash: new Uint8Array(32),
    });
    return {
      executedNamespaces: () => [3, 2],
      head: () => ({ height: head }),
      getResult: (ns, h) => Promise.resolve(h <= head ? result(ns, h) : undefined),
      subscribe: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      run(h) {
        head = h;
        for (const l of [...listeners]) l(h, new Map());
      },
    };
  }

  it('waits for the height to be executed, and gives leaves sorted by namespace', async () => {
    const ex = fakeExecutor();
    const src = executorResults(ex);
    const p = src.results(2, 60_000);
    ex.run(1);
    ex.run(2);
    const leaves = await p;
    expect(leaves.map((l) => l.namespace)).toEqual([2, 3]);
    expect(leaves[0]!.stateRoot).toEqual(new Uint8Array(32).fill(2));
  });

  it("takes the leaves from the executor's notification, without reading results back", async () => {
    const ex = fakeExecutor();
    let reads = 0;
    const view: ExecutorView = {
      ...ex,
      getResult: (ns, h) => {
        reads++;
        return ex.getResult(ns, h);
      },
      subscribe: (l) =>
        ex.subscribe((h) =>
          l(
            h,
            new Map(
              [2, 3].map((ns) => [
                ns,
                {
                  namespace: ns,
                  height: h,
                  receipts: [],
                  stateRoot: new Uint8Array(32).fill(h),
                  resultsHash: new Uint8Array(32),
                },
              ]),
            ),
          ),
        ),
    };
    const src = executorResults(view);
    ex.run(1);
    const leaves = await src.results(1, 5);
    expect(leaves.map((l) => l.namespace)).toEqual([2, 3]);
    expect(leaves[1]!.stateRoot).toEqual(new Uint8Array(32).fill(1));
    expect(reads).toBe(0);
    // A notification without every rollup's results (a partial view) leaves the height to the store.
    expect(await executorResults(ex).results(1, 5)).toEqual(leaves);
  });

  it('gives up at the bound with RESULTS_NOT_READY, and a validator prevotes against it', async () => {
    const ex = fakeExecutor();
    const src = executorResults(ex);
    await expect(src.results(3, 5)).rejects.toMatchObject({ code: 'RESULTS_NOT_READY' });
    const b = createBlockBuilder({ rollups, mempool: mempool(pool), results: src, resultsWaitMs: 5 });
    await expect(b.build(5, 1 << 20, 100)).rejects.toMatchObject({ code: 'RESULTS_NOT_READY' });
    ex.run(3);
    const built = await b.build(5, 1 << 20, 100);
    const behind = createBlockBuilder({
      rollups,
      mempool: mempool(pool),
      results: executorResults(fakeExecutor()),
      resultsWaitMs: 5,
    });
    expect(await behind.verify(blockOf(5, built))).toMatchObject({ ok: false, code: 'RESULTS_NOT_READY' });
    expect(await b.verify(blockOf(5, built))).toEqual({ ok: true });
  });

  it('says whether what a height depends on is in: at once, when it comes, or not within the wait (ADR 0292)', async () => {
    const ex = fakeExecutor();
    const b = createBlockBuilder({ rollups, mempool: mempool(pool), results: executorResults(ex) });
    expect(b.whenReady!(2, 0)).toBe(true); // heights 1 and 2 commit to no results
    expect(await b.whenReady!(5, 5)).toBe(false);
    const later = b.whenReady!(5, 5_000);
    setTimeout(() => ex.run(3), 20);
    expect(await later).toBe(true);
    expect(b.whenReady!(5, 0)).toBe(true);
  });

  it("waits as long as the engine's budget allows when it is longer than resultsWaitMs (ADR 0291)", async () => {
    // Proposer and validator of height 5; their executors finish height 3 40 ms after they are asked.
    const ex = fakeExecutor();
    const b = createBlockBuilder({
      rollups,
      mempool: mempool(pool),
      results: executorResults(ex),
      resultsWaitMs: 5,
    });
    setTimeout(() => ex.run(3), 40);
    // A budget shorter than the builder's own bound does not shorten it.
    await expect(b.build(5, 1 << 20, 100, { waitMs: 1 })).rejects.toMatchObject({
      code: 'RESULTS_NOT_READY',
    });
    const built = await b.build(5, 1 << 20, 100, { waitMs: 5_000 });
    expect(built.txs.length).toBeGreaterThan(0);
    const ex2 = fakeExecutor();
    const v = createBlockBuilder({
      rollups,
      mempool: mempool(pool),
      results: executorResults(ex2),
      resultsWaitMs: 5,
    });
    setTimeout(() => ex2.run(3), 40);
    expect(await v.verify(blockOf(5, built))).toMatchObject({ ok: false, code: 'RESULTS_NOT_READY' });
    expect(await v.verify(blockOf(5, built), { waitMs: 5_000 })).toEqual({ ok: true });
  });
});

describe('block builder: a check that ends after its height was decided (ADR 0250)', () => {
  it('counts a refusal taken after the height was decided as stale, not as a refused proposal', async () => {
    // The validator's view: `cross` is pending until the node decides height 5 from the others'
    // precommits while its own check waits for the auction's outcome; then it is included at 5.
    let decided = 4;
    const source: BundleSource = {
      select: () => Promise.resolve([cross]),
      lookup: (hash, h): BundleLookup =>
        decided >= 5 ? { kind: 'included', height: 5 } : bundleSource([cross]).lookup(hash, h),
    };
    let release = (): void => {};
    const slow: AuctionSource = {
      outcome: () =>
        new Promise((r) => {
          release = () => r({ outcome: NO_AUCTION, winners: [] });
        }),
    };
    const proposer = createBlockBuilder({ rollups, mempool: mempool(pool), results, bundles: source });
    const block = blockOf(5, await proposer.build(5, 1 << 20, 100));
    const run = async (decidedHeight?: () => number) => {
      const registry = new Registry();
      decided = 4;
      const b = createBlockBuilder({
        rollups,
        mempool: mempool(pool),
        results,
        bundles: source,
        auction: slow,
        registry,
        ...(decidedHeight !== undefined ? { decidedHeight } : {}),
      });
      const verdict = b.verify(block);
      await new Promise((r) => setTimeout(r, 0));
      decided = 5; // the block is decided here (pool.onCommit) while the check waits
      release();
      const v = await verdict;
      const counted = (await registry.getSingleMetric('ordo_builder_verify_total')?.get())?.values ?? [];
      return { v, labels: counted.map((c) => c.labels.verdict) };
    };
    // Without the node's decided height the moot refusal counts as BUNDLE_ALREADY_INCLUDED (what the
    // benchmarks showed as refused proposals); with it, as stale.
    expect(await run()).toMatchObject({
      v: { ok: false, code: 'BUNDLE_ALREADY_INCLUDED' },
      labels: ['BUNDLE_ALREADY_INCLUDED'],
    });
    expect(await run(() => decided)).toMatchObject({
      v: { ok: false, code: 'BUNDLE_ALREADY_INCLUDED' },
      labels: ['stale'],
    });
  });
});
