/**
 * Mempool metrics per lane (prom-client): depth and bytes (gauges read at scrape time), admitted,
 * rejected and dropped counters by reason, and the admission-to-commit wait-time histogram. Label
 * counters and the histogram are plain numbers on the hot path, read by prom-client when scraped
 * (prom-client's labelled `inc` and `observe` hash their label object on every call; the wait
 * histogram is observed once per committed transaction). Unknown namespaces are counted
 * under the label `unknown` so a peer cannot grow label cardinality.
 */
import { Counter, Gauge, type Metric, type Registry } from 'prom-client';
import type { DropReason, RejectCode, TxSource } from './types.ts';

export interface LaneCounters {
  admitted: Record<TxSource, { inc(n?: number): void }>;
  rejected(code: RejectCode): { inc(n?: number): void };
  dropped(reason: DropReason): { inc(n?: number): void };
  waitSeconds: { observe(v: number): void };
}

interface Tally {
  n: number;
  inc(by?: number): void;
}

/** A counter labelled (namespace, <label>) whose increments are tallied locally until scrape. */
function deferredCounter(registers: Registry[], name: string, help: string, label: string) {
  const tallies: { namespace: string; value: string; tally: Tally }[] = [];
  new Counter({
    name,
    help,
    labelNames: ['namespace', label],
    registers,
    collect() {
      for (const t of tallies) {
        // Register every child once so zero-valued series appear too.
        this.inc({ namespace: t.namespace, [label]: t.value }, t.tally.n);
        t.tally.n = 0;
      }
    },
  });
  return {
    labels(namespace: string, value: string): Tally {
      const tally: Tally = {
        n: 0,
        inc(by = 1) {
          this.n += by;
        },
      };
      tallies.push({ namespace, value, tally });
      return tally;
    },
  };
}

/** One namespace's series of a deferred histogram: bucket counts (not cumulative), sum and count. */
interface HistogramSeries {
  namespace: string;
  counts: number[];
  sum: number;
  count: number;
}

/**
 * A histogram labelled by namespace, kept as plain numbers and exported in prom-client's histogram
 * form (`_bucket{le}` cumulative, `+Inf`, `_sum`, `_count`) when the registry is read. A series
 * appears with its first observation, as with prom-client's own histogram.
 */
function deferredHistogram(registry: Registry, name: string, help: string, buckets: number[]) {
  const series: HistogramSeries[] = [];
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get() {
      const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
      for (const s of series) {
        if (s.count === 0) continue;
        let acc = 0;
        for (let i = 0; i < buckets.length; i++) {
          acc += s.counts[i]!;
          values.push({
            labels: { le: buckets[i]!, namespace: s.namespace },
            value: acc,
            metricName: `${name}_bucket`,
          });
        }
        values.push({
          labels: { le: '+Inf', namespace: s.namespace },
          value: s.count,
          metricName: `${name}_bucket`,
        });
        values.push({ labels: { namespace: s.namespace }, value: s.sum, metricName: `${name}_sum` });
        values.push({ labels: { namespace: s.namespace }, value: s.count, metricName: `${name}_count` });
      }
      return Promise.resolve({ name, help, type: 'histogram', values, aggregator: 'sum' });
    },
    reset() {
      for (const s of series) {
        s.counts.fill(0);
        s.sum = 0;
        s.count = 0;
      }
    },
  };
  registry.registerMetric(metric as unknown as Metric);
  return {
    labels(namespace: string): { observe(v: number): void } {
      const s: HistogramSeries = {
        namespace,
        counts: new Array<number>(buckets.length).fill(0),
        sum: 0,
        count: 0,
      };
      series.push(s);
      return {
        observe(v: number) {
          if (!Number.isFinite(v)) return;
          s.sum += v;
          s.count++;
          for (let i = 0; i < buckets.length; i++) {
            if (v <= buckets[i]!) {
              s.counts[i]!++;
              return;
            }
          }
        },
      };
    },
  };
}

export interface MempoolMetrics {
  lane(namespace: number | 'unknown'): LaneCounters;
}

export function createMempoolMetrics(
  registry: Registry,
  lanesSnapshot: () => { namespace: number; txs: number; bytes: number }[],
): MempoolMetrics {
  const registers = [registry];
  new Gauge({
    name: 'ordo_mempool_lane_txs',
    help: 'Pending transactions per lane',
    labelNames: ['namespace'],
    registers,
    collect() {
      for (const l of lanesSnapshot()) this.set({ namespace: String(l.namespace) }, l.txs);
    },
  });
  new Gauge({
    name: 'ordo_mempool_lane_bytes',
    help: 'Pending payload bytes per lane',
    labelNames: ['namespace'],
    registers,
    collect() {
      for (const l of lanesSnapshot()) this.set({ namespace: String(l.namespace) }, l.bytes);
    },
  });
  const admitted = deferredCounter(
    registers,
    'ordo_mempool_admitted_total',
    'Transactions admitted, by lane and source',
    'source',
  );
  const rejected = deferredCounter(
    registers,
    'ordo_mempool_rejected_total',
    'Transactions refused at admission, by lane and reject code',
    'code',
  );
  const dropped = deferredCounter(
    registers,
    'ordo_mempool_dropped_total',
    'Pending transactions dropped, by lane and reason',
    'reason',
  );
  const wait = deferredHistogram(
    registry,
    'ordo_mempool_wait_seconds',
    'Time from admission to commit, by lane',
    [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
  );

  const cache = new Map<string, LaneCounters>();
  return {
    lane(namespace) {
      const ns = String(namespace);
      let c = cache.get(ns);
      if (c) return c;
      const rej = new Map<string, { inc(n?: number): void }>();
      const drop = new Map<string, { inc(n?: number): void }>();
      c = {
        admitted: {
          rpc: admitted.labels(ns, 'rpc'),
          gossip: admitted.labels(ns, 'gossip'),
          reinject: admitted.labels(ns, 'reinject'),
        },
        rejected(code) {
          let r = rej.get(code);
          if (!r) {
            r = rejected.labels(ns, code);
            rej.set(code, r);
          }
          return r;
        },
        dropped(reason) {
          let d = drop.get(reason);
          if (!d) {
            d = dropped.labels(ns, reason);
            drop.set(reason, d);
          }
          return d;
        },
        waitSeconds: wait.labels(ns),
      };
      cache.set(ns, c);
      return c;
    },
  };
}
