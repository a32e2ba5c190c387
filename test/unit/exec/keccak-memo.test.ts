/**
 * The executor EVM's keccak memo (ADR 0325): the digest of every input is keccak256's, short inputs are
 * remembered up to the bound (oldest dropped first), and a caller writing into a returned digest cannot
 * change what later calls return.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { describe, expect, it } from 'vitest';
import { keccakMemo } from '../../../src/exec/evm/keccak-memo.ts';

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

describe('keccakMemo', () => {
  it('gives keccak256 for every length, hit or miss', () => {
    const k = keccakMemo(16, 64);
    for (const n of [0, 1, 20, 32, 63, 64, 65, 200]) {
      const m = bytes(n, n);
      const want = keccak_256(m);
      expect(k(m)).toEqual(want); // miss
      expect(k(Uint8Array.from(m))).toEqual(want); // hit (another array, same bytes)
    }
    // Only inputs up to 64 bytes are remembered.
    expect(k.size).toBe(6);
  });

  it('keys by exact bytes: inputs differing in length or one byte are different entries', () => {
    const k = keccakMemo();
    const a = new Uint8Array(32);
    const b = new Uint8Array(31);
    const c = new Uint8Array(32);
    c[31] = 1;
    expect(k(a)).toEqual(keccak_256(a));
    expect(k(b)).toEqual(keccak_256(b));
    expect(k(c)).toEqual(keccak_256(c));
    expect(k(a)).not.toEqual(k(b));
    expect(k.size).toBe(3);
  });

  it('returns copies: writing into a digest does not change later answers', () => {
    const k = keccakMemo();
    const m = bytes(32, 7);
    const first = k(m);
    first.fill(0);
    expect(k(m)).toEqual(keccak_256(m));
    const second = k(m);
    second[0] = second[0]! ^ 0xff;
    expect(k(m)).toEqual(keccak_256(m));
  });

  it('holds at most maxEntries digests, dropping the oldest first', () => {
    const k = keccakMemo(4);
    for (let i = 0; i < 10; i++) k(Uint8Array.of(i));
    expect(k.size).toBe(4);
    // Still correct for dropped and kept inputs alike.
    for (let i = 0; i < 10; i++) expect(k(Uint8Array.of(i))).toEqual(keccak_256(Uint8Array.of(i)));
    expect(k.size).toBe(4);
  });
});
