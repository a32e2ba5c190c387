/**
 * Bundle benchmark (issue #22): a real `ordo testnet up --validators 4` with background load over the
 * opaque rollup, once WITHOUT bundles and once WITH `--bundles-per-sec` signed bundles (a `--cross` share
 * cross-rollup, a `--fail` share built to fail) over the executed rollups, per round; the testnet's own
 * bundle load follows every bundle by WebSocket and, at the end, reads every leg's effect back (EVM
 * `eth_getBalance`, transfer `ordo_getTransferAccount`) for the atomicity check. Medians over `--runs`.
 *
 *   npm run bench:bundles -- --out FILE [--load 5000] [--bundles 200] [--duration 60] [--warmup 10]
 *                            [--cross 0.5] [--fail 0.1] [--runs 1] [--no-baseline] [--repo DIR]
 * `--repo DIR` runs another checkout's `bin/ordo.js` (its nodes and its load), e.g. /work/main as the
 * baseline of an A/B made by alternating two invocations.
 * JSON: {bundlesPerSec, preconfirmP50Ms, preconfirmP99Ms, appliedShare, atomicityViolations,
 * backgroundTxPerSec, backgroundRatioVsNoBundles, cpuMicrosPerTx, loadAvg, …details}. Targets: p50 ≤ 250
 * ms, p99 ≤ 750 ms, 0 violations, background within 10 % of the run without bundles.
 * CPU: utime + stime of the four node processes (/proc) over the measured window, per committed
 * transaction (background transactions plus bundle transactions). `nodeStages` (per run, in `perRun`):
 * the nodes' own stage histograms and counters read from their /metrics at the end of the window, means
 * over the four nodes (docs/bundles.md "Where the time goes"). ORDO_BENCH_KEEP=1 keeps the testnet
 * directories (node logs).
 * Per bundle (the marginal cost, which needs the round without bundles): `cpuMicrosPerBundle` = (node CPU
 * per second with bundles − background tx/s × the no-bundle round's node CPU per background tx) per
 * committed bundle per second (applied + voided), and `threadCpuMicrosPerBundle` the same by thread name
 * (/proc/<pid>/task, bench/lib/thread-cpu.ts). `shortfall`: why bundles/s is below the offered rate —
 * offers not sent because every sender account was busy (the load is closed-loop: a sender has one bundle
 * in flight per rollup; bundles built to fail hold none, ADR 0351) with the sender slots and how many were
 * busy (`senders`), offers `late` (every node's request budget full), refusals by code, drops by reason
 * (the load's and the nodes'), unsettled, and `why` in words. `notSentShare` / `lateShare`: their share
 * of the offers due.
 * `loadGenCores`: the cores `testnet up` itself (background sender, bundle planner, status follower) used
 * in the window; near 1 its one event loop is saturated and the latencies it measures include its queue.
 * `--cpu-prof DIR [--cpu-prof-interval 4000]` profiles every node (V8 .cpuprofile per thread, written when the testnet stops) into
 * DIR/run-N with the measured window in window.json, for `node bench/bundle-stages.ts DIR/run-N`.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { TestnetReport } from '../testnet/orchestrator.ts';
import { findFreeBasePort } from '../testnet/setup.ts';
import { readState } from '../testnet/state.ts';
import { writeResult } from './lib/json-out.ts';
import { snapshotThreads, threadSecondsBetween } from './lib/thread-cpu.ts';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    load: { type: 'string', default: '5000' },
    bundles: { type: 'string', default: '200' },
    duration: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '10' },
    cross: { type: 'string', default: '0.5' },
    fail: { type: 'string', default: '0.1' },
    runs: { type: 'string', default: '1' },
    'no-baseline': { type: 'boolean', default: false },
    repo: { type: 'string' },
    'cpu-prof': { type: 'string' },
    'cpu-prof-interval': { type: 'string', default: '4000' },
  },
});
const PROF_DIR = args['cpu-prof'] === undefined ? undefined : resolve(args['cpu-prof']);
let profRuns = 0;
/** The monotonic clock V8 CPU profiles use, µs. */
const monoMicros = (): number => Number(process.hrtime.bigint() / 1000n);
const REPO = args.repo ?? join(dirname(fileURLToPath(import.meta.url)), '..');
const VALIDATORS = 4;
const durationSec = Number(args.duration);
const warmupSec = Number(args.warmup);
const bundleRate = Number(args.bundles);
const runs = Math.max(1, Number(args.runs));
const TICKS_PER_SEC = 100; // USER_HZ on Linux

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (s: string) => process.stderr.write(`[bench:bundles] ${s}\n`);

