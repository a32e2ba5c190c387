/**
 * The on-disk key layout shared by every storage engine. Both engines (LevelDB and LMDB) compare keys
 * as raw bytes, so the layout is defined once here and every engine stores exactly the same keys:
 *
 *   b <height u64 BE>                 encoded block (src/codec encodeBlock)
 *   c <height u64 BE>                 encoded commit certificate
 *   h <height u64 BE>                 32-byte block hash
 *   t <tx hash, 32 bytes>             location: height u64 BE || index u32 BE
 *   m <utf-8 key>                     node metadata (putMeta/getMeta)
 *   s <len u8> <utf-8 prefix> <key>   sub() key/value views; the length byte keeps 'exec' and 'exec/2' apart
 *   p head                            head pointer: height u64 BE || block hash (32), same batch as the block
 *   p version                         layout version u32 BE, written when a database is created
 *   p crcfrom                         u64 BE: the first height whose b/c/h values are checksummed (v2)
 *
 * Layout 2 (ADR 0089) seals the b, c and h values with a CRC-32 (checksum.ts) from height `crcfrom`
 * on; a layout-1 store is upgraded on open by writing `version = 2, crcfrom = head + 1` (its older
 * values stay as they are).
 *
 * Big-endian heights make byte order equal numeric order, so range scans walk blocks in height order.
 */
import { OrdoError } from '../errors.ts';
import type { TxLocation } from './types.ts';

export const LAYOUT_VERSION = 2;
/** The layout this build still opens (and upgrades in place). */
export const LEGACY_LAYOUT_VERSION = 1;

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

const TAG_BLOCK = 0x62; // 'b'
const TAG_CERT = 0x63; // 'c'
const TAG_HASH = 0x68; // 'h'
const TAG_TX = 0x74; // 't'
const TAG_META = 0x6d; // 'm'
const TAG_SUB = 0x73; // 's'

/** Longest key a caller may pass to sub()/meta; LMDB's default limit is ~1.9 KiB, so stay well under. */
export const MAX_USER_KEY_BYTES = 1024;
export const MAX_SUB_PREFIX_BYTES = 255;
export const HASH_BYTES = 32;

export const HEAD_KEY: Uint8Array = enc.encode('phead');
export const VERSION_KEY: Uint8Array = enc.encode('pversion');
export const CRC_FROM_KEY: Uint8Array = enc.encode('pcrcfrom');

function heightKey(tag: number, height: number): Uint8Array {
  if (!Number.isSafeInteger(height) || height < 0) {
    throw new OrdoError('STORE_BAD_HEIGHT', `height must be a non-negative safe integer, got ${height}`, {
      height,
    });
  }
  const k = new Uint8Array(9);
  k[0] = tag;
  new DataView(k.buffer).setBigUint64(1, BigInt(height));
  return k;
}

export const blockKey = (height: number): Uint8Array => heightKey(TAG_BLOCK, height);
export const certKey = (height: number): Uint8Array => heightKey(TAG_CERT, height);
export const hashKey = (height: number): Uint8Array => heightKey(TAG_HASH, height);

/** The first key of the block range: used to detect blocks stored without a head pointer. */
export const BLOCK_RANGE_LO: Uint8Array = new Uint8Array([TAG_BLOCK]);
export const BLOCK_RANGE_HI: Uint8Array = new Uint8Array([TAG_BLOCK + 1]);
export const CERT_RANGE_LO: Uint8Array = new Uint8Array([TAG_CERT]);
export const CERT_RANGE_HI: Uint8Array = new Uint8Array([TAG_CERT + 1]);
export const HASH_RANGE_LO: Uint8Array = new Uint8Array([TAG_HASH]);
export const HASH_RANGE_HI: Uint8Array = new Uint8Array([TAG_HASH + 1]);
export const TX_RANGE_LO: Uint8Array = new Uint8Array([TAG_TX]);
export const TX_RANGE_HI: Uint8Array = new Uint8Array([TAG_TX + 1]);

/** The height of a b/c/h key, or undefined when the key is not 9 bytes. */
export function heightOfKey(k: Uint8Array): number | undefined {
  if (k.byteLength !== 9) return undefined;
  const h = new DataView(k.buffer, k.byteOffset, k.byteLength).getBigUint64(1);
  return h > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(h);
}

export function encodeU64(n: number): Uint8Array {
  const v = new Uint8Array(8);
  new DataView(v.buffer).setBigUint64(0, BigInt(n));
  return v;
}

export function decodeU64(v: Uint8Array): number | undefined {
  if (v.byteLength !== 8) return undefined;
  const n = new DataView(v.buffer, v.byteOffset, v.byteLength).getBigUint64(0);
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(n);
}

export function txKey(txHash: Uint8Array): Uint8Array {
  if (txHash.byteLength !== HASH_BYTES) {
    throw new OrdoError('STORE_BAD_KEY', `tx hash must be ${HASH_BYTES} bytes, got ${txHash.byteLength}`);
  }
  const k = new Uint8Array(1 + HASH_BYTES);
  k[0] = TAG_TX;
  k.set(txHash, 1);
  return k;
}

/**
 * The tx-index writes of one block, last transaction first (so in one batch the first occurrence of a
 * hash wins). Every key and value is a view into one buffer: a block carries thousands of transactions,
 * and an ArrayBuffer per 33-byte key and 12-byte value was a tenth of the commit cost.
 */
