/**
 * The mempool component's public surface: `createMempool` (lanes, admission, fair reaping, status)
 * and the wiring to p2p's batched transaction gossip (`gossipAdmit`; the outbound side is the ingress's).
 */

export type * from './bundle-types.ts';
export { gossipAdmit } from './gossip.ts';
export { createMempool, DEFAULT_MEMPOOL_LIMITS, type MempoolLimits, type MempoolOptions } from './mempool.ts';
export { type FairLane, selectFair, weightedMaxMinFair } from './select.ts';
export type * from './types.ts';
