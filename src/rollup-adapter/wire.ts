/**
 * gRPC wire format of the adapter: loads proto/ordo/adapter/v1/adapter.proto with @grpc/proto-loader
 * at start (the .proto files are the only source of truth, as for the rest of the protocol) and
 * converts between the plain objects grpc-js carries and the adapter's domain types. Everything that
 * arrives from the network is shape- and size-checked here before it is used; the SDK then verifies
 * it cryptographically (verify.ts).
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { MAX_ROLLUP_OUTCOME_BYTES, PROTO_DIR } from '../codec/index.ts';
import type { NamespaceProof } from '../crypto/index.ts';
import type { TxStatus } from '../mempool/index.ts';
import type { BundleSpan, CommitCertificate } from '../types.ts';
import { VerificationError } from './errors.ts';
import type { SubmitResult } from './in-process.ts';
import type { CommitmentState, NamespaceBlock } from './types.ts';
import { decodeHeaderBytes } from './verify.ts';

/**
 * A message as grpc-js carries it (a proto-loader object: camelCase fields, bytes as Buffer, 64-bit
 * integers as strings): named fields, none checked yet. What we send is built from domain types; what
 * we receive is read through the shapes below and checked field by field.
 */
export interface Wire {
  [field: string]: unknown;
}
/** A sub-message field as received: absent / null when the sender left it out. */
type Sub<T> = T | null | undefined;

interface WireCommitSig extends Wire {
  validatorIndex?: unknown;
  signature?: unknown;
}
interface WireCertificate extends Wire {
  height?: unknown;
  round?: unknown;
  blockHash?: unknown;
  sigs?: unknown;
}
interface WireBundleSpan extends Wire {
  bundleHash?: unknown;
  namespace?: unknown;
  start?: unknown;
  count?: unknown;
  atomicity?: unknown;
  reverting?: unknown;
}
interface WireNmtNode extends Wire {
  minNamespace?: unknown;
  maxNamespace?: unknown;
  hash?: unknown;
}
interface WireProof extends Wire {
  start?: unknown;
  end?: unknown;
  nodes?: unknown;
}
interface WireExecution extends Wire {
  receipts?: unknown;
  stateRoot?: unknown;
}
/** ordo.adapter.v1.NamespaceBlock as received by the SDK. */
export interface WireNamespaceBlock extends Wire {
  namespace?: unknown;
  height?: unknown;
  blockHash?: unknown;
  timeMs?: unknown;
  header?: unknown;
  transactions?: unknown;
  bundles?: unknown;
  certificate?: Sub<WireCertificate>;
  proof?: Sub<WireProof>;
  execution?: Sub<WireExecution>;
  txsRoot?: unknown;
  spanCount?: unknown;
  spansRoot?: unknown;
  spansProof?: Sub<WireProof>;
  certifiedResults?: Sub<WireCertifiedResults>;
  auction?: Sub<WireAuctionPart>;
}
interface WireAuctionPart extends Wire {
  count?: unknown;
  outcomeRoot?: unknown;
  outcome?: unknown;
  proof?: Sub<WireProof>;
}
interface WireCertifiedResults extends Wire {
  height?: unknown;
  stateRoot?: unknown;
  receiptsRoot?: unknown;
  resultCount?: unknown;
  resultsRoot?: unknown;
  proof?: Sub<WireProof>;
}
interface WireCommitmentLevel extends Wire {
  height?: unknown;
  blockHash?: unknown;
  timeMs?: unknown;
}
/** ordo.adapter.v1.GetCommitmentStateResponse as received by the SDK. */
export interface WireCommitmentState extends Wire {
  chainId?: unknown;
  soft?: Sub<WireCommitmentLevel>;
  firm?: Sub<WireCommitmentLevel>;
}

