/**
 * The ingress on its own: its checks and error codes, mempool refusals passed through unchanged, the
 * metrics by origin, the hand-off to batched gossip (a peer's TxGossip admits the transaction and does
 * not re-publish it), refusal after stop, and the submission tracker's latency bookkeeping.
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { txHash } from '../../../src/codec/hashing.ts';
import {
  createIngress,
  createSubmissionTracker,
  type IngressDeps,
  type IngressResult,
} from '../../../src/ingress/index.ts';
import { gossipAdmit, type LaneMempool } from '../../../src/mempool/index.ts';
import { createMemoryNetworkHub, type P2pNetwork, type Topic, TxGossip } from '../../../src/p2p/index.ts';
import { createInProcessAdapter, type SubmitOrigin } from '../../../src/rollup-adapter/index.ts';
import { MemorySource } from '../../../src/rollup-adapter/testing/memory-source.ts';
import type { TxEnvelope } from '../../../src/types.ts';
import { makePool, rng, rollup, tx } from '../mempool/helpers.ts';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

function setup(over: Partial<IngressDeps> = {}) {
  const { pool } = makePool();
  const pushed: TxEnvelope[] = [];
  const tracked: Uint8Array[] = [];
  const registry = new Registry();
  const ingress = createIngress({
    rollups: [rollup(1), rollup(2, { maxTxBytes: 64 }), rollup(3)],
    mempool: pool,
    gossip: { push: (t) => pushed.push(t) },
    submissions: { submitted: (h) => tracked.push(h) },
    registry,
    ...over,
  });
  ingress.start();
  return { pool, pushed, tracked, registry, ingress };
}

const codeOf = (r: IngressResult): string => (r.ok ? 'ok' : r.code);

describe('ingress', () => {
  it('admits, hands the transaction to gossip and to the submission tracker', () => {
    const { ingress, pool, pushed, tracked } = setup();
    const t = tx(1);
    const r = ingress.submitTransaction(t, 'grpc');
    expect(r).toEqual({ ok: true, hash: txHash(t) });
    expect(pool.status(txHash(t))).toEqual({ status: 'pending' });
    expect(pushed).toEqual([t]);
    expect(tracked).toEqual([txHash(t)]);
  });

  it('refuses bad input with its own codes, before the mempool, and gossips nothing', () => {
    const { ingress, pool, pushed, tracked } = setup();
    const payload = new Uint8Array([1]);
    const cases: [TxEnvelope, string][] = [
      [{ namespace: 0, payload }, 'INVALID_NAMESPACE'],
      [{ namespace: 1.5, payload }, 'INVALID_NAMESPACE'],
      [{ namespace: 2 ** 32, payload }, 'INVALID_NAMESPACE'],
      [{ namespace: Number.NaN, payload }, 'INVALID_NAMESPACE'],
      [{ namespace: 9, payload }, 'UNKNOWN_NAMESPACE'],
      [{ namespace: 1, payload: new Uint8Array(0) }, 'EMPTY_TX'],
      [{ namespace: 2, payload: new Uint8Array(65) }, 'TX_TOO_LARGE'],
    ];
    for (const [t, code] of cases) {
      const r = ingress.submitTransaction(t, 'jsonrpc');
      expect(codeOf(r), JSON.stringify(t.namespace)).toBe(code);
      expect(r.ok ? '' : r.message.length).toBeGreaterThan(10);
      expect(r.ok ? true : r.retryable).toBe(false);
    }
    expect(pool.stats().txs).toBe(0);
    expect(pushed).toEqual([]);
    expect(tracked).toEqual([]);
    expect(ingress.maxTxBytes).toBe(1024);
  });

  it('passes mempool refusals through with their codes; duplicates keep their hash and are not re-gossiped', () => {
    const refusing: LaneMempool['add'] = () => ({
      ok: false,
      code: 'OVERLOADED',
      message: 'node overloaded; retry later',
      retryable: true,
    });
    const o = setup({ mempool: { add: refusing } });
    expect(o.ingress.submitTransaction(tx(1), 'in_process')).toEqual({
      ok: false,
      code: 'OVERLOADED',
      message: 'node overloaded; retry later',
      retryable: true,
    });
    expect(o.pushed).toEqual([]);

    const { ingress, pushed } = setup();
    const t = tx(3);
    expect(ingress.submitTransaction(t, 'jsonrpc').ok).toBe(true);
    const dup = ingress.submitTransaction(t, 'grpc');
    expect(dup).toMatchObject({ ok: false, code: 'DUPLICATE', hash: txHash(t), retryable: false });
    expect(pushed).toHaveLength(1);
  });

  it('refuses everything with SHUTTING_DOWN (retryable) once stopped', () => {
    const { ingress, pool, pushed } = setup();
    ingress.stop();
    const r = ingress.submitTransaction(tx(1), 'grpc');
    expect(r).toMatchObject({ ok: false, code: 'SHUTTING_DOWN', retryable: true });
    expect(pool.stats().txs).toBe(0);
    expect(pushed).toEqual([]);
  });

  it('counts every submission by origin and result, and refusals by code', async () => {
    const { ingress, registry } = setup();
    const t = tx(1);
    ingress.submitTransaction(t, 'jsonrpc');
    ingress.submitTransaction(t, 'jsonrpc');
    ingress.submitTransaction(tx(2), 'grpc');
    ingress.submitTransaction({ namespace: 9, payload: new Uint8Array([1]) }, 'grpc');
    ingress.submitTransaction(tx(1), 'in_process');
    const text = await registry.metrics();
    const line = (l: string) => expect(text).toContain(l);
    line('ordo_ingress_submitted_total{origin="jsonrpc",kind="tx",result="accepted"} 1');
    line('ordo_ingress_submitted_total{origin="jsonrpc",kind="tx",result="duplicate"} 1');
    line('ordo_ingress_submitted_total{origin="grpc",kind="tx",result="accepted"} 1');
    line('ordo_ingress_submitted_total{origin="grpc",kind="tx",result="rejected"} 1');
    line('ordo_ingress_submitted_total{origin="in_process",kind="tx",result="accepted"} 1');
    line('ordo_ingress_submitted_total{origin="in_process",kind="tx",result="rejected"} 0');
    line('ordo_ingress_rejected_total{origin="grpc",kind="tx",code="UNKNOWN_NAMESPACE"} 1');
    // A second scrape keeps the totals (tallies are flushed, not lost).
    ingress.submitTransaction(tx(1), 'in_process');
    expect(await registry.metrics()).toContain(
      'ordo_ingress_submitted_total{origin="in_process",kind="tx",result="accepted"} 2',
    );
  });

  it('hands admitted transactions to batched gossip; the peer admits them and does not re-publish', async () => {
    const hub = createMemoryNetworkHub({ seed: 7 });
    const peer = async (id: string) => {
      const net: P2pNetwork = hub.createNetwork(id);
      const { pool } = makePool();
      const published: Uint8Array[] = [];
      const publish = net.publish.bind(net);
      net.publish = async (topic: Topic, data: Uint8Array) => {
        published.push(data);
        await publish(topic, data);
      };
      const gossip = new TxGossip({ network: net, admit: gossipAdmit(pool), flushMs: 5 });
      await net.start();
      stops.push(async () => {
        await gossip.stop();
        await net.stop();
      });
      const ingress = createIngress({ rollups: [rollup(1), rollup(2)], mempool: pool, gossip });
      ingress.start();
      return { pool, gossip, published, ingress };
    };
    const a = await peer('a');
    const b = await peer('b');
    const txs = [tx(1), tx(2), tx(1)];
    for (const t of txs) expect(a.ingress.submitTransaction(t, 'grpc').ok).toBe(true);
    await a.gossip.flush();
    await hub.runUntilIdle();
    for (const t of txs) expect(b.pool.status(txHash(t))).toEqual({ status: 'pending' });
    expect(a.published).toHaveLength(1);
    await b.gossip.flush();
    expect(b.published).toHaveLength(0);
  });
});

describe('the in-process adapter submits through the ingress', () => {
  it('passes its origin, and turns every refusal into a SubmitResult with the ingress code', async () => {
    const { ingress, registry, pushed } = setup();
    const src = new MemorySource();
    const origins: SubmitOrigin[] = [];
    src.submit = (t: TxEnvelope, origin: SubmitOrigin) => {
      origins.push(origin);
      return ingress.submitTransaction(t, origin);
    };
    const ad = createInProcessAdapter(src);
    const t = tx(1);
    expect(await ad.submitTransaction(t)).toEqual({ accepted: true, txHash: txHash(t), retryable: false });
    expect(pushed).toEqual([t]);
    expect(await ad.submitTransaction(t)).toMatchObject({
      accepted: false,
      txHash: txHash(t),
      rejectCode: 'DUPLICATE',
    });
    // Garbage from an embedded caller is a refusal, never an exception.
    const odd = await ad.submitTransaction({ namespace: 2 ** 40, payload: new Uint8Array(100_000) });
    expect(odd).toMatchObject({ accepted: false, rejectCode: 'INVALID_NAMESPACE', retryable: false });
    expect(odd.txHash).toHaveLength(32);
    const empty = await ad.submitTransaction({ namespace: 1, payload: new Uint8Array(0) });
    expect(empty).toMatchObject({ accepted: false, rejectCode: 'EMPTY_TX' });
    expect(origins).toEqual(['in_process', 'in_process', 'in_process', 'in_process']);
    expect(await registry.metrics()).toContain(
      'ordo_ingress_submitted_total{origin="in_process",kind="tx",result="rejected"} 2',
    );
  });
});

describe('submission tracker', () => {
  it('observes submit → commit latency once per tracked transaction, in seconds', async () => {
    let now = 1000;
    const registry = new Registry();
    const tracker = createSubmissionTracker({ registry, now: () => now });
    const a = tx(1);
    const b = tx(1);
    tracker.submitted(txHash(a));
    tracker.submitted(txHash(b));
    now += 250;
    tracker.committed([a, tx(2)]);
    tracker.committed([a]);
    expect(tracker.size()).toBe(1);
    const text = await registry.metrics();
    expect(text).toContain('ordo_tx_submit_to_commit_seconds_count 1');
    expect(text).toContain('ordo_tx_submit_to_commit_seconds_sum 0.25');
  });

  it('stays bounded: past maxTracked the oldest tenth is forgotten', () => {
    const tracker = createSubmissionTracker({ maxTracked: 100 });
    const first = tx(1);
    tracker.submitted(txHash(first));
    for (let i = 0; i < 150; i++) tracker.submitted(txHash(tx(1)));
    expect(tracker.size()).toBeLessThanOrEqual(100);
    tracker.committed([first]);
    expect(tracker.size()).toBeLessThanOrEqual(100);
  });

  it('forgets exactly what a Map in admission order would, across commits and re-admissions', async () => {
    const registry = new Registry();
    let now = 0;
    const tracker = createSubmissionTracker({ registry, maxTracked: 50, now: () => now });
    const txs = Array.from({ length: 400 }, () => tx(1));
    /** The model: the tracker as a Map keyed by index (insertion order kept on re-admission). */
    const model = new Map<number, number>();
    const observed = async () =>
      Number(/ordo_tx_submit_to_commit_seconds_count (\d+)/.exec(await registry.metrics())?.[1]);
    let expected = 0;
    const next = rng(7);
    for (let step = 0; step < 3_000; step++) {
      now++;
      const n = Math.floor(next() * txs.length);
      if (next() < 0.7) {
        if (model.size >= 50) {
          let k = 5;
          for (const key of model.keys()) {
            if (k-- <= 0) break;
            model.delete(key);
          }
        }
        model.set(n, now);
        tracker.submitted(txHash(txs[n]!));
      } else {
        const block = [n, (n + 1) % txs.length, (n + 7) % txs.length].filter((x, i, a) => a.indexOf(x) === i);
        for (const i of block) if (model.delete(i)) expected++;
        tracker.committed(block.map((i) => ({ ...txs[i]! })));
      }
      expect(tracker.size()).toBe(model.size);
    }
    expect(await observed()).toBe(expected);
  });
});
