/** The shared key layout: byte order equals height order, sub prefixes cannot collide, codecs round-trip. */
import { describe, expect, it } from 'vitest';
import { OrdoError } from '../../../src/errors.ts';
import {
  blockKey,
  compareBytes,
  decodeHead,
  decodeTxLocation,
  encodeHead,
  encodeTxLocation,
  prefixEnd,
  subPrefix,
  txKey,
  txLocationWrites,
} from '../../../src/store/keys.ts';

describe('store key layout', () => {
  it('orders block keys by height', () => {
    const hs = [1, 2, 255, 256, 65_536, 2 ** 40, Number.MAX_SAFE_INTEGER];
    for (let i = 1; i < hs.length; i++) {
      expect(compareBytes(blockKey(hs[i - 1]!), blockKey(hs[i]!))).toBeLessThan(0);
    }
    expect(() => blockKey(-1)).toThrow(OrdoError);
    expect(() => blockKey(1.5)).toThrow(OrdoError);
  });

  it('keeps sub prefixes apart even when one is a prefix of the other', () => {
    const a = subPrefix('exec');
    const b = subPrefix('exec/2');
    const end = prefixEnd(a)!;
    // b must fall outside [a, prefixEnd(a)).
    expect(compareBytes(b, a) < 0 || compareBytes(b, end) >= 0).toBe(true);
    expect(() => subPrefix('')).toThrow(OrdoError);
    expect(() => subPrefix('x'.repeat(256))).toThrow(OrdoError);
  });

  it('computes the end of a prefix range', () => {
    expect(prefixEnd(new Uint8Array([1, 2]))).toEqual(new Uint8Array([1, 3]));
    expect(prefixEnd(new Uint8Array([1, 0xff]))).toEqual(new Uint8Array([2]));
    expect(prefixEnd(new Uint8Array([0xff, 0xff]))).toBeUndefined();
  });

  it('round-trips tx locations and the head pointer, rejecting wrong sizes', () => {
    expect(decodeTxLocation(encodeTxLocation({ height: 2 ** 40, index: 99_999 }))).toEqual({
      height: 2 ** 40,
      index: 99_999,
    });
    expect(decodeTxLocation(new Uint8Array(11))).toBeUndefined();
    const hash = new Uint8Array(32).fill(5);
    expect(decodeHead(encodeHead({ height: 7, hash }))).toEqual({ height: 7, hash });
    expect(decodeHead(new Uint8Array(39))).toBeUndefined();
    expect(() => txKey(new Uint8Array(31))).toThrow(OrdoError);
  });

  it("builds a block's tx-index writes last-first, each equal to txKey / encodeTxLocation", () => {
    const hashes = [1, 2, 3].map((b) => new Uint8Array(32).fill(b));
    const height = 2 ** 33 + 5;
    const w = txLocationWrites(hashes, height);
    expect(w.map((x) => x.key)).toEqual([txKey(hashes[2]!), txKey(hashes[1]!), txKey(hashes[0]!)]);
    expect(w.map((x) => decodeTxLocation(x.value))).toEqual([2, 1, 0].map((index) => ({ height, index })));
    expect(w[0]!.value).toEqual(encodeTxLocation({ height, index: 2 }));
    expect(() => txLocationWrites([new Uint8Array(31)], 1)).toThrow(OrdoError);
  });
});