/** utime + stime (ticks) of a process, 0 when it is gone. */
function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

interface RunResult {
  report: TestnetReport;
  cpuSeconds: number;
  /** CPU seconds of the four nodes in the window by thread name. */
  threadSeconds: Record<string, number>;
  /** CPU seconds of `testnet up` itself in the window: the background sender and the bundle load. */
  loadGenCpuSeconds: number;
  windowSec: number;
  loadAvg: number;
  nodeStages: NodeStages | null;
}

/** Histograms whose mean (ms, over the four nodes) goes into `nodeStages.meanMs`. */
const STAGE_HISTOGRAMS: Record<string, string> = {
  ordo_bundle_commit_seconds: 'bundleAdmitToCommit',
  ordo_bundle_select_seconds: 'proposerSelect',
  ordo_bundle_preconfirm_seconds: 'commitToPreconfirm',
  ordo_builder_results_wait_seconds: 'resultsWait',
  ordo_consensus_block_interval_seconds: 'blockInterval',
  'ordo_exec_block_seconds{kind="evm"}': 'execBlockEvm',
  'ordo_exec_block_seconds{kind="transfer"}': 'execBlockTransfer',
  // A decided height's critical path as each node saw it (src/consensus/height-trace.ts heightStages):
  // own proposals (untilBuild, build, send) and peers' (untilHeard, rebuild), then the votes.
  'ordo_consensus_height_stage_seconds{stage="untilBuild"}': 'h_untilBuild',
  'ordo_consensus_height_stage_seconds{stage="build"}': 'h_build',
  'ordo_consensus_height_stage_seconds{stage="send"}': 'h_send',
  'ordo_consensus_height_stage_seconds{stage="untilHeard"}': 'h_untilHeard',
  'ordo_consensus_height_stage_seconds{stage="rebuild"}': 'h_rebuild',
  'ordo_consensus_height_stage_seconds{stage="untilVerify"}': 'h_untilVerify',
  'ordo_consensus_height_stage_seconds{stage="verify"}': 'h_verify',
  'ordo_consensus_height_stage_seconds{stage="toPrevote"}': 'h_toPrevote',
  'ordo_consensus_height_stage_seconds{stage="prevoteWait"}': 'h_prevoteWait',
  'ordo_consensus_height_stage_seconds{stage="toPrecommit"}': 'h_toPrecommit',
  'ordo_consensus_height_stage_seconds{stage="precommitWait"}': 'h_precommitWait',
  'ordo_consensus_height_stage_seconds{stage="decide"}': 'h_decide',
  ordo_consensus_compact_fetch_seconds: 'compactFetch',
};
/** Counters summed over the four nodes into `nodeStages.counts` (every label set). */
const STAGE_COUNTERS = [
  'ordo_bundle_simulations_total',
  'ordo_bundle_presimulated_total',
  'ordo_builder_verify_total',
  'ordo_bundles_dropped_total',
  'ordo_exec_sim_runs_total',
  'ordo_exec_bundle_prepared_total',
  'ordo_bundle_select_skipped_total',
  // Rounds that did not commit (a refused or late proposal costs the height a round), by proposer.
  'ordo_consensus_proposals_missed_total',
  // Compact proposals' transactions a validator did not hold and fetched from a peer before it could
  // prevote, and proposals dropped for want of them (bundled blocks are compact since ADR 0275).
  'ordo_consensus_compact_fetched_txs_total',
  'ordo_consensus_compact_failed_total',
  'ordo_consensus_compact_fetched_bundle_txs_total',
  'ordo_consensus_compact_arrived_txs_total',
  'ordo_consensus_compact_queued_txs_total',
  // Gossip messages by topic and direction, and the gossipsub frames received (duplicates included):
  // per-message work every node pays (ADR 0336).
  'ordo_p2p_gossip_messages_total',
  'ordo_p2p_rpc_received_total',
  // Cumulative buckets summed over the nodes: the distribution of admission → commit in heights.
  'ordo_bundle_commit_heights_bucket',
];

