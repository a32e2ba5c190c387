/** Mempool admission, rejection reasons, TTL, re-injection, status transitions and metrics. */
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { txHash } from '../../../src/codec/hashing.ts';
import { LIMITS } from '../../../src/codec/limits.ts';
import { createMempool } from '../../../src/mempool/index.ts';
import { createMempoolMetrics } from '../../../src/mempool/metrics.ts';
import type { AdmitResult } from '../../../src/mempool/types.ts';
import type { TxEnvelope } from '../../../src/types.ts';
import { makePool, rollup, tx } from './helpers.ts';

function hashOf(r: AdmitResult): Uint8Array {
  if (!r.ok) throw new Error(`expected admission, got ${r.code}: ${r.message}`);
  return r.hash;
}

describe('mempool basics', () => {
  it('admits, hashes like txHash, and reports pending', () => {
    const { pool } = makePool();
    const t = tx(1);
    const h = hashOf(pool.add(t, 'rpc'));
    expect(Buffer.from(h).equals(Buffer.from(txHash(t)))).toBe(true);
    expect(pool.status(h)).toEqual({ status: 'pending' });
    expect(pool.has(h)).toBe(true);
    expect(pool.get(h)).toBe(t);
    expect(pool.pendingHashes().map((x) => Buffer.from(x).toString('hex'))).toEqual([
      Buffer.from(h).toString('hex'),
    ]);
    expect(pool.stats()).toEqual({
      txs: 1,
      bytes: 32,
      backlogLimit: 5000, // minBacklogTxs until blocks commit
      lanes: [
        { namespace: 1, txs: 1, bytes: 32 },
        { namespace: 2, txs: 0, bytes: 0 },
        { namespace: 3, txs: 0, bytes: 0 },
      ],
    });
  });

  it('reaps sorted by namespace, FIFO within a lane, without removing', () => {
    const { pool } = makePool();
    const a1 = tx(3);
    const b1 = tx(1);
    const a2 = tx(3);
    const b2 = tx(1);
    const c1 = tx(2);
    for (const t of [a1, b1, a2, b2, c1]) pool.add(t, 'gossip');
    const block = pool.reap({ maxBytes: 10_000, maxTxs: 100 });
    expect(block).toEqual([b1, b2, c1, a1, a2]);
    expect(pool.stats().txs).toBe(5);
    expect(pool.reap({ maxBytes: 10_000, maxTxs: 100 })).toEqual(block);
  });

  it('commit sets committed(height, index) and removes; unknown committed txs get a status too', () => {
    const { pool } = makePool();
    const a = tx(1);
    const b = tx(2);
    const stranger = tx(1);
    pool.add(a, 'rpc');
    pool.add(b, 'rpc');
    const block = pool.reap({ maxBytes: 10_000, maxTxs: 100 });
    pool.update(7, [stranger, ...block]);
    expect(pool.status(txHash(stranger))).toEqual({ status: 'committed', height: 7, index: 0 });
    expect(pool.status(txHash(a))).toEqual({ status: 'committed', height: 7, index: 1 });
    expect(pool.status(txHash(b))).toEqual({ status: 'committed', height: 7, index: 2 });
    expect(pool.stats().txs).toBe(0);
    // Commits found by hash (new objects, as decoded from a peer's block) also work.
    const c = tx(3);
    pool.add(c, 'gossip');
    pool.update(8, [{ namespace: c.namespace, payload: new Uint8Array(c.payload) }]);
    expect(pool.status(txHash(c))).toEqual({ status: 'committed', height: 8, index: 0 });
    expect(pool.stats().txs).toBe(0);
  });

  it('answers unknown for never-seen or malformed hashes', () => {
    const { pool } = makePool();
    expect(pool.status(new Uint8Array(32))).toEqual({ status: 'unknown' });
    expect(pool.status(new Uint8Array(5))).toEqual({ status: 'unknown' });
    expect(pool.get(new Uint8Array(3))).toBeUndefined();
  });

  it('refuses invalid configuration with a typed error', () => {
    expect(() => createMempool({ rollups: [rollup(1), rollup(1)] })).toThrow(/registered twice/);
    expect(() => createMempool({ rollups: [rollup(1)], limits: { ttlMs: 0 } })).toThrow(/ttlMs/);
    expect(() => createMempool({ rollups: [rollup(1, { maxPendingTxs: -1 })] })).toThrow(/maxPendingTxs/);
  });
});

