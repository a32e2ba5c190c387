/**
 * The mempool contract, as the rest of the node uses it: RPC and gossip admit transactions; the
 * proposer reaps block contents by fair selection across rollup lanes; commits remove transactions;
 * every transaction hash has a status. Consensus depends only on `reap` and `update`.
 */
import type { AdmitResult, Namespace, TxEnvelope, TxSource } from '../types.ts';

export type { AdmitResult, RejectCode, TxSource } from '../types.ts';

export type DropReason = 'expired' | 'evicted' | 'invalid' | 'replaced';

export type TxStatus =
  | { status: 'pending' }
  | { status: 'committed'; height: number; index: number }
  | { status: 'dropped'; reason: DropReason; message?: string }
  | { status: 'unknown' };

export interface ReapLimits {
  maxBytes: number;
  maxTxs: number;
  /**
   * Per-lane budgets of the block (ADR 0285: the EVM rollups' gas left after the bundles), with what one
   * transaction costs against them. A lane without an entry has no budget of its own.
   */
  budgets?: {
    left: ReadonlyMap<number, number>;
    costOf(tx: TxEnvelope): number;
  };
}

export interface Mempool {
  add(tx: TxEnvelope, source: TxSource): AdmitResult;
  /** Fair selection for the next block; does not remove (transactions leave on `update`). Sorted by namespace. */
  reap(limits: ReapLimits): TxEnvelope[];
  /** A block committed: remove its transactions and record their status. */
  update(height: number, committed: TxEnvelope[]): void;
  status(hash: Uint8Array): TxStatus;
  /**
   * Pending count and bytes, per lane and total; `backlogLimit` is the pending count above which RPC
   * admissions are refused (admission control, `maxBacklogSeconds`), absent when that is off.
   */
  stats(): {
    txs: number;
    bytes: number;
    backlogLimit?: number;
    lanes: { namespace: Namespace; txs: number; bytes: number }[];
  };
}

// ---------------------------------------------------------------- extensions (issue 5)

/**
 * What the executor tells the mempool about a transaction of an executed lane (`transfer`, `evm`):
 * its sender and nonce, or why it is invalid. `undefined` = no nonce handling for this transaction.
 */
export type TxClassification = { sender: string; nonce: bigint } | { error: string } | undefined;
export type Classifier = (tx: TxEnvelope) => TxClassification;

/** Called whenever a transaction enters the pool (gossip batching listens to this). */
export type AdmitListener = (tx: TxEnvelope, source: TxSource, hash: Uint8Array) => void;

/** The full mempool surface the node wires: the consensus-facing contract plus RPC, gossip and sync needs. */
export interface LaneMempool extends Mempool {
  /** Re-admit the transactions of a proposal that did not commit (ones we already hold are left alone). */
  reinject(txs: TxEnvelope[]): AdmitResult[];
  /** A pending transaction by hash (gossip sync serves these). */
  get(hash: Uint8Array): TxEnvelope | undefined;
  has(hash: Uint8Array): boolean;
  /** Hashes of every pending transaction, oldest first. */
  pendingHashes(): Uint8Array[];
  /** Remove a pending transaction found invalid later (e.g. by the executor); status `dropped: invalid`. */
  invalidate(hash: Uint8Array, message: string): boolean;
  /**
   * The next nonce `sender` can use in an executed lane: the end of its contiguous run of pending
   * transactions, else its committed next nonce (Ethereum's `pending` transaction count). Undefined for
   * lanes without nonce handling.
   */
  nextNonce(namespace: Namespace, sender: string): bigint | undefined;
  /** Apply time-to-live expiry now (also done lazily by every other call). */
  prune(): void;
  onAdmit(listener: AdmitListener): void;
}
