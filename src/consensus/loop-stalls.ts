/**
 * Event-loop stalls, for the height timeline (height-trace.ts, issue 26 "late proposals"): a timer that
 * should fire every `tickMs` notes each time it fired `thresholdMs` or more late, i.e. the main thread
 * ran something else (execution, a store batch, a gossip validator) for that long without yielding.
 * Kept: the last `keep` stalls as [start, duration] in the engine's clock, so a height's summary can say
 * whether its proposal waited behind one. One unref'd timer; nothing per message. Sims never start it
 * (the engine runs on virtual time there).
 */

export interface LoopStall {
  /** When the stall began (engine clock, ms): the tick's due time. */
  readonly startMs: number;
  readonly ms: number;
}

export interface LoopStallOptions {
  /** The engine's clock (ms). */
  now: () => number;
  /** Probe period (default 20 ms). */
  tickMs?: number;
  /** A tick this much late or more counts as a stall (default 50 ms). */
  thresholdMs?: number;
  /** Stalls kept (default 256). */
  keep?: number;
  /** Each stall, as it is seen (a metric). */
  onStall?: (ms: number) => void;
}

export class LoopStalls {
  readonly #o: Required<Omit<LoopStallOptions, 'onStall'>> & Pick<LoopStallOptions, 'onStall'>;
  readonly #ring: LoopStall[] = [];
  #last = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(opts: LoopStallOptions) {
    this.#o = { tickMs: 20, thresholdMs: 50, keep: 256, ...opts };
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#last = this.#o.now();
    this.#timer = setInterval(() => this.tick(this.#o.now()), this.#o.tickMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One probe tick at `nowMs` (the timer's callback; tests call it directly). */
  tick(nowMs: number): void {
    const late = nowMs - this.#last - this.#o.tickMs;
    if (late >= this.#o.thresholdMs) {
      this.#ring.push({ startMs: this.#last + this.#o.tickMs, ms: Math.round(late) });
      if (this.#ring.length > this.#o.keep) this.#ring.shift();
      this.#o.onStall?.(late);
    }
    this.#last = nowMs;
  }

  /** Stalls that overlap [fromMs, toMs], oldest first. */
  between(fromMs: number, toMs: number): LoopStall[] {
    return this.#ring.filter((s) => s.startMs + s.ms >= fromMs && s.startMs <= toMs);
  }
}
