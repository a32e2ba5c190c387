/**
 * The boundary between wire bytes and domain types. Every `decodeX` checks the byte size first, then
 * decodes, then runs a `validateBasic`-style check (field sizes, ranges, ordering) and throws a typed
 * `DecodeError` naming what was wrong. Every `encodeX` is deterministic for a given domain object, so
 * hashes computed over re-encoded objects agree on every node.
 */
import { DecodeError } from '../errors.ts';
import type {
  AtomicityCode,
  AuctionDeposit,
  AuctionTx,
  BidCommit,
  BidReveal,
  Block,
  BlockHeader,
  Bundle,
  BundleLeg,
  BundleSpan,
  CertifiedBlock,
  CommitCertificate,
  CompactProposal,
  ConsensusMessage,
  DuplicateVoteEvidence,
  Proposal,
  SyncRequest,
  SyncResponse,
  TxEnvelope,
  Vote,
} from '../types.ts';
import { LIMITS } from './limits.ts';
import { pb } from './proto.ts';
import type * as W from './wire-types.ts';

const EMPTY = new Uint8Array(0);
const MAX_U32 = 0xffff_ffff;

function fail(message: string, data: Record<string, unknown> = {}): never {
  throw new DecodeError('DECODE_INVALID_FIELD', message, data);
}

function checkSize(what: string, bytes: Uint8Array, max: number): void {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError('DECODE_MALFORMED', `${what}: not a byte array`);
  if (bytes.byteLength > max) {
    throw new DecodeError('DECODE_TOO_LARGE', `${what} is ${bytes.byteLength} bytes; the limit is ${max}`, {
      size: bytes.byteLength,
      max,
    });
  }
}

/**
 * Size check, then protobufjs decode. The one cast of the codec: protobufjs types a decoded message as
 * a bare `Message`; `T` (wire-types.ts) names its fields, each still unchecked.
 */
function rawDecode<T>(what: string, type: (typeof pb)[keyof typeof pb], bytes: Uint8Array, max: number): T {
  checkSize(what, bytes, max);
  try {
    return type.decode(bytes) as unknown as T;
  } catch (err) {
    throw new DecodeError('DECODE_MALFORMED', `${what}: ${(err as Error).message}`, {}, { cause: err });
  }
}

function bytesOf(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return EMPTY;
}

function u64(what: string, v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v ?? 0);
  if (!Number.isSafeInteger(n) || n < 0)
    fail(`${what} must be a non-negative safe integer`, { value: String(v) });
  return n;
}

function u32(what: string, v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v ?? 0);
  if (!Number.isInteger(n) || n < 0 || n > MAX_U32) fail(`${what} must be a uint32`, { value: String(v) });
  return n;
}

function fixedBytes(what: string, v: unknown, len: number, allowEmpty = false): Uint8Array {
  const b = bytesOf(v);
  if (allowEmpty && b.byteLength === 0) return EMPTY;
  if (b.byteLength !== len) fail(`${what} must be ${len} bytes, got ${b.byteLength}`);
  return b;
}

// ---------------------------------------------------------------- transactions

export function validateTx(tx: TxEnvelope, maxTxBytes: number = LIMITS.maxTxBytes): void {
  if (!Number.isInteger(tx.namespace) || tx.namespace < 1 || tx.namespace > MAX_U32) {
    fail(`transaction namespace must be an integer in 1..${MAX_U32}`, { namespace: tx.namespace });
  }
  if (!(tx.payload instanceof Uint8Array)) fail('transaction payload must be bytes');
  if (tx.payload.byteLength === 0) fail('transaction payload is empty');
  if (tx.payload.byteLength > maxTxBytes) {
    throw new DecodeError(
      'DECODE_TOO_LARGE',
      `transaction payload is ${tx.payload.byteLength} bytes; the limit is ${maxTxBytes}`,
      { size: tx.payload.byteLength, max: maxTxBytes },
    );
  }
}

function txFromWire(w: W.WireTxEnvelope, maxTxBytes: number): TxEnvelope {
  const tx = { namespace: u32('namespace', w.namespace), payload: bytesOf(w.payload) };
  validateTx(tx, maxTxBytes);
  return tx;
}

export function encodeTx(tx: TxEnvelope): Uint8Array {
  return pb.TxEnvelope.encode(tx).finish();
}

