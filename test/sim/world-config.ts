/**
 * The simulator configurations the tests share: `baseConfig` (four equal honest validators, 1–40 ms
 * delays, no drops; the scenario and schedule tests) and `worldConfig` for the "world" tests (bundles,
 * auction): short random delays, no drops, a Byzantine proposer whose blocks the world builds, the
 * world's honest block source and its decided-block hook.
 */
import type { BlockSource, BuiltBlock } from '../../src/consensus/index.ts';
import type { SimTxPool } from '../../src/consensus/sim/block-source.ts';
import type { Rng } from '../../src/consensus/sim/rng.ts';
import { SIM_TIMEOUTS, type SimConfig } from '../../src/consensus/sim/simulation.ts';
import type { Block } from '../../src/types.ts';

export interface SimWorld {
  blockSource(node: number, rng: Rng, pool: SimTxPool): BlockSource;
  byzantineBuild(node: number, height: number, round: number, rng: Rng): BuiltBlock;
  decided(node: number, block: Block): void;
}

/** Four equal honest validators, 1–40 ms delays, no drops or partitions; `over` replaces any field. */
export function baseConfig(over: Partial<SimConfig> = {}): SimConfig {
  return {
    seed: 1,
    powers: [1, 1, 1, 1],
    byzantine: [],
    minDelayMs: 1,
    maxDelayMs: 40,
    dropRate: 0,
    dupRate: 0,
    syncDelayMs: 10,
    partitions: [],
    crashes: [],
    gstMs: 800,
    livenessHeights: 3,
    livenessBudgetMs: 30_000,
    maxSkewMs: 10,
    timeouts: SIM_TIMEOUTS,
    ...over,
  };
}

export function worldConfig(
  seed: number,
  world: SimWorld,
  byzantine: number[],
  liveness: { heights: number; budgetMs: number } = { heights: 16, budgetMs: 60_000 },
): SimConfig {
  return {
    seed,
    powers: [1, 1, 1, 1],
    byzantine: byzantine.map((index) => ({ index, behaviour: 'bad-bundles' as const })),
    minDelayMs: 1,
    maxDelayMs: 30,
    dropRate: 0,
    dupRate: 0,
    syncDelayMs: 10,
    partitions: [],
    crashes: [],
    gstMs: 300,
    livenessHeights: liveness.heights,
    livenessBudgetMs: liveness.budgetMs,
    maxSkewMs: 5,
    timeouts: SIM_TIMEOUTS,
    blockSource: (node, rng, pool) => world.blockSource(node, rng, pool),
    byzantineBuild: (node, height, round, rng) => world.byzantineBuild(node, height, round, rng),
    onDecided: (node, block) => world.decided(node, block),
  };
}

/** An honest node's block source over a real builder: built txs go to the node's pool, verdicts are counted. */
export function countingSource(
  builder: BlockSource & { verify(block: Block): Promise<{ ok: true } | { ok: false; code: string }> },
  node: number,
  pool: SimTxPool,
  verdicts: Map<string, number>,
): BlockSource {
  return {
    build: async (height, maxBytes, maxTxs) => {
      const built = await builder.build(height, maxBytes, maxTxs);
      for (const tx of built.txs) pool.add(node, tx);
      return built;
    },
    verify: async (block) => {
      const v = await builder.verify(block);
      const code = v.ok ? 'ok' : v.code;
      verdicts.set(code, (verdicts.get(code) ?? 0) + 1);
      return v;
    },
    pendingTxs: builder.pendingTxs,
    findTx: (hash) => pool.find(node, hash),
  };
}