describe('rejection reasons', () => {
  it('UNKNOWN_NAMESPACE', () => {
    const { pool } = makePool();
    const r = pool.add(tx(99), 'rpc');
    expect(r).toMatchObject({ ok: false, code: 'UNKNOWN_NAMESPACE', retryable: false });
  });

  it('TX_TOO_LARGE per rollup and per protocol limit', () => {
    const { pool } = makePool({
      rollups: [rollup(1, { maxTxBytes: 100 }), rollup(2, { maxTxBytes: 1 << 30, maxPendingBytes: 1 << 30 })],
      limits: { maxTotalBytes: 1 << 30 },
    });
    expect(pool.add(tx(1, 100), 'rpc').ok).toBe(true);
    expect(pool.add(tx(1, 101), 'rpc')).toMatchObject({ ok: false, code: 'TX_TOO_LARGE', retryable: false });
    expect(pool.add(tx(2, LIMITS.maxTxBytes + 1), 'rpc')).toMatchObject({ code: 'TX_TOO_LARGE' });
  });

  it('INVALID_TX for an empty payload', () => {
    const { pool } = makePool();
    expect(pool.add({ namespace: 1, payload: new Uint8Array(0) }, 'rpc')).toMatchObject({
      code: 'INVALID_TX',
    });
  });

  it('DUPLICATE while pending, ALREADY_COMMITTED after commit', () => {
    const { pool } = makePool();
    const t = tx(1);
    expect(pool.add(t, 'rpc').ok).toBe(true);
    expect(pool.add({ namespace: 1, payload: new Uint8Array(t.payload) }, 'gossip')).toMatchObject({
      code: 'DUPLICATE',
      retryable: false,
    });
    pool.update(1, [t]);
    expect(pool.add(t, 'rpc')).toMatchObject({ code: 'ALREADY_COMMITTED', retryable: false });
  });

  it('OVERLOADED (retryable) for RPC above the high-water mark, while gossip still admits', () => {
    const { pool } = makePool({ limits: { maxTotalTxs: 10, highWaterFraction: 0.5 } });
    for (let i = 0; i < 5; i++) expect(pool.add(tx(1 + (i % 3)), 'rpc').ok).toBe(true);
    expect(pool.add(tx(1), 'rpc')).toMatchObject({ ok: false, code: 'OVERLOADED', retryable: true });
    expect(pool.add(tx(1), 'gossip').ok).toBe(true);
  });

  it('admission control: RPC is refused above maxBacklogSeconds of the recent commit rate', () => {
    const big = { maxPendingTxs: 100_000, maxPendingBytes: 64 * 1024 * 1024 };
    const { pool, clock } = makePool({
      rollups: [rollup(1, big), rollup(2, big), rollup(3, big)],
      limits: {
        maxTotalTxs: 100_000,
        maxTotalBytes: 64 * 1024 * 1024,
        maxBacklogSeconds: 2,
        minBacklogTxs: 10,
      },
    });
    const pending: TxEnvelope[] = [];
    for (let i = 0; i < 10; i++) {
      const t = tx(1);
      expect(pool.add(t, 'rpc').ok).toBe(true);
      pending.push(t);
    }
    // No commits yet: the floor applies. Gossip is never refused by admission control.
    const r = pool.add(tx(1), 'rpc');
    expect(r).toMatchObject({ ok: false, code: 'OVERLOADED', retryable: true });
    expect(r.ok ? '' : r.message).toContain('network backlog');
    expect(pool.add(tx(2), 'gossip').ok).toBe(true);
    // 100 transactions committed every 100 ms for 6 s: 1,000 tx/s, so up to 2,000 may be pending.
    for (let h = 1; h <= 60; h++) {
      clock.advance(100);
      const block = Array.from({ length: 100 }, () => tx(3));
      for (const t of block) pool.add(t, 'gossip');
      pool.update(h, block);
    }
    expect(pool.stats().backlogLimit).toBe(2000);
    let admitted = 0;
    for (let i = 0; i < 3000; i++) if (pool.add(tx(1), 'rpc').ok) admitted++;
    expect(pool.stats().txs).toBe(2000);
    expect(admitted).toBe(2000 - 11);
    // The chain goes quiet (empty blocks): the limit falls back to the floor.
    for (let h = 61; h <= 120; h++) {
      clock.advance(100);
      pool.update(h, []);
    }
    expect(pool.stats().backlogLimit).toBe(10);
    // Off: only the capacity high-water mark applies.
    const off = makePool({ limits: { maxBacklogSeconds: 0, minBacklogTxs: 1 } }).pool;
    for (let i = 0; i < 50; i++) expect(off.add(tx(1), 'rpc').ok).toBe(true);
    expect(off.stats().backlogLimit).toBeUndefined();
  });

  it('OVERLOADED for RPC when only its lane is saturated; other lanes unaffected', () => {
    const { pool } = makePool({ rollups: [rollup(1, { maxPendingTxs: 4 }), rollup(2)] });
    for (let i = 0; i < 3; i++) expect(pool.add(tx(1), 'rpc').ok).toBe(true);
    expect(pool.add(tx(1), 'rpc')).toMatchObject({ code: 'OVERLOADED' });
    expect(pool.add(tx(2), 'rpc').ok).toBe(true);
  });

  it('OVERLOADED is never permanent: an empty lane takes one transaction that fits', () => {
    const { pool } = makePool({ rollups: [rollup(1, { maxPendingTxs: 1, maxPendingBytes: 100 })] });
    expect(pool.add(tx(1, 95), 'rpc').ok).toBe(true);
    expect(pool.add(tx(1, 10), 'rpc')).toMatchObject({ code: 'OVERLOADED' });
  });

  it('memory stays bounded under a flood: gossip evicts within caps, RPC is told to back off', () => {
    const { pool } = makePool({
      rollups: [rollup(1, { maxPendingTxs: 50 }), rollup(2, { maxPendingTxs: 50 })],
      limits: { maxTotalTxs: 60, maxTotalBytes: 4000 },
    });
    const quiet = tx(2, 40);
    pool.add(quiet, 'gossip');
    let overloaded = 0;
    for (let i = 0; i < 2000; i++) {
      pool.add(tx(1, 1 + (i % 90)), 'gossip');
      const r = pool.add(tx(1, 20), 'rpc');
      if (!r.ok && r.code === 'OVERLOADED') overloaded++;
      const s = pool.stats();
      expect(s.txs).toBeLessThanOrEqual(60);
      expect(s.bytes).toBeLessThanOrEqual(4000);
      expect(s.lanes[0]!.txs).toBeLessThanOrEqual(50);
    }
    expect(overloaded).toBeGreaterThan(1500);
    expect(pool.status(txHash(quiet))).toEqual({ status: 'pending' });
  });

  it('LANE_FULL / MEMPOOL_FULL when a transaction cannot fit even after evicting everything', () => {
    const { pool } = makePool({
      rollups: [rollup(1, { maxPendingBytes: 50 }), rollup(2, { maxTxBytes: 1024, maxPendingBytes: 4096 })],
      limits: { maxTotalBytes: 200 },
    });
    expect(pool.add(tx(1, 51), 'gossip')).toMatchObject({ code: 'LANE_FULL', retryable: false });
    expect(pool.add(tx(2, 201), 'gossip')).toMatchObject({ code: 'MEMPOOL_FULL', retryable: false });
  });

  it('lane full: the oldest of the same lane is evicted, with status dropped: evicted', () => {
    const { pool } = makePool({ rollups: [rollup(1, { maxPendingTxs: 3 }), rollup(2)] });
    const txs = [tx(1), tx(1), tx(1)];
    for (const t of txs) pool.add(t, 'gossip');
    const other = tx(2);
    pool.add(other, 'gossip');
    const newest = tx(1);
    expect(pool.add(newest, 'gossip').ok).toBe(true);
    expect(pool.status(txHash(txs[0]!))).toMatchObject({ status: 'dropped', reason: 'evicted' });
    expect(pool.status(txHash(txs[1]!))).toEqual({ status: 'pending' });
    expect(pool.status(txHash(other))).toEqual({ status: 'pending' });
    expect(pool.stats().lanes[0]!.txs).toBe(3);
  });

  it('total full: the lane furthest over its weighted share loses its oldest, not the quiet lane', () => {
    const { pool } = makePool({
      rollups: [rollup(1), rollup(2)],
      limits: { maxTotalTxs: 10 },
    });
    const quiet = tx(2);
    pool.add(quiet, 'gossip');
    const busy = Array.from({ length: 9 }, () => tx(1));
    for (const t of busy) pool.add(t, 'gossip');
    // Full (10). A new quiet-lane tx evicts the busy lane's oldest.
    const quiet2 = tx(2);
    expect(pool.add(quiet2, 'gossip').ok).toBe(true);
    expect(pool.status(txHash(busy[0]!))).toMatchObject({ status: 'dropped', reason: 'evicted' });
    expect(pool.status(txHash(quiet))).toEqual({ status: 'pending' });
    // A new busy-lane tx evicts the busy lane's own next-oldest.
    expect(pool.add(tx(1), 'gossip').ok).toBe(true);
    expect(pool.status(txHash(busy[1]!))).toMatchObject({ status: 'dropped', reason: 'evicted' });
    expect(pool.stats().txs).toBe(10);
  });
});

