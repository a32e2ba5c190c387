/**
 * The transfer VM's transaction format: a fixed 153-byte layout, signed with ed25519 (node:crypto,
 * RFC 8032 strict — the one signature rule of every Ordo node).
 *
 *   offset size field
 *        0    1 version (1)
 *        1   32 from: ed25519 public key (the account id)
 *       33   32 to: recipient public key
 *       65    8 amount, u64 big-endian
 *       73    8 fee, u64 big-endian (credited to the rollup's fee recipient)
 *       81    8 nonce, u64 big-endian (must equal the sender's account nonce)
 *       89   64 signature over "ordo/transfer/v1" || namespace u32 BE || bytes[0..89)
 *
 * The namespace in the signed bytes stops a transaction signed for one transfer rollup from replaying
 * on another. `signTransfer` is the helper the load generator and tests use to build transactions.
 */
import { Ed25519Signer } from '../../crypto/index.ts';

export const TRANSFER_TX_LEN = 153;
export const TRANSFER_BODY_LEN = 89;
export const TRANSFER_VERSION = 1;
const DOMAIN = Buffer.from('ordo/transfer/v1', 'latin1');
const U64_MAX = (1n << 64n) - 1n;

export interface TransferTx {
  from: Uint8Array;
  to: Uint8Array;
  amount: bigint;
  fee: bigint;
  nonce: bigint;
  signature: Uint8Array;
}

export type TransferFields = Omit<TransferTx, 'signature' | 'from'>;

/** Bytes covered by the signature. */
export function transferSignBytes(namespace: number, body: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(DOMAIN.length + 4 + TRANSFER_BODY_LEN);
  DOMAIN.copy(out, 0);
  out.writeUInt32BE(namespace, DOMAIN.length);
  out.set(body.subarray(0, TRANSFER_BODY_LEN), DOMAIN.length + 4);
  return out;
}

function checkU64(name: string, v: bigint): void {
  if (v < 0n || v > U64_MAX) throw new RangeError(`${name} must fit in u64`);
}

/** Encode and sign a transfer with the sender's signer. */
export function signTransfer(signer: Ed25519Signer, namespace: number, f: TransferFields): Uint8Array {
  checkU64('amount', f.amount);
  checkU64('fee', f.fee);
  checkU64('nonce', f.nonce);
  if (f.to.byteLength !== 32) throw new RangeError('to must be 32 bytes');
  const b = Buffer.alloc(TRANSFER_TX_LEN);
  b[0] = TRANSFER_VERSION;
  b.set(signer.publicKey, 1);
  b.set(f.to, 33);
  b.writeBigUInt64BE(f.amount, 65);
  b.writeBigUInt64BE(f.fee, 73);
  b.writeBigUInt64BE(f.nonce, 81);
  b.set(signer.sign(transferSignBytes(namespace, b)), TRANSFER_BODY_LEN);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Convenience for tests and the load generator: a signer from a 32-byte seed. */
export function transferSigner(seed: Uint8Array): Ed25519Signer {
  return new Ed25519Signer(seed);
}

/** Decode (size-checked, no signature check). Returns a string error for malformed input. */
export function decodeTransfer(payload: Uint8Array): TransferTx | string {
  if (payload.byteLength !== TRANSFER_TX_LEN) {
    return `transfer tx must be ${TRANSFER_TX_LEN} bytes, got ${payload.byteLength}`;
  }
  if (payload[0] !== TRANSFER_VERSION) return `unknown transfer tx version ${payload[0]}`;
  const b = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return {
    from: payload.subarray(1, 33),
    to: payload.subarray(33, 65),
    amount: b.readBigUInt64BE(65),
    fee: b.readBigUInt64BE(73),
    nonce: b.readBigUInt64BE(81),
    signature: payload.subarray(89, 153),
  };
}
