/**
 * Admission of raw Ethereum transactions (eth_sendRawTransaction) against the pending state of the
 * rollup, answered with Ethereum's own messages (the ones geth sends and viem/ethers classify):
 *
 *   oversized data · transaction type not supported · invalid chain id for signer · invalid sender ·
 *   intrinsic gas too low · exceeds block gas limit · max fee per gas less than block base fee ·
 *   nonce too low · nonce too high · insufficient funds for gas * price + value
 *
 * "Pending state" = the executor's committed balance and nonce, minus what this node's in-flight
 * transactions of the same sender (admitted here, not yet executed) can spend; the mempool knows the
 * sender's next pending nonce and bounds nonce gaps. What passes goes through the node's one ingress
 * (origin `eth_rpc`), which admits to the mempool and gossips.
 */
import type { Common } from '@ethereumjs/common';
import { RLP } from '@ethereumjs/rlp';
import { createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { DEFAULT_EVM_BLOCK_GAS_LIMIT, declaredEvmGas } from '../codec/index.ts';
import { invalidParams, RpcError } from '../rpc/index.ts';
import { type LeanDecoded, leanDecode1559 } from './lean-decode.ts';
import { data } from './params.ts';

/** geth's code for transaction-pool refusals and other server-side failures. */
export const ETH_SERVER_ERROR = -32000;

export const ethError = (message: string, extra?: unknown): RpcError =>
  new RpcError(ETH_SERVER_ERROR, message, extra);

/** A decoded, signed raw transaction (lean-decode.ts builds `tx` only when asked). */
export type Decoded = LeanDecoded;

/** The chain id a raw transaction was signed for, read from its RLP before a full decode. */
export function chainIdOf(raw: Uint8Array): bigint | 'unprotected' | undefined {
  try {
    return chainIdOfFields(raw, rlpFields(raw));
  } catch {
    return undefined;
  }
}

/** The signed list of a raw transaction: typed payloads after their type byte. Throws on bad RLP. */
function rlpFields(raw: Uint8Array): unknown {
  return RLP.decode(raw[0]! <= 0x7f ? raw.subarray(1) : raw);
}

function chainIdOfFields(raw: Uint8Array, fields: unknown): bigint | 'unprotected' | undefined {
  if (!Array.isArray(fields)) return undefined;
  if (raw[0]! <= 0x7f) {
    const c = fields[0];
    return c instanceof Uint8Array ? (c.byteLength === 0 ? 0n : BigInt(data(c))) : undefined;
  }
  const v = fields[6];
  if (!(v instanceof Uint8Array)) return undefined;
  const n = v.byteLength === 0 ? 0n : BigInt(data(v));
  if (n === 27n || n === 28n) return 'unprotected';
  return n >= 35n ? (n - 35n) / 2n : undefined;
}

/**
 * A type-2 transaction's tip and fee cap from its decoded list (ethereumjs refuses a tip above the cap
 * with its own untyped message; geth's is the one viem's `TipAboveFeeCapError` knows).
 */
function dynamicFeesOf(raw: Uint8Array, fields: unknown): { tip: bigint; cap: bigint } | undefined {
  if (raw[0] !== 2 || !Array.isArray(fields)) return undefined;
  const n = (b: unknown): bigint | undefined =>
    b instanceof Uint8Array ? (b.byteLength === 0 ? 0n : BigInt(data(b))) : undefined;
  const tip = n(fields[2]);
  const cap = n(fields[3]);
  return tip === undefined || cap === undefined ? undefined : { tip, cap };
}

/**
 * Stateless checks and decode. Throws an RpcError with Ethereum's message. `blockGasLimit` is the
 * rollup's (default 30,000,000); `lean` false forces ethereumjs' path (tests compare the two).
 */
export function decodeRaw(
  raw: Uint8Array,
  common: Common,
  chainId: bigint,
  maxBytes: number,
  opts: { blockGasLimit?: bigint; lean?: boolean } = {},
): Decoded {
  const blockGasLimit = opts.blockGasLimit ?? BigInt(DEFAULT_EVM_BLOCK_GAS_LIMIT);
  const dec = decodeRawAnyGas(raw, common, chainId, maxBytes, opts.lean ?? true);
  // The rollup's block gas limit (ADR 0285), read as the builder and the executor read it (no
  // transaction object: the lean path builds none). The executor refuses more, and an unreadable field.
  const gas = declaredEvmGas(raw);
  if (gas === undefined) throw invalidParams('transaction gas limit field cannot be read');
  if (gas > blockGasLimit)
    throw ethError(`exceeds block gas limit: gas ${dec.tx.gasLimit}, limit ${blockGasLimit}`);
  return dec;
}

function decodeRawAnyGas(
  raw: Uint8Array,
  common: Common,
  chainId: bigint,
  maxBytes: number,
  lean: boolean,
): Decoded {
  if (raw.byteLength === 0) throw invalidParams('empty transaction');
  if (raw.byteLength > maxBytes)
    throw ethError(`oversized data: ${raw.byteLength} bytes, the limit is ${maxBytes}`);
  const type = raw[0]! <= 0x7f ? raw[0]! : 0;
  if (type > 2) throw ethError(`transaction type not supported: type ${type} (legacy, 1 and 2 are)`);
  let fields: unknown;
  let cid: ReturnType<typeof chainIdOf>;
  try {
    fields = rlpFields(raw);
    cid = chainIdOfFields(raw, fields);
  } catch {
    cid = undefined;
  }
  if (cid === undefined) throw invalidParams('transaction is not valid RLP of a signed transaction');
  if (cid === 'unprotected') throw ethError('only replay-protected (EIP-155) transactions allowed over RPC');
  if (cid !== chainId) throw ethError(`invalid chain id for signer: have ${cid} want ${chainId}`);
  const fees = dynamicFeesOf(raw, fields);
  if (fees !== undefined && fees.tip > fees.cap)
    throw ethError(
      `max priority fee per gas higher than max fee per gas: maxPriorityFeePerGas: ${fees.tip}, maxFeePerGas: ${fees.cap}`,
    );
  if (lean) {
    const fast = leanDecode1559(raw, fields, common, chainId);
    if (fast !== undefined) return fast;
  }
  let tx: TypedTransaction;
  try {
    tx = createTxFromRLP(raw, { common }) as TypedTransaction;
  } catch (err) {
    const m = err instanceof Error ? err.message.split('\n')[0]!.slice(0, 200) : 'malformed';
    throw invalidParams(`transaction could not be decoded: ${m}`);
  }
  let from: Uint8Array;
  try {
    if (!tx.isSigned()) throw new Error('unsigned');
    from = tx.getSenderAddress().bytes;
  } catch {
    throw ethError('invalid sender: the signature does not recover an address');
  }
  const intrinsic = tx.getIntrinsicGas();
  if (tx.gasLimit < intrinsic)
    throw ethError(`intrinsic gas too low: gas ${tx.gasLimit}, minimum needed ${intrinsic}`);
  const feeCap =
    'maxFeePerGas' in tx
      ? (tx as { maxFeePerGas: bigint }).maxFeePerGas
      : (tx as { gasPrice: bigint }).gasPrice;
  return {
    tx,
    hash: keccak_256(raw),
    from,
    fromHex: data(from),
    maxCost: tx.gasLimit * feeCap + tx.value,
    nonce: tx.nonce,
    feeCap,
    // Recovered above; a frozen transaction caches it.
    senderPubKey: tx.getSenderPublicKey(),
  };
}

export function feeCapOf(tx: TypedTransaction): bigint {
  return 'maxFeePerGas' in tx
    ? (tx as { maxFeePerGas: bigint }).maxFeePerGas
    : (tx as { gasPrice: bigint }).gasPrice;
}

export interface EvmAdmissionDeps {
  common: Common;
  chainId: bigint;
  baseFee: bigint;
  maxTxBytes: number;
  /** The rollup's block gas limit (ADR 0285). */
  blockGasLimit: bigint;
  /** Executed account state. */
  account(address: Uint8Array): { nonce: bigint; balance: bigint };
  /** Told the hash and sender of every admitted payload (the block index then skips a hash and a recovery). */
  hintSender?: (payload: Uint8Array, txHash: Uint8Array, from: Uint8Array) => void;
  /** Told the recovered sender key of every admitted payload (the executor then skips a recovery). */
  noteSender?: (payload: Uint8Array, senderPubKey: Uint8Array) => void;
  /** Told the sender and nonce of a payload about to enter the mempool (its classification). */
  preclassified?: (payload: Uint8Array, sender: string, nonce: bigint) => void;
}

/** Ingress refusal codes this admission answers with (the message is Ethereum's). */
export type EvmRefusalCode = 'INVALID_TX' | 'NONCE_TOO_LOW' | 'TX_TOO_LARGE';

/**
 * The admission of one EVM rollup, for every door: `check` for eth_sendRawTransaction (throws
 * Ethereum's errors), `ingressCheck` as the ingress's per-kind hook (raw EVM payloads submitted through
 * `ordo_*`, gRPC or in-process get the same checks), `admitted` when the mempool took the payload.
 */
export class EvmAdmission {
  readonly #d: EvmAdmissionDeps;
  readonly #inFlight = new InFlight();
  /** The payload checked last, so the ingress hook and the admit listener do not decode it again. */
  #checked: { raw: Uint8Array; dec: Decoded } | undefined;

  constructor(d: EvmAdmissionDeps) {
    this.#d = d;
  }

  /** Every check, stateless then against the pending state. Throws an RpcError with Ethereum's message. */
  check(raw: Uint8Array): Decoded {
    const d = this.#d;
    const dec = decodeRaw(raw, d.common, d.chainId, d.maxTxBytes, {
      blockGasLimit: d.blockGasLimit,
    });
    const { nonce, feeCap, fromHex } = dec;
    if (feeCap < d.baseFee)
      throw ethError(
        `max fee per gas less than block base fee: address ${fromHex}, maxFeePerGas: ${feeCap}, baseFee: ${d.baseFee}`,
      );
    const acct = d.account(dec.from);
    if (nonce < acct.nonce) throw ethError(`nonce too low: next nonce ${acct.nonce}, tx nonce ${nonce}`);
    const reserved = this.#inFlight.reserved(fromHex, acct.nonce, nonce);
    const have = acct.balance - reserved;
    if (have < dec.maxCost)
      throw ethError(
        `insufficient funds for gas * price + value: address ${fromHex} have ${have < 0n ? 0n : have} want ${dec.maxCost}`,
      );
    this.#checked = { raw, dec };
    return dec;
  }

  /** The ingress hook: undefined = go on to the mempool; else the refusal. Never throws. */
  ingressCheck(payload: Uint8Array): { code: EvmRefusalCode; message: string } | undefined {
    let dec: Decoded;
    if (this.#checked?.raw === payload) dec = this.#checked.dec;
    else {
      try {
        dec = this.check(payload);
      } catch (err) {
        const message =
          err instanceof Error ? err.message.replace(/^invalid params: /, '') : 'invalid transaction';
        const code: EvmRefusalCode = message.startsWith('nonce too low')
          ? 'NONCE_TOO_LOW'
          : message.startsWith('oversized data')
            ? 'TX_TOO_LARGE'
            : 'INVALID_TX';
        return { code, message };
      }
    }
    this.#d.preclassified?.(payload, dec.fromHex, dec.nonce);
    return undefined;
  }

  /** The mempool admitted `payload`: reserve its spending and hand its sender to the block index. */
  admitted(payload: Uint8Array): void {
    const c = this.#checked;
    if (c === undefined || c.raw !== payload) return;
    this.#checked = undefined;
    this.#inFlight.add(c.dec.fromHex, c.dec.nonce, c.dec.maxCost);
    this.#d.hintSender?.(payload, c.dec.hash, c.dec.from);
    // decodeRaw recovered it: no second recovery here.
    this.#d.noteSender?.(payload, c.dec.senderPubKey);
  }
}

/**
 * What this node has admitted and not seen executed yet, per sender: nonce → max cost. Bounded: at most
 * `maxTracked` entries; past it the oldest senders are forgotten (their spending is then not reserved).
 */
export class InFlight {
  readonly #bySender = new Map<string, Map<bigint, bigint>>();
  #size = 0;
  readonly #max: number;

  constructor(maxTracked = 100_000) {
    this.#max = maxTracked;
  }

  add(sender: string, nonce: bigint, cost: bigint): void {
    let m = this.#bySender.get(sender);
    if (m === undefined) {
      m = new Map();
      this.#bySender.set(sender, m);
    }
    if (!m.has(nonce)) this.#size++;
    m.set(nonce, cost);
    while (this.#size > this.#max) {
      const [k, oldest] = this.#bySender.entries().next().value as [string, Map<bigint, bigint>];
      this.#size -= oldest.size;
      this.#bySender.delete(k);
    }
  }

  /** Reserved spending of `sender` below nonce `below`, forgetting nonces under `executedNonce`. */
  reserved(sender: string, executedNonce: bigint, below: bigint): bigint {
    const m = this.#bySender.get(sender);
    if (m === undefined) return 0n;
    let sum = 0n;
    for (const [n, c] of m) {
      if (n < executedNonce) {
        m.delete(n);
        this.#size--;
      } else if (n < below) sum += c;
    }
    if (m.size === 0) this.#bySender.delete(sender);
    return sum;
  }

  size(): number {
    return this.#size;
  }
}
