/**
 * The mempool's gossip paths over the in-memory network and p2p's TxGossip: RPC -> admission -> gossip
 * batch -> the peer's admission; invalid batches are rejected; gossip admissions are not re-published.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeTxBatch } from '../../../src/codec/codec.ts';
import { txHash } from '../../../src/codec/hashing.ts';
import { gossipAdmit, type LaneMempool } from '../../../src/mempool/index.ts';
import { createMemoryNetworkHub } from '../../../src/p2p/memory/network.ts';
import type { P2pNetwork, Topic } from '../../../src/p2p/network.ts';
import { TxGossip } from '../../../src/p2p/tx-gossip.ts';
import { makePool, tx } from './helpers.ts';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

async function node(hub: ReturnType<typeof createMemoryNetworkHub>, id: string) {
  const net = hub.createNetwork(id);
  const { pool } = makePool();
  const published: Uint8Array[] = [];
  const origPublish = net.publish.bind(net);
  net.publish = async (topic: Topic, data: Uint8Array) => {
    published.push(data);
    await origPublish(topic, data);
  };
  const gossip = new TxGossip({ network: net, admit: gossipAdmit(pool), flushMs: 5 });
  // Outbound as the ingress does it: client (`rpc`) admissions are pushed into gossip batches.
  pool.onAdmit((t, source) => {
    if (source === 'rpc') gossip.push(t);
  });
  await net.start();
  stops.push(async () => {
    await gossip.stop();
    await net.stop();
  });
  return { net, pool, gossip, published } as {
    net: P2pNetwork;
    pool: LaneMempool;
    gossip: TxGossip;
    published: Uint8Array[];
  };
}

describe('mempool gossip paths', () => {
  it('an RPC admission reaches the peer mempool in one batch; the peer does not re-publish it', async () => {
    const hub = createMemoryNetworkHub({ seed: 1 });
    const a = await node(hub, 'a');
    const b = await node(hub, 'b');
    const txs = [tx(1), tx(2), tx(3)];
    for (const t of txs) expect(a.pool.add(t, 'rpc').ok).toBe(true);
    await a.gossip.flush();
    await hub.runUntilIdle();
    for (const t of txs) expect(b.pool.status(txHash(t))).toEqual({ status: 'pending' });
    expect(a.published).toHaveLength(1);
    await b.gossip.flush();
    expect(b.published).toHaveLength(0);
  });

  it('gossip, admission refusals and invalid batches: rejected transactions never enter the pool', async () => {
    const hub = createMemoryNetworkHub({ seed: 2 });
    const a = await node(hub, 'a');
    const b = await node(hub, 'b');
    const good = tx(1);
    const unknown = tx(99);
    await a.net.publish('txs', encodeTxBatch([good, unknown]));
    await hub.runUntilIdle();
    expect(b.pool.status(txHash(unknown))).toEqual({ status: 'unknown' });
    expect(b.pool.stats().txs).toBe(1);
  });
});
