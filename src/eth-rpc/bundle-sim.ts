/**
 * RPC bundle simulations off the main thread (ADR 0305): `ordo_callBundle` and `eth_callBundle` run a
 * bundle's EVM legs on their rollups' call workers (call-pool.ts `simulateLeg`) instead of the node's
 * main thread, which also runs consensus. The answer is the executor's (`Executor.simulate`): the same
 * per-transaction results, state roots, verdict and height.
 *
 * How one simulation goes:
 * 1. The executed heads of the bundle's executed rollups are read in one synchronous step. They must be
 *    one height h (the executor commits a block rollup by rollup: otherwise wait a turn and read again);
 *    a requested height other than h is refused as the executor refuses it (EXEC_SIM_HEIGHT_UNAVAILABLE).
 * 2. In that same step every EVM leg is handed to its rollup's call pool, which stamps h (its head) on
 *    it, with the rollup's root at h: the worker runs it at exactly h, on its replica. Legs of different
 *    rollups run in parallel on their own workers; two legs of one rollup queue on its workers.
 * 3. Legs of other executed rollups (transfer legs: microseconds) run on the main thread through the
 *    executor's simulation, asked for height h; if the heads moved meanwhile the attempt starts over.
 * 4. `applies` / `reason` are taken over all legs in bundle order (`bundleVerdict`, as the executor).
 *
 * Where it falls back to the executor (the main thread): simulations given a pending block (the auction's
 * overlay, ADR 0195/0298: RPC never asks for one); bundles without an EVM leg served
 * by a call pool; bundles over the size limits (refused there); a leg no worker can take (`LegOffWorker`:
 * none ready, e.g. `rpc.ethCallWorkers: 0` or start-up); and heads that kept moving (ATTEMPTS attempts). A leg past
 * `rpc.ethCallTimeoutMs` answers the whole simulation with eth_call's timeout error; the other legs'
 * answers are dropped. A leg whose worker died is sent again to a worker by the pool (ADR 0316: at a
 * later height, so the attempt starts over; -32003 with no worker left; CallCrashedError if it was
 * running in two workers that died).
 */
import type { RollupConfig } from '../config/index.ts';
import {
  bundleVerdict,
  checkSimSize,
  heightUnavailable,
  type LegRun,
  type SimResult,
  type VmOptions,
} from '../exec/index.ts';
import type { Bundle } from '../types.ts';
import { CallTimeoutError } from './call-timeout.ts';
import { type LegAnswer, type LegJob, LegOffWorker } from './leg-job.ts';

/** The executor's simulation options this module understands (see Executor.simulate). */
export interface SimulateOptions {
  height?: number;
  timeMs?: number;
  pending?: unknown;
}

export type BundleSimulateFn<O extends SimulateOptions = SimulateOptions> = (
  bundle: Bundle,
  opts?: O,
) => Promise<SimResult>;

export interface OffloadDeps<O extends SimulateOptions> {
  /** The executor's simulation: transfer legs, and every fallback. */
  simulate: BundleSimulateFn<O>;
  /** Executed rollups of this node by namespace (legs of others are `executed: false`). */
  rollups: ReadonlyMap<number, RollupConfig>;
  /** A rollup's executed height and state root now (Executor.head). */
  head(namespace: number): { height: number; stateRoot: Uint8Array };
  /** The call pool of an EVM rollup, if it has one (createEthRpc's `callPool`). */
  pool(namespace: number): { simulateLeg(job: LegJob): Promise<LegAnswer> } | undefined;
  /** The executor's VM options (default: none, as the node's executor). */
  vm?: VmOptions;
  now?: () => number;
  /** Told where each simulation ran (metrics, tests). */
  onRun?: (where: 'worker' | 'main') => void;
  /** Told of each simulation answered CallTimeoutError: a leg ran past the call bound (the metric). */
  onTimeout?: () => void;
  /**
   * false: where a bundle with a leg served by a call pool would fall back to the main thread (no worker
   * ready or behind, heads that kept moving), reject `LegOffWorker` instead (the pool's presimulation of
   * heavy bundles, ADR 0332: no verdict now rather than seconds of the consensus thread). Default true.
   */
  mainFallback?: boolean;
}

/** Attempts on the workers while the heads move under them; then the executor's own retries. */
const ATTEMPTS = 3;

/** Wrap the executor's simulation so RPC bundles run their EVM legs on the call workers. */
export function offloadBundleSimulation<O extends SimulateOptions>(d: OffloadDeps<O>): BundleSimulateFn<O> {
  const where = offloadBundleSimulationWhere(d);
  return async (bundle, opts) => (await where(bundle, opts)).result;
}

/** A simulation's answer and the thread its EVM legs ran on. */
export interface SimulatedWhere {
  result: SimResult;
  thread: 'worker' | 'main';
}