type UnaryCallback = (err: grpc.ServiceError | null, res: Wire) => void;
interface UnaryMethodFn {
  (req: Wire, options: grpc.CallOptions, cb: UnaryCallback): grpc.ClientUnaryCall;
  (req: Wire, cb: UnaryCallback): grpc.ClientUnaryCall;
}
export type AdapterUnaryMethod =
  | 'SubmitTransaction'
  | 'GetTransactionStatus'
  | 'GetCommitmentState'
  | 'SubmitBundle'
  | 'GetBundleStatus';

/** The RollupAdapter client that proto-loader builds (`new (loadAdapterService())(address, creds)`). */
export interface AdapterClient extends grpc.Client, Record<AdapterUnaryMethod, UnaryMethodFn> {
  StreamBlocks(req: Wire): grpc.ClientReadableStream<WireNamespaceBlock>;
}

export const ADAPTER_PROTO = 'ordo/adapter/v1/adapter.proto';

/** Largest NamespaceBlock message: a whole 4 MiB block body plus proof, certificate and receipts. */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

let cached: grpc.ServiceClientConstructor | undefined;

/** The RollupAdapter client constructor (and `.service` definition), loaded once per process. */
export function loadAdapterService(): grpc.ServiceClientConstructor {
  if (cached !== undefined) return cached;
  const def = protoLoader.loadSync(ADAPTER_PROTO, {
    includeDirs: [PROTO_DIR],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    ordo: { adapter: { v1: { RollupAdapter: grpc.ServiceClientConstructor } } };
  };
  cached = pkg.ordo.adapter.v1.RollupAdapter;
  return cached;
}

// ---------------------------------------------------------------- domain -> wire (server)

export function namespaceBlockToWire(nb: NamespaceBlock): Wire {
  return {
    namespace: nb.namespace,
    height: nb.height,
    blockHash: nb.blockHash,
    timeMs: nb.timeMs,
    header: nb.headerBytes,
    transactions: nb.transactions,
    bundles: nb.bundles,
    certificate: nb.certificate,
    proof: proofToWire(nb.proof),
    execution: nb.execution ?? null,
    txsRoot: nb.txsRoot,
    spanCount: nb.spanCount,
    spansRoot: nb.spansRoot,
    spansProof: proofToWire(nb.spansProof),
    certifiedResults:
      nb.certifiedResults === undefined
        ? null
        : { ...nb.certifiedResults, proof: proofToWire(nb.certifiedResults.proof) },
    auction: nb.auction === undefined ? null : { ...nb.auction, proof: proofToWire(nb.auction.proof) },
  };
}

function proofToWire(p: NamespaceProof): Wire {
  return {
    start: p.start,
    end: p.end,
    nodes: p.nodes.map((n) => ({ minNamespace: n.min, maxNamespace: n.max, hash: n.hash })),
  };
}

/** Approximate encoded size, for the server's in-flight byte budget. */
export function namespaceBlockSize(nb: NamespaceBlock): number {
  let n =
    512 +
    nb.headerBytes.byteLength +
    nb.certificate.sigs.length * 72 +
    (nb.proof.nodes.length +
      nb.spansProof.nodes.length +
      (nb.certifiedResults?.proof.nodes.length ?? 0) +
      (nb.auction?.proof.nodes.length ?? 0)) *
      48 +
    nb.bundles.length * 48;
  for (const t of nb.transactions) n += t.byteLength + 6;
  for (const r of nb.execution?.receipts ?? []) n += r.byteLength + 6;
  return n;
}

const STATUS_KIND = {
  unknown: 'TX_STATUS_UNKNOWN',
  pending: 'TX_STATUS_PENDING',
  committed: 'TX_STATUS_COMMITTED',
  dropped: 'TX_STATUS_DROPPED',
} as const;

export function txStatusToWire(s: TxStatus): Wire {
  return {
    status: STATUS_KIND[s.status],
    height: s.status === 'committed' ? s.height : 0,
    index: s.status === 'committed' ? s.index : 0,
    dropReason: s.status === 'dropped' ? s.reason : '',
    message: s.status === 'dropped' ? (s.message ?? '') : '',
  };
}

export function submitResultToWire(r: SubmitResult): Wire {
  return {
    accepted: r.accepted,
    txHash: r.txHash,
    rejectCode: r.rejectCode ?? '',
    message: r.message ?? '',
    retryable: r.retryable,
  };
}

export function commitmentToWire(c: CommitmentState): Wire {
  return { chainId: c.chainId, soft: c.soft, firm: c.firm };
}

// ---------------------------------------------------------------- wire -> domain (client)

function bad(message: string): never {
  throw new VerificationError('MALFORMED', message);
}

function bytes(what: string, v: unknown, len?: number, max = 32): Uint8Array {
  if (!(v instanceof Uint8Array)) bad(`${what} is not bytes`);
  if (len !== undefined && v.byteLength !== len) bad(`${what} must be ${len} bytes, got ${v.byteLength}`);
  if (len === undefined && v.byteLength > max) bad(`${what} is ${v.byteLength} bytes; limit ${max}`);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

export function u64(what: string, v: unknown): number {
  const n =
    typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,16}$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) bad(`${what} must be a non-negative safe integer`);
  return n;
}