describe('time-to-live and retention', () => {
  it('expires pending transactions after ttlMs', () => {
    const { pool, clock } = makePool({ limits: { ttlMs: 1000 } });
    const a = tx(1);
    pool.add(a, 'rpc');
    clock.advance(500);
    const b = tx(1);
    pool.add(b, 'rpc');
    clock.advance(499);
    expect(pool.status(txHash(a))).toEqual({ status: 'pending' });
    clock.advance(1);
    expect(pool.status(txHash(a))).toMatchObject({ status: 'dropped', reason: 'expired' });
    expect(pool.status(txHash(b))).toEqual({ status: 'pending' });
    expect(pool.reap({ maxBytes: 1e6, maxTxs: 100 })).toEqual([b]);
  });

  it('forgets final statuses after statusRetentionMs and beyond maxStatusEntries', () => {
    const { pool, clock } = makePool({ limits: { statusRetentionMs: 1000, maxStatusEntries: 3 } });
    const txs = [tx(1), tx(1), tx(1), tx(1)];
    pool.update(1, txs);
    expect(pool.status(txHash(txs[0]!))).toEqual({ status: 'unknown' });
    expect(pool.status(txHash(txs[3]!))).toMatchObject({ status: 'committed' });
    clock.advance(1000);
    expect(pool.status(txHash(txs[3]!))).toEqual({ status: 'unknown' });
    // The committed-hash memory is separate from status retention: re-submission still refused.
    expect(pool.add(txs[3]!, 'rpc')).toMatchObject({ code: 'ALREADY_COMMITTED' });
  });

  it('counts the status bound over blocks: the last maxStatusEntries committed are served', () => {
    const { pool } = makePool({ limits: { maxStatusEntries: 3 } });
    const [a, b, c, d] = [tx(1), tx(2), tx(1), tx(3)];
    pool.update(1, [a!, b!]);
    pool.update(2, [c!, d!]);
    expect(pool.status(txHash(a!))).toEqual({ status: 'unknown' });
    expect(pool.status(txHash(b!))).toEqual({ status: 'committed', height: 1, index: 1 });
    expect(pool.status(txHash(c!))).toEqual({ status: 'committed', height: 2, index: 0 });
    expect(pool.status(txHash(d!))).toEqual({ status: 'committed', height: 2, index: 1 });
    // Forgotten as a status, still remembered as committed (one memory, ADR 0210).
    expect(pool.add(a!, 'rpc')).toMatchObject({ code: 'ALREADY_COMMITTED' });
  });

  it('a transaction dropped and later committed reports committed', () => {
    const { pool, clock } = makePool({ limits: { ttlMs: 1000 } });
    const a = tx(1);
    pool.add(a, 'rpc');
    clock.advance(1000);
    expect(pool.status(txHash(a))).toMatchObject({ status: 'dropped', reason: 'expired' });
    pool.update(5, [a]);
    expect(pool.status(txHash(a))).toEqual({ status: 'committed', height: 5, index: 0 });
    expect(pool.add(a, 'gossip')).toMatchObject({ code: 'ALREADY_COMMITTED' });
  });
});

