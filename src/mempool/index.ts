/**
 * The mempool component's public surface: `createMempool` (lanes, admission, fair reaping, status)
 * the bundle pool (`createBundlePool`, issue #22) and the wiring to p2p's batched transaction gossip (`gossipAdmit`; the outbound side is the ingress's).
 */

export {
  type BundlePayloadCheck,
  type BundleRollup,
  type CheckedBundle,
  checkBundle,
  ordoTxHash,
  type RollupTxHash,
  rollupTxHasher,
} from './bundle-check.ts';
export {
  BundlePool,
  type BundlePoolLimits,
  type BundlePoolOptions,
  type BundleSimulateHook,
  createBundlePool,
  DEFAULT_BUNDLE_POOL_LIMITS,
  INCLUDED_MEMORY_HEIGHTS,
  type PoolBundleLookup,
  type PoolSelectedBundle,
} from './bundle-pool.ts';
export {
  BUNDLE_SPANS_PREFIX,
  decodeSpanRecord,
  encodeSpanRecord,
  readIncluded,
  recordSpans,
  type SpanRecordStore,
  spanRecordKey,
} from './bundle-spans.ts';
export type * from './bundle-types.ts';
export { type CommittedBlockRecord, type CommittedHit, CommittedIds } from './committed-ids.ts';
export { gossipAdmit } from './gossip.ts';
export { ID_BYTES, IdTable, loadId, type SlotMove } from './id-table.ts';
export { createMempool, DEFAULT_MEMPOOL_LIMITS, type MempoolLimits, type MempoolOptions } from './mempool.ts';
export { RecentMap } from './recent.ts';
export { type FairLane, selectFair, weightedMaxMinFair } from './select.ts';
export type * from './types.ts';