function u32(what: string, v: unknown): number {
  const n = u64(what, v);
  if (n > 0xffff_ffff) bad(`${what} must be a uint32`);
  return n;
}

function list<T = unknown>(what: string, v: unknown, max: number): T[] {
  const a = v ?? [];
  if (!Array.isArray(a)) bad(`${what} is not a list`);
  if (a.length > max) bad(`${what} has ${a.length} entries; limit ${max}`);
  return a as T[];
}

function certificateFromWire(w: Sub<WireCertificate>): CommitCertificate {
  if (w == null) bad('certificate is missing');
  return {
    height: u64('certificate.height', w.height),
    round: u32('certificate.round', w.round),
    blockHash: bytes('certificate.blockHash', w.blockHash, 32),
    sigs: list<Sub<WireCommitSig>>('certificate.sigs', w.sigs, 1024).map((s) => ({
      validatorIndex: u32('certificate.sig.validatorIndex', s?.validatorIndex),
      signature: bytes('certificate.sig.signature', s?.signature, 64),
    })),
  };
}

function proofFromWire(what: string, w: Sub<WireProof>): NamespaceProof {
  if (w == null) bad(`${what} is missing`);
  return {
    start: u32(`${what}.start`, w.start),
    end: u32(`${what}.end`, w.end),
    nodes: list<Sub<WireNmtNode>>(`${what}.nodes`, w.nodes, 128).map((n) => ({
      min: u32(`${what}.node.minNamespace`, n?.minNamespace),
      max: u32(`${what}.node.maxNamespace`, n?.maxNamespace),
      hash: bytes(`${what}.node.hash`, n?.hash, 32),
    })),
  };
}

function atomicity(what: string, v: unknown): 1 | 2 {
  const n = u32(what, v);
  if (n !== 1 && n !== 2) bad(`${what} must be 1 (execution) or 2 (inclusion), got ${n}`);
  return n;
}

