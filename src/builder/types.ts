/**
 * The builder's seams and its typed verdicts. The builder sits between the pools (mempool, bundle pool,
 * auction) and consensus: it reads each through a narrow interface defined here, so the pools never
 * import the builder and the builder never reaches into a pool's files.
 */
import type { AuctionOutcome, ResultLeaf } from '../codec/index.ts';
import { OrdoError } from '../errors.ts';
import type { AtomicityCode, TxEnvelope } from '../types.ts';

/** Why a validator refuses a proposal's contents. Every code is produced by `verify` (builder.ts). */
export type ProposalRejectCode =
  /** A transaction names a namespace the genesis registry does not know. */
  | 'UNKNOWN_NAMESPACE'
  /** A transaction is larger than its rollup's maxTxBytes. */
  | 'TX_TOO_LARGE'
  /** An EVM rollup's transactions declare more gas than its block gas limit (ADR 0285). */
  | 'BLOCK_GAS_LIMIT_EXCEEDED'
  /** An executed rollup's payload does not decode (the payload check). */
  | 'INVALID_TX'
  /** A bundle span is not well-formed (empty, or its namespace holds no transactions). */
  | 'SPAN_MALFORMED'
  /** Spans are not sorted by (namespace, start). */
  | 'SPAN_UNSORTED'
  /** A span reaches past the end of its namespace's slice. */
  | 'SPAN_OUT_OF_SLICE'
  /** Two spans of one namespace overlap. */
  | 'SPAN_OVERLAP'
  /** One bundle has two spans in one namespace. */
  | 'SPAN_DUPLICATE'
  /** A span names a bundle this node's bundle source does not know. */
  | 'BUNDLE_UNKNOWN'
  /** A span names a bundle already included in an earlier block (a bundle split across blocks). */
  | 'BUNDLE_ALREADY_INCLUDED'
  /** A bundle is partially present: a namespace's span is missing or does not hold its transactions. */
  | 'BUNDLE_PARTIAL'
  /**
   * The order relation "bundle A's span comes before bundle B's span in some namespace" has a cycle
   * (the executor needs a topological order of bundles; docs/bundles.md).
   */
  | 'SPAN_CYCLE'
  /**
   * A span's atomicity or reverting indices differ from the bundle the lookup knows, or differ between
   * the spans of one bundle.
   */
  | 'BUNDLE_MISMATCH'
  /** A bundle's transaction appears elsewhere in the block, or in two bundles. */
  | 'BUNDLE_TX_DUPLICATE'
  /** A span asks for execution atomicity in an opaque rollup's namespace (Ordo does not execute it). */
  | 'ATOMICITY_UNSUPPORTED'
  /** A bundle is included outside its [minHeight, maxHeight] window. */
  | 'BUNDLE_OUT_OF_WINDOW'
  /** An auction-namespace transaction does not decode, is badly signed, or is outside its window. */
  | 'AUCTION_TX_INVALID'
  /** More auction-namespace transactions than the auction lane's per-block cap (`lane.maxTxsPerBlock`). */
  | 'AUCTION_LANE_FULL'
  /** header.dataHash does not cover exactly these transactions and spans. */
  | 'DATA_HASH_MISMATCH'
  /** The results to check against were not ready within the bound (this node has not executed them). */
  | 'RESULTS_NOT_READY'
  /** header.resultsHash is not the commitment to the results of height h - RESULTS_LAG. */
  | 'RESULTS_HASH_MISMATCH'
  /** header.auctionHash is not the commitment to this node's auction outcome for the height. */
  | 'AUCTION_HASH_MISMATCH'
  /** A rollup sold by the auction does not open with its winner's bundle (or a winner is missing). */
  | 'AUCTION_TOP_MISMATCH'
  /** This node could not resolve the slot's auction in time (its auction state or executor lags). */
  | 'AUCTION_NOT_READY';

export type BuilderErrorCode = 'RESULTS_NOT_READY';

