/**
 * The EVM rollup the executor benchmarks run (bench/exec.ts, bench/exec-cpu.ts, bench/exec-stages.ts):
 * one namespace, limits far above any benchmark's block, and every given account funded alike.
 */
import type { RollupConfig } from '../../src/config/index.ts';

export function benchEvmRollup(
  namespace: number,
  chainId: number,
  funded: Uint8Array[],
  balance: bigint,
): RollupConfig {
  return {
    namespace,
    name: 'evm',
    kind: 'evm',
    weight: 1,
    maxTxBytes: 1 << 20,
    maxPendingTxs: 1e6,
    maxPendingBytes: 1e9,
    evmChainId: chainId,
    alloc: funded.map((a) => ({
      address: `0x${Buffer.from(a).toString('hex')}`,
      balance: balance.toString(),
    })),
  };
}
