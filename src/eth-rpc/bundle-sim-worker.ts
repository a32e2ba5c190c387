/**
 * A bundle leg's simulation on a call worker (ADR 0305): what `ordo_callBundle` and `eth_callBundle`
 * send a call worker of an EVM rollup (call-worker.ts, `{t:'leg'}`), and how the worker runs it.
 *
 * The worker runs the executor's own leg simulation (`simulateLeg`, src/exec/simulate.ts) with the
 * executor's EVM (`createVm`, the same VM options) over its replica of the rollup's committed state, at
 * exactly the height the main thread stamped on the message: the transactions' results, gas, errors,
 * return data and the leg's state root are those the main thread's simulation gives at that height.
 * The root the leg chains from is the one the main thread read with that height (`job.root`).
 *
 * What the worker does not do (the main thread's coordinator, bundle-sim.ts, does): the verdict
 * (`applies` / `reason`, which spans legs), the height checks, transfer legs, and the pending-block
 * overlay of the auction (ADR 0298), which RPC simulations never ask for. Nor does it keep the runs for
 * the block that places the bundle (ADR 0220): that cache lives on the main thread.
 */
import { type AnyVm, createVm, type LegRun, type SimLane, simulateLeg } from '../exec/index.ts';
import type { LegJob } from './leg-job.ts';

let vm: Promise<AnyVm> | undefined;

/** Run `job` on the worker's replica (`get`) at `height`. One VM per worker (it serves one rollup). */
export async function runLegJob(
  job: LegJob,
  height: number,
  get: (key: string) => string | undefined,
): Promise<LegRun> {
  if (vm === undefined) {
    const made = createVm(job.rollup, job.vm);
    vm = made;
    made.catch(() => {
      if (vm === made) vm = undefined;
    });
  }
  const lane: SimLane = { rollup: job.rollup, state: { state: { get }, height, root: job.root } };
  return simulateLeg(lane, await vm, job.leg, job.timeMs);
}
