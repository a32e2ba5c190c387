/**
 * The auction source over a hand-made book: winners and second prices, lazy executor verdicts (only the
 * bids the outcome names are simulated, and a failing winner hands the slot to the next bid), static
 * bundle refusals, the auction-tx window check, and the builder with it — the winner's bundle at the top
 * of its rollups' slices, and proposals that move or hide it, or carry an out-of-window commit, refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AuctionBook,
  auctionParams,
  type RevealedBid,
  revealCommitment,
  type SlotInputs,
  signBid,
} from '../../../src/auction/index.ts';
import { createAuctionSource, createBlockBuilder } from '../../../src/builder/index.ts';
import {
  AUCTION_NAMESPACE,
  bundleHash,
  computeAuctionHash,
  computeDataHash,
  computeResultsHash,
  encodeAuctionTx,
  resultsHeightFor,
} from '../../../src/codec/index.ts';
import { Ed25519Signer } from '../../../src/crypto/index.ts';
import type { Block, Bundle, TxEnvelope } from '../../../src/types.ts';
import { evmTx } from '../exec/helpers.ts';

const chainId = 'auction-source-test';
const params = auctionParams();
const rollups = [
  { namespace: 1, name: 'opaque', maxTxBytes: 64, kind: 'opaque' as const },
  { namespace: 2, name: 'transfer', maxTxBytes: 64, kind: 'transfer' as const },
  { namespace: 3, name: 'evm', maxTxBytes: 64, kind: 'evm' as const },
];
const seed = (i: number) => new Uint8Array(32).fill(i);

function bundleOf(
  legs: [number, number[]][],
  atomicity: Bundle['atomicity'] = 'inclusion',
  window = [0, 0],
): Bundle {
  return {
    legs: legs.map(([namespace, bytes]) => ({
      namespace,
      txs: bytes.map((b) => Uint8Array.of(b, namespace)),
      revertingTxHashes: [],
    })),
    atomicity,
    minHeight: window[0]!,
    maxHeight: window[1]!,
    replacementUuid: new Uint8Array(0),
    signer: new Uint8Array(0),
    signature: new Uint8Array(0),
  };
}

let saltN = 0;
function bid(who: number, amount: bigint, bundle: Bundle, slot = 10): RevealedBid {
  const salt = new Uint8Array(32).fill(++saltN);
  const { commit, reveal } = signBid(chainId, seed(who), {
    slot,
    amount,
    bundleHash: bundleHash(chainId, bundle),
    salt,
  });
  return {
    ...reveal,
    commitment: commit.commitment,
    namespaces: bundle.legs.map((l) => l.namespace),
    commitHeight: slot - 2,
    revealHeight: slot - 1,
    bundle,
  };
}

function fakeBook(candidates: RevealedBid[], funds = 1_000_000n, p = params): AuctionBook {
  const inputs = (slot: number): SlotInputs => ({ slot, candidates, available: () => funds });
  return {
    info: () => ({
      enabled: true,
      params: p,
      reserves: new Map([
        [1, 10n],
        [2, 10n],
        [3, 50n],
      ]),
      treasuries: new Map(),
      depositAuthority: new Ed25519Signer(seed(99)).publicKey,
      forfeitSink: new Uint8Array(32),
      nextDepositNonce: 0,
      appliedHeight: 9,
    }),
    slot: () => undefined,
    account: (account) => ({
      account,
      available: 0n,
      locked: 0n,
      pendingWithdrawal: 0n,
      withdrawNonce: 0,
      known: false,
    }),
    check: () => {},
    onApplied: () => () => {},
    appliedHeight: () => 9,
    whenApplied: () => Promise.resolve(),
    inputs,
    apply: () => Promise.resolve(),
  };
}

/** Bundles whose first tx starts with 0xff "revert" in the fake executor. */
function source(candidates: RevealedBid[], simulated: Bundle[] = [], onMismatch?: () => void) {
  return createAuctionSource({
    chainId,
    book: fakeBook(candidates),
    rollups,
    simulate: (stateHeight, bundle, timeMs) => {
      expect(stateHeight).toBe(9);
      expect(timeMs).toBe(1234);
      simulated.push(bundle);
      return Promise.resolve({ applies: bundle.legs[0]!.txs[0]![0] !== 0xff });
    },
    blockTimeMs: (h) => Promise.resolve(h === 9 ? 1234 : undefined),
    ...(onMismatch === undefined ? {} : { onMismatch }),
  });
}

