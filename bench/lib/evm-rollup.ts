/**
 * The EVM rollup the executor benchmarks run (bench/exec.ts, bench/exec-cpu.ts, bench/exec-stages.ts):
 * one namespace, limits far above any benchmark's block, and every given account funded alike; and an
 * executor of it over an in-memory store, started.
 */
import { pino } from 'pino';
import type { RollupConfig } from '../../src/config/index.ts';
import { createExecutor, type Executor, memoryKvFactory } from '../../src/exec/index.ts';

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

/** A started executor of one rollup over an in-memory store, with `workers` worker threads, silent. */
export async function startBenchExecutor(rollup: RollupConfig, workers: number): Promise<Executor> {
  const ex = createExecutor({
    rollups: [rollup],
    kv: memoryKvFactory().kv,
    workers,
    logger: pino({ level: 'silent' }),
  });
  await ex.start();
  return ex;
}
