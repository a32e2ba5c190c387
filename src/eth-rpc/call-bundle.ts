/**
 * `eth_callBundle` in Flashbots' shape (issue #24 item 5, docs/eth-rpc.md "Bundles"): simulate a list of
 * signed raw transactions of this rollup, in order, each on the state the previous ones left, on top of
 * the latest executed state, and answer per-transaction results plus totals:
 *
 *   [{txs, blockNumber, stateBlockNumber?, timestamp?}] →
 *   {results: [{txHash, gasUsed, gasPrice, gasFees, fromAddress, toAddress, value | error + revert}],
 *    bundleHash, bundleGasPrice, gasFees, totalGasUsed, stateBlockNumber, applies, reason?}
 *
 * The simulation is the executor's bundle simulation (`Executor.simulate`, the one `ordo_callBundle`
 * uses), run as a single-leg `execution` bundle: nothing is persisted. Each raw transaction is first
 * decoded with the same stateless checks as `eth_sendRawTransaction` (chain id, signature, intrinsic
 * gas), so a transaction that could never be sent is refused with that message, naming its index.
 * Only the latest executed state exists: `stateBlockNumber` may be a tag or that state's block number.
 * `timestamp` is checked for shape and ignored (the simulation runs at the node's clock).
 * `coinbaseDiff` and `ethSentToCoinbase` are not reported (the simulation gives no state diff per tx).
 */
import type { Common } from '@ethereumjs/common';
import type { TypedTransaction } from '@ethereumjs/tx';
import { unsignedBundle } from '../codec/index.ts';
import { invalidParams, RPC, RpcError, simulationRetryError } from '../rpc/index.ts';
import type { Bundle } from '../types.ts';
import { decodeRaw, ethError } from './admission.ts';
import { flashbotsBundleHash } from './bundles.ts';
import { data, parseBlockRef, parseData, parseObject, parseQuantity } from './params.ts';
import { revertReason } from './state.ts';

const MAX_TXS = 100;
const MAX_BYTES = 300_000;

/** One simulated transaction as the executor reports it (src/exec/simulate.ts `SimTx`). */
export interface SimulatedTxLike {
  hash: Uint8Array;
  status: 'success' | 'revert' | 'invalid';
  gasUsed: bigint;
  error?: string;
  returnData?: Uint8Array;
}

/** The executor's bundle simulation, as far as eth_callBundle needs it. */
export type BundleSimulate = (
  bundle: Bundle,
  opts?: { height?: number },
) => Promise<{
  applies: boolean;
  reason?: string;
  height: number;
  legs: { namespace: number; executed: boolean; txs: SimulatedTxLike[] }[];
}>;

export interface EthCallBundleDeps {
  namespace: number;
  common: Common;
  chainId: bigint;
  baseFee: bigint;
  maxTxBytes: number;
  /** The rollup's block gas limit (ADR 0285). */
  blockGasLimit: bigint;
  simulate: BundleSimulate;
}

/** What an EIP-1559 (or legacy) transaction pays per gas at the rollup's constant base fee. */
function effectiveGasPrice(tx: TypedTransaction, baseFee: bigint): bigint {
  if ('maxFeePerGas' in tx) {
    const t = tx as unknown as { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };
    const room = t.maxFeePerGas - baseFee;
    if (t.maxPriorityFeePerGas > room) return t.maxFeePerGas;
    return baseFee + t.maxPriorityFeePerGas;
  }
  return (tx as unknown as { gasPrice: bigint }).gasPrice;
}