describe('auction source: resolution', () => {
  it('the highest bid wins its rollup and pays the one it displaced; winners come as whole bundles', async () => {
    const a = bid(1, 500n, bundleOf([[2, [1, 2]]]));
    const b = bid(2, 300n, bundleOf([[2, [3]]]));
    const c = bid(3, 200n, bundleOf([[3, [4]]]));
    const src = source([a, b, c]);
    const { outcome, winners } = await src.outcome(10);
    expect(outcome.kind).toBe('auction');
    if (outcome.kind !== 'auction') return;
    expect(outcome.rollups.map((r) => [r.namespace, r.price])).toEqual([
      [2, 300n],
      [3, 50n], // lone bidder on namespace 3 pays the reserve
    ]);
    expect(winners.map((w) => w.txs.length)).toEqual([2, 1]);
    expect(winners[0]!.bundleHash).toEqual(a.bundleHash);
  });

  it('simulates only the bids the outcome names, and a failing winner hands the slot to the next bid', async () => {
    const failing = bid(1, 900n, bundleOf([[2, [0xff]]]));
    const second = bid(2, 400n, bundleOf([[2, [5]]]));
    const third = bid(3, 300n, bundleOf([[2, [6]]]));
    const fourth = bid(4, 100n, bundleOf([[2, [7]]]));
    const sims: Bundle[] = [];
    const src = source([failing, second, third, fourth], sims);
    const { outcome } = await src.outcome(10);
    if (outcome.kind !== 'auction') throw new Error('no auction');
    expect(outcome.rollups[0]!.winner.bidder).toEqual(second.bidder);
    expect(outcome.rollups[0]!.price).toBe(300n);
    // The fourth bid never mattered to the outcome: not simulated.
    expect(sims.some((s) => s.legs[0]!.txs[0]![0] === 7)).toBe(false);
    const resolved = await src.resolved({
      header: { height: 10, auctionHash: computeAuctionHash(10, outcome) },
    } as Block);
    expect(resolved.invalid.map((i) => [i.bid.amount, i.reason])).toEqual([[900n, 'BUNDLE_FAILS']]);
  });

  it('refuses bundles that cannot go at the top without asking the executor', async () => {
    const opaqueExec = bid(1, 900n, bundleOf([[1, [1]]], 'execution'));
    const outOfWindow = bid(2, 800n, bundleOf([[2, [2]]], 'inclusion', [20, 30]));
    const wrongHash = { ...bid(3, 700n, bundleOf([[2, [3]]])), bundle: bundleOf([[2, [9]]]) };
    const ok = bid(4, 100n, bundleOf([[1, [4]]]));
    const sims: Bundle[] = [];
    const src = source([opaqueExec, outOfWindow, wrongHash, ok], sims);
    const { outcome } = await src.outcome(10);
    if (outcome.kind !== 'auction') throw new Error('no auction');
    expect(outcome.rollups.map((r) => [r.namespace, r.price])).toEqual([[1, 10n]]);
    expect(sims).toEqual([]); // the opaque-only winner needs no simulation
  });

  it('reports a committed block whose auction hash differs from its own', async () => {
    let mismatches = 0;
    const src = source([bid(1, 500n, bundleOf([[2, [1]]]))], [], () => mismatches++);
    await src.resolved({ header: { height: 10, auctionHash: new Uint8Array(32) } } as Block);
    expect(mismatches).toBe(1);
  });

  it('checks auction transactions against the block height: windows and signatures', () => {
    const src = source([]);
    const { commit, reveal } = signBid(chainId, seed(1), {
      slot: 10,
      amount: 5n,
      bundleHash: bundleHash(chainId, bundleOf([[2, [1]]])),
      salt: new Uint8Array(32).fill(1),
    });
    const commitTx = encodeAuctionTx({ kind: 'commit', commit });
    expect(src.checkTx!(commitTx, 8)).toBeUndefined();
    expect(src.checkTx!(commitTx, 9)).toMatch(/valid only in blocks/);
    const revealTx = encodeAuctionTx({
      kind: 'reveal',
      reveal: {
        slot: 10,
        bidder: reveal.bidder,
        amount: 5,
        bundle: bundleOf([[2, [1]]]),
        salt: reveal.salt,
        signature: reveal.signature,
      },
    });
    expect(src.checkTx!(revealTx, 9)).toBeUndefined();
    expect(src.checkTx!(revealTx, 8)).toMatch(/valid only in blocks/);
    const forged = encodeAuctionTx({
      kind: 'reveal',
      reveal: {
        slot: 10,
        bidder: reveal.bidder,
        amount: 6,
        bundle: bundleOf([[2, [1]]]),
        salt: reveal.salt,
        signature: reveal.signature,
      },
    });
    expect(src.checkTx!(forged, 9)).toMatch(/signature/);
    expect(src.checkTx!(Uint8Array.of(1, 2, 3), 9)).toBeDefined();
    expect(revealCommitment).toBeTypeOf('function');
  });
});

