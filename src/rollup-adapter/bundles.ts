/**
 * The adapter's bundle entry points (issue #22, docs/adapter.md "Bundles"): `SubmitBundle` and
 * `GetBundleStatus`, with the meaning of JSON-RPC `ordo_sendBundle` / `ordo_getBundleStatus`. The wire
 * request becomes the canonical domain `Bundle` (default atomicity from the genesis rollup kinds, as the
 * JSON-RPC does), sizes checked before anything is copied; it goes through the node's one ingress. A
 * refusal becomes `AdapterBundleError`: a gRPC status chosen per pool code, with trailers
 * `ordo-error-code` and `ordo-retryable`.
 */
import * as grpc from '@grpc/grpc-js';
import { canonicalBundle } from '../codec/index.ts';
import type { RollupConfig } from '../config/index.ts';
import { OrdoError } from '../errors.ts';
import type { BundleStatus } from '../mempool/index.ts';
import type { Bundle, BundleAtomicity, BundleLeg } from '../types.ts';
import type { Wire } from './wire.ts';

/** Protocol limits of a bundle (docs/bundles.md): 16 legs, 100 transactions, 300,000 bytes. */
const LIMITS = { maxLegs: 16, maxTxs: 100, maxBytes: 300_000 } as const;

/** gRPC status per refusal code of the ingress / bundle pool (unknown codes: FAILED_PRECONDITION). */
const STATUS_OF_CODE: Record<string, grpc.status> = {
  BUNDLE_MALFORMED: grpc.status.INVALID_ARGUMENT,
  UNKNOWN_NAMESPACE: grpc.status.INVALID_ARGUMENT,
  INVALID_NAMESPACE: grpc.status.INVALID_ARGUMENT,
  BUNDLE_TOO_LARGE: grpc.status.INVALID_ARGUMENT,
  INVALID_TX: grpc.status.INVALID_ARGUMENT,
  REVERTING_HASH_UNKNOWN: grpc.status.INVALID_ARGUMENT,
  ATOMICITY_UNSUPPORTED: grpc.status.INVALID_ARGUMENT,
  BAD_SIGNATURE: grpc.status.INVALID_ARGUMENT,
  BUNDLE_POOL_FULL: grpc.status.RESOURCE_EXHAUSTED,
  OVERLOADED: grpc.status.UNAVAILABLE,
  SHUTTING_DOWN: grpc.status.UNAVAILABLE,
  DUPLICATE: grpc.status.ALREADY_EXISTS,
  REPLACEMENT_FORBIDDEN: grpc.status.PERMISSION_DENIED,
  WINDOW_PASSED: grpc.status.FAILED_PRECONDITION,
  TX_ALREADY_COMMITTED: grpc.status.FAILED_PRECONDITION,
  ALREADY_COMMITTED: grpc.status.FAILED_PRECONDITION,
  BUNDLES_DISABLED: grpc.status.UNIMPLEMENTED,
  BUNDLE_UNKNOWN: grpc.status.NOT_FOUND,
};

/** A bundle refused (or not found): the pool's code, whether a retry may succeed, and its gRPC status. */
export class AdapterBundleError extends OrdoError<string> {
  readonly retryable: boolean;
  constructor(code: string, message: string, retryable = false) {
    super(code, message, { retryable });
    this.name = 'AdapterBundleError';
    this.retryable = retryable;
  }

  get grpcStatus(): grpc.status {
    return STATUS_OF_CODE[this.code] ?? grpc.status.FAILED_PRECONDITION;
  }
}

const bad = (message: string, code = 'BUNDLE_MALFORMED'): AdapterBundleError =>
  new AdapterBundleError(code, message);

function bytesField(v: unknown, field: string, sizes: readonly number[]): Uint8Array {
  if (v === undefined || v === null) return new Uint8Array(0);
  if (!(v instanceof Uint8Array)) throw bad(`${field} must be bytes`);
  if (!sizes.includes(v.byteLength))
    throw bad(`${field} must be ${sizes.filter((s) => s > 0).join(' or ')} bytes, got ${v.byteLength}`);
  return new Uint8Array(v);
}

function heightField(v: unknown, field: string): number {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : 0;
  if (!Number.isSafeInteger(n) || n < 0) throw bad(`${field} must be a non-negative safe integer`);
  return n;
}

/**
 * SubmitBundleRequest (as proto-loader decodes it: camelCase, bytes as Buffers, enums as names, uint64
 * as strings) → the canonical domain Bundle. Throws AdapterBundleError (INVALID_ARGUMENT) naming the field
 * by its proto name (what a client generated from proto/ calls it).
 */