export function decodeTx(bytes: Uint8Array, maxTxBytes: number = LIMITS.maxTxBytes): TxEnvelope {
  return txFromWire(
    rawDecode<W.WireTxEnvelope>('transaction', pb.TxEnvelope, bytes, maxTxBytes + 16),
    maxTxBytes,
  );
}

export function encodeTxBatch(txs: TxEnvelope[]): Uint8Array {
  return pb.TxBatch.encode({ txs }).finish();
}

export interface BatchLimits {
  maxBatchBytes: number;
  maxBatchTxs: number;
  maxTxBytes: number;
}

/** A batch's wire entries after its size and count checks (both batch decoders start here). */
function wireBatchTxs(bytes: Uint8Array, limits: BatchLimits) {
  const w = rawDecode<W.WireTxBatch>('transaction batch', pb.TxBatch, bytes, limits.maxBatchBytes);
  const txs = w.txs ?? [];
  if (txs.length === 0) throw new DecodeError('DECODE_EMPTY', 'transaction batch is empty');
  if (txs.length > limits.maxBatchTxs) {
    fail(`transaction batch has ${txs.length} transactions; the limit is ${limits.maxBatchTxs}`);
  }
  return txs;
}

export function decodeTxBatch(bytes: Uint8Array, limits: BatchLimits = LIMITS): TxEnvelope[] {
  return wireBatchTxs(bytes, limits).map((t) => txFromWire(t, limits.maxTxBytes));
}

/**
 * A client's batch (`POST /ordo/v1/tx-batch`): the same size checks as `decodeTxBatch` (the body, the
 * count, every payload against `limits.maxTxBytes`) and namespaces read as uint32, but a namespace 0 or
 * an empty payload is left to the caller, whose per-transaction admission refuses that one entry
 * (`INVALID_NAMESPACE`, `EMPTY_TX`) instead of the whole batch. Gossip from peers stays strict.
 */
export function decodeTxBatchEntries(bytes: Uint8Array, limits: BatchLimits = LIMITS): TxEnvelope[] {
  return wireBatchTxs(bytes, limits).map((t, i) => {
    const raw = t.namespace;
    // protobufjs yields a uint32 as a number; the message string is built only for a bad one
    const namespace =
      typeof raw === 'number' && Number.isInteger(raw) && raw >= 0 && raw <= MAX_U32
        ? raw
        : u32(`txs[${i}].namespace`, raw);
    const tx = { namespace, payload: bytesOf(t.payload) };
    if (tx.payload.byteLength > limits.maxTxBytes) {
      throw new DecodeError(
        'DECODE_TOO_LARGE',
        `txs[${i}]: transaction payload is ${tx.payload.byteLength} bytes; the limit is ${limits.maxTxBytes}`,
        { index: i, size: tx.payload.byteLength, max: limits.maxTxBytes },
      );
    }
    return tx;
  });
}

// ---------------------------------------------------------------- bundles

function atomicityFromWire(what: string, v: unknown): AtomicityCode {
  const n = u32(what, v);
  if (n !== 1 && n !== 2) fail(`${what} must be 1 (execution) or 2 (inclusion), got ${n}`);
  return n;
}

/**
 * A bundle off the wire, checked for the limits and the canonical form of docs/bundles.md: 1..16 legs
 * sorted by namespace (one per namespace), each with 1+ transactions; at most 100 transactions and
 * 300,000 payload bytes in all; reverting hashes 32 bytes, sorted, unique; a replacement UUID only with a
 * signer; signer and signature both present or both absent. Membership of reverting hashes in their leg
 * needs the rollup's hash function and is checked at admission.
 */
