/**
 * The proposer's simulation runs of bundle legs, reused by the execution of the block that places them
 * (issue #22, ADR 0220).
 *
 * The proposer simulates every bundle it selects (rule 4): each leg transaction runs once through
 * `runTx` on the latest executed state, and then again when the block executes. A run is a function of
 * the values it read and of the block context: `runTx` records exactly the values it saw (its read set,
 * `TxView`), the parallel executor commits a worker's run on the same rule (docs/executor.md). So a
 * simulated run is as good as a fresh one when, at its place in the block, every key it read still
 * holds the value it saw, and it either ran under the same block context or did not depend on it
 * (`contextFree`: a transfer-rollup transaction, which never reads the context, or an EVM transaction
 * during which no EVM code ran — no opcode with a cost, so no NUMBER, TIMESTAMP, BLOCKHASH… —
 * `TxOutcome.contextFree`). Otherwise the transaction is executed as before.
 *
 * Which state it was simulated on does not matter (the executed state lags commits by a height or two):
 * only the values it read. A load's bundle sender is its own account, so its legs' read sets (sender,
 * recipient; the fee recipient is a commutative credit, not a read) usually hold.
 *
 * Bounded like the prepared-transaction cache: a `PayloadMap` (src/exec/payload-map.ts), keyed by the
 * payload's bytes, oldest out first; the executor forgets a block's payloads once it executed it.
 */

import { PayloadMap } from './payload-map.ts';
import type { BlockContext, Bytes, TxOutcome } from './types.ts';
import type { TxEffects, Val } from './view.ts';

export const DEFAULT_SIM_RUNS_ENTRIES = 2048;
export const DEFAULT_SIM_RUNS_MAX_PAYLOAD_BYTES = 4096;

/** One simulated run of a transaction: what it read, what it did, and under which block context. */
export interface SimRun {
  outcome: TxOutcome;
  effects: TxEffects;
  ctx: BlockContext;
  /** The run did not read the block context (so any context gives the same run). */
  contextFree: boolean;
}

export class SimRuns {
  readonly #m: PayloadMap<SimRun>;

  constructor(maxEntries = DEFAULT_SIM_RUNS_ENTRIES, maxPayloadBytes = DEFAULT_SIM_RUNS_MAX_PAYLOAD_BYTES) {
    this.#m = new PayloadMap(maxEntries, maxPayloadBytes);
  }

  get size(): number {
    return this.#m.size;
  }

  /** Remember the latest simulated run of `payload` (a newer one replaces an older one). */
  set(payload: Uint8Array, run: SimRun): void {
    this.#m.set(payload, run);
  }

  has(payload: Uint8Array): boolean {
    return this.#m.has(payload);
  }

  /**
   * The simulated run of `payload` if it is valid at this place of the block: same block context or a
   * context-free run, and every value it read equal to what `get` (committed state + the block's
   * earlier writes) answers now. Undefined otherwise (the caller executes the transaction).
   */
  reusable(payload: Uint8Array, get: (k: Bytes) => Bytes | undefined, ctx: BlockContext): SimRun | undefined {
    const run = this.#m.get(payload);
    if (run === undefined) return undefined;
    if (!run.contextFree && (run.ctx.height !== ctx.height || run.ctx.timeMs !== ctx.timeMs))
      return undefined;
    for (const [key, seen] of run.effects.reads) if (!sameVal(get(key), seen)) return undefined;
    return run;
  }

  /** Forget a payload (its block was executed). */
  delete(payload: Uint8Array): void {
    this.#m.delete(payload);
  }
}

function sameVal(now: Bytes | undefined, seen: Val): boolean {
  return (now ?? null) === seen;
}
