/**
 * The consensus engine's contract with the node. The engine is one serialized state machine driven by
 * network messages and timeouts; it depends on the `Network` interface (never on libp2p), on the block
 * store, and on a `BlockSource` (the mempool and auction behind it) for contents.
 */
import type { Block, CommitCertificate, DuplicateVoteEvidence, TxEnvelope, Validator } from '../types.ts';

export interface ValidatorSet {
  validators: Validator[];
  totalPower: number;
}

/** What the proposer fills a block with, and how validators check a proposal's contents. */
export interface BlockSource {
  /** Contents for a new block at `height`; sorted by namespace. */
  buildContents(
    height: number,
    maxBytes: number,
    maxTxs: number,
  ): { txs: TxEnvelope[]; bundles: Block['bundles'] };
  /** Throws (typed error) when the contents are not acceptable (unknown namespace, invalid tx...). */
  validateContents(block: Block): void;
  /**
   * Optional: how many transactions are waiting. Lets an idle proposer wait for the first transaction
   * cheaply instead of re-building contents; absent, the engine polls `buildContents`.
   */
  pendingTxs?(): number;
  /**
   * Optional: a pending transaction by id (txHash). Lets the engine rebuild compact proposals from
   * transactions it already holds; absent, every transaction of a compact proposal is fetched.
   */
  findTx?(hash: Uint8Array): TxEnvelope | undefined;
}

export interface ConsensusStatus {
  height: number;
  round: number;
  step: string;
  lastCommitMs: number;
}

export type CommitListener = (block: Block, cert: CommitCertificate) => void | Promise<void>;

export interface ConsensusEngine {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): ConsensusStatus;
  onCommit(listener: CommitListener): void;
  evidence(): Promise<DuplicateVoteEvidence[]>;
  /** Not halted: ok, or why consensus stopped (a failed storage write, a broken invariant) and since when. */
  health(): { ok: true } | { ok: false; code: string; reason: string; sinceMs: number };
}
