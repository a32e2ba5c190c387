/**
 * Big-endian integers as bytes, the fixed-width fields of the codec's hashed layouts (hashing.ts,
 * commitments.ts). Internal to the codec: not part of its public surface (index.ts).
 */

/** `n` as 4 big-endian bytes. */
export function u32be(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

/** `n` (a safe integer) as 8 big-endian bytes. */
export function u64be(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}