export function namespaceBlockFromWire(w: Sub<WireNamespaceBlock>, maxTxBytes = 1024 * 1024): NamespaceBlock {
  if (w == null || typeof w !== 'object') bad('block message is empty');
  const headerBytes = bytes('header', w.header, undefined, 4096);
  const transactions = list('transactions', w.transactions, 100_000).map((t, i) =>
    bytes(`transactions[${i}]`, t, undefined, maxTxBytes),
  );
  const bundles: BundleSpan[] = list<Sub<WireBundleSpan>>('bundles', w.bundles, 100_000).map((s) => ({
    bundleHash: bytes('bundle.bundleHash', s?.bundleHash, 32),
    namespace: u32('bundle.namespace', s?.namespace),
    start: u32('bundle.start', s?.start),
    count: u32('bundle.count', s?.count),
    atomicity: atomicity('bundle.atomicity', s?.atomicity),
    reverting: list<unknown>('bundle.reverting', s?.reverting, 100).map((r) => u32('bundle.reverting', r)),
  }));
  const nb: NamespaceBlock = {
    namespace: u32('namespace', w.namespace),
    height: u64('height', w.height),
    blockHash: bytes('blockHash', w.blockHash, 32),
    timeMs: u64('timeMs', w.timeMs),
    header: decodeHeaderBytes(headerBytes),
    headerBytes,
    transactions,
    bundles,
    certificate: certificateFromWire(w.certificate),
    proof: proofFromWire('proof', w.proof),
    txsRoot: bytes('txsRoot', w.txsRoot, 32),
    spanCount: u32('spanCount', w.spanCount),
    spansRoot: bytes('spansRoot', w.spansRoot, 32),
    spansProof: proofFromWire('spansProof', w.spansProof),
  };
  if (w.certifiedResults != null) {
    const c = w.certifiedResults;
    nb.certifiedResults = {
      height: u64('certifiedResults.height', c.height),
      stateRoot: bytes('certifiedResults.stateRoot', c.stateRoot, undefined, 64),
      receiptsRoot: bytes('certifiedResults.receiptsRoot', c.receiptsRoot, 32),
      resultCount: u32('certifiedResults.resultCount', c.resultCount),
      resultsRoot: bytes('certifiedResults.resultsRoot', c.resultsRoot, 32),
      proof: proofFromWire('certifiedResults.proof', c.proof),
    };
  }
  if (w.auction != null) {
    const a = w.auction;
    nb.auction = {
      count: u32('auction.count', a.count),
      outcomeRoot: bytes('auction.outcomeRoot', a.outcomeRoot, 32),
      outcome:
        a.outcome == null
          ? new Uint8Array(0)
          : bytes('auction.outcome', a.outcome, undefined, MAX_ROLLUP_OUTCOME_BYTES),
      proof: proofFromWire('auction.proof', a.proof),
    };
  }
  if (w.execution != null) {
    nb.execution = {
      receipts: list('execution.receipts', w.execution.receipts, 100_000).map((r, i) =>
        bytes(`execution.receipts[${i}]`, r, undefined, 1024 * 1024),
      ),
      stateRoot: bytes('execution.stateRoot', w.execution.stateRoot, undefined, 64),
    };
  }
  return nb;
}

export function txStatusFromWire(w: Sub<Wire>): TxStatus {
  switch (w?.status) {
    case 'TX_STATUS_PENDING':
      return { status: 'pending' };
    case 'TX_STATUS_COMMITTED':
      return { status: 'committed', height: u64('height', w.height), index: u32('index', w.index) };
    case 'TX_STATUS_DROPPED': {
      const reason = String(w.dropReason ?? '');
      const r =
        (['expired', 'evicted', 'invalid', 'replaced'] as const).find((x) => x === reason) ?? 'invalid';
      const s: TxStatus = { status: 'dropped', reason: r };
      if (typeof w.message === 'string' && w.message.length > 0) s.message = w.message.slice(0, 1024);
      return s;
    }
    default:
      return { status: 'unknown' };
  }
}

export function submitResultFromWire(w: Sub<Wire>): SubmitResult {
  const r: SubmitResult = {
    accepted: w?.accepted === true,
    txHash: bytes('txHash', w?.txHash, 32),
    retryable: w?.retryable === true,
  };
  if (typeof w?.rejectCode === 'string' && w.rejectCode.length > 0) r.rejectCode = w.rejectCode.slice(0, 64);
  if (typeof w?.message === 'string' && w.message.length > 0) r.message = w.message.slice(0, 1024);
  return r;
}

export function commitmentFromWire(w: Sub<WireCommitmentState>): CommitmentState {
  const level = (x: Sub<WireCommitmentLevel>) => ({
    height: u64('height', x?.height ?? 0),
    blockHash: x?.blockHash instanceof Uint8Array ? new Uint8Array(x.blockHash) : new Uint8Array(32),
    timeMs: u64('timeMs', x?.timeMs ?? 0),
  });
  return { chainId: String(w?.chainId ?? ''), soft: level(w?.soft), firm: level(w?.firm) };
}
