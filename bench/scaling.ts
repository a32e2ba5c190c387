/**
 * Scaling curves (issue 26 item 5): committed throughput and submit → commit latency of the whole
 * system against three parameters, each varied alone from the testnet's default point:
 *   validators:  4, 7, 10, 16 validator processes            (200-byte opaque txs, 1 opaque namespace)
 *   namespaces:  2, 16, 64, 256 opaque rollups under load      (4 validators, 200-byte txs)
 *   size:        100 B, 1 KB, 10 KB transactions, also in MB/s (4 validators, 1 opaque namespace)
 *
 * How: real `ordo start` processes on 127.0.0.1 (testnet/setup.ts + testnet/process.ts, the same
 * homes, genesis and configs `ordo testnet up` makes), the open-loop load generator of src/loadgen over
 * JSON-RPC in this process, a warm-up before the measured window, the safety check of testnet/safety.ts
 * at the end (conflicting commits must be 0). There is no simulated link latency or bandwidth: loopback
 * is ~free, so every curve shows the CPU cost of the code on this host, not a WAN. (The composition root
 * builds libp2p itself, so a node cannot be put on the in-memory network without changing it; see
 * ADR 0110.)
 *
 * Beside every throughput figure: CPU per committed transaction — user + system CPU of this process (the
 * load generator and block follower) and every node process over the measured window, sampled from
 * /proc (bench/lib/proc-cpu.ts), ÷ transactions committed in the window — with one core's ed25519 verify
 * time measured in the same run, and their ratio `verifyEquivalentsPerTx`; `coresBusy` (CPU seconds per
 * second of the window) shows whether the host was saturated; the 1-minute load average at each point's
 * start.
 *
 *   npm run bench:scaling -- --out FILE [--sweep validators,namespaces,size] [--values LIST]
 *                            [--rate TX_PER_S] [--duration 10] [--warmup 3] [--repeat 1] [--append]
 * `--values` overrides the sweep's points (one sweep only); `--rate` the offered load (defaults: 3000 tx/s
 * for validators and size, 5000 for namespaces); `--append` merges the points into an existing --out
 * file (so a long sweep can be run in parts of under two minutes each). With --repeat > 1 each point is
 * the median of its runs (by p99), every run kept.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { simulate } from '../src/consensus/index.ts';
import { runLoad } from '../src/loadgen/index.ts';
import { rpcCall } from '../src/rpc/index.ts';
import { NodeProcess } from '../testnet/process.ts';
import { checkSafety } from '../testnet/safety.ts';
import { findFreeBasePort, setupNetwork } from '../testnet/setup.ts';
import { writeResult } from './lib/json-out.ts';
import { ed25519VerifyMicros, TreeCpuSampler } from './lib/proc-cpu.ts';

type Sweep = 'validators' | 'namespaces' | 'size' | 'sim-validators' | 'sim-size';
const SWEEPS: Sweep[] = ['validators', 'namespaces', 'size', 'sim-validators', 'sim-size'];
const DEFAULT_VALUES: Record<Sweep, number[]> = {
  validators: [4, 7, 10, 16],
  namespaces: [2, 16, 64, 256],
  size: [100, 1000, 10_000],
  'sim-validators': [4, 7, 10, 16, 31],
  'sim-size': [100, 1000, 10_000],
};
const DEFAULT_RATE: Record<Sweep, number> = {
  validators: 3000,
  namespaces: 5000,
  size: 3000,
  'sim-validators': 0,
  'sim-size': 0,
};
/** Simulated WAN of the sim sweeps: one-way link delay range (ms) and per-node uplink (bytes/ms). */
const SIM_LINK_MS: [number, number] = [20, 60];
const SIM_UPLINK_BYTES_PER_MS = 12_500; // 100 Mbit/s
const SIM_BLOCK_BYTES = 1024 * 1024; // consensus.maxBlockBytes default
const SIM_BLOCK_TXS = 5000; // consensus.maxBlockTxs default

const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    sweep: { type: 'string', default: SWEEPS.join(',') },
    values: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    repeat: { type: 'string', default: '1' },
    append: { type: 'boolean', default: false },
  },
});

function intList(s: string, what: string): number[] {
  const xs = s.split(',').map((x) => Number(x.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x <= 0))
    throw new Error(`${what} must be a comma-separated list of positive whole numbers, got ${s}`);
  return xs;
}

const sweeps = String(args.sweep)
  .split(',')
  .map((s) => s.trim()) as Sweep[];