export function txLocationWrites(
  hashes: Uint8Array[],
  height: number,
): { key: Uint8Array; value: Uint8Array }[] {
  const n = hashes.length;
  const KEY = 1 + HASH_BYTES;
  const REC = KEY + 12;
  const buf = Buffer.allocUnsafe(n * REC);
  const hi = Math.floor(height / 0x1_0000_0000);
  const lo = height >>> 0;
  const out: { key: Uint8Array; value: Uint8Array }[] = new Array(n);
  for (let i = n - 1, at = 0; i >= 0; i--, at += REC) {
    const h = hashes[i]!;
    if (h.byteLength !== HASH_BYTES) {
      throw new OrdoError('STORE_BAD_KEY', `tx hash must be ${HASH_BYTES} bytes, got ${h.byteLength}`);
    }
    buf[at] = TAG_TX;
    buf.set(h, at + 1);
    buf.writeUInt32BE(hi, at + KEY);
    buf.writeUInt32BE(lo, at + KEY + 4);
    buf.writeUInt32BE(i, at + KEY + 8);
    out[n - 1 - i] = {
      key: new Uint8Array(buf.buffer, buf.byteOffset + at, KEY),
      value: new Uint8Array(buf.buffer, buf.byteOffset + at + KEY, 12),
    };
  }
  return out;
}

export function metaKey(key: string): Uint8Array {
  const b = enc.encode(key);
  if (b.byteLength === 0 || b.byteLength > MAX_USER_KEY_BYTES) {
    throw new OrdoError(
      'STORE_BAD_KEY',
      `meta key must be 1..${MAX_USER_KEY_BYTES} bytes, got ${b.byteLength}`,
    );
  }
  const k = new Uint8Array(1 + b.byteLength);
  k[0] = TAG_META;
  k.set(b, 1);
  return k;
}

/** The key prefix of a sub() view: 's' || len u8 || prefix. */
export function subPrefix(prefix: string): Uint8Array {
  const b = enc.encode(prefix);
  if (b.byteLength === 0 || b.byteLength > MAX_SUB_PREFIX_BYTES) {
    throw new OrdoError(
      'STORE_BAD_KEY',
      `sub() prefix must be 1..${MAX_SUB_PREFIX_BYTES} bytes of UTF-8, got ${b.byteLength}`,
      { prefix },
    );
  }
  const k = new Uint8Array(2 + b.byteLength);
  k[0] = TAG_SUB;
  k[1] = b.byteLength;
  k.set(b, 2);
  return k;
}

export function checkUserKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.byteLength > MAX_USER_KEY_BYTES) {
    throw new OrdoError(
      'STORE_BAD_KEY',
      `key must be a Uint8Array of at most ${MAX_USER_KEY_BYTES} bytes, got ${key instanceof Uint8Array ? `${key.byteLength} bytes` : typeof key}`,
    );
  }
}

/**
 * Extra writes committed with a block may only touch component state (sub views) and metadata, never the
 * block, certificate, hash, tx-index or head entries the store itself maintains.
 */
export function checkExtraKey(key: Uint8Array): void {
  if (
    !(key instanceof Uint8Array) ||
    key.byteLength < 2 ||
    key.byteLength > 2 + MAX_SUB_PREFIX_BYTES + MAX_USER_KEY_BYTES
  ) {
    throw new OrdoError('STORE_BAD_KEY', 'extra write key must be a sub-view or meta key (see subKey())');
  }
  if (key[0] !== TAG_SUB && key[0] !== TAG_META) {
    throw new OrdoError(
      'STORE_BAD_KEY',
      `extra write key starts with 0x${key[0]!.toString(16)}; only sub-view keys (subKey()) and meta keys are allowed`,
    );
  }
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

/** The smallest key greater than every key that starts with `prefix` (undefined if prefix is all 0xff). */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  const out = prefix.slice();
  for (let i = out.byteLength - 1; i >= 0; i--) {
    if (out[i]! < 0xff) {
      out[i] = out[i]! + 1;
      return out.subarray(0, i + 1);
    }
  }
  return undefined;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.byteLength - b.byteLength;
}

export function encodeTxLocation(loc: TxLocation): Uint8Array {
  const v = new Uint8Array(12);
  const dv = new DataView(v.buffer);
  dv.setBigUint64(0, BigInt(loc.height));
  dv.setUint32(8, loc.index);
  return v;
}

export function decodeTxLocation(v: Uint8Array): TxLocation | undefined {
  if (v.byteLength !== 12) return undefined;
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  return { height: Number(dv.getBigUint64(0)), index: dv.getUint32(8) };
}

export interface Head {
  height: number;
  hash: Uint8Array;
}

export function encodeHead(head: Head): Uint8Array {
  const v = new Uint8Array(8 + HASH_BYTES);
  new DataView(v.buffer).setBigUint64(0, BigInt(head.height));
  v.set(head.hash, 8);
  return v;
}

export function decodeHead(v: Uint8Array): Head | undefined {
  if (v.byteLength !== 8 + HASH_BYTES) return undefined;
  const h = new DataView(v.buffer, v.byteOffset, v.byteLength).getBigUint64(0);
  if (h > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return { height: Number(h), hash: v.slice(8) };
}

export function encodeU32(n: number): Uint8Array {
  const v = new Uint8Array(4);
  new DataView(v.buffer).setUint32(0, n);
  return v;
}

export function decodeU32(v: Uint8Array): number | undefined {
  if (v.byteLength !== 4) return undefined;
  return new DataView(v.buffer, v.byteOffset, v.byteLength).getUint32(0);
}

export function utf8(s: string): Uint8Array {
  return enc.encode(s);
}

export function fromUtf8(b: Uint8Array): string {
  return dec.decode(b);
}