/** A header of block 10 committing to `built`'s hashes (what verify reads of it). */
const header = (built: { dataHash: Uint8Array; resultsHash: Uint8Array; auctionHash: Uint8Array }) => ({
  chainId,
  height: 10,
  round: 0,
  timeMs: 0,
  parentHash: new Uint8Array(32),
  proposer: new Uint8Array(32),
  txCount: 0,
  lastCommitHash: new Uint8Array(32),
  dataHash: built.dataHash,
  resultsHash: built.resultsHash,
  auctionHash: built.auctionHash,
});

describe('the builder with the auction', () => {
  const winner = bid(
    1,
    500n,
    bundleOf([
      [2, [1, 2]],
      [3, [3]],
    ]),
  );
  const loser = bid(2, 300n, bundleOf([[2, [4]]]));
  const publicTxs: TxEnvelope[] = [
    { namespace: 2, payload: Uint8Array.of(50, 2) },
    { namespace: 3, payload: Uint8Array.of(51, 3) },
  ];
  const builder = () =>
    createBlockBuilder({
      rollups,
      mempool: { reap: () => publicTxs, stats: () => ({ txs: publicTxs.length }), get: () => undefined },
      results: { results: () => Promise.resolve([]) },
      auction: source([winner, loser]),
    });

  it('puts the winner at the top of every rollup it bought, and verify accepts it', async () => {
    const b = builder();
    const built = await b.build(10, 1 << 20, 1000);
    expect(built.bundles.map((s) => [s.namespace, s.start, s.count])).toEqual([
      [2, 0, 2],
      [3, 0, 1],
    ]);
    expect(built.txs[0]!.payload).toEqual(Uint8Array.of(1, 2));
    const block: Block = { header: header(built), txs: built.txs, bundles: built.bundles };
    expect(await b.verify(block)).toEqual({ ok: true });
  });

  it('refuses a block that hides the winner, moves it down, or carries an out-of-window commit', async () => {
    const b = builder();
    const built = await b.build(10, 1 << 20, 1000);
    const resultsHash = computeResultsHash({ height: resultsHeightFor(10), results: [] });
    const hidden = { txs: publicTxs, bundles: [] };
    const v1 = await b.verify({
      header: header({ ...built, dataHash: computeDataHash(hidden.txs), resultsHash }),
      ...hidden,
    });
    expect(v1).toMatchObject({ ok: false, code: 'AUCTION_TOP_MISMATCH' });

    // Public tx first in namespace 2, the winner's leg after it.
    const moved: TxEnvelope[] = [publicTxs[0]!, ...built.txs.filter((t) => t !== publicTxs[0])];
    const spans = built.bundles.map((s) => (s.namespace === 2 ? { ...s, start: 1 } : s));
    const v2 = await b.verify({
      header: header({ ...built, dataHash: computeDataHash(moved, spans) }),
      txs: moved,
      bundles: spans,
    });
    expect(v2).toMatchObject({ ok: false, code: 'AUCTION_TOP_MISMATCH' });

    const { commit } = signBid(chainId, seed(5), {
      slot: 10,
      amount: 5n,
      bundleHash: new Uint8Array(32),
      salt: new Uint8Array(32),
    });
    const late: TxEnvelope = {
      namespace: AUCTION_NAMESPACE,
      payload: encodeAuctionTx({ kind: 'commit', commit }),
    };
    const withLate = [...built.txs, late];
    const v3 = await b.verify({
      header: header({ ...built, dataHash: computeDataHash(withLate, built.bundles) }),
      txs: withLate,
      bundles: built.bundles,
    });
    expect(v3).toMatchObject({ ok: false, code: 'AUCTION_TX_INVALID' });
  });
});

