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

function signedBundle(): Bundle {
  const enc = new TextEncoder();
  const b: Bundle = {
    legs: [
      { namespace: 1, txs: [enc.encode('a')], revertingTxHashes: [] },
      { namespace: 2, txs: [enc.encode('b')], revertingTxHashes: [] },
    ],
    atomicity: 'inclusion',
    minHeight: 0,
    maxHeight: 0,
    replacementUuid: uuid,
    signer: key.publicKey,
    signature: new Uint8Array(0),
  };
  return { ...b, signature: key.sign(bundleSignBytes(bundleHash(CHAIN, b))) };
}

async function pair() {
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
    await hub.runUntilIdle();
    expect(pools[1]!.stats().bundles).toBe(0);
    expect(nb.appScore('a')).toBeLessThan(0);
  });
});
