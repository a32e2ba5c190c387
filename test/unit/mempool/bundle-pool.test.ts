import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { bundleCancelBytes, bundleHash, bundleSignBytes, txHash } from '../../../src/codec/index.ts';
import { Ed25519Signer } from '../../../src/crypto/index.ts';
import { INCLUDED_MEMORY_HEIGHTS, RECHECK_MAX_GAP, recheckGap } from '../../../src/mempool/bundle-pool.ts';
import {
  type BundleCancel,
  type BundlePoolOptions,
  type BundleSimulateHook,
  type BundleStatus,
  createBundlePool,
  ordoTxHash,
} from '../../../src/mempool/index.ts';
import type { Block, Bundle, BundleSpan, TxEnvelope } from '../../../src/types.ts';
import { evmTx } from '../exec/helpers.ts';

const CHAIN = 'test-chain';
const ROLLUPS = [
  { namespace: 1, kind: 'transfer' as const, maxTxBytes: 1000 },
  { namespace: 2, kind: 'evm' as const, maxTxBytes: 1000 },
  { namespace: 3, kind: 'opaque' as const, maxTxBytes: 100 },
];
const alice = new Ed25519Signer(new Uint8Array(32).fill(1));
const bob = new Ed25519Signer(new Uint8Array(32).fill(2));
const UUID = new Uint8Array(16).fill(7);

let seq = 0;
function tx(tag = seq++): Uint8Array {
  return new TextEncoder().encode(`tx-${tag}`);
}

function bundle(legs: [number, Uint8Array[]][], extra: Partial<Bundle> = {}): Bundle {
  return {
    legs: legs.map(([namespace, txs]) => ({ namespace, txs, revertingTxHashes: [] })),
    atomicity: legs.some(([ns]) => ns === 3) ? 'inclusion' : 'execution',
    minHeight: 0,
    maxHeight: 0,
    replacementUuid: new Uint8Array(0),
    signer: new Uint8Array(0),
    signature: new Uint8Array(0),
    ...extra,
  };
}

function signed(b: Bundle, who = alice, uuid: Uint8Array = UUID): Bundle {
  const u = { ...b, replacementUuid: uuid, signer: who.publicKey, signature: new Uint8Array(0) };
  return { ...u, signature: who.sign(bundleSignBytes(bundleHash(CHAIN, u))) };
}

function cancelOf(who = alice, uuid = UUID): BundleCancel {
  return {
    replacementUuid: uuid,
    signer: who.publicKey,
    signature: who.sign(bundleCancelBytes(CHAIN, uuid)),
  };
}

function setup(over: Partial<BundlePoolOptions> = {}) {
  let height = 0;
  const committed = new Set<string>();
  const pool = createBundlePool({
    chainId: CHAIN,
    rollups: ROLLUPS,
    height: () => height,
    txCommitted: (h) => committed.has(Buffer.from(h).toString('hex')),
    checkPayload: (_ns, p) => (p[0] === 0xff ? 'does not decode' : undefined),
    ...over,
  });
  const commit = (txs: TxEnvelope[], spans: BundleSpan[] = []): void => {
    height++;
    for (const t of txs) committed.add(Buffer.from(txHash(t)).toString('hex'));
    pool.onCommit({ header: { height } as Block['header'], txs, bundles: spans });
  };
  return { pool, commit, setHeight: (h: number) => (height = h) };
}

/** The text a test bundle's first transaction carries (its tag). */
const tagOf = (b: Bundle): string => new TextDecoder().decode(b.legs[0]!.txs[0]!);

/** A `select` simulation hook that applies everything and records `main:<tag>` in `seen`. */
function mainHook(seen: string[]): BundleSimulateHook {
  return async (b) => {
    seen.push(`main:${tagOf(b)}`);
    return { applies: true, height: 1 };
  };
}

function spansFor(hash: Uint8Array, b: Bundle): BundleSpan[] {
  return b.legs.map((l) => ({
    bundleHash: hash,
    namespace: l.namespace,
    start: 0,
    count: l.txs.length,
    atomicity: b.atomicity === 'execution' ? 1 : 2,
    reverting: [],
  }));
}

function code(r: { ok: boolean; code?: string }): string | undefined {
  return r.ok ? undefined : r.code;
}

