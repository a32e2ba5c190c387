/**
 * TxGossip batching rules over the in-memory network: flush on count, on bytes and on time; the bounded
 * outbound queue drops the oldest batch and counts it; received batches reach `admit` once per tx.
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeTxBatch } from '../../../src/codec/codec.ts';
import { createMemoryNetworkHub } from '../../../src/p2p/memory/network.ts';
import type { Network, Topic } from '../../../src/p2p/network.ts';
import { TxGossip } from '../../../src/p2p/tx-gossip.ts';
import type { TxEnvelope } from '../../../src/types.ts';

const tx = (i: number, size = 200): TxEnvelope => {
  const payload = new Uint8Array(size);
  new DataView(payload.buffer).setUint32(0, i);
  return { namespace: 1 + (i % 3), payload };
};

/** A Network stub that records publishes; `hold` keeps publishes pending to exercise the queue. */
function recorder(hold = false) {
  const published: Uint8Array[] = [];
  const release: (() => void)[] = [];
  const net = {
    peerId: 'me',
    subscribe: () => {},
    publish: async (_t: Topic, data: Uint8Array) => {
      published.push(data);
      if (hold) await new Promise<void>((r) => release.push(r));
    },
  } as unknown as Network;
  return { net, published, release };
}

const gossips: TxGossip[] = [];
afterEach(async () => {
  for (const g of gossips.splice(0)) await g.stop();
});

describe('TxGossip', () => {
  it('flushes at maxTxs', async () => {
    const { net, published } = recorder();
    const g = new TxGossip({ network: net, admit: () => true, maxTxs: 10, flushMs: 10_000 });
    gossips.push(g);
    for (let i = 0; i < 25; i++) g.push(tx(i));
    await new Promise((r) => setImmediate(r));
    expect(published.map((b) => decodeTxBatch(b).length)).toEqual([10, 10]);
    await g.flush();
    expect(published.map((b) => decodeTxBatch(b).length)).toEqual([10, 10, 5]);
  });

  it('flushes before exceeding maxBytes and never emits an oversized batch', async () => {
    const { net, published } = recorder();
    const g = new TxGossip({
      network: net,
      admit: () => true,
      maxTxs: 1000,
      maxBytes: 2048,
      flushMs: 10_000,
    });
    gossips.push(g);
    for (let i = 0; i < 30; i++) g.push(tx(i, 300));
    await g.flush();
    expect(published.every((b) => b.byteLength <= 2048)).toBe(true);
    expect(published.reduce((n, b) => n + decodeTxBatch(b).length, 0)).toBe(30);
    expect(published.length).toBeGreaterThanOrEqual(5);
  });

  it('flushes after flushMs', async () => {
    const { net, published } = recorder();
    const g = new TxGossip({ network: net, admit: () => true, maxTxs: 1000, flushMs: 20 });
    gossips.push(g);
    g.push(tx(1));
    g.push(tx(2));
    expect(published).toHaveLength(0);
    const deadline = Date.now() + 2000;
    while (published.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(decodeTxBatch(published[0]!)).toHaveLength(2);
  });

  it('bounds the outbound queue with drop-oldest and counts drops', async () => {
    const registry = new Registry();
    const { net, published, release } = recorder(true);
    const g = new TxGossip({ network: net, admit: () => true, maxTxs: 1, maxQueuedBatches: 2, registry });
    for (let i = 0; i < 6; i++) g.push(tx(i));
    // Batch 0 is in flight; 1..5 were queued with room for 2: 1, 2, 3 dropped.
    expect(g.depth().batches).toBe(2);
    const metric = await registry.getSingleMetricAsString('ordo_p2p_queue_dropped_total');
    expect(metric).toMatch(/queue="tx_batches"} 3/);
    for (let i = 0; i < 3 && release.length > 0; i++) {
      release.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    const first = (b: Uint8Array) => {
      const p = decodeTxBatch(b)[0]!.payload;
      return new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(0);
    };
    expect(published.map(first)).toEqual([0, 4, 5]);
    gossips.push(g);
  });

  it('flush() seals the open batch and waits for the batches sealed so far, not for later ones', async () => {
    const { net, published, release } = recorder(true);
    const g = new TxGossip({ network: net, admit: () => true, maxTxs: 2, flushMs: 10_000 });
    for (let i = 0; i < 3; i++) g.push(tx(i)); // batch [0,1] in flight, tx 2 open
    let done = false;
    const sent = g.flush().then(() => {
      done = true;
    });
    for (let i = 3; i < 5; i++) g.push(tx(i)); // a later batch [3,4], sealed after the call
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    release.shift()!(); // [0,1] handed over; [2] goes out
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    release.shift()!(); // [2] handed over: everything sealed before the call is out
    await sent;
    expect(published.map((b) => decodeTxBatch(b).length)).toEqual([2, 1, 2]); // [3,4] still in flight
    expect(release.length).toBe(1);
    release.shift()!();
    gossips.push(g);
    await g.flush(); // nothing open or in flight: returns at once
  });

  it('hands each received transaction to admit with the forwarding peer', async () => {
    const hub = createMemoryNetworkHub({ seed: 3 });
    const a = hub.createNetwork('a');
    const b = hub.createNetwork('b');
    const got: string[] = [];
    const ga = new TxGossip({ network: a, admit: () => true, maxTxs: 4 });
    const gb = new TxGossip({
      network: b,
      admit: (t, from) => {
        got.push(`${from}:${t.namespace}`);
        return { ok: true, hash: new Uint8Array(32) };
      },
    });
    gossips.push(ga, gb);
    await a.start();
    await b.start();
    for (let i = 0; i < 4; i++) ga.push(tx(i));
    await ga.flush();
    await hub.runUntilIdle();
    expect(got).toEqual(['a:1', 'a:2', 'a:3', 'a:1']);
  });
});
