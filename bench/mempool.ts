/**
 * Mempool benchmark: `npm run bench:mempool -- --out FILE [--runs N]` writes
 * `{admitSelectOpsPerSec, fairness: {worstShareOfWeighted, lanes: [...]}, ...}`.
 *
 * 1. Throughput (single core): cycles of admit 2,000 transactions (200-byte payloads over three lanes),
 *    reap a block of 2,000, commit it. ops = admissions + selected transactions, median of several
 *    runs, per second of this process's CPU time (user + system; the machine is shared, so wall time
 *    measures the neighbours; `admitSelectOpsPerWallSec` is reported too). Baseline in the same
 *    process: the bare streaming sha256 of the same transactions, reported as a ratio.
 * 2. Fairness under saturation: three lanes with equal weights offered load in the ratio 10:3:1 of
 *    twice the block capacity (bytes), different transaction sizes per lane, a fake clock one block per
 *    second. For each lane: got = its share of committed block bytes over the measured blocks; fair = its
 *    weighted max-min fair allocation of the offered demands; worstShareOfWeighted = min got/fair.
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { RollupConfig } from '../src/config/index.ts';
import { createMempool, weightedMaxMinFair } from '../src/mempool/index.ts';
import type { TxEnvelope } from '../src/types.ts';
import { writeResult } from './lib/json-out.ts';

const { values } = parseArgs({
  options: { out: { type: 'string' }, runs: { type: 'string', default: '5' } },
});
const runs = Math.max(1, Number(values.runs));

function rollup(namespace: number, weight: number, maxPendingTxs: number): RollupConfig {
  return {
    namespace,
    name: `r${namespace}`,
    kind: 'opaque',
    weight,
    maxTxBytes: 64 * 1024,
    maxPendingTxs,
    maxPendingBytes: maxPendingTxs * 1024,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

let seq = 0;
function makeTx(namespace: number, size: number): TxEnvelope {
  const payload = new Uint8Array(size);
  const v = new DataView(payload.buffer);
  v.setUint32(0, seq++);
  v.setUint32(4, 0x9e3779b9 ^ seq);
  return { namespace, payload };
}

// ---------------------------------------------------------------- 1. throughput
/** CPU time of this process in seconds (user + system): what one core actually spent on the work. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

interface Throughput {
  opsPerSec: number;
  opsPerWallSec: number;
  hashOpsPerSec: number;
}

function throughputRun(totalTxs: number): Throughput {
  const txs: TxEnvelope[] = [];
  for (let i = 0; i < totalTxs; i++) txs.push(makeTx(1 + (i % 3), 200));

  // Baseline: hash every transaction the way admission does.
  const ns = Buffer.alloc(4);
  let c0 = cpuSeconds();
  for (const tx of txs) {
    ns.writeUInt32BE(tx.namespace, 0);
    createHash('sha256').update(ns).update(tx.payload).digest();
  }
  const hashOpsPerSec = totalTxs / (cpuSeconds() - c0);

  const mp = createMempool({
    rollups: [rollup(1, 1, 50_000), rollup(2, 1, 50_000), rollup(3, 1, 50_000)],
    limits: { maxTotalTxs: 100_000, maxTotalBytes: 64 * 1024 * 1024 },
  });
  const chunk = 2000;
  let ops = 0;
  let height = 1;
  const t0 = performance.now();
  c0 = cpuSeconds();
  for (let i = 0; i < txs.length; i += chunk) {
    const end = Math.min(i + chunk, txs.length);
    for (let j = i; j < end; j++) {
      if (mp.add(txs[j]!, 'gossip').ok) ops++;
    }
    const block = mp.reap({ maxBytes: 4 * 1024 * 1024, maxTxs: chunk });
    ops += block.length;
    mp.update(height++, block);
  }
  const opsPerSec = ops / (cpuSeconds() - c0);
  const opsPerWallSec = ops / ((performance.now() - t0) / 1000);
  if (mp.stats().txs !== 0) throw new Error('benchmark invariant: pool should drain');
  return { opsPerSec, opsPerWallSec, hashOpsPerSec };
}

// ---------------------------------------------------------------- 2. fairness
interface LaneResult {
  namespace: number;
  weight: number;
  txBytes: number;
  offeredShareOfCapacity: number;
  gotShareOfCapacity: number;
  fairShareOfCapacity: number;
  shareOfWeighted: number;
}

function fairnessRun(weights: number[]): { worstShareOfWeighted: number; lanes: LaneResult[] } {
  const capacity = 60_000; // block bytes
  const ratio = [10, 3, 1];
  const sizes = [300, 200, 100];
  const ratioSum = ratio.reduce((a, b) => a + b, 0);
  const offered = ratio.map((r) => (2 * capacity * r) / ratioSum); // bytes per block
  let now = 0;
  const mp = createMempool({
    rollups: [rollup(1, weights[0]!, 5000), rollup(2, weights[1]!, 5000), rollup(3, weights[2]!, 5000)],
    limits: { maxTotalTxs: 12_000, maxTotalBytes: 8 * 1024 * 1024, ttlMs: 3_600_000 },
    clock: () => now,
  });
  const credit = [0, 0, 0];
  const got = [0, 0, 0];
  const warmup = 50;
  const measured = 400;
  for (let h = 1; h <= warmup + measured; h++) {
    now += 1000;
    // Offered load arrives interleaved over the block interval.
    for (let l = 0; l < 3; l++) credit[l] = credit[l]! + offered[l]!;
    let more = true;
    while (more) {
      more = false;
      for (let l = 0; l < 3; l++) {
        if (credit[l]! >= sizes[l]!) {
          credit[l] = credit[l]! - sizes[l]!;
          mp.add(makeTx(l + 1, sizes[l]!), 'gossip');
          more = true;
        }
      }
    }
    const block = mp.reap({ maxBytes: capacity, maxTxs: 10_000 });
    if (h > warmup)
      for (const tx of block) got[tx.namespace - 1] = got[tx.namespace - 1]! + tx.payload.byteLength;
    mp.update(h, block);
  }
  const fair = weightedMaxMinFair(
    offered.map((o) => o / capacity),
    weights,
    1,
  );
  const lanes: LaneResult[] = [0, 1, 2].map((l) => {
    const gotShare = got[l]! / (measured * capacity);
    return {
      namespace: l + 1,
      weight: weights[l]!,
      txBytes: sizes[l]!,
      offeredShareOfCapacity: offered[l]! / capacity,
      gotShareOfCapacity: gotShare,
      fairShareOfCapacity: fair[l]!,
      shareOfWeighted: gotShare / fair[l]!,
    };
  });
  return { worstShareOfWeighted: Math.min(...lanes.map((l) => l.shareOfWeighted)), lanes };
}

// ---------------------------------------------------------------- main
throughputRun(20_000); // warm-up (JIT)
const tp: Throughput[] = [];
for (let r = 0; r < runs; r++) tp.push(throughputRun(200_000));
const admitSelectOpsPerSec = Math.round(median(tp.map((t) => t.opsPerSec)));
const hashBaselineOpsPerSec = Math.round(median(tp.map((t) => t.hashOpsPerSec)));
const fairness = fairnessRun([1, 1, 1]);
// Extra check beyond the scenario: unequal weights that bind (the busiest lane has weight 3, so the middle lane is held to 1/4 of what the quiet lane leaves).
const fairnessWeights311 = fairnessRun([3, 1, 1]);

const result = {
  admitSelectOpsPerSec,
  fairness,
  fairnessWeights311: {
    weights: [3, 1, 1],
    worstShareOfWeighted: fairnessWeights311.worstShareOfWeighted,
    lanes: fairnessWeights311.lanes,
  },
  admitSelectOpsPerWallSec: Math.round(median(tp.map((t) => t.opsPerWallSec))),
  baseline: {
    sha256TxOpsPerSec: hashBaselineOpsPerSec,
    admitSelectOverHashRatio: Number((admitSelectOpsPerSec / hashBaselineOpsPerSec).toFixed(3)),
  },
  runs: tp.map((t) => Math.round(t.opsPerSec)),
  loadAverage: (await import('node:os')).loadavg().map((x) => Number(x.toFixed(2))),
  node: process.version,
  at: new Date().toISOString(),
};
writeResult(result, values.out);
