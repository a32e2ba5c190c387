/**
 * Domain types shared by every component. These are plain TypeScript objects, separate from the wire
 * types in proto/: the codec (src/codec) converts and validates at the boundary, so nothing inside a
 * component ever sees an unchecked wire message.
 */

/** Rollup namespace id (uint32, > 0) from the genesis registry. */
export type Namespace = number;

export interface TxEnvelope {
  namespace: Namespace;
  payload: Uint8Array;
}

export interface Bundle {
  txs: TxEnvelope[];
  minHeight: number;
  maxHeight: number;
  signer: Uint8Array;
  signature: Uint8Array;
}

export interface BlockHeader {
  chainId: string;
  height: number;
  round: number;
  timeMs: number;
  parentHash: Uint8Array;
  dataHash: Uint8Array;
  proposer: Uint8Array;
  txCount: number;
  lastCommitHash: Uint8Array;
  resultsHash: Uint8Array;
  auctionHash: Uint8Array;
}

export interface BundleSpan {
  bundleHash: Uint8Array;
  namespace: Namespace;
  start: number;
  count: number;
}

export interface Block {
  header: BlockHeader;
  /** Sorted by namespace ascending; within a namespace in sequence order. */
  txs: TxEnvelope[];
  bundles: BundleSpan[];
}

export interface CommitSig {
  validatorIndex: number;
  signature: Uint8Array;
}

export interface CommitCertificate {
  height: number;
  round: number;
  blockHash: Uint8Array;
  sigs: CommitSig[];
}

export interface CertifiedBlock {
  block: Block;
  certificate: CommitCertificate;
}

export type VoteType = 'prevote' | 'precommit';

export interface Vote {
  type: VoteType;
  height: number;
  round: number;
  /** null = nil vote */
  blockHash: Uint8Array | null;
  validatorIndex: number;
  signature: Uint8Array;
}

export interface Proposal {
  height: number;
  round: number;
  /** -1 when none */
  polRound: number;
  block: Block;
  proposerIndex: number;
  signature: Uint8Array;
}

export type ConsensusMessage = { kind: 'proposal'; proposal: Proposal } | { kind: 'vote'; vote: Vote };

/** A proposal whose block lists transaction ids instead of transactions (gossip only). */
export interface CompactProposal {
  height: number;
  round: number;
  polRound: number;
  header: BlockHeader;
  /** txHash of each transaction, in block order. */
  txHashes: Uint8Array[];
  bundles: BundleSpan[];
  proposerIndex: number;
  signature: Uint8Array;
}

export interface DuplicateVoteEvidence {
  voteA: Vote;
  voteB: Vote;
}

export interface BidCommit {
  slot: number;
  bidder: Uint8Array;
  commitment: Uint8Array;
  signature: Uint8Array;
}

export interface BidReveal {
  slot: number;
  bidder: Uint8Array;
  amount: number;
  bundle: Bundle;
  salt: Uint8Array;
  signature: Uint8Array;
}

export interface SyncStatus {
  chainId: string;
  height: number;
  headHash: Uint8Array;
  baseHeight: number;
}

export type SyncRequest =
  | { kind: 'status' }
  | { kind: 'blocks'; fromHeight: number; toHeight: number }
  | { kind: 'txs'; hashes: Uint8Array[] };

export type SyncResponse =
  | { kind: 'status'; status: SyncStatus }
  | { kind: 'blocks'; blocks: CertifiedBlock[] }
  | { kind: 'txs'; txs: TxEnvelope[] }
  | { kind: 'error'; message: string };

/** A validator in the genesis set. */
export interface Validator {
  publicKey: Uint8Array;
  votingPower: number;
}

/** The validators of a height and their total voting power (genesis builds it, consensus uses it). */
export interface ValidatorSet {
  validators: Validator[];
  totalPower: number;
}

export type RollupKind = 'opaque' | 'transfer' | 'evm';

// ---------------------------------------------------------------- admission (mempool, p2p, adapter)

/** Where a transaction came from when it was offered to the mempool. */
export type TxSource = 'rpc' | 'gossip' | 'reinject';

/** Why the mempool refused a transaction; every code is produced by src/mempool. */
export const REJECT_CODES = [
  'UNKNOWN_NAMESPACE',
  'TX_TOO_LARGE',
  'DUPLICATE',
  'ALREADY_COMMITTED',
  'MEMPOOL_FULL',
  'LANE_FULL',
  'INVALID_TX',
  'NONCE_TOO_LOW',
  'NONCE_GAP_TOO_LARGE',
  'OVERLOADED',
] as const;
export type RejectCode = (typeof REJECT_CODES)[number];

/** The answer to one admission: the transaction hash, or a typed refusal. */
export type AdmitResult =
  | { ok: true; hash: Uint8Array }
  | { ok: false; code: RejectCode; message: string; retryable: boolean };
