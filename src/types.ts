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

/**
 * How a bundle is atomic: `execution` — it lands in every rollup it touches and its effects apply in all
 * executed legs or in none (docs/bundles.md); `inclusion` — it lands whole or not at all, and each leg
 * executes on its own (the only choice when a leg is an opaque rollup).
 */
export type BundleAtomicity = 'execution' | 'inclusion';
/** Wire code of an atomicity: 1 = execution, 2 = inclusion (src/codec/bundle.ts converts). */
export type AtomicityCode = 1 | 2;

/** One rollup's part of a bundle: its transactions, contiguous and in this order in the rollup's slice. */
export interface BundleLeg {
  namespace: Namespace;
  /** Raw transaction payloads, as the rollup would receive them one by one. */
  txs: Uint8Array[];
  /** Hashes (the rollup's own tx hash: sha256 tx id, or keccak for EVM) of txs allowed to revert. */
  revertingTxHashes: Uint8Array[];
}

/**
 * A searcher's bundle (docs/bundles.md). Canonical form: legs sorted by namespace, one leg per namespace,
 * reverting hashes sorted bytewise; `bundleHash` (src/codec/bundle.ts) is taken over that form.
 */
export interface Bundle {
  legs: BundleLeg[];
  atomicity: BundleAtomicity;
  /** 0 = no lower bound. */
  minHeight: number;
  /** 0 = no upper bound. */
  maxHeight: number;
  /** 16 bytes (a UUID) or empty; needs a signer. */
  replacementUuid: Uint8Array;
  /** ed25519 public key (32 bytes) or empty for an unsigned bundle. */
  signer: Uint8Array;
  /** ed25519 over bundleSignBytes (64 bytes), empty when unsigned. */
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
  /**
   * The bundle's atomicity as its wire code, 1 = execution, 2 = inclusion (the same on every span of one
   * bundle); the executor reads it from here.
   */
  atomicity: AtomicityCode;
  /** Indices within this span (ascending, < count) of the transactions allowed to revert. */
  reverting: number[];
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

/** A deposit into the auction ledger, signed by the genesis deposit authority (proto Deposit). */
export interface AuctionDeposit {
  account: Uint8Array;
  amount: number;
  nonce: number;
  signature: Uint8Array;
}

/** A withdrawal request from the auction ledger, signed by the account (proto Withdraw). */
export interface AuctionWithdraw {
  account: Uint8Array;
  amount: number;
  nonce: number;
  signature: Uint8Array;
}

/**
 * The payload of a transaction in the reserved auction namespace (AUCTION_NAMESPACE, src/codec/limits.ts):
 * bids, reveals, deposits and withdrawals are ordered by consensus like any transaction (docs/auction.md).
 */
export type AuctionTx =
  | { kind: 'commit'; commit: BidCommit }
  | { kind: 'reveal'; reveal: BidReveal }
  | { kind: 'deposit'; deposit: AuctionDeposit }
  | { kind: 'withdraw'; withdraw: AuctionWithdraw };

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
