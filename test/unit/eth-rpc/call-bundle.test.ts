/**
 * eth_callBundle's answers to the simulator's refusals (src/eth-rpc/call-bundle.ts): the transient
 * `EXEC_SIM_UNSTABLE` exactly as ordo_callBundle answers it (-32003, retryable, retryAfterMs), other
 * `EXEC_*` refusals -32000 not retryable, anything else passed on. The happy paths run against a devnet
 * in test/integration/eth-rpc/call-bundle.test.ts.
 */
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { OrdoError } from '../../../src/errors.ts';
import { type BundleSimulate, callBundle } from '../../../src/eth-rpc/call-bundle.ts';
import { RpcError } from '../../../src/rpc/errors.ts';

const CHAIN = 900_001;
const common = createCustomCommon({ chainId: CHAIN }, Mainnet, { hardfork: Hardfork.Prague });
const account = privateKeyToAccount(`0x${'11'.repeat(32)}`);

async function signed(): Promise<string> {
  return account.signTransaction({
    chainId: CHAIN,
    type: 'eip1559',
    to: account.address,
    value: 1n,
    gas: 21_000n,
    nonce: 0,
    maxFeePerGas: 2_000_000_000n,
    maxPriorityFeePerGas: 0n,
  });
}

async function answer(simulate: BundleSimulate): Promise<unknown> {
  const d = {
    namespace: 3,
    common,
    chainId: BigInt(CHAIN),
    baseFee: 1_000_000_000n,
    maxTxBytes: 100_000,
    blockGasLimit: 30_000_000n,
    simulate,
  };
  return callBundle(d, [{ txs: [await signed()], blockNumber: '0x1' }]).then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('eth_callBundle refusals', () => {
  it('answers EXEC_SIM_UNSTABLE as ordo_callBundle does: -32003, retryable, retryAfterMs', async () => {
    const err = await answer(async () => {
      throw new OrdoError('EXEC_SIM_UNSTABLE', 'executed heads moved during simulation');
    });
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({
      code: -32003,
      message: 'executed heads moved during simulation',
      data: { code: 'EXEC_SIM_UNSTABLE', retryable: true, retryAfterMs: 200 },
    });
  });

  it('answers other simulator refusals -32000, not retryable, and passes anything else on', async () => {
    const err = await answer(async () => {
      throw new OrdoError('EXEC_NOT_STARTED', 'executor is not started');
    });
    expect(err).toMatchObject({
      code: -32000,
      message: 'executor is not started',
      data: { code: 'EXEC_NOT_STARTED', retryable: false },
    });
    const boom = new Error('boom');
    expect(
      await answer(async () => {
        throw boom;
      }),
    ).toBe(boom);
  });
});
