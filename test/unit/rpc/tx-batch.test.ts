import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTxBatch, txHash } from '../../../src/codec/index.ts';
import { demoRollups } from '../../../src/config/genesis.ts';
import { toHex } from '../../../src/crypto/hash.ts';
import { createIngress } from '../../../src/ingress/index.ts';
import type { AdmitResult } from '../../../src/mempool/types.ts';
import { RpcServer } from '../../../src/rpc/server.ts';
import { TX_BATCH_PATH, txBatchHandler } from '../../../src/rpc/tx-batch.ts';
import type { TxEnvelope } from '../../../src/types.ts';

const admitted = new Map<string, TxEnvelope>();
const gossiped: TxEnvelope[] = [];
const mempool = {
  add(tx: TxEnvelope): AdmitResult {
    const h = txHash(tx);
    if (admitted.has(toHex(h)))
      return { ok: false, code: 'DUPLICATE', message: 'already pending', retryable: false };
    admitted.set(toHex(h), tx);
    return { ok: true, hash: h };
  },
};
const ingress = createIngress({
  rollups: demoRollups(),
  mempool,
  gossip: { push: (tx) => gossiped.push(tx) },
  maxTxBytes: 100,
});
const server = new RpcServer({ host: '127.0.0.1', port: 0, maxBodyBytes: 4096, requestTimeoutMs: 5000 });
server.postBinary(TX_BATCH_PATH, txBatchHandler(ingress, 5));
let url = '';
beforeAll(async () => {
  await server.start();
  url = `http://127.0.0.1:${server.port}${TX_BATCH_PATH}`;
});
afterAll(async () => {
  await server.stop();
});

async function post(
  body: Uint8Array,
  type = 'application/x-protobuf',
): Promise<{ status: number; json: any }> {
  const r = await fetch(url, { method: 'POST', body, headers: { 'content-type': type } });
  return { status: r.status, json: await r.json() };
}

const tx = (ns: number, ...bytes: number[]): TxEnvelope => ({
  namespace: ns,
  payload: new Uint8Array(bytes),
});

describe('POST /ordo/v1/tx-batch', () => {
  it('admits each transaction through the ingress and lists duplicates and refusals by index', async () => {
    const r = await post(
      encodeTxBatch([tx(1, 1, 2), tx(1, 1, 2), tx(99, 5), tx(1, ...new Array(101).fill(7)), tx(1, 3)]),
    );
    expect(r.status).toBe(200);
    expect(r.json.accepted).toBe(3);
    expect(r.json.duplicates).toEqual([1]);
    expect(r.json.rejected.map((x: { index: number; code: string }) => [x.index, x.code])).toEqual([
      [2, 'UNKNOWN_NAMESPACE'],
      [3, 'TX_TOO_LARGE'],
    ]);
    expect(r.json.rejected[0].retryable).toBe(false);
    // Admitted transactions are handed to gossip, as on every other entry point.
    expect(gossiped.map((t) => Array.from(t.payload))).toEqual([[1, 2], [3]]);
  });

  it('refuses a namespace 0 or an empty payload in that entry only, as ordo_submitTransactions does', async () => {
    // proto3 leaves a zero namespace and an empty payload out of the bytes: a client that forgot a field
    const r = await post(encodeTxBatch([tx(0, 9), tx(1, 41), tx(1)]));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      accepted: 1,
      duplicates: [],
      rejected: [
        {
          index: 0,
          code: 'INVALID_NAMESPACE',
          message: expect.stringMatching(/namespace/),
          retryable: false,
        },
        { index: 2, code: 'EMPTY_TX', message: expect.stringMatching(/empty/), retryable: false },
      ],
    });
  });

  it('refuses undecodable bodies, too many transactions and an empty batch before admitting any', async () => {
    const before = admitted.size;
    const garbage = await post(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f]));
    expect(garbage.status).toBe(400);
    expect(garbage.json.error.code).toBe('DECODE_MALFORMED');
    const six = await post(encodeTxBatch([1, 2, 3, 4, 5, 6].map((i) => tx(1, 100 + i))));
    expect(six.status).toBe(400);
    expect(six.json.error.message).toMatch(/the limit is 5/);
    const empty = await post(new Uint8Array(0));
    expect(empty.status).toBe(400);
    expect(empty.json.error.code).toBe('DECODE_EMPTY');
    expect(admitted.size).toBe(before);
  });

  it('refuses a body over rpc.maxBodyBytes (413) and a non-protobuf content type (415)', async () => {
    const big = await post(encodeTxBatch([tx(1, ...new Array(5000).fill(1))]));
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe('BODY_TOO_LARGE');
    const json = await post(new TextEncoder().encode('{}'), 'application/json');
    expect(json.status).toBe(415);
  });
});
