/**
 * Testnet benchmark: the whole system, as a developer runs it. Each measurement is one real
 * `ordo testnet up --validators 4 --rollups 4 --size 200 --load RATE --duration S --report FILE` (4
 * validator processes on loopback, the open-loop load generator over the opaque rollups, the safety check
 * at the end), run as a child process exactly as from the shell.
 *
 *   main:     --load 10000 for 60 s (the target: >= 9,500 tx/s committed, p99 <= 1,000 ms, no
 *             conflicting commits), run --repeat times; the run with the median p99 is the main figure,
 *             every run is kept in `mainRuns`, and the target is judged on the medians
 *   stepped:  the offered rate stepped up (each step --step-duration s); a step holds when p99 <= 1 s and
 *             >= 95 % of the offered rate commits; the search ends after two failing steps in a row and
 *             the highest holding rate is reported (`highestRateIsLowerBound` when the last step held).
 *
 *   npm run bench:testnet -- --out FILE [--load 10000] [--duration 60] [--repeat 3] [--warmup 10]
 *                           [--steps 100,200,400,...] [--step-duration 20] [--skip-main] [--skip-steps]
 *                           [--repo DIR] [--cpu-prof DIR] [--batch-submit] [--bundles-per-sec N]
 *   npm run bench:testnet -- --mix --out FILE [--load 10000] [--duration 60] [--repeat 3] [--warmup 10]
 *                           [--mix-shares opaque=50,transfer=40,erc20=5,contention=5] [--bundles 10]
 *                           [--batch-submit]
 * `--mix` (bench/lib/mix.ts): the realistic workload of issue 26 instead of opaque load: opaque, transfer,
 * ERC-20 transfers (spread recipients) and ERC-20 transfers to one hot address (storage contention) in the
 * given shares, plus `--bundles` cross-rollup bundles a second; reports committed tx/s per kind (and
 * `chainTxPerSec`: every transaction of the blocks proposed in the window, by header time), submit →
 * commit and submit → pre-confirmation p50/p99, executor lag behind consensus (max and trend), CPU per
 * committed transaction and the heights proposed in the window with those proposed after round 0
 * (`heights`); medians over `--repeat` runs in `medians`.
 * `--cpu-prof DIR` writes a V8 CPU profile of every node and of the orchestrator with its load generator
 * to DIR/run-N/ (through `ORDO_TESTNET_NODE_OPTIONS`; with `--mix`, of every node to DIR/mix-run-N/);
 * `node bench/profile-stages.ts DIR/run-N` turns them
 * into the per-stage table of docs/performance.md. Profiling costs CPU itself: never mix profiled runs
 * into the figures.
 * `--batch-submit` makes the load generator submit binary batches (`POST /ordo/v1/tx-batch`, docs/rpc.md)
 * instead of JSON-RPC; a checkout without that path (e.g. 0.1.0) ignores the flag and says so.
 * CPU per committed transaction: the user + system CPU of every process of the run (the orchestrator with
 * its load generator, and every node) over the measured window, sampled from /proc, divided by the
 * transactions committed in it (`cpuMicrosPerTx`); with one core's ed25519 verify through node:crypto
 * measured in this process's CPU time (not wall time, which a loaded host inflates) right before and right
 * after each run (`verifyCpuMicros`; `calibration` holds the whole session's before/after with min/max),
 * `verifyEquivalentsPerTx` is their ratio and travels across hosts far better than tx/s. Transport per
 * committed transaction: `syscallsPerTx` (read + write syscalls of every process, /proc/<pid>/io) and
 * `transport` (each node's /metrics: gossipsub RPC frames and bytes received, batch copies per batch,
 * IDONTWANT ids; bench/lib/node-metrics.ts; null where a checkout lacks the counters, e.g. 0.1.0). `kernelCpuShare` is the stime part of that CPU (the kernel
 * stage of docs/performance.md's table, which a V8 profile cannot see).
 * `--repo DIR` runs another checkout's `bin/ordo.js` (e.g. a worktree of v0.1.0) with this script, so two
 * versions are measured the same way, interleaved, in one session.
 * Every run offers load for --warmup seconds before its measured window (start-up backlog excluded).
 * The machine is shared and noisy: each step is one run (a full testnet start costs ~15 s), so read the
 * stepped figures as ±one step.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { TestnetReport } from '../testnet/orchestrator.ts';
import { findFreeBasePort, portsFor } from '../testnet/setup.ts';
import { writeResult } from './lib/json-out.ts';
import { type MixShares, runMix } from './lib/mix.ts';
import { NodeMetricsSampler, type TransportPerTx } from './lib/node-metrics.ts';
import { ed25519VerifyCalibration, ed25519VerifyMicros, TreeCpuSampler } from './lib/proc-cpu.ts';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    load: { type: 'string', default: '10000' },
    duration: { type: 'string', default: '60' },
    repeat: { type: 'string', default: '3' },
    steps: {
      type: 'string',
      default: '500,1000,1500,2000,2500,3000,4000,5000,7500,10000,12500,15000,17500,20000,22500,25000',
    },
    warmup: { type: 'string', default: '10' },
    'step-duration': { type: 'string', default: '20' },
    validators: { type: 'string', default: '4' },
    rollups: { type: 'string', default: '4' },
    size: { type: 'string', default: '200' },
    'skip-main': { type: 'boolean', default: false },
    'skip-steps': { type: 'boolean', default: false },
    repo: { type: 'string' },
    'cpu-prof': { type: 'string' },
    'batch-submit': { type: 'boolean', default: false },
    'bundles-per-sec': { type: 'string' },
    mix: { type: 'boolean', default: false },
    'mix-shares': { type: 'string', default: 'opaque=50,transfer=40,erc20=5,contention=5' },
    bundles: { type: 'string', default: '10' },
  },
});

const REPO = args.repo ?? join(dirname(fileURLToPath(import.meta.url)), '..');
/** One core's ed25519 verify (µs), measured before the runs and again after them; the mean is used. */
let verifyMicros = 0;
const P99_LIMIT_MS = 1000;
let profileRuns = 0;
const monoMicros = (): number => Number(process.hrtime.bigint() / 1000n);
/** Whether the checkout under test has the binary batch path (0.1.0 does not: it gets JSON-RPC). */
const supportsBatchSubmit = readFileSync(join(REPO, 'src', 'cli', 'testnet.ts'), 'utf8').includes(
  'batch-submit',
);
if (args['batch-submit'] && !supportsBatchSubmit) {
  process.stderr.write(`${REPO} has no binary batch path: --batch-submit ignored, the load uses JSON-RPC\n`);
}

