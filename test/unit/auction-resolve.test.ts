/**
 * Resolution and pricing of one slot against hand-worked tables (single- and multi-rollup bids, ties,
 * lone bidders, reserves), bid validity with a reason per rule, and properties over random bid sets:
 * winners disjoint, prices between reserve and bid, order-independent, and each price the least amount
 * that still wins (checked by re-running the resolution with the winner's amount moved).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  auctionParams,
  type Bid,
  type BidCandidate,
  MAX_TOP_BYTES,
  rankBids,
  resolveSlot,
  splitProceeds,
  tieBreakKey,
  validateBids,
} from '../../src/auction/index.ts';

const RESERVES = new Map<number, bigint>([
  [1, 10n],
  [2, 5n],
  [3, 0n],
  [4, 0n],
]);
const reserve = (ns: number) => RESERVES.get(ns) ?? 0n;
/** The highest reserve of a set of rollups (bigint: Math.max does not apply). */
function maxReserve(namespaces: number[]): bigint {
  let m = 0n;
  for (const ns of namespaces) if (reserve(ns) > m) m = reserve(ns);
  return m;
}

function key(tag: number, len = 32): Uint8Array {
  const b = new Uint8Array(len);
  b[0] = tag;
  b[len - 1] = tag ^ 0x5a;
  return b;
}

let seq = 0;
function bid(
  name: string,
  amount: bigint,
  namespaces: number[],
  bidder = name.charCodeAt(0),
): Bid & { name: string } {
  seq++;
  return { name, bidder: key(bidder), amount, namespaces, commitment: key(seq), bundleHash: key(seq + 100) };
}

function table(
  bids: (Bid & { name: string })[],
): Record<string, { price: bigint; displaced: string | null }> {
  const res = resolveSlot(100, bids, reserve);
  const out: Record<string, { price: bigint; displaced: string | null }> = {};
  for (const w of res.winners) out[w.bid.name] = { price: w.price, displaced: w.displaced?.name ?? null };
  return out;
}

describe('resolveSlot: hand-worked tables (reserves: ns1 10, ns2 5, ns3 0, ns4 0)', () => {
  it('one rollup, three bids: the highest wins and pays the second', () => {
    expect(table([bid('A', 100n, [1]), bid('B', 80n, [1]), bid('C', 50n, [1])])).toEqual({
      A: { price: 80n, displaced: 'B' },
    });
  });

  it('a lone bidder pays the reserve; with reserve 0 it pays 0', () => {
    expect(table([bid('A', 100n, [1])])).toEqual({ A: { price: 10n, displaced: null } });
    expect(table([bid('A', 100n, [3])])).toEqual({ A: { price: 0n, displaced: null } });
  });

  it('the price never falls below the reserve', () => {
    // B displaced at 7 but ns1's reserve is 10.
    expect(table([bid('A', 100n, [1, 3]), bid('B', 7n, [3])])).toEqual({ A: { price: 10n, displaced: 'B' } });
  });

  it('no bids: no winners', () => {
    expect(resolveSlot(100, [], reserve).winners).toEqual([]);
  });

  it('a two-rollup bid beats each single bid and pays the highest one it displaced', () => {
    // Greedy by amount: A takes {1,2}. Without A, B (60) takes ns1 first: A pays 60.
    // (B + C = 110 > 100: greedy is not welfare-optimal; documented in docs/auction.md.)
    expect(table([bid('A', 100n, [1, 2]), bid('B', 60n, [1]), bid('C', 50n, [2])])).toEqual({
      A: { price: 60n, displaced: 'B' },
    });
  });

  it('a blocked multi-rollup bid sets the price of the winner it overlaps, and not of the other', () => {
    // A wins ns1; B {1,2} is blocked by A; C wins ns2. Without A, B would win: A pays 90.
    // Without C, nothing below it fits ns2 (B is still blocked by A): C pays ns2's reserve, 5.
    expect(table([bid('A', 100n, [1]), bid('B', 90n, [1, 2]), bid('C', 40n, [2])])).toEqual({
      A: { price: 90n, displaced: 'B' },
      C: { price: 5n, displaced: null },
    });
  });

  it('four rollups, chains of overlaps', () => {
    // Rank: A{1,2}=100, B{2,3}=70, C{1}=60, D{3}=30, E{4}=20, F{4}=15.
    // Winners: A (1,2), D (3), E (4). A: without A, B takes {2,3} first and overlaps A → 70.
    // D: above = {1,2}; below D nothing fits ns3 → reserve 0. E: F is next on ns4 → 15.
    expect(
      table([
        bid('A', 100n, [1, 2]),
        bid('B', 70n, [2, 3]),
        bid('C', 60n, [1]),
        bid('D', 30n, [3]),
        bid('E', 20n, [4]),
        bid('F', 15n, [4]),
      ]),
    ).toEqual({
      A: { price: 70n, displaced: 'B' },
      D: { price: 0n, displaced: null },
      E: { price: 15n, displaced: 'F' },
    });
  });

  it('the displaced bid is the first the greedy run without the winner would pick, not the highest overlapping', () => {
    // Rank: A{1,2}=100, B{2,3}=90, C{3}=95 → order A(100), C(95), B(90), D{1}=50.
    // Winners: A, C. Without A: C takes 3, B is blocked by C, D takes 1 and overlaps A → A pays 50.
    expect(
      table([bid('A', 100n, [1, 2]), bid('B', 90n, [2, 3]), bid('C', 95n, [3]), bid('D', 50n, [1])]),
    ).toEqual({
      A: { price: 50n, displaced: 'D' },
      C: { price: 0n, displaced: null },
    });
  });

  it('equal amounts: the lower keccak(bidder || commitment) wins and pays the full amount', () => {
    const x = bid('X', 100n, [1]);
    const y = bid('Y', 100n, [1]);
    const first = Buffer.compare(Buffer.from(tieBreakKey(x)), Buffer.from(tieBreakKey(y))) < 0 ? x : y;
    const other = first === x ? y : x;
    expect(table([x, y])).toEqual({ [first.name]: { price: 100n, displaced: other.name } });
    expect(table([y, x])).toEqual({ [first.name]: { price: 100n, displaced: other.name } });
  });

  it('splits proceeds equally, the remainder one unit each to the lowest namespaces', () => {
    expect(splitProceeds(10n, [3, 1, 2])).toEqual([
      { namespace: 1, share: 4n },
      { namespace: 2, share: 3n },
      { namespace: 3, share: 3n },
    ]);
    expect(splitProceeds(0n, [5])).toEqual([{ namespace: 5, share: 0n }]);
  });
});