interface NodeStages {
  meanMs: Record<string, number>;
  counts: Record<string, number>;
  /** Mean over the nodes of their event loop delay p99 (prom-client's monitor), ms. */
  eventLoopLagP99Ms: number;
}

/** The nodes' stage histograms and counters from their /metrics (null when none answered). */
async function scrapeNodeStages(rpcUrls: string[]): Promise<NodeStages | null> {
  const sums = new Map<string, number>();
  const counts: Record<string, number> = {};
  const lags: number[] = [];
  for (const url of rpcUrls) {
    let text: string;
    try {
      const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) continue;
      text = await res.text();
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (line.startsWith('#') || line.length === 0) continue;
      const sp = line.lastIndexOf(' ');
      const key = line.slice(0, sp);
      const v = Number(line.slice(sp + 1));
      if (!Number.isFinite(v)) continue;
      const m = /^(\w+)_(sum|count)(\{.*\})?$/.exec(key);
      if (m !== null && STAGE_HISTOGRAMS[`${m[1]}${m[3] ?? ''}`] !== undefined) {
        const k = `${m[1]}${m[3] ?? ''}_${m[2]}`;
        sums.set(k, (sums.get(k) ?? 0) + v);
      } else if (STAGE_COUNTERS.some((c) => key.startsWith(c))) counts[key] = (counts[key] ?? 0) + v;
      else if (key === 'ordo_process_nodejs_eventloop_lag_p99_seconds') lags.push(v * 1000);
    }
  }
  if (sums.size === 0 && lags.length === 0) return null;
  const meanMs: Record<string, number> = {};
  for (const [metric, name] of Object.entries(STAGE_HISTOGRAMS)) {
    const c = sums.get(`${metric}_count`) ?? 0;
    if (c > 0) meanMs[name] = r1(((sums.get(`${metric}_sum`) ?? 0) / c) * 1000);
  }
  const eventLoopLagP99Ms = lags.length === 0 ? 0 : r1(lags.reduce((a, b) => a + b, 0) / lags.length);
  return { meanMs, counts, eventLoopLagP99Ms };
}

