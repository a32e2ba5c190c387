import { describe, expect, it } from 'vitest';
import { generateScenario } from '../../src/consensus/sim/scenario.ts';
import { simulate } from '../../src/consensus/sim/simulation.ts';

// Replays one generated scenario: SEED=<n> npx vitest run test/sim/replay.test.ts
const seed = process.env.SEED;

describe('replay one seeded scenario', () => {
  it.skipIf(seed === undefined)(`SEED=${seed ?? '(unset)'}`, async () => {
    const cfg = generateScenario(Number(seed));
    console.log(JSON.stringify(cfg, null, 1));
    const r = await simulate(cfg);
    console.log(JSON.stringify({ ...r, violations: r.violations.slice(0, 20) }, null, 1));
    expect(r.violations).toEqual([]);
  });
});
