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

/** Samples of the last `windowMs`, for live figures (bounded: at most `maxSamples` kept). */
export class WindowSamples {
  readonly #windowMs: number;
  readonly #max: number;
  #items: { t: number; v: number }[] = [];

  constructor(windowMs = 5000, maxSamples = 50_000) {
    this.#windowMs = windowMs;
    this.#max = maxSamples;
  }

  add(v: number, now = Date.now()): void {
    this.#items.push({ t: now, v });
    if (this.#items.length > this.#max) this.#items.splice(0, this.#items.length - this.#max);
  }

  summary(now = Date.now()): LatencySummary {
    const cut = now - this.#windowMs;
    let i = 0;
    while (i < this.#items.length && (this.#items[i]?.t ?? 0) < cut) i++;
    if (i > 0) this.#items.splice(0, i);
    return summarize(this.#items.map((x) => x.v));
  }
}
