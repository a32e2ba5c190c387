/**
 * bench:bundles' CPU accounting: bench/bundle-stages.ts charges a profile's samples to the innermost
 * bundle stage on the stack (an EVM run under a simulation is the simulation's), else to the innermost
 * generic stage, within the window; bench/lib/thread-cpu.ts reads this process's threads from /proc.
 */
import { describe, expect, it } from 'vitest';
import { chargeProfile } from '../../../bench/bundle-stages.ts';
import { snapshotThreads, threadSecondsBetween } from '../../../bench/lib/thread-cpu.ts';
import type { CpuProfile } from '../../../bench/profile-stages.ts';

const f = (id: number, functionName: string, url: string, children: number[] = []) => ({
  id,
  callFrame: { functionName, url },
  children,
});

// root → presimulate (pool) → simulate (bundle-sim) → runTx (exec/evm) → ethereumjs
//      → gossipsub (libp2p) → validate (p2p network)
//      → (idle), (garbage collector)
const profile: CpuProfile = {
  startTime: 0,
  nodes: [
    f(1, '(root)', '', [2, 6, 8, 9]),
    f(2, 'presimulate', 'file:///r/src/mempool/bundle-pool.ts', [3]),
    f(3, 'simulate', 'file:///r/src/eth-rpc/bundle-sim.ts', [4]),
    f(4, 'runTx', 'file:///r/src/exec/evm/engine.ts', [5]),
    f(5, 'runCall', 'file:///r/node_modules/@ethereumjs/evm/dist/evm.js'),
    f(6, 'onMessage', 'file:///r/node_modules/@libp2p/gossipsub/dist/src/gossipsub.js', [7]),
    f(7, 'validate', 'file:///r/src/p2p/libp2p/network.ts'),
    f(8, '(idle)', ''),
    f(9, '(garbage collector)', ''),
  ],
  // one sample per node at t = 10, 20, …; a sample's time is the delta to the next one (10 µs)
  samples: [5, 7, 8, 9, 4, 5],
  timeDeltas: [10, 10, 10, 10, 10, 10],
};

describe('bundle stages', () => {
  it('charges the innermost bundle stage on the stack, else the innermost generic one', () => {
    const into = new Map<string, number>();
    chargeProfile(profile, undefined, into);
    // samples 1 and 5 (ethereumjs, runTx under a simulation), sample 6 has no next delta
    expect(into.get('bundle: simulation')).toBe(20);
    expect(into.get('gossip (p2p, libp2p, codec)')).toBe(10);
    expect(into.get('GC')).toBe(10);
    expect([...into.keys()].some((k) => k.includes('idle'))).toBe(false);
  });

  it('counts only samples inside the window', () => {
    const into = new Map<string, number>();
    chargeProfile(profile, { startMicros: 15, endMicros: 45 }, into);
    expect(Object.fromEntries(into)).toEqual({ 'gossip (p2p, libp2p, codec)': 10, GC: 10 });
  });
});

describe('thread CPU', () => {
  it("reads this process's threads by name and charges the difference of two snapshots", () => {
    const a = snapshotThreads([process.pid]);
    let x = 0;
    const until = performance.now() + 60;
    while (performance.now() < until) x += Math.sqrt(x + 1);
    const b = snapshotThreads([process.pid]);
    expect(x).toBeGreaterThan(0);
    expect(a[0]!.size).toBeGreaterThan(0);
    const d = threadSecondsBetween(a, b);
    for (const v of Object.values(d)) expect(v).toBeGreaterThan(0);
    expect(threadSecondsBetween(b, b)).toEqual({});
    expect(snapshotThreads([2 ** 30])[0]!.size).toBe(0);
  });
});
