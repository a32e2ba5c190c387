/**
 * Shared runner for the seeded scenario generator tests: runs a range of seeds and, on failure,
 * prints every failing seed as `SEED=<n>` with the command that replays it.
 */
import { generateScenario } from '../../src/consensus/sim/scenario.ts';
import { type SimResult, simulate } from '../../src/consensus/sim/simulation.ts';

/** Total scenarios across the generator files (default 10,000; SIM_SCENARIOS overrides). */
export const TOTAL = Number(process.env.SIM_SCENARIOS ?? 10_000);

export interface RangeReport {
  failures: { seed: number; violations: string[] }[];
  scenarios: number;
  commits: number;
  evidence: number;
  maxRound: number;
}

export async function runSeeds(from: number, count: number): Promise<RangeReport> {
  const report: RangeReport = { failures: [], scenarios: 0, commits: 0, evidence: 0, maxRound: 0 };
  for (let seed = from; seed < from + count; seed++) {
    let r: SimResult;
    try {
      r = await simulate(generateScenario(seed));
    } catch (err) {
      report.failures.push({ seed, violations: [`crashed: ${(err as Error).stack ?? String(err)}`] });
      continue;
    }
    report.scenarios++;
    report.commits += r.heights.reduce((a, b) => a + b, 0);
    report.evidence += r.evidence;
    report.maxRound = Math.max(report.maxRound, r.maxRound);
    if (r.violations.length > 0) report.failures.push({ seed, violations: r.violations });
  }
  for (const f of report.failures) {
    console.error(
      `SEED=${f.seed} failed:\n  ${f.violations.slice(0, 5).join('\n  ')}\n` +
        `  replay: SEED=${f.seed} npx vitest run test/sim/replay.test.ts`,
    );
  }
  return report;
}