describe('validateBids: one reason per rule (slot 100: commits in 34..98, reveals in 99)', () => {
  const params = auctionParams();
  const deposits = new Map<number, bigint>([
    [1, 1_000n],
    [2, 150n],
  ]);
  const ctx = {
    params,
    reserve: (ns: number) => RESERVES.get(ns),
    available: (b: Uint8Array) => deposits.get(b[0] as number) ?? 0n,
  };
  let n = 0;
  function cand(over: Partial<BidCandidate> = {}): BidCandidate {
    n++;
    return {
      bidder: key(1),
      amount: 50n,
      namespaces: [1],
      commitment: key(n),
      bundleHash: key(n),
      slot: 100,
      commitHeight: 98,
      revealHeight: 99,
      ...over,
    };
  }
  const reasons = (cs: BidCandidate[]) => {
    const v = validateBids(100, cs, ctx);
    return cs.map((c) => v.invalid.find((i) => i.bid === c)?.reason ?? 'valid');
  };

  it('accepts a well-formed bid and refuses each kind of bad one with its reason', () => {
    const dupCommit = key(200);
    expect(
      reasons([
        cand(),
        cand({ slot: 101 }),
        cand({ commitHeight: 99, revealHeight: 99 }),
        cand({ commitHeight: 33 }),
        cand({ revealHeight: 100 }),
        cand({ revealHeight: 98, commitHeight: 97 }),
        cand({ bidder: key(5), amount: 0n }),
        cand({ bidder: key(5), namespaces: [] }),
        cand({ bidder: key(5), namespaces: [1, 1] }),
        cand({ bidder: key(5), namespaces: [9] }),
        cand({ bidder: key(3), amount: 9n }),
        cand({ bidder: key(3), bundleApplies: false }),
        cand({ bidder: key(4), commitment: dupCommit }),
        cand({ bidder: key(4), commitment: dupCommit }),
      ]),
    ).toEqual([
      'valid',
      'WRONG_SLOT',
      'COMMIT_OUT_OF_WINDOW',
      'COMMIT_OUT_OF_WINDOW',
      'REVEAL_OUT_OF_WINDOW',
      'REVEAL_OUT_OF_WINDOW',
      'BAD_AMOUNT',
      'BAD_NAMESPACES',
      'BAD_NAMESPACES',
      'UNKNOWN_NAMESPACE',
      'BELOW_RESERVE',
      'BUNDLE_FAILS',
      'ABOVE_DEPOSIT', // bidder 4 has no deposit
      'DUPLICATE_BID',
    ]);
  });

  it("a bidder's bids for a slot together may not exceed its deposit (consensus order decides)", () => {
    expect(
      reasons([
        cand({ bidder: key(2), amount: 100n }),
        cand({ bidder: key(2), amount: 60n }),
        cand({ bidder: key(2), amount: 50n }),
      ]),
    ).toEqual(['valid', 'ABOVE_DEPOSIT', 'valid']);
  });

  it('the sixth bid of one bidder for a slot is refused', () => {
    const six = Array.from({ length: 6 }, () => cand({ amount: 10n }));
    expect(reasons(six)).toEqual(['valid', 'valid', 'valid', 'valid', 'valid', 'TOO_MANY_BIDS']);
  });

  it('the window offsets are parameters', () => {
    const wide = { ...ctx, params: auctionParams({ commitOffset: 4, revealOffset: 1 }) };
    const v = validateBids(
      100,
      [cand({ commitHeight: 96, revealHeight: 97 }), cand({ commitHeight: 97, revealHeight: 99 })],
      wide,
    );
    expect(v.valid).toHaveLength(1);
    expect(v.invalid.map((i) => i.reason)).toEqual(['COMMIT_OUT_OF_WINDOW']);
  });

  it('refuses parameters whose reveal window is empty', () => {
    expect(() => auctionParams({ commitOffset: 2, revealOffset: 2 })).toThrow(/commitOffset must exceed/);
  });
});

