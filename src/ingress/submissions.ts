/**
 * Submission bookkeeping: when each transaction admitted through this node's ingress arrived, so its
 * commit can be timed (`ordo_tx_submit_to_commit_seconds`, the user-visible latency). The ingress
 * reports admissions; the node's commit listener reports committed blocks. Memory is bounded: past
 * `maxTracked` entries the oldest tenth (which never committed here) is forgotten.
 */
import { Histogram, type Registry } from 'prom-client';
import { txHashKey } from '../codec/index.ts';
import { latin1Key } from '../crypto/index.ts';
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

export function createSubmissionTracker(opts: SubmissionTrackerOptions = {}): SubmissionTracker {
  const max = Math.max(10, opts.maxTracked ?? 200_000);
  const now = opts.now ?? (() => performance.now());
  const at = new Map<string, number>();
  const latency = new Histogram({
    name: 'ordo_tx_submit_to_commit_seconds',
    help: 'Time from admission through this node’s ingress to commit, for transactions submitted to this node',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2, 5, 10],
    registers: opts.registry === undefined ? [] : [opts.registry],
  });
  return {
    submitted(hash) {
      if (at.size >= max) {
        // Oldest first (insertion order): forget the oldest tenth.
        let n = Math.floor(max / 10);
        for (const k of at.keys()) {
          if (n-- <= 0) break;
          at.delete(k);
        }
      }
      at.set(latin1Key(hash), now());
    },
    committed(txs) {
      if (at.size === 0) return;
      const t1 = now();
      for (const tx of txs) {
        const k = txHashKey(tx);
        const t0 = at.get(k);
        if (t0 !== undefined) {
          latency.observe(Math.max(0, t1 - t0) / 1000);
          at.delete(k);
        }
      }
    },
    size: () => at.size,
  };
}
