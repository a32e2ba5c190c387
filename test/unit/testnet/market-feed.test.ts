/**
 * The dashboard's bundles and auction feeds (testnet/market-feed.ts): Prometheus text parsing, histogram
 * quantiles, bundle rates from counter deltas (and a reset or a change of node starting over), and the
 * auction feed's states: disabled by a missing method (-32601) or by `{enabled: false}`, enabled slots,
 * unreachable nodes changing nothing.
 */
import { describe, expect, it } from 'vitest';
import { RpcCallError } from '../../../src/rpc/index.ts';
import {
  AuctionFeed,
  auctionSlotView,
  BundleFeed,
  histogramQuantile,
  parsePrometheusText,
  type RpcFn,
} from '../../../testnet/market-feed.ts';

function metrics(o: {
  committed: number;
  applied: number;
  reverted: number;
  pending: number;
  buckets: number[];
}): string {
  const les = ['0.05', '0.1', '0.25', '+Inf'];
  return [
    '# HELP ordo_bundles_committed_total Bundles seen committed in a block',
    '# TYPE ordo_bundles_committed_total counter',
    `ordo_bundles_committed_total ${o.committed}`,
    `ordo_bundles_pending ${o.pending}`,
    `ordo_exec_bundles_total{outcome="applied"} ${o.applied}`,
    `ordo_exec_bundles_total{outcome="reverted"} ${o.reverted}`,
    ...les.map((le, i) => `ordo_bundle_preconfirm_seconds_bucket{le="${le}"} ${o.buckets[i]}`),
    `ordo_bundle_preconfirm_seconds_count ${o.buckets[3]}`,
    'ordo_mempool_txs 12',
    '',
  ].join('\n');
}

describe('parsePrometheusText', () => {
  it('reads names, labels and values of the wanted prefixes only', () => {
    const s = parsePrometheusText(
      'a_total 3\n# HELP x y\nordo_x{le="+Inf",code="A \\"q\\""} 7\nordo_y 1.5e3\nordo_z NaN\n',
      ['ordo_'],
    );
    expect(s).toEqual([
      { name: 'ordo_x', labels: { le: '+Inf', code: 'A \\"q\\"' }, value: 7 },
      { name: 'ordo_y', labels: {}, value: 1500 },
    ]);
  });
});

describe('histogramQuantile', () => {
  it('interpolates within the bucket and answers null without observations', () => {
    const b: [number, number][] = [
      [0.1, 50],
      [0.2, 100],
      [Number.POSITIVE_INFINITY, 100],
    ];
    expect(histogramQuantile(0.5, b)).toBeCloseTo(0.1);
    expect(histogramQuantile(0.75, b)).toBeCloseTo(0.15);
    expect(histogramQuantile(0.5, [[Number.POSITIVE_INFINITY, 0]])).toBeNull();
    // All in +Inf: the largest finite bound.
    expect(
      histogramQuantile(0.5, [
        [1, 0],
        [Number.POSITIVE_INFINITY, 4],
      ]),
    ).toBe(1);
  });
});

describe('BundleFeed', () => {
  it('rates from counter deltas of one node, latency from bucket deltas; restarts on reset or another node', () => {
    const f = new BundleFeed();
    f.update(
      'node0',
      metrics({ committed: 10, applied: 8, reverted: 1, pending: 3, buckets: [0, 0, 0, 0] }),
      0,
    );
    expect(f.toJSON().samples).toEqual([]); // one scrape: no rate yet
    f.update(
      'node0',
      metrics({ committed: 30, applied: 24, reverted: 3, pending: 2, buckets: [10, 20, 20, 20] }),
      2000,
    );
    const s = f.toJSON();
    expect(s.source).toBe('node0');
    expect(s.totals).toEqual({ committed: 30, applied: 24, reverted: 3, pending: 2, preconfirmed: 20 });
    expect(s.samples).toHaveLength(1);
    expect(s.samples[0]).toMatchObject({
      bundlesPerSec: 10,
      appliedPerSec: 8,
      revertedPerSec: 1,
      pending: 2,
    });
    expect(s.samples[0]!.preconfirmP50Ms).toBe(50);
    expect(s.samples[0]!.preconfirmP99Ms).toBe(99);

    // Counter reset (the node restarted): no sample until the next scrape.
    f.update(
      'node0',
      metrics({ committed: 1, applied: 1, reverted: 0, pending: 0, buckets: [1, 1, 1, 1] }),
      3000,
    );
    expect(f.toJSON().samples).toHaveLength(1);
    // Another node: starts over as well.
    f.update(
      'node1',
      metrics({ committed: 50, applied: 40, reverted: 5, pending: 0, buckets: [0, 0, 0, 0] }),
      4000,
    );
    expect(f.toJSON().samples).toHaveLength(1);
    f.update(
      'node1',
      metrics({ committed: 55, applied: 44, reverted: 5, pending: 0, buckets: [0, 0, 0, 0] }),
      5000,
    );
    expect(f.toJSON().samples[1]).toMatchObject({
      bundlesPerSec: 5,
      appliedPerSec: 4,
      preconfirmP50Ms: null,
    });
  });

  it('keeps a bounded history', () => {
    const f = new BundleFeed(3);
    for (let i = 0; i < 10; i++) {
      f.update(
        'n',
        metrics({ committed: i, applied: i, reverted: 0, pending: 0, buckets: [0, 0, 0, 0] }),
        i * 1000,
      );
    }
    expect(f.toJSON().samples).toHaveLength(3);
  });
});

