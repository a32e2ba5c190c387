/**
 * A bundle leg's simulation on a call worker (ADR 0305): what `ordo_callBundle` and `eth_callBundle`
 * send a call worker of an EVM rollup (call-worker.ts, `{t:'leg'}`), and how the worker runs it.
 *
 * The worker runs the executor's own leg simulation (`simulateLeg`, src/exec/simulate.ts) with the
 * executor's EVM (`createVm`, the same VM options) over its replica of the rollup's committed state, at
 * exactly the height the main thread stamped on the message: the transactions' results, gas, errors,
 * return data and the leg's state root are those the main thread's simulation gives at that height.
 * The root the leg chains from is the one the main thread read with that height (`job.root`).
 *
 * The leg VM is built, and one throw-away leg run on it, when the worker starts (`warmLegVm`, ADR 0306),
 * as the eth_call VM is: a worker's first leg no longer pays for them (~15 ms). VMs are kept by what
 * the EVM's answers depend on (chain id, block gas limit, fee recipient, base fee), so a job with other
 * options never runs on a VM built for different ones.
 *
 * What the worker does not do (the main thread's coordinator, bundle-sim.ts, does): the verdict
 * (`applies` / `reason`, which spans legs), the height checks, transfer legs, and the pending-block
 * overlay of the auction (ADR 0298), which RPC simulations never ask for. Nor does it keep the runs for
 * the block that places the bundle (ADR 0220): that cache lives on the main thread.
 */
import type { Common } from '@ethereumjs/common';
import { createTx } from '@ethereumjs/tx';
import { evmBlockGasLimit } from '../codec/index.ts';
import type { RollupConfig } from '../config/index.ts';
import {
  type AnyVm,
  createVm,
  DEFAULT_EVM_BASE_FEE,
  DEFAULT_EVM_FEE_RECIPIENT,
  type LegRun,
  type SimLane,
  simulateLeg,
  type VmOptions,
} from '../exec/index.ts';
import type { LegJob } from './leg-job.ts';

/** Leg VMs of this worker by `vmKey` (one in practice: a worker serves one rollup with one set of options). */
const vms = new Map<string, Promise<AnyVm>>();

/** What a leg's EVM answers depend on, beyond the state and the block context. */
function vmKey(rollup: RollupConfig, vm: VmOptions): string {
  return [
    rollup.kind,
    rollup.evmChainId,
    evmBlockGasLimit(rollup),
    (vm.evmFeeRecipient ?? DEFAULT_EVM_FEE_RECIPIENT).toLowerCase(),
    vm.evmBaseFeePerGas ?? DEFAULT_EVM_BASE_FEE,
  ].join('/');
}

function vmFor(rollup: RollupConfig, vm: VmOptions): Promise<AnyVm> {
  const key = vmKey(rollup, vm);
  let made = vms.get(key);
  if (made === undefined) {
    const p = createVm(rollup, vm);
    made = p;
    vms.set(key, p);
    p.catch(() => {
      if (vms.get(key) === p) vms.delete(key);
    });
  }
  return made;
}

/** Run `job` on the worker's replica (`get`) at `height`. */
export async function runLegJob(
  job: LegJob,
  height: number,
  get: (key: string) => string | undefined,
): Promise<LegRun> {
  const lane: SimLane = { rollup: job.rollup, state: { state: { get }, height, root: job.root } };
  return simulateLeg(lane, await vmFor(job.rollup, job.vm), job.leg, job.timeMs);
}

/** A throw-away key (secp256k1 scalar 1): its transaction only exercises the leg path. */
const WARM_KEY = new Uint8Array(32);
WARM_KEY[31] = 1;

/**
 * Build the leg VM for the rollup a call worker serves (what `init` tells it) and run one throw-away
 * leg on it over an empty state (a transfer its sender cannot pay: decode, sender recovery and the VM's
 * transaction path, nothing kept but the VM), so the first real leg neither builds it nor runs that
 * path cold. Never rejects: a leg that finds no VM builds one as before.
 */
export async function warmLegVm(
  w: { chainId: number; coinbase: string; blockGasLimit?: bigint },
  common: Common,
): Promise<void> {
  try {
    const rollup = {
      namespace: 0,
      name: 'leg-warmup',
      kind: 'evm',
      evmChainId: w.chainId,
      ...(w.blockGasLimit === undefined ? {} : { evmGasLimit: Number(w.blockGasLimit) }),
    } as RollupConfig;
    const vm = await vmFor(rollup, { evmFeeRecipient: w.coinbase });
    const tx = createTx(
      {
        type: 2,
        nonce: 0n,
        gasLimit: 21_000n,
        maxFeePerGas: DEFAULT_EVM_BASE_FEE,
        maxPriorityFeePerGas: 0n,
        to: new Uint8Array(20),
        value: 1n,
        chainId: BigInt(w.chainId),
      },
      { common },
    ).sign(WARM_KEY);
    const lane: SimLane = {
      rollup,
      state: { state: { get: () => undefined }, height: 0, root: new Uint8Array(32) },
    };
    await simulateLeg(lane, vm, { namespace: 0, txs: [tx.serialize()], revertingTxHashes: [] }, 1_000);
  } catch {
    // Only a warm-up: the first leg builds what it needs.
  }
}