function bundleFromWire(w: W.WireBundle): Bundle {
  const legsIn = w.legs ?? [];
  if (legsIn.length === 0) fail('bundle has no legs');
  if (legsIn.length > LIMITS.maxBundleLegs)
    fail(`bundle has ${legsIn.length} legs; limit ${LIMITS.maxBundleLegs}`);
  let txCount = 0;
  let bytes = 0;
  let prevNs = 0;
  const legs: BundleLeg[] = legsIn.map((l, i) => {
    const namespace = u32(`bundle.legs[${i}].namespace`, l.namespace);
    if (namespace < 1) fail(`bundle.legs[${i}].namespace must be >= 1`);
    if (namespace <= prevNs)
      fail(`bundle legs must be sorted by namespace with one leg per namespace (leg ${i})`);
    prevNs = namespace;
    const txsIn = l.txs ?? [];
    if (txsIn.length === 0) fail(`bundle.legs[${i}] has no transactions`);
    txCount += txsIn.length;
    if (txCount > LIMITS.maxBundleTxs)
      fail(`bundle has more than ${LIMITS.maxBundleTxs} transactions`, { limit: LIMITS.maxBundleTxs });
    const txs = txsIn.map((t, j) => {
      const b = bytesOf(t);
      if (b.byteLength === 0) fail(`bundle.legs[${i}].txs[${j}] is empty`);
      if (b.byteLength > LIMITS.maxTxBytes)
        fail(`bundle.legs[${i}].txs[${j}] is ${b.byteLength} bytes; limit ${LIMITS.maxTxBytes}`);
      bytes += b.byteLength;
      return b;
    });
    if (bytes > LIMITS.maxBundleBytes)
      fail(`bundle carries more than ${LIMITS.maxBundleBytes} bytes of transactions`, {
        limit: LIMITS.maxBundleBytes,
      });
    const rev = (l.revertingTxHashes ?? []).map((h, j) =>
      fixedBytes(`bundle.legs[${i}].revertingTxHashes[${j}]`, h, 32),
    );
    if (rev.length > txs.length) fail(`bundle.legs[${i}] lists more reverting hashes than transactions`);
    for (let j = 1; j < rev.length; j++)
      if (Buffer.compare(rev[j - 1]!, rev[j]!) >= 0)
        fail(`bundle.legs[${i}].revertingTxHashes must be sorted and unique`);
    return { namespace, txs, revertingTxHashes: rev };
  });
  const signer = fixedBytes('bundle.signer', w.signer, 32, true);
  const signature = fixedBytes('bundle.signature', w.signature, 64, true);
  if ((signer.byteLength === 0) !== (signature.byteLength === 0))
    fail('bundle.signer and bundle.signature must both be set or both be empty');
  const replacementUuid = fixedBytes('bundle.replacementUuid', w.replacementUuid, 16, true);
  if (replacementUuid.byteLength > 0 && signer.byteLength === 0)
    fail('bundle.replacementUuid needs a signed bundle (signer and signature)');
  const b: Bundle = {
    legs,
    atomicity: atomicityFromWire('bundle.atomicity', w.atomicity) === 1 ? 'execution' : 'inclusion',
    minHeight: u64('bundle.minHeight', w.minHeight),
    maxHeight: u64('bundle.maxHeight', w.maxHeight),
    replacementUuid,
    signer,
    signature,
  };
  if (b.maxHeight !== 0 && b.maxHeight < b.minHeight) fail('bundle.maxHeight is below bundle.minHeight');
  return b;
}

function bundleToWire(b: Bundle): W.WireBundle {
  return {
    legs: b.legs,
    atomicity: b.atomicity === 'execution' ? 1 : 2,
    minHeight: b.minHeight,
    maxHeight: b.maxHeight,
    replacementUuid: b.replacementUuid,
    signer: b.signer,
    signature: b.signature,
  };
}

export function encodeBundle(b: Bundle): Uint8Array {
  return pb.Bundle.encode(bundleToWire(b)).finish();
}

export function decodeBundle(bytes: Uint8Array): Bundle {
  return bundleFromWire(rawDecode<W.WireBundle>('bundle', pb.Bundle, bytes, LIMITS.maxBundleEncodedBytes));
}

/** Bundles gossiped together (each travels whole; a batch never splits one). */
export function encodeBundleBatch(bundles: Bundle[]): Uint8Array {
  return pb.BundleBatch.encode({ bundles: bundles.map(bundleToWire) }).finish();
}

/**
 * Decodes a gossiped bundle batch. A batch with a bad bundle is refused whole (the sender is at fault);
 * the size check runs before decoding.
 */
export function decodeBundleBatch(bytes: Uint8Array): Bundle[] {
  const w = rawDecode<W.WireBundleBatch>('bundle batch', pb.BundleBatch, bytes, LIMITS.maxBatchBytes);
  const list = w.bundles ?? [];
  if (list.length > LIMITS.maxBundleBatch)
    fail(`bundle batch holds ${list.length} bundles; limit ${LIMITS.maxBundleBatch}`);
  return list.map(bundleFromWire);
}

// ---------------------------------------------------------------- blocks

