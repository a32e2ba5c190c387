/**
 * The fields of a well-formed, signed EIP-1559 (type 2) call read straight from its RLP list, without
 * ethereumjs' transaction class (ADR 0280, shared by ADR 0339): the common case of every decode of an
 * EVM payload on a node's main thread (Ethereum RPC admission, the mempool's classification of gossiped
 * transactions, the Ethereum block index).
 *
 * The rule: `parse1559` answers only when ethereumjs' `createTxFromRLP` would accept the payload with the
 * same fields (it applies the checks ethereumjs' constructor applies, and some more: canonical numbers, a
 * non-creating call, a gas limit above any intrinsic gas and at most the largest block gas limit); any
 * doubt answers undefined and the caller runs ethereumjs' own path. It recovers nothing: the signature
 * is only checked for shape (yParity 0/1, r and s non-zero, low s).
 */
import type { Common } from '@ethereumjs/common';
import { RLP } from '@ethereumjs/rlp';
import { MAX_EVM_BLOCK_GAS_LIMIT } from '../../codec/index.ts';

/** secp256k1's group order n, halved: a larger `s` is refused (EIP-2). */
const ORDER_DIV_2 = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;
/** EIP-2681: a nonce is below 2^64 − 1. */
const MAX_NONCE = 2n ** 64n - 1n;
const MAX_UINT256 = 2n ** 256n - 1n;
/**
 * Above any intrinsic gas a non-creating type-2 call can have up to Prague: 21,000 + 40 per calldata
 * byte (EIP-7623's floor is 10 per token, 4 tokens a non-zero byte; the standard cost is ≤ 16 a byte)
 * + 2,400 per access-list address + 1,900 per storage key.
 */
const BASE_GAS = 21_000n;
const BOUND_PER_DATA_BYTE = 40n;
const ACCESS_ADDRESS_GAS = 2_400n;
const ACCESS_KEY_GAS = 1_900n;

/** A type-2 call's fields, as ethereumjs would hold them. */
export interface Fields1559 {
  chainId: bigint;
  nonce: bigint;
  maxPriorityFeePerGas: bigint;
  maxFeePerGas: bigint;
  gasLimit: bigint;
  /** 20 bytes (creations are not parsed here). */
  to: Uint8Array;
  value: bigint;
  data: Uint8Array;
  yParity: bigint;
  /** r and s as they stand in the payload (canonical: no leading zero byte). */
  r: Uint8Array;
  s: Uint8Array;
}

/** Commons that activate EIP-1559 (ethereumjs refuses type 2 otherwise): asked once per Common. */
const eip1559 = new WeakMap<Common, boolean>();

/** A canonical unsigned integer of at most `maxBytes`: no leading zero byte. */
function uint(b: unknown, maxBytes: number): bigint | undefined {
  if (!(b instanceof Uint8Array) || b.byteLength > maxBytes) return undefined;
  if (b.byteLength === 0) return 0n;
  if (b[0] === 0) return undefined;
  return BigInt(`0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`);
}

/** `RLP.decode` of a typed payload's list (after the type byte), or undefined when it is not RLP. */
export function typedFields(raw: Uint8Array): unknown {
  try {
    return RLP.decode(raw.subarray(1));
  } catch {
    return undefined;
  }
}

/**
 * The fields of `raw` when it is a type-2 call ethereumjs accepts under `common` for `chainId`, else
 * undefined. `fields` is `RLP.decode(raw.subarray(1))` (`typedFields`).
 */
export function parse1559(
  raw: Uint8Array,
  fields: unknown,
  common: Common,
  chainId: bigint,
): Fields1559 | undefined {
  if (raw[0] !== 2 || !Array.isArray(fields) || fields.length !== 12) return undefined;
  let on = eip1559.get(common);
  if (on === undefined) {
    on = common.isActivatedEIP(1559);
    eip1559.set(common, on);
  }
  if (!on) return undefined;
  const [cid, nonceB, tipB, capB, gasB, to, valueB, data, access, yB, rB, sB] = fields as unknown[];
  if (uint(cid, 32) !== chainId) return undefined;
  const nonce = uint(nonceB, 8);
  const tip = uint(tipB, 32);
  const feeCap = uint(capB, 32);
  const gasLimit = uint(gasB, 32);
  const value = uint(valueB, 32);
  const y = uint(yB, 1);
  const r = uint(rB, 32);
  const s = uint(sB, 32);
  if (
    nonce === undefined ||
    tip === undefined ||
    feeCap === undefined ||
    gasLimit === undefined ||
    value === undefined ||
    y === undefined ||
    r === undefined ||
    s === undefined
  )
    return undefined;
  if (nonce >= MAX_NONCE || tip > feeCap || (y !== 0n && y !== 1n)) return undefined;
  if (r === 0n || s === 0n || s > ORDER_DIV_2) return undefined;
  if (gasLimit * feeCap > MAX_UINT256 || gasLimit > BigInt(MAX_EVM_BLOCK_GAS_LIMIT)) return undefined;
  if (!(to instanceof Uint8Array) || to.byteLength !== 20) return undefined; // creations: slow path
  if (!(data instanceof Uint8Array) || !Array.isArray(access)) return undefined;
  let accessGas = 0n;
  for (const item of access as unknown[]) {
    if (!Array.isArray(item) || item.length !== 2) return undefined;
    const [address, keys] = item as unknown[];
    if (!(address instanceof Uint8Array) || address.byteLength !== 20 || !Array.isArray(keys))
      return undefined;
    for (const k of keys as unknown[])
      if (!(k instanceof Uint8Array) || k.byteLength !== 32) return undefined;
    accessGas += ACCESS_ADDRESS_GAS + ACCESS_KEY_GAS * BigInt(keys.length);
  }
  if (gasLimit < BASE_GAS + BOUND_PER_DATA_BYTE * BigInt(data.byteLength) + accessGas) return undefined;
  return {
    chainId,
    nonce,
    maxPriorityFeePerGas: tip,
    maxFeePerGas: feeCap,
    gasLimit,
    to,
    value,
    data,
    yParity: y,
    r: rB as Uint8Array,
    s: sB as Uint8Array,
  };
}