async function runTestnet(bundles: number): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ordo-bench-bundles-'));
  const reportFile = join(dir, 'report.json');
  const base = await findFreeBasePort(VALIDATORS);
  const argv = [
    join(REPO, 'bin', 'ordo.js'),
    'testnet',
    'up',
    ...['--validators', String(VALIDATORS), '--rollups', '4'],
    ...['--load', String(args.load), '--load-namespaces', '1'],
    ...['--bundles-per-sec', String(bundles)],
    ...['--bundle-cross-share', String(args.cross), '--bundle-fail-share', String(args.fail)],
    ...['--duration', String(durationSec), '--warmup', String(warmupSec)],
    ...['--dashboard', '0', '--base-port', String(base), '--dir', dir, '--report', reportFile],
  ];
  const env: NodeJS.ProcessEnv = { ...process.env };
  let profDir: string | undefined;
  if (PROF_DIR !== undefined) {
    profDir = join(PROF_DIR, `run-${++profRuns}${bundles > 0 ? '' : '-nobundles'}`);
    mkdirSync(profDir, { recursive: true });
    // A coarser sampling interval than Node's 1 ms: 4 nodes × 7 threads profiled on a small host.
    const us = Math.max(100, Math.min(100_000, Number(args['cpu-prof-interval'])));
    env.ORDO_TESTNET_NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${profDir} --cpu-prof-interval=${us}`;
  }
  const child = spawn(process.execPath, argv, { cwd: REPO, env, stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  try {
    let pids: number[] = [];
    let rpcUrls: string[] = [];
    for (let i = 0; i < 360 && pids.length === 0; i++) {
      const s = readState(dir);
      if (s?.nodes.every((n) => n.state === 'running' && n.pid !== null)) {
        pids = s.nodes.map((n) => n.pid!);
        rpcUrls = s.nodes.map((n) => n.rpc);
      } else await sleep(500);
    }
    if (pids.length === 0) throw new Error('the testnet did not come up within 180 s');
    // The load starts once every node committed its first heights; the window is measured after warm-up.
    await sleep((warmupSec + 5) * 1000);
    const t0 = performance.now();
    const m0 = monoMicros();
    const c0 = pids.reduce((a, p) => a + cpuTicks(p), 0);
    const g0 = child.pid === undefined ? 0 : cpuTicks(child.pid);
    const th0 = snapshotThreads(pids);
    await sleep(Math.max(1, durationSec - 8) * 1000);
    const c1 = pids.reduce((a, p) => a + cpuTicks(p), 0);
    const g1 = child.pid === undefined ? 0 : cpuTicks(child.pid);
    const threadSeconds = threadSecondsBetween(th0, snapshotThreads(pids));
    const windowSec = (performance.now() - t0) / 1000;
    if (profDir !== undefined)
      writeFileSync(
        join(profDir, 'window.json'),
        `${JSON.stringify({ startMicros: m0, endMicros: monoMicros() })}\n`,
      );
    const la = loadavg()[0]!;
    const nodeStages = await scrapeNodeStages(rpcUrls);
    const code = await exited;
    if (code !== 0) throw new Error(`testnet up exited with ${code}`);
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as TestnetReport;
    return {
      report,
      cpuSeconds: (c1 - c0) / TICKS_PER_SEC,
      threadSeconds,
      loadGenCpuSeconds: (g1 - g0) / TICKS_PER_SEC,
      windowSec,
      loadAvg: la,
      nodeStages,
    };
  } finally {
    if (child.exitCode === null) child.kill('SIGINT');
    await exited;
    if (process.env.ORDO_BENCH_KEEP === '1') log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const r1 = (x: number): number => Math.round(x * 10) / 10;

/** Transactions the nodes committed per second in the window: background plus bundle legs. */
function cpuPerTx(r: RunResult): number {
  const b = r.report.bundles;
  const bundleTxsPerSec = b === null ? 0 : (b.accepted * 1.5) / Math.max(1, b.windowSec);
  const txs = (r.report.txPerSec + bundleTxsPerSec) * r.windowSec;
  return txs > 0 ? (r.cpuSeconds * 1e6) / txs : 0;
}

/** Bundles committed per second: applied + voided over the bundle load's window. */
function committedBundlesPerSec(r: RunResult): number {
  const b = r.report.bundles;
  return b === null ? 0 : (b.applied + b.voided) / Math.max(1, b.windowSec);
}

/** Node CPU per committed transaction (µs) by thread name. */
function threadPerTx(r: RunResult): Record<string, number> {
  const cpt = cpuPerTx(r);
  const out: Record<string, number> = {};
  for (const [name, sec] of Object.entries(r.threadSeconds))
    out[name] = r.cpuSeconds > 0 ? Math.round((cpt * sec) / r.cpuSeconds) : 0;
  return out;
}

/**
 * The nodes' marginal CPU per committed bundle (µs), in all and by thread name: CPU per second with
 * bundles, less the background's share at the round without bundles' CPU per background tx, divided by
 * committed bundles per second. Null without a round without bundles.
 */
function perBundle(
  r: RunResult,
  base: RunResult | undefined,
): { total: number; byThread: Record<string, number> } | null {
  const perSec = committedBundlesPerSec(r);
  if (base === undefined || perSec <= 0 || base.report.txPerSec <= 0) return null;
  const bg = r.report.txPerSec / base.report.txPerSec;
  const marginal = (withSec: number, baseSec: number): number =>
    Math.round(((withSec / r.windowSec - (bg * baseSec) / base.windowSec) * 1e6) / perSec);
  const byThread: Record<string, number> = {};
  for (const name of new Set([...Object.keys(r.threadSeconds), ...Object.keys(base.threadSeconds)]))
    byThread[name] = marginal(r.threadSeconds[name] ?? 0, base.threadSeconds[name] ?? 0);
  return { total: marginal(r.cpuSeconds, base.cpuSeconds), byThread };
}

/** Why bundles/s is below the offered rate, in counts over the bundle load's window. */
function shortfall(r: RunResult) {
  const b = r.report.bundles!;
  const nodeDroppedPerNode: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.nodeStages?.counts ?? {})) {
    const m = /^ordo_bundles_dropped_total\{reason="([^"]+)"\}$/.exec(k);
    if (m !== null) nodeDroppedPerNode[m[1]!] = Math.round(v / VALIDATORS);
  }
  return {
    offeredAtRate: Math.round(b.offeredPerSec * b.windowSec),
    /** The load had no free sender account for them (closed loop: latency × rate > senders). */
    notSentSendersBusy: b.notSent,
    /** Due but not offered when the window ended: every node's request budget was full (slow answers). */
    late: b.late ?? null,
    /** Sender accounts and slots (account × executed rollup); slots held by bundles in flight, most / mean. */
    senders: b.senders ?? null,
    why: shortfallWhy(b),
    refused: b.refused,
    refusedBy: b.refusedBy,
    accepted: b.accepted,
    applied: b.applied,
    voided: b.voided,
    dropped: b.dropped,
    unsettled: b.unsettled,
    /** ordo_bundles_dropped_total by reason, mean over the nodes (each node's pool drops on its own). */
    nodeDroppedPerNode,
    committedBundlesPerSec: r1(committedBundlesPerSec(r)),
  };
}

/** In words, why the load did not send all it offered (older checkouts' reports lack `late`, `senders`). */
function shortfallWhy(b: NonNullable<TestnetReport['bundles']>): string[] {
  const why: string[] = [];
  const due = b.offered + b.notSent + (b.late ?? 0);
  const pct = (n: number): string => `${Math.round((1000 * n) / Math.max(1, due)) / 10} %`;
  if (b.notSent > 0) {
    const s = b.senders;
    why.push(
      s === undefined
        ? `${pct(b.notSent)} not sent: no sender account free`
        : `${pct(b.notSent)} not sent: no sender free (closed loop: ${s.accounts} accounts, ${s.slots} slots; busy at most ${s.maxBusy}, mean ${s.meanBusy} = ${Math.round((100 * s.meanBusy) / Math.max(1, s.slots))} %; mean busy = bundles/s × legs × time to settle)`,
    );
  }
  if ((b.late ?? 0) > 0) why.push(`${pct(b.late!)} late: every node's request budget full (slow answers)`);
  if (b.refused > 0) why.push(`${pct(b.refused)} refused by the nodes: ${JSON.stringify(b.refusedBy)}`);
  return why;
}

