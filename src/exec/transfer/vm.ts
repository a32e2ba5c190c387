/**
 * The transfer VM: native accounts keyed by ed25519 public key, each holding a u128 balance and a u64
 * nonce. Built for speed: execution is a few map operations; the cost is the signature check, which
 * `prepare` does (in workers, in parallel).
 *
 * State layout: key "a" || pubkey(32) → balance u128 BE (16) || nonce u64 BE (8).
 * Semantics, per transaction, against the sender's account:
 *   - malformed, bad signature, nonce ≠ account nonce, or balance < fee  → invalid (no state change)
 *   - balance < fee + amount → revert: fee charged, nonce + 1, no transfer
 *   - otherwise success: sender − (amount + fee), nonce + 1, recipient + amount
 * The fee is a commutative credit to the rollup's fee recipient, so fee payments never make two
 * transactions conflict.
 */

import type { RollupConfig } from '../../config/index.ts';
import { verifySignature } from '../../crypto/index.ts';
import type { BlockContext, Bytes, Prepared, StateView, TxOutcome, Vm } from '../types.ts';
import { decodeTransfer, type TransferTx, transferSignBytes } from './tx.ts';

const U128_MAX = (1n << 128n) - 1n;
export const ZERO_ACCOUNT = new Uint8Array(32);

export function transferAccountKey(pub: Uint8Array): Bytes {
  return 'a' + Buffer.from(pub.buffer, pub.byteOffset, pub.byteLength).toString('latin1');
}

export interface TransferAccount {
  balance: bigint;
  nonce: bigint;
}

const TWO32 = 2 ** 32;

function u32At(v: string, o: number): number {
  return (
    v.charCodeAt(o) * 0x1000000 +
    ((v.charCodeAt(o + 1) << 16) | (v.charCodeAt(o + 2) << 8) | v.charCodeAt(o + 3))
  );
}