function headerFromWire(w: W.Sub<W.WireBlockHeader>): BlockHeader {
  if (w == null) fail('block header is missing');
  const chainId = String(w.chainId ?? '');
  if (chainId.length === 0 || chainId.length > LIMITS.maxChainIdLength) {
    fail(`header.chainId must be 1..${LIMITS.maxChainIdLength} characters`);
  }
  const h: BlockHeader = {
    chainId,
    height: u64('header.height', w.height),
    round: u32('header.round', w.round),
    timeMs: u64('header.timeMs', w.timeMs),
    parentHash: fixedBytes('header.parentHash', w.parentHash, 32),
    dataHash: fixedBytes('header.dataHash', w.dataHash, 32),
    proposer: fixedBytes('header.proposer', w.proposer, 32),
    txCount: u32('header.txCount', w.txCount),
    lastCommitHash: fixedBytes('header.lastCommitHash', w.lastCommitHash, 32, true),
    resultsHash: fixedBytes('header.resultsHash', w.resultsHash, 32, true),
    auctionHash: fixedBytes('header.auctionHash', w.auctionHash, 32, true),
  };
  if (h.height < 1) fail('header.height must be >= 1');
  return h;
}

export function encodeHeader(h: BlockHeader): Uint8Array {
  return pb.BlockHeader.encode(h).finish();
}

function spanFromWire(w: W.WireBundleSpan): BundleSpan {
  const s: BundleSpan = {
    bundleHash: fixedBytes('bundleSpan.bundleHash', w.bundleHash, 32),
    namespace: u32('bundleSpan.namespace', w.namespace),
    start: u32('bundleSpan.start', w.start),
    count: u32('bundleSpan.count', w.count),
    atomicity: atomicityFromWire('bundleSpan.atomicity', w.atomicity),
    reverting: (w.reverting ?? []).map((v) => u32('bundleSpan.reverting', v)),
  };
  if (s.count > LIMITS.maxBundleTxs)
    fail(`bundle span holds ${s.count} transactions; limit ${LIMITS.maxBundleTxs}`);
  for (let i = 0; i < s.reverting.length; i++) {
    const r = s.reverting[i]!;
    if (r >= s.count || (i > 0 && r <= s.reverting[i - 1]!))
      fail('bundleSpan.reverting must be ascending, unique indices below count');
  }
  return s;
}

/** Structural checks of a block that need no state: counts, ordering, spans inside their slices. */
export function validateBlockBasic(b: Block): void {
  if (b.txs.length > LIMITS.maxBlockTxs)
    fail(`block has ${b.txs.length} transactions; limit ${LIMITS.maxBlockTxs}`);
  if (b.header.txCount !== b.txs.length) {
    fail(`header.txCount is ${b.header.txCount} but the block has ${b.txs.length} transactions`);
  }
  const nsCount = new Map<number, number>();
  let prev = 0;
  for (const tx of b.txs) {
    if (tx.namespace < prev) fail('block transactions are not sorted by namespace');
    prev = tx.namespace;
    nsCount.set(tx.namespace, (nsCount.get(tx.namespace) ?? 0) + 1);
  }
  for (const s of b.bundles) {
    const n = nsCount.get(s.namespace) ?? 0;
    if (s.count === 0 || s.start + s.count > n) fail(`bundle span outside namespace ${s.namespace}'s slice`);
  }
}

function blockFromWire(w: W.Sub<W.WireBlock>): Block {
  if (w == null) fail('block is missing');
  const b: Block = {
    header: headerFromWire(w.header),
    txs: (w.txs ?? []).map((t) => txFromWire(t, LIMITS.maxTxBytes)),
    bundles: (w.bundles ?? []).map(spanFromWire),
  };
  validateBlockBasic(b);
  return b;
}

function varintLen(n: number): number {
  let l = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    l++;
  }
  return l;
}

/** Bytes of a length-delimited field: tag (fields < 16) + length varint + body. */
function fieldLen(bodyLen: number): number {
  return 1 + varintLen(bodyLen) + bodyLen;
}

/** Encoded size of one TxEnvelope body (without its own field header). */
export function txBodySize(tx: TxEnvelope): number {
  return (
    (tx.namespace === 0 ? 0 : 1 + varintLen(tx.namespace)) +
    (tx.payload.byteLength === 0 ? 0 : fieldLen(tx.payload.byteLength))
  );
}

/** Bytes one TxEnvelope adds to a TxBatch or Block (field header + body). */
export function txWireSize(tx: TxEnvelope): number {
  return fieldLen(txBodySize(tx));
}

