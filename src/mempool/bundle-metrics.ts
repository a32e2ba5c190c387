/**
 * Bundle pool metrics (prom-client; rows in docs/operating.md "Metrics reference"): pending bundles and
 * their bytes (gauges), admissions by source, refusals by code and drops by reason (counters), and
 * bundles committed. Labels come from closed sets (sources, reject codes, drop reasons), so a peer
 * cannot grow label cardinality.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface BundlePoolMetrics {
  pending: Gauge;
  pendingBytes: Gauge;
  admitted: Counter<'source'>;
  rejected: Counter<'code'>;
  dropped: Counter<'reason'>;
  committed: Counter;
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
  };
}
