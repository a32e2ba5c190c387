import { describe, expect, it } from 'vitest';
import {
  bundleBody,
  bundleHash,
  canonicalBundle,
  decodeBundle,
  decodeBundleBatch,
  encodeBundle,
  encodeBundleBatch,
  formatUuid,
  LIMITS,
  parseUuid,
  pb,
  spanLeafHash,
} from '../../../src/codec/index.ts';
import { DecodeError } from '../../../src/errors.ts';
import type { Bundle } from '../../../src/types.ts';

const enc = new TextEncoder();
const h32 = (n: number): Uint8Array => new Uint8Array(32).fill(n);

function bundle(over: Partial<Bundle> = {}): Bundle {
  return {
    legs: [
      { namespace: 1, txs: [enc.encode('a'), enc.encode('b')], revertingTxHashes: [h32(2)] },
      { namespace: 4, txs: [enc.encode('c')], revertingTxHashes: [] },
    ],
    atomicity: 'execution',
    minHeight: 3,
    maxHeight: 9,
    replacementUuid: new Uint8Array(0),
    signer: new Uint8Array(0),
    signature: new Uint8Array(0),
    ...over,
  };
}

/** Encode a wire object directly, bypassing the domain encoder (to build bad input). */
const raw = (w: object): Uint8Array => pb.Bundle.encode(w).finish();

describe('bundle codec', () => {
  it('round-trips a canonical bundle', () => {
    const b = bundle();
    expect(decodeBundle(encodeBundle(b))).toEqual(b);
    expect(decodeBundleBatch(encodeBundleBatch([b, b]))).toEqual([b, b]);
  });

  it('hashes the documented layout, bound to the chain id', () => {
    const b = bundle();
    const body = bundleBody('c', b);
    expect(Buffer.from(body.subarray(0, 14)).toString()).toBe('ordo/bundle/v1');
    expect(bundleHash('c', b)).not.toEqual(bundleHash('d', b));
    expect(bundleHash('c', b)).toEqual(bundleHash('c', decodeBundle(encodeBundle(b))));
    expect(bundleHash('c', b)).not.toEqual(bundleHash('c', bundle({ maxHeight: 10 })));
  });

  it('canonicalBundle sorts legs and reverting hashes', () => {
    const b = bundle();
    const shuffled = bundle({
      legs: [{ ...b.legs[1]! }, { ...b.legs[0]!, revertingTxHashes: [h32(2), h32(2)] }],
    });
    expect(canonicalBundle(shuffled)).toEqual(b);
  });

  it('refuses non-canonical and oversized bundles with clear errors', () => {
    const w = { ...bundle(), atomicity: 1 };
    const bad: [object, RegExp][] = [
      [{ ...w, legs: [] }, /no legs/],
      [{ ...w, legs: [w.legs[1], w.legs[0]] }, /sorted by namespace/],
      [{ ...w, legs: [{ namespace: 1, txs: [] }] }, /no transactions/],
      [{ ...w, atomicity: 3 }, /atomicity/],
      [{ ...w, replacementUuid: new Uint8Array(16) }, /needs a signed bundle/],
      [{ ...w, signer: new Uint8Array(32) }, /both be set/],
      [{ ...w, minHeight: 5, maxHeight: 4 }, /below/],
      [
        {
          ...w,
          legs: [
            { namespace: 1, txs: [enc.encode('a'), enc.encode('b')], revertingTxHashes: [h32(3), h32(1)] },
          ],
        },
        /sorted and unique/,
      ],
      [
        {
          ...w,
          legs: [
            { namespace: 1, txs: Array.from({ length: LIMITS.maxBundleTxs + 1 }, () => enc.encode('x')) },
          ],
        },
        /more than 100 transactions/,
      ],
      [
        { ...w, legs: [{ namespace: 1, txs: Array.from({ length: 3 }, () => new Uint8Array(100_001)) }] },
        /more than 300000 bytes/,
      ],
    ];
    for (const [wire, msg] of bad) {
      const e = (() => {
        try {
          decodeBundle(raw(wire));
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(e, String(msg)).toBeInstanceOf(DecodeError);
      expect((e as Error).message).toMatch(msg);
    }
  });

  it('parses and formats replacement UUIDs', () => {
    const u = parseUuid('123e4567-E89B-12d3-a456-426614174000');
    expect(u?.byteLength).toBe(16);
    expect(formatUuid(u!)).toBe('123e4567-e89b-12d3-a456-426614174000');
    expect(parseUuid('not-a-uuid')).toBeUndefined();
  });

  it('span leaves commit to atomicity and reverting indices', () => {
    const s = { bundleHash: h32(1), namespace: 2, start: 0, count: 3, atomicity: 1 as const, reverting: [] };
    expect(spanLeafHash(s)).not.toEqual(spanLeafHash({ ...s, atomicity: 2 }));
    expect(spanLeafHash(s)).not.toEqual(spanLeafHash({ ...s, reverting: [1] }));
  });
});
