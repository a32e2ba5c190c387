/**
 * Lanes: one per registered rollup, built once from the genesis registry. A lane holds its limits
 * (largest transaction, pending count and bytes), its weighted share of the pool-wide capacity (what
 * cross-lane eviction compares, capacity.ts), its two queues (entry.ts) and its metric counters.
 */
import { LIMITS } from '../codec/index.ts';
import type { RollupConfig } from '../config/index.ts';
import { OrdoError } from '../errors.ts';
import type { Namespace } from '../types.ts';
import { type Lane, newQueue } from './entry.ts';
import type { MempoolLimits } from './limits.ts';
import { positiveInt } from './limits.ts';
import type { createMempoolMetrics } from './metrics.ts';

export interface Lanes {
  byNamespace: Map<Namespace, Lane>;
  /** Sorted by namespace: the order of selection, stats and expiry. */
  sorted: Lane[];
}

/**
 * Build the lanes. `classified`: the lane's kind is executed and a classifier is wired, so its
 * transactions carry a sender and a nonce (nonces.ts).
 */
export function createLanes(
  rollups: RollupConfig[],
  limits: MempoolLimits,
  hasClassifier: boolean,
  metrics: ReturnType<typeof createMempoolMetrics>,
  lanes: Lanes,
): void {
  const weightSum = rollups.reduce((s, r) => s + Math.max(r.weight, 0), 0);
  for (const r of rollups) {
    if (lanes.byNamespace.has(r.namespace)) {
      throw new OrdoError('MEMPOOL_CONFIG_INVALID', `rollup namespace ${r.namespace} is registered twice`, {
        namespace: r.namespace,
      });
    }
    positiveInt(`rollups[${r.namespace}].maxTxBytes`, r.maxTxBytes);
    positiveInt(`rollups[${r.namespace}].maxPendingTxs`, r.maxPendingTxs);
    positiveInt(`rollups[${r.namespace}].maxPendingBytes`, r.maxPendingBytes);
    const share = weightSum > 0 ? Math.max(r.weight, 0) / weightSum : 1 / rollups.length;
    const lane: Lane = {
      namespace: r.namespace,
      weight: r.weight,
      classified: r.kind !== 'opaque' && hasClassifier,
      maxTxBytes: Math.min(r.maxTxBytes, LIMITS.maxTxBytes),
      maxTxs: r.maxPendingTxs,
      maxBytes: r.maxPendingBytes,
      shareTxs: Math.max(share * limits.maxTotalTxs, 1e-9),
      shareBytes: Math.max(share * limits.maxTotalBytes, 1e-9),
      txs: 0,
      bytes: 0,
      senders: 0,
      ready: newQueue(),
      held: newQueue(),
      fair: { namespace: r.namespace, weight: r.weight, head: null },
      counters: metrics.lane(r.namespace),
    };
    lanes.byNamespace.set(r.namespace, lane);
    lanes.sorted.push(lane);
  }
  lanes.sorted.sort((a, b) => a.namespace - b.namespace);
}