describe('re-injection', () => {
  it('a proposal that did not commit leaves its transactions pending, reaped again next time', () => {
    const { pool } = makePool();
    const a = tx(1);
    const b = tx(2);
    pool.add(a, 'rpc');
    pool.add(b, 'rpc');
    const proposal = pool.reap({ maxBytes: 1e6, maxTxs: 10 });
    // round failed: nothing committed
    pool.update(1, []);
    expect(pool.reap({ maxBytes: 1e6, maxTxs: 10 })).toEqual(proposal);
    expect(pool.status(txHash(a))).toEqual({ status: 'pending' });
  });

  it('reinject admits what we did not have and ignores what we hold', () => {
    const { pool } = makePool();
    const held = tx(1);
    pool.add(held, 'rpc');
    const foreign = tx(2);
    const results = pool.reinject([held, foreign, tx(42)]);
    expect(results.map((r) => (r.ok ? 'ok' : r.code))).toEqual(['DUPLICATE', 'ok', 'UNKNOWN_NAMESPACE']);
    expect(pool.status(txHash(foreign))).toEqual({ status: 'pending' });
  });
});

describe('status transitions', () => {
  it('unknown -> pending -> committed; pending -> dropped -> pending again on re-submission', () => {
    const { pool, clock } = makePool({ limits: { ttlMs: 100 } });
    const t = tx(1);
    const h = txHash(t);
    expect(pool.status(h).status).toBe('unknown');
    pool.add(t, 'rpc');
    expect(pool.status(h).status).toBe('pending');
    clock.advance(100);
    expect(pool.status(h)).toMatchObject({ status: 'dropped', reason: 'expired' });
    pool.add(t, 'rpc');
    expect(pool.status(h).status).toBe('pending');
    pool.update(3, [tx(1), t]);
    expect(pool.status(h)).toEqual({ status: 'committed', height: 3, index: 1 });
  });

  it('invalidate drops with reason invalid', () => {
    const { pool } = makePool();
    const t = tx(1);
    pool.add(t, 'rpc');
    expect(pool.invalidate(txHash(t), 'insufficient balance')).toBe(true);
    expect(pool.status(txHash(t))).toEqual({
      status: 'dropped',
      reason: 'invalid',
      message: 'insufficient balance',
    });
    expect(pool.invalidate(txHash(t), 'again')).toBe(false);
  });

  it('an evicted transaction that another proposer still commits ends committed', () => {
    const { pool } = makePool({ rollups: [rollup(1, { maxPendingTxs: 1 })] });
    const a = tx(1);
    pool.add(a, 'gossip');
    pool.add(tx(1), 'gossip');
    expect(pool.status(txHash(a))).toMatchObject({ reason: 'evicted' });
    pool.update(5, [a]);
    expect(pool.status(txHash(a))).toEqual({ status: 'committed', height: 5, index: 0 });
  });
});

