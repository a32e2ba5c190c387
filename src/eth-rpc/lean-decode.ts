/**
 * The common case of `decodeRaw` without ethereumjs' transaction class (ADR 0280): a well-formed,
 * signed EIP-1559 (type 2) call — what viem, ethers and wallets send by default.
 *
 * Every node admits every EVM transaction it sees (from eth_sendRawTransaction or from gossip), and the
 * profile of one node at 1,000 ERC-20 transfers/s had its main thread ~97 % busy with admission ~38 % of
 * it: ethereumjs builds a frozen transaction object (hardfork checks on every field), re-encodes the nine
 * unsigned fields to hash them, then recovers. Here the RLP is decoded once, the fields are checked with
 * the rules ethereumjs applies, the signed hash is read from the payload's bytes (signing-hash.ts,
 * ADR 0251) and the sender recovered with the rollup's backend. The ethereumjs object is built only when
 * something asks for it (`Decoded.tx`: JSON of a pending transaction, eth_callBundle).
 *
 * The rule: anything this path is not sure about returns undefined, and the caller runs ethereumjs' own
 * path, so every refusal keeps ethereumjs' decision and Ethereum's message. Contract creations, other
 * types, non-canonical numbers, a high or unrecoverable signature, fee caps out of order, a gas limit
 * near the intrinsic gas or above the block's: all go the slow way.
 */
import type { Common } from '@ethereumjs/common';
import { createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { MAX_EVM_BLOCK_GAS_LIMIT } from '../codec/index.ts';
import { ecrecover, signingHash1559 } from '../exec/index.ts';
import { data as hexData } from './params.ts';

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

/** What `decodeRaw` answers; `tx` is built on first use when the lean path decoded it. */
export interface LeanDecoded {
  readonly tx: TypedTransaction;
  hash: Uint8Array;
  from: Uint8Array;
  fromHex: string;
  maxCost: bigint;
  nonce: bigint;
  feeCap: bigint;
  /** The recovered 64-byte public key (the executor then skips its own recovery). */
  senderPubKey: Uint8Array;
}

/** Commons that activate EIP-1559 (ethereumjs refuses type 2 otherwise): asked once per Common. */
const eip1559 = new WeakMap<Common, boolean>();

/** A canonical unsigned integer of at most `maxBytes`: no leading zero byte. */
function uint(b: unknown, maxBytes: number): bigint | undefined {
  if (!(b instanceof Uint8Array) || b.byteLength > maxBytes) return undefined;
  if (b.byteLength === 0) return 0n;
  if (b[0] === 0) return undefined;
  return BigInt(hexData(b));
}

/**
 * The lean decode of `raw` (type 2, chain id already checked by the caller against `chainId`), or
 * undefined when ethereumjs must decide. `fields` is `RLP.decode(raw.subarray(1))`.
 */
export function leanDecode1559(
  raw: Uint8Array,
  fields: unknown,
  common: Common,
  chainId: bigint,
): LeanDecoded | undefined {
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
  const signed = signingHash1559(raw);
  if (signed === undefined) return undefined;
  let pub: Uint8Array;
  try {
    pub = ecrecover(signed, y, rB as Uint8Array, sB as Uint8Array);
  } catch {
    return undefined; // ethereumjs says why
  }
  const from = keccak_256(pub).subarray(12);
  let tx: TypedTransaction | undefined;
  return {
    get tx(): TypedTransaction {
      if (tx === undefined) {
        tx = createTxFromRLP(raw, { common }) as TypedTransaction;
        (tx.cache as { senderPubKey?: Uint8Array }).senderPubKey = pub;
      }
      return tx;
    },
    hash: keccak_256(raw),
    from,
    fromHex: hexData(from),
    maxCost: gasLimit * feeCap + value,
    nonce,
    feeCap,
    senderPubKey: pub,
  };
}