for (const s of sweeps) if (!SWEEPS.includes(s)) throw new Error(`--sweep: unknown sweep ${s} (${SWEEPS})`);
if (args.values !== undefined && sweeps.length !== 1) throw new Error('--values needs exactly one --sweep');
const durationSec = Number(args.duration);
const warmupSec = Number(args.warmup);
const repeat = Number(args.repeat);
if (!(durationSec > 0 && durationSec <= 120)) throw new Error('--duration must be in (0, 120] seconds');
if (!(warmupSec >= 0 && warmupSec <= 60)) throw new Error('--warmup must be in [0, 60] seconds');
if (!Number.isInteger(repeat) || repeat < 1 || repeat > 5) throw new Error('--repeat must be 1 to 5');

const log = (s: string) => process.stderr.write(`[bench:scaling] ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round2 = (x: number) => Math.round(x * 100) / 100;

/** One measured configuration. */
interface Point {
  validators: number;
  /** Opaque namespaces under load (the registry also holds the idle demo transfer and EVM rollups). */
  namespaces: number;
  txBytes: number;
  offeredTxPerSec: number;
  txPerSec: number;
  /** Committed payload bytes per second, MB = 10^6 bytes. */
  mbPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number };
  cpuMicrosPerTx: number | null;
  verifyEquivalentsPerTx: number | null;
  /** CPU seconds of every process per second of the window (the host has `cores`). */
  coresBusy: number | null;
  blocksPerSec: number;
  txsPerBlock: number;
  loadavgAtStart: number;
  rejected: Record<string, number>;
  notSent: number;
  uncommitted: number;
  conflictingCommits: number;
  checkedHeights: number;
}

let verifyMicros = 0;

/** One simulated configuration (virtual time, so independent of host load; see ADR 0110). */
interface SimPoint {
  validators: number;
  txBytes: number;
  txsPerBlock: number;
  linkDelayMs: [number, number];
  uplinkMbitPerSec: number;
  heights: number;
  /** Committed transactions per virtual second, heights 3.. (start-up excluded). */
  txPerSec: number;
  mbPerSec: number;
  blockIntervalMs: number;
  /** From the proposer building a block to the first honest commit of it. */
  proposeToCommitMs: { p50: number; p99: number };
  /**
   * Estimated submit → commit p99 at this saturated rate: a transaction waits up to one block interval
   * for the next proposal, then propose → commit.
   */
  estSubmitToCommitP99Ms: number;
  /** Real CPU of this process (all N engines, real ed25519 votes) ÷ committed transactions. */
  consensusCpuMicrosPerTx: number;
  maxRound: number;
  violations: string[];
}

async function measureSim(validators: number, txBytes: number): Promise<SimPoint> {
  const txsPerBlock = Math.max(1, Math.min(SIM_BLOCK_TXS, Math.floor(SIM_BLOCK_BYTES / (txBytes + 16))));
  const heights = 30;
  const built = new Map<number, number>();
  const commits: { h: number; txs: number; at: number }[] = [];
  const cpu0 = process.cpuUsage();
  const r = await simulate({
    seed: 26,
    powers: Array.from({ length: validators }, () => 1),
    byzantine: [],
    minDelayMs: SIM_LINK_MS[0],
    maxDelayMs: SIM_LINK_MS[1],
    syncDelayMs: SIM_LINK_MS[1],
    dropRate: 0,
    dupRate: 0,
    partitions: [],
    crashes: [],
    gstMs: 0,
    livenessHeights: heights,
    livenessBudgetMs: 600_000,
    maxSkewMs: 0,
    // The node's defaults (src/config/config.ts): propose 1 s, votes 0.5 s.
    timeouts: {
      proposeMs: 1000,
      prevoteMs: 500,
      precommitMs: 500,
      deltaMs: 500,
      emptyBlockWaitMs: 1000,
      rebroadcastMs: 1000,
    },
    realSignatures: true,
    compactProposals: true,
    workload: { txsPerBlock, txBytes },
    uplinkBytesPerMs: SIM_UPLINK_BYTES_PER_MS,
    onBuild: (h, at) => {
      if (!built.has(h)) built.set(h, at);
    },
    onCommit: (h, txs, at) => commits.push({ h, txs, at }),
  });
  const cpu = process.cpuUsage(cpu0);
  const steady = commits.filter((c) => c.h >= 3).sort((a, b) => a.h - b.h);
  const first = steady[0];
  const last = steady.at(-1);
  const spanMs = first !== undefined && last !== undefined ? last.at - first.at : 0;
  const txs = steady.slice(1).reduce((a, c) => a + c.txs, 0);
  const lat = steady.map((c) => c.at - (built.get(c.h) ?? c.at)).sort((a, b) => a - b);
  const pct = (q: number) => Math.round(lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? 0);
  const blockIntervalMs = steady.length > 1 ? spanMs / (steady.length - 1) : 0;
  const txPerSec = spanMs > 0 ? (txs * 1000) / spanMs : 0;
  const allTxs = commits.reduce((a, c) => a + c.txs, 0);
  const p: SimPoint = {
    validators,
    txBytes,
    txsPerBlock,
    linkDelayMs: SIM_LINK_MS,
    uplinkMbitPerSec: (SIM_UPLINK_BYTES_PER_MS * 8) / 1000,
    heights: commits.length,
    txPerSec: Math.round(txPerSec),
    mbPerSec: round2((txPerSec * txBytes) / 1e6),
    blockIntervalMs: Math.round(blockIntervalMs),
    proposeToCommitMs: { p50: pct(0.5), p99: pct(0.99) },
    estSubmitToCommitP99Ms: Math.round(blockIntervalMs + pct(0.99)),
    consensusCpuMicrosPerTx: allTxs === 0 ? 0 : Math.round((cpu.user + cpu.system) / allTxs),
    maxRound: r.maxRound,
    violations: r.violations.filter((v) => !v.startsWith('liveness')),
  };
  log(
    `sim v=${validators} size=${txBytes}: ${p.txPerSec} tx/s (${p.mbPerSec} MB/s), block every ${p.blockIntervalMs} ms, ` +
      `propose→commit p99 ${p.proposeToCommitMs.p99} ms, ${p.consensusCpuMicrosPerTx} µs CPU/tx, violations ${p.violations.length}`,
  );
  return p;
}

async function heightOf(url: string): Promise<number> {
  return ((await rpcCall(url, 'ordo_status', [], 10_000)) as { height: number }).height;
}

async function measure(
  validators: number,
  namespaces: number,
  txBytes: number,
  rate: number,
): Promise<Point> {
  const dir = mkdtempSync(join(tmpdir(), 'ordo-bench-scaling-'));
  const procs: NodeProcess[] = [];
  const loadavgAtStart = round2(loadavg()[0] ?? 0);
  // Registry: opaque 1, transfer 2, evm 3, opaque 4..K; load goes to `namespaces` opaque ones.
  const rollups = namespaces <= 1 ? 3 : namespaces + 2;
  const loadNs = [1, ...Array.from({ length: Math.max(0, namespaces - 1) }, (_, i) => 4 + i)];
  const sampler = new TreeCpuSampler(process.pid, 250);
  try {
    const net = await setupNetwork({
      dir,
      validators,
      fullNodes: 0,
      rollups,
      basePort: await findFreeBasePort(validators),
      chainId: `scaling-${validators}-${namespaces}-${txBytes}`,
      config: { log: { level: 'warn' } },
    });
    for (const n of net.nodes) procs.push(new NodeProcess({ id: n.id, home: n.home, rpc: n.rpc }));
    for (const p of procs) p.spawn();
    await Promise.all(procs.map((p) => p.waitReady(90_000)));
    const urls = procs.map((p) => p.rpc);
    for (let k = 0; k < 150 && (await heightOf(urls[0]!)) < 2; k++) await sleep(200);
    const h0 = await heightOf(urls[0]!);
    const t0 = Date.now();
    const r = await runLoad({
      urls,
      rate,
      durationSec,
      warmupSec,
      sizeBytes: txBytes,
      namespaces: loadNs,
      drainMs: 4000,
    });
    const blocksPerSec = ((await heightOf(urls[0]!)) - h0) / ((Date.now() - t0) / 1000);
    await sleep(300); // one more CPU sample past the window's end
    const cpuSec = sampler.cpuSecondsBetween(r.window.startMs, r.window.endMs);
    const windowSec = (r.window.endMs - r.window.startMs) / 1000;
    const cpuMicrosPerTx =
      cpuSec === undefined || r.committedInWindow === 0
        ? null
        : Math.round((cpuSec * 1e6) / r.committedInWindow);
    const safety = await checkSafety(procs.map((p) => ({ id: p.id, rpc: p.rpc })));
    const p: Point = {
      validators,
      namespaces,
      txBytes,
      offeredTxPerSec: rate,
      txPerSec: Math.round(r.txPerSec),
      mbPerSec: round2((r.txPerSec * txBytes) / 1e6),
      latencyMs: { p50: r.latencyMs.p50, p90: r.latencyMs.p90, p99: r.latencyMs.p99 },
      cpuMicrosPerTx,
      verifyEquivalentsPerTx: cpuMicrosPerTx === null ? null : round2(cpuMicrosPerTx / verifyMicros),
      coresBusy: cpuSec === undefined || windowSec <= 0 ? null : round2(cpuSec / windowSec),
      blocksPerSec: round2(blocksPerSec),
      txsPerBlock: blocksPerSec > 0 ? Math.round(r.txPerSec / blocksPerSec) : 0,
      loadavgAtStart,
      rejected: r.rejected,
      notSent: r.notSent,
      uncommitted: r.uncommitted,
      conflictingCommits: safety.conflictingCommits,
      checkedHeights: safety.checkedHeights,
    };
    log(
      `v=${validators} ns=${namespaces} size=${txBytes} offered=${rate}: ${p.txPerSec} tx/s (${p.mbPerSec} MB/s) ` +
        `p99 ${p.latencyMs.p99} ms, ${p.cpuMicrosPerTx} µs CPU/tx, ${p.coresBusy} cores busy, ` +
        `load ${loadavgAtStart}, conflicts ${p.conflictingCommits}`,
    );
    return p;
  } finally {
    sampler.stop();
    await Promise.all(procs.map((p) => p.stop(5000).catch(() => p.killNow())));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function point(validators: number, namespaces: number, txBytes: number, rate: number) {
  const runs: Point[] = [];
  for (let i = 0; i < repeat; i++) runs.push(await measure(validators, namespaces, txBytes, rate));
  const byP99 = [...runs].sort((a, b) => a.latencyMs.p99 - b.latencyMs.p99);
  return { ...byP99[(byP99.length - 1) >> 1]!, ...(repeat > 1 ? { runs } : {}) };
}

interface Output {
  benchmark: 'scaling';
  method: string;
  machine: { cpus: number };
  calibration: { ed25519VerifyMicros: number[] };
  setup: { durationSec: number; warmupSec: number; repeat: number };
  sweeps: Partial<Record<'validators' | 'namespaces' | 'size', Point[]>>;
  sim?: {
    method: string;
    sweeps: Partial<Record<'validators' | 'size', SimPoint[]>>;
  };
  runs: { started: string; finished: string; loadavgAtStart: number[]; sweep: Sweep; values: number[] }[];
}

async function main(): Promise<void> {
  const started = new Date().toISOString();
  const la0 = loadavg().map(round2);
  verifyMicros = ed25519VerifyMicros();
  const out: Output =
    args.append && args.out !== undefined && existsSync(args.out)
      ? (JSON.parse(readFileSync(args.out, 'utf8')) as Output)
      : {
          benchmark: 'scaling',
          method:
            'real ordo processes on 127.0.0.1 (no simulated latency or bandwidth), open-loop JSON-RPC load ' +
            'from the benchmark process, every process on one host; CPU = user+system of all of them',
          machine: { cpus: availableParallelism() },
          calibration: { ed25519VerifyMicros: [] },
          setup: { durationSec, warmupSec, repeat },
          sweeps: {},
          runs: [],
        };
  out.calibration.ed25519VerifyMicros.push(verifyMicros);
  for (const sweep of sweeps) {
    const values = args.values !== undefined ? intList(args.values, '--values') : DEFAULT_VALUES[sweep];
    if (sweep === 'sim-validators' || sweep === 'sim-size') {
      const key = sweep === 'sim-validators' ? 'validators' : 'size';
      out.sim ??= {
        method:
          'the deterministic simulator (src/consensus/sim) running N production consensus engines in virtual ' +
          `time: one-way link delay uniform in [${SIM_LINK_MS.join(', ')}] ms, ${(SIM_UPLINK_BYTES_PER_MS * 8) / 1000} Mbit/s ` +
          'uplink per node (tx gossip share + every consensus message queued on it), compact proposals, real ' +
          'ed25519 votes, node-default timeouts, saturated load (every block full: 5,000 txs or 1 MiB)',
        sweeps: {},
      };
      const pts: SimPoint[] = [];
      for (const v of values)
        pts.push(key === 'validators' ? await measureSim(v, 200) : await measureSim(4, v));
      out.sim.sweeps[key] = pts;
      out.runs.push({ started, finished: new Date().toISOString(), loadavgAtStart: la0, sweep, values });
      continue;
    }
    const rate = args.rate !== undefined ? Number(args.rate) : DEFAULT_RATE[sweep];
    const points: Point[] = out.sweeps[sweep] ?? [];
    for (const v of values) {
      const p =
        sweep === 'validators'
          ? await point(v, 1, 200, rate)
          : sweep === 'namespaces'
            ? await point(4, v, 200, rate)
            : await point(4, 1, v, rate);
      const key = (x: Point) => `${x.validators}/${x.namespaces}/${x.txBytes}/${x.offeredTxPerSec}`;
      const i = points.findIndex((x) => key(x) === key(p));
      if (i >= 0) points[i] = p;
      else points.push(p);
    }
    const param = (x: Point) =>
      sweep === 'validators' ? x.validators : sweep === 'namespaces' ? x.namespaces : x.txBytes;
    points.sort((a, b) => param(a) - param(b) || a.offeredTxPerSec - b.offeredTxPerSec);
    out.sweeps[sweep] = points;
    out.runs.push({ started, finished: new Date().toISOString(), loadavgAtStart: la0, sweep, values });
  }
  writeResult(out, args.out);
}

await main();
process.exit(0);