function u64At(v: string, o: number): bigint {
  const hi = u32At(v, o);
  const lo = u32At(v, o + 4);
  // Fast path: values below 2^53 convert through one Number (the common case for balances and nonces).
  if (hi < 0x200000) return BigInt(hi * TWO32 + lo);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function u64Chars(x: bigint): string {
  let hi: number;
  let lo: number;
  if (x < 9007199254740992n) {
    const n = Number(x);
    hi = Math.floor(n / TWO32);
    lo = n - hi * TWO32;
  } else {
    hi = Number(x >> 32n);
    lo = Number(x & 0xffffffffn);
  }
  return String.fromCharCode(
    hi >>> 24,
    (hi >>> 16) & 0xff,
    (hi >>> 8) & 0xff,
    hi & 0xff,
    lo >>> 24,
    (lo >>> 16) & 0xff,
    (lo >>> 8) & 0xff,
    lo & 0xff,
  );
}

export function decodeTransferAccount(v: Bytes | undefined): TransferAccount {
  if (v === undefined) return { balance: 0n, nonce: 0n };
  const bHi = u64At(v, 0);
  const bLo = u64At(v, 8);
  return { balance: bHi === 0n ? bLo : (bHi << 64n) | bLo, nonce: u64At(v, 16) };
}

export function encodeTransferAccount(a: TransferAccount): Bytes {
  const hi = a.balance >> 64n;
  const lo = hi === 0n ? a.balance : a.balance & 0xffffffffffffffffn;
  return u64Chars(hi) + u64Chars(lo) + u64Chars(a.nonce);
}

export interface TransferVmOptions {
  /** Account credited with fees (hex public key); default all zeros. */
  feeRecipient?: string;
}

export class TransferVm implements Vm<TransferTx> {
  readonly kind = 'transfer' as const;
  /** Execution is a few map operations: cheaper on the coordinator than a read/write set round trip. */
  readonly speculate = false;
  readonly #rollup: RollupConfig;
  readonly #feeKey: Bytes;

  constructor(rollup: RollupConfig, opts: TransferVmOptions = {}) {
    this.#rollup = rollup;
    const fee = opts.feeRecipient === undefined ? ZERO_ACCOUNT : Buffer.from(opts.feeRecipient, 'hex');
    if (fee.byteLength !== 32) throw new RangeError('feeRecipient must be a 32-byte hex public key');
    this.#feeKey = transferAccountKey(fee);
  }

  classify(payload: Uint8Array): { sender: string; nonce: bigint } | { error: string } {
    const tx = decodeTransfer(payload);
    if (typeof tx === 'string') return { error: tx };
    return { sender: Buffer.from(tx.from).toString('hex'), nonce: tx.nonce };
  }

  prepare(payload: Uint8Array): Prepared<TransferTx> {
    const tx = decodeTransfer(payload);
    if (typeof tx === 'string') return { ok: false, error: tx };
    const msg = transferSignBytes(this.#rollup.namespace, payload);
    if (!verifySignature(tx.from, msg, tx.signature)) return { ok: false, error: 'bad signature' };
    return { ok: true, tx, proof: '' };
  }

  restore(payload: Uint8Array, _proof: string): TransferTx {
    const tx = decodeTransfer(payload);
    if (typeof tx === 'string') throw new Error(tx);
    return tx;
  }

  execute(tx: TransferTx, view: StateView, _ctx: BlockContext): TxOutcome {
    const fromKey = transferAccountKey(tx.from);
    const from = decodeTransferAccount(view.get(fromKey));
    if (tx.nonce !== from.nonce) {
      return invalid(`bad nonce: expected ${from.nonce}, got ${tx.nonce}`);
    }
    if (from.balance < tx.fee) return invalid('insufficient funds for fee');
    if (from.balance < tx.fee + tx.amount) {
      view.set(fromKey, encodeTransferAccount({ balance: from.balance - tx.fee, nonce: from.nonce + 1n }));
      view.credit(this.#feeKey, tx.fee);
      return { status: 'revert', gasUsed: 1n, logs: [], error: 'insufficient funds for amount' };
    }
    view.set(
      fromKey,
      encodeTransferAccount({ balance: from.balance - tx.fee - tx.amount, nonce: from.nonce + 1n }),
    );
    const toKey = transferAccountKey(tx.to);
    const to = decodeTransferAccount(view.get(toKey));
    const nb = to.balance + tx.amount;
    if (nb > U128_MAX) {
      // Unreachable with u64 amounts unless genesis is absurd; keep the account bounded anyway.
      view.set(fromKey, encodeTransferAccount({ balance: from.balance - tx.fee, nonce: from.nonce + 1n }));
      view.credit(this.#feeKey, tx.fee);
      return { status: 'revert', gasUsed: 1n, logs: [], error: 'recipient balance overflow' };
    }
    view.set(toKey, encodeTransferAccount({ balance: nb, nonce: to.nonce }));
    view.credit(this.#feeKey, tx.fee);
    return { status: 'success', gasUsed: 1n, logs: [] };
  }

  applyCredit(value: Bytes | undefined, amount: bigint): Bytes | undefined {
    const a = decodeTransferAccount(value);
    const balance = a.balance + amount;
    return encodeTransferAccount({ balance: balance > U128_MAX ? U128_MAX : balance, nonce: a.nonce });
  }

  genesis(): Map<Bytes, Bytes> {
    const m = new Map<Bytes, Bytes>();
    for (const acc of this.#rollup.alloc ?? []) {
      const pub = Buffer.from(acc.address.replace(/^0x/, ''), 'hex');
      if (pub.byteLength !== 32)
        throw new RangeError(`transfer alloc address ${acc.address} is not 32 bytes`);
      const key = transferAccountKey(pub);
      const prev = decodeTransferAccount(m.get(key));
      m.set(key, encodeTransferAccount({ balance: prev.balance + BigInt(acc.balance), nonce: 0n }));
    }
    return m;
  }

  nonceOf(get: (key: Bytes) => Bytes | undefined, sender: string): bigint {
    const pub = Buffer.from(sender.replace(/^0x/, ''), 'hex');
    if (pub.byteLength !== 32) return 0n;
    return decodeTransferAccount(get(transferAccountKey(pub))).nonce;
  }
}

function invalid(error: string): TxOutcome {
  return { status: 'invalid', gasUsed: 0n, logs: [], error };
}
