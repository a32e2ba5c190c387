/**
 * The node's RPC bundle simulation (ADR 0297): a bundle whose EVM transactions declare more gas than
 * `bundles.maxSimulationGasPerBlock` is refused with EXEC_SIM_TOO_LARGE before anything runs; all requests
 * together get `rpc.bundleSimulationGasPerSec` of gas a second (EXEC_SIM_BUSY with retryAfterMs past it);
 * bundles without EVM legs pass freely and reach the executor unchanged. The clock is a test double.
 */
import { describe, expect, it } from 'vitest';
import { cappedSimulate } from '../../../src/node/capped-simulator.ts';
import type { Bundle } from '../../../src/types.ts';
import { evmTx } from '../exec/helpers.ts';

const bundleOf = (legs: [number, Uint8Array[]][]): Bundle => ({
  legs: legs.map(([namespace, txs]) => ({ namespace, txs, revertingTxHashes: [] })),
  atomicity: 'execution',
  minHeight: 0,
  maxHeight: 0,
  replacementUuid: new Uint8Array(0),
  signer: new Uint8Array(0),
  signature: new Uint8Array(0),
});
const evmBundle = (...gas: bigint[]) =>
  bundleOf([[2, gas.map((g, i) => evmTx(0, { nonce: BigInt(i), gasLimit: g }))]]);

function setup(gasPerSec: number) {
  let now = 0;
  const ran: Bundle[] = [];
  const sim = cappedSimulate(
    async (b: Bundle, o?: { height?: number }) => {
      ran.push(b);
      return { applies: true, height: o?.height ?? 7 };
    },
    { maxGas: 1_000_000, gasPerSec, isEvm: (ns) => ns === 2, now: () => now },
  );
  return { sim, ran, advance: (ms: number) => (now += ms) };
}

describe('cappedSimulate', () => {
  it('refuses a bundle over the cap before the executor sees it, naming gas and limit', async () => {
    const { sim, ran } = setup(0);
    await expect(sim(evmBundle(700_000n, 400_000n))).rejects.toMatchObject({
      code: 'EXEC_SIM_TOO_LARGE',
      data: { gas: 1_100_000, limit: 1_000_000 },
      message: expect.stringMatching(/bundles\.maxSimulationGasPerBlock/),
    });
    expect(ran).toEqual([]);
  });

  it('passes a bundle within the cap, or one whose legs are not EVM, with its options', async () => {
    const { sim, ran } = setup(0);
    const light = evmBundle(1_000_000n);
    expect(await sim(light, { height: 3 })).toEqual({ applies: true, height: 3 });
    const transfer = bundleOf([[1, [new Uint8Array(5_000)]]]);
    expect(await sim(transfer)).toEqual({ applies: true, height: 7 });
    expect(ran).toEqual([light, transfer]);
  });

  it('shares a gas rate among all requests: past it a retryable refusal that says when it fits', async () => {
    const { sim, ran, advance } = setup(500_000);
    await sim(evmBundle(600_000n)); // the bucket starts full (1 M)
    await expect(sim(evmBundle(600_000n))).rejects.toMatchObject({
      code: 'EXEC_SIM_BUSY',
      data: { gas: 600_000, gasPerSec: 500_000, retryAfterMs: 400 },
      message: expect.stringMatching(/rpc\.bundleSimulationGasPerSec/),
    });
    await sim(bundleOf([[1, [new Uint8Array(10)]]])); // no EVM gas: not rate-bound
    advance(400);
    await sim(evmBundle(600_000n));
    expect(ran).toHaveLength(3);
    // The bucket never holds more than one maximal bundle, however long it stayed idle.
    advance(60_000);
    await sim(evmBundle(1_000_000n));
    await expect(sim(evmBundle(21_000n))).rejects.toMatchObject({ code: 'EXEC_SIM_BUSY' });
  });
});
