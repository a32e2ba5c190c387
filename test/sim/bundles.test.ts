/**
 * Bundles in the consensus simulator over the real engine and the real block builder (issue #22): with
 * Byzantine proposers that split, reorder, truncate, duplicate or drop bundle legs, build cycles or
 * change a span's atomicity or reverting list, honest validators refuse those proposals, and no block
 * any honest node decides (each holds a commit certificate) contains a partial bundle — an invariant
 * checked over every decided block of seeded runs.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/consensus/sim/rng.ts';
import { simulate } from '../../src/consensus/sim/simulation.ts';
import { latin1Key } from '../../src/crypto/index.ts';
import type { Block } from '../../src/types.ts';
import { BundleWorld, partialBundles } from './bundle-world.ts';

import { worldConfig } from './world-config.ts';

describe('bundles in the simulator: Byzantine proposers never get a partial bundle certified', () => {
  it('honest validators alone commit whole bundles', async () => {
    const world = new BundleWorld(1);
    const r = await simulate(worldConfig(1, world, []));
    expect(r.violations).toEqual([]);
    expect(world.violations).toEqual([]);
    expect(world.committedBundles.size).toBeGreaterThan(0);
    expect(world.verdicts.get('ok')).toBeGreaterThan(0);
  });

  it('over seeded runs with a Byzantine proposer, every decided block holds only whole bundles', async () => {
    const refused = new Map<string, number>();
    let mutated = 0;
    for (let seed = 1; seed <= 16; seed++) {
      const world = new BundleWorld(seed);
      const r = await simulate(worldConfig(seed, world, [seed % 4]));
      expect(r.violations, `seed ${seed}`).toEqual([]);
      expect(world.violations, `seed ${seed}`).toEqual([]);
      expect(world.blocksChecked).toBeGreaterThan(0);
      for (const [k, v] of world.verdicts) if (k !== 'ok') refused.set(k, (refused.get(k) ?? 0) + v);
      for (const v of world.mutations.values()) mutated += v;
    }
    // The adversary was active and the honest validators refused it for the bundle reasons.
    expect(mutated).toBeGreaterThan(0);
    const bundleCodes = [...refused.keys()].filter((k) => k.startsWith('BUNDLE_') || k.startsWith('SPAN_'));
    expect(bundleCodes.length).toBeGreaterThan(2);
  });
});

describe('the partial-bundle invariant has teeth', () => {
  it('flags every Byzantine mutation, and passes the honest assembly', () => {
    const world = new BundleWorld(5);
    const known = new Map(world.bundles.map((b) => [latin1Key(b.bundleHash), b]));
    const rng = new Rng(9);
    let flagged = 0;
    let honest = 0;
    for (let h = 1; h <= 200; h++) {
      const before = [...world.mutations.values()].reduce((a, b) => a + b, 0);
      const built = world.byzantineBuild(3, h, 0, rng);
      const mutated = [...world.mutations.values()].reduce((a, b) => a + b, 0) > before;
      const block = { header: { height: h }, txs: built.txs, bundles: built.bundles } as unknown as Block;
      const problems = partialBundles(block, known);
      if (mutated) {
        expect(problems.length, `height ${h}`).toBeGreaterThan(0);
        flagged++;
      } else {
        expect(problems, `height ${h}`).toEqual([]);
        honest++;
      }
    }
    expect(flagged).toBeGreaterThan(50);
    expect(honest).toBeGreaterThan(0);
    expect(world.mutations.size).toBe(8);
  });
});
