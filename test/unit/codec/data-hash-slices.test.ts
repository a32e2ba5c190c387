/**
 * blockDataHashInSlices (ADR 0312): the same data hash as computeDataHash for every tree shape (the
 * bottom-up build against nmtRoot's top-down RFC 6962 split), with and without bundle spans, memoised
 * on the block; unsorted bodies throw as before; and a timer armed before a large body is hashed fires
 * before the hash is done. Nothing here asserts a duration.
 */
import { describe, expect, it } from 'vitest';
import { blockDataHash, blockDataHashInSlices, computeDataHash } from '../../../src/codec/commitments.ts';
import type { BundleSpan, TxEnvelope } from '../../../src/types.ts';

function body(n: number, seed = 1): TxEnvelope[] {
  let x = seed;
  const rnd = (): number => {
    x = (x * 1103515245 + 12345) >>> 0;
    return x;
  };
  const nss = Array.from({ length: n }, () => 1 + (rnd() % 5)).sort((a, b) => a - b);
  return nss.map((namespace, i) => {
    const payload = new Uint8Array(16 + (i % 7));
    new DataView(payload.buffer).setUint32(0, rnd());
    payload[4] = i & 0xff;
    return { namespace, payload };
  });
}

const span = (namespace: number, start: number, count: number): BundleSpan => ({
  bundleHash: new Uint8Array(32).fill(namespace),
  namespace,
  start,
  count,
  atomicity: 1,
  reverting: [0],
});

describe('blockDataHashInSlices', () => {
  it('equals computeDataHash for 0..300 transactions', async () => {
    for (let n = 0; n <= 300; n++) {
      const txs = body(n, n + 7);
      const got = await blockDataHashInSlices({ txs, bundles: [] });
      expect(Buffer.from(got).toString('hex'), `n=${n}`).toBe(
        Buffer.from(computeDataHash(txs)).toString('hex'),
      );
    }
  });

  it('equals computeDataHash for large bodies and with bundle spans, sliced finely', async () => {
    for (const n of [511, 512, 513, 1024, 3001, 5000]) {
      const txs = body(n, n);
      const spans = [span(txs[0]!.namespace, 0, 1), span(txs[n - 1]!.namespace, 0, 1)];
      const want = computeDataHash(txs, spans);
      const got = await blockDataHashInSlices({ txs, bundles: spans }, 0);
      expect(Buffer.from(got).toString('hex'), `n=${n}`).toBe(Buffer.from(want).toString('hex'));
    }
  });

  it('memoises on the block: blockDataHash then returns the same bytes', async () => {
    const block = { txs: body(100), bundles: [] };
    const h = await blockDataHashInSlices(block);
    expect(blockDataHash(block)).toBe(h);
    expect(await blockDataHashInSlices(block)).toBe(h);
  });

  it('throws on transactions out of namespace order, as computeDataHash does', async () => {
    const txs = body(10);
    txs.reverse();
    expect(() => computeDataHash(txs)).toThrow();
    await expect(blockDataHashInSlices({ txs, bundles: [] })).rejects.toThrow();
  });

  it('a timer armed before a large body is hashed fires before the hash is done', async () => {
    const block = { txs: body(20_000, 3), bundles: [] };
    let done = false;
    let firedBeforeDone: boolean | undefined;
    const t = setTimeout(() => {
      firedBeforeDone = !done;
    }, 0);
    const h = blockDataHashInSlices(block, 0); // a slice of 0 ms: yield at every check
    await h;
    done = true;
    clearTimeout(t);
    expect(firedBeforeDone).toBe(true);
    expect(Buffer.from(await h).equals(Buffer.from(computeDataHash(block.txs)))).toBe(true);
  });
});
