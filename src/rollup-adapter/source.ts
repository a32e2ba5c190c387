/**
 * What the adapter reads from: the node's committed blocks with their certificates, execution results,
 * commit notifications, submission (the node's ingress) and transaction status. The node implements it
 * from its BlockStore, executor, ingress and mempool; `testing/memory-source.ts` implements it in memory with real blocks and
 * certificates. The adapter never buffers blocks itself: it reads each height from here when the
 * consumer is ready for it, so a commit notification only has to carry the new head height.
 */
import type { RollupAuctionOutcome } from '../codec/index.ts';
import type { RollupConfig } from '../config/index.ts';
import type { BundleSubmitResult, IngressResult } from '../ingress/index.ts';
import type { BundleStatus, TxStatus } from '../mempool/index.ts';
import type { Bundle, CertifiedBlock, Namespace, TxEnvelope, Validator } from '../types.ts';
import type { ExecutionResult } from './types.ts';

/** The adapter's faces, as ingress origins. */
export type SubmitOrigin = 'grpc' | 'in_process';

export interface AdapterSource {
  readonly chainId: string;
  readonly validators: Validator[];
  readonly rollups: RollupConfig[];
  /** Latest committed height (0 before the first block). */
  height(): number;
  /** Lowest height still stored (1 unless pruned). */
  baseHeight?(): number;
  getCertifiedBlock(height: number): Promise<CertifiedBlock | undefined>;
  /** Receipts and state root of an executed rollup at `height`, when computed. */
  getExecResults?(height: number, namespace: Namespace): Promise<ExecutionResult | undefined>;
  /**
   * Highest height whose execution is complete — results persisted and bundles pre-confirmed (issue #22
   * rule 6). When present, streams of executed rollups hand out a height only once it is executed,
   * waiting (bounded by `StreamLimits.execWaitMs`) for it; the node implements it.
   */
  executedHeight?(): number;
  /** Called after each executed height (with `executedHeight`). Returns an unsubscribe function. */
  onExecuted?(listener: (height: number) => void): () => void;
  /**
   * The auction outcome of `height` (one record per sold rollup, sorted by namespace), when the auction
   * ran and this node still holds it; undefined otherwise (issue #23).
   */
  getAuctionOutcome?(height: number): Promise<readonly RollupAuctionOutcome[] | undefined>;
  /** Called after each block is durably stored, with its height. Returns an unsubscribe function. */
  onCommit(listener: (height: number) => void): () => void;
  /**
   * Submit one transaction through the node's ingress (check, admit, gossip): the same door as JSON-RPC,
   * with `origin` telling which adapter face it came through. Refusals carry the ingress's error codes.
   */
  submit(tx: TxEnvelope, origin: SubmitOrigin): IngressResult | Promise<IngressResult>;
  status(hash: Uint8Array): TxStatus | Promise<TxStatus>;
  /** Submit a bundle through the node's ingress (as `ordo_sendBundle`); absent: SubmitBundle is UNIMPLEMENTED. */
  submitBundle?(bundle: Bundle, origin: SubmitOrigin): BundleSubmitResult;
  /** A bundle's status (as `ordo_getBundleStatus`); undefined when unknown. */
  bundleStatus?(bundleHash: Uint8Array): BundleStatus | undefined;
  /** Largest transaction payload any rollup accepts (bundle legs are checked against it before copying). */
  maxTxBytes?: number;
}
