/**
 * The binary batch submission path for high-rate clients: `POST /ordo/v1/tx-batch` with a protobuf
 * `ordo.v1.TxBatch` body (proto/ordo/v1/tx.proto, the same message peers gossip). It skips what the
 * JSON path costs per transaction on both sides (building and parsing a JSON-RPC envelope, hex encoding
 * and decoding every payload) and goes through the same one door, the ingress, as every other entry
 * point (origin `binary`). The answer is the JSON of `ordo_submitTransactions` with `hashes: false`:
 * `{accepted, duplicates, rejected: [{index, code, message, retryable}]}`. docs/rpc.md documents it.
 *
 * Size checks come first: the server refuses a body over `rpc.maxBodyBytes` (413) before this runs, the
 * decoder refuses a body over the protocol's batch limit, more transactions than `maxTxs`, or any
 * payload over the protocol's transaction limit, all before the batch is admitted (400, nothing admitted).
 * Each transaction is then admitted on its own, as in `ordo_submitTransactions`: a namespace 0 or an
 * empty payload (proto3 defaults: a field left out) is that entry's `INVALID_NAMESPACE` / `EMPTY_TX`.
 */
import { decodeTxBatchEntries, LIMITS } from '../codec/index.ts';
import { DecodeError } from '../errors.ts';
import type { Ingress } from '../ingress/index.ts';
import type { TxEnvelope } from '../types.ts';
import type { BinaryHandler } from './server.ts';

/** The path of the binary batch submission route. */
export const TX_BATCH_PATH = '/ordo/v1/tx-batch';

export interface TxBatchAnswer {
  accepted: number;
  duplicates: number[];
  rejected: { index: number; code: string; message: string; retryable: boolean }[];
}

export function txBatchHandler(ingress: Ingress, maxTxs: number): BinaryHandler {
  const limits = {
    maxBatchBytes: LIMITS.maxBatchBytes,
    maxBatchTxs: Math.min(maxTxs, LIMITS.maxBatchTxs),
    // The protocol's limit here; a rollup's own (lower) limit is the ingress's per-transaction check.
    maxTxBytes: LIMITS.maxTxBytes,
  };
  return (body) => {
    let txs: TxEnvelope[];
    try {
      txs = decodeTxBatchEntries(body, limits);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      return { status: 400, body: { error: { code: err.code, message: err.message } } };
    }
    const answer: TxBatchAnswer = { accepted: 0, duplicates: [], rejected: [] };
    for (let i = 0; i < txs.length; i++) {
      const r = ingress.submitTransaction(txs[i]!, 'binary');
      if (r.ok) {
        answer.accepted++;
      } else if ((r.code === 'DUPLICATE' || r.code === 'ALREADY_COMMITTED') && r.hash !== undefined) {
        answer.accepted++;
        answer.duplicates.push(i);
      } else {
        answer.rejected.push({ index: i, code: r.code, message: r.message, retryable: r.retryable });
      }
    }
    return { status: 200, body: answer };
  };
}
