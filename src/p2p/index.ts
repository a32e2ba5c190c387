/**
 * Public surface of the p2p component: the `Network` contract, the libp2p and in-memory
 * implementations, batched transaction gossip, bundle gossip, the verdict mapping and the config defaults. Other
 * components import from here (or from network.ts for types) and never from libp2p.
 */

export {
  BundleGossip,
  type BundleGossipOptions,
  type GossipBundleCancel,
  MAX_BUNDLE_GOSSIP_BYTES,
} from './bundle-gossip.ts';
export {
  DEFAULT_LIMITS,
  DEFAULT_SCORING,
  P2pConfigError,
  type P2pConfigInput,
  type P2pLimits,
  resolveLimits,
  resolveScoring,
  type ScoringConfig,
} from './config.ts';
export { loadOrCreateIdentity } from './libp2p/identity.ts';
export { createLibp2pNetwork, type Libp2pNetworkOptions, protocolName, topicName } from './libp2p/network.ts';
export { createMemoryNetworkHub, type MemoryHubOptions, type MemoryNetworkHub } from './memory/network.ts';
export { createP2pMetrics, type P2pMetrics } from './metrics.ts';
export type * from './network.ts';
export { AppScoreBook } from './scoring.ts';
export { type AdmitFn, TxGossip, type TxGossipOptions } from './tx-gossip.ts';
export { isSenderFault, verdictForBatch, verdictForCode, verdictForError } from './verdict.ts';
