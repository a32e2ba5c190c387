/**
 * The mempool component's public surface: `createMempool` (lanes, admission, fair reaping, status)
 * and `createTxGossip` (batched transaction gossip over the Network contract).
 */
export { batchVerdict, createTxGossip, type TxGossip, type TxGossipOptions } from './gossip.ts';
export { createMempool, DEFAULT_MEMPOOL_LIMITS, type MempoolLimits, type MempoolOptions } from './mempool.ts';
export { type FairLane, selectFair, weightedMaxMinFair } from './select.ts';
export type * from './types.ts';