describe('metrics', () => {
  it('counts admissions, rejections by code and wait time per lane', async () => {
    const registry = new Registry();
    const { pool, clock } = makePool({ registry });
    const t = tx(1);
    pool.add(t, 'rpc');
    pool.add(t, 'gossip');
    pool.add(tx(77), 'rpc');
    clock.advance(300);
    pool.update(1, [t]);
    pool.add(tx(2), 'gossip');
    const text = await registry.metrics();
    expect(text).toContain('ordo_mempool_admitted_total{namespace="1",source="rpc"} 1');
    expect(text).toContain('ordo_mempool_rejected_total{namespace="1",code="DUPLICATE"} 1');
    expect(text).toContain('ordo_mempool_rejected_total{namespace="unknown",code="UNKNOWN_NAMESPACE"} 1');
    expect(text).toContain('ordo_mempool_wait_seconds_count{namespace="1"} 1');
    expect(text).toContain('ordo_mempool_lane_txs{namespace="2"} 1');
    expect(text).toContain('ordo_mempool_lane_bytes{namespace="2"} 32');
  });

  it('exports the wait histogram exactly as a prom-client histogram of the same observations', async () => {
    const registry = new Registry();
    const metrics = createMempoolMetrics(registry, () => []);
    const reference = new Registry();
    const h = new Histogram({
      name: 'ordo_mempool_wait_seconds',
      help: 'Time from admission to commit, by lane',
      labelNames: ['namespace'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
      registers: [reference],
    });
    metrics.lane('unknown'); // a lane that never commits has no series, as in prom-client
    for (const [ns, v] of [
      [1, 0.01],
      [1, 0.1],
      [3, 2.5],
      [1, 400],
      [3, 0],
    ] as const) {
      metrics.lane(ns).waitSeconds.observe(v);
      h.labels(String(ns)).observe(v);
    }
    const ours = (await registry.getSingleMetricAsString('ordo_mempool_wait_seconds')).trim();
    expect(ours).toBe((await reference.metrics()).trim());
    registry.resetMetrics();
    expect(await registry.getSingleMetricAsString('ordo_mempool_wait_seconds')).not.toContain('_count');
  });
});