describe('resolveSlot: properties over random bid sets', () => {
  const arbBids = fc.array(
    fc.record({
      bidder: fc.integer({ min: 1, max: 8 }),
      amount: fc.bigInt({ min: 10n, max: 200n }),
      namespaces: fc.uniqueArray(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
    }),
    { maxLength: 25 },
  );
  const mk = (raw: { bidder: number; amount: bigint; namespaces: number[] }[]): Bid[] =>
    raw.map((r, i) => ({
      bidder: key(r.bidder),
      amount: r.amount,
      namespaces: r.namespaces,
      commitment: key(i + 1),
      bundleHash: key(i + 1),
    }));
  const wins = (bids: Bid[], b: Bid) => resolveSlot(1, bids, reserve).winners.some((w) => w.bid === b);

  it('winners are disjoint, maximal, priced within [reserve, amount], and independent of input order', () => {
    fc.assert(
      fc.property(arbBids, fc.integer(), (raw, seed) => {
        const bids = mk(raw);
        const res = resolveSlot(1, bids, reserve);
        const taken = new Set<number>();
        for (const w of res.winners) {
          for (const ns of w.bid.namespaces) {
            expect(taken.has(ns)).toBe(false);
            taken.add(ns);
          }
          const floor = maxReserve(w.bid.namespaces);
          expect(w.price >= floor).toBe(true);
          expect(w.price <= w.bid.amount).toBe(true);
        }
        for (const b of bids) {
          if (res.winners.some((w) => w.bid === b)) continue;
          expect(b.namespaces.some((ns) => taken.has(ns))).toBe(true);
        }
        const shuffled = [...bids];
        let s = seed >>> 0;
        for (let i = shuffled.length - 1; i > 0; i--) {
          s = (Math.imul(s, 1103515245) + 12345) >>> 0;
          const j = s % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j] as Bid, shuffled[i] as Bid];
        }
        const again = resolveSlot(1, shuffled, reserve);
        expect(again.winners.map((w) => [w.bid, w.price])).toEqual(res.winners.map((w) => [w.bid, w.price]));
        expect(rankBids(shuffled)).toEqual(res.ranked);
      }),
      { seed: 23, numRuns: 300 },
    );
  });

  it('each price is the least amount that still wins: one more still wins, one less loses', () => {
    fc.assert(
      fc.property(arbBids, (raw) => {
        const bids = mk(raw);
        for (const w of resolveSlot(1, bids, reserve).winners) {
          const others = bids.filter((b) => b !== w.bid);
          const at = (amount: bigint) => {
            const moved = { ...w.bid, amount };
            return wins([...others, moved], moved);
          };
          expect(at(w.price + 1n)).toBe(true);
          const floor = maxReserve(w.bid.namespaces);
          if (w.price > floor) expect(at(w.price - 1n)).toBe(false);
        }
      }),
      { seed: 7, numRuns: 300 },
    );
  });
});

