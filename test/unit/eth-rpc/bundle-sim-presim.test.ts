/**
 * The pool's presimulation hook on the call workers (ADR 0313, src/eth-rpc/bundle-sim-presim.ts): which
 * bundles go to the offloading coordinator, what it answers the pool, and which errors keep the candidate
 * (an executor refusal) or leave the verdict to `select` (a worker's error).
 */
import { describe, expect, it } from 'vitest';
import { unsignedBundle } from '../../../src/codec/index.ts';
import { OrdoError } from '../../../src/errors.ts';
import { PRESIM_WORKER_MIN_GAS, presimulateOnWorkers } from '../../../src/eth-rpc/bundle-sim-presim.ts';
import { CallCrashedError, CallTimeoutError } from '../../../src/eth-rpc/call-timeout.ts';
import type { SimResult } from '../../../src/exec/index.ts';
import type { Bundle } from '../../../src/types.ts';

const heavy = unsignedBundle([{ namespace: 10, txs: [Uint8Array.from([1])], revertingTxHashes: [] }]);
const light = unsignedBundle([{ namespace: 10, txs: [Uint8Array.from([2])], revertingTxHashes: [] }]);
const gas = (b: Bundle) => (b === heavy ? PRESIM_WORKER_MIN_GAS : PRESIM_WORKER_MIN_GAS - 1);
const refused: SimResult = { applies: false, reason: 'tx 0 would end revert', height: 7, legs: [] };

describe('presimulation hook on the call workers', () => {
  it('offloads bundles declaring at least minGas; lighter ones run on the main hook', async () => {
    const calls: string[] = [];
    const hook = presimulateOnWorkers({
      offload: async () => {
        calls.push('offload');
        return { result: refused, thread: 'worker' };
      },
      main: async () => {
        calls.push('main');
        return { applies: true, height: 7 };
      },
      gas,
      minGas: PRESIM_WORKER_MIN_GAS,
    });
    expect(await hook(heavy)).toEqual({
      applies: false,
      reason: 'tx 0 would end revert',
      height: 7,
      thread: 'worker',
    });
    expect(await hook(light)).toEqual({ applies: true, height: 7, thread: 'main' });
    expect(calls).toEqual(['offload', 'main']);
  });

  it('keeps the candidate on an executor refusal; a timeout is `slow` (ADR 0332); throws other worker errors', async () => {
    let err: unknown;
    const hook = presimulateOnWorkers({
      offload: async () => {
        throw err;
      },
      main: async () => ({ applies: true }),
      gas,
      minGas: 0,
    });
    err = new OrdoError('EXEC_SIM_UNSTABLE', 'executed heads moved during simulation');
    expect(await hook(heavy)).toEqual({ applies: true, thread: 'main' });
    err = new CallTimeoutError(5000);
    expect(await hook(heavy)).toEqual({
      applies: false,
      slow: true,
      reason: 'its simulation ran past the 5000 ms call bound (rpc.ethCallTimeoutMs)',
      thread: 'worker',
    });
    // Every worker busy (-32003) or a crashed worker: no verdict, select simulates it.
    err = new CallCrashedError();
    await expect(hook(heavy)).rejects.toBe(err);
  });
});
