/**
 * The EVM block gas limit as a consensus rule (ADR 0285, docs/eth-rpc.md "Block gas limit"): every EVM
 * rollup has a gas limit per Ordo block (genesis `evmGasLimit`, default 30,000,000). A transaction may
 * not declare more gas than it (admission and the executor refuse it, "exceeds block gas limit"), and the
 * gas its transactions declare in one block may not add up to more (the builder packs by it, validators
 * refuse a proposal over it). That bounds the EVM work of every block, so no transaction can hold the
 * executors, and with them block production (a proposal commits to the results of h − 2), for long.
 *
 * `declaredEvmGas` reads a raw transaction's gas limit straight from its RLP, without decoding the rest
 * or recovering the sender: the builder runs it on every EVM transaction it packs or checks. It reads the
 * envelopes the EVM rollups accept (legacy, EIP-2930 type 1, EIP-1559 type 2); anything else is
 * unreadable (undefined) and counts 0: the executor refuses, as invalid and without running it, every
 * transaction whose gas limit this reading does not return (src/exec/evm/vm.ts), so a block can never
 * carry EVM work its declared gas does not account for.
 */
import type { RollupKind } from '../types.ts';

/** The gas limit of an EVM rollup's block when its genesis entry sets none (Ethereum's and OP's). */
export const DEFAULT_EVM_BLOCK_GAS_LIMIT = 30_000_000;
/** The genesis bounds of `evmGasLimit`: one plain transfer at least, 2^50 at most (integers stay exact). */
export const MIN_EVM_BLOCK_GAS_LIMIT = 21_000;
export const MAX_EVM_BLOCK_GAS_LIMIT = 2 ** 50;

/** A rollup's block gas limit: EVM rollups only (undefined for the others, which have none). */
export function evmBlockGasLimit(r: {
  kind: RollupKind;
  evmGasLimit?: number | undefined;
}): number | undefined {
  return r.kind === 'evm' ? (r.evmGasLimit ?? DEFAULT_EVM_BLOCK_GAS_LIMIT) : undefined;
}

/** Index of the gas limit among the fields of each accepted envelope. */
const GAS_FIELD: Record<number, number> = { 0: 2, 1: 3, 2: 4 };

/**
 * The gas limit a raw EVM transaction declares, or undefined when its bytes are not a readable legacy,
 * type-1 or type-2 envelope. A value above 2^53 reads as Infinity (above every block gas limit).
 */
export function declaredEvmGas(raw: Uint8Array): number | undefined {
  if (raw.byteLength === 0) return undefined;
  const first = raw[0]!;
  let type: number;
  let pos: number;
  if (first >= 0xc0) {
    type = 0;
    pos = 0;
  } else if (first === 1 || first === 2) {
    type = first;
    pos = 1;
  } else return undefined;
  const list = header(raw, pos);
  if (list === undefined || !list.list || list.end !== raw.byteLength) return undefined;
  pos = list.start;
  const want = GAS_FIELD[type]!;
  for (let i = 0; i < want; i++) {
    const f = header(raw, pos);
    if (f === undefined || f.list || f.end > list.end) return undefined;
    pos = f.end;
  }
  const g = header(raw, pos);
  if (g === undefined || g.list || g.end > list.end) return undefined;
  const len = g.end - g.start;
  if (len > 8) return Number.POSITIVE_INFINITY;
  let v = 0;
  for (let i = g.start; i < g.end; i++) v = v * 256 + raw[i]!;
  return v > Number.MAX_SAFE_INTEGER ? Number.POSITIVE_INFINITY : v;
}

/** The gas a transaction counts for against its block's limit: its declared gas (0 when unreadable). */
export function evmGasCharge(raw: Uint8Array): number {
  return declaredEvmGas(raw) ?? 0;
}

/**
 * The gas a bundle's EVM transactions declare, summed over the legs whose namespace `isEvm` names: what
 * simulating the bundle may cost at most, in gas (ADRs 0296, 0297).
 */
export function bundleEvmGas(
  legs: readonly { namespace: number; txs: readonly Uint8Array[] }[],
  isEvm: (namespace: number) => boolean,
): number {
  let gas = 0;
  for (const leg of legs) if (isEvm(leg.namespace)) for (const tx of leg.txs) gas += evmGasCharge(tx);
  return gas;
}

/** One RLP item's header at `pos`: where its payload starts and ends, and whether it is a list. */
function header(b: Uint8Array, pos: number): { start: number; end: number; list: boolean } | undefined {
  if (pos >= b.byteLength) return undefined;
  const p = b[pos]!;
  if (p < 0x80) return { start: pos, end: pos + 1, list: false };
  if (p <= 0xb7) return { start: pos + 1, end: pos + 1 + (p - 0x80), list: false };
  if (p <= 0xbf) return long(b, pos, p - 0xb7, false);
  if (p <= 0xf7) return { start: pos + 1, end: pos + 1 + (p - 0xc0), list: true };
  return long(b, pos, p - 0xf7, true);
}

function long(
  b: Uint8Array,
  pos: number,
  lenOfLen: number,
  list: boolean,
): { start: number; end: number; list: boolean } | undefined {
  if (lenOfLen > 4 || pos + 1 + lenOfLen > b.byteLength) return undefined;
  let len = 0;
  for (let i = 0; i < lenOfLen; i++) len = len * 256 + b[pos + 1 + i]!;
  const start = pos + 1 + lenOfLen;
  return { start, end: start + len, list };
}
