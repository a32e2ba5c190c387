/**
 * The bundle pool's presimulation on the call workers (ADR 0313): the simulations the next height's
 * proposer runs right after a commit (`BundlePool.presimulate`, ADR 0200) send a heavy bundle's EVM legs
 * to their rollups' call workers, as RPC bundle simulations do (ADR 0305, bundle-sim.ts), so that a
 * presimulation no longer holds the node's main thread, which also runs consensus.
 *
 * The answer is the executor's: the offloading coordinator (`offloadBundleSimulationWhere`) runs the same
 * `simulateLeg` / `bundleVerdict` on one executed height, and falls back to the executor (main thread)
 * where it would for RPC (no worker ready, heads that keep moving, no EVM leg served by a pool).
 *
 * What stays on the main thread, on purpose:
 * - bundles declaring less EVM gas than `minGas`: their simulation is short, and the executor keeps its
 *   leg runs (SimRuns, ADR 0220) for the block that places the bundle, which a worker's run does not;
 * - `select` at proposal time (not this hook): a worker round trip, queued behind RPC legs, would add
 *   latency the proposal pays.
 *
 * Errors: an executor refusal (an `EXEC_*` code, from a main-thread simulation) keeps the candidate, as
 * the pool's main-thread hook does. A leg that ran past the call bound (eth_call's timeout,
 * `rpc.ethCallTimeoutMs`) answers `slow` (ADR 0332): the pool leaves the bundle out and re-checks it here
 * only, with back-off, for `select` would run it as long on the main thread, on the proposal's path. Any
 * other worker error (-32003 with every worker busy, a crashed worker) is thrown, so the pool takes no
 * verdict; a heavy bundle then waits for the next presimulation (the node sets the pool's `onlyFromGas`
 * to `minGas` where call workers run, and builds `offload` without the main-thread fallback: a heavy
 * bundle's EVM legs never run on the main thread, ADR 0332).
 * The height rule (a verdict arriving after the next height committed is discarded) is the pool's, and
 * so is the lane: the pool runs such a bundle's presimulation apart from its main-thread simulations, and
 * the proposal's `select` leaves the bundle out while it is in flight instead of waiting (ADR 0333).
 */
import type { Bundle } from '../types.ts';
import type { SimulatedWhere } from './bundle-sim.ts';
import { CallTimeoutError } from './call-timeout.ts';

/** A presimulation's verdict (structurally the pool's hook answer) and where it ran. */
export interface PresimVerdict {
  applies: boolean;
  reason?: string;
  /** The executed height the verdict was taken on. */
  height?: number;
  thread: 'worker' | 'main';
  /** A leg ran past the call bound: no verdict, not to be simulated on the main thread (ADR 0332). */
  slow?: boolean;
}

export interface PresimDeps {
  /** The offloading simulator (`offloadBundleSimulationWhere` over the executor's simulation). */
  offload: (bundle: Bundle) => Promise<SimulatedWhere>;
  /** The pool's main-thread hook: bundles below `minGas`. */
  main: (bundle: Bundle) => Promise<{ applies: boolean; reason?: string; height?: number }>;
  /** The EVM gas the bundle's transactions declare (what one simulation of it may cost, ADR 0297). */
  gas: (bundle: Bundle) => number;
  /** Bundles declaring at least this much EVM gas are presimulated on the workers. */
  minGas: number;
}

/**
 * Bundles declaring this much EVM gas or more are presimulated on the call workers: ~50 ms of the main
 * thread at the ~20 M gas/s ethereumjs ran the 30 M-gas loop of ADR 0305 (a simple transfer bundle stays
 * below it up to ~47 transactions of 21,000 gas, and keeps its runs for execution).
 */
export const PRESIM_WORKER_MIN_GAS = 1_000_000;

/** The pool's presimulation hook: heavy bundles' EVM legs on the call workers, the rest as before. */
export function presimulateOnWorkers(d: PresimDeps): (bundle: Bundle) => Promise<PresimVerdict> {
  return async (bundle) => {
    if (d.gas(bundle) < d.minGas) return { ...(await d.main(bundle)), thread: 'main' };
    let w: SimulatedWhere;
    try {
      w = await d.offload(bundle);
    } catch (err) {
      // The executor refused (a main-thread fallback): the candidate is kept, as the main hook keeps it.
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('EXEC_')) return { applies: true, thread: 'main' };
      if (err instanceof CallTimeoutError) {
        const reason = `its simulation ran past the ${err.timeoutMs} ms call bound (rpc.ethCallTimeoutMs)`;
        return { applies: false, slow: true, reason, thread: 'worker' };
      }
      throw err;
    }
    const r = w.result;
    const out: PresimVerdict = { applies: r.applies, height: r.height, thread: w.thread };
    if (r.reason !== undefined) out.reason = r.reason;
    return out;
  };
}