describe('bundle pool admission', () => {
  it('admits a cross-rollup bundle and reports it pending', () => {
    const { pool } = setup();
    const r = pool.admit(
      bundle([
        [1, [tx()]],
        [2, [tx(), tx()]],
      ]),
      'rpc',
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(pool.status(r.bundleHash)).toEqual({ status: 'pending' });
    expect(pool.stats().bundles).toBe(1);
  });

  it('refuses each bad input with its code and keeps what was admitted', () => {
    const { pool } = setup();
    const good = pool.admit(bundle([[1, [tx()]]]), 'rpc');
    expect(good.ok).toBe(true);
    expect(code(pool.admit(bundle([]), 'rpc'))).toBe('BUNDLE_MALFORMED');
    expect(
      code(
        pool.admit(
          bundle([
            [2, [tx()]],
            [1, [tx()]],
          ]),
          'rpc',
        ),
      ),
    ).toBe('BUNDLE_MALFORMED');
    expect(code(pool.admit(bundle([[1, []]]), 'rpc'))).toBe('BUNDLE_MALFORMED');
    expect(code(pool.admit(bundle([[9, [tx()]]]), 'rpc'))).toBe('UNKNOWN_NAMESPACE');
    expect(code(pool.admit(bundle([[3, [new Uint8Array(101).fill(1)]]]), 'rpc'))).toBe('BUNDLE_TOO_LARGE');
    const many = Array.from({ length: 101 }, () => tx());
    expect(code(pool.admit(bundle([[1, many]]), 'rpc'))).toBe('BUNDLE_TOO_LARGE');
    expect(code(pool.admit(bundle([[1, [Uint8Array.of(0xff, 1)]]]), 'rpc'))).toBe('INVALID_TX');
    expect(
      code(
        pool.admit(
          bundle(
            [
              [1, [tx()]],
              [3, [tx()]],
            ],
            { atomicity: 'execution' },
          ),
          'rpc',
        ),
      ),
    ).toBe('ATOMICITY_UNSUPPORTED');
    const rev = bundle([[1, [tx()]]]);
    rev.legs[0]!.revertingTxHashes = [new Uint8Array(32).fill(9)];
    expect(code(pool.admit(rev, 'rpc'))).toBe('REVERTING_HASH_UNKNOWN');
    const bad = signed(bundle([[1, [tx()]]]));
    expect(code(pool.admit({ ...bad, signature: new Uint8Array(64) }, 'rpc'))).toBe('BAD_SIGNATURE');
    expect(code(pool.admit({ ...bundle([[1, [tx()]]]), replacementUuid: UUID }, 'rpc'))).toBe(
      'BAD_SIGNATURE',
    );
    expect(pool.stats().bundles).toBe(1);
    if (good.ok) expect(pool.status(good.bundleHash)?.status).toBe('pending');
  });

  it('accepts reverting hashes that name a tx of their leg (keccak-free default: Ordo tx hash)', () => {
    const { pool } = setup();
    const t = tx();
    const b = bundle([[1, [t, tx()]]]);
    b.legs[0]!.revertingTxHashes = [ordoTxHash(1, t)];
    const r = pool.admit(b, 'rpc');
    expect(r.ok).toBe(true);
    if (r.ok) expect(pool.lookup(r.bundleHash, 1)).toMatchObject({ kind: 'known', reverting: new Set([0]) });
  });

  it('refuses a passed window, duplicates and committed transactions', () => {
    const { pool, commit } = setup();
    const t = tx();
    commit([{ namespace: 1, payload: t }]);
    commit([]);
    expect(code(pool.admit(bundle([[1, [tx()]]], { maxHeight: 2 }), 'rpc'))).toBe('WINDOW_PASSED');
    expect(code(pool.admit(bundle([[1, [t]]]), 'rpc'))).toBe('TX_ALREADY_COMMITTED');
    const b = bundle([[1, [tx()]]]);
    expect(pool.admit(b, 'rpc').ok).toBe(true);
    expect(code(pool.admit(b, 'gossip'))).toBe('DUPLICATE');
  });

  it('replaces by the same signer and UUID, refuses another signer', () => {
    const { pool } = setup();
    const firstBundle = signed(bundle([[1, [tx()]]]));
    const first = pool.admit(firstBundle, 'rpc');
    const second = pool.admit(signed(bundle([[1, [tx()]]])), 'rpc');
    expect(first.ok && second.ok).toBe(true);
    if (!first.ok || !second.ok) return;
    expect(second.replaced).toEqual(first.bundleHash);
    expect(pool.status(first.bundleHash)).toMatchObject({ status: 'dropped', reason: 'replaced' });
    expect(code(pool.admit(signed(bundle([[1, [tx()]]]), bob), 'rpc'))).toBe('REPLACEMENT_FORBIDDEN');
    // the replaced bundle arriving again (late gossip) does not come back
    expect(code(pool.admit(firstBundle, 'gossip'))).toBe('DUPLICATE');
    expect(pool.stats().bundles).toBe(1);
    expect(pool.status(second.bundleHash)?.status).toBe('pending');
  });

  it('cancels by signed UUID; refuses a bad signature, an unknown and a committed bundle', () => {
    const { pool, commit } = setup();
    const b = signed(bundle([[1, [tx()]]]));
    const r = pool.admit(b, 'rpc');
    if (!r.ok) throw new Error('not admitted');
    expect(code(pool.cancel({ ...cancelOf(), signature: new Uint8Array(64) }))).toBe('BAD_SIGNATURE');
    expect(code(pool.cancel(cancelOf(bob)))).toBe('UNKNOWN_BUNDLE');
    const c = pool.cancel(cancelOf());
    expect(c).toEqual({ ok: true, cancelled: [r.bundleHash] });
    expect(pool.status(r.bundleHash)).toMatchObject({ status: 'dropped', reason: 'cancelled' });
    // a cancelled bundle arriving late by gossip is not admitted
    const late = signed(bundle([[1, [tx()]]]));
    expect(code(pool.admit(late, 'gossip'))).toBe('DUPLICATE');
    // cancel after inclusion
    const u2 = new Uint8Array(16).fill(8);
    const b2 = signed(bundle([[1, [tx()]]]), alice, u2);
    const r2 = pool.admit(b2, 'rpc');
    if (!r2.ok) throw new Error('not admitted');
    commit([{ namespace: 1, payload: b2.legs[0]!.txs[0]! }], spansFor(r2.bundleHash, b2));
    expect(code(pool.cancel(cancelOf(alice, u2)))).toBe('ALREADY_COMMITTED');
  });

  it('enforces limits with a retryable BUNDLE_POOL_FULL; unsigned bundles share one bucket', () => {
    const { pool } = setup({ limits: { maxBundles: 3, maxPerSigner: 2 } });
    expect(pool.admit(bundle([[1, [tx()]]]), 'rpc').ok).toBe(true);
    expect(pool.admit(bundle([[1, [tx()]]]), 'rpc').ok).toBe(true);
    const full = pool.admit(bundle([[1, [tx()]]]), 'rpc');
    expect(full).toMatchObject({ ok: false, code: 'BUNDLE_POOL_FULL', retryable: true });
    expect(pool.admit(signed(bundle([[1, [tx()]]])), 'rpc').ok).toBe(true);
    expect(code(pool.admit(signed(bundle([[1, [tx()]]]), bob, new Uint8Array(16).fill(3)), 'rpc'))).toBe(
      'BUNDLE_POOL_FULL',
    );
    // a replacement frees its own slot
    expect(pool.admit(signed(bundle([[1, [tx()]]])), 'rpc').ok).toBe(true);
  });
});

describe('bundle pool selection, lookup and commits', () => {
  it('selects whole bundles oldest first, never two sharing a tx, within budget and window', async () => {
    const { pool } = setup();
    const shared = tx();
    const a = pool.admit(
      bundle([
        [1, [shared]],
        [2, [tx()]],
      ]),
      'rpc',
    );
    const b = pool.admit(bundle([[1, [shared, tx()]]]), 'rpc');
    const c = pool.admit(bundle([[2, [tx(), tx()]]], { minHeight: 5 }), 'rpc');
    const d = pool.admit(bundle([[1, [tx(), tx(), tx()]]]), 'rpc');
    expect(a.ok && b.ok && c.ok && d.ok).toBe(true);
    // compact-proposal lookups find a pending bundle's transactions by Ordo tx hash
    expect(pool.tx(ordoTxHash(1, shared))?.payload).toEqual(shared);
    const sel = await pool.select(1, { maxBytes: 1_000_000, maxTxs: 4 });
    expect(sel.map((s) => s.txs.length)).toEqual([2]); // a; b shares a tx; c out of window; d too big
    const all = await pool.select(5, { maxBytes: 1_000_000, maxTxs: 100 });
    expect(all.map((s) => s.txs.length)).toEqual([2, 2, 3]);
    expect(all[0]!.txs.map((t) => t.namespace)).toEqual([1, 2]);
  });

  it('skips bundles the simulation refuses and drops them would-revert at expiry', async () => {
    const { pool, commit } = setup({ simulate: async () => ({ applies: false, reason: 'tx 0 reverts' }) });
    const r = pool.admit(bundle([[1, [tx()]]], { maxHeight: 2 }), 'rpc');
    if (!r.ok) throw new Error('not admitted');
    expect(await pool.select(1, { maxBytes: 1e6, maxTxs: 10 })).toEqual([]);
    expect(pool.status(r.bundleHash!)?.status).toBe('pending');
    commit([]);
    commit([]);
    expect(pool.status(r.bundleHash)).toMatchObject({ status: 'dropped', reason: 'would-revert' });
  });

  it('simulates a candidate once per committed height and reuses the verdict within it', async () => {
    const calls: string[] = [];
    let failing = true;
    const { pool, commit } = setup({
      simulate: async (b) => {
        const tag = new TextDecoder().decode(b.legs[0]!.txs[0]!);
        calls.push(tag);
        return tag === 'bad' && failing ? { applies: false, reason: 'tx 0 invalid' } : { applies: true };
      },
    });
    pool.admit(bundle([[1, [new TextEncoder().encode('good')]]]), 'rpc');
    pool.admit(bundle([[1, [new TextEncoder().encode('bad')]]]), 'rpc');
    // Counted as placeable until a simulation says otherwise; nothing is simulated before a select.
    expect(pool.pendingTxs()).toBe(2);
    expect(calls).toEqual([]);
    expect(await pool.select(1, { maxBytes: 1e6, maxTxs: 10 })).toHaveLength(1);
    expect(calls.sort()).toEqual(['bad', 'good']);
    expect(pool.pendingTxs()).toBe(1);
    // Another build at the same height (a later round) simulates nothing again.
    expect(await pool.select(1, { maxBytes: 1e6, maxTxs: 10 })).toHaveLength(1);
    expect(calls).toHaveLength(2);
    // After a commit the state moved: simulated again (the one known to fail at this node's second
    // selection after its refusal: RECHECK back-off).
    failing = false;
    commit([]);
    expect(await pool.select(2, { maxBytes: 1e6, maxTxs: 10 })).toHaveLength(1);
    expect(calls).toHaveLength(3);
    commit([]);
    expect(await pool.select(3, { maxBytes: 1e6, maxTxs: 10 })).toHaveLength(2);
    expect(calls).toHaveLength(5);
  });

  it('simulates candidates not known to fail before re-checking would-revert ones', async () => {
    const calls: string[] = [];
    const { pool, commit } = setup({
      limits: { maxSimulationsPerSelect: 1 },
      simulate: async (b) => {
        const tag = new TextDecoder().decode(b.legs[0]!.txs[0]!);
        calls.push(tag);
        return tag === 'bad' ? { applies: false, reason: 'invalid' } : { applies: true };
      },
    });
    pool.admit(bundle([[1, [new TextEncoder().encode('bad')]]]), 'rpc');
    expect(await pool.select(1, { maxBytes: 1e6, maxTxs: 10 })).toHaveLength(0);
    pool.admit(bundle([[1, [new TextEncoder().encode('good')]]]), 'rpc');
    commit([]);
    // One simulation allowed: it goes to the new candidate, not to the older would-revert one.
    expect(await pool.select(2, { maxBytes: 1e6, maxTxs: 10 })).toHaveLength(1);
    expect(calls).toEqual(['bad', 'good']);
  });

  it('re-simulates a bundle refused on a state older than its arrival with the fresh candidates', async () => {
    const calls: string[] = [];
    let executed = 0;
    const { pool, commit } = setup({
      limits: { maxSimulationsPerSelect: 1 },
      simulate: async (b) => {
        const tag = new TextDecoder().decode(b.legs[0]!.txs[0]!);
        calls.push(tag);
        // "lag" fails until the executed state reaches height 2 (its sender's previous transaction).
        return tag === 'lag' && executed < 2
          ? { applies: false, reason: 'nonce too high', height: executed }
          : { applies: true, height: executed };
      },
    });
    commit([]);
    commit([]);
    pool.admit(bundle([[1, [new TextEncoder().encode('lag')]]]), 'rpc'); // admitted at height 2
    expect(await pool.select(3, { maxBytes: 1e6, maxTxs: 10 })).toHaveLength(0); // simulated on state 0
    pool.admit(bundle([[1, [new TextEncoder().encode('new')]]]), 'rpc');
    executed = 2;
    commit([]);
    // Its refusal came from a state older than its arrival: it goes first again, and now applies.
    expect(await pool.select(4, { maxBytes: 1e6, maxTxs: 10 })).toHaveLength(1);
    expect(calls).toEqual(['lag', 'lag']);
  });

  it('re-checks the bundles known to fail in turn, longest since simulated first', async () => {
    const calls: string[] = [];
    const { pool, commit } = setup({
      limits: { maxSimulationsPerSelect: 1 },
      simulate: async (b) => {
        const tag = new TextDecoder().decode(b.legs[0]!.txs[0]!);
        calls.push(tag);
        return { applies: false, reason: 'invalid' };
      },
    });
    for (const t of ['a', 'b', 'c']) pool.admit(bundle([[1, [new TextEncoder().encode(t)]]]), 'rpc');
    for (let h = 1; h <= 6; h++) {
      expect(await pool.select(h, { maxBytes: 1e6, maxTxs: 10 })).toHaveLength(0);
      commit([]);
    }
    expect(calls).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it("re-checks a bundle known to fail at the node's 2nd, 4th and at most RECHECK_MAX_GAP-th selection", async () => {
    const heights: number[] = [];
    let h = 0;
    let failing = true;
    const { pool, commit } = setup({
      simulate: async () => {
        heights.push(h);
        return failing ? { applies: false, reason: 'invalid', height: h } : { applies: true, height: h };
      },
    });
    const r = pool.admit(bundle([[1, [tx()]]], { maxHeight: 100 }), 'rpc');
    for (h = 1; h <= 28; h++) {
      if (h === 24) failing = false;
      expect(await pool.select(h, { maxBytes: 1e6, maxTxs: 10 })).toHaveLength(0);
      // A later round at the same height is not another selection.
      await pool.select(h, { maxBytes: 1e6, maxTxs: 10 });
      commit([]);
    }
    // Simulated at selections 1, 3, 7, 15, 23 (gaps 2, 4, 8, 8; here one selection per height); valid
    // again from block 24, it waits for its next re-check (selection 31).
    expect([recheckGap(0), recheckGap(1), recheckGap(2), recheckGap(10)]).toEqual([2, 2, 4, RECHECK_MAX_GAP]);
    expect(heights).toEqual([1, 3, 7, 15, 23]);
    expect(pool.status(r.bundleHash!)?.status).toBe('pending');
    // A fresh candidate admitted meanwhile is simulated at once, whatever the known failer's back-off.
    expect(pool.admit(bundle([[1, [tx()]]]), 'rpc').ok).toBe(true);
    expect(await pool.select(h, { maxBytes: 1e6, maxTxs: 10 })).toHaveLength(1);
    expect(heights).toEqual([1, 3, 7, 15, 23, 29]);
    const key = Buffer.from(r.bundleHash!).toString('hex');
    for (h = 30; h <= 31; h++) {
      commit([]);
      const out = await pool.select(h, { maxBytes: 1e6, maxTxs: 10 });
      expect(out.some((b) => Buffer.from(b.bundleHash).toString('hex') === key)).toBe(h === 31);
    }
  });

  it("presimulates the next proposal's fresh candidates after a commit; select reuses the verdicts", async () => {
    const calls: string[] = [];
    let lagging = true;
    const { pool, commit } = setup({
      simulate: async (b) => {
        const tag = new TextDecoder().decode(b.legs[0]!.txs[0]!);
        calls.push(tag);
        if (tag === 'bad') return { applies: false, reason: 'invalid', height: 1 };
        // "lag" is refused on a state older than its arrival until execution catches up.
        if (tag === 'lag' && lagging) return { applies: false, reason: 'nonce too high', height: 0 };
        return { applies: true, height: 1 };
      },
    });
    commit([]);
    for (const t of ['good', 'bad', 'lag']) pool.admit(bundle([[1, [new TextEncoder().encode(t)]]]), 'rpc');
    expect(await pool.presimulate(2)).toBe(3);
    expect(calls).toEqual(['good', 'bad', 'lag']);
    // Known to fail now: not presimulated again at this height, nor is anything else.
    expect(await pool.presimulate(2)).toBe(0);
    // select reuses 'good' and 'bad' verdicts and takes the presimulation's `unsure` one again.
    lagging = false;
    const out = await pool.select(2, { maxBytes: 1e6, maxTxs: 10 });
    expect(out).toHaveLength(2);
    expect(calls).toEqual(['good', 'bad', 'lag', 'lag']);
  });

  it('stops a presimulation once select starts', async () => {
    let simulations = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let first = true;
    const { pool } = setup({
      simulate: async () => {
        simulations++;
        if (first) {
          first = false;
          await gate;
        }
        return { applies: true };
      },
    });
    for (let i = 0; i < 5; i++) pool.admit(bundle([[1, [tx()]]]), 'rpc');
    const pre = pool.presimulate(1);
    const sel = pool.select(1, { maxBytes: 1e6, maxTxs: 10 });
    release();
    expect(await sel).toHaveLength(5);
    // The presimulation finished the one it had started and stopped; select ran the other four and did
    // not simulate the first one again.
    expect(await pre).toBe(1);
    expect(simulations).toBe(5);
  });

  it('presimulates through its own hook (ADR 0313) and counts where each ran; select keeps the main hook', async () => {
    const registry = new Registry();
    const seen: string[] = [];
    const { pool, commit } = setup({
      registry,
      simulate: mainHook(seen),
      presimulate: async (b) => {
        const tag = new TextDecoder().decode(b.legs[0]!.txs[0]!);
        seen.push(`pre:${tag}`);
        return tag === 'heavy'
          ? { applies: false, reason: 'reverts', height: 1, thread: 'worker' as const }
          : { applies: true, height: 1 };
      },
    });
    commit([]);
    for (const t of ['heavy', 'light']) pool.admit(bundle([[2, [new TextEncoder().encode(t)]]]), 'rpc');
    expect(await pool.presimulate(2)).toBe(2);
    // select reuses both verdicts (the worker's refusal included) and simulates nothing.
    const out = await pool.select(2, { maxBytes: 1e6, maxTxs: 10 });
    expect(out).toHaveLength(1);
    expect(seen).toEqual(['pre:heavy', 'pre:light']);
    const runs = (await registry.getSingleMetric('ordo_bundle_presimulations_total')!.get()).values;
    expect(Object.fromEntries(runs.map((v) => [v.labels.thread, v.value]))).toEqual({ worker: 1, main: 1 });
    // The next height: select simulates on its own (main-thread) hook (the known failer's back-off ended).
    commit([]);
    await pool.select(3, { maxBytes: 1e6, maxTxs: 10 });
    expect(seen.slice(2)).toEqual(['main:light', 'main:heavy']);
    // Without a select hook nothing is presimulated; clearing the presimulation hook falls back to select's.
    pool.setPresimulator(undefined);
    commit([]);
    expect(await pool.presimulate(5)).toBe(2);
    expect(seen.slice(-2)).toEqual(['main:heavy', 'main:light']);
    pool.setSimulator(undefined);
    pool.setPresimulator(async () => ({ applies: true }));
    commit([]);
    expect(await pool.presimulate(6)).toBe(0);
  });

  it('a bundle whose worker simulation ran past the bound is never simulated by select (ADR 0332)', async () => {
    const registry = new Registry();
    const seen: string[] = [];
    let slow = true;
    const { pool, commit } = setup({
      registry,
      simulate: mainHook(seen),
      presimulate: async (b) => {
        const tag = new TextDecoder().decode(b.legs[0]!.txs[0]!);
        seen.push(`pre:${tag}`);
        return tag === 'heavy' && slow
          ? { applies: false, slow: true, reason: 'ran past the bound', thread: 'worker' as const }
          : { applies: true, height: 1 };
      },
    });
    commit([]);
    const heavy = pool.admit(bundle([[2, [new TextEncoder().encode('heavy')]]]), 'rpc');
    if (!heavy.ok) throw new Error('not admitted');
    pool.admit(bundle([[2, [new TextEncoder().encode('light')]]]), 'rpc');
    expect(await pool.presimulate(2)).toBe(2);
    expect((await pool.select(2, { maxBytes: 1e6, maxTxs: 10 })).length).toBe(1);
    // Later heights: select simulates the light one on its own hook, never the slow one, which waits for
    // a presimulation (with the known failers' back-off) on the workers.
    let placed = false;
    for (let h = 3; h <= 12 && !placed; h++) {
      commit([]);
      await pool.presimulate(h);
      if (h === 5) slow = false; // the host calmed down: the next due re-check gives a verdict
      const out = await pool.select(h, { maxBytes: 1e6, maxTxs: 10 });
      placed = out.some((b) => Buffer.from(b.bundleHash).equals(Buffer.from(heavy.bundleHash!)));
    }
    expect(placed).toBe(true);
    expect(seen.filter((x) => x === 'main:heavy')).toEqual([]);
    expect(seen.filter((x) => x === 'pre:heavy').length).toBeGreaterThan(1);
    const sims = (await registry.getSingleMetric('ordo_bundle_simulations_total')!.get()).values;
    expect(sims.some((v) => v.labels.verdict === 'slow' && v.value >= 1)).toBe(true);
    const skipped = (await registry.getSingleMetric('ordo_bundle_select_skipped_total')!.get()).values;
    expect(skipped.some((v) => v.labels.reason === 'would-revert' || v.labels.reason === 'slow')).toBe(true);
  });

  it('bundles from onlyFromGas up are simulated by the presimulation hook only, re-checks included (ADR 0332)', async () => {
    const registry = new Registry();
    const seen: string[] = [];
    let fails = true;
    const { pool, commit } = setup({
      registry,
      simulate: mainHook(seen),
    });
    // Every bundle counts as heavy here (it declares at least 0 gas).
    pool.setPresimulator(
      async (b) => {
        seen.push(`pre:${tagOf(b)}`);
        return fails ? { applies: false, reason: 'reverts', height: 1 } : { applies: true, height: 1 };
      },
      { onlyFromGas: 0 },
    );
    commit([]);
    const r = pool.admit(bundle([[2, [new TextEncoder().encode('heavy')]]]), 'rpc');
    if (!r.ok) throw new Error('not admitted');
    // Not presimulated yet: select leaves it out rather than simulating it itself.
    expect(await pool.select(2, { maxBytes: 1e6, maxTxs: 10 })).toEqual([]);
    expect(seen).toEqual([]);
    // Presimulated, known to fail: re-checked by the presimulation (with back-off), never by select.
    let placed = false;
    for (let h = 2; h <= 12 && !placed; h++) {
      commit([]);
      await pool.presimulate(h + 1);
      if (h === 4) fails = false;
      placed = (await pool.select(h + 1, { maxBytes: 1e6, maxTxs: 10 })).length === 1;
    }
    expect(placed).toBe(true);
    expect(seen.every((x) => x === 'pre:heavy')).toBe(true);
    expect(seen.length).toBeGreaterThan(1);
    const skipped = (await registry.getSingleMetric('ordo_bundle_select_skipped_total')!.get()).values;
    expect(skipped.find((v) => v.labels.reason === 'heavy')?.value).toBeGreaterThan(0);
    // Clearing the hook gives select its bundles back (the placed one, never committed here, and a new one).
    pool.setPresimulator(undefined);
    pool.admit(bundle([[2, [new TextEncoder().encode('later')]]]), 'rpc');
    commit([]);
    expect(await pool.select(14, { maxBytes: 1e6, maxTxs: 10 })).toHaveLength(2);
    expect(seen.slice(-2).sort()).toEqual(['main:heavy', 'main:later']);
  });

  it('select never waits for a presimulation on the call workers; the bundle is placed once a verdict lands at its height (ADR 0333)', async () => {
    const registry = new Registry();
    const heavyTx = evmTx(0, { nonce: 0n, gasLimit: 5_000_000n });
    const name = (b: Bundle): string =>
      Buffer.from(b.legs[0]!.txs[0]!).equals(Buffer.from(heavyTx)) ? 'heavy' : tagOf(b);
    const seen: string[] = [];
    // Main-thread simulations (select's hook, and the presimulation's below onlyFromGas) yield once while
    // running, so two that overlapped would be seen.
    let active = 0;
    let maxActive = 0;
    const onMain = async (b: Bundle, who: string) => {
      seen.push(`${who}:${name(b)}`);
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setImmediate(r));
      active--;
      return { applies: true, height: 1 };
    };
    // The workers' leg does not answer until released.
    let release = (): void => {};
    let gate = new Promise<void>((r) => {
      release = r;
    });
    const { pool, commit } = setup({ registry, simulate: (b) => onMain(b, 'main') });
    pool.setPresimulator(
      async (b) => {
        if (name(b) !== 'heavy') return onMain(b, 'pre');
        seen.push('pre:heavy');
        await gate;
        return { applies: true, height: 1, thread: 'worker' as const };
      },
      { onlyFromGas: 1_000_000 },
    );
    commit([]);
    const heavy = pool.admit(bundle([[2, [heavyTx]]]), 'rpc');
    const light = pool.admit(bundle([[1, [new TextEncoder().encode('light')]]]), 'rpc');
    if (!heavy.ok || !light.ok) throw new Error('not admitted');
    const has = (out: { bundleHash: Uint8Array }[], h: Uint8Array) =>
      out.some((b) => Buffer.from(b.bundleHash).equals(Buffer.from(h)));
    const pre = pool.presimulate(2);
    await new Promise((r) => setImmediate(r));
    // The main-thread candidate after the heavy one was presimulated meanwhile.
    expect(seen).toEqual(['pre:heavy', 'pre:light']);
    pool.admit(bundle([[1, [new TextEncoder().encode('late')]]]), 'rpc');
    // The proposal: select returns while the heavy presimulation is in flight (it would otherwise never
    // return here), places the light bundles (simulating the late one itself) and leaves the heavy out.
    const blocked = Symbol('blocked');
    const first = await Promise.race([
      pool.select(2, { maxBytes: 1e6, maxTxs: 10 }),
      new Promise<typeof blocked>((r) => setTimeout(() => r(blocked), 2_000)),
    ]);
    if (first === blocked) throw new Error('select waited for the presimulation on the call workers');
    expect(first).toHaveLength(2);
    expect(has(first, light.bundleHash)).toBe(true);
    expect(has(first, heavy.bundleHash)).toBe(false);
    const skipped = async () =>
      Object.fromEntries(
        (await registry.getSingleMetric('ordo_bundle_select_skipped_total')!.get()).values.map((v) => [
          v.labels.reason,
          v.value,
        ]),
      );
    expect((await skipped())['in-flight']).toBe(1);
    // Height 2 commits with the heavy bundle still in flight: the next presimulation starts no second
    // simulation of it, and the next select leaves it out again without waiting.
    commit([]);
    expect(await pool.presimulate(3)).toBe(2);
    const second = await pool.select(3, { maxBytes: 1e6, maxTxs: 10 });
    expect(has(second, heavy.bundleHash)).toBe(false);
    expect((await skipped())['in-flight']).toBe(2);
    expect(seen.filter((x) => x === 'pre:heavy')).toHaveLength(1);
    // Its answer lands after height 2 committed: stale, not taken as a verdict.
    release();
    expect(await pre).toBe(2);
    const sims = (await registry.getSingleMetric('ordo_bundle_simulations_total')!.get()).values;
    expect(sims.find((v) => v.labels.verdict === 'stale')?.value).toBe(1);
    expect(has(await pool.select(3, { maxBytes: 1e6, maxTxs: 10 }), heavy.bundleHash)).toBe(false);
    // It outlasted its height: the next presimulations leave it for the back-off of recheckGap(1)
    // selections, then one answers in time and the heavy bundle is placed.
    gate = Promise.resolve();
    let placedAt = 0;
    for (let h = 4; h <= 12 && placedAt === 0; h++) {
      commit([]);
      await pool.presimulate(h);
      if (has(await pool.select(h, { maxBytes: 1e6, maxTxs: 10 }), heavy.bundleHash)) placedAt = h;
    }
    expect(placedAt).toBeGreaterThan(4);
    expect(seen.filter((x) => x === 'pre:heavy')).toHaveLength(2);
    // Never on the main thread, and never two main-thread simulations at once.
    expect(seen).not.toContain('main:heavy');
    expect(maxActive).toBe(1);
  });

  it('queues the presimulations on the call workers one at a time (ADR 0333)', async () => {
    const order: string[] = [];
    let running = 0;
    const { pool, commit } = setup({ simulate: mainHook([]) });
    pool.setPresimulator(
      async (b) => {
        running++;
        order.push(`start:${tagOf(b)}:${running}`);
        await new Promise((r) => setImmediate(r));
        running--;
        return { applies: true, height: 1, thread: 'worker' as const };
      },
      { onlyFromGas: 0 },
    );
    commit([]);
    for (const t of ['a', 'b', 'c']) pool.admit(bundle([[2, [new TextEncoder().encode(t)]]]), 'rpc');
    expect(await pool.presimulate(2)).toBe(3);
    expect(order).toEqual(['start:a:1', 'start:b:1', 'start:c:1']);
    expect(await pool.select(2, { maxBytes: 1e6, maxTxs: 10 })).toHaveLength(3);
  });

  it('discards a presimulation answered after the next height committed; select simulates it then', async () => {
    const registry = new Registry();
    let answer: (r: { applies: boolean; reason?: string; height?: number }) => void = () => {};
    let mainCalls = 0;
    const { pool, commit } = setup({
      registry,
      simulate: async () => {
        mainCalls++;
        return { applies: true, height: 2 };
      },
      presimulate: () =>
        new Promise((r) => {
          answer = r;
        }),
    });
    commit([]);
    const r = pool.admit(bundle([[2, [tx()]]]), 'rpc');
    if (!r.ok) throw new Error('not admitted');
    const pre = pool.presimulate(2);
    await new Promise((res) => setImmediate(res));
    // Height 2 commits (another proposer's block) while the worker still runs the bundle at height 1.
    commit([]);
    answer({ applies: false, reason: 'reverts on the state after height 0', height: 0 });
    expect(await pre).toBe(1);
    const sims = (await registry.getSingleMetric('ordo_bundle_simulations_total')!.get()).values;
    expect(sims.map((v) => [v.labels.verdict, v.value])).toEqual([['stale', 1]]);
    expect((await registry.getSingleMetric('ordo_bundle_presimulated_total')!.get()).values[0]!.value).toBe(
      0,
    );
    // Not taken as a verdict: still something to place, and select at height 3 simulates it afresh.
    expect(pool.pendingTxs()).toBe(1);
    const out = await pool.select(3, { maxBytes: 1e6, maxTxs: 10 });
    expect(out.map((b) => b.bundleHash)).toEqual([r.bundleHash]);
    expect(mainCalls).toBe(1);
  });

  it("stops starting simulations once select's simulations took maxSimulationMsPerSelect", async () => {
    let now = 1000;
    let calls = 0;
    const { pool, commit } = setup({
      limits: { maxSimulationMsPerSelect: 100 },
      now: () => now,
      simulate: async () => {
        calls++;
        now += 60; // each simulation takes 60 ms
        return { applies: true };
      },
    });
    for (let i = 0; i < 5; i++) pool.admit(bundle([[1, [tx()]]]), 'rpc');
    // 0 ms elapsed → first; 60 → second; 120 ≥ 100 → the rest wait for the next height.
    expect(await pool.select(1, { maxBytes: 1e6, maxTxs: 10 })).toHaveLength(2);
    expect(calls).toBe(2);
    commit([]);
    expect(await pool.select(2, { maxBytes: 1e6, maxTxs: 10 })).toHaveLength(2);
    expect(calls).toBe(4);
  });

  it('bounds the EVM gas one select simulates, and refuses a bundle declaring more than it at admission (ADR 0297)', async () => {
    const gasTx = (nonce: bigint, gas: bigint) => evmTx(0, { nonce, gasLimit: gas });
    const ran: number[] = [];
    const { pool, commit } = setup({
      limits: { maxSimulationGasPerBlock: 1_000_000 },
      simulate: async (b) => {
        ran.push(b.legs[0]!.txs.length);
        return { applies: true };
      },
    });
    const big = pool.admit(bundle([[2, [gasTx(0n, 600_000n), gasTx(1n, 600_000n)]]]), 'rpc');
    expect(big).toMatchObject({ ok: false, code: 'BUNDLE_TOO_LARGE', retryable: false });
    if (!big.ok)
      expect(big.message).toMatch(
        /declare 1200000 gas; .*at most 1000000 .*bundles\.maxSimulationGasPerBlock/,
      );
    // Three of 400 k each: two fit the budget of one select, the third waits for the next height.
    const evm = [0, 1, 2].map((i) => bundle([[2, [gasTx(BigInt(10 + i), 400_000n)]]]));
    for (const b of evm) expect(pool.admit(b, 'rpc').ok).toBe(true);
    // A transfer bundle costs no EVM gas: it is simulated whatever is left.
    const transfer = bundle([[1, [tx()]]]);
    pool.admit(transfer, 'rpc');
    const first = await pool.select(1, { maxBytes: 1e6, maxTxs: 10 });
    expect(first.map((b) => b.txs[0]!.namespace)).toEqual([2, 2, 1]);
    expect(ran).toHaveLength(3);
    // Those three commit; the third EVM bundle goes next.
    const placed = [evm[0]!, evm[1]!, transfer];
    commit(
      placed.flatMap((b) => b.legs.map((l) => ({ namespace: l.namespace, payload: l.txs[0]! }))),
      placed.flatMap((b) => spansFor(bundleHash(CHAIN, b), b)),
    );
    const second = await pool.select(2, { maxBytes: 1e6, maxTxs: 10 });
    expect(second.map((b) => b.bundleHash)).toEqual([bundleHash(CHAIN, evm[2]!)]);
  });

  it('counts pending bundle transactions inside their window only (the proposer waits for them)', () => {
    const { pool } = setup();
    pool.admit(bundle([[1, [tx(), tx()]]]), 'rpc');
    pool.admit(bundle([[2, [tx()]]], { minHeight: 5 }), 'rpc');
    expect(pool.pendingTxs()).toBe(2);
  });

  it('holds back bundles younger than selectDelayMs', async () => {
    let now = 1000;
    const { pool } = setup({ limits: { selectDelayMs: 50 }, now: () => now });
    pool.admit(bundle([[1, [tx()]]]), 'rpc');
    expect(await pool.select(1, { maxBytes: 1e6, maxTxs: 10 })).toHaveLength(0);
    now += 50;
    expect(await pool.select(1, { maxBytes: 1e6, maxTxs: 10 })).toHaveLength(1);
  });

  it('drops a bundle whose transaction commits outside it in any namespace, as bundles come and go', () => {
    const { pool, commit } = setup();
    const b1 = bundle([[1, [tx()]]]);
    const r1 = pool.admit(b1, 'rpc');
    if (!r1.ok) throw new Error('not admitted');
    // b1 commits: namespace 1 holds no pending bundle transaction any more
    commit([{ namespace: 1, payload: b1.legs[0]!.txs[0]! }], spansFor(r1.bundleHash, b1));
    const x = tx();
    const y = tx();
    const b2 = bundle([[2, [x]]]);
    const b3 = bundle([[1, [y]]]);
    const [r2, r3] = [b2, b3].map((b) => pool.admit(b, 'rpc'));
    if (!r2?.ok || !r3?.ok) throw new Error('not admitted');
    // other transactions of both namespaces around the ones that leak out of b2 and b3
    commit([
      { namespace: 1, payload: tx() },
      { namespace: 2, payload: x },
      { namespace: 1, payload: y },
      { namespace: 2, payload: tx() },
    ]);
    expect(pool.status(r2.bundleHash)).toMatchObject({ status: 'dropped', reason: 'invalid' });
    expect(pool.status(r3.bundleHash)).toMatchObject({ status: 'dropped', reason: 'invalid' });
    expect(pool.stats().bundles).toBe(0);
  });

  it('commits, invalidates conflicting bundles, expires, and folds execution and certification in', () => {
    const { pool, commit } = setup();
    const shared = tx();
    const b1 = bundle([
      [1, [shared]],
      [2, [tx()]],
    ]);
    const b2 = bundle([[1, [shared, tx()]]]);
    const b3 = bundle([[1, [tx()]]], { maxHeight: 1 });
    const [r1, r2, r3] = [b1, b2, b3].map((b) => pool.admit(b, 'rpc'));
    if (!r1?.ok || !r2?.ok || !r3?.ok) throw new Error('not admitted');
    const seen: BundleStatus[] = [];
    const off = pool.subscribe(r1.bundleHash, (s) => seen.push(s));
    const txs = [
      { namespace: 1, payload: shared },
      { namespace: 2, payload: b1.legs[1]!.txs[0]! },
    ];
    commit(txs, spansFor(r1.bundleHash, b1));
    expect(pool.status(r1.bundleHash)).toMatchObject({ status: 'committed', height: 1 });
    expect(pool.lookup(r1.bundleHash, 2)).toEqual({ kind: 'included', height: 1 });
    expect(pool.status(r2.bundleHash)).toMatchObject({ status: 'dropped', reason: 'invalid' });
    expect(pool.status(r3.bundleHash)).toMatchObject({ status: 'dropped', reason: 'expired' });
    expect(pool.lookup(r3.bundleHash, 2)).toEqual({ kind: 'unknown' });
    pool.executed(r1.bundleHash, 1, { outcome: 'applied', legs: [] }, undefined);
    pool.certified(1);
    expect(pool.status(r1.bundleHash)).toMatchObject({ execution: { outcome: 'applied' }, certified: true });
    expect(seen.map((s) => s.status)).toEqual(['committed', 'committed', 'committed']);
    off();
    expect(pool.stats()).toEqual({ bundles: 0, bytes: 0 });
    expect(pool.tx(txHash(txs[0]!))).toBeUndefined();
  });

  it('forgets finished statuses beyond statusCacheSize', () => {
    const { pool, commit } = setup({ limits: { statusCacheSize: 4 } });
    const hashes: Uint8Array[] = [];
    for (let i = 0; i < 6; i++) {
      const r = pool.admit(bundle([[1, [tx()]]], { maxHeight: 1 }), 'rpc');
      if (r.ok) hashes.push(r.bundleHash);
    }
    commit([]);
    expect(hashes.filter((h) => pool.status(h) !== undefined).length).toBeLessThanOrEqual(4);
    expect(pool.status(hashes[5]!)).toMatchObject({ status: 'dropped', reason: 'expired' });
  });
});

describe('bundle pool diagnostics', () => {
  it('counts why select left a bundle out and how many heights bundles waited', async () => {
    const registry = new Registry();
    const { pool, commit } = setup({
      registry,
      limits: { maxSimulationsPerSelect: 1 },
      simulate: async (b) =>
        new TextDecoder().decode(b.legs[0]!.txs[0]!) === 'bad'
          ? { applies: false, reason: 'invalid' }
          : { applies: true },
    });
    const enc = (t: string) => new TextEncoder().encode(t);
    pool.admit(bundle([[1, [enc('bad')]]]), 'rpc');
    const good = bundle([[1, [enc('good')]]]);
    const hGood = pool.admit(good, 'rpc');
    // One simulation: 'bad' refused, 'good' left for want of budget.
    expect(await pool.select(1, { maxBytes: 1e6, maxTxs: 10 })).toHaveLength(0);
    commit([]);
    // 'good' simulated and chosen; 'bad' waits for its re-check (back-off).
    expect(await pool.select(2, { maxBytes: 1e6, maxTxs: 10 })).toHaveLength(1);
    commit([], spansFor(hGood.bundleHash!, good));
    const skipped = (await registry.getSingleMetric('ordo_bundle_select_skipped_total')!.get()).values;
    expect(Object.fromEntries(skipped.map((v) => [v.labels.reason, v.value]))).toEqual({
      'would-revert': 1,
      budget: 1,
      backoff: 1,
    });
    const heights = (await registry.getSingleMetric('ordo_bundle_commit_heights')!.get()).values as {
      metricName?: string;
      value: number;
    }[];
    expect(heights.find((v) => v.metricName === 'ordo_bundle_commit_heights_sum')!.value).toBe(2);
    expect(heights.find((v) => v.metricName === 'ordo_bundle_commit_heights_count')!.value).toBe(1);
  });
});

describe('bundle pool inclusion memory (ADR 0250)', () => {
  /** Two validators' pools that both committed `b` at height 1. */
  function twoNodes(over: Partial<BundlePoolOptions> = {}) {
    // Neither remembers committed transactions (the mempool's memory is bounded too).
    const a = setup({ txCommitted: () => false, ...over });
    const c = setup({ txCommitted: () => false, ...over });
    const b = bundle([
      [1, [tx()]],
      [2, [tx()]],
    ]);
    const ra = a.pool.admit(b, 'rpc');
    const rc = c.pool.admit(b, 'gossip');
    if (!ra.ok || !rc.ok) throw new Error('not admitted');
    const txs = b.legs.map((l) => ({ namespace: l.namespace, payload: l.txs[0]! }));
    a.commit(txs, spansFor(ra.bundleHash, b));
    c.commit(txs, spansFor(rc.bundleHash, b));
    return { a, c, b, hash: ra.bundleHash };
  }

  it('answers included from the committed blocks alone, however its status cache rolled over', async () => {
    const { a, c, b, hash } = twoNodes({ limits: { statusCacheSize: 4 } });
    // Node A alone sees bundles dropped (e.g. expired): its status cache forgets the commit.
    for (let i = 0; i < 6; i++) a.pool.admit(bundle([[1, [tx()]]], { maxHeight: 2 }), 'rpc');
    a.commit([]);
    c.commit([]);
    expect(a.pool.status(hash)).toBeUndefined();
    // The bundle arrives again (a client's retry, a late gossip copy): A must refuse it as C does, and
    // never place it; both answer a span naming it with the same verdict.
    expect(code(a.pool.admit(b, 'gossip'))).toBe('DUPLICATE');
    expect(await a.pool.select(3, { maxBytes: 1 << 20, maxTxs: 100 })).toEqual([]);
    expect(a.pool.lookup(hash, 3)).toEqual({ kind: 'included', height: 1 });
    expect(c.pool.lookup(hash, 3)).toEqual({ kind: 'included', height: 1 });
  });

  it('a restarted pool learns the inclusions from the stored blocks; every pool forgets them alike', async () => {
    const { c, b, hash } = twoNodes();
    const restarted = setup({ txCommitted: () => false });
    restarted.setHeight(1);
    const stored: Block = {
      header: { height: 1 } as Block['header'],
      txs: [],
      bundles: spansFor(hash, b),
    };
    restarted.pool.restoreIncluded(stored);
    expect(code(restarted.pool.admit(b, 'gossip'))).toBe('DUPLICATE');
    expect(await restarted.pool.select(2, { maxBytes: 1 << 20, maxTxs: 100 })).toEqual([]);
    expect(restarted.pool.lookup(hash, 2)).toEqual(c.pool.lookup(hash, 2));
    for (let h = 2; h <= INCLUDED_MEMORY_HEIGHTS + 1; h++) {
      restarted.commit([]);
      c.commit([]);
    }
    // Past the memory both answer alike (no longer `included`).
    expect(restarted.pool.lookup(hash, INCLUDED_MEMORY_HEIGHTS + 2)).toEqual({ kind: 'unknown' });
    expect(c.pool.lookup(hash, INCLUDED_MEMORY_HEIGHTS + 2)).toEqual({ kind: 'unknown' });
  });

  it('never places a bundle replaced while its selection waited for a simulation', async () => {
    let blocking = false;
    let release = (): void => {};
    const { pool } = setup({
      // The slow one (two txs) is refused `unsure` by the presimulation, so select simulates it again.
      simulate: (b) =>
        b.legs[0]!.txs.length !== 2
          ? Promise.resolve({ applies: true })
          : blocking
            ? new Promise((r) => {
                release = () => r({ applies: true });
              })
            : Promise.resolve({ applies: false, reason: 'nonce too high', height: -1 }),
    });
    const slow = bundle([[2, [tx(), tx()]]]);
    const first = signed(bundle([[1, [tx()]]]));
    const r2 = pool.admit(slow, 'rpc');
    const r1 = pool.admit(first, 'rpc');
    if (!r1.ok || !r2.ok) throw new Error('not admitted');
    await pool.presimulate(1);
    blocking = true;
    const selecting = pool.select(1, { maxBytes: 1 << 20, maxTxs: 100 });
    await new Promise((r) => setTimeout(r, 0));
    // Its signer replaces `first` while select waits for the slow simulation.
    expect(pool.admit(signed(bundle([[1, [tx()]]])), 'rpc')).toMatchObject({
      ok: true,
      replaced: r1.bundleHash,
    });
    release();
    const chosen = await selecting;
    expect(chosen.map((c) => c.bundleHash)).toEqual([r2.bundleHash]);
  });
});

describe('bundle pool: the same block twice, decided then durable (ADR 0349)', () => {
  /** A block at `height` whose transactions count every property read (the hashing reads them). */
  function countedBlock(height: number, txs: TxEnvelope[], spans: BundleSpan[] = []) {
    const reads = { n: 0 };
    const counted = txs.map(
      (t) =>
        new Proxy(t, {
          get(target, p, r) {
            reads.n++;
            return Reflect.get(target, p, r);
          },
        }),
    );
    const block: Block = { header: { height } as Block['header'], txs: counted, bundles: spans };
    return { block, reads };
  }

  const statuses = (pool: { status(h: Uint8Array): BundleStatus | undefined }, hs: Uint8Array[]) =>
    hs.map((h) => pool.status(h));

  it('the second call of the same block changes nothing and reads none of its transactions', async () => {
    const registry = new Registry();
    const { pool } = setup({ txCommitted: () => false, registry });
    const inBlock = bundle([[1, [tx()]]]);
    const conflicting = bundle([[1, [tx(), tx()]]]);
    const expiring = bundle([[2, [tx()]]], { maxHeight: 1 });
    const staying = bundle([[2, [tx()]]]);
    const hashes = [inBlock, conflicting, expiring, staying].map((b) => {
      const r = pool.admit(b, 'rpc');
      if (!r.ok) throw new Error('not admitted');
      return r.bundleHash;
    });
    const { block, reads } = countedBlock(
      1,
      [
        { namespace: 1, payload: inBlock.legs[0]!.txs[0]! },
        { namespace: 1, payload: conflicting.legs[0]!.txs[1]! },
        { namespace: 3, payload: tx() },
      ],
      spansFor(hashes[0]!, inBlock),
    );
    pool.onCommit(block);
    expect(reads.n).toBeGreaterThan(0);
    const after = statuses(pool, hashes);
    expect(after.map((s) => (s?.status === 'dropped' ? s.reason : s?.status))).toEqual([
      'committed',
      'invalid',
      'expired',
      'pending',
    ]);
    const stats = pool.stats();
    const metrics = await registry.metrics();
    reads.n = 0;
    pool.onCommit(block);
    expect(reads.n).toBe(0);
    expect(statuses(pool, hashes)).toEqual(after);
    expect(pool.stats()).toEqual(stats);
    expect(pool.committedHeight()).toBe(1);
    expect(await registry.metrics()).toBe(metrics);
  });

  it('a bundle admitted between the two calls gets what a full second pass gave it', () => {
    // The store has not written height 1 yet, and nothing tells admission the block's transactions
    // are committed: only the second pass can see the conflict.
    const { pool } = setup({ txCommitted: () => false });
    const shared = tx();
    const { block } = countedBlock(1, [{ namespace: 1, payload: shared }]);
    const before = pool.admit(bundle([[2, [tx()]]]), 'rpc');
    pool.onCommit(block);
    const late = pool.admit(bundle([[1, [shared]]]), 'rpc');
    const other = pool.admit(bundle([[2, [tx()]]]), 'rpc');
    if (!before.ok || !late.ok || !other.ok) throw new Error('not admitted');
    expect(pool.status(late.bundleHash)).toEqual({ status: 'pending' });
    pool.onCommit(block);
    expect(pool.status(late.bundleHash)).toMatchObject({
      status: 'dropped',
      reason: 'invalid',
      detail: 'a transaction of namespace 1 was committed at height 1 outside the bundle',
    });
    expect(pool.status(before.bundleHash)).toEqual({ status: 'pending' });
    expect(pool.status(other.bundleHash)).toEqual({ status: 'pending' });
  });

  it('repeats interleaved as the commit pipeline runs them (h, h+1, then h and h+1 again)', () => {
    const { pool } = setup({ txCommitted: () => false });
    const x1 = tx();
    const x2 = tx();
    const b1 = countedBlock(1, [{ namespace: 1, payload: x1 }]).block;
    const b2 = countedBlock(2, [{ namespace: 1, payload: x2 }]).block;
    pool.onCommit(b1);
    pool.onCommit(b2);
    const late1 = pool.admit(bundle([[1, [x1]]]), 'rpc');
    const late2 = pool.admit(bundle([[1, [x2]]]), 'rpc');
    if (!late1.ok || !late2.ok) throw new Error('not admitted');
    pool.onCommit(b1);
    expect(pool.status(late1.bundleHash)).toMatchObject({ status: 'dropped', reason: 'invalid' });
    expect(pool.status(late2.bundleHash)).toEqual({ status: 'pending' });
    pool.onCommit(b2);
    expect(pool.status(late2.bundleHash)).toMatchObject({ status: 'dropped', reason: 'invalid' });
  });

  it('a block that reaches the pool once (only through the commit listener) commits its bundles', () => {
    const { pool } = setup({ txCommitted: () => false });
    const b = bundle([[1, [tx()]]]);
    const conflicting = bundle([[1, [tx(), tx()]]]);
    const r = pool.admit(b, 'gossip');
    const c = pool.admit(conflicting, 'gossip');
    if (!r.ok || !c.ok) throw new Error('not admitted');
    // Earlier heights were processed twice each; this one arrives once.
    for (let h = 1; h <= 3; h++) {
      const { block } = countedBlock(h, []);
      pool.onCommit(block);
      pool.onCommit(block);
    }
    const { block } = countedBlock(
      4,
      [
        { namespace: 1, payload: b.legs[0]!.txs[0]! },
        { namespace: 1, payload: conflicting.legs[0]!.txs[0]! },
      ],
      spansFor(r.bundleHash, b),
    );
    pool.onCommit(block);
    expect(pool.status(r.bundleHash)).toMatchObject({ status: 'committed', height: 4 });
    expect(pool.status(c.bundleHash)).toMatchObject({ status: 'dropped', reason: 'invalid' });
    expect(pool.committedHeight()).toBe(4);
    expect(pool.stats()).toEqual({ bundles: 0, bytes: 0 });
  });

  it('the same height with another block object is processed in full', () => {
    const { pool } = setup({ txCommitted: () => false });
    const shared = tx();
    pool.onCommit(countedBlock(1, [{ namespace: 1, payload: shared }]).block);
    const late = pool.admit(bundle([[1, [shared]]]), 'rpc');
    if (!late.ok) throw new Error('not admitted');
    const { block, reads } = countedBlock(1, [{ namespace: 1, payload: shared }]);
    pool.onCommit(block);
    expect(reads.n).toBeGreaterThan(0);
    expect(pool.status(late.bundleHash)).toMatchObject({ status: 'dropped', reason: 'invalid' });
  });
});
