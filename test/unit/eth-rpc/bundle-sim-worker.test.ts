/**
 * The call worker's leg runner (src/eth-rpc/bundle-sim-worker.ts, ADR 0306): a leg answers as the
 * executor's leg simulation with a VM built for the job's own options — after the worker-start warm-up
 * and after a job with other options (the leg VMs are kept by what the EVM's answers depend on).
 */
import { describe, expect, it } from 'vitest';
import { runLegJob, warmLegVm } from '../../../src/eth-rpc/bundle-sim-worker.ts';
import { createVm, type SimLane, simulateLeg, type VmOptions } from '../../../src/exec/index.ts';
import type { Bundle } from '../../../src/types.ts';
import { CHAIN_ID, common, EVM_NS, evmAddr, evmTx, rollups } from '../exec/helpers.ts';

const rollup = rollups().find((r) => r.namespace === EVM_NS)!;
/** Genesis state of the rollup (its alloc): what the replica holds at height 0. */
const state = (await createVm(rollup)).genesis();
const get = (k: string) => state.get(k);
const root = new Uint8Array(32).fill(7);
// 2 gwei fee cap: pays a 1 gwei base fee (the default), not a 3 gwei one.
const leg: Bundle['legs'][number] = {
  namespace: EVM_NS,
  txs: [evmTx(0, { to: evmAddr(1), value: 5n, nonce: 0n, gasLimit: 21_000n })],
  revertingTxHashes: [],
};

async function reference(vm: VmOptions) {
  const lane: SimLane = { rollup, state: { state: { get }, height: 4, root } };
  return simulateLeg(lane, await createVm(rollup, vm), leg, 5_000);
}
const job = (vm: VmOptions) => ({ rollup, vm, root, timeMs: 5_000, leg });

describe('a call worker’s bundle legs', () => {
  it('answer as the executor’s leg simulation after the warm-up, for each job’s own VM options', async () => {
    await warmLegVm({ chainId: CHAIN_ID, coinbase: '0x0000000000000000000000000000000000000fee' }, common());
    const cheap = await runLegJob(job({}), 4, get);
    expect(cheap).toEqual(await reference({}));
    expect(cheap.txs[0]!.status).toBe('success');
    const dear = await runLegJob(job({ evmBaseFeePerGas: 3_000_000_000n }), 4, get);
    expect(dear).toEqual(await reference({ evmBaseFeePerGas: 3_000_000_000n }));
    expect(dear.txs[0]!.status).toBe('invalid');
    expect(await runLegJob(job({}), 4, get)).toEqual(cheap);
  });

  it('never fails the worker’s start when the warm-up cannot run', async () => {
    await expect(warmLegVm({ chainId: -1, coinbase: 'nonsense' }, common())).resolves.toBeUndefined();
  });
});