interface RunResult {
  offeredTxPerSec: number;
  durationSec: number;
  committedTxs: number;
  txPerSec: number;
  latencyMs: TestnetReport['latencyMs'];
  conflictingCommits: number;
  checkedHeights: number;
  heights: (number | null)[];
  notSent: number;
  rejected: Record<string, number>;
  uncommitted: number;
  /** CPU seconds of every process of the run per second of the measured window (cores busy). */
  coresUsed: number | null;
  /** The part of `coresUsed` that is the orchestrator process (load generator, block follower); the rest is the nodes. */
  orchestratorCoresUsed: number | null;
  generatorCpuSec: number;
  /** CPU of every process of the run over the measured window ÷ transactions committed in it. */
  cpuMicrosPerTx: number | null;
  /** The kernel's (stime) share of that CPU. */
  kernelCpuShare: number | null;
  verifyEquivalentsPerTx: number | null;
  /** This run's calibration: one core's ed25519 verify in CPU µs, measured right before and right after it. */
  verifyCpuMicros: { before: number; after: number };
  /** read + write syscalls of every process of the run over the window ÷ committed transactions. */
  syscallsPerTx: number | null;
  /** What each node received per committed transaction (bench/lib/node-metrics.ts). */
  transport: TransportPerTx | null;
  holds: boolean;
  exitCode: number | null;
}

/** One measurement; a start-up failure (e.g. a port taken by another process meanwhile) is retried once. */
async function runTestnet(load: number, durationSec: number): Promise<RunResult> {
  try {
    return await runTestnetOnce(load, durationSec);
  } catch (err) {
    process.stderr.write(`run failed (${(err as Error).message}); retrying once\n`);
    return runTestnetOnce(load, durationSec);
  }
}

