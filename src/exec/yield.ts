/**
 * Cooperative yielding for the executor's coordinator loops (issue 26, "late proposals"; ADR 0310).
 * Executing a block runs transaction after transaction on the main thread, each an `await` that
 * usually settles at once (microtasks only), so a 5,000-transaction block ran for seconds without
 * letting the event loop read a socket, fire a timer or finish an fsync: consensus messages and the
 * proposer's own WAL fsync waited behind it. A `Slicer` says when the current slice has run long
 * enough (`due()`); the loop then awaits `yield()`, a `setImmediate`, which lets pending I/O and timers through. Only where
 * the loops already await (their state is private to the block until it commits), so the result of a
 * block cannot depend on where it yielded.
 */
import { setImmediate as nextMacrotask } from 'node:timers/promises';

/** Default slice: long enough that the yields cost nothing measurable, short next to consensus timeouts. */
export const EXEC_SLICE_MS = 10;

export class Slicer {
  readonly #sliceMs: number;
  #since = performance.now();

  constructor(sliceMs = EXEC_SLICE_MS) {
    this.#sliceMs = sliceMs;
  }

  /** This slice has run `sliceMs` or more: time to `yield()` (a check cheap enough for every transaction). */
  due(): boolean {
    return performance.now() - this.#since >= this.#sliceMs;
  }

  /** Let the event loop run (pending I/O, timers), then start a new slice. */
  async yield(): Promise<void> {
    await nextMacrotask();
    this.#since = performance.now();
  }
}
