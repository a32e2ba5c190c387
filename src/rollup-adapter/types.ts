/**
 * Domain types of the rollup adapter: the per-rollup slice of one block (`NamespaceBlock`) as the
 * in-process adapter yields it and the gRPC layer converts it, and the stream limits.
 */
import type { NamespaceProof } from '../crypto/index.ts';
import type { BlockHeader, BundleSpan, CommitCertificate, Namespace } from '../types.ts';

export interface ExecutionResult {
  /** Encoded receipts, in transaction order. */
  receipts: Uint8Array[];
  stateRoot: Uint8Array;
}

/**
 * One rollup's execution results of an earlier height (block height - RESULTS_LAG), with the proof
 * that the block's header (results_hash) commits to them: "certified" results.
 */
export interface CertifiedResults {
  height: number;
  stateRoot: Uint8Array;
  receiptsRoot: Uint8Array;
  /** Leaves of the results tree (executed rollups) and its root; results_hash is computed from them. */
  resultCount: number;
  resultsRoot: Uint8Array;
  proof: NamespaceProof;
}

/**
 * The rollup's part of the height's auction outcome (kind 1 auction_hash): header.auctionHash =
 * sha256("ordo/auction/v1" || u64 height || u8 1 || u32 count || outcomeRoot), and `proof` shows this
 * namespace's leaf under outcomeRoot (sha256("ordo/auction-leaf/v1" || outcome)), or its absence when
 * `outcome` is empty (the rollup's top was not sold).
 */
export interface AuctionPart {
  count: number;
  outcomeRoot: Uint8Array;
  /** encodeRollupOutcome of this rollup's outcome (docs/wire.md "Auction"); empty when not sold. */
  outcome: Uint8Array;
  proof: NamespaceProof;
}

export interface NamespaceBlock {
  namespace: Namespace;
  height: number;
  blockHash: Uint8Array;
  timeMs: number;
  header: BlockHeader;
  /** Canonical encoding of `header`; blockHash = sha256(headerBytes). */
  headerBytes: Uint8Array;
  /** This rollup's payloads, in block order. */
  transactions: Uint8Array[];
  /** Bundle boundaries, indexed within `transactions`. */
  bundles: BundleSpan[];
  certificate: CommitCertificate;
  /** Proof of `transactions` against `txsRoot`. */
  proof: NamespaceProof;
  execution?: ExecutionResult;
  /** header.dataHash = sha256("ordo/data/v1" || txsRoot || u32 spanCount || spansRoot). */
  txsRoot: Uint8Array;
  spanCount: number;
  spansRoot: Uint8Array;
  /** Proof of `bundles` against `spansRoot`. */
  spansProof: NamespaceProof;
  /** Executed rollups from height RESULTS_LAG + 1 on: results of height - RESULTS_LAG. */
  certifiedResults?: CertifiedResults;
  /** Heights whose auction ran and whose outcome this node holds: the rollup's part, provable. */
  auction?: AuctionPart;
}

export interface StreamLimits {
  /** How far ahead of the head `fromHeight` may be; the stream waits up to there. Default 1024. */
  maxFutureBlocks: number;
  /** gRPC: messages written but not yet taken by the transport before the server waits. Default 8. */
  maxInFlightMessages: number;
  /** gRPC: bytes written but not yet taken by the transport before the server waits. Default 8 MiB. */
  maxInFlightBytes: number;
  /** gRPC: how long the server waits for a stalled consumer before ending the stream. Default 30 s. */
  stallTimeoutMs: number;
  /**
   * Executed rollups: how long a stream waits for a committed height to be executed (results and
   * pre-confirmations) before it ends with UNAVAILABLE and the height to resume from. Default 30 s.
   */
  execWaitMs: number;
  /** gRPC: concurrent StreamBlocks calls per server. Default 256. */
  maxStreams: number;
  /** gRPC: concurrent StreamBlocks calls per client (remote IP address). Default 32. */
  maxStreamsPerClient: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxFutureBlocks: 1024,
  maxInFlightMessages: 8,
  maxInFlightBytes: 8 * 1024 * 1024,
  stallTimeoutMs: 30_000,
  execWaitMs: 30_000,
  maxStreams: 256,
  maxStreamsPerClient: 32,
};

export interface CommitmentState {
  chainId: string;
  soft: { height: number; blockHash: Uint8Array; timeMs: number };
  /** Reserved for data-availability posting: height 0 until then. */
  firm: { height: number; blockHash: Uint8Array; timeMs: number };
}
