/** Transaction gossip: RPC admissions are batched out; inbound batches go through admission; verdicts. */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeTxBatch, encodeTxBatch } from '../../../src/codec/codec.ts';
import { txHash } from '../../../src/codec/hashing.ts';
import { batchVerdict, createTxGossip, type TxGossip } from '../../../src/mempool/index.ts';
import type { GossipHandler, Topic } from '../../../src/p2p/network.ts';
import { makePool, tx } from './helpers.ts';

function fakeNetwork() {
  const published: { topic: Topic; data: Uint8Array }[] = [];
  const handlers = new Map<Topic, GossipHandler>();
  return {
    published,
    handlers,
    async publish(topic: Topic, data: Uint8Array) {
      published.push({ topic, data });
    },
    subscribe(topic: Topic, handler: GossipHandler) {
      handlers.set(topic, handler);
    },
  };
}

const started: TxGossip[] = [];
afterEach(async () => {
  for (const g of started.splice(0)) await g.stop();
});

describe('batchVerdict', () => {
  const ok = { ok: true as const, hash: new Uint8Array(32) };
  const no = (code: 'DUPLICATE' | 'INVALID_TX' | 'MEMPOOL_FULL' | 'NONCE_TOO_LOW') => ({
    ok: false as const,
    code,
    message: '',
    retryable: false,
  });
  it('maps admission results to one verdict', () => {
    expect(batchVerdict([ok, no('DUPLICATE')])).toBe('accept');
    expect(batchVerdict([no('DUPLICATE')])).toBe('ignore');
    expect(batchVerdict([ok, no('INVALID_TX')])).toBe('reject');
    expect(batchVerdict([ok, no('MEMPOOL_FULL')])).toBe('ignore');
    expect(batchVerdict([ok, no('NONCE_TOO_LOW')])).toBe('ignore');
  });
});

describe('tx gossip', () => {
  it('batches RPC admissions into one published message; gossip admissions are not re-published', async () => {
    const { pool } = makePool();
    const net = fakeNetwork();
    const g = createTxGossip({ mempool: pool, network: net, flushMs: 5 });
    g.start();
    started.push(g);
    const txs = [tx(1), tx(2), tx(3)];
    for (const t of txs) expect(pool.add(t, 'rpc').ok).toBe(true);
    pool.add(tx(1), 'gossip');
    await g.flush();
    expect(net.published).toHaveLength(1);
    expect(net.published[0]!.topic).toBe('txs');
    expect(decodeTxBatch(net.published[0]!.data)).toEqual(txs);
  });

  it('cuts a batch when it reaches maxBatchTxs', async () => {
    const { pool } = makePool();
    const net = fakeNetwork();
    const g = createTxGossip({ mempool: pool, network: net, maxBatchTxs: 2, flushMs: 10_000 });
    g.start();
    started.push(g);
    for (let i = 0; i < 5; i++) pool.add(tx(1), 'rpc');
    expect(net.published).toHaveLength(2);
    await g.stop();
    expect(net.published).toHaveLength(3);
  });

  it('admits inbound batches as gossip and returns the verdict; undecodable input is rejected', () => {
    const { pool } = makePool();
    const net = fakeNetwork();
    const g = createTxGossip({ mempool: pool, network: net });
    g.start();
    started.push(g);
    const handler = net.handlers.get('txs')!;
    const a = tx(1);
    const b = tx(2);
    expect(handler({ topic: 'txs', from: 'peer', data: encodeTxBatch([a, b]) })).toBe('accept');
    expect(pool.status(txHash(a)).status).toBe('pending');
    expect(handler({ topic: 'txs', from: 'peer', data: encodeTxBatch([a]) })).toBe('ignore');
    expect(handler({ topic: 'txs', from: 'peer', data: encodeTxBatch([tx(1), tx(77)]) })).toBe('reject');
    expect(handler({ topic: 'txs', from: 'peer', data: new Uint8Array([0xff, 0xff, 0xff]) })).toBe('reject');
    expect(net.published).toHaveLength(0);
  });
});
