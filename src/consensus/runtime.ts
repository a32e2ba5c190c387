/**
 * The engine's clock and timers, injected (sans-IO style): `Engine` never calls setTimeout, Date.now or
 * performance.now itself. `realRuntime` is the wall clock for nodes; the seeded simulator
 * (sim/simulation.ts) gives every engine a virtual runtime driven by its ONE event queue, so the
 * production engine runs in simulated time and every timer firing is a function of the seed.
 */

export interface Runtime {
  /** Wall-clock time in ms (block times, timeouts' `nowMs`). */
  now(): number;
  /** A monotonic ms counter for measuring durations (metrics only). */
  monotonicMs(): number;
  /** Run `fn` once after `ms`; returns a function that cancels it (a no-op once it ran). */
  setTimer(fn: () => void, ms: number): () => void;
}

/** The real runtime: setTimeout, `clock` (default Date.now) and performance.now. */
export function realRuntime(clock: () => number = Date.now): Runtime {
  return {
    now: clock,
    monotonicMs: () => performance.now(),
    setTimer(fn, ms) {
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    },
  };
}

/** A promise that resolves after `ms` on the runtime's timers. */
export function sleep(rt: Runtime, ms: number): Promise<void> {
  return new Promise((resolve) => {
    rt.setTimer(resolve, ms);
  });
}