describe('the auction with winners that would fill more than a block (ADR 0295)', () => {
  // Twelve opaque rollups and a 100,000-byte bid on each: all twelve winners would take 1.2 MB, more than
  // a proposer builds (1 MiB - 2 KiB). Every proposer skipping a winner and every validator demanding it
  // at the top halted the chain; now resolution stops at the top budget (512 KiB by default: five).
  const many = Array.from({ length: 12 }, (_, i) => ({
    namespace: i + 1,
    name: `r${i + 1}`,
    maxTxBytes: 128 * 1024,
    kind: 'opaque' as const,
  }));
  const big = many.map((r, i) =>
    bid(i + 1, BigInt(1000 - i * 10), {
      ...bundleOf([[r.namespace, []]]),
      legs: [{ namespace: r.namespace, txs: [new Uint8Array(100_000).fill(i + 1)], revertingTxHashes: [] }],
    }),
  );
  const src = () =>
    createAuctionSource({
      chainId,
      book: fakeBook(big),
      rollups: many,
      simulate: () => Promise.resolve({ applies: true }),
      blockTimeMs: () => Promise.resolve(1234),
    });

  it('sells only what fits the top budget; the first bid left out for room sets the price', async () => {
    const { outcome, winners } = await src().outcome(10);
    if (outcome.kind !== 'auction') throw new Error('expected an auction outcome');
    expect(winners).toHaveLength(5); // 5 x 100,016 <= 524,288 < 6 x 100,016
    expect(outcome.rollups.map((r) => [r.namespace, r.price])).toEqual(
      [1, 2, 3, 4, 5].map((ns) => [ns, 950n]), // each displaced the sixth bid (amount 950)
    );
  });

  it('a proposer places every winner in a full-size block and validators accept it', async () => {
    const fill: TxEnvelope[] = many.map((r) => ({ namespace: r.namespace, payload: new Uint8Array(60_000) }));
    const b = createBlockBuilder({
      rollups: many,
      mempool: {
        reap: ({ maxBytes }) => fitting(fill, maxBytes),
        stats: () => ({ txs: 12 }),
        get: () => undefined,
      },
      results: { results: () => Promise.resolve([]) },
      auction: src(),
    });
    const built = await b.build(10, 1024 * 1024 - 2048, 5000);
    expect(built.bundles.map((s) => s.namespace)).toEqual([1, 2, 3, 4, 5]);
    const block: Block = {
      header: header(built),
      txs: built.txs,
      bundles: built.bundles,
    };
    expect(await b.verify(block)).toEqual({ ok: true });
  });
});

/** The first transactions of `txs` that fit `maxBytes` (payload + 16 each, the builder's measure). */
function fitting(txs: TxEnvelope[], maxBytes: number): TxEnvelope[] {
  const out: TxEnvelope[] = [];
  let left = maxBytes;
  for (const tx of txs) {
    if (tx.payload.byteLength + 16 > left) break;
    left -= tx.payload.byteLength + 16;
    out.push(tx);
  }
  return out;
}

const evmRollups = [
  { namespace: 1, name: 'opaque', maxTxBytes: 1024, kind: 'opaque' as const },
  { namespace: 3, name: 'evm', maxTxBytes: 1024, kind: 'evm' as const, evmGasLimit: 30_000_000 },
];

