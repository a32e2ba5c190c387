/**
 * Hash functions. sha256 through node:crypto (native, ~420k ops/s for 32 bytes) is the one hash of the
 * protocol: transaction ids, block hashes, Merkle trees, commitments.
 */
import { createHash } from 'node:crypto';

export const HASH_LEN = 32;
export const ZERO_HASH: Uint8Array = new Uint8Array(HASH_LEN);

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest().buffer.slice(0) as ArrayBuffer);
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Bytes as a latin1 string (one char per byte, no copy of the bytes): a cheap Map/Set key. */
export function latin1Key(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** Parse hex with or without a 0x prefix; throws on odd length or non-hex characters. */
export function fromHex(s: string): Uint8Array {
  const h = s.startsWith('0x') || s.startsWith('0X') ? s.slice(2) : s;
  // Buffer's decoder stops at the first pair that is not hex, so a full-length result proves every
  // digit valid: one native pass instead of a regular expression over the string first.
  const b = h.length % 2 === 0 ? Buffer.from(h, 'hex') : undefined;
  if (b === undefined || b.byteLength * 2 !== h.length) throw new Error(`invalid hex string`);
  return new Uint8Array(b);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