describe('resolveSlot with a top budget (ADR 0295)', () => {
  const sized = (name: string, amount: bigint, namespaces: number[], bytes: number, txs = 1) => ({
    ...bid(name, amount, namespaces),
    size: { bytes, txs },
  });
  const budget = { maxBytes: 1000, maxTxs: 10 };

  it('skips a bid that would overflow the budget, and a bid the budget displaced sets the price', () => {
    const a = sized('A', 100n, [3], 600);
    const b = sized('B', 90n, [4], 600); // no rollup shared with A, but no room after it
    const c = sized('C', 80n, [2], 300);
    const res = resolveSlot(100, [a, b, c], reserve, budget);
    expect(res.winners.map((w) => [w.bid.name, w.price, w.displaced?.name])).toEqual([
      ['A', 90n, 'B'], // without A, B would have won: A pays B's amount
      ['C', 5n, undefined], // C displaced nobody: its rollup's reserve
    ]);
    // Without the budget both A and B win, each at its reserve.
    expect(resolveSlot(100, [a, b, c], reserve).winners.map((w) => w.bid.name)).toEqual(['A', 'B', 'C']);
  });

  it('counts transactions as well as bytes', () => {
    const a = sized('A', 100n, [3], 10, 8);
    const b = sized('B', 90n, [4], 10, 3);
    expect(resolveSlot(100, [a, b], reserve, budget).winners.map((w) => w.bid.name)).toEqual(['A']);
  });

  it('validateBids sets aside a bundle that alone exceeds the budget as BUNDLE_TOO_LARGE', () => {
    const params = auctionParams({ maxTopBytes: 2048, maxTopTxs: 4 });
    const cand = (size: { bytes: number; txs: number }, n: number): BidCandidate => ({
      ...bid(`S${n}`, 50n, [3], n),
      size,
      slot: 100,
      commitHeight: 98,
      revealHeight: 99,
    });
    const v = validateBids(
      100,
      [cand({ bytes: 2048, txs: 4 }, 1), cand({ bytes: 2049, txs: 1 }, 2), cand({ bytes: 10, txs: 5 }, 3)],
      { params, reserve, available: () => 1_000n },
    );
    expect(v.valid).toHaveLength(1);
    expect(v.invalid.map((i) => i.reason)).toEqual(['BUNDLE_TOO_LARGE', 'BUNDLE_TOO_LARGE']);
  });

  it('refuses a budget a proposer could not build', () => {
    expect(() => auctionParams({ maxTopBytes: 512 })).toThrow(/maxTopBytes must be an integer in 1024/);
    expect(() => auctionParams({ maxTopBytes: MAX_TOP_BYTES + 1 })).toThrow(/maxTopBytes/);
    expect(() => auctionParams({ maxTopTxs: 0 })).toThrow(/maxTopTxs/);
    expect(auctionParams().maxTopBytes).toBe(512 * 1024);
  });

  const arbSized = fc.array(
    fc.record({
      bidder: fc.integer({ min: 1, max: 8 }),
      amount: fc.bigInt({ min: 10n, max: 200n }),
      namespaces: fc.uniqueArray(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }),
      bytes: fc.integer({ min: 0, max: 700 }),
      txs: fc.integer({ min: 1, max: 6 }),
    }),
    { maxLength: 25 },
  );
  const mk = (raw: { bidder: number; amount: bigint; namespaces: number[]; bytes: number; txs: number }[]) =>
    raw.map(
      (r, i): Bid => ({
        bidder: key(r.bidder),
        amount: r.amount,
        namespaces: r.namespaces,
        commitment: key(i + 1),
        bundleHash: key(i + 1),
        size: { bytes: r.bytes, txs: r.txs },
      }),
    );
  const wins = (bids: Bid[], b: Bid) =>
    resolveSlot(1, bids, reserve, budget).winners.some((w) => w.bid === b);

  it('winners are disjoint and within the budget; a loser lacked a rollup or room', () => {
    fc.assert(
      fc.property(arbSized, (raw) => {
        const bids = mk(raw);
        const res = resolveSlot(1, bids, reserve, budget);
        const taken = new Set<number>();
        let bytes = 0;
        let txs = 0;
        for (const w of res.winners) {
          for (const ns of w.bid.namespaces) {
            expect(taken.has(ns)).toBe(false);
            taken.add(ns);
          }
          bytes += w.bid.size!.bytes;
          txs += w.bid.size!.txs;
          expect(w.price <= w.bid.amount && w.price >= maxReserve(w.bid.namespaces)).toBe(true);
        }
        expect(bytes <= budget.maxBytes && txs <= budget.maxTxs).toBe(true);
        for (const b of bids) {
          if (res.winners.some((w) => w.bid === b)) continue;
          const room = bytes + b.size!.bytes <= budget.maxBytes && txs + b.size!.txs <= budget.maxTxs;
          expect(b.namespaces.some((ns) => taken.has(ns)) || !room).toBe(true);
        }
      }),
      { seed: 29, numRuns: 300 },
    );
  });

  it('each price is still the least amount that wins: one more still wins, one less loses', () => {
    fc.assert(
      fc.property(arbSized, (raw) => {
        const bids = mk(raw);
        for (const w of resolveSlot(1, bids, reserve, budget).winners) {
          const others = bids.filter((b) => b !== w.bid);
          const at = (amount: bigint) => {
            const moved = { ...w.bid, amount };
            return wins([...others, moved], moved);
          };
          expect(at(w.price + 1n)).toBe(true);
          if (w.price > maxReserve(w.bid.namespaces)) expect(at(w.price - 1n)).toBe(false);
        }
      }),
      { seed: 31, numRuns: 300 },
    );
  });
});
