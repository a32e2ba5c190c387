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
import { ecrecover, parse1559, signingHash1559 } from '../exec/index.ts';
import { data as hexData } from './params.ts';

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

/**
 * The lean decode of `raw` (type 2, chain id already checked by the caller against `chainId`), or
 * undefined when ethereumjs must decide. `fields` is `RLP.decode(raw.subarray(1))`. The field checks are
 * src/exec/evm/lean-1559.ts' (shared with the mempool's classification and the block index, ADR 0339).
 */
export function leanDecode1559(
  raw: Uint8Array,
  fields: unknown,
  common: Common,
  chainId: bigint,
): LeanDecoded | undefined {
  const f = parse1559(raw, fields, common, chainId);
  if (f === undefined) return undefined;
  const { gasLimit, maxFeePerGas: feeCap, value, nonce } = f;
  const signed = signingHash1559(raw);
  if (signed === undefined) return undefined;
  let pub: Uint8Array;
  try {
    pub = ecrecover(signed, f.yParity, f.r, f.s);
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
