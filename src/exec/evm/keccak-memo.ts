/**
 * keccak256 with a bounded memo of short inputs, for the executor EVM's `Common.customCrypto` (ADR 0325).
 *
 * Per ERC-20 transfer ethereumjs hashes the same few short values again and again: the logs bloom of
 * every transaction hashes the log's address and each topic (token address, the Transfer topic, the two
 * padded account words), and SHA3 hashes `key ‖ slot` (64 bytes) for every mapping access (balances,
 * allowances). A token's address and event topic repeat in every transfer and active accounts repeat
 * often, while the pure-JS keccak costs several µs per call: on a profile of the executor workers the
 * hashing was 5–9 % of their time. Inputs of at most `maxInputBytes` bytes are looked up by their exact
 * bytes (a latin1 string key) before hashing; the memo keeps at most `maxEntries` digests, the oldest
 * dropped first. Every call returns its own copy, so a caller that writes into a digest cannot change
 * what later calls get. Longer inputs (transaction payloads, code) are hashed as before.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';

export interface KeccakMemo {
  (msg: Uint8Array): Uint8Array;
  /** Digests held (tests). */
  readonly size: number;
}

export function keccakMemo(maxEntries = 8192, maxInputBytes = 64): KeccakMemo {
  const memo = new Map<string, Uint8Array>();
  const f = (msg: Uint8Array): Uint8Array => {
    if (msg.byteLength > maxInputBytes) return keccak_256(msg);
    const key = String.fromCharCode.apply(null, msg as unknown as number[]);
    const hit = memo.get(key);
    if (hit !== undefined) return hit.slice();
    const h = keccak_256(msg);
    memo.set(key, h);
    if (memo.size > maxEntries) memo.delete(memo.keys().next().value!);
    return h.slice();
  };
  Object.defineProperty(f, 'size', { get: () => memo.size });
  return f as KeccakMemo;
}
