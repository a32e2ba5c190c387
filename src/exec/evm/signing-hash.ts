/**
 * The hash an EIP-1559 (type 2) transaction's sender signed, read from its raw bytes (ADR 0251).
 *
 * ethereumjs derives it by turning the decoded fields back into bytes (`raw()`: every quantity through
 * a hex string) and RLP-encoding the first nine again: on a node's admission of a bundle's EVM leg that
 * cost more than the (native) recovery itself. The encoding of a transaction ethereumjs accepted is
 * canonical, so the unsigned list is exactly the signed list's first nine items as they stand in the
 * payload: `keccak256(0x02 ‖ listHeader(len) ‖ items[0..9])`. Other types: undefined (the caller uses
 * ethereumjs).
 */
import { keccak_256 } from '@noble/hashes/sha3.js';

/** Unsigned fields of a type-2 transaction: chainId … accessList (then yParity, r, s). */
const UNSIGNED_FIELDS = 9;

/** Offset just past the RLP item starting at `at`, or -1 when it runs past `end`. */
function skipItem(b: Uint8Array, at: number, end: number): number {
  if (at >= end) return -1;
  const p = b[at]!;
  let next: number;
  if (p < 0x80) next = at + 1;
  else if (p <= 0xb7) next = at + 1 + (p - 0x80);
  else if (p < 0xc0 || p > 0xf7) {
    // Long string (0xb8–0xbf) or long list (0xf8–0xff): the length's own length first.
    const n = p < 0xc0 ? p - 0xb7 : p - 0xf7;
    if (at + 1 + n > end) return -1;
    let len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[at + 1 + i]!;
    next = at + 1 + n + len;
  } else next = at + 1 + (p - 0xc0);
  return next <= end ? next : -1;
}

/** The RLP list header for a payload of `len` bytes. */
function listHeader(len: number): Uint8Array {
  if (len <= 55) return Uint8Array.of(0xc0 + len);
  const bytes: number[] = [];
  for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Uint8Array.of(0xf7 + bytes.length, ...bytes);
}

/**
 * keccak256 of the unsigned type-2 message of `payload` (0x02 ‖ rlp(signed fields)), or undefined when
 * it is not a well-formed type-2 list of at least nine items. Only for payloads ethereumjs decoded.
 */
export function signingHash1559(payload: Uint8Array): Uint8Array | undefined {
  if (payload.byteLength < 2 || payload[0] !== 2) return undefined;
  const p = payload[1]!;
  if (p < 0xc0) return undefined;
  let start: number;
  let end: number;
  if (p <= 0xf7) {
    start = 2;
    end = start + (p - 0xc0);
  } else {
    const n = p - 0xf7;
    let len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (payload[2 + i] ?? 0);
    start = 2 + n;
    end = start + len;
  }
  if (end > payload.byteLength) return undefined;
  let at = start;
  for (let i = 0; i < UNSIGNED_FIELDS; i++) {
    at = skipItem(payload, at, end);
    if (at < 0) return undefined;
  }
  const body = payload.subarray(start, at);
  const header = listHeader(body.byteLength);
  const msg = new Uint8Array(1 + header.byteLength + body.byteLength);
  msg[0] = 2;
  msg.set(header, 1);
  msg.set(body, 1 + header.byteLength);
  return keccak_256(msg);
}