/** `encodeBlock(b).byteLength`, computed without encoding the transactions (size checks on hot paths). */
export function encodedBlockSize(b: Block): number {
  let n = fieldLen(encodeHeader(b.header).byteLength);
  for (const tx of b.txs) n += txWireSize(tx);
  for (const s of b.bundles) n += fieldLen(pb.BundleSpan.encode(s).finish().byteLength);
  return n;
}

export function encodeBlock(b: Block): Uint8Array {
  return pb.Block.encode(b).finish();
}

export function decodeBlock(bytes: Uint8Array, maxBytes: number = LIMITS.maxBlockBytes): Block {
  return blockFromWire(rawDecode<W.WireBlock>('block', pb.Block, bytes, maxBytes));
}

// ---------------------------------------------------------------- certificates

function certFromWire(w: W.Sub<W.WireCommitCertificate>): CommitCertificate {
  if (w == null) fail('commit certificate is missing');
  const sigs = (w.sigs ?? []).map((s) => ({
    validatorIndex: u32('certificate.sig.validatorIndex', s.validatorIndex),
    signature: fixedBytes('certificate.sig.signature', s.signature, 64),
  }));
  if (sigs.length > LIMITS.maxValidators) fail('certificate has more signatures than validators allowed');
  for (let i = 1; i < sigs.length; i++) {
    if (sigs[i]!.validatorIndex <= sigs[i - 1]!.validatorIndex) {
      fail('certificate signatures must be sorted by validator index without duplicates');
    }
  }
  const c: CommitCertificate = {
    height: u64('certificate.height', w.height),
    round: u32('certificate.round', w.round),
    blockHash: fixedBytes('certificate.blockHash', w.blockHash, 32),
    sigs,
  };
  if (c.height < 1) fail('certificate.height must be >= 1');
  return c;
}

export function encodeCertificate(c: CommitCertificate): Uint8Array {
  return pb.CommitCertificate.encode(c).finish();
}

export function decodeCertificate(bytes: Uint8Array): CommitCertificate {
  return certFromWire(
    rawDecode<W.WireCommitCertificate>('commit certificate', pb.CommitCertificate, bytes, 64 * 1024),
  );
}

export function encodeCertifiedBlock(cb: CertifiedBlock): Uint8Array {
  return pb.CertifiedBlock.encode(cb).finish();
}

function certifiedFromWire(w: W.WireCertifiedBlock): CertifiedBlock {
  const cb = { block: blockFromWire(w.block), certificate: certFromWire(w.certificate) };
  if (cb.block.header.height !== cb.certificate.height) fail('certificate height differs from block height');
  return cb;
}

export function decodeCertifiedBlock(bytes: Uint8Array): CertifiedBlock {
  return certifiedFromWire(
    rawDecode<W.WireCertifiedBlock>(
      'certified block',
      pb.CertifiedBlock,
      bytes,
      LIMITS.maxBlockBytes + 64 * 1024,
    ),
  );
}

// ---------------------------------------------------------------- consensus

const VOTE_TYPES = { 1: 'prevote', 2: 'precommit' } as const;

function voteFromWire(w: W.Sub<W.WireVote>): Vote {
  if (w == null) fail('vote is missing');
  const t = VOTE_TYPES[w.type as 1 | 2];
  if (t === undefined) fail(`vote.type must be PREVOTE or PRECOMMIT, got ${String(w.type)}`);
  const hash = bytesOf(w.blockHash);
  if (hash.byteLength !== 0 && hash.byteLength !== 32) fail('vote.blockHash must be empty (nil) or 32 bytes');
  return {
    type: t,
    height: u64('vote.height', w.height),
    round: u32('vote.round', w.round),
    blockHash: hash.byteLength === 0 ? null : hash,
    validatorIndex: u32('vote.validatorIndex', w.validatorIndex),
    signature: fixedBytes('vote.signature', w.signature, 64),
  };
}

function voteToWire(v: Vote): W.WireVote {
  return {
    type: v.type === 'prevote' ? 1 : 2,
    height: v.height,
    round: v.round,
    blockHash: v.blockHash ?? EMPTY,
    validatorIndex: v.validatorIndex,
    signature: v.signature,
  };
}

export function encodeVote(v: Vote): Uint8Array {
  return pb.Vote.encode(voteToWire(v)).finish();
}

export function decodeVote(bytes: Uint8Array): Vote {
  return voteFromWire(rawDecode<W.WireVote>('vote', pb.Vote, bytes, 1024));
}

