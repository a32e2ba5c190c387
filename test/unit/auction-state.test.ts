/**
 * The auction's state machine (src/auction/state.ts): blocks of auction transactions applied in order,
 * settlement of each slot from a resolution computed the way the builder's source does, admission
 * checks, and persistence (a reopened book equals the one that wrote it). Property: after random
 * sequences of deposits, withdrawals, commits and reveals, Σ balances + paid out = funded + deposited;
 * over random slots with failing bundles, each BUNDLE_FAILS bid pays its penalty exactly once (ADR 0320).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AuctionError,
  type AuctionKv,
  type AuctionSetup,
  type AuctionState,
  auctionParams,
  DEFAULT_AUCTION_LANE,
  failPenaltyOf,
  openAuctionBook,
  outcomeHash,
  type ResolvedSlot,
  type RevealedBid,
  resolveSlot,
  signBid,
  signDeposit,
  signWithdraw,
  validateBids,
} from '../../src/auction/index.ts';
import { AUCTION_NAMESPACE, bundleHash, encodeAuctionTx } from '../../src/codec/index.ts';
import { latin1Key, publicKeyFromSeed } from '../../src/crypto/index.ts';
import type { AuctionTx, Block, Bundle } from '../../src/types.ts';

const chainId = 'ordo-test';
const seed = (i: number) => new Uint8Array(32).fill(i);
const pk = (i: number) => publicKeyFromSeed(seed(i));
const AUTHORITY = 200;
const SINK = 201;
const TREASURY = (ns: number) => 210 + ns;

function setup(balances: bigint[] = [10_000n, 10_000n, 10_000n], failPenaltyBps?: number): AuctionSetup {
  return {
    chainId,
    params: auctionParams({ forfeitFee: 10n, ...(failPenaltyBps !== undefined ? { failPenaltyBps } : {}) }),
    depositAuthority: pk(AUTHORITY),
    forfeitSink: pk(SINK),
    reserves: new Map([
      [1, 100n],
      [2, 0n],
    ]),
    treasuries: new Map([
      [1, pk(TREASURY(1))],
      [2, pk(TREASURY(2))],
    ]),
    accounts: balances.map((b, i) => ({ account: pk(i + 1), balance: b })),
    lane: { ...DEFAULT_AUCTION_LANE },
  };
}

const bundleFor = (ns: readonly number[], tag: number): Bundle => ({
  legs: ns.map((n) => ({ namespace: n, txs: [Uint8Array.of(tag, n)], revertingTxHashes: [] })),
  atomicity: 'inclusion',
  minHeight: 0,
  maxHeight: 0,
  replacementUuid: new Uint8Array(0),
  signer: new Uint8Array(0),
  signature: new Uint8Array(0),
});

/** A bidder's commit and reveal transactions for one bid. */
function bid(bidder: number, slot: number, amount: number, ns: readonly number[] = [1], salt = bidder) {
  const bundle = bundleFor(ns, bidder * 16 + salt);
  const { commit, reveal } = signBid(chainId, seed(bidder), {
    slot,
    amount: BigInt(amount),
    bundleHash: bundleHash(chainId, bundle),
    salt: new Uint8Array(32).fill(salt),
  });
  return {
    commit: { kind: 'commit', commit } as AuctionTx,
    reveal: {
      kind: 'reveal',
      reveal: { ...reveal, amount, bundle },
    } as AuctionTx,
  };
}

const deposit = (account: number, amount: number, nonce: number): AuctionTx => ({
  kind: 'deposit',
  deposit: signDeposit(chainId, seed(AUTHORITY), { account: pk(account), amount, nonce }),
});
const withdraw = (account: number, amount: number, nonce: number): AuctionTx => ({
  kind: 'withdraw',
  withdraw: signWithdraw(chainId, seed(account), { amount, nonce }),
});

