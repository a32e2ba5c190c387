/**
 * Per-value checksums for the block store (ADR 0089). LevelDB checks a table block's CRC only when a
 * read asks it to, and classic-level never asks (`verify_checksums` is not exposed): bytes flipped
 * inside a table file come back as a silently different value, or the key vanishes. So from layout
 * version 2 on, the values the chain is served from (block, certificate, block hash) carry their own
 * CRC-32: `[crc32 u32 BE][payload]`, checked on every read. Stores created by layout 1 keep their old
 * values as they are; the store records the first height written with checksums (`p crcfrom`).
 */
import { crc32 } from 'node:zlib';

export const CHECKSUM_BYTES = 4;

/** `[crc32(payload) u32 BE][payload]`. */
export function seal(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(CHECKSUM_BYTES + payload.byteLength);
  new DataView(out.buffer).setUint32(0, crc32(payload));
  out.set(payload, CHECKSUM_BYTES);
  return out;
}

/** The payload of a sealed value, or undefined when it is too short or its checksum does not match. */
export function unseal(v: Uint8Array): Uint8Array | undefined {
  if (v.byteLength < CHECKSUM_BYTES) return undefined;
  const payload = v.subarray(CHECKSUM_BYTES);
  const sum = new DataView(v.buffer, v.byteOffset, v.byteLength).getUint32(0);
  return crc32(payload) === sum ? payload : undefined;
}
