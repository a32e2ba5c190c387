/**
 * Latency samples and percentiles for the load generator and the testnet report. Samples are kept in a
 * growable Float64Array (a 60 s run at 10,000 tx/s is 600,000 doubles, under 5 MB), sorted once when a
 * summary is asked for. A sliding window view feeds the live progress line and the dashboard.
 */

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export class LatencySamples {
  #buf = new Float64Array(1024);
  #n = 0;

  add(ms: number): void {
    if (this.#n === this.#buf.length) {
      const next = new Float64Array(this.#buf.length * 2);
      next.set(this.#buf);
      this.#buf = next;
    }
    this.#buf[this.#n++] = ms;
  }

  get count(): number {
    return this.#n;
  }

  summary(): LatencySummary {
    return summarize(this.#buf.subarray(0, this.#n));
  }
}

/** Nearest-rank percentiles (p in 0..100) of an unsorted sample; zeros when empty. */
export function summarize(samples: Float64Array | number[]): LatencySummary {
  const n = samples.length;
  if (n === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  const s = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of s) sum += v;
  return {
    count: n,
    p50: round(percentileSorted(s, 50)),
    p90: round(percentileSorted(s, 90)),
    p99: round(percentileSorted(s, 99)),
    max: round(s[n - 1] ?? 0),
    mean: round(sum / n),
  };
}

export function percentileSorted(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  const i = Math.min(sorted.length - 1, Math.max(0, rank - 1));
  return sorted[i] ?? 0;
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

/**
 * Samples of the last `windowMs`, for live figures. A fixed ring of `maxSamples` (time, value) pairs:
 * adding is O(1) and overwrites the oldest sample when full, so a long run at a high rate costs no more
 * per sample than a short one (an array with splice from the front cost O(window) per sample).
 */
export class WindowSamples {
  readonly #windowMs: number;
  readonly #t: Float64Array;
  readonly #v: Float64Array;
  /** Next slot to write. */
  #head = 0;
  #n = 0;

  constructor(windowMs = 5000, maxSamples = 50_000) {
    this.#windowMs = windowMs;
    this.#t = new Float64Array(Math.max(1, maxSamples));
    this.#v = new Float64Array(Math.max(1, maxSamples));
  }

  add(v: number, now = Date.now()): void {
    this.#t[this.#head] = now;
    this.#v[this.#head] = v;
    this.#head = (this.#head + 1) % this.#t.length;
    if (this.#n < this.#t.length) this.#n++;
  }

  summary(now = Date.now()): LatencySummary {
    const cut = now - this.#windowMs;
    const cap = this.#t.length;
    const out = new Float64Array(this.#n);
    let k = 0;
    for (let i = 0; i < this.#n; i++) {
      const at = (this.#head - this.#n + i + cap) % cap;
      if ((this.#t[at] ?? 0) >= cut) out[k++] = this.#v[at] ?? 0;
    }
    return summarize(out.subarray(0, k));
  }
}