function block(height: number, txs: AuctionTx[]): Block {
  const z = new Uint8Array(32);
  return {
    header: {
      chainId,
      height,
      round: 0,
      timeMs: height * 1000,
      parentHash: z,
      dataHash: z,
      proposer: z,
      txCount: txs.length,
      lastCommitHash: z,
      resultsHash: z,
      auctionHash: z,
    },
    txs: txs.map((t) => ({ namespace: AUCTION_NAMESPACE, payload: encodeAuctionTx(t) })),
    bundles: [],
  };
}

/**
 * The resolution of `slot` as the auction source computes it: every bundle applies, unless `verdict`
 * says the executor found it failing or the simulation budget skipped it.
 */
function resolve(
  book: AuctionState,
  slot: number,
  verdict?: (b: RevealedBid) => 'fails' | 'skipped' | undefined,
): ResolvedSlot {
  const inputs = book.inputs(slot);
  const info = book.info();
  const candidates = inputs.candidates.map((b) => {
    const v = verdict?.(b);
    return v === 'fails' ? { ...b, bundleApplies: false } : v === 'skipped' ? { ...b, simSkipped: true } : b;
  });
  const v = validateBids(slot, candidates, {
    params: info.params,
    reserve: (ns) => info.reserves.get(ns),
    available: inputs.available,
  });
  const resolution = resolveSlot(slot, v.valid, (ns) => info.reserves.get(ns) ?? 0n);
  return { slot, invalid: v.invalid, resolution, auctionHash: outcomeHash(slot, resolution) };
}

async function run(book: AuctionState, blocks: AuctionTx[][]): Promise<void> {
  for (const txs of blocks) {
    const h = book.appliedHeight() + 1;
    await book.apply(block(h, txs), resolve(book, h));
  }
}

function conserved(book: AuctionState): void {
  const t = book.totals();
  expect(t.held + t.paidOut).toBe(t.supplied);
}

function memoryKv(): AuctionKv & { map: Map<string, Uint8Array> } {
  const map = new Map<string, Uint8Array>();
  return {
    map,
    get: async (k) => map.get(latin1Key(k)),
    batch: async (writes) => {
      for (const w of writes) {
        if (w.value === undefined) map.delete(latin1Key(w.key));
        else map.set(latin1Key(w.key), w.value);
      }
    },
    async *range({ gte, lt }) {
      const lo = gte === undefined ? '' : latin1Key(gte);
      const hi = lt === undefined ? undefined : latin1Key(lt);
      for (const k of [...map.keys()].sort()) {
        if (k < lo || (hi !== undefined && k >= hi)) continue;
        yield [new Uint8Array(Buffer.from(k, 'latin1')), map.get(k)!];
      }
    },
  };
}

const codeOf = (f: () => void): string | undefined => {
  try {
    f();
    return undefined;
  } catch (err) {
    return (err as AuctionError).code;
  }
};