/** `offloadBundleSimulation`, answering also where it ran (the pool's presimulation counts it). */
export function offloadBundleSimulationWhere<O extends SimulateOptions>(
  d: OffloadDeps<O>,
): (bundle: Bundle, opts?: O) => Promise<SimulatedWhere> {
  const now = d.now ?? Date.now;
  const onMain = async (bundle: Bundle, opts?: O): Promise<SimulatedWhere> => {
    d.onRun?.('main');
    return { result: await d.simulate(bundle, opts), thread: 'main' };
  };
  return async (bundle, opts) => {
    if (opts?.pending !== undefined) return onMain(bundle, opts);
    try {
      checkSimSize(bundle);
    } catch {
      return onMain(bundle, opts); // refused there, with the executor's error
    }
    const offloaded = (ns: number) => d.rollups.get(ns)?.kind === 'evm' && d.pool(ns) !== undefined;
    if (!bundle.legs.some((l) => offloaded(l.namespace))) return onMain(bundle, opts);
    for (let a = 0; a < ATTEMPTS; a++) {
      let r: SimResult | undefined;
      try {
        r = await attempt(bundle, opts?.height, opts?.timeMs, offloaded);
      } catch (err) {
        if (err instanceof LegOffWorker)
          return d.mainFallback === false ? Promise.reject(err) : onMain(bundle, opts);
        if (err instanceof CallTimeoutError) d.onTimeout?.();
        throw err;
      }
      if (r !== undefined) {
        d.onRun?.('worker');
        return { result: r, thread: 'worker' };
      }
      await new Promise((res) => setImmediate(res));
    }
    if (d.mainFallback === false) throw new LegOffWorker('the executed heads kept moving');
    return onMain(bundle, opts);
  };

  /** One attempt at one height; undefined when the heads were between heights or moved meanwhile. */
  async function attempt(
    bundle: Bundle,
    want: number | undefined,
    time: number | undefined,
    offloaded: (ns: number) => boolean,
  ): Promise<SimResult | undefined> {
    const executed = bundle.legs.filter((l) => d.rollups.has(l.namespace));
    const heads = new Map(executed.map((l) => [l.namespace, d.head(l.namespace)]));
    const height = Math.min(...[...heads.values()].map((h) => h.height));
    if ([...heads.values()].some((h) => h.height !== height)) return undefined;
    if (want !== undefined && want !== height) throw heightUnavailable(height, want);
    // Whole seconds by default, as the executor's (the EVM sees seconds).
    const timeMs = time ?? Math.floor(now() / 1000) * 1000;
    // Every EVM leg is stamped in this synchronous step: all with `height`.
    const runs: (Promise<LegRun> | undefined)[] = bundle.legs.map((leg) => {
      if (!offloaded(leg.namespace)) return undefined;
      const job: LegJob = {
        rollup: d.rollups.get(leg.namespace)!,
        vm: d.vm ?? {},
        root: heads.get(leg.namespace)!.stateRoot,
        timeMs,
        leg,
      };
      return d
        .pool(leg.namespace)!
        .simulateLeg(job)
        .then((a) => {
          if (a.v !== height) throw new Moved();
          return a.r;
        });
    });
    // Settle every leg before answering (no rejection left unobserved).
    const settled = Promise.allSettled(runs.map((r) => r ?? Promise.resolve(undefined)));
    const local = bundle.legs.filter((l) => d.rollups.has(l.namespace) && !offloaded(l.namespace));
    let here: SimResult | undefined;
    try {
      if (local.length > 0) here = await d.simulate({ ...bundle, legs: local }, { height, timeMs } as O);
    } catch (err) {
      await settled;
      if ((err as { code?: unknown }).code === 'EXEC_SIM_HEIGHT_UNAVAILABLE') return undefined;
      throw err;
    }
    const done = await settled;
    const failed = done.find((s) => s.status === 'rejected');
    if (failed !== undefined) {
      // A leg's worker error that is not "moved" wins over a moved one (it is the answer).
      const real = done.find((s) => s.status === 'rejected' && !(s.reason instanceof Moved));
      if (real !== undefined) throw (real as PromiseRejectedResult).reason;
      return undefined;
    }
    const out: SimResult = { applies: true, height, legs: [] };
    let li = 0;
    for (const [i, leg] of bundle.legs.entries()) {
      const s = done[i] as PromiseFulfilledResult<LegRun | undefined>;
      if (s.value !== undefined) {
        out.legs.push({
          namespace: leg.namespace,
          executed: true,
          txs: s.value.txs,
          stateRoot: s.value.stateRoot,
        });
      } else if (d.rollups.has(leg.namespace)) {
        const l = here!.legs[li++]!;
        out.legs.push(l);
      } else out.legs.push({ namespace: leg.namespace, executed: false, txs: [] });
    }
    const verdict = bundleVerdict(bundle, out.legs);
    if (!verdict.applies) {
      out.applies = false;
      out.reason = verdict.reason;
    }
    return out;
  }
}

/** A leg ran on a later height than the others (re-sent after its worker was replaced): try again. */
class Moved extends Error {}
