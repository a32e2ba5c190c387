import { afterEach, describe, expect, it } from 'vitest';
import { bundleCancelBytes, bundleHash, bundleSignBytes } from '../../../src/codec/index.ts';
import { Ed25519Signer } from '../../../src/crypto/index.ts';
import { createBundlePool } from '../../../src/mempool/index.ts';
import { BundleGossip } from '../../../src/p2p/bundle-gossip.ts';
import { createMemoryNetworkHub } from '../../../src/p2p/memory/network.ts';
import type { Bundle } from '../../../src/types.ts';

const CHAIN = 'gossip-chain';
const rollups = [
  { namespace: 1, kind: 'opaque' as const, maxTxBytes: 1000 },
  { namespace: 2, kind: 'opaque' as const, maxTxBytes: 1000 },
];
const key = new Ed25519Signer(new Uint8Array(32).fill(5));
const uuid = new Uint8Array(16).fill(1);
const gossips: BundleGossip[] = [];
afterEach(() => {
  for (const g of gossips.splice(0)) g.stop();
});

function signedBundle(tag = 'a', replacementUuid: Uint8Array = uuid): Bundle {
  const enc = new TextEncoder();
  const b: Bundle = {
    legs: [
      { namespace: 1, txs: [enc.encode(tag)], revertingTxHashes: [] },
      { namespace: 2, txs: [enc.encode('b')], revertingTxHashes: [] },
    ],
    atomicity: 'inclusion',
    minHeight: 0,
    maxHeight: 0,
    replacementUuid,
    signer: key.publicKey,
    signature: new Uint8Array(0),
  };
  return { ...b, signature: key.sign(bundleSignBytes(bundleHash(CHAIN, b))) };
}

async function pair(opts: { flushMs?: number; maxBundles?: number } = {}) {
  const hub = createMemoryNetworkHub({ seed: 9 });
  const na = hub.createNetwork('a');
  const nb = hub.createNetwork('b');
  const pools = [na, nb].map(() => createBundlePool({ chainId: CHAIN, rollups, height: () => 0 }));
  const [ga] = [na, nb].map((network, i) => {
    const pool = pools[i]!;
    const g = new BundleGossip({
      network,
      admit: (b) => pool.admit(b, 'gossip'),
      cancel: (c) => pool.cancel(c, 'gossip'),
      ...opts,
    });
    gossips.push(g);
    return g;
  });
  await na.start();
  await nb.start();
  return { hub, pools, ga: ga!, nb, na };
}

describe('bundle gossip', () => {
  it('carries a bundle whole and then its cancel to the other pool', async () => {
    const { hub, pools, ga } = await pair();
    const b = signedBundle();
    const r = pools[0]!.admit(b, 'rpc');
    if (!r.ok) throw new Error('not admitted');
    ga.push(b);
    ga.flush();
    await hub.runUntilIdle();
    expect(pools[1]!.status(r.bundleHash)).toEqual({ status: 'pending' });
    const lookup = pools[1]!.lookup(r.bundleHash, 1);
    expect(lookup.kind === 'known' && lookup.txs.map((t) => t.namespace)).toEqual([1, 2]);
    const cancel = {
      replacementUuid: uuid,
      signer: key.publicKey,
      signature: key.sign(bundleCancelBytes(CHAIN, uuid)),
    };
    expect(pools[0]!.cancel(cancel).ok).toBe(true);
    ga.pushCancel(cancel);
    await hub.runUntilIdle();
    expect(pools[1]!.status(r.bundleHash)).toMatchObject({ status: 'dropped', reason: 'cancelled' });
  });

  it('rejects undecodable messages and bundles invalid for every node, penalising the sender', async () => {
    const { hub, pools, na, nb } = await pair();
    // every one of these is the sender's fault: b rejects it and penalises a
    await na.publish('bundles', Uint8Array.of(1, 0xff, 0xff, 0xff));
    await na.publish('bundles', Uint8Array.of(9));
    await na.publish('bundles', Uint8Array.of(2, 1, 2, 3));
    const forged = { ...signedBundle(), signature: new Uint8Array(64).fill(1) };
    const g = new BundleGossip({ network: na, admit: () => ({ ok: true }), cancel: () => ({ ok: true }) });
    gossips.push(g);
    g.push(forged);
    g.flush();
    await hub.runUntilIdle();
    expect(pools[1]!.stats().bundles).toBe(0);
    expect(nb.appScore('a')).toBeLessThan(0);
  });

  it('batches pushed bundles into one message, sent when the flush delay ends', async () => {
    const { hub, pools, ga, na } = await pair({ flushMs: 5 });
    let published = 0;
    const publish = na.publish.bind(na);
    na.publish = (topic, data) => {
      published++;
      return publish(topic, data);
    };
    const bs = [signedBundle('x', new Uint8Array(16).fill(2)), signedBundle('y', new Uint8Array(16).fill(3))];
    const hashes = bs.map((b) => {
      const r = pools[0]!.admit(b, 'rpc');
      if (!r.ok) throw new Error('not admitted');
      ga.push(b);
      return r.bundleHash;
    });
    await hub.runUntilIdle();
    expect(published).toBe(0);
    expect(pools[1]!.stats().bundles).toBe(0);
    await new Promise((r) => setTimeout(r, 30));
    await hub.runUntilIdle();
    expect(published).toBe(1);
    for (const h of hashes) expect(pools[1]!.status(h)).toEqual({ status: 'pending' });
  });

  it('publishes at once when the batch is full, and sends a waiting bundle before a cancel', async () => {
    const { hub, pools, ga } = await pair({ flushMs: 60_000, maxBundles: 2 });
    const b1 = signedBundle('p', new Uint8Array(16).fill(4));
    const b2 = signedBundle('q', new Uint8Array(16).fill(5));
    for (const b of [b1, b2]) if (!pools[0]!.admit(b, 'rpc').ok) throw new Error('not admitted');
    ga.push(b1);
    ga.push(b2);
    await hub.runUntilIdle();
    expect(pools[1]!.stats().bundles).toBe(2);
    const b3 = signedBundle('r');
    const r3 = pools[0]!.admit(b3, 'rpc');
    if (!r3.ok) throw new Error('not admitted');
    ga.push(b3);
    const cancel = {
      replacementUuid: uuid,
      signer: key.publicKey,
      signature: key.sign(bundleCancelBytes(CHAIN, uuid)),
    };
    expect(pools[0]!.cancel(cancel).ok).toBe(true);
    ga.pushCancel(cancel);
    await hub.runUntilIdle();
    // b3 arrived (in the batch the cancel flushed) and then the cancel dropped it
    expect(pools[1]!.status(r3.bundleHash)).toMatchObject({ status: 'dropped', reason: 'cancelled' });
  });

  it('drops a waiting batch on stop', async () => {
    const { hub, pools, ga } = await pair({ flushMs: 5 });
    const b = signedBundle('s', new Uint8Array(16).fill(6));
    if (!pools[0]!.admit(b, 'rpc').ok) throw new Error('not admitted');
    ga.push(b);
    ga.stop();
    await new Promise((r) => setTimeout(r, 20));
    await hub.runUntilIdle();
    expect(pools[1]!.stats().bundles).toBe(0);
  });
});
