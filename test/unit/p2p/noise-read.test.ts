/**
 * Noise reads without a copy of each large message (src/p2p/libp2p/noise-read.ts, ADR 0272): the
 * patched `decrypt` returns the same plaintext as the library's for messages that arrived whole or in
 * several chunks, small and large, passes a plaintext destination only where the small-message open
 * writes into it, counts like the library, and a forged message still fails.
 */
import { randomBytes } from 'node:crypto';
import { LengthPrefixedDecoder } from '@libp2p/utils';
import { Uint8ArrayList } from 'uint8arraylist';
import { describe, expect, it } from 'vitest';
import { noiseCrypto, SMALL_FRAME_BYTES } from '../../../src/p2p/libp2p/noise-crypto.ts';
import { leanNoiseReads, noiseLengthOrWait } from '../../../src/p2p/libp2p/noise-read.ts';

const key = randomBytes(32);
const ad = new Uint8Array(0);

function nonceBytes(n: number): Uint8Array {
  const b = new Uint8Array(12);
  new DataView(b.buffer).setUint32(4, n, true);
  return b;
}

function flat(b: Uint8Array | Uint8ArrayList): Buffer {
  return Buffer.from(b instanceof Uint8Array ? b : b.subarray());
}

/** A stand-in for the library's connection: a handshake whose decrypt opens with the session key. */
function conn() {
  let n = 0;
  const calls: { list: boolean; dst: boolean }[] = [];
  const counts = { ok: 0, failed: 0 };
  const c = {
    handshake: {
      decrypt(ct: Uint8Array | Uint8ArrayList, dst?: Uint8Array) {
        calls.push({ list: !(ct instanceof Uint8Array), dst: dst !== undefined });
        return noiseCrypto.chaCha20Poly1305Decrypt(ct, nonceBytes(n++), ad, key, dst);
      },
    },
    metrics: {
      decryptedPackets: { increment: () => counts.ok++ },
      decryptErrors: { increment: () => counts.failed++ },
    },
    decrypt: (_: Uint8Array | Uint8ArrayList): Uint8ArrayList => {
      throw new Error('not patched');
    },
  };
  leanNoiseReads(c);
  return { c, calls, counts };
}

function sealed(plain: Uint8Array, n: number): Buffer {
  return flat(noiseCrypto.chaCha20Poly1305Encrypt(plain, nonceBytes(n), ad, key));
}

/** The ciphertext as a list of chunks of at most `size` bytes (as several socket reads deliver it). */
function chunked(b: Uint8Array, size: number): Uint8ArrayList {
  const l = new Uint8ArrayList();
  for (let i = 0; i < b.byteLength; i += size) l.append(Uint8Array.prototype.slice.call(b, i, i + size));
  return l;
}

describe('lean Noise reads (ADR 0272)', () => {
  it('opens whole and chunked messages, small and large, to the sealed plaintext', () => {
    const { c, calls, counts } = conn();
    const sizes = [1, SMALL_FRAME_BYTES - 17, SMALL_FRAME_BYTES, 5_000, 65_535 - 16];
    let n = 0;
    for (const size of sizes) {
      for (const split of [0, 700, 1_000_000]) {
        const plain = randomBytes(size);
        const ct = sealed(plain, n++);
        const input = split === 0 ? new Uint8Array(ct) : chunked(ct, split);
        expect(flat(c.decrypt(input)).equals(plain), `${size} bytes, chunks of ${split}`).toBe(true);
      }
    }
    expect(counts).toEqual({ ok: sizes.length * 3, failed: 0 });
    // A destination only for small messages or contiguous ones (where it is a view, not a copy).
    const large = calls.filter((x, i) => x.list && sizes[Math.floor(i / 3)]! + 16 >= SMALL_FRAME_BYTES);
    expect(large.length).toBeGreaterThan(0);
    expect(large.every((x) => !x.dst)).toBe(true);
    expect(calls.filter((x) => !x.list).every((x) => x.dst)).toBe(true);
  });

  it('a forged message fails and is counted', () => {
    const { c, counts } = conn();
    const ct = sealed(randomBytes(2_000), 0);
    ct[100] = ct[100]! ^ 1;
    expect(() => c.decrypt(chunked(ct, 600))).toThrow();
    expect(counts).toEqual({ ok: 0, failed: 1 });
    expect(() => c.decrypt(new Uint8Array(10))).toThrow('Invalid chunk');
  });

  it('reads message lengths without throwing, and the decoder waits for a prefix cut short (ADR 0302)', () => {
    expect(noiseLengthOrWait(new Uint8Array([0x12, 0x34, 9]))).toBe(0x1234);
    expect(noiseLengthOrWait(new Uint8ArrayList(new Uint8Array([0xff]), new Uint8Array([0xfe, 1])))).toBe(
      0xfffe,
    );
    expect(noiseLengthOrWait(new Uint8Array([7]))).toBe(65_535);
    expect(noiseLengthOrWait(new Uint8ArrayList())).toBe(65_535);
    // The library's decoder with this reader, as leanNoiseReads installs it: a stream of messages
    // (empty, small, the largest) cut into reads at every offset comes out whole and in order.
    const messages = [new Uint8Array(0), randomBytes(1), randomBytes(300), randomBytes(65_535)];
    const wire = Buffer.concat(
      messages.map((m) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 255]), m])),
    );
    for (const cut of [1, 2, 3, 301, 302, 4_096, wire.length]) {
      const decoder = new LengthPrefixedDecoder({
        lengthDecoder: noiseLengthOrWait,
        maxBufferSize: 16 * 1024 * 1024,
        encodingLength: () => 2,
      });
      const out: Buffer[] = [];
      for (let i = 0; i < wire.length; i += cut) {
        for (const m of decoder.decode(wire.subarray(i, i + cut))) out.push(Buffer.from(m.subarray()));
      }
      // (The decoder yields no empty messages.)
      expect(
        out.map((b) => b.toString('hex')),
        `reads of ${cut}`,
      ).toEqual(messages.filter((m) => m.length > 0).map((m) => Buffer.from(m).toString('hex')));
    }
    // leanNoiseReads installs it on the connection's decoder.
    const c = { ...conn().c, decoder: { lengthDecoder: (_: unknown) => 0 } };
    leanNoiseReads(c);
    expect(c.decoder.lengthDecoder).toBe(noiseLengthOrWait);
  });

  it('leaves anything that is not a Noise connection alone', () => {
    const o = { decrypt: 1 };
    leanNoiseReads(o);
    leanNoiseReads(null);
    expect(o.decrypt).toBe(1);
  });
});