function checkPolRound(what: string, p: { polRound: number; round: number }): void {
  if (!Number.isInteger(p.polRound) || p.polRound < -1 || (p.polRound !== -1 && p.polRound >= p.round)) {
    fail(`${what}.polRound must be -1 or a round below ${what}.round`);
  }
}

function proposalFromWire(w: W.WireProposal): Proposal {
  const p: Proposal = {
    height: u64('proposal.height', w.height),
    round: u32('proposal.round', w.round),
    polRound: Number(w.polRound ?? 0),
    block: blockFromWire(w.block),
    proposerIndex: u32('proposal.proposerIndex', w.proposerIndex),
    signature: fixedBytes('proposal.signature', w.signature, 64),
  };
  checkPolRound('proposal', p);
  if (p.block.header.height !== p.height) fail('proposal height differs from its block height');
  return p;
}

export function encodeProposal(p: Proposal): Uint8Array {
  return pb.Proposal.encode(p).finish();
}

export function encodeConsensusMessage(m: ConsensusMessage): Uint8Array {
  return pb.ConsensusMessage.encode(
    m.kind === 'proposal' ? { proposal: m.proposal } : { vote: voteToWire(m.vote) },
  ).finish();
}

/** A consensus message as it may arrive over gossip: a full message or a compact proposal. */
export type GossipConsensusMessage = ConsensusMessage | { kind: 'compact'; compact: CompactProposal };

function decodeAny(bytes: Uint8Array, maxBytes: number): GossipConsensusMessage {
  const w = rawDecode<W.WireConsensusMessage>('consensus message', pb.ConsensusMessage, bytes, maxBytes);
  if (w.proposal != null) return { kind: 'proposal', proposal: proposalFromWire(w.proposal) };
  if (w.vote != null) return { kind: 'vote', vote: voteFromWire(w.vote) };
  if (w.compactProposal != null) return { kind: 'compact', compact: compactFromWire(w.compactProposal) };
  throw new DecodeError('DECODE_EMPTY', 'consensus message carries no proposal or vote');
}

/** A full consensus message (WAL records, tests); a compact proposal is refused here. */
export function decodeConsensusMessage(
  bytes: Uint8Array,
  maxBytes: number = LIMITS.maxConsensusMessageBytes,
): ConsensusMessage {
  const m = decodeAny(bytes, maxBytes);
  if (m.kind === 'compact') {
    throw new DecodeError('DECODE_UNEXPECTED', 'a compact proposal is not valid here; a full one is needed');
  }
  return m;
}

/** A consensus message received over gossip: full messages and compact proposals. */
export function decodeGossipConsensusMessage(
  bytes: Uint8Array,
  maxBytes: number = LIMITS.maxConsensusMessageBytes,
): GossipConsensusMessage {
  return decodeAny(bytes, maxBytes);
}

function compactFromWire(w: W.WireCompactProposal): CompactProposal {
  const header = headerFromWire(w.header);
  const hashes = w.txHashes ?? [];
  if (hashes.length > LIMITS.maxBlockTxs) fail(`compact proposal lists ${hashes.length} transactions`);
  const c: CompactProposal = {
    height: u64('compactProposal.height', w.height),
    round: u32('compactProposal.round', w.round),
    polRound: Number(w.polRound ?? 0),
    header,
    txHashes: hashes.map((h) => fixedBytes('compactProposal.txHashes', h, 32)),
    bundles: (w.bundles ?? []).map(spanFromWire),
    proposerIndex: u32('compactProposal.proposerIndex', w.proposerIndex),
    signature: fixedBytes('compactProposal.signature', w.signature, 64),
  };
  checkPolRound('compactProposal', c);
  if (header.height !== c.height) fail('compact proposal height differs from its header height');
  if (header.txCount !== c.txHashes.length) {
    fail(`header.txCount is ${header.txCount} but the compact proposal lists ${c.txHashes.length} ids`);
  }
  return c;
}

/**
 * The compact gossip form of a proposal; `txHashes[i]` must be txHash(p.block.txs[i]) (passed in,
 * because hashing lives above the codec).
 */
export function encodeCompactProposal(p: Proposal, txHashes: Uint8Array[]): Uint8Array {
  if (txHashes.length !== p.block.txs.length) throw new RangeError('one hash per transaction is needed');
  return pb.ConsensusMessage.encode({
    compactProposal: {
      height: p.height,
      round: p.round,
      polRound: p.polRound,
      header: p.block.header,
      txHashes,
      bundles: p.block.bundles,
      proposerIndex: p.proposerIndex,
      signature: p.signature,
    },
  }).finish();
}

