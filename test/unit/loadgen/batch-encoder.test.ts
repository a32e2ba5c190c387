import { describe, expect, it } from 'vitest';
import { decodeTxBatch, encodeTxBatch } from '../../../src/codec/index.ts';
import { encodeTxBatchFast } from '../../../src/loadgen/batch-encoder.ts';

describe('the load generator’s TxBatch encoder', () => {
  it('writes the same bytes as the codec (protobufjs) for every size class of namespace and payload', () => {
    const namespaces = [1, 127, 128, 16_383, 16_384, 2 ** 21, 0xffff_ffff];
    const sizes = [1, 127, 128, 200, 16_384, 128 * 1024];
    const txs = namespaces.flatMap((namespace, i) =>
      sizes.map((n, j) => ({ namespace, payload: new Uint8Array(n).fill((i * 7 + j) & 0xff) })),
    );
    const fast = encodeTxBatchFast(txs);
    expect(Buffer.from(fast).equals(Buffer.from(encodeTxBatch(txs)))).toBe(true);
    const back = decodeTxBatch(fast, {
      maxBatchBytes: 16 * 1024 * 1024,
      maxBatchTxs: 1000,
      maxTxBytes: 128 * 1024,
    });
    expect(back.map((t) => [t.namespace, t.payload.byteLength])).toEqual(
      txs.map((t) => [t.namespace, t.payload.byteLength]),
    );
  });

  it('encodes one small batch exactly', () => {
    const one = encodeTxBatchFast([{ namespace: 1, payload: new Uint8Array([0xaa, 0xbb]) }]);
    expect(Array.from(one)).toEqual([0x0a, 0x06, 0x08, 0x01, 0x12, 0x02, 0xaa, 0xbb]);
  });
});
