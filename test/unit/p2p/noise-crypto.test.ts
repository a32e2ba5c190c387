import { randomBytes } from 'node:crypto';
import { pureJsCrypto } from '@chainsafe/libp2p-noise';
import { Uint8ArrayList } from 'uint8arraylist';
import { describe, expect, it } from 'vitest';
import { noiseCrypto, SMALL_FRAME_BYTES } from '../../../src/p2p/libp2p/noise-crypto.ts';

const bytes = (x: Uint8Array | Uint8ArrayList): Uint8Array => (x instanceof Uint8Array ? x : x.subarray());

function nonce(n: number): Uint8Array {
  const b = Buffer.alloc(12);
  b.writeUInt32LE(n, 4);
  return b;
}

const SIZES = [0, 1, 200, SMALL_FRAME_BYTES - 1, SMALL_FRAME_BYTES, 1500, 65_519];

describe('noise crypto (KeyObject per session key)', () => {
  it('seals byte-for-byte like the pure-JS implementation, and each opens the other', () => {
    const k = randomBytes(32);
    const ad = randomBytes(32);
    for (const [i, size] of SIZES.entries()) {
      const pt = randomBytes(size);
      const ours = bytes(noiseCrypto.chaCha20Poly1305Encrypt(pt, nonce(i), ad, k));
      const theirs = bytes(pureJsCrypto.chaCha20Poly1305Encrypt(pt, nonce(i), ad, k));
      expect(Buffer.from(ours).equals(Buffer.from(theirs)), `size ${size}`).toBe(true);
      expect(
        Buffer.from(bytes(noiseCrypto.chaCha20Poly1305Decrypt(theirs, nonce(i), ad, k))).equals(pt),
      ).toBe(true);
      expect(Buffer.from(bytes(pureJsCrypto.chaCha20Poly1305Decrypt(ours, nonce(i), ad, k))).equals(pt)).toBe(
        true,
      );
    }
  });

  it('accepts plaintext and ciphertext split across a Uint8ArrayList', () => {
    const k = randomBytes(32);
    const pt = randomBytes(3000);
    const list = new Uint8ArrayList(pt.subarray(0, 1000), pt.subarray(1000, 1001), pt.subarray(1001));
    const sealed = bytes(noiseCrypto.chaCha20Poly1305Encrypt(list, nonce(7), new Uint8Array(0), k));
    const expected = bytes(pureJsCrypto.chaCha20Poly1305Encrypt(pt, nonce(7), new Uint8Array(0), k));
    expect(Buffer.from(sealed).equals(Buffer.from(expected))).toBe(true);
    const split = new Uint8ArrayList(sealed.subarray(0, 2990), sealed.subarray(2990));
    const opened = bytes(noiseCrypto.chaCha20Poly1305Decrypt(split, nonce(7), new Uint8Array(0), k));
    expect(Buffer.from(opened).equals(pt)).toBe(true);
  });

  it('rejects a tampered frame, a wrong nonce and a frame shorter than its tag, small or large', () => {
    const k = randomBytes(32);
    for (const size of [100, 2000]) {
      const sealed = Buffer.from(
        bytes(noiseCrypto.chaCha20Poly1305Encrypt(randomBytes(size), nonce(1), new Uint8Array(0), k)),
      );
      const bad = Buffer.from(sealed);
      bad[3] = (bad[3] ?? 0) ^ 1;
      expect(() => noiseCrypto.chaCha20Poly1305Decrypt(bad, nonce(1), new Uint8Array(0), k)).toThrow();
      expect(() => noiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce(2), new Uint8Array(0), k)).toThrow();
    }
    expect(() =>
      noiseCrypto.chaCha20Poly1305Decrypt(new Uint8Array(5), nonce(1), new Uint8Array(0), k),
    ).toThrow(/shorter than its tag/);
  });

  it('never reuses a cached key after the key bytes change in place', () => {
    const k = Buffer.from(randomBytes(32));
    const pt = randomBytes(2000);
    noiseCrypto.chaCha20Poly1305Encrypt(pt, nonce(1), new Uint8Array(0), k);
    k[0] = (k[0] ?? 0) ^ 0xff;
    const ours = bytes(noiseCrypto.chaCha20Poly1305Encrypt(pt, nonce(1), new Uint8Array(0), k));
    const theirs = bytes(pureJsCrypto.chaCha20Poly1305Encrypt(pt, nonce(1), new Uint8Array(0), k));
    expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
  });

  it('hashes a list like one array', () => {
    const a = randomBytes(100);
    const whole = noiseCrypto.hashSHA256(a);
    const parts = noiseCrypto.hashSHA256(new Uint8ArrayList(a.subarray(0, 33), a.subarray(33)));
    expect(Buffer.from(parts).equals(Buffer.from(whole))).toBe(true);
    expect(Buffer.from(whole).equals(Buffer.from(pureJsCrypto.hashSHA256(a)))).toBe(true);
  });
});