/** Per-key median of numeric records (a key missing in a record counts as 0). */
function medianRecord(xs: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of new Set(xs.flatMap((x) => Object.keys(x))))
    out[k] = Math.round(median(xs.map((x) => x[k] ?? 0)));
  return out;
}

function summary(withB: RunResult[], without: RunResult[]) {
  const marginal = withB.map((r, i) => perBundle(r, without[i])).filter((x) => x !== null);
  const bs = withB.map((r) => r.report.bundles!);
  const bg = median(withB.map((r) => r.report.txPerSec));
  const bgNo = without.length === 0 ? null : median(without.map((r) => r.report.txPerSec));
  return {
    bundlesPerSec: r1(median(bs.map((b) => b.bundlesPerSec))),
    preconfirmP50Ms: Math.round(median(bs.map((b) => b.preconfirmMs.p50))),
    preconfirmP99Ms: Math.round(median(bs.map((b) => b.preconfirmMs.p99))),
    appliedShare: median(bs.map((b) => b.appliedShare)),
    atomicityViolations: Math.max(...bs.map((b) => b.atomicity?.violations ?? Number.NaN)),
    backgroundTxPerSec: r1(bg),
    backgroundRatioVsNoBundles: bgNo === null || bgNo === 0 ? null : Math.round((bg / bgNo) * 1000) / 1000,
    cpuMicrosPerTx: Math.round(median(withB.map(cpuPerTx))),
    committedBundlesPerSec: r1(median(withB.map(committedBundlesPerSec))),
    cpuMicrosPerBundle: marginal.length === 0 ? null : Math.round(median(marginal.map((m) => m.total))),
    threadCpuMicrosPerBundle: marginal.length === 0 ? null : medianRecord(marginal.map((m) => m.byThread)),
    loadGenCores: Math.round(median(withB.map((r) => r.loadGenCpuSeconds / r.windowSec)) * 100) / 100,
    // Share of the offers due (a thousandth; was rounded to a tenth before session 17).
    notSentShare:
      Math.round(median(bs.map((b) => (1000 * b.notSent) / Math.max(1, b.offered + b.notSent)))) / 1000,
    // Offers due but not made (every node's request budget full), share of those due.
    lateShare:
      Math.round(
        median(bs.map((b) => (1000 * (b.late ?? 0)) / Math.max(1, b.offered + b.notSent + (b.late ?? 0)))),
      ) / 1000,
    loadAvg: r1(median([...withB, ...without].map((r) => r.loadAvg))),
    details: {
      runs: withB.length,
      repo: REPO,
      validators: VALIDATORS,
      offeredBundlesPerSec: bundleRate,
      backgroundOfferedTxPerSec: Number(args.load),
      durationSec,
      warmupSec,
      crossShare: Number(args.cross),
      failShare: Number(args.fail),
      backgroundTxPerSecNoBundles: bgNo === null ? null : r1(bgNo),
      cpuMicrosPerTxNoBundles: without.length === 0 ? null : Math.round(median(without.map(cpuPerTx))),
      perRun: withB.map((r, i) => ({
        bundles: r.report.bundles,
        backgroundTxPerSec: r.report.txPerSec,
        backgroundLatencyMs: r.report.latencyMs,
        backgroundTxPerSecNoBundles: without[i]?.report.txPerSec ?? null,
        cpuMicrosPerTx: Math.round(cpuPerTx(r)),
        threadCpuMicrosPerTx: threadPerTx(r),
        // Cores the load (testnet up: background sender, bundle planner and follower) used in the window;
        // near 1 its one event loop is saturated and its latencies include its own queueing.
        loadGenCores: Math.round((r.loadGenCpuSeconds / r.windowSec) * 100) / 100,
        threadCpuMicrosPerTxNoBundles: without[i] === undefined ? null : threadPerTx(without[i]!),
        cpuMicrosPerBundle: perBundle(r, without[i]),
        shortfall: shortfall(r),
        cpuMicrosPerTxNoBundles: without[i] === undefined ? null : Math.round(cpuPerTx(without[i]!)),
        loadAvg: r1(r.loadAvg),
        safetyConflicts: r.report.safety.conflictingCommits,
        nodeStages: r.nodeStages,
        nodeStagesNoBundles: without[i]?.nodeStages ?? null,
      })),
    },
  };
}

async function main(): Promise<void> {
  const withB: RunResult[] = [];
  const without: RunResult[] = [];
  let text = '';
  for (let i = 0; i < runs; i++) {
    if (args['no-baseline'] !== true) {
      log(`round ${i + 1}/${runs}: without bundles (load average ${loadavg()[0]!.toFixed(1)})`);
      without.push(await runTestnet(0));
    }
    log(`round ${i + 1}/${runs}: with ${bundleRate} bundles/s (load average ${loadavg()[0]!.toFixed(1)})`);
    withB.push(await runTestnet(bundleRate));
    // Written after every round: an interrupted benchmark keeps the medians of the rounds it finished.
    text = writeResult(summary(withB, without), args.out, { print: false });
  }
  process.stdout.write(text);
}

await main();
