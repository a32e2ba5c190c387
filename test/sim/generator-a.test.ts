import { describe, expect, it } from 'vitest';
import { runSeeds, TOTAL } from './generator.ts';

// Half of the seeded scenarios; generator-b.test.ts runs the other half in a parallel worker.
describe('seeded consensus scenarios (first half)', () => {
  it(`no honest disagreement, chains are prefixes, liveness after GST: seeds 0..${Math.floor(TOTAL / 2) - 1}`, async () => {
    const r = await runSeeds(0, Math.floor(TOTAL / 2));
    expect(r.failures.map((f) => `SEED=${f.seed}: ${f.violations[0]}`)).toEqual([]);
    expect(r.commits).toBeGreaterThan(r.scenarios);
  }, 600_000);
});
