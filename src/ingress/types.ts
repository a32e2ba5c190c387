/**
 * The ingress contract: what every entry point (JSON-RPC, gRPC adapter, in-process adapter) hands in,
 * the one set of error codes it can get back, and the result shape. Entry points translate the result
 * into their own wire format (a JSON-RPC error, a `SubmitResult`); they never invent codes of their own.
 */
import type { BundleAdmitResult, BundleCancel, BundleCancelResult, RejectCode } from '../mempool/index.ts';
import type { Bundle, TxEnvelope } from '../types.ts';

/**
 * Which door a submission came through (the `origin` label of the ingress metrics); `binary` is the
 * protobuf batch route `POST /ordo/v1/tx-batch`.
 */
export type IngressOrigin = 'jsonrpc' | 'grpc' | 'in_process' | 'eth_rpc' | 'binary';

/** Every origin, for pre-creating metric series and for tests. */
export const INGRESS_ORIGINS: readonly IngressOrigin[] = [
  'jsonrpc',
  'grpc',
  'in_process',
  'eth_rpc',
  'binary',
];

/**
 * Why a submission was refused. The first three are the ingress's own checks; the rest come from
 * mempool admission (`RejectCode`) and keep its meaning; `SHUTTING_DOWN` is answered while the node stops.
 */
export type IngressErrorCode =
  | 'INVALID_NAMESPACE'
  | 'EMPTY_TX'
  | 'SHUTTING_DOWN'
  | 'UNKNOWN_NAMESPACE'
  | 'TX_TOO_LARGE'
  | 'DUPLICATE'
  | 'ALREADY_COMMITTED'
  | 'MEMPOOL_FULL'
  | 'LANE_FULL'
  | 'INVALID_TX'
  | 'NONCE_TOO_LOW'
  | 'NONCE_GAP_TOO_LARGE'
  | 'OVERLOADED';

// Compile-time check: every mempool refusal is an ingress code (a new mempool code must be added above).
type Assert<T extends true> = T;
export type _MempoolCodesCovered = Assert<RejectCode extends IngressErrorCode ? true : false>;

/** The answer to one submission. `hash` is absent only when the input could not be hashed meaningfully. */
export type IngressResult =
  | { ok: true; hash: Uint8Array }
  | {
      ok: false;
      code: IngressErrorCode;
      message: string;
      /** The same submission may succeed later (or on another node). */
      retryable: boolean;
      hash?: Uint8Array;
    };

/** The one door in. */
export interface Ingress {
  /**
   * Check, admit to the mempool and hand to transaction gossip. Never throws for bad input: the result
   * says why it was refused. Synchronous (admission is), so an entry point answers without a tick.
   */
  submitTransaction(tx: TxEnvelope, origin: IngressOrigin): IngressResult;
  /**
   * Admit a decoded bundle to the bundle pool and hand it to bundle gossip (docs/bundles.md). Never
   * throws for bad input. Refused with `BUNDLE_POOL_FULL`-style codes from the pool, or
   * `BUNDLES_DISABLED` when this node has no bundle pool, or `SHUTTING_DOWN`.
   */
  submitBundle(bundle: Bundle, origin: IngressOrigin): BundleSubmitResult;
  /** Cancel a signer's pending bundles by replacement UUID (and gossip the cancel). */
  cancelBundle(req: BundleCancel, origin: IngressOrigin): BundleCancelSubmitResult;
  /**
   * The largest transaction payload any rollup accepts, capped by the protocol limit: entry points that
   * receive encoded input (hex, protobuf) compare against it before decoding.
   */
  readonly maxTxBytes: number;
  start(): void;
  /** After stop every submission is refused with `SHUTTING_DOWN` (retryable: try another node). */
  stop(): void;
}

/** Refusals the ingress itself adds to the bundle pool's codes. */
export type IngressBundleCode = 'SHUTTING_DOWN' | 'BUNDLES_DISABLED';

export type BundleSubmitResult =
  | BundleAdmitResult
  | { ok: false; code: IngressBundleCode; message: string; retryable: boolean; bundleHash?: Uint8Array };

export type BundleCancelSubmitResult =
  | BundleCancelResult
  | { ok: false; code: IngressBundleCode; message: string; retryable: boolean };