const slot = (height: number, resolved = true) => ({
  height,
  enabled: true,
  resolved,
  commits: 3,
  reveals: 2,
  forfeited: 1,
  bids: [
    { bidder: '0xaa', amount: '7', valid: true },
    { bidder: '0xbb', amount: '6', valid: false, reason: 'BUNDLE_FAILS', penalty: '1' },
    { bidder: '0xdd', amount: '5', valid: false, reason: 'SIM_BUDGET_EXHAUSTED' },
  ],
  winners: [{ namespace: 2, bidder: '0xaa', price: '5', proceeds: '5', treasury: '0xcc' }],
  totalProceeds: '5',
  totalPenalties: '1',
});

describe('auctionSlotView', () => {
  it("keeps a slot's penalties; a node before ADR 0320 (no penalty fields) or a malformed one shows none", () => {
    expect(auctionSlotView(slot(3))).toMatchObject({ totalPenalties: '1', simSkipped: 1 });
    const old = {
      ...slot(3),
      totalPenalties: undefined,
      bids: [{ bidder: '0xbb', amount: '6', valid: false }],
    };
    expect(auctionSlotView(old)).toMatchObject({ penalties: [], totalPenalties: '0', simSkipped: 0 });
    const bad = {
      ...slot(3),
      totalPenalties: '-1',
      bids: [{ bidder: '0xbb', amount: '6', valid: false, reason: 'BUNDLE_FAILS', penalty: '<b>' }],
    };
    expect(auctionSlotView(bad)).toMatchObject({ penalties: [], totalPenalties: '0' });
  });
});

describe('AuctionFeed', () => {
  it('is disabled, with the reason, when the node has no ordo_getAuction (-32601)', async () => {
    const rpc: RpcFn = async () => {
      throw new RpcCallError('RPC_ERROR', -32601, 'method not found: ordo_getAuction');
    };
    const f = new AuctionFeed(rpc);
    expect(f.toJSON().status).toBe('unknown');
    await f.poll('http://x', 5);
    expect(f.toJSON()).toMatchObject({ status: 'disabled', slots: [] });
    expect(f.toJSON().reason).toMatch(/no ordo_getAuction/);
  });

  it('is disabled when genesis turns the auction off', async () => {
    const f = new AuctionFeed(async () => ({ height: 5, enabled: false }));
    await f.poll('http://x', 5);
    expect(f.toJSON()).toMatchObject({ status: 'disabled' });
    expect(f.toJSON().reason).toMatch(/genesis/);
  });

  it('shows enabled slots newest first, re-reads open ones, ignores unknown heights and outages', async () => {
    const calls: number[] = [];
    let open = true;
    let down = false;
    const rpc: RpcFn = async (_url, method, params) => {
      expect(method).toBe('ordo_getAuction');
      const h = params[0] as number;
      calls.push(h);
      if (down) throw new RpcCallError('RPC_UNREACHABLE', 0, 'cannot reach');
      if (h === 2) return null;
      return slot(h, !(h === 4 && open));
    };
    const f = new AuctionFeed(rpc);
    await f.poll('http://x', 4); // first call finds it enabled
    await f.poll('http://x', 4);
    let j = f.toJSON();
    expect(j.status).toBe('enabled');
    expect(j.slots.map((s) => s.height)).toEqual([4, 3, 1]);
    expect(j.slots[0]).toMatchObject({ resolved: false, bids: 3, validBids: 1, commits: 3, reveals: 2 });
    // The slot's failure penalties (ADR 0320) and the bids the simulation budget left out (ADR 0321).
    expect(j.slots[1]).toMatchObject({
      penalties: [{ bidder: '0xbb', amount: '6', penalty: '1' }],
      totalPenalties: '1',
      simSkipped: 1,
    });
    expect(j.slots[1]!.winners).toEqual([{ namespace: 2, bidder: '0xaa', price: '5', proceeds: '5' }]);
    open = false;
    calls.length = 0;
    await f.poll('http://x', 4);
    expect(calls).toContain(4);
    expect(f.toJSON().slots[0]!.resolved).toBe(true);
    down = true;
    await f.poll('http://x', 6);
    j = f.toJSON();
    expect(j.status).toBe('enabled');
    expect(j.slots).toHaveLength(3);
  });
});
