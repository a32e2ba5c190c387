/**
 * Bundle pool metrics (prom-client; rows in docs/operating.md "Metrics reference"): pending bundles and
 * their bytes (gauges), admissions by source, refusals by code and drops by reason (counters), and
 * bundles committed, and two latency stages (docs/bundles.md "Where the time goes"): pool admission →
 * commit, and how long a proposer's `select` (simulations included) takes; and the proposer's
 * simulations by verdict. Labels come from closed sets (sources, reject codes, drop reasons), so a peer
 * cannot grow label cardinality.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface BundlePoolMetrics {
  pending: Gauge;
  pendingBytes: Gauge;
  admitted: Counter<'source'>;
  rejected: Counter<'code'>;
  dropped: Counter<'reason'>;
  committed: Counter;
  admitToCommit: Histogram;
  commitHeights: Histogram;
  select: Histogram;
  skipped: Counter<'reason'>;
  simulations: Counter<'verdict' | 'candidate'>;
  presimulated: Counter;
  presimulations: Counter;
}

export function createBundlePoolMetrics(registry?: Registry): BundlePoolMetrics {
  const registers = registry === undefined ? [] : [registry];
  return {
    pending: new Gauge({
      name: 'ordo_bundles_pending',
      help: 'Bundles waiting in the bundle pool',
      registers,
    }),
    pendingBytes: new Gauge({
      name: 'ordo_bundles_pending_bytes',
      help: 'Transaction payload bytes of the bundles waiting in the bundle pool',
      registers,
    }),
    admitted: new Counter({
      name: 'ordo_bundles_admitted_total',
      help: 'Bundles admitted to the bundle pool, by source (rpc, gossip)',
      labelNames: ['source'],
      registers,
    }),
    rejected: new Counter({
      name: 'ordo_bundles_rejected_total',
      help: 'Bundles and cancels refused by the bundle pool, by refusal code',
      labelNames: ['code'],
      registers,
    }),
    dropped: new Counter({
      name: 'ordo_bundles_dropped_total',
      help: 'Pending bundles dropped, by reason (expired, cancelled, replaced, would-revert, invalid)',
      labelNames: ['reason'],
      registers,
    }),
    committed: new Counter({
      name: 'ordo_bundles_committed_total',
      help: 'Bundles seen committed in a block',
      registers,
    }),
    admitToCommit: new Histogram({
      name: 'ordo_bundle_commit_seconds',
      help: 'Time from admitting a bundle to this pool to the commit of the block holding it',
      buckets: [0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 0.75, 1, 2.5, 5, 10],
      registers,
    }),
    commitHeights: new Histogram({
      name: 'ordo_bundle_commit_heights',
      help: 'Heights from admitting a bundle to this pool (the committed height then) to the block holding it: 1 = the next block',
      buckets: [1, 2, 3, 4, 6, 8, 12, 16, 24, 32],
      registers,
    }),
    skipped: new Counter({
      name: 'ordo_bundle_select_skipped_total',
      help: "Pending bundles in their window a proposer's select left out, by reason: would-revert (its verdict), backoff (known to fail, re-check not due), budget (no simulation left this block), conflict (shares a transaction with a chosen one), room (the block's bytes or transactions), error (the simulation threw), slow (its worker simulation ran past the call bound), heavy (only the call workers simulate it and it has no verdict at this height), ADR 0332; in-flight (its presimulation on the call workers has not answered yet), ADR 0333",
      labelNames: ['reason'],
      registers,
    }),
    select: new Histogram({
      name: 'ordo_bundle_select_seconds',
      help: "Time a proposer's bundle selection takes (simulations included), per block with pending bundles",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    simulations: new Counter({
      name: 'ordo_bundle_simulations_total',
      help: "A proposer's bundle simulations, by verdict (applies, would-revert, unsure: refused on an executed state older than the bundle, error, stale: a presimulation answered after the next height committed, discarded, slow: a worker simulation ran past the call bound, ADR 0332) and candidate (fresh, or known: a re-check of a bundle known to fail)",
      labelNames: ['verdict', 'candidate'],
      registers,
    }),
    presimulated: new Counter({
      name: 'ordo_bundle_presimulated_total',
      help: "Bundle simulations the next height's proposer ran right after a commit, before its select (ADR 0200)",
      registers,
    }),
    presimulations: new Counter({
      name: 'ordo_bundle_presimulations_total',
      help: 'Bundle presimulations answered, by thread: worker (EVM legs on the call workers, ADR 0313) or main',
      labelNames: ['thread'],
      registers,
    }),
  };
}
