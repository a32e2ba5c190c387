/**
 * Submission bookkeeping: when each transaction admitted through this node's ingress arrived, so its
 * commit can be timed (`ordo_tx_submit_to_commit_seconds`, the user-visible latency). The ingress
 * reports admissions; the node's commit listener reports committed blocks. Memory is bounded: past
 * `maxTracked` entries the oldest tenth (which never committed here) is forgotten.
 *
 * The ids are kept by their bytes in the mempool's id table (typed arrays, no string per transaction),
 * with two numbers beside each slot: the admission time and the admission's sequence number, which
 * orders the entries as a Map's insertion order would (ADR 0327). A Map keyed by the id as a latin1
 * string cost a 32-character string per admission and per committed transaction (and a property
 * defined on each committed envelope to memoise it): ~2.9 µs of CPU per committed transaction against
 * ~0.6 µs now; an admission costs ~0.2 µs more (cache misses in a large table), ~1.5 µs
 * (bench/submission-tracker.ts, docs/performance.md).
 */
import { Histogram, type Registry } from 'prom-client';
import { txHash } from '../codec/index.ts';
import { ID_BYTES, IdTable, loadId } from '../mempool/index.ts';
import type { TxEnvelope } from '../types.ts';

export interface SubmissionTracker {
  /** A transaction was admitted through the ingress. */
  submitted(hash: Uint8Array): void;
  /** A block committed: observe the latency of the tracked transactions it carries. */
  committed(txs: readonly TxEnvelope[]): void;
  /** Transactions admitted here and not committed yet (bounded by `maxTracked`). */
  size(): number;
}

export interface SubmissionTrackerOptions {
  registry?: Registry;
  /** Default 200,000. */
  maxTracked?: number;
  /** Monotonic milliseconds (default `performance.now`). */
  now?: () => number;
}

/** Transaction id -> admission time, oldest admissions forgettable first. */
class Admissions {
  #ids = new IdTable(1024);
  /** Per slot two numbers side by side (one cache line): the admission time (ms) and the admission's
   * sequence number (unique, increasing). */
  #cols = new Float64Array(2 * 1024);
  #next = 0;
  readonly #move = (from: number, to: number): void => {
    this.#cols[2 * to] = this.#cols[2 * from]!;
    this.#cols[2 * to + 1] = this.#cols[2 * from + 1]!;
  };

  get size(): number {
    return this.#ids.size;
  }

  /** Record the admission of `id` at `t` (a known id keeps its place in the order and takes the new time). */
  set(id: Uint8Array, t: number): void {
    if (id.byteLength !== ID_BYTES) return;
    if (2 * (this.#ids.size + 1) > this.#ids.slots) this.#grow();
    const tag = loadId(id);
    let s = this.#ids.find(tag);
    if (s < 0) {
      s = -1 - s;
      this.#ids.insertAt(tag, s);
      this.#cols[2 * s + 1] = this.#next++;
    }
    this.#cols[2 * s] = t;
  }

  /** Forget `id` and return its admission time, or undefined when it was not tracked. */
  take(id: Uint8Array): number | undefined {
    if (id.byteLength !== ID_BYTES) return undefined;
    const s = this.#ids.find(loadId(id));
    if (s < 0) return undefined;
    const t = this.#cols[2 * s]!;
    this.#ids.deleteAt(s, this.#move);
    return t;
  }

  /** Forget the `n` oldest admissions. */
  forgetOldest(n: number): void {
    const count = this.#ids.size;
    if (n <= 0 || count === 0) return;
    if (n >= count) {
      this.#ids.clear();
      return;
    }
    const live = new Float64Array(count);
    let k = 0;
    for (let s = 0; s < this.#ids.slots; s++) if (this.#ids.holds(s)) live[k++] = this.#cols[2 * s + 1]!;
    live.sort();
    const cutoff = live[n - 1]!;
    // A delete shifts a later entry into the slot just emptied: look at the same slot again.
    for (let s = 0; s < this.#ids.slots; s++) {
      while (this.#ids.holds(s) && this.#cols[2 * s + 1]! <= cutoff) this.#ids.deleteAt(s, this.#move);
    }
  }

  #grow(): void {
    const old = this.#cols;
    const cols = new Float64Array(4 * this.#ids.slots);
    this.#ids.grow((from, to) => {
      cols[2 * to] = old[2 * from]!;
      cols[2 * to + 1] = old[2 * from + 1]!;
    });
    this.#cols = cols;
  }
}

export function createSubmissionTracker(opts: SubmissionTrackerOptions = {}): SubmissionTracker {
  const max = Math.max(10, opts.maxTracked ?? 200_000);
  const now = opts.now ?? (() => performance.now());
  const at = new Admissions();
  const latency = new Histogram({
    name: 'ordo_tx_submit_to_commit_seconds',
    help: 'Time from admission through this node’s ingress to commit, for transactions submitted to this node',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2, 5, 10],
    registers: opts.registry === undefined ? [] : [opts.registry],
  });
  return {
    submitted(hash) {
      // Oldest first (admission order): forget the oldest tenth.
      if (at.size >= max) at.forgetOldest(Math.floor(max / 10));
      at.set(hash, now());
    },
    committed(txs) {
      if (at.size === 0) return;
      const t1 = now();
      for (const tx of txs) {
        const t0 = at.take(txHash(tx));
        if (t0 !== undefined) latency.observe(Math.max(0, t1 - t0) / 1000);
      }
    },
    size: () => at.size,
  };
}
