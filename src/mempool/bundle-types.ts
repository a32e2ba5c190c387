/**
 * The bundle pool's contract (issue #22, docs/bundles.md): what a bundle's life looks like to the rest of
 * the node. The pool (bundle-pool.ts) admits, gossips, expires, replaces and cancels bundles and tracks
 * each one's status; the builder reads it through `BundleSource` (src/builder); the executor's outcome
 * and the node's pre-confirmation are folded into the status when a block holding the bundle executes;
 * entry points (JSON-RPC, WebSocket, gRPC, Ethereum RPC) read statuses and subscribe through
 * `BundleStatusView`. Receipts are described structurally so the pool does not depend on the executor.
 */
import type { Preconfirmation } from '../codec/index.ts';
import type { Bundle, BundleSpan } from '../types.ts';

export type BundleDropReason = 'expired' | 'cancelled' | 'replaced' | 'would-revert' | 'invalid';

/** A transaction's receipt inside an executed bundle leg (a subset of the executor's Receipt). */
export interface BundleTxReceipt {
  /** Position within the rollup's slice of the block. */
  index: number;
  /** `voided`: the bundle did not apply, so this transaction had no effect (docs/bundles.md rule 3). */
  status: 'success' | 'revert' | 'invalid' | 'voided';
  gasUsed: bigint;
  error?: string;
}

/** How a committed bundle executed (executed rollups only). */
export interface BundleExecution {
  outcome: 'applied' | 'reverted';
  legs: { namespace: number; receipts: BundleTxReceipt[] }[];
}

export interface BundleStatus {
  status: 'pending' | 'committed' | 'dropped';
  /** Set when dropped. */
  reason?: BundleDropReason;
  /** A human-readable explanation (which tx reverted, which bundle replaced it...). */
  detail?: string;
  /** The height of the block holding it, once committed. */
  height?: number;
  /** Its spans in that block, once committed. */
  spans?: BundleSpan[];
  /** Once the block is executed (bundles with an executed leg). */
  execution?: BundleExecution;
  /** This node's signed pre-confirmation, once the block is executed. */
  preconfirmation?: Preconfirmation;
  /** True once a later header's results_hash certifies the pre-confirmed results. */
  certified?: boolean;
}

/** Read access to bundle statuses, for entry points. */
export interface BundleStatusView {
  /** Undefined when this node never saw the bundle (or forgot it: statuses are kept for a bounded time). */
  status(bundleHash: Uint8Array): BundleStatus | undefined;
  /** Called on every change of the bundle's status; returns an unsubscribe function. */
  subscribe(bundleHash: Uint8Array, listener: (s: BundleStatus) => void): () => void;
}

/** The typed refusals of bundle admission and cancellation (docs/bundles.md, docs/rpc.md). */
export type BundleRejectCode =
  /** Structure: no legs, empty leg, unsorted or duplicate legs, bad field sizes. */
  | 'BUNDLE_MALFORMED'
  /** A leg names a namespace the genesis registry does not know. */
  | 'UNKNOWN_NAMESPACE'
  /** More than 100 transactions or 300,000 bytes, or a transaction above its rollup's maxTxBytes. */
  | 'BUNDLE_TOO_LARGE'
  /** A transaction fails its rollup's payload check. */
  | 'INVALID_TX'
  /** A reverting hash names no transaction of its leg. */
  | 'REVERTING_HASH_UNKNOWN'
  /** atomicity `execution` with a leg for an opaque rollup. */
  | 'ATOMICITY_UNSUPPORTED'
  /** Signature does not verify, or a replacement UUID without a signer. */
  | 'BAD_SIGNATURE'
  /** maxHeight already passed (or the window is empty). */
  | 'WINDOW_PASSED'
  /** The same bundle is already pending or committed. */
  | 'DUPLICATE'
  /** A bundle with this replacement UUID belongs to another signer. */
  | 'REPLACEMENT_FORBIDDEN'
  /** Cancel: no pending bundle with this UUID and signer. */
  | 'UNKNOWN_BUNDLE'
  /** Cancel after inclusion: the bundle is already committed. */
  | 'ALREADY_COMMITTED'
  /** A transaction of the bundle is already committed. */
  | 'TX_ALREADY_COMMITTED'
  /** Pool limits (total, bytes, per signer); retryable. */
  | 'BUNDLE_POOL_FULL';

/** A signed cancel: every pending bundle of `signer` with this replacement UUID is dropped (`cancelled`). */
export interface BundleCancel {
  /** 16 bytes. */
  replacementUuid: Uint8Array;
  /** ed25519 public key, 32 bytes. */
  signer: Uint8Array;
  /** ed25519 over bundleCancelBytes (src/codec/bundle.ts), 64 bytes. */
  signature: Uint8Array;
}

export type BundleAdmitResult =
  | {
      ok: true;
      bundleHash: Uint8Array;
      /** The bundle this one replaced (same signer and replacement UUID), if any. */
      replaced?: Uint8Array;
    }
  | { ok: false; code: BundleRejectCode; message: string; retryable: boolean; bundleHash?: Uint8Array };

export type BundleCancelResult =
  | { ok: true; cancelled: Uint8Array[] }
  | { ok: false; code: BundleRejectCode; message: string; retryable: boolean };

/** The bundle pool as the ingress sees it: admission and cancellation of client submissions. */
export interface BundleAdmission {
  admit(bundle: Bundle, source: 'rpc' | 'gossip'): BundleAdmitResult;
  cancel(req: BundleCancel): BundleCancelResult;
}

/**
 * Where the executor's side reports what happened to committed bundles (the pool's status tracker
 * implements it; the node calls it after each executed block and each certified results height).
 */
export interface BundleStatusSink {
  executed(
    bundleHash: Uint8Array,
    height: number,
    execution: BundleExecution,
    preconfirmation: Preconfirmation | undefined,
  ): void;
  /** The results of `height` are certified (a header at height + 2 committed to them). */
  certified(height: number): void;
}

/** One transaction's simulated result (`ordo_callBundle`, `eth_callBundle`). */
export interface SimulatedTx {
  /** The rollup's own tx hash (sha256 id, keccak for EVM). */
  hash: Uint8Array;
  status: 'success' | 'revert' | 'invalid';
  gasUsed: bigint;
  error?: string;
  /** EVM: return or revert data. */
  returnData?: Uint8Array;
}

export interface SimulatedBundle {
  /** Whether the bundle would apply under docs/bundles.md rule 3 (inclusion bundles: always true). */
  applies: boolean;
  /** Why not, naming the leg and transaction. */
  reason?: string;
  /** The height whose post-state the simulation ran on. */
  height: number;
  legs: {
    namespace: number;
    /** Opaque rollups are not executed: `executed: false` and no txs. */
    executed: boolean;
    txs: SimulatedTx[];
    /** State root after the leg (executed legs). */
    stateRoot?: Uint8Array;
  }[];
}

/** Simulation against the pending (latest executed) state, without submitting. */
export interface BundleSimulator {
  simulate(bundle: Bundle, opts?: { height?: number }): Promise<SimulatedBundle>;
}
