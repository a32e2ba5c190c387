/**
 * The auction in the consensus simulator over the real engine, the real builder and the real auction
 * source (issue #23): seeded bid sets, some bundles failing in the executor; every honest node resolves
 * every slot to the auction hash of the certified header, winners sit at the tops, and Byzantine
 * proposers that place a loser, hide a winner, carry an out-of-window reveal or commit, or publish a
 * wrong outcome are refused — none of their blocks is certified.
 */
import { describe, expect, it } from 'vitest';
import { SIM_TIMEOUTS, type SimConfig, simulate } from '../../src/consensus/sim/simulation.ts';
import { AuctionWorld } from './auction-world.ts';

function config(seed: number, world: AuctionWorld, byzantine: number[]): SimConfig {
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
    livenessHeights: 24,
    livenessBudgetMs: 90_000,
    maxSkewMs: 5,
    timeouts: SIM_TIMEOUTS,
    blockSource: (node, rng, pool) => world.blockSource(node, rng, pool),
    byzantineBuild: (node, height, round, rng) => world.byzantineBuild(node, height, round, rng),
    onDecided: (node, block) => world.decided(node, block),
  };
}

describe('the auction in the simulator', () => {
  it('honest validators agree on every slot and sell tops to valid winners', async () => {
    const world = new AuctionWorld(1);
    const r = await simulate(config(1, world, []));
    await world.settle();
    expect(r.violations).toEqual([]);
    expect(world.violations).toEqual([]);
    expect(world.soldHeights.size).toBeGreaterThan(3);
    expect(world.verdicts.get('ok')).toBeGreaterThan(0);
  });

  it('over seeded runs with a Byzantine proposer, no misplaced top, hidden winner or out-of-window bid is certified', async () => {
    const refused = new Map<string, number>();
    let mutated = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const world = new AuctionWorld(seed);
      const r = await simulate(config(seed, world, [seed % 4]));
      await world.settle();
      expect(r.violations, `seed ${seed}`).toEqual([]);
      expect(world.violations, `seed ${seed}`).toEqual([]);
      for (const [k, v] of world.verdicts) if (k !== 'ok') refused.set(k, (refused.get(k) ?? 0) + v);
      for (const v of world.mutations.values()) mutated += v;
    }
    expect(mutated).toBeGreaterThan(0);
    expect([...refused.keys()].filter((k) => k.startsWith('AUCTION_')).length).toBeGreaterThanOrEqual(3);
  });
});
