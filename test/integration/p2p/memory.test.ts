/**
 * The in-memory network: the shared behavioural suite plus what the simulator relies on (same seed,
 * same deliveries in the same order; partitions and heal; drop rate).
 */
import { describe, expect, it } from 'vitest';
import type { P2pConfigInput } from '../../../src/p2p/config.ts';
import { createMemoryNetworkHub, type MemoryNetworkHub } from '../../../src/p2p/memory/network.ts';
import type { P2pNetwork } from '../../../src/p2p/network.ts';
import { type Cluster, networkBehaviourSuite } from './behaviour.ts';

async function makeCluster(n: number, configs: (P2pConfigInput | undefined)[] = []): Promise<Cluster> {
  const hub = createMemoryNetworkHub({ seed: 7, latencyMs: [0, 2] });
  const nets = Array.from({ length: n }, (_, i) => hub.createNetwork(`node${i}`, configs[i]));
  for (const net of nets) await net.start();
  return {
    nets,
    ready: async () => {},
    settle: async () => {
      await hub.runUntilIdle();
      await new Promise((r) => setTimeout(r, 5));
    },
    stop: async () => {
      for (const net of nets) await net.stop();
    },
  };
}

networkBehaviourSuite('memory', makeCluster);

async function trace(seed: number): Promise<string[]> {
  const hub = createMemoryNetworkHub({ seed, latencyMs: [1, 50], dropRate: 0.2 });
  const nets = ['a', 'b', 'c', 'd'].map((id) => hub.createNetwork(id));
  const log: string[] = [];
  for (const n of nets) {
    n.subscribe('consensus', (m) => {
      log.push(`${n.peerId}<-${m.from}:${m.data[0]}`);
      return 'accept';
    });
    await n.start();
  }
  for (let i = 0; i < 40; i++) await nets[i % 4]!.publish('consensus', new Uint8Array([i]));
  await hub.runUntilIdle();
  for (const n of nets) await n.stop();
  return log;
}

describe('memory network hub', () => {
  it('is deterministic for a seed', async () => {
    const a = await trace(1);
    expect(await trace(1)).toEqual(a);
    expect(await trace(2)).not.toEqual(a);
    // About 20% of the 120 deliveries are dropped.
    expect(a.length).toBeGreaterThan(70);
    expect(a.length).toBeLessThan(115);
  });

  it('partitions and heals', async () => {
    const hub: MemoryNetworkHub = createMemoryNetworkHub({ seed: 1 });
    const nets: P2pNetwork[] = ['a', 'b', 'c'].map((id) => hub.createNetwork(id));
    const got = new Map<string, number>();
    const events: string[] = [];
    for (const n of nets) {
      n.subscribe('txs', () => {
        got.set(n.peerId, (got.get(n.peerId) ?? 0) + 1);
        return 'accept';
      });
      n.on('peer:disconnect', (p) => events.push(`${n.peerId}-x-${p}`));
      await n.start();
    }
    hub.partition([['a'], ['b', 'c']]);
    expect(nets[0]!.peers()).toEqual([]);
    expect(nets[1]!.peers()).toEqual(['c']);
    expect(events.sort()).toEqual(['a-x-b', 'a-x-c', 'b-x-a', 'c-x-a']);
    await nets[0]!.publish('txs', new Uint8Array([1]));
    await nets[1]!.publish('txs', new Uint8Array([2]));
    await hub.runUntilIdle();
    expect(got.get('a')).toBeUndefined();
    expect(got.get('c')).toBe(1);
    await expect(nets[0]!.request('b', 'sync', new Uint8Array([1]))).rejects.toMatchObject({
      code: 'P2P_REQUEST_FAILED',
    });
    hub.heal();
    expect(nets[0]!.peers().sort()).toEqual(['b', 'c']);
    await nets[0]!.publish('txs', new Uint8Array([3]));
    await hub.runUntilIdle();
    expect(got.get('b')).toBe(1);
    expect(got.get('c')).toBe(2);
    for (const n of nets) await n.stop();
  });
});
