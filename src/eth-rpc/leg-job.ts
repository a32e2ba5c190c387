/**
 * What crosses between the RPC bundle simulation's coordinator (bundle-sim.ts), a rollup's call pool
 * (call-pool.ts `simulateLeg`) and its call workers (bundle-sim-worker.ts) for one bundle leg (ADR 0305):
 * the job, its answer, and the refusal that sends the whole bundle back to the main thread.
 */
import type { RollupConfig } from '../config/index.ts';
import type { LegRun, VmOptions } from '../exec/index.ts';
import type { Bundle } from '../types.ts';

/** One leg as the coordinator hands it to a rollup's call pool (the pool adds the id and height). */
export interface LegJob {
  rollup: RollupConfig;
  /** The executor's VM options (the fee recipient and base fee must match execution's). */
  vm: VmOptions;
  /** The rollup's state root at the height the main thread stamps (read in the same synchronous step). */
  root: Uint8Array;
  /** The block time the transactions see (ms; whole seconds, as the executor's simulation). */
  timeMs: number;
  leg: Bundle['legs'][number];
}

/** A leg's answer: its run, and the height it ran on (a leg re-sent after a respawn runs on a later one). */
export interface LegAnswer {
  v: number;
  r: LegRun;
}

/**
 * No worker could run the leg (none ready, the worker died with it, or its replica was behind): the
 * coordinator simulates the whole bundle on the main thread instead, as the executor always did.
 */
export class LegOffWorker extends Error {
  constructor(why: string) {
    super(`bundle leg not simulated on a call worker: ${why}`);
    this.name = 'LegOffWorker';
  }
}