/**
 * The full proposal of a compact one, given its transactions in order (the caller checked that each
 * one's txHash is the listed id). Runs the same structural block checks as a decoded block.
 */
export function proposalFromCompact(c: CompactProposal, txs: TxEnvelope[]): Proposal {
  if (txs.length !== c.txHashes.length) fail('compact proposal: wrong number of transactions');
  const block: Block = { header: c.header, txs, bundles: c.bundles };
  validateBlockBasic(block);
  return {
    height: c.height,
    round: c.round,
    polRound: c.polRound,
    block,
    proposerIndex: c.proposerIndex,
    signature: c.signature,
  };
}

export function encodeEvidence(e: DuplicateVoteEvidence): Uint8Array {
  return pb.DuplicateVoteEvidence.encode({ voteA: voteToWire(e.voteA), voteB: voteToWire(e.voteB) }).finish();
}

export function decodeEvidence(bytes: Uint8Array): DuplicateVoteEvidence {
  const w = rawDecode<W.WireDuplicateVoteEvidence>('evidence', pb.DuplicateVoteEvidence, bytes, 4096);
  return { voteA: voteFromWire(w.voteA), voteB: voteFromWire(w.voteB) };
}

// ---------------------------------------------------------------- auction

export function encodeBidCommit(c: BidCommit): Uint8Array {
  return pb.BidCommit.encode(c).finish();
}

export function decodeBidCommit(bytes: Uint8Array): BidCommit {
  return bidCommitFromWire(rawDecode<W.WireBidCommit>('bid commit', pb.BidCommit, bytes, 1024));
}

export function encodeBidReveal(r: BidReveal): Uint8Array {
  return pb.BidReveal.encode({ ...r, bundle: bundleToWire(r.bundle) }).finish();
}

export function decodeBidReveal(bytes: Uint8Array): BidReveal {
  return bidRevealFromWire(
    rawDecode<W.WireBidReveal>('bid reveal', pb.BidReveal, bytes, LIMITS.maxAuctionTxBytes),
  );
}

function bidCommitFromWire(w: W.WireBidCommit): BidCommit {
  return {
    slot: u64('bidCommit.slot', w.slot),
    bidder: fixedBytes('bidCommit.bidder', w.bidder, 32),
    commitment: fixedBytes('bidCommit.commitment', w.commitment, 32),
    signature: fixedBytes('bidCommit.signature', w.signature, 64),
  };
}

function accountMoveFromWire(what: string, w: W.WireAccountMove): AuctionDeposit {
  const amount = u64(`${what}.amount`, w.amount);
  if (amount === 0) fail(`${what}.amount must be > 0`);
  return {
    account: fixedBytes(`${what}.account`, w.account, 32),
    amount,
    nonce: u64(`${what}.nonce`, w.nonce),
    signature: fixedBytes(`${what}.signature`, w.signature, 64),
  };
}

/** Encodes the payload of an auction-namespace transaction (proto AuctionTx). */
export function encodeAuctionTx(tx: AuctionTx): Uint8Array {
  switch (tx.kind) {
    case 'commit':
      return pb.AuctionTx.encode({ commit: tx.commit }).finish();
    case 'reveal':
      return pb.AuctionTx.encode({
        reveal: { ...tx.reveal, bundle: bundleToWire(tx.reveal.bundle) },
      }).finish();
    case 'deposit':
      return pb.AuctionTx.encode({ deposit: tx.deposit }).finish();
    case 'withdraw':
      return pb.AuctionTx.encode({ withdraw: tx.withdraw }).finish();
  }
}

/**
 * Decodes an auction-namespace transaction's payload: at most LIMITS.maxAuctionTxBytes, exactly one body,
 * every field checked (sizes, u64 ranges, the reveal's bundle in canonical form). Signatures and windows
 * are the auction's to check (src/auction).
 */
export function decodeAuctionTx(bytes: Uint8Array): AuctionTx {
  const w = rawDecode<W.WireAuctionTx>('auction tx', pb.AuctionTx, bytes, LIMITS.maxAuctionTxBytes);
  const set = [w.commit, w.reveal, w.deposit, w.withdraw].filter((x) => x != null).length;
  if (set !== 1)
    throw new DecodeError(
      'DECODE_EMPTY',
      'auction tx must carry exactly one of commit, reveal, deposit, withdraw',
    );
  if (w.commit != null) return { kind: 'commit', commit: bidCommitFromWire(w.commit) };
  if (w.reveal != null) return { kind: 'reveal', reveal: bidRevealFromWire(w.reveal) };
  if (w.deposit != null) return { kind: 'deposit', deposit: accountMoveFromWire('deposit', w.deposit) };
  return { kind: 'withdraw', withdraw: accountMoveFromWire('withdraw', w.withdraw!) };
}

