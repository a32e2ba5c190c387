import { describe, expect, it } from 'vitest';
import { runSeeds, TOTAL } from './generator.ts';

// The other half of the seeded scenarios (see generator-a.test.ts) in a parallel worker.
describe('seeded consensus scenarios (second half)', () => {
  it(`no honest disagreement, chains are prefixes, liveness after GST: seeds ${Math.floor(TOTAL / 2)}..${TOTAL - 1}`, async () => {
    const r = await runSeeds(Math.floor(TOTAL / 2), TOTAL - Math.floor(TOTAL / 2));
    expect(r.failures.map((f) => `SEED=${f.seed}: ${f.violations[0]}`)).toEqual([]);
    expect(r.commits).toBeGreaterThan(r.scenarios);
  }, 600_000);
});
