import { ecrecover as utilEcrecover } from '@ethereumjs/util';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ecrecover,
  ecrecoverBackend,
  ecrecoverWith,
  ecsign,
  recoverNative,
  recoverWasm,
} from '../../../src/exec/evm/ecrecover.ts';

const N = secp256k1.Point.CURVE().n;
const be32 = (x: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
};
const int = (b: Uint8Array): bigint => BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);

/** Both implementations' answer: the key as hex, or 'throws'. */
function both(h: Uint8Array, v: bigint, r: Uint8Array, s: Uint8Array, chainId?: bigint) {
  const run = (f: typeof ecrecover) => {
    try {
      return Buffer.from(f(h, v, r, s, chainId)).toString('hex');
    } catch {
      return 'throws';
    }
  };
  const native = recoverNative;
  return {
    wasm: run((...a) => ecrecoverWith(recoverWasm, ...a)),
    // Where the native addon does not load, the process uses the WebAssembly build; compare that.
    native: native === undefined ? run(ecrecover) : run((...a) => ecrecoverWith(native, ...a)),
    noble: run(utilEcrecover),
  };
}

function signed(sk: Uint8Array, h: Uint8Array) {
  const s = secp256k1.sign(h, sk, { prehash: false, format: 'recovered' });
  return { rec: BigInt(s[0]!), r: s.subarray(1, 33), s: s.subarray(33, 65) };
}

describe('ecrecover through libsecp256k1 (native and WASM) matches ethereumjs util (noble)', () => {
  it('uses the native addon where its prebuilt binary loads (linux-x64 here)', () => {
    if (process.platform === 'linux' && process.arch === 'x64' && process.env.ORDO_SECP256K1 !== 'wasm') {
      expect(ecrecoverBackend()).toBe('native');
    }
    expect(ecrecover).toBeTypeOf('function');
  });

  it('recovers the same key for valid signatures, with every v convention', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (skSeed, h) => {
          const sk = be32((int(skSeed) % (N - 1n)) + 1n);
          const { rec, r, s } = signed(sk, h);
          const expected = Buffer.from(secp256k1.getPublicKey(sk, false).subarray(1)).toString('hex');
          for (const [v, chainId] of [
            [rec, undefined],
            [rec + 27n, undefined],
            [rec + 900_001n * 2n + 35n, 900_001n],
          ] as [bigint, bigint | undefined][]) {
            const got = both(h, v, r, s, chainId);
            expect(got.wasm).toBe(expected);
            expect(got.native).toBe(expected);
            expect(got.noble).toBe(expected);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('agrees on high s (the precompile allows it), short r/s, and every kind of bad signature', () => {
    const sk = be32(12345678901234567890n);
    const h = new Uint8Array(32).fill(7);
    const { rec, r, s } = signed(sk, h);
    const highS = be32(N - int(s));
    const cases: [bigint, Uint8Array, Uint8Array][] = [
      [(rec ^ 1n) + 27n, r, highS], // the same signature with s negated: valid, other parity
      [rec + 27n, r.subarray(1), s], // r shorter than 32 bytes (left-padded): a different, maybe valid r
      [rec + 27n, new Uint8Array(32), s], // r = 0
      [rec + 27n, r, new Uint8Array(32)], // s = 0
      [rec + 27n, be32(N), s], // r = n
      [rec + 27n, r, be32(N + 1n)], // s > n
      [rec + 27n, new Uint8Array(32).fill(0xff), s], // r ≥ p
      [rec + 27n, be32(5n), s], // r with no point on the curve (x = 5 is not a coordinate)
      [29n, r, s], // v out of range
      [2n, r, s],
    ];
    for (const [v, rr, ss] of cases) {
      const got = both(h, v, rr, ss);
      expect(got.wasm, `v=${v} r=${Buffer.from(rr).toString('hex')}`).toBe(got.noble);
      expect(got.native, `native v=${v} r=${Buffer.from(rr).toString('hex')}`).toBe(got.noble);
    }
    expect(both(h, (rec ^ 1n) + 27n, r, highS).wasm).not.toBe('throws');
    expect(both(h, (rec ^ 1n) + 27n, r, highS).native).not.toBe('throws');
    expect(both(h, rec + 27n, new Uint8Array(32), s).wasm).toBe('throws');
    expect(both(h, rec + 27n, new Uint8Array(32), s).native).toBe('throws');
  });

  it('agrees on random garbage', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.constantFrom(0n, 1n, 27n, 28n, 30n),
        (h, r, s, v) => {
          const got = both(h, v, r, s);
          expect(got.wasm).toBe(got.noble);
          expect(got.native).toBe(got.noble);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('signs transactions byte for byte as noble does (RFC 6979, low s), natively where the addon loads', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.bigInt({ min: 1n, max: N - 1n }),
        (h, k) => {
          const sk = be32(k);
          const opts = { prehash: false, format: 'recovered' } as const;
          expect(Buffer.from(ecsign(h, sk, opts)).toString('hex')).toBe(
            Buffer.from(secp256k1.sign(h, sk, opts)).toString('hex'),
          );
        },
      ),
      { numRuns: 200 },
    );
    // What ethereumjs does not ask (other formats, extra entropy) is noble's answer as is.
    const sk = be32(12345n);
    const h = new Uint8Array(32).fill(7);
    expect(ecsign(h, sk, { prehash: false })).toEqual(secp256k1.sign(h, sk, { prehash: false }));
  });
});
