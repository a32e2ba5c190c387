/**
 * The consensus engine's contract with the node. The engine is one serialized state machine driven by
 * network messages and timeouts; it depends on the `Network` interface (never on libp2p), on the block
 * store, and on a `BlockSource` (the mempool and auction behind it) for contents.
 */
import type { Block, BundleSpan, CommitCertificate, DuplicateVoteEvidence, TxEnvelope } from '../types.ts';

export type { ValidatorSet } from '../types.ts';

/** A verdict on a proposed block's contents: accepted, or rejected with a typed code. */
export type ProposalVerdict<C extends string = string> =
  | { ok: true }
  | {
      ok: false;
      code: C;
      message: string;
      /**
       * This node could not check the block yet (what it depends on is not in: e.g. its executor's
       * results): not a verdict on the block. The core asks again when the block comes up in a later
       * round instead of refusing it for the whole height.
       */
      notYet?: true;
    };

/** A block body with every header commitment, as the builder returns it for a new proposal. */
export interface BuiltBlock {
  /** Sorted by namespace; within a namespace in sequence order. */
  txs: TxEnvelope[];
  /** Sorted by (namespace, start); `start` indexes the namespace's slice. */
  bundles: BundleSpan[];
  /** Covers txs and bundles (src/codec/commitments.ts); the core checks it against its own hash. */
  dataHash: Uint8Array;
  resultsHash: Uint8Array;
  auctionHash: Uint8Array;
}

/**
 * How long the engine lets one `build` or `verify` wait for what a block depends on (the builder: the
 * executor's results of height h - 2) before it gives up. A source may wait less, never more (ADR 0291).
 */
export interface SourceBudget {
  waitMs: number;
}

/**
 * What the proposer fills a block with (PrepareProposal) and how validators check a proposal's
 * contents and commitments before voting for it (ProcessProposal). Both are asynchronous: the engine
 * awaits them off its serialized loop and feeds the answers back to the core as inputs.
 */
export interface BlockSource {
  /**
   * Body and commitments of a new block at `height`. Rejects (typed error) when none can be built yet.
   * `budget.waitMs`: how long the engine lets it wait for what the block depends on (ADR 0291).
   */
  build(height: number, maxBytes: number, maxTxs: number, budget?: SourceBudget): Promise<BuiltBlock>;
  /** Re-derive and check everything in a proposed block. Never rejects: a bad block is a verdict. */
  verify(block: Block, budget?: SourceBudget): Promise<ProposalVerdict>;
  /**
   * Optional: whether what any block at `height` depends on is available on this node (the builder:
   * its executor's results of h - 2). `true` at once when it is; otherwise a promise that settles
   * `true` when it becomes available or `false` after `waitMs`. With it, a validator that could not
   * check any proposal yet defers its propose timeout, bounded (ADR 0292).
   */
  whenReady?(height: number, waitMs: number): true | Promise<boolean>;
  /**
   * Optional: how many transactions are waiting. Lets an idle proposer wait for the first transaction
   * cheaply instead of re-building contents; absent, the engine polls `build`.
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

/**
 * Fail-stop state: `ok: false` once the engine halted (the core broke an invariant, or storage failed)
 * and signs nothing more; `code` says which (engine.ts `HaltCode`), `sinceMs` when (engine clock).
 */
export type ConsensusHealth = { ok: true } | { ok: false; code: string; reason: string; sinceMs: number };

export interface ConsensusEngine {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): ConsensusStatus;
  /**
   * Not ok while consensus cannot sign: halted for good (fail-stop: a broken invariant), or a storage
   * write fault being retried (it clears by itself once writes succeed again).
   */
  health(): { ok: true } | { ok: false; code: string; reason: string; sinceMs: number };
  onCommit(listener: CommitListener): void;
  evidence(): Promise<DuplicateVoteEvidence[]>;
}