describe('the auction simulation budget (ADR 0296)', () => {
  // One EVM rollup whose bids carry real signed transactions (the budget counts the gas they declare).
  const evmBundle = (nonce: bigint, gasLimit: bigint): Bundle => ({
    ...bundleOf([[3, []]]),
    legs: [{ namespace: 3, txs: [evmTx(0, { nonce, gasLimit, chainId: 1 })], revertingTxHashes: [] }],
  });
  // bidderSimShareBps 0: the budget alone, as ADR 0296 made it (the per-bidder share, ADR 0321, below).
  const run = (bids: RevealedBid[], maxSimGas: number, failing: Bundle[], bidderSimShareBps = 0) => {
    const sims: Bundle[] = [];
    const src = createAuctionSource({
      chainId,
      book: fakeBook(bids, 1_000_000n, auctionParams({ maxSimGas, bidderSimShareBps })),
      rollups: evmRollups,
      simulate: (_h, bundle) => {
        sims.push(bundle);
        return Promise.resolve({ applies: !failing.includes(bundle) });
      },
      blockTimeMs: () => Promise.resolve(1234),
    });
    return { src, sims };
  };
  const reasons = async (src: ReturnType<typeof createAuctionSource>) => {
    const { outcome } = await src.outcome(10);
    const resolved = await src.resolved({
      header: { height: 10, auctionHash: computeAuctionHash(10, outcome) },
    } as Block);
    return { outcome, invalid: resolved.invalid.map((i) => [i.bid.amount, i.reason]) };
  };

  it('simulates in rank order until the budget is spent; a bid past it takes no part', async () => {
    const heavy = evmBundle(0n, 800_000n); // fails, and spends 800 k of the 1 M budget
    const next = evmBundle(1n, 300_000n); // does not fit what is left: not simulated
    const light = evmBundle(2n, 100_000n); // fits, applies, wins
    const a = bid(1, 900n, heavy);
    const b = bid(2, 800n, next);
    const c = bid(3, 700n, light);
    const { src, sims } = run([a, b, c], 1_000_000, [heavy]);
    const { outcome, invalid } = await reasons(src);
    expect(sims).toEqual([heavy, light]);
    expect(invalid).toEqual([
      [900n, 'BUNDLE_FAILS'],
      [800n, 'SIM_BUDGET_EXHAUSTED'],
    ]);
    if (outcome.kind !== 'auction') throw new Error('expected an auction outcome');
    expect(outcome.rollups.map((r) => [r.namespace, r.winner.bidder])).toEqual([[3, c.bidder]]);
  });

  it('many failing bids cost at most the budget, and opaque tops still sell', async () => {
    const failing = Array.from({ length: 40 }, (_, i) => evmBundle(BigInt(i), 1_000_000n));
    const bids = failing.map((f, i) => bid((i % 8) + 7, BigInt(2000 - i), f)); // 8 bidders x 5 bids
    const opaque = bid(6, 500n, bundleOf([[1, [1]]]));
    const { src, sims } = run([...bids, opaque], 5_000_000, failing);
    const { outcome, invalid } = await reasons(src);
    expect(sims).toHaveLength(5); // 5 x 1 M gas: the budget, not 40 simulations
    expect(invalid.filter(([, r]) => r === 'BUNDLE_FAILS')).toHaveLength(5);
    if (outcome.kind !== 'auction') throw new Error('expected an auction outcome');
    expect(outcome.rollups.map((r) => r.namespace)).toEqual([1]);
  });
});