async function runTestnetOnce(load: number, durationSec: number): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ordo-bench-testnet-'));
  const report = join(dir, 'report.json');
  const base = await findFreeBasePort(Number(args.validators));
  const argv = [
    join(REPO, 'bin', 'ordo.js'),
    'testnet',
    'up',
    '--validators',
    String(args.validators),
    '--rollups',
    String(args.rollups),
    '--size',
    String(args.size),
    '--load',
    String(load),
    '--duration',
    String(durationSec),
    '--warmup',
    String(args.warmup),
    '--dashboard',
    '0',
    '--base-port',
    String(base),
    '--dir',
    dir,
    '--report',
    report,
  ];
  if (args['batch-submit'] && supportsBatchSubmit) argv.push('--batch-submit');
  // `testnet up` offers 2 bundles/s by default whenever it offers load; 0 measures the opaque load alone.
  if (args['bundles-per-sec'] !== undefined) argv.push('--bundles-per-sec', args['bundles-per-sec']);
  const env: NodeJS.ProcessEnv = { ...process.env };
  const nodeArgs: string[] = [];
  let profDir: string | undefined;
  if (args['cpu-prof'] !== undefined) {
    profDir = join(args['cpu-prof'], `run-${++profileRuns}`);
    mkdirSync(profDir, { recursive: true });
    env.ORDO_TESTNET_NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${profDir}`;
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-name=orchestrator.cpuprofile');
  }
  process.stderr.write(`\n== testnet up --load ${load} --duration ${durationSec}\n`);
  const verifyBefore = ed25519VerifyCalibration(5, 2000).cpuMicros;
  const child = spawn(process.execPath, [...nodeArgs, ...argv], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const sampler = child.pid === undefined ? undefined : new TreeCpuSampler(child.pid);
  const nodeMetrics = new NodeMetricsSampler(
    Array.from({ length: Number(args.validators) }, (_, i) => portsFor(base, i).rpc),
    5000, // every 5 s: a scrape renders the node's whole registry, CPU charged to the run
  );
  const exitCode = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  sampler?.stop();
  nodeMetrics.stop();
  const verifyAfter = ed25519VerifyCalibration(5, 2000).cpuMicros;
  // The run's yardstick: the mean of the calibrations just before and just after it.
  const runVerifyMicros = (verifyBefore + verifyAfter) / 2;
  try {
    const r = JSON.parse(readFileSync(report, 'utf8')) as TestnetReport;
    if (profDir !== undefined && r.load?.window !== undefined) {
      // The measured window on the monotonic clock V8 profiles use (µs), for bench/profile-stages.ts.
      const toMono = (ms: number): number => Math.round((ms - Date.now()) * 1000 + monoMicros());
      const window = { startMicros: toMono(r.load.window.startMs), endMicros: toMono(r.load.window.endMs) };
      writeFileSync(join(profDir, 'window.json'), `${JSON.stringify(window)}\n`);
    }
    const holds =
      r.latencyMs.p99 <= P99_LIMIT_MS && r.txPerSec >= 0.95 * load && r.safety.conflictingCommits === 0;
    const w = r.load?.window;
    const committedInWindow = r.load?.committedInWindow ?? 0;
    const cpuSec = w === undefined ? undefined : sampler?.cpuSecondsBetween(w.startMs, w.endMs);
    const sysSec = w === undefined ? undefined : sampler?.systemSecondsBetween(w.startMs, w.endMs);
    const orchSec = w === undefined ? undefined : sampler?.rootSecondsBetween(w.startMs, w.endMs);
    const cpuMicrosPerTx =
      cpuSec === undefined || committedInWindow === 0 ? null : Math.round((cpuSec * 1e6) / committedInWindow);
    const io = w === undefined ? undefined : sampler?.ioBetween(w.startMs, w.endMs);
    return {
      offeredTxPerSec: load,
      durationSec: r.durationSec,
      committedTxs: r.committedTxs,
      txPerSec: r.txPerSec,
      latencyMs: r.latencyMs,
      conflictingCommits: r.safety.conflictingCommits,
      checkedHeights: r.safety.checkedHeights,
      heights: r.nodes.map((n) => n.height),
      notSent: r.load?.notSent ?? 0,
      rejected: r.load?.rejected ?? {},
      uncommitted: r.load?.uncommitted ?? 0,
      generatorCpuSec: r.load?.generatorCpuSec ?? 0,
      cpuMicrosPerTx,
      coresUsed:
        cpuSec === undefined || w === undefined || w.endMs <= w.startMs
          ? null
          : Math.round((cpuSec / ((w.endMs - w.startMs) / 1000)) * 1000) / 1000,
      orchestratorCoresUsed:
        orchSec === undefined || w === undefined || w.endMs <= w.startMs
          ? null
          : Math.round((orchSec / ((w.endMs - w.startMs) / 1000)) * 1000) / 1000,
      kernelCpuShare:
        cpuSec === undefined || sysSec === undefined || cpuSec === 0
          ? null
          : Math.round((sysSec / cpuSec) * 1000) / 1000,
      verifyEquivalentsPerTx:
        cpuMicrosPerTx === null || runVerifyMicros === 0
          ? null
          : Math.round((cpuMicrosPerTx / runVerifyMicros) * 100) / 100,
      verifyCpuMicros: { before: verifyBefore, after: verifyAfter },
      syscallsPerTx:
        io === undefined || committedInWindow === 0
          ? null
          : Math.round(((io.syscr + io.syscw) / committedInWindow) * 1000) / 1000,
      transport: w === undefined ? null : nodeMetrics.perTx(w.startMs, w.endMs),
      holds,
      exitCode,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function medianOrNull(xs: (number | null)[]): number | null {
  const known = xs.filter((x): x is number => x !== null);
  return known.length === 0 ? null : median(known);
}

function parseShares(text: string): MixShares {
  const s: MixShares = { opaque: 0, transfer: 0, erc20: 0, contention: 0 };
  for (const part of text.split(',')) {
    const [k, v] = part.split('=');
    if (k === undefined || !(k in s) || !(Number(v) >= 0)) {
      throw new Error(
        `--mix-shares: "${part}" is not kind=weight (kinds: opaque, transfer, erc20, contention)`,
      );
    }
    s[k as keyof MixShares] = Number(v);
  }
  return s;
}

/** `--mix`: the realistic mix (bench/lib/mix.ts), run --repeat times; medians over the runs. */
async function mainMix(): Promise<void> {
  const started = new Date().toISOString();
  const load0 = loadavg();
  const repeat = Number(args.repeat);
  verifyMicros = ed25519VerifyMicros();
  const shares = parseShares(String(args['mix-shares']));
  const runs: (Awaited<ReturnType<typeof runMix>> & { loadavgAtStart: number })[] = [];
  for (let i = 0; i < repeat; i++) {
    process.stderr.write(`\n== mix run ${i + 1} of ${repeat}\n`);
    const la = Math.round((loadavg()[0] ?? 0) * 100) / 100;
    let cpuProfDir: string | undefined;
    if (args['cpu-prof'] !== undefined) {
      cpuProfDir = join(args['cpu-prof'], `mix-run-${i + 1}`);
      mkdirSync(cpuProfDir, { recursive: true });
    }
    const r = await runMix({
      repo: REPO,
      rate: Number(args.load),
      durationSec: Number(args.duration),
      warmupSec: Number(args.warmup),
      sizeBytes: Number(args.size),
      shares,
      bundlesPerSec: Number(args.bundles),
      binary: args['batch-submit'] === true,
      verifyMicros,
      cpuProfDir,
      log: (l) => process.stderr.write(`${l}\n`),
    });
    runs.push({ ...r, loadavgAtStart: la });
  }
  const med = (f: (r: (typeof runs)[number]) => number | null) => medianOrNull(runs.map(f));
  const medians = {
    committedTxPerSec: med((r) => r.committedTxPerSec),
    chainTxPerSec: med((r) => r.chainTxPerSec),
    commitP50Ms: med((r) => r.commitMs.p50),
    commitP99Ms: med((r) => r.commitMs.p99),
    preconfP50Ms: med((r) => r.preconfMs.p50),
    preconfP99Ms: med((r) => r.preconfMs.p99),
    executorLagHeightsMax: med((r) => r.executorLag.heightsBehindMax),
    executorLagSlopePerMin: med((r) => r.executorLag.heightsBehindSlopePerMin),
    cpuMicrosPerTx: med((r) => r.cpuMicrosPerTx),
    verifyEquivalentsPerTx: med((r) => r.verifyEquivalentsPerTx),
    heightsInWindow: med((r) => r.heights.inWindow),
    heightsAfterRound0: med((r) => r.heights.afterRound0),
    conflictingCommits: Math.max(...runs.map((r) => r.conflictingCommits ?? 0)),
  };
  const result = {
    benchmark: 'testnet-mix',
    started,
    repo: REPO,
    machine: { cpus: availableParallelism(), loadavgAtStart: load0.map((x) => Math.round(x * 100) / 100) },
    calibration: { ed25519VerifyMicros: verifyMicros, ed25519VerifyMicrosAfter: ed25519VerifyMicros() },
    setup: {
      validators: 4,
      rollups: 'opaque 1, transfer 2, evm 3 (ERC-20, spread), evm 4 (ERC-20, one hot recipient)',
      offeredTxPerSec: Number(args.load),
      shares,
      bundlesPerSec: Number(args.bundles),
      sizeBytes: Number(args.size),
      warmupSec: Number(args.warmup),
      durationSec: Number(args.duration),
      submission: args['batch-submit'] ? 'binary batches' : 'JSON-RPC',
    },
    medians,
    targets: {
      offeredTxPerSec: 10_000,
      executedShare: 0.5,
      requiredTxPerSec: 9500,
      commitP99Ms: 1000,
      preconfP99Ms: 1500,
      met:
        (medians.committedTxPerSec ?? 0) >= 9500 &&
        (medians.commitP99Ms ?? Infinity) <= 1000 &&
        (medians.preconfP99Ms ?? Infinity) <= 1500 &&
        medians.conflictingCommits === 0,
    },
    runs,
    finished: new Date().toISOString(),
  };
  writeResult(result, args.out);
}

async function main(): Promise<void> {
  const started = new Date().toISOString();
  const load0 = loadavg();
  const repeat = Number(args.repeat);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 10) {
    throw new Error(`--repeat must be a whole number from 1 to 10, got ${args.repeat}`);
  }
  const calBefore = ed25519VerifyCalibration();
  const mainRuns: (RunResult & { loadavgAtStart: number })[] = [];
  if (!args['skip-main']) {
    for (let i = 0; i < repeat; i++) {
      process.stderr.write(`\n== main run ${i + 1} of ${repeat}\n`);
      const la = Math.round((loadavg()[0] ?? 0) * 100) / 100;
      mainRuns.push({ ...(await runTestnet(Number(args.load), Number(args.duration))), loadavgAtStart: la });
    }
  }
  // The main figure is the run with the median p99 (the lower middle one for an even count).
  const byP99 = [...mainRuns].sort((a, b) => a.latencyMs.p99 - b.latencyMs.p99);
  const mainRun = byP99[(byP99.length - 1) >> 1] ?? null;
  const medians =
    mainRuns.length > 0
      ? {
          txPerSec: median(mainRuns.map((r) => r.txPerSec)),
          p50: median(mainRuns.map((r) => r.latencyMs.p50)),
          p90: median(mainRuns.map((r) => r.latencyMs.p90)),
          p99: median(mainRuns.map((r) => r.latencyMs.p99)),
          conflictingCommits: Math.max(...mainRuns.map((r) => r.conflictingCommits)),
          cpuMicrosPerTx: medianOrNull(mainRuns.map((r) => r.cpuMicrosPerTx)),
          coresUsed: medianOrNull(mainRuns.map((r) => r.coresUsed)),
          blocksPerSec: medianOrNull(mainRuns.map((r) => r.transport?.blocksPerSec ?? null)),
          kernelCpuShare: medianOrNull(mainRuns.map((r) => r.kernelCpuShare)),
          verifyEquivalentsPerTx: medianOrNull(mainRuns.map((r) => r.verifyEquivalentsPerTx)),
          syscallsPerTx: medianOrNull(mainRuns.map((r) => r.syscallsPerTx)),
          rpcFramesPerTxPerNode: medianOrNull(mainRuns.map((r) => r.transport?.rpcFramesPerTx ?? null)),
          rpcBytesPerTxPerNode: medianOrNull(mainRuns.map((r) => r.transport?.rpcBytesPerTx ?? null)),
          txBatchCopiesPerBatch: medianOrNull(
            mainRuns.map((r) => r.transport?.txBatchCopiesPerBatch ?? null),
          ),
        }
      : null;

  const stepped: RunResult[] = [];
  let highest: number | null = null;
  if (!args['skip-steps']) {
    // One run per step; the machine is noisy, so the search ends only after two failing steps in a row.
    let failures = 0;
    for (const rate of String(args.steps).split(',').map(Number)) {
      const r = await runTestnet(rate, Number(args['step-duration']));
      stepped.push(r);
      if (r.holds) {
        highest = rate;
        failures = 0;
      } else if (++failures >= 2) break;
    }
  }
  const target = Number(args.load);
  const calAfter = ed25519VerifyCalibration();
  const result = {
    benchmark: 'testnet',
    started,
    repo: REPO,
    machine: { cpus: availableParallelism(), loadavgAtStart: load0.map((x) => Math.round(x * 100) / 100) },
    calibration: {
      method: 'process CPU time (user + system) per ed25519 verify through node:crypto, median of rounds',
      ed25519VerifyMicros: calBefore.cpuMicros,
      ed25519VerifyMicrosAfter: calAfter.cpuMicros,
      before: calBefore,
      after: calAfter,
      perRun: 'each run divides by the mean of its own calibrations right before and after it',
    },
    setup: {
      validators: Number(args.validators),
      rollups: Number(args.rollups),
      sizeBytes: Number(args.size),
      warmupSec: Number(args.warmup),
      loadNamespaces: 'opaque rollups',
      submission: args['batch-submit'] && supportsBatchSubmit ? 'binary batches' : 'JSON-RPC',
      profiled: args['cpu-prof'] !== undefined,
    },
    main: mainRun,
    mainMedians: medians,
    mainRuns: mainRuns.map((r) => ({
      loadavgAtStart: r.loadavgAtStart,
      txPerSec: r.txPerSec,
      p50: r.latencyMs.p50,
      p90: r.latencyMs.p90,
      p99: r.latencyMs.p99,
      cpuMicrosPerTx: r.cpuMicrosPerTx,
      coresUsed: r.coresUsed,
      orchestratorCoresUsed: r.orchestratorCoresUsed,
      kernelCpuShare: r.kernelCpuShare,
      verifyEquivalentsPerTx: r.verifyEquivalentsPerTx,
      verifyCpuMicros: r.verifyCpuMicros,
      syscallsPerTx: r.syscallsPerTx,
      transport: r.transport,
      rejected: r.rejected,
      notSent: r.notSent,
      conflictingCommits: r.conflictingCommits,
      checkedHeights: r.checkedHeights,
    })),
    target: medians
      ? {
          offeredTxPerSec: target,
          requiredTxPerSec: 9500,
          requiredP99Ms: P99_LIMIT_MS,
          judgedOn: `medians of ${mainRuns.length} runs`,
          met: medians.txPerSec >= 9500 && medians.p99 <= P99_LIMIT_MS && medians.conflictingCommits === 0,
          runsMeetingIt: mainRuns.filter(
            (r) => r.txPerSec >= 9500 && r.latencyMs.p99 <= P99_LIMIT_MS && r.conflictingCommits === 0,
          ).length,
        }
      : null,
    stepped: stepped.map((r) => ({
      offeredTxPerSec: r.offeredTxPerSec,
      txPerSec: r.txPerSec,
      p50: r.latencyMs.p50,
      p99: r.latencyMs.p99,
      cpuMicrosPerTx: r.cpuMicrosPerTx,
      verifyEquivalentsPerTx: r.verifyEquivalentsPerTx,
      notSent: r.notSent,
      uncommitted: r.uncommitted,
      conflictingCommits: r.conflictingCommits,
      holds: r.holds,
    })),
    highestRateWithP99Under1s: highest,
    // The search ran out of steps while still holding: the real ceiling is higher.
    highestRateIsLowerBound: stepped.at(-1)?.holds ?? false,
    finished: new Date().toISOString(),
  };
  writeResult(result, args.out);
}

await (args.mix ? mainMix() : main());