function bidRevealFromWire(w: W.WireBidReveal): BidReveal {
  if (w.bundle == null) fail('bid reveal carries no bundle');
  const amount = u64('bidReveal.amount', w.amount);
  if (amount === 0) fail('bidReveal.amount must be > 0');
  return {
    slot: u64('bidReveal.slot', w.slot),
    bidder: fixedBytes('bidReveal.bidder', w.bidder, 32),
    amount,
    bundle: bundleFromWire(w.bundle),
    salt: fixedBytes('bidReveal.salt', w.salt, 32),
    signature: fixedBytes('bidReveal.signature', w.signature, 64),
  };
}

// ---------------------------------------------------------------- sync

export function encodeSyncRequest(r: SyncRequest): Uint8Array {
  switch (r.kind) {
    case 'status':
      return pb.SyncRequest.encode({ status: {} }).finish();
    case 'blocks':
      return pb.SyncRequest.encode({ blocks: { fromHeight: r.fromHeight, toHeight: r.toHeight } }).finish();
    case 'txs':
      return pb.SyncRequest.encode({ txs: { hashes: r.hashes } }).finish();
  }
}

export function decodeSyncRequest(bytes: Uint8Array): SyncRequest {
  const w = rawDecode<W.WireSyncRequest>('sync request', pb.SyncRequest, bytes, LIMITS.maxSyncRequestBytes);
  if (w.status != null) return { kind: 'status' };
  if (w.blocks != null) {
    const fromHeight = u64('blocks.fromHeight', w.blocks.fromHeight);
    const toHeight = u64('blocks.toHeight', w.blocks.toHeight);
    if (fromHeight < 1 || toHeight < fromHeight) fail('blocks request needs 1 <= fromHeight <= toHeight');
    return { kind: 'blocks', fromHeight, toHeight };
  }
  if (w.txs != null) {
    const hashes = ((w.txs.hashes ?? []) as unknown[]).map((h) => fixedBytes('txs.hash', h, 32));
    if (hashes.length > 1024) fail('txs request asks for more than 1024 hashes');
    return { kind: 'txs', hashes };
  }
  throw new DecodeError('DECODE_EMPTY', 'sync request carries no request');
}

export function encodeSyncResponse(r: SyncResponse): Uint8Array {
  switch (r.kind) {
    case 'status':
      return pb.SyncResponse.encode({ status: r.status }).finish();
    case 'blocks':
      return pb.SyncResponse.encode({ blocks: { blocks: r.blocks } }).finish();
    case 'txs':
      return pb.SyncResponse.encode({ txs: { txs: r.txs } }).finish();
    case 'error':
      return pb.SyncResponse.encode({ error: r.message }).finish();
  }
}

export function decodeSyncResponse(bytes: Uint8Array): SyncResponse {
  const w = rawDecode<W.WireSyncResponse>(
    'sync response',
    pb.SyncResponse,
    bytes,
    LIMITS.maxSyncResponseBytes,
  );
  if (w.status != null) {
    return {
      kind: 'status',
      status: {
        chainId: String(w.status.chainId ?? ''),
        height: u64('status.height', w.status.height),
        headHash: fixedBytes('status.headHash', w.status.headHash, 32, true),
        baseHeight: u64('status.baseHeight', w.status.baseHeight),
      },
    };
  }
  if (w.blocks != null) {
    const blocks = (w.blocks.blocks ?? []).map(certifiedFromWire);
    if (blocks.length > LIMITS.maxSyncBlocksPerRequest) fail('blocks response carries too many blocks');
    return { kind: 'blocks', blocks };
  }
  if (w.txs != null)
    return { kind: 'txs', txs: (w.txs.txs ?? []).map((t) => txFromWire(t, LIMITS.maxTxBytes)) };
  if (typeof w.error === 'string' && w.error.length > 0)
    return { kind: 'error', message: w.error.slice(0, 1024) };
  throw new DecodeError('DECODE_EMPTY', 'sync response carries no response');
}
