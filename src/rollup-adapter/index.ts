/**
 * The rollup adapter: how rollups read their certified, provably complete slice of each Ordo block and
 * submit transactions. Three faces with one semantics: the gRPC service (`startAdapterServer`), the
 * in-process adapter for rollups embedded in a node (`createInProcessAdapter`), and the client SDK
 * (`OrdoRollupClient`). The node wires it by implementing `AdapterSource`. See docs/adapter.md.
 */

export { AuctionCache, auctionPartFor } from './auction.ts';
export {
  AdapterError,
  type AdapterErrorCode,
  VerificationError,
  type VerificationErrorCode,
} from './errors.ts';
export {
  commitmentStateOf,
  createInProcessAdapter,
  type RollupAdapterApi,
  type SubmitResult,
  submitToSource,
} from './in-process.ts';
export { certifiedResultsFor, ResultsCache } from './results.ts';
export { OrdoRollupClient, type OrdoRollupClientOptions, type VerifiedBlock } from './sdk/client.ts';
export {
  type AdapterServer,
  type AdapterServerOptions,
  startAdapterServer,
  toServiceError,
} from './server.ts';
export { SliceCache, sliceBlock } from './slice.ts';
export type { AdapterSource, SubmitOrigin } from './source.ts';
export { checkStreamRequest, namespaceBlockStream, type StreamRequest } from './stream.ts';
export { MemorySource, type MemorySourceOptions } from './testing/memory-source.ts';
export {
  type AuctionPart,
  type CertifiedResults,
  type CommitmentState,
  DEFAULT_STREAM_LIMITS,
  type ExecutionResult,
  type NamespaceBlock,
  type StreamLimits,
} from './types.ts';
export {
  decodeHeaderBytes,
  receiptsRootOf,
  type VerifyContext,
  verifyAuctionPart,
  verifyCertifiedResults,
  verifyCommitCertificate,
  verifyNamespaceBlock,
} from './verify.ts';
