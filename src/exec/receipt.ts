/**
 * Canonical encoding of receipts and per-namespace results. Every node must produce the same bytes for
 * the same results (they feed `resultsHash` and are what the adapter layer serves), so the layout is
 * fixed-width big-endian with explicit counts — no map iteration order, no optional-field ambiguity.
 *
 * Receipt:  index u32 | status u8 (0 success, 1 revert, 2 invalid,
 *           3 voided: part of an execution bundle that did not apply) | gasUsed u64 | flags u8
 *           (bit0 error, bit1 contractAddress) | [error: u16 len + utf8 (≤ 1024 bytes)] |
 *           [contractAddress: 20 bytes] | logCount u16 | logs: addrLen u8 + address | topicCount u8 |
 *           topics 32 bytes each | dataLen u32 + data
 * Results:  magic "ORX1" | namespace u32 | height u64 | stateRoot 32 | count u32 | receipts (u32 len + bytes)
 */
import { sha256 } from '../crypto/index.ts';
import { DecodeError } from '../errors.ts';
import type { ExecStatus, Log, NamespaceResult, Receipt } from './types.ts';

const STATUS: ExecStatus[] = ['success', 'revert', 'invalid', 'voided'];
const MAX_ERROR = 1024;
const MAX_LOGS = 65_535;
const MAX_RECEIPTS = 1_000_000;
const MAGIC = Buffer.from('ORX1', 'latin1');

class Writer {
  buf = Buffer.allocUnsafe(256);
  o = 0;
  need(n: number): void {
    if (this.o + n <= this.buf.length) return;
    const nb = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.o + n));
    this.buf.copy(nb, 0, 0, this.o);
    this.buf = nb;
  }
  u8(v: number): void {
    this.need(1);
    this.buf[this.o++] = v;
  }
  u16(v: number): void {
    this.need(2);
    this.buf.writeUInt16BE(v, this.o);
    this.o += 2;
  }
  u32(v: number): void {
    this.need(4);
    this.buf.writeUInt32BE(v, this.o);
    this.o += 4;
  }
  u64(v: bigint): void {
    this.need(8);
    this.buf.writeBigUInt64BE(v, this.o);
    this.o += 8;
  }
  bytes(b: Uint8Array): void {
    this.need(b.byteLength);
    this.buf.set(b, this.o);
    this.o += b.byteLength;
  }
  done(): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.o).slice();
  }
}

class Reader {
  readonly b: Buffer;
  o = 0;
  constructor(b: Uint8Array) {
    this.b = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  }
  need(n: number): void {
    if (this.o + n > this.b.length) throw new DecodeError('DECODE_MALFORMED', 'receipt data truncated');
  }
  u8(): number {
    this.need(1);
    return this.b[this.o++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.b.readUInt16BE(this.o);
    this.o += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.b.readUInt32BE(this.o);
    this.o += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.b.readBigUInt64BE(this.o);
    this.o += 8;
    return v;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const v = new Uint8Array(this.b.subarray(this.o, this.o + n));
    this.o += n;
    return v;
  }
}

function truncError(e: string): Uint8Array {
  const b = Buffer.from(e, 'utf8');
  return b.byteLength <= MAX_ERROR ? b : b.subarray(0, MAX_ERROR);
}

function writeReceipt(w: Writer, r: Receipt): void {
  w.u32(r.index);
  w.u8(STATUS.indexOf(r.status));
  w.u64(r.gasUsed);
  w.u8((r.error !== undefined ? 1 : 0) | (r.contractAddress !== undefined ? 2 : 0));
  if (r.error !== undefined) {
    const e = truncError(r.error);
    w.u16(e.byteLength);
    w.bytes(e);
  }
  if (r.contractAddress !== undefined) w.bytes(r.contractAddress);
  if (r.logs.length > MAX_LOGS) throw new RangeError('too many logs in one receipt');
  w.u16(r.logs.length);
  for (const l of r.logs) {
    w.u8(l.address.byteLength);
    w.bytes(l.address);
    w.u8(l.topics.length);
    for (const t of l.topics) w.bytes(t);
    w.u32(l.data.byteLength);
    w.bytes(l.data);
  }
}

function readReceipt(r: Reader): Receipt {
  const index = r.u32();
  const st = STATUS[r.u8()];
  if (st === undefined) throw new DecodeError('DECODE_INVALID_FIELD', 'bad receipt status');
  const gasUsed = r.u64();
  const flags = r.u8();
  const out: Receipt = { index, status: st, gasUsed, logs: [] };
  if (flags & 1) {
    const n = r.u16();
    if (n > MAX_ERROR) throw new DecodeError('DECODE_TOO_LARGE', 'receipt error too long');
    out.error = Buffer.from(r.bytes(n)).toString('utf8');
  }
  if (flags & 2) out.contractAddress = r.bytes(20);
  const nLogs = r.u16();
  for (let i = 0; i < nLogs; i++) {
    const address = r.bytes(r.u8());
    const nt = r.u8();
    const topics: Uint8Array[] = [];
    for (let j = 0; j < nt; j++) topics.push(r.bytes(32));
    const data = r.bytes(r.u32());
    out.logs.push({ address, topics, data } satisfies Log);
  }
  return out;
}

/** Canonical bytes of one receipt. */
export function encodeReceipt(r: Receipt): Uint8Array {
  const w = new Writer();
  writeReceipt(w, r);
  return w.done();
}

export function decodeReceipt(b: Uint8Array): Receipt {
  const r = new Reader(b);
  const out = readReceipt(r);
  if (r.o !== b.byteLength) throw new DecodeError('DECODE_MALFORMED', 'trailing bytes after receipt');
  return out;
}

export function encodeResult(res: Omit<NamespaceResult, 'resultsHash'>): Uint8Array {
  const w = new Writer();
  w.bytes(MAGIC);
  w.u32(res.namespace);
  w.u64(BigInt(res.height));
  w.bytes(res.stateRoot);
  w.u32(res.receipts.length);
  for (const r of res.receipts) {
    const e = encodeReceipt(r);
    w.u32(e.byteLength);
    w.bytes(e);
  }
  return w.done();
}

export function decodeResult(b: Uint8Array): NamespaceResult {
  const r = new Reader(b);
  const magic = r.bytes(4);
  if (!MAGIC.equals(magic)) throw new DecodeError('DECODE_MALFORMED', 'not an execution result');
  const namespace = r.u32();
  const height = Number(r.u64());
  const stateRoot = r.bytes(32);
  const n = r.u32();
  if (n > MAX_RECEIPTS) throw new DecodeError('DECODE_TOO_LARGE', 'too many receipts');
  const receipts: Receipt[] = [];
  for (let i = 0; i < n; i++) receipts.push(decodeReceipt(r.bytes(r.u32())));
  if (r.o !== b.byteLength) throw new DecodeError('DECODE_MALFORMED', 'trailing bytes after results');
  return { namespace, height, stateRoot, receipts, resultsHash: sha256(b) };
}

/** resultsHash = sha256(encodeResult(...)). */
export function resultsHash(res: Omit<NamespaceResult, 'resultsHash'>): Uint8Array {
  return sha256(encodeResult(res));
}