export function bundleFromWire(req: Wire, rollups: readonly RollupConfig[], maxTxBytes: number): Bundle {
  const legsIn = req?.legs;
  if (!Array.isArray(legsIn) || legsIn.length === 0) throw bad('legs must hold at least one leg');
  if (legsIn.length > LIMITS.maxLegs)
    throw bad(`legs has ${legsIn.length} entries; the limit is ${LIMITS.maxLegs}`, 'BUNDLE_TOO_LARGE');
  let txCount = 0;
  let bytes = 0;
  const seen = new Set<number>();
  const legs: BundleLeg[] = legsIn.map((l: Wire, i: number) => {
    const f = `legs[${i}]`;
    const ns = Number(l?.namespace ?? 0);
    if (!Number.isInteger(ns) || ns < 1 || ns > 0xffffffff)
      throw bad(`${f}.namespace must be an integer in 1..4294967295`);
    if (seen.has(ns)) throw bad(`${f}.namespace ${ns} appears in two legs`);
    seen.add(ns);
    const txsIn = l?.txs;
    if (!Array.isArray(txsIn) || txsIn.length === 0) throw bad(`${f}.txs must hold at least one transaction`);
    txCount += txsIn.length;
    if (txCount > LIMITS.maxTxs)
      throw bad(`bundle has more than ${LIMITS.maxTxs} transactions`, 'BUNDLE_TOO_LARGE');
    const txs = txsIn.map((t: unknown, j: number) => {
      if (!(t instanceof Uint8Array) || t.byteLength === 0)
        throw bad(`${f}.txs[${j}] must be non-empty bytes`);
      if (t.byteLength > maxTxBytes)
        throw bad(`${f}.txs[${j}] is ${t.byteLength} bytes; the limit is ${maxTxBytes}`, 'BUNDLE_TOO_LARGE');
      bytes += t.byteLength;
      if (bytes > LIMITS.maxBytes) throw bad(`bundle is over ${LIMITS.maxBytes} bytes`, 'BUNDLE_TOO_LARGE');
      return new Uint8Array(t);
    });
    const revIn = l?.revertingTxHashes ?? [];
    if (!Array.isArray(revIn) || revIn.length > txs.length)
      throw bad(`${f}.reverting_tx_hashes must hold at most ${txs.length} hashes`);
    const revertingTxHashes = revIn.map((h: unknown, j: number) =>
      bytesField(h, `${f}.reverting_tx_hashes[${j}]`, [32]),
    );
    return { namespace: ns, txs, revertingTxHashes };
  });
  let atomicity: BundleAtomicity;
  const a = req?.atomicity ?? 'BUNDLE_ATOMICITY_DEFAULT';
  if (a === 'BUNDLE_ATOMICITY_EXECUTION' || a === 1) atomicity = 'execution';
  else if (a === 'BUNDLE_ATOMICITY_INCLUSION' || a === 2) atomicity = 'inclusion';
  else if (a === 'BUNDLE_ATOMICITY_DEFAULT' || a === 0) {
    const kinds = legs.map((l) => rollups.find((r) => r.namespace === l.namespace)?.kind);
    // An unknown namespace is left to the pool, whose UNKNOWN_NAMESPACE refusal names it.
    atomicity = kinds.every((k) => k === 'transfer' || k === 'evm') ? 'execution' : 'inclusion';
  } else throw bad('atomicity must be DEFAULT, EXECUTION or INCLUSION');
  const replacementUuid = bytesField(req?.replacementUuid, 'replacement_uuid', [0, 16]);
  const signer = bytesField(req?.signer, 'signer', [0, 32]);
  const signature = bytesField(req?.signature, 'signature', [0, 64]);
  if ((signer.length === 0) !== (signature.length === 0))
    throw bad('signer and signature must be given together');
  if (replacementUuid.length > 0 && signer.length === 0)
    throw bad('replacement_uuid needs a signed bundle (signer and signature)');
  return canonicalBundle({
    legs,
    atomicity,
    minHeight: heightField(req?.minHeight, 'min_height'),
    maxHeight: heightField(req?.maxHeight, 'max_height'),
    replacementUuid,
    signer,
    signature,
  });
}

const STATUS_KIND = {
  pending: 'BUNDLE_STATUS_PENDING',
  committed: 'BUNDLE_STATUS_COMMITTED',
  dropped: 'BUNDLE_STATUS_DROPPED',
} as const;
const OUTCOME = { applied: 'BUNDLE_OUTCOME_APPLIED', reverted: 'BUNDLE_OUTCOME_REVERTED' } as const;

/** A BundleStatus as GetBundleStatusResponse. */
export function bundleStatusToWire(s: BundleStatus): Wire {
  const out: Wire = { status: STATUS_KIND[s.status], certified: s.certified === true };
  if (s.reason !== undefined) out.reason = s.reason;
  if (s.detail !== undefined) out.detail = s.detail;
  if (s.height !== undefined) out.height = String(s.height);
  if (s.spans !== undefined)
    out.spans = s.spans.map((sp) => ({
      bundleHash: sp.bundleHash,
      namespace: sp.namespace,
      start: sp.start,
      count: sp.count,
      atomicity: sp.atomicity,
      reverting: [...sp.reverting],
    }));
  if (s.execution !== undefined) {
    out.outcome = OUTCOME[s.execution.outcome];
    out.legs = s.execution.legs.map((l) => ({
      namespace: l.namespace,
      receipts: l.receipts.map((r) => ({
        index: r.index,
        status: r.status,
        gasUsed: r.gasUsed.toString(),
        error: r.error ?? '',
      })),
    }));
  }
  const p = s.preconfirmation;
  if (p !== undefined)
    out.preconfirmation = {
      height: String(p.height),
      blockHash: p.blockHash,
      outcome: OUTCOME[p.outcome],
      legs: p.legs.map((l) => ({
        namespace: l.namespace,
        stateRoot: l.stateRoot,
        receiptsRoot: l.receiptsRoot,
      })),
      signer: p.signer,
      signature: p.signature,
    };
  return out;
}