describe("each bidder's share of the simulation budget (ADR 0321)", () => {
  // Bundles with real signed EVM transactions (the budget counts the gas they declare), made once.
  let nonce = 1000n;
  const evmBundle = (gasLimit: number): Bundle => ({
    ...bundleOf([[3, []]]),
    legs: [
      {
        namespace: 3,
        txs: [evmTx(0, { nonce: nonce++, gasLimit: BigInt(gasLimit), chainId: 1 })],
        revertingTxHashes: [],
      },
    ],
  });
  const MAX_SIM_GAS = 10_000_000;
  const SHARE_BPS = 1_000; // the default: 1 M gas per bidder per slot
  /** A source over `bids` whose stand-in executor fails `failing`; `delay` spaces its answers out. */
  const run = (bids: RevealedBid[], failing: ReadonlySet<Bundle>, shareBps = SHARE_BPS, delay = 0) => {
    const sims: Bundle[] = [];
    const src = createAuctionSource({
      chainId,
      book: fakeBook(
        bids,
        1_000_000n,
        auctionParams({ maxSimGas: MAX_SIM_GAS, bidderSimShareBps: shareBps }),
      ),
      rollups: evmRollups,
      simulate: async (_h, bundle) => {
        sims.push(bundle);
        for (let i = 0; i < delay; i++) await new Promise((r) => setImmediate(r));
        return { applies: !failing.has(bundle) };
      },
      blockTimeMs: () => Promise.resolve(1234),
    });
    return { src, sims };
  };
  const resolve = async (src: ReturnType<typeof createAuctionSource>) => {
    const { outcome } = await src.outcome(10);
    const resolved = await src.resolved({
      header: { height: 10, auctionHash: computeAuctionHash(10, outcome) },
    } as Block);
    if (outcome.kind !== 'auction') throw new Error('expected an auction outcome');
    const winner = outcome.rollups.find((r) => r.namespace === 3)?.winner.bidder;
    return {
      winner,
      hash: resolved.auctionHash,
      invalid: resolved.invalid.map((i) => [i.bid.amount, i.reason]),
    };
  };
  // Four honest bidders (150 k gas each, they apply) and an attacker (seed 1) above them.
  const honest = [2, 3, 4, 5].map((who, i) => bid(who, BigInt(1000 + 100 * i), evmBundle(150_000)));

  it('one failing bid declaring the whole budget is not simulated; the honest top sells (0 = the old rule)', async () => {
    const attack = evmBundle(MAX_SIM_GAS);
    const a = bid(1, 2000n, attack);
    const failing = new Set([attack]);
    const before = await resolve(run([a, ...honest], failing, 0).src);
    expect(before.winner).toBeUndefined(); // ADR 0296's rule: the budget went to the failing bid
    expect(before.invalid).toContainEqual([2000n, 'BUNDLE_FAILS']);

    const { src, sims } = run([a, ...honest], failing);
    const after = await resolve(src);
    expect(sims).not.toContain(attack);
    expect(after.invalid).toEqual([[2000n, 'SIM_BUDGET_EXHAUSTED']]); // not simulated: no penalty either
    expect(after.winner).toEqual(honest[3]!.bidder);
  });

  it("a bidder's failing bids spend at most its share: one is simulated (and pays), the rest are not", async () => {
    const attacks = [0, 1, 2, 3, 4].map(() => evmBundle(1_000_000)); // each = the whole share
    const bids = attacks.map((b, j) => bid(1, BigInt(2000 + j), b));
    const { src, sims } = run([...bids, ...honest], new Set(attacks));
    const r = await resolve(src);
    expect(sims.filter((b) => attacks.includes(b))).toHaveLength(1);
    expect(r.invalid.filter(([, why]) => why === 'BUNDLE_FAILS')).toEqual([[2004n, 'BUNDLE_FAILS']]);
    expect(r.invalid.filter(([, why]) => why === 'SIM_BUDGET_EXHAUSTED')).toHaveLength(4);
    expect(r.winner).toEqual(honest[3]!.bidder);
  });

  it('denying the top takes maxSimGas / share bidders, each paying its failing bid (the bound, not a cure)', async () => {
    const sybils = Array.from({ length: 10 }, () => evmBundle(1_000_000));
    const bids = sybils.map((b, j) => bid(20 + j, BigInt(2000 + j), b));
    const r = await resolve(run([...bids, ...honest], new Set(sybils)).src);
    expect(r.invalid.filter(([, why]) => why === 'BUNDLE_FAILS')).toHaveLength(10);
    expect(r.winner).toBeUndefined();
    // One bidder fewer and the budget keeps room for the honest bids.
    const r9 = await resolve(run([...bids.slice(0, 9), ...honest], new Set(sybils)).src);
    expect(r9.winner).toEqual(honest[3]!.bidder);
  });

  it('property: every node resolves the same; within the budget and shares; one failing bidder never unsells the top', async () => {
    // Bundles by declared gas, signed on first use and kept across runs (signing is slow). A run can
    // draw up to 6 + 5 + 8 bundles of one class, so the pool grows instead of running out.
    const gases = [21_000, 150_000, 400_000, 999_999, 1_000_000, 1_000_001, 3_000_000, 10_000_000];
    const pool: Bundle[][] = gases.map(() => []);
    const arb = fc.record({
      honest: fc.array(
        fc.record({ amount: fc.integer({ min: 50, max: 5000 }), gas: fc.integer({ min: 0, max: 4 }) }),
        { minLength: 1, maxLength: 6 },
      ),
      attacker: fc.array(
        fc.record({ above: fc.integer({ min: 1, max: 500 }), gas: fc.integer({ min: 0, max: 7 }) }),
        { minLength: 1, maxLength: 5 },
      ),
      others: fc.array(
        fc.record({
          who: fc.integer({ min: 40, max: 43 }),
          amount: fc.integer({ min: 50, max: 6000 }),
          gas: fc.integer({ min: 0, max: 7 }),
          fails: fc.boolean(),
        }),
        { maxLength: 8 },
      ),
      shareBps: fc.constantFrom(0, 500, 1000, 2500, 10_000),
    });
    await fc.assert(
      fc.asyncProperty(arb, async (t) => {
        const used = new Map<number, number>();
        const take = (g: number) => {
          const n = used.get(g) ?? 0;
          used.set(g, n + 1);
          const cls = pool[g]!;
          if (n >= cls.length) cls.push(evmBundle(gases[g]!));
          return cls[n]!;
        };
        const failing = new Set<Bundle>();
        // Honest bidders (one bid each, at most the default share, they apply).
        const hs = t.honest.map((h, i) => bid(50 + i, BigInt(h.amount), take(h.gas)));
        const best = Math.max(...t.honest.map((h) => h.amount));
        const as = t.attacker.map((a) => {
          const b = take(a.gas);
          failing.add(b);
          return bid(1, BigInt(best + a.above), b);
        });
        const os = t.others.map((o) => {
          const b = take(o.gas);
          if (o.fails) failing.add(b);
          return bid(o.who, BigInt(o.amount), b);
        });
        const all = [...as, ...hs, ...os];
        const gasOf = (b: Bundle) => gases[pool.findIndex((p) => p.includes(b))]!;
        const n1 = run(all, failing, t.shareBps);
        const n2 = run(all, failing, t.shareBps, 3);
        const r1 = await resolve(n1.src);
        const r2 = await resolve(n2.src);
        expect(r2).toEqual(r1);
        expect(n2.sims).toEqual(n1.sims);
        // Within the slot's budget and each bidder's share.
        const share = t.shareBps === 0 ? MAX_SIM_GAS : Math.floor((MAX_SIM_GAS * t.shareBps) / 10_000);
        expect(n1.sims.reduce((s, b) => s + gasOf(b), 0)).toBeLessThanOrEqual(MAX_SIM_GAS);
        const per = new Map<string, number>();
        for (const b of n1.sims) {
          const who = all.find((x) => x.bundle === b)!.bidder;
          const k = Buffer.from(who).toString('hex');
          per.set(k, (per.get(k) ?? 0) + gasOf(b));
        }
        for (const g of per.values()) expect(g).toBeLessThanOrEqual(share);
        // With the default share and only the attacker failing, the honest bids' gas plus one share
        // fits the budget: the top sells to a bidder whose bundle applies, never to nobody.
        if (t.shareBps === SHARE_BPS && os.every((o) => !failing.has(o.bundle))) {
          expect(r1.winner).toBeDefined();
          expect(as.some((a) => bytesEq(a.bidder, r1.winner!))).toBe(false);
        }
      }),
      { numRuns: 60 },
    );
  });
});

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}