describe('auction state', () => {
  it('settles a slot: second price to the treasury, losers released, unrevealed bond forfeited', async () => {
    const book = await openAuctionBook({ setup: setup() });
    const a = bid(1, 5, 1_000);
    const b = bid(2, 5, 700);
    const c = bid(3, 5, 900); // commits, never reveals
    // slot 5: commits in blocks <= 3, reveals in block 4
    await run(book, [[a.commit], [b.commit, c.commit], []]);
    expect(book.account(pk(1)).locked).toBe(10n);
    expect(book.slot(5)).toMatchObject({ resolved: false, commits: 3, reveals: 0 });
    await run(book, [[a.reveal, b.reveal]]);
    expect(book.account(pk(1)).locked).toBe(1_010n);
    const inputs = book.inputs(5);
    expect(inputs.candidates.map((x) => x.amount)).toEqual([1_000n, 700n]);
    expect(inputs.available(pk(1))).toBe(10_000n - 10n);
    await run(book, [[]]);
    expect(book.account(pk(1))).toMatchObject({ available: 10_000n - 700n, locked: 0n });
    expect(book.account(pk(2))).toMatchObject({ available: 10_000n, locked: 0n });
    expect(book.account(pk(3))).toMatchObject({ available: 10_000n - 10n, locked: 0n });
    expect(book.account(pk(TREASURY(1))).available).toBe(700n);
    expect(book.account(pk(SINK)).available).toBe(10n);
    const view = book.slot(5)!;
    expect(view).toMatchObject({ height: 5, resolved: true, commits: 3, reveals: 2, forfeited: 1 });
    expect(view.winners).toHaveLength(1);
    expect(view.winners[0]).toMatchObject({ namespace: 1, price: 700n, proceeds: 700n });
    expect(view.auctionHash).toBeDefined();
    conserved(book);
    // a late verify of slot 5 still reads its inputs
    expect(book.inputs(5).candidates).toHaveLength(2);
  });

  it('ignores a reveal replayed for another slot and a reveal without a commit', async () => {
    const book = await openAuctionBook({ setup: setup() });
    const a = bid(1, 5, 1_000);
    const replay = bid(1, 6, 1_000); // same bidder and bundle, another slot: its commitment differs
    await run(book, [[a.commit], [], []]);
    expect(codeOf(() => book.check(replay.reveal))).toBe('AUCTION_COMMITMENT_MISMATCH');
    const forged = structuredClone(a.reveal) as Extract<AuctionTx, { kind: 'reveal' }>;
    forged.reveal.slot = 6;
    await run(book, [[replay.reveal, forged, a.commit]]);
    const codes = book.ignored().map((i) => i.code);
    expect(codes).toEqual([
      'AUCTION_COMMITMENT_MISMATCH',
      'AUCTION_COMMITMENT_MISMATCH',
      'AUCTION_OUT_OF_WINDOW',
    ]);
    expect(book.slot(6)).toMatchObject({ commits: 0, reveals: 0 });
    await run(book, [[]]);
    // a's commit was never revealed: forfeited
    expect(book.slot(5)).toMatchObject({ forfeited: 1, winners: [] });
    conserved(book);
  });

  it('a withdrawal racing a bid: the funds leave at once, the reveal cannot lock them', async () => {
    const book = await openAuctionBook({ setup: setup() });
    const a = bid(1, 5, 5_000);
    await run(book, [[a.commit], [], [withdraw(1, 9_000, 0)]]);
    expect(book.account(pk(1))).toMatchObject({ available: 990n, pendingWithdrawal: 9_000n });
    expect(codeOf(() => book.check(a.reveal))).toBe('LEDGER_INSUFFICIENT_FUNDS');
    await run(book, [[a.reveal]]);
    expect(book.ignored().at(-1)?.code).toBe('LEDGER_INSUFFICIENT_FUNDS');
    await run(book, [[]]);
    const view = book.slot(5)!;
    expect(view.bids).toHaveLength(1);
    expect(view.bids[0]?.invalid).toBe('ABOVE_DEPOSIT');
    expect(view.forfeited).toBe(0); // revealed: the bond comes back
    // withdrawal requested at 3, paid out at 3 + withdrawDelay = 5
    expect(book.account(pk(1))).toMatchObject({ available: 1_000n, locked: 0n, pendingWithdrawal: 0n });
    expect(book.totals().paidOut).toBe(9_000n);
    conserved(book);
  });

  it('refuses a second deposit with the same nonce, and a replayed withdrawal', async () => {
    const book = await openAuctionBook({ setup: setup() });
    const d0 = deposit(4, 500, 0);
    expect(codeOf(() => book.check(d0))).toBeUndefined();
    await run(book, [[d0, deposit(4, 500, 0), deposit(4, 50, 2)]]);
    expect(book.account(pk(4))).toMatchObject({ available: 500n, known: true });
    expect(book.info().nextDepositNonce).toBe(1);
    expect(codeOf(() => book.check(d0))).toBe('AUCTION_BAD_NONCE');
    const w = withdraw(4, 100, 0);
    await run(book, [[w], [w]]);
    expect(book.account(pk(4))).toMatchObject({ withdrawNonce: 1 });
    expect(book.ignored().map((i) => i.code)).toEqual([
      'AUCTION_BAD_NONCE',
      'AUCTION_BAD_NONCE',
      'AUCTION_BAD_NONCE',
    ]);
    // a deposit not signed by the authority
    const forged: AuctionTx = {
      kind: 'deposit',
      deposit: signDeposit(chainId, seed(9), { account: pk(9), amount: 1, nonce: 1 }),
    };
    expect(codeOf(() => book.check(forged))).toBe('AUCTION_BAD_SIGNATURE');
    conserved(book);
  });

  it('admission: windows, duplicates and the per-bidder cap', async () => {
    const book = await openAuctionBook({ setup: setup() });
    expect(codeOf(() => book.check(bid(1, 2, 500).commit))).toBe('AUCTION_OUT_OF_WINDOW');
    expect(codeOf(() => book.check(bid(1, 200, 500).commit))).toBe('AUCTION_OUT_OF_WINDOW');
    const bids = [1, 2, 3, 4, 5, 6].map((s) => bid(1, 10, 100 + s, [1], s));
    await run(book, [bids.slice(0, 5).map((b) => b.commit)]);
    expect(codeOf(() => book.check(bids[0]!.commit))).toBe('AUCTION_DUPLICATE');
    expect(codeOf(() => book.check(bids[5]!.commit))).toBe('AUCTION_TOO_MANY_BIDS');
    const bad = structuredClone(bids[5]!.commit) as Extract<AuctionTx, { kind: 'commit' }>;
    bad.commit.signature[0]! ^= 1;
    await run(book, [[bids[5]!.commit]]);
    expect(book.ignored().at(-1)?.code).toBe('AUCTION_TOO_MANY_BIDS');
    expect(codeOf(() => book.check(bad))).toBe('AUCTION_BAD_SIGNATURE');
  });

  it('persists every height: a reopened book is the same book and goes on identically', async () => {
    const kv = memoryKv();
    const book = await openAuctionBook({ setup: setup(), kv });
    const a = bid(1, 5, 1_000, [1, 2]);
    const b = bid(2, 5, 300, [2]);
    await run(book, [[a.commit, b.commit, deposit(3, 77, 0)], [withdraw(2, 5, 0)], []]);
    await run(book, [[a.reveal, b.reveal]]);
    const again = await openAuctionBook({ setup: setup(), kv });
    expect(again.appliedHeight()).toBe(4);
    expect(again.serialize()).toEqual(book.serialize());
    expect(again.inputs(5).candidates).toEqual(book.inputs(5).candidates);
    const r = resolve(book, 5);
    await book.apply(block(5, []), r);
    await again.apply(block(5, []), resolve(again, 5));
    expect(again.serialize()).toEqual(book.serialize());
    expect(again.slot(5)).toEqual(book.slot(5));
    // settled views are their own records: a third open reads slot 5's back
    const third = await openAuctionBook({ setup: setup(), kv });
    expect(third.slot(5)).toEqual(book.slot(5));
    expect(third.slot(5)?.winners).toHaveLength(2);
    // applying a height twice (a replay after restart) changes nothing
    await again.apply(block(5, []), r);
    expect(again.appliedHeight()).toBe(5);
    conserved(again);
  });

  it('quiet heights are not rewritten; a reopened book re-applies them and answers their slots', async () => {
    const kv = memoryKv();
    const book = await openAuctionBook({ setup: setup(), kv });
    const a = bid(1, 4, 1_000, [1]);
    await run(book, [[a.commit], [], [a.reveal], []]); // 1 commit, 2 quiet, 3 reveal, 4 settles slot 4
    const writes = kv.map.size;
    const stateAt = () => openAuctionBook({ setup: setup(), kv }).then((b) => b.appliedHeight());
    expect(await stateAt()).toBe(4);
    // the sold slot's outcome records went into the same batch as its state
    expect(await book.outcomeRecords(4)).toBeInstanceOf(Uint8Array);
    expect(await book.outcomeRecords(3)).toBeUndefined();
    await run(book, [[], [], []]); // 5..7: nothing committed for them, nothing due
    expect(kv.map.size).toBe(writes);
    expect(await stateAt()).toBe(4);
    const again = await openAuctionBook({ setup: setup(), kv });
    for (let h = 5; h <= 7; h++) await again.apply(block(h, []), resolve(again, h));
    expect(again.serialize()).toEqual(book.serialize());
    expect(again.slot(2)).toEqual(book.slot(2));
    expect(again.slot(2)).toMatchObject({ resolved: true, commits: 0, bids: [], winners: [] });
    expect(again.slot(4)).toEqual(book.slot(4));
    // a withdrawal due at a height makes it worth a record
    await run(book, [[withdraw(2, 5, 0)], []]); // 8 requests (written), 9 quiet, 10 pays out
    expect(await stateAt()).toBe(8);
    await run(book, [[]]);
    expect(await stateAt()).toBe(10);
    conserved(book);
  });

  it('a slot resolved with executor verdicts is written through the durable view, others are not', async () => {
    const kv = memoryKv();
    const durable = memoryKv();
    const spy = { kv: 0, durable: 0 };
    const count = (k: typeof kv, name: 'kv' | 'durable'): AuctionKv => ({
      ...k,
      batch: async (w) => {
        spy[name]++;
        await kv.batch(w); // one store underneath, two views of it
      },
    });
    const book = await openAuctionBook({
      setup: setup(),
      kv: count(kv, 'kv'),
      durableKv: count(durable, 'durable'),
    });
    const a = bid(1, 3, 1_000, [1]);
    await run(book, [[a.commit], [a.reveal]]);
    expect(spy).toEqual({ kv: 2, durable: 0 });
    await book.apply(block(3, []), { ...resolve(book, 3), simulations: 2 });
    expect(spy).toEqual({ kv: 2, durable: 1 });
    expect((await openAuctionBook({ setup: setup(), kv })).appliedHeight()).toBe(3);
  });

  it('flush (a graceful stop) writes the record quiet heights left behind', async () => {
    const kv = memoryKv();
    const book = await openAuctionBook({ setup: setup(), kv });
    await run(book, [[deposit(3, 77, 0)], [], []]);
    expect((await openAuctionBook({ setup: setup(), kv })).appliedHeight()).toBe(1);
    await book.flush();
    const again = await openAuctionBook({ setup: setup(), kv });
    expect(again.appliedHeight()).toBe(3);
    expect(again.serialize()).toEqual(book.serialize());
  });

  it('a long quiet stretch is still written every 256 heights (bounds the replay)', async () => {
    const kv = memoryKv();
    const book = await openAuctionBook({ setup: setup(), kv });
    await run(
      book,
      Array.from({ length: 300 }, () => []),
    );
    const again = await openAuctionBook({ setup: setup(), kv });
    expect(again.appliedHeight()).toBe(256);
  });

  it('whenApplied waits for a height and times out with AUCTION_NOT_APPLIED', async () => {
    const book = await openAuctionBook({ setup: setup() });
    const waiting = book.whenApplied(2, 5_000);
    await run(book, [[], []]);
    await expect(waiting).resolves.toBeUndefined();
    await expect(book.whenPersisted(2, 10)).resolves.toBeUndefined();
    expect(book.persistedHeight()).toBe(2);
    await expect(book.whenApplied(9, 10)).rejects.toMatchObject({ code: 'AUCTION_NOT_APPLIED' });
    expect(() => book.inputs(9)).toThrow(/inputs need height 8/);
  });

  it('a failed record write (disk full) is retried in place, reported unhealthy, and resumes by itself', async () => {
    const kv = memoryKv();
    let failures = 2;
    const full: AuctionKv = {
      ...kv,
      batch: async (w) => {
        if (failures > 0) {
          failures--;
          throw Object.assign(new Error('write failed: No space left on device'), {
            code: 'STORE_WRITE_FAILED',
          });
        }
        await kv.batch(w);
      },
    };
    const book = await openAuctionBook({ setup: setup(), kv: full });
    const a = bid(1, 4, 1_000, [1]);
    const applying = book.apply(block(1, [a.commit]), resolve(book, 1));
    await new Promise((r) => setTimeout(r, 20));
    expect(book.writeHealth()).toMatchObject({ ok: false, code: 'AUCTION_WRITE_FAILED' });
    expect(book.persistedHeight()).toBe(0);
    await applying;
    expect(book.writeHealth()).toEqual({ ok: true });
    expect(book.persistedHeight()).toBe(1);
    const reopened = await openAuctionBook({ setup: setup(), kv });
    expect(reopened.appliedHeight()).toBe(1);
    expect(reopened.serialize()).toEqual(book.serialize());
  });

  it('a write being retried gives up once the node stops', async () => {
    const kv = memoryKv();
    const full: AuctionKv = {
      ...kv,
      batch: async () => {
        throw Object.assign(new Error('write failed: EIO'), { code: 'STORE_WRITE_FAILED' });
      },
    };
    const book = await openAuctionBook({ setup: setup(), kv: full });
    const a = bid(1, 4, 1_000, [1]);
    const applying = book.apply(block(1, [a.commit]), resolve(book, 1));
    await new Promise((r) => setTimeout(r, 20));
    book.stopRetrying();
    await expect(applying).rejects.toMatchObject({ code: 'STORE_WRITE_FAILED' });
  });

  it('random sequences conserve money: Σ balances + paid out = funded + deposited', async () => {
    const op = fc.oneof(
      fc.record({
        k: fc.constant('bid' as const),
        who: fc.integer({ min: 1, max: 4 }),
        amt: fc.integer({ min: 1, max: 6_000 }),
        ns: fc.constantFrom([1], [2], [1, 2]),
        salt: fc.integer({ min: 1, max: 50 }),
      }),
      fc.record({
        k: fc.constant('dep' as const),
        who: fc.integer({ min: 1, max: 4 }),
        amt: fc.integer({ min: 1, max: 3_000 }),
      }),
      fc.record({
        k: fc.constant('wd' as const),
        who: fc.integer({ min: 1, max: 4 }),
        amt: fc.integer({ min: 1, max: 4_000 }),
      }),
      fc.record({ k: fc.constant('skip' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(op, { maxLength: 4 }), { minLength: 3, maxLength: 14 }),
        async (blocks) => {
          const book = await openAuctionBook({ setup: setup([5_000n, 2_000n, 100n]) });
          let depNonce = 0;
          const wdNonce = new Map<number, number>();
          const reveals = new Map<number, AuctionTx[]>();
          for (const ops of blocks) {
            const h = book.appliedHeight() + 1;
            const txs: AuctionTx[] = [...(reveals.get(h) ?? [])];
            for (const o of ops) {
              if (o.k === 'bid') {
                const slot = h + 2;
                const b = bid(o.who, slot, o.amt, o.ns, o.salt);
                txs.push(b.commit);
                if (o.salt % 5 !== 0) reveals.set(slot - 1, [...(reveals.get(slot - 1) ?? []), b.reveal]);
              } else if (o.k === 'dep') txs.push(deposit(o.who, o.amt, depNonce++));
              else if (o.k === 'wd') {
                const n = wdNonce.get(o.who) ?? 0;
                wdNonce.set(o.who, n + 1);
                txs.push(withdraw(o.who, o.amt, n));
              }
            }
            await book.apply(block(h, txs), resolve(book, h));
            const t = book.totals();
            if (t.held + t.paidOut !== t.supplied) return false;
            for (const i of [1, 2, 3, 4]) {
              const a = book.account(pk(i));
              if (a.available < 0n || a.locked < 0n || a.pendingWithdrawal < 0n) return false;
            }
          }
          return true;
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);

  it('a failing bid pays its penalty to its rollups treasuries; a bid the budget skipped pays nothing', async () => {
    const book = await openAuctionBook({
      setup: setup([10_000n, 10_000n, 10_000n, 10_000n]),
      kv: memoryKv(),
    });
    const fails = bid(1, 5, 1_000);
    const ok = bid(2, 5, 700);
    const skipped = bid(3, 5, 900);
    const both = bid(4, 5, 555, [1, 2]); // fails too, on two rollups: ceil(55.5) = 56, split 28 / 28
    await run(book, [[fails.commit, ok.commit, skipped.commit, both.commit], [], []]);
    await run(book, [[fails.reveal, ok.reveal, skipped.reveal, both.reveal]]);
    const failing = new Set([latin1Key(pk(1)), latin1Key(pk(4))]);
    const res = resolve(book, 5, (b) =>
      failing.has(latin1Key(b.bidder))
        ? 'fails'
        : latin1Key(b.bidder) === latin1Key(pk(3))
          ? 'skipped'
          : undefined,
    );
    await book.apply(block(5, []), res);
    expect(book.account(pk(1))).toMatchObject({ available: 10_000n - 100n, locked: 0n });
    expect(book.account(pk(2))).toMatchObject({ available: 10_000n - 100n, locked: 0n }); // won at the reserve
    expect(book.account(pk(3))).toMatchObject({ available: 10_000n, locked: 0n });
    expect(book.account(pk(4))).toMatchObject({ available: 10_000n - 56n, locked: 0n });
    expect(book.account(pk(TREASURY(1))).available).toBe(100n + 100n + 28n);
    expect(book.account(pk(TREASURY(2))).available).toBe(28n);
    conserved(book);
    const view = book.slot(5)!;
    const byBidder = (i: number) => view.bids.find((b) => latin1Key(b.bidder) === latin1Key(pk(i)))!;
    expect(byBidder(1)).toMatchObject({ invalid: 'BUNDLE_FAILS', penalty: 100n });
    expect(byBidder(4)).toMatchObject({ invalid: 'BUNDLE_FAILS', penalty: 56n });
    expect(byBidder(3)).toMatchObject({ invalid: 'SIM_BUDGET_EXHAUSTED' });
    expect(byBidder(3).penalty).toBeUndefined();
    expect(byBidder(2).penalty).toBeUndefined();
    expect(book.serialize()).toBeDefined();
  });

  it('failPenaltyBps 0 keeps the old rule: a failing bid costs nothing', async () => {
    const book = await openAuctionBook({ setup: setup(undefined, 0) });
    const fails = bid(1, 5, 1_000);
    await run(book, [[fails.commit], [], []]);
    await run(book, [[fails.reveal]]);
    await book.apply(
      block(5, []),
      resolve(book, 5, () => 'fails'),
    );
    expect(book.account(pk(1))).toMatchObject({ available: 10_000n, locked: 0n });
    expect(book.slot(5)!.bids[0]).toMatchObject({ invalid: 'BUNDLE_FAILS' });
    expect(book.slot(5)!.bids[0]!.penalty).toBeUndefined();
  });

  it('the penalty survives a restart in the slot view', async () => {
    const kv = memoryKv();
    const book = await openAuctionBook({ setup: setup(), kv });
    const fails = bid(1, 5, 1_234);
    await run(book, [[fails.commit], [], []]);
    await run(book, [[fails.reveal]]);
    await book.apply(
      block(5, []),
      resolve(book, 5, () => 'fails'),
    );
    await book.flush();
    const again = await openAuctionBook({ setup: setup(), kv });
    expect(again.slot(5)!.bids[0]).toMatchObject({ invalid: 'BUNDLE_FAILS', penalty: 124n });
    expect(again.account(pk(1)).available).toBe(10_000n - 124n);
  });

  it('random slots with failing bids: each pays ceil(amount × bps / 10,000) once, never more than it locked, money conserved', async () => {
    const bidArb = fc.record({
      who: fc.integer({ min: 1, max: 4 }),
      amt: fc.integer({ min: 1, max: 3_000 }),
      ns: fc.constantFrom([1], [2], [1, 2]),
      salt: fc.integer({ min: 1, max: 60 }),
      verdict: fc.constantFrom('ok', 'ok', 'fails', 'skipped') as fc.Arbitrary<'ok' | 'fails' | 'skipped'>,
    });
    let penalized = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 10_000 }),
        fc.array(fc.array(bidArb, { maxLength: 5 }), { minLength: 3, maxLength: 10 }),
        async (bps, slots) => {
          const book = await openAuctionBook({ setup: setup([6_000n, 3_000n, 800n, 50n], bps) });
          const verdicts = new Map<string, 'ok' | 'fails' | 'skipped'>();
          const reveals = new Map<number, AuctionTx[]>();
          const holdings = () => {
            let sum = 0n;
            for (const i of [1, 2, 3, 4]) {
              const a = book.account(pk(i));
              sum += a.available + a.locked + a.pendingWithdrawal;
            }
            return sum;
          };
          const treasuries = () =>
            book.account(pk(TREASURY(1))).available +
            book.account(pk(TREASURY(2))).available +
            book.account(pk(SINK)).available;
          for (let i = 0; i < slots.length + 2; i++) {
            const h = book.appliedHeight() + 1;
            const txs: AuctionTx[] = [...(reveals.get(h) ?? [])];
            for (const o of slots[i] ?? []) {
              const b = bid(o.who, h + 2, o.amt, o.ns, o.salt);
              txs.push(b.commit);
              reveals.set(h + 1, [...(reveals.get(h + 1) ?? []), b.reveal]);
              if (b.reveal.kind === 'reveal')
                verdicts.set(latin1Key(bundleHash(chainId, b.reveal.reveal.bundle)), o.verdict);
            }
            const res = resolve(book, h, (b) => {
              const v = verdicts.get(latin1Key(b.bundleHash));
              return v === 'ok' ? undefined : v;
            });
            const before = { held: holdings(), paid: treasuries() };
            await book.apply(block(h, txs), res);
            const t = book.totals();
            expect(t.held + t.paidOut).toBe(t.supplied);
            const view = book.slot(h)!;
            let due = 0n;
            for (const w of res.resolution.winners) due += w.price;
            for (const f of res.invalid) {
              const bv = view.bids.find((b) => latin1Key(b.commitment) === latin1Key(f.bid.commitment))!;
              if (f.reason === 'BUNDLE_FAILS') {
                const p = failPenaltyOf(f.bid.amount, bps);
                expect(bv.penalty ?? 0n).toBe(p);
                expect(p <= f.bid.amount).toBe(true);
                if (p > 0n) penalized++;
                due += p;
              } else expect(bv.penalty).toBeUndefined();
            }
            due += BigInt(view.forfeited) * 10n;
            // What left the bidders is exactly prices + penalties + forfeited bonds, and it all arrived.
            expect(before.held - holdings()).toBe(due);
            expect(treasuries() - before.paid).toBe(due);
            // Nothing of the slot stays locked.
            for (const i of [1, 2, 3, 4]) expect(book.account(pk(i)).locked >= 0n).toBe(true);
          }
          return true;
        },
      ),
      { numRuns: 40, seed: 320 },
    );
    expect(penalized).toBeGreaterThan(20);
  }, 120_000);
});
