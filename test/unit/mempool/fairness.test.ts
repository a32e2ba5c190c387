/** Weighted fair selection: the pure selector, the water-filling reference, and skewed load end to end. */
import { describe, expect, it } from 'vitest';
import { createMempool, type FairLane, selectFair, weightedMaxMinFair } from '../../../src/mempool/index.ts';
import { fakeClock, rollup, tx } from './helpers.ts';

interface Item {
  size: number;
  next: Item | null;
}

function chain(n: number, size: number): Item | null {
  let head: Item | null = null;
  for (let i = 0; i < n; i++) head = { size, next: head };
  return head;
}

function select(lanes: FairLane<Item>[], maxBytes: number, maxTxs = 1e9) {
  return selectFair(
    lanes,
    { maxBytes, maxTxs },
    (i) => i.size,
    (i) => i.next,
  ).map((picks) => picks.reduce((s, i) => s + i.size, 0));
}

describe('weightedMaxMinFair (reference)', () => {
  it('splits equally when everyone wants more, and shares what a lane does not need', () => {
    expect(weightedMaxMinFair([10, 10, 10], [1, 1, 1], 3)).toEqual([1, 1, 1]);
    const a = weightedMaxMinFair([1.43, 0.43, 0.14], [1, 1, 1], 1);
    expect(a[2]).toBeCloseTo(0.14);
    expect(a[0]).toBeCloseTo(0.43);
    expect(a[1]).toBeCloseTo(0.43);
    expect(weightedMaxMinFair([10, 10], [3, 1], 4)).toEqual([3, 1]);
    expect(weightedMaxMinFair([0, 5], [1, 1], 4)).toEqual([0, 4]);
  });
});

describe('selectFair', () => {
  it('equal weights, all backlogged: equal bytes', () => {
    const got = select(
      [
        { namespace: 1, weight: 1, head: chain(100, 100) },
        { namespace: 2, weight: 1, head: chain(100, 100) },
        { namespace: 3, weight: 1, head: chain(100, 100) },
      ],
      3000,
    );
    expect(got).toEqual([1000, 1000, 1000]);
  });

  it('weights 3:1 give 3:1 of the block', () => {
    const got = select(
      [
        { namespace: 1, weight: 3, head: chain(100, 10) },
        { namespace: 2, weight: 1, head: chain(100, 10) },
      ],
      400,
    );
    expect(got).toEqual([300, 100]);
  });

  it('is work-conserving: a quiet lane takes what it needs, the rest goes to the busy lanes', () => {
    const got = select(
      [
        { namespace: 1, weight: 1, head: chain(1000, 10) },
        { namespace: 2, weight: 1, head: chain(5, 10) },
        { namespace: 3, weight: 1, head: null },
      ],
      1000,
    );
    expect(got).toEqual([950, 50, 0]);
  });

  it('a lane stops at a head that does not fit (strict FIFO) while others continue', () => {
    const big: Item = { size: 900, next: chain(3, 10) };
    const got = select(
      [
        { namespace: 1, weight: 1, head: chain(100, 10) },
        { namespace: 2, weight: 1, head: big },
      ],
      500,
    );
    expect(got).toEqual([500, 0]);
  });

  it('respects the transaction-count budget (dominant share)', () => {
    const got = select(
      [
        { namespace: 1, weight: 1, head: chain(100, 1) },
        { namespace: 2, weight: 1, head: chain(100, 50) },
      ],
      1000,
      10,
    );
    // Lane 2's 50-byte txs use the byte budget faster: its dominant share is bytes.
    expect(got[0]! + got[1]! / 50).toBeLessThanOrEqual(10);
    expect(got[1]).toBeLessThanOrEqual(500);
    expect(got[0]).toBeGreaterThan(0);
  });

  it('returns nothing for an empty budget', () => {
    expect(select([{ namespace: 1, weight: 1, head: chain(3, 1) }], 0)).toEqual([0]);
  });
});

describe('fairness under skewed load (end to end)', () => {
  it('10:3:1 offered load at 2x capacity, equal weights: every lane within 5% of its fair share', () => {
    const clock = fakeClock();
    const pool = createMempool({
      rollups: [rollup(1, { maxPendingTxs: 2000 }), rollup(2, { maxPendingTxs: 2000 }), rollup(3)],
      limits: { maxTotalTxs: 5000, maxTotalBytes: 10 * 1024 * 1024 },
      clock: clock.now,
    });
    const capacity = 10_000;
    const offered = [10, 3, 1].map((r) => (2 * capacity * r) / 14);
    const size = 100;
    const credit = [0, 0, 0];
    const got = [0, 0, 0];
    for (let h = 1; h <= 120; h++) {
      clock.advance(1000);
      for (let l = 0; l < 3; l++) {
        credit[l] = credit[l]! + offered[l]!;
        while (credit[l]! >= size) {
          credit[l] = credit[l]! - size;
          pool.add(tx(l + 1, size), 'gossip');
        }
      }
      const block = pool.reap({ maxBytes: capacity, maxTxs: 10_000 });
      expect(block.reduce((s, t) => s + t.payload.byteLength, 0)).toBeLessThanOrEqual(capacity);
      if (h > 20) for (const t of block) got[t.namespace - 1] = got[t.namespace - 1]! + t.payload.byteLength;
      pool.update(h, block);
    }
    const fair = weightedMaxMinFair(
      offered.map((o) => o / capacity),
      [1, 1, 1],
      1,
    );
    const ratios = got.map((g, i) => g / (100 * capacity) / fair[i]!);
    for (const r of ratios) expect(r).toBeGreaterThanOrEqual(0.95);
    // The quiet lane never waits behind the busy one.
    expect(pool.stats().lanes[2]!.txs).toBeLessThanOrEqual(Math.ceil(offered[2]! / size));
  });
});
