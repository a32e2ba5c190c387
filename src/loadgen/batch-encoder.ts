/**
 * The load generator's encoder of a protobuf `ordo.v1.TxBatch` (proto/ordo/v1/tx.proto) for the binary
 * batch route: the same bytes as the codec's `encodeTxBatch` (protobufjs; a unit test holds them equal),
 * written into one buffer sized up front. The generator encodes every transaction it offers, at
 * 10,000 tx/s and more on the same cores as the nodes it measures, where protobufjs's per-field writer
 * operations cost it more than the JSON text it replaces.
 *
 *   TxBatch    = repeated (0x0a, varint len, TxEnvelope)
 *   TxEnvelope = [0x08, varint namespace]  (omitted when 0, as proto3 does)
 *                [0x12, varint len, payload] (omitted when empty)
 */

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function putVarint(buf: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    buf[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[at++] = n;
  return at;
}

function envelopeSize(namespace: number, payloadBytes: number): number {
  return (
    (namespace === 0 ? 0 : 1 + varintSize(namespace)) +
    (payloadBytes === 0 ? 0 : 1 + varintSize(payloadBytes) + payloadBytes)
  );
}

/** Encode `txs` (namespaces are u32, payloads bytes) as one `TxBatch`. */
export function encodeTxBatchFast(txs: readonly { namespace: number; payload: Uint8Array }[]): Uint8Array {
  let total = 0;
  for (const tx of txs) {
    const inner = envelopeSize(tx.namespace >>> 0, tx.payload.byteLength);
    total += 1 + varintSize(inner) + inner;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const tx of txs) {
    const ns = tx.namespace >>> 0;
    const len = tx.payload.byteLength;
    out[at++] = 0x0a;
    at = putVarint(out, at, envelopeSize(ns, len));
    if (ns !== 0) {
      out[at++] = 0x08;
      at = putVarint(out, at, ns);
    }
    if (len !== 0) {
      out[at++] = 0x12;
      at = putVarint(out, at, len);
      out.set(tx.payload, at);
      at += len;
    }
  }
  return out;
}
