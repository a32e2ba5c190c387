/**
 * The node's RPC bundle simulation (ADR 0297): a bundle whose EVM transactions declare more gas than
 * `bundles.maxSimulationGasPerBlock` is refused with EXEC_SIM_TOO_LARGE before anything runs (ordo_callBundle
 * maps it to -32602); one within the cap, or without EVM legs, reaches the executor unchanged.
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

describe('cappedSimulate', () => {
  const ran: Bundle[] = [];
  const sim = cappedSimulate(
    async (b: Bundle, o?: { height?: number }) => {
      ran.push(b);
      return { applies: true, height: o?.height ?? 7 };
    },
    1_000_000,
    (ns) => ns === 2,
  );

  it('refuses a bundle over the cap before the executor sees it, naming gas and limit', async () => {
    const heavy = bundleOf([
      [2, [evmTx(0, { nonce: 0n, gasLimit: 700_000n }), evmTx(0, { nonce: 1n, gasLimit: 400_000n })]],
    ]);
    await expect(sim(heavy)).rejects.toMatchObject({
      code: 'EXEC_SIM_TOO_LARGE',
      data: { gas: 1_100_000, limit: 1_000_000 },
      message: expect.stringMatching(/bundles\.maxSimulationGasPerBlock/),
    });
    expect(ran).toEqual([]);
  });

  it('passes a bundle within the cap, or one whose legs are not EVM, with its options', async () => {
    const light = bundleOf([[2, [evmTx(0, { nonce: 0n, gasLimit: 1_000_000n })]]]);
    expect(await sim(light, { height: 3 })).toEqual({ applies: true, height: 3 });
    const transfer = bundleOf([[1, [new Uint8Array(5_000)]]]);
    expect(await sim(transfer)).toEqual({ applies: true, height: 7 });
    expect(ran).toEqual([light, transfer]);
  });
});
