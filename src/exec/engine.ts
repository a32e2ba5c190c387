/**
 * Execution primitives shared by the sequential executor, the parallel coordinator and the workers:
 * building a VM for a rollup, running one transaction through a recording `TxView`, and applying a
 * transaction's effects (writes, then commutative credits) to a block overlay.
 *
 * The sequential reference executor (`executeSequential`) is the definition of correct results: the
 * parallel executor must produce the same receipts and state for every block (docs/executor.md).
 */
import type { RollupConfig } from '../config/index.ts';
import { EvmVm } from './evm/vm.ts';
import { TransferVm } from './transfer/vm.ts';
import type { BlockContext, Bytes, Receipt, TxOutcome, Vm } from './types.ts';
import { type TxEffects, TxView, type Val } from './view.ts';
import { Slicer } from './yield.ts';

// biome-ignore lint/suspicious/noExplicitAny: VMs differ in their transaction type; the engine is generic
export type AnyVm = Vm<any>;

export interface VmOptions {
  /** transfer VM fee recipient (hex ed25519 public key). */
  transferFeeRecipient?: string;
  /** evm COINBASE (0x address). */
  evmFeeRecipient?: string;
  /** evm block base fee in wei (burned), default 1 gwei. */
  evmBaseFeePerGas?: bigint;
}

export function isExecuted(rollup: RollupConfig): boolean {
  return rollup.kind === 'transfer' || rollup.kind === 'evm';
}

export async function createVm(rollup: RollupConfig, opts: VmOptions = {}): Promise<AnyVm> {
  if (rollup.kind === 'transfer') {
    return new TransferVm(
      rollup,
      opts.transferFeeRecipient === undefined ? {} : { feeRecipient: opts.transferFeeRecipient },
    );
  }
  if (rollup.kind === 'evm') {
    const o: { feeRecipient?: string; baseFeePerGas?: bigint } = {};
    if (opts.evmFeeRecipient !== undefined) o.feeRecipient = opts.evmFeeRecipient;
    if (opts.evmBaseFeePerGas !== undefined) o.baseFeePerGas = opts.evmBaseFeePerGas;
    return EvmVm.create(rollup, o);
  }
  throw new RangeError(`rollup ${rollup.namespace} of kind ${rollup.kind} is not executed`);
}

/** Overlay of a block's writes over committed state; null = deleted. */
export function overlayGet(
  overlay: Map<Bytes, Val>,
  committed: { get(k: Bytes): Bytes | undefined },
): (k: Bytes) => Bytes | undefined {
  return (k) => {
    const v = overlay.get(k);
    if (v !== undefined) return v ?? undefined;
    return committed.get(k);
  };
}

/** Execute a prepared (or failed-to-prepare) transaction against `base`, recording its effects. */
export async function runTx(
  vm: AnyVm,
  tx: unknown,
  base: (k: Bytes) => Bytes | undefined,
  ctx: BlockContext,
): Promise<{ outcome: TxOutcome; effects: TxEffects }> {
  const view = new TxView(base);
  let outcome: TxOutcome;
  try {
    outcome = await vm.execute(tx, view, ctx);
  } catch (err) {
    outcome = {
      status: 'invalid',
      gasUsed: 0n,
      logs: [],
      error: err instanceof Error ? err.message : String(err),
    };
  }
  const effects = view.effects();
  if (outcome.status === 'invalid') {
    effects.writes.clear();
    effects.credits.clear();
  }
  return { outcome, effects };
}

/** Apply writes, then credits, to the overlay (in commit order). */
export function applyEffects(
  vm: AnyVm,
  overlay: Map<Bytes, Val>,
  get: (k: Bytes) => Bytes | undefined,
  writes: Iterable<[Bytes, Val]>,
  credits: Iterable<[Bytes, bigint]>,
): void {
  for (const [k, v] of writes) overlay.set(k, v);
  for (const [k, amt] of credits) overlay.set(k, vm.applyCredit(get(k), amt) ?? null);
}

export function toReceipt(index: number, o: TxOutcome): Receipt {
  const r: Receipt = { index, status: o.status, gasUsed: o.gasUsed, logs: o.logs };
  if (o.error !== undefined) r.error = o.error;
  if (o.contractAddress !== undefined) r.contractAddress = o.contractAddress;
  return r;
}

export function invalidOutcome(error: string): TxOutcome {
  return { status: 'invalid', gasUsed: 0n, logs: [], error };
}

export interface BlockExecution {
  receipts: Receipt[];
  /** Every key written during the block with its final value. */
  writes: Map<Bytes, Val>;
}

/** The sequential reference executor: prepare, execute and apply one transaction after another. */
export async function executeSequential(
  vm: AnyVm,
  committed: Map<Bytes, Bytes>,
  payloads: Uint8Array[],
  ctx: BlockContext,
): Promise<BlockExecution> {
  const overlay = new Map<Bytes, Val>();
  const get = overlayGet(overlay, committed);
  const receipts: Receipt[] = [];
  const slicer = new Slicer();
  for (let i = 0; i < payloads.length; i++) {
    receipts.push(await executeInOrder(vm, payloads[i]!, i, overlay, get, ctx));
    if (slicer.due()) await slicer.yield();
  }
  return { receipts, writes: overlay };
}

/**
 * One step of the sequential definition: prepare transaction `index`, execute it against `get`
 * (committed state + `overlay`) and apply its effects to `overlay`. The parallel coordinator uses the
 * same step for chunks no worker could run.
 */
export async function executeInOrder(
  vm: AnyVm,
  payload: Uint8Array,
  index: number,
  overlay: Map<Bytes, Val>,
  get: (k: Bytes) => Bytes | undefined,
  ctx: BlockContext,
): Promise<Receipt> {
  const p = vm.prepare(payload);
  if (!p.ok) return toReceipt(index, invalidOutcome(p.error));
  const { outcome, effects } = await runTx(vm, p.tx, get, ctx);
  applyEffects(vm, overlay, get, effects.writes, effects.credits);
  return toReceipt(index, outcome);
}