export class BuilderError extends OrdoError<BuilderErrorCode> {
  constructor(code: BuilderErrorCode, message: string, data: Record<string, unknown> = {}) {
    super(code, message, data);
    this.name = 'BuilderError';
  }
}

/** The mempool as the builder sees it (structurally satisfied by the node's mempool). */
export interface MempoolView {
  /** Fair selection, sorted by namespace; does not remove. */
  reap(limits: {
    maxBytes: number;
    maxTxs: number;
    /** Per-namespace budgets (the EVM rollups' gas left, ADR 0285) and one transaction's cost. */
    budgets?: { left: ReadonlyMap<number, number>; costOf(tx: TxEnvelope): number };
  }): TxEnvelope[];
  stats(): { txs: number };
  get(hash: Uint8Array): TxEnvelope | undefined;
}

/** A bundle chosen for a block: all of its transactions go in, in order, or none do. */
export interface SelectedBundle {
  bundleHash: Uint8Array;
  /** In the bundle's order (legs by namespace); may span several namespaces (cross-rollup bundles). */
  txs: TxEnvelope[];
  /** 1 = execution, 2 = inclusion; written into every span of the bundle. */
  atomicity: AtomicityCode;
  /** Indices into `txs` of the transactions allowed to revert (from the legs' revertingTxHashes). */
  reverting: ReadonlySet<number>;
}

/** What a validator's bundle source knows of a bundle named by a span. */
export type BundleLookup =
  | {
      kind: 'known';
      txs: TxEnvelope[];
      minHeight: number;
      maxHeight: number;
      atomicity: AtomicityCode;
      /** Indices into `txs` allowed to revert. */
      reverting: ReadonlySet<number>;
    }
  | { kind: 'included'; height: number }
  | { kind: 'unknown' };

/**
 * The bundle pool's seam (filled in by the bundles issue). `select` gives the proposer whole bundles
 * that fit the budget; `lookup` lets a validator check a span against the bundle it names.
 */
export interface BundleSource {
  select(height: number, budget: { maxBytes: number; maxTxs: number }): Promise<SelectedBundle[]>;
  lookup(bundleHash: Uint8Array, height: number): BundleLookup;
  /**
   * Transactions of pending bundles a proposer could place now (not known to fail simulation): the
   * proposer's wait for transactions (heartbeat) ends when there are some, as for the mempool's.
   */
  pendingTxs?(): number;
  /**
   * A pending bundle's transaction by its Ordo tx hash (src/codec `txHash`), or undefined: bundle legs
   * are held by the bundle pool, not the mempool. With it a proposer gossips a bundled block in compact
   * form (the engine sends a proposal whole when `findTx` misses one of its transactions) and a
   * validator rebuilds it from its own pools (ADR 0275).
   */
  tx?(hash: Uint8Array): TxEnvelope | undefined;
}

/** The auction's seam: the outcome of a height and its winning bundles (top of their rollups' slices). */
export interface AuctionSource {
  outcome(height: number): Promise<{ outcome: AuctionOutcome; winners: SelectedBundle[] }>;
  /**
   * Whether an auction-namespace transaction (AUCTION_NAMESPACE) may go in the block at `height`: it
   * decodes, its signatures verify and a commit or reveal is inside its window. Undefined = yes, else why
   * not. Absent when the auction is disabled (the namespace is then unknown like any other).
   */
  checkTx?(payload: Uint8Array, height: number): string | undefined;
  /**
   * At most this many auction-namespace transactions per block (genesis `auction.lane.maxTxsPerBlock`):
   * the builder places no more, validators refuse a block with more (AUCTION_LANE_FULL). Absent: no cap.
   */
  maxTxsPerBlock?: number;
}

/**
 * Execution results of a height, one leaf per executed rollup, sorted by namespace. Waits for the
 * height to be executed, at most `timeoutMs`; rejects with BuilderError RESULTS_NOT_READY after that.
 */
export interface ResultsSource {
  results(height: number, timeoutMs: number): Promise<ResultLeaf[]>;
  /** Optional: whether `results(height)` would answer at once (the height is executed here). */
  ready?(height: number): boolean;
}
