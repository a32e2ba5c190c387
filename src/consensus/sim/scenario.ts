/**
 * Seed → scenario generator for the simulator. Every scenario stays within the fault bound: the
 * Byzantine validators (Twins count as Byzantine), plus an honest node whose storage fails or that is
 * cut off for many heights, hold strictly less than 1/3 of the voting power. Some scenarios gossip
 * compact proposals, drop most mempool gossip (so proposals' transactions are fetched through sync),
 * delay store commits and WAL fsyncs (so crashes land mid-pipeline), or crash a node again while it
 * recovers.
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

  // Crash-restart at every stage: some crashes wait for the node to be mid-fsync (an own message not
  // yet sent) or mid-commit (a decided block not yet stored); a second crash right after a restart
  // lands mid-replay when the replay has a block to store, or early in recovery.
  for (const c of crashes) {
    const stage = rng.pick([undefined, undefined, 'fsync', 'commit'] as const);
    if (stage !== undefined) c.stage = stage;
  }
  for (const c of [...crashes]) {
    if (c.restartMs + 20 < gstMs && rng.chance(0.3)) {
      const atMs = c.restartMs + rng.int(0, 8);
      const again: Crash = { node: c.node, atMs, restartMs: rng.int(atMs + 1, gstMs) };
      if (rng.chance(0.5)) {
        // armed as the node restarts: the first block it stores, the replay's if it has one
        again.stage = 'commit';
        again.atMs = c.restartMs;
      }
      crashes.push(again);
    }
  }

  // Faults beyond the Byzantine set stay within the bound too: an honest node cut off for many heights
  // (it must catch up through sync), or one whose storage fails (it must halt, the rest go on).
  const spare = (i: number): boolean => 3 * (byzPower + powers[i]!) < total;
  let gst = gstMs;
  const storageFailures: SimConfig['storageFailures'] = [];
  const uncrashed = honest.filter((i) => !crashes.some((c) => c.node === i) && spare(i));
  if (uncrashed.length > 0 && rng.chance(0.12)) {
    const cut = rng.pick(uncrashed);
    gst = rng.int(1500, 3000);
    const groupOf = Array.from({ length: nodeCount }, () => 0);
    groupOf[cut] = 1;
    partitions.push({ startMs: rng.int(0, 100), endMs: gst, groupOf });
  } else if (uncrashed.length > 0 && rng.chance(0.05)) {
    storageFailures.push({ node: rng.pick(uncrashed), atMs: rng.int(10, gstMs) });
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
    gstMs: gst,
    livenessHeights: 2,
    livenessBudgetMs: 30_000,
    maxSkewMs: rng.pick([0, 10, 50]),
    timeouts: SIM_TIMEOUTS,
    compactProposals: rng.chance(0.4),
    txGossipRate: rng.pick([1, 0.9, 0.5, 0]),
    emptyRate: rng.pick([0, 0, 0.3]),
    storeLatencyMs: rng.pick([0, 3, 12]),
    walSyncLatencyMs: rng.pick([0, 0, 3]),
    storageFailures,
  };
}
