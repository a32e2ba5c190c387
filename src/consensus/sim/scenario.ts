/**
 * Seed → scenario generator for the simulator. Every scenario stays within the fault bound: the
 * Byzantine validators (Twins count as Byzantine) hold strictly less than 1/3 of the voting power.
 * Crashed honest nodes always restart before GST, so after GST the network is synchronous with every
 * honest node up, and the liveness check is meaningful. Scenarios are small (4..7 validators, a few
 * heights) so that thousands run in CI in a few minutes. With 2 or 3 validators no fault is tolerated
 * (f = 0): those scenarios have crashes and an unreliable network but no Byzantine validator.
 */
import { Rng } from './rng.ts';
import { type Behaviour, type Crash, type Partition, SIM_TIMEOUTS, type SimConfig } from './simulation.ts';

const BEHAVIOURS: Behaviour[] = ['silent', 'equivocate', 'double-vote', 'garbage', 'twins', 'split'];

export function generateScenario(seed: number): SimConfig {
  const rng = new Rng(seed ^ 0x5eed_0001);
  const n = rng.pick([1, 2, 3, 4, 4, 4, 4, 5, 6, 7, 7]);
  const weighted = n > 1 && rng.chance(0.25);
  const powers = Array.from({ length: n }, () => (weighted ? rng.int(1, 10) : 1));
  const total = powers.reduce((a, b) => a + b, 0);

  // Byzantine set: add random validators while their power stays strictly below 1/3.
  const order = rng.shuffle(powers.map((_, i) => i));
  const byzantine: SimConfig['byzantine'] = [];
  let byzPower = 0;
  const wantByz = n === 1 ? 0 : rng.int(0, 2);
  for (const i of order) {
    if (byzantine.length >= wantByz) break;
    if (3 * (byzPower + powers[i]!) < total) {
      byzPower += powers[i]!;
      byzantine.push({ index: i, behaviour: rng.pick(BEHAVIOURS) });
    }
  }
  const nodeCount = n + byzantine.filter((b) => b.behaviour === 'twins').length;

  const gstMs = rng.int(250, 1200);
  const partitions: Partition[] = [];
  for (let k = rng.int(0, 2); k > 0; k--) {
    const startMs = rng.int(0, gstMs - 100);
    const endMs = rng.int(startMs + 50, gstMs);
    const groups = rng.int(2, 3);
    partitions.push({
      startMs,
      endMs,
      groupOf: Array.from({ length: nodeCount }, () => rng.int(0, groups - 1)),
    });
  }
  // Twins-style: sometimes put the two holders of one key on opposite sides of a partition.
  const twins = byzantine.find((b) => b.behaviour === 'twins');
  if (twins !== undefined && rng.chance(0.5)) {
    const groupOf = Array.from({ length: nodeCount }, () => rng.int(0, 1));
    groupOf[twins.index] = 0;
    groupOf[n + byzantine.filter((b) => b.behaviour === 'twins').indexOf(twins)] = 1;
    partitions.push({ startMs: 0, endMs: gstMs, groupOf });
  }

  const honest = powers.map((_, i) => i).filter((i) => !byzantine.some((b) => b.index === i));
  const crashes: Crash[] = [];
  for (let k = rng.int(0, 2); k > 0 && honest.length > 0; k--) {
    const node = rng.pick(honest);
    if (crashes.some((c) => c.node === node)) continue;
    const atMs = rng.int(10, gstMs - 50);
    crashes.push({ node, atMs, restartMs: rng.int(atMs + 1, gstMs) });
  }

  const lossy = rng.chance(0.6);
  return {
    seed,
    powers,
    byzantine,
    minDelayMs: rng.int(0, 5),
    maxDelayMs: rng.int(10, 150),
    dropRate: lossy ? rng.pick([0.02, 0.1, 0.3]) : 0,
    dupRate: rng.chance(0.3) ? 0.1 : 0,
    syncDelayMs: rng.int(6, 25),
    partitions,
    crashes,
    gstMs,
    livenessHeights: 2,
    livenessBudgetMs: 30_000,
    maxSkewMs: rng.pick([0, 10, 50]),
    timeouts: SIM_TIMEOUTS,
  };
}