export async function callBundle(d: EthCallBundleDeps, params: unknown[]): Promise<Record<string, unknown>> {
  if (params.length > 1) throw invalidParams('expected [{txs, blockNumber, stateBlockNumber?, timestamp?}]');
  const p = parseObject(params[0], 'bundle');
  if (!Array.isArray(p.txs) || p.txs.length === 0) throw invalidParams('txs must be a non-empty array');
  if (p.txs.length > MAX_TXS) throw invalidParams(`txs has ${p.txs.length} entries; the limit is ${MAX_TXS}`);
  let bytes = 0;
  const raws = p.txs.map((t: unknown, i: number) => {
    const b = parseData(t, `txs[${i}]`, d.maxTxBytes);
    if (b.length === 0) throw invalidParams(`txs[${i}] is empty`);
    bytes += b.length;
    if (bytes > MAX_BYTES) throw invalidParams(`bundle is over ${MAX_BYTES} bytes`);
    return b;
  });
  const block = parseQuantity(p.blockNumber, 'blockNumber', 0xffff_ffff_ffffn);
  if (block === 0n) throw invalidParams('blockNumber must be at least 1');
  const stateRef = parseBlockRef(p.stateBlockNumber, 'stateBlockNumber');
  if ('hash' in stateRef) throw invalidParams('stateBlockNumber must be a block number or a tag');
  if ('tag' in stateRef && stateRef.tag === 'earliest')
    throw ethError('historical state is not available: only the latest block’s state is kept');
  if (
    p.timestamp !== undefined &&
    (typeof p.timestamp !== 'number' || !Number.isSafeInteger(p.timestamp) || p.timestamp < 0)
  )
    throw invalidParams('timestamp must be a non-negative integer (seconds)');
  const decoded = raws.map((raw, i) => {
    try {
      return decodeRaw(raw, d.common, d.chainId, d.maxTxBytes, { blockGasLimit: d.blockGasLimit });
    } catch (err) {
      if (err instanceof RpcError) {
        const m = err.message.replace(/^invalid params: /, '');
        throw err.code === RPC.INVALID_PARAMS
          ? invalidParams(`txs[${i}]: ${m}`, err.data)
          : new RpcError(err.code, `txs[${i}]: ${m}`, err.data);
      }
      throw err;
    }
  });
  const bundle = unsignedBundle([{ namespace: d.namespace, txs: raws, revertingTxHashes: [] }]);
  let sim: Awaited<ReturnType<BundleSimulate>>;
  try {
    sim = await d.simulate(bundle, 'number' in stateRef ? { height: stateRef.number } : undefined);
  } catch (err) {
    if (err instanceof RpcError) throw err;
    // Blocks kept executing under every attempt: transient, answered as ordo_callBundle does (-32003,
    // retryable, retryAfterMs).
    const retry = simulationRetryError(err);
    if (retry !== undefined) throw retry;
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('EXEC_'))
      throw ethError((err as Error).message, { code, retryable: false });
    throw err;
  }
  const leg = sim.legs.find((l) => l.namespace === d.namespace);
  if (leg === undefined || !leg.executed || leg.txs.length !== raws.length)
    throw ethError('this rollup is not executed on this node: bundles cannot be simulated here');
  let totalGas = 0n;
  let totalFees = 0n;
  const results = leg.txs.map((t, i) => {
    const dec = decoded[i]!;
    const price = effectiveGasPrice(dec.tx, d.baseFee);
    const fees = t.gasUsed * price;
    totalGas += t.gasUsed;
    totalFees += fees;
    const r: Record<string, unknown> = {
      txHash: data(t.hash),
      gasUsed: Number(t.gasUsed),
      gasPrice: price.toString(),
      gasFees: fees.toString(),
      fromAddress: dec.fromHex,
      toAddress: dec.tx.to === undefined ? null : dec.tx.to.toString(),
    };
    const ret = t.returnData ?? new Uint8Array(0);
    if (t.status === 'success') r.value = data(ret);
    else if (t.status === 'revert' && (t.error === undefined || t.error === 'revert')) {
      r.error = 'execution reverted';
      r.revert = revertReason(ret) ?? data(ret);
      r.revertData = data(ret);
    } else r.error = t.error ?? 'invalid transaction';
    return r;
  });
  return {
    results,
    bundleHash: data(flashbotsBundleHash(raws)),
    bundleGasPrice: (totalGas === 0n ? 0n : totalFees / totalGas).toString(),
    gasFees: totalFees.toString(),
    totalGasUsed: Number(totalGas),
    stateBlockNumber: sim.height,
    // Ordo's own verdict: whether the bundle would apply (every tx succeeds), and why not.
    applies: sim.applies,
    ...(sim.reason !== undefined ? { reason: sim.reason } : {}),
  };
}
