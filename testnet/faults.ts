/**
 * The fault matrix behind `ordo testnet faults --matrix` (CometBFT e2e style), on the real
 * multi-process testnet (orchestrator.ts), under open-loop load:
 *
 *   Testnet.up (load 0)      nodes as OS processes; the disk-full node's data dir on a small tmpfs
 *   LoadGenerator + follower  its own load, recording every acknowledged commit in an AckLog (src/loadgen)
 *   for each case:            inject → hold --fault-seconds → end → measure recovery → check
 *     faults                  kill -9 + restart, SIGSTOP + SIGCONT, partition + heal (the control API:
 *                             Testnet.control, the same as `ordo testnet kill|…`; with --netns the
 *                             partition drops packets between network namespaces, netns.ts), disk full + free
 *                             (disk.ts), a damaged block store (kill -9, blocks deleted and a
 *                             certificate garbled, restart: the node re-fetches them, ADR 0145), or
 *                             two of them at once
 *     recovery                every node at the head the network had when the fault ended, plus one
 *                             block (the network decides again); time per node from the fault's end;
 *                             budget 20 s, measured up to --recovery-timeout
 *     checks                  identical block hashes on every node (safety.ts), and the history checker
 *                             (history.ts): every acknowledged transaction in every chain exactly once
 *   final check               load stopped and drained, then the same checks over the whole run
 *   report                    JSON (--report) and a table on the terminal
 *
 * Every process is stopped and every mount removed on every exit path (finally), even on failure. A
 * case that cannot run here (disk full without mount permission) is skipped with its reason, never failed.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { errorMessage, OrdoError } from '../src/errors.ts';
import {
  AckLog,
  BlockFollower,
  chooseRollups,
  DEMO_EVM_CHAIN_ID,
  LoadGenerator,
  type LoadReport,
  payloadSourceFor,
} from '../src/loadgen/index.ts';
import { rpcCall } from '../src/rpc/index.ts';
import { injectDamage, openStore } from '../src/store/index.ts';
import { fillDisk, freeDisk, mountsUnder, mountTmpfs, probeMount, unmount } from './disk.ts';
import { ChainHistory, type HistoryFigures, historyProblems } from './history-check.ts';
import { Testnet } from './orchestrator.ts';
import { checkSafety, type SafetyResult } from './safety.ts';
import { findFreeBasePort } from './setup.ts';

export type FaultAction = 'kill' | 'pause' | 'partition' | 'disk-full' | 'corrupt-store';

export interface FaultStep {
  action: FaultAction;
  nodes: string[];
}

export interface FaultCase {
  name: string;
  steps: FaultStep[];
}

export interface FaultMatrixOptions {
  dir: string;
  validators: number;
  /** Offered tx/s during the whole matrix. */
  load: number;
  sizeBytes?: number;
  /** How long each fault is held before it ends. */
  faultSeconds: number;
  /** `full`: every validator killed in turn, pause, partitions, two at once, disk full; `short`: CI's three. */
  matrix: 'full' | 'short';
  /** Run only the cases whose name starts with one of these (e.g. `kill`, `pause`, `double`). */
  only?: string[];
  /** A node counts as recovered when back at the head within this budget (the issue's 20 s). */
  recoveryBudgetSec?: number;
  /** How long recovery is measured before a node counts as not recovered (default 60 s). */
  recoveryTimeoutSec?: number;
  /** Size of the disk-full node's tmpfs (default 128 MiB). */
  diskMb?: number;
  basePort?: number;
  reportFile?: string;
  out?: (line: string) => void;
  signal?: AbortSignal;
  nodeConfig?: Record<string, Record<string, unknown>>;
  /** Nodes in network namespaces, partitions by dropped packets (root; falls back with a message). */
  netns?: boolean;
  /** With netns: one-way delay on every node's interface (tc netem), ms. */
  netnsDelayMs?: number;
}

export interface RecoveryResult {
  /** Highest height any node had when the fault ended; recovered = at target (this + 1). */
  headAtEnd: number;
  target: number;
  /** Milliseconds from the fault's end until each node reached the target; null = not within the timeout. */
  perNodeMs: Record<string, number | null>;
  maxMs: number | null;
  withinBudget: boolean;
}

export interface CaseResult {
  name: string;
  steps: FaultStep[];
  skipped?: string;
  startedAt?: string;
  faultMs?: number;
  /**
   * How long ending the fault took (a restart: until the new process answers RPC; most of a kill's
   * recovery time is this start-up on a busy machine).
   */
  endActionMs?: number;
  recovery?: RecoveryResult;
  /**
   * Each restarted node's start-up, from its `node started` log line: ms per phase (`beforeStart` is
   * module loading) and the process's CPU until then (docs/operating.md, ADR 0185).
   */
  restarts?: { node: string; startupMs: Record<string, number>; startupCpuMs: number | null }[];
  safety?: { checkedHeights: number; conflictingCommits: number; conflicts: SafetyResult['conflicts'] };
  history?: HistoryFigures;
  problems: string[];
  notes: string[];
  ok: boolean;
}

export interface FaultMatrixReport {
  startedAt: string;
  validators: number;
  loadTxPerSec: number;
  faultSeconds: number;
  recoveryBudgetSec: number;
  matrix: 'full' | 'short';
  /** How partitions were made: `netns` (packets dropped between namespaces) or `admin-rpc` (connection gater). */
  partitions: 'netns' | 'admin-rpc';
  diskFullNode: string | null;
  cases: CaseResult[];
  final: {
    safety: { checkedHeights: number; conflictingCommits: number; conflicts: SafetyResult['conflicts'] };
    history: HistoryFigures | null;
    problems: string[];
  };
  load: Pick<
    LoadReport,
    'offered' | 'sent' | 'accepted' | 'notSent' | 'rejected' | 'committedTxs' | 'uncommitted' | 'latencyMs'
  > | null;
  /** Worst recovery over the cases that recovered (ms; null when none ran). */
  worstRecoveryMs: number | null;
  /** 1-minute load average of this machine at the start and the end (recovery times scale with it). */
  loadAverage: { start: number; end: number };
  /** Cases in which some node did not recover within the recovery timeout. */
  notRecovered: string[];
  ok: boolean;
}

/** The cases of a matrix for `validators` validators node0..node{V-1}; disk full last (see docs/testnet.md). */
export function matrixCases(validators: number, kind: 'full' | 'short'): FaultCase[] {
  if (validators < 4) {
    throw new OrdoError(
      'TESTNET_BAD_OPTION',
      `the fault matrix needs at least 4 validators (one down must leave a quorum), got ${validators}`,
    );
  }
  const v = (i: number): string => `node${i % validators}`;
  if (kind === 'short') {
    return [
      { name: `kill-restart ${v(1)}`, steps: [{ action: 'kill', nodes: [v(1)] }] },
      { name: `pause-resume ${v(2)}`, steps: [{ action: 'pause', nodes: [v(2)] }] },
      { name: `partition-heal ${v(3)}`, steps: [{ action: 'partition', nodes: [v(3)] }] },
    ];
  }
  const cases: FaultCase[] = [];
  for (let i = 0; i < validators; i++)
    cases.push({ name: `kill-restart ${v(i)}`, steps: [{ action: 'kill', nodes: [v(i)] }] });
  cases.push({ name: `pause-resume ${v(1)}`, steps: [{ action: 'pause', nodes: [v(1)] }] });
  cases.push({ name: `partition-heal ${v(2)}`, steps: [{ action: 'partition', nodes: [v(2)] }] });
  const half = Array.from({ length: Math.floor(validators / 2) }, (_, i) => v(i));
  cases.push({
    name: `partition-heal halves {${half.join(',')}}`,
    steps: [{ action: 'partition', nodes: half }],
  });
  cases.push({
    name: `double kill ${v(0)} + pause ${v(1)}`,
    steps: [
      { action: 'kill', nodes: [v(0)] },
      { action: 'pause', nodes: [v(1)] },
    ],
  });
  cases.push({
    name: `double partition ${v(2)} + kill ${v(3)}`,
    steps: [
      { action: 'partition', nodes: [v(2)] },
      { action: 'kill', nodes: [v(3)] },
    ],
  });
  cases.push({
    name: `corrupt-store ${v(2)}`,
    steps: [{ action: 'corrupt-store', nodes: [v(2)] }],
  });
  cases.push({
    name: `disk-full ${v(validators - 1)}`,
    steps: [{ action: 'disk-full', nodes: [v(validators - 1)] }],
  });
  return cases;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((r) => {
    if (signal?.aborted) return r();
    const t = setTimeout(r, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        r();
      },
      { once: true },
    );
  });

async function heightOf(rpc: string): Promise<number | null> {
  try {
    return Number(((await rpcCall(rpc, 'ordo_status', [], 1000)) as { height?: number }).height ?? 0);
  } catch {
    return null;
  }
}

export async function runFaultMatrix(o: FaultMatrixOptions): Promise<FaultMatrixReport> {
  const out = o.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const budgetSec = o.recoveryBudgetSec ?? 20;
  const timeoutMs = (o.recoveryTimeoutSec ?? 60) * 1000;
  const dir = resolve(o.dir);
  let cases = matrixCases(o.validators, o.matrix);
  if (o.only !== undefined && o.only.length > 0) {
    const only = o.only;
    cases = cases.filter((c) => only.some((p) => c.name.startsWith(p)));
    if (cases.length === 0)
      throw new OrdoError('TESTNET_BAD_OPTION', `no fault case matches ${only.join(', ')}`);
  }
  const diskCase = cases.find((c) => c.steps.some((s) => s.action === 'disk-full'));
  const diskNode = diskCase?.steps.find((s) => s.action === 'disk-full')?.nodes[0];
  let diskSkip: string | undefined;
  if (diskCase !== undefined) {
    const p = probeMount();
    if (!p.ok) diskSkip = p.reason;
  }
  // An earlier run killed before it unmounted: its mounts would make the wipe of <dir>/nodes fail.
  for (const m of mountsUnder(dir)) unmount(m);

  const mounts: string[] = [];
  const results: CaseResult[] = [];
  const acks = new AckLog();
  let testnet: Testnet | undefined;
  let follower: BlockFollower | undefined;
  let gen: LoadGenerator | undefined;
  let loadRun: Promise<LoadReport> | undefined;
  let history: ChainHistory | undefined;
  let diskDir: string | undefined;
  const startedAt = new Date().toISOString();
  const loadAtStart = Math.round(loadavg()[0]! * 100) / 100;
  try {
    testnet = await Testnet.up({
      dir,
      validators: o.validators,
      fullNodes: 0,
      rollups: 3,
      basePort: o.basePort ?? (await findFreeBasePort(o.validators)),
      load: 0,
      sizeBytes: o.sizeBytes ?? 200,
      dashboardPort: 0,
      out,
      ...(o.nodeConfig !== undefined ? { nodeConfig: o.nodeConfig } : {}),
      ...(o.signal !== undefined ? { signal: o.signal } : {}),
      ...(o.netns === true ? { netns: true, netnsDelayMs: o.netnsDelayMs ?? 0 } : {}),
      beforeSpawn: async (net) => {
        if (diskNode === undefined || diskSkip !== undefined) return;
        const n = net.nodes.find((x) => x.id === diskNode);
        if (n === undefined) return;
        const data = join(n.home, 'data');
        try {
          rmSync(data, { recursive: true, force: true });
          mountTmpfs(data, o.diskMb ?? 128);
          mounts.push(data);
          diskDir = data;
          out(`disk-full case: ${diskNode}'s data directory is a ${o.diskMb ?? 128} MiB tmpfs (${data})`);
        } catch (err) {
          diskSkip = `mounting a tmpfs on ${data} failed: ${errorMessage(err)}`;
        }
      },
    });
    const t = testnet;
    const nodes = t.nodes.map((n) => ({ id: n.id, rpc: n.rpc }));
    history = new ChainHistory(nodes);
    const h = history;

    // Load: the opaque rollups (cheap to order, so faults, not execution, set the pace).
    const registry = t.net.genesis.rollups.map((r) => ({ namespace: r.namespace, kind: r.kind }));
    const rollups = chooseRollups(registry, undefined, DEMO_EVM_CHAIN_ID);
    follower = new BlockFollower({ urls: nodes.map((n) => n.rpc) });
    await follower.start();
    if (o.load > 0) {
      gen = new LoadGenerator({
        urls: nodes.map((n) => n.rpc),
        rate: o.load,
        durationSec: Number.POSITIVE_INFINITY,
        sources: rollups.map((r) => payloadSourceFor(r, o.sizeBytes ?? 200)),
        follower,
        acks,
        drainMs: 15_000,
      });
      loadRun = gen.run();
      out(`load: ${o.load} tx/s open-loop over namespaces ${rollups.map((r) => r.namespace).join(', ')}`);
    }
    await sleep(Math.min(5000, o.faultSeconds * 1000), o.signal);

    for (const c of cases) {
      if (o.signal?.aborted) break;
      if (c.steps.some((s) => s.action === 'disk-full') && diskSkip !== undefined) {
        out(`case ${c.name}: SKIPPED (${diskSkip})`);
        results.push({ name: c.name, steps: c.steps, skipped: diskSkip, problems: [], notes: [], ok: true });
        continue;
      }
      results.push(await runCase(c, { t, nodes, h, acks, o, out, budgetSec, timeoutMs, diskDir }));
      await sleep(2000, o.signal);
    }

    // Final: stop the load, let it drain, then check everything once more.
    gen?.stop();
    const loadReport = loadRun === undefined ? null : await loadRun;
    follower.stop();
    // Every node at the highest acknowledged height (bounded), so a node one block behind the
    // follower's is not counted as "not yet visible".
    const settleUntil = Date.now() + 15_000;
    while (Date.now() < settleUntil && !o.signal?.aborted) {
      const hs = await Promise.all(nodes.map((n) => heightOf(n.rpc)));
      if (hs.every((v) => v !== null && v >= acks.maxHeight)) break;
      await sleep(250, o.signal);
    }
    const finalSafety = await checkSafety(nodes);
    await h.sync();
    const finalHistory = h.check(acks);
    const finalProblems = [
      ...safetyProblems(finalSafety),
      ...historyProblems(finalHistory),
      ...Object.entries(finalHistory.unreachable).map(([id, e]) => `${id} unreachable: ${e}`),
    ];
    const ran = results.filter((r) => r.skipped === undefined);
    const recovered = ran.filter((r) => typeof r.recovery?.maxMs === 'number');
    const worst = recovered.length === 0 ? null : Math.max(...recovered.map((r) => r.recovery?.maxMs ?? 0));
    const notRecovered = ran.filter((r) => r.recovery?.maxMs === null).map((r) => r.name);
    const report: FaultMatrixReport = {
      startedAt,
      validators: o.validators,
      loadTxPerSec: o.load,
      faultSeconds: o.faultSeconds,
      recoveryBudgetSec: budgetSec,
      matrix: o.matrix,
      partitions: t.partitionMode,
      diskFullNode: diskNode ?? null,
      cases: results,
      final: {
        safety: {
          checkedHeights: finalSafety.checkedHeights,
          conflictingCommits: finalSafety.conflictingCommits,
          conflicts: finalSafety.conflicts,
        },
        history: finalHistory,
        problems: finalProblems,
      },
      load:
        loadReport === null
          ? null
          : {
              offered: loadReport.offered,
              sent: loadReport.sent,
              accepted: loadReport.accepted,
              notSent: loadReport.notSent,
              rejected: loadReport.rejected,
              committedTxs: loadReport.committedTxs,
              uncommitted: loadReport.uncommitted,
              latencyMs: loadReport.latencyMs,
            },
      worstRecoveryMs: worst,
      loadAverage: { start: loadAtStart, end: Math.round(loadavg()[0]! * 100) / 100 },
      notRecovered,
      ok: !o.signal?.aborted && results.every((r) => r.ok) && finalProblems.length === 0,
    };
    const file = o.reportFile ?? join(dir, 'faults-report.json');
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    out(formatMatrixTable(report));
    out(`report written to ${file}`);
    return report;
  } finally {
    gen?.stop();
    follower?.stop();
    history?.close();
    if (diskDir !== undefined) freeDisk(diskDir);
    await testnet?.shutdown();
    for (const m of mounts.reverse()) {
      const err = unmount(m);
      if (err !== undefined) out(`warning: ${err}`);
    }
  }
}

interface CaseContext {
  t: Testnet;
  nodes: { id: string; rpc: string }[];
  h: ChainHistory;
  acks: AckLog;
  o: FaultMatrixOptions;
  out: (line: string) => void;
  budgetSec: number;
  timeoutMs: number;
  diskDir: string | undefined;
}

async function runCase(c: FaultCase, x: CaseContext): Promise<CaseResult> {
  const { t, out } = x;
  const r: CaseResult = { name: c.name, steps: c.steps, problems: [], notes: [], ok: false };
  r.startedAt = new Date().toISOString();
  out(`case ${c.name}: injecting`);
  const t0 = Date.now();
  try {
    // One after the other, in the listed order: a partition sent to a node that is being killed
    // would fail half-way. Both faults are in place together for the whole hold time.
    for (const s of c.steps) await inject(s, x, r);
  } catch (err) {
    r.problems.push(`injecting failed: ${errorMessage(err)}`);
  }
  await sleep(x.o.faultSeconds * 1000, x.o.signal);
  // The network's head as the fault ends: every node must get past it.
  const heads = await Promise.all(x.nodes.map((n) => heightOf(n.rpc)));
  const headAtEnd = Math.max(0, ...heads.map((v) => v ?? 0));
  const tEnd = Date.now();
  r.faultMs = tEnd - t0;
  out(`case ${c.name}: ending the fault after ${(r.faultMs / 1000).toFixed(1)} s (head ${headAtEnd})`);
  // Quick ends first (resume, heal, free the disk), restarts last: a restart waits until the node
  // answers, and the other faults must not outlast the fault's end meanwhile.
  const ordered = [...c.steps].sort((a, b) => Number(a.action === 'kill') - Number(b.action === 'kill'));
  const ending = (async () => {
    for (const s of ordered) await end(s, x, r);
  })().then(
    () => {
      r.endActionMs = Date.now() - tEnd;
    },
    (err: unknown) => {
      r.problems.push(`ending the fault failed: ${errorMessage(err)}`);
    },
  );
  r.recovery = await measureRecovery(x.nodes, headAtEnd, tEnd, x.timeoutMs, x.budgetSec, x.o.signal);
  await ending;
  const restarted = c.steps.filter((s) => s.action === 'kill' || s.action === 'corrupt-store');
  if (restarted.length > 0) {
    r.restarts = restarted.flatMap((s) =>
      s.nodes.map((id) => ({ node: id, ...lastStartup(x.t.nodes.find((n) => n.id === id)?.home) })),
    );
  }
  if (r.recovery.maxMs === null && c.steps.some((s) => s.action === 'disk-full')) {
    // On this branch a node whose disk filled up does not come back by itself (issue #25 item 1):
    // record that, then see whether a restart brings it back so the final check covers every node.
    const ids = c.steps.flatMap((s) => s.nodes);
    const procs = (t.snapshot() as { nodes: { id: string; proc: string }[] }).nodes
      .filter((n) => ids.includes(n.id))
      .map((n) => `${n.id} process ${n.proc}`);
    r.notes.push(
      `${ids.join(',')} did not recover after the disk was freed (${procs.join(', ')}); restarting it`,
    );
    try {
      await t.control('kill', ids);
      await t.control('restart', ids);
      const again = await measureRecovery(
        x.nodes,
        Math.max(0, ...(await Promise.all(x.nodes.map((n) => heightOf(n.rpc)))).map((v) => v ?? 0)),
        Date.now(),
        x.timeoutMs,
        x.budgetSec,
        x.o.signal,
      );
      r.notes.push(
        again.maxMs === null
          ? 'still not at the head after a restart'
          : `back at the head ${again.maxMs} ms after a restart`,
      );
    } catch (err) {
      // The message carries the node's last log lines: keep its first line and the node's own error.
      const lines = errorMessage(err).split('\n');
      const own = lines.filter((l) => l.startsWith('error ') || l.startsWith('fatal: '));
      r.notes.push(`restart failed: ${[lines[0], ...own].join(' | ')}`);
    }
  }
  const safety = await checkSafety(x.nodes);
  r.safety = {
    checkedHeights: safety.checkedHeights,
    conflictingCommits: safety.conflictingCommits,
    conflicts: safety.conflicts,
  };
  await x.h.sync();
  r.history = x.h.check(x.acks);
  r.problems.push(...safetyProblems(safety), ...historyProblems(r.history));
  for (const [id, e] of Object.entries(r.history.unreachable)) r.problems.push(`${id} unreachable: ${e}`);
  if (r.recovery.maxMs === null) {
    const late = Object.entries(r.recovery.perNodeMs).filter(([, v]) => v === null);
    r.problems.push(
      `not back at height ${r.recovery.target} within ${x.timeoutMs / 1000} s: ${late.map(([id]) => id).join(', ')}`,
    );
  } else if (!r.recovery.withinBudget) {
    r.problems.push(`recovery took ${r.recovery.maxMs} ms (budget ${x.budgetSec} s)`);
  }
  r.ok = r.problems.length === 0;
  out(
    `case ${c.name}: ${r.ok ? 'ok' : `FAILED (${r.problems.join('; ')})`}, recovery ${
      r.recovery.maxMs === null ? 'none' : `${r.recovery.maxMs} ms`
    }`,
  );
  return r;
}

async function inject(s: FaultStep, x: CaseContext, r: CaseResult): Promise<void> {
  switch (s.action) {
    case 'kill':
      await x.t.control('kill', s.nodes);
      return;
    case 'pause':
      await x.t.control('pause', s.nodes);
      return;
    case 'partition':
      await x.t.control('partition', s.nodes);
      return;
    case 'corrupt-store': {
      await x.t.control('kill', s.nodes);
      for (const id of s.nodes) {
        const home = x.t.nodes.find((n) => n.id === id)?.home;
        if (home === undefined) throw new OrdoError('TESTNET_BAD_OPTION', `no node ${id}`);
        r.notes.push(`${id}: ${await damageStore(join(home, 'data', 'db'))}`);
      }
      return;
    }
    case 'disk-full': {
      if (x.diskDir === undefined) throw new OrdoError('TESTNET_NO_DISK', 'no small disk was mounted');
      const bytes = fillDisk(x.diskDir, 64 * 1024 * 1024 * 1024);
      r.notes.push(`filled ${s.nodes.join(',')}'s disk with ${Math.round(bytes / 1024 / 1024)} MiB`);
      return;
    }
  }
}

async function end(s: FaultStep, x: CaseContext, _r: CaseResult): Promise<void> {
  switch (s.action) {
    case 'kill':
    case 'corrupt-store':
      await x.t.control('restart', s.nodes);
      return;
    case 'pause':
      await x.t.control('resume', s.nodes);
      return;
    case 'partition':
      await x.t.control('heal', []);
      return;
    case 'disk-full':
      if (x.diskDir !== undefined) freeDisk(x.diskDir);
      return;
  }
}

/** The start-up figures of a node's latest `node started` log line (empty when not found). */
export function lastStartup(home: string | undefined): {
  startupMs: Record<string, number>;
  startupCpuMs: number | null;
} {
  const none = { startupMs: {}, startupCpuMs: null };
  if (home === undefined) return none;
  let text: string;
  try {
    text = readFileSync(join(home, 'node.log'), 'utf8');
  } catch {
    return none;
  }
  const at = text.lastIndexOf('"msg":"node started"');
  if (at < 0) return none;
  const line = text.slice(
    text.lastIndexOf('\n', at) + 1,
    text.indexOf('\n', at) < 0 ? undefined : text.indexOf('\n', at),
  );
  try {
    const j = JSON.parse(line) as { startupMs?: Record<string, number>; startupCpuMs?: number };
    return { startupMs: j.startupMs ?? {}, startupCpuMs: j.startupCpuMs ?? null };
  } catch {
    return none;
  }
}

/**
 * Damage a stopped node's block store the way a bad disk does (issue #25 item 9): two blocks vanish and
 * one certificate fails its checksum, at a quarter, half and three quarters of the chain. On restart the
 * node must re-fetch them from its peers (ADR 0145); the safety check then compares those heights with
 * every other node's.
 */
export async function damageStore(path: string): Promise<string> {
  const store = await openStore({ path });
  try {
    const head = store.height();
    const [a, b, c] = [0.25, 0.5, 0.75].map((f) => Math.max(1, Math.floor(head * f)));
    await injectDamage(store, { deleteBlocks: [a!, b!], garbleCertificates: [c!] });
    const damaged = (await store.verify()).damagedHeights;
    return `damaged heights ${damaged.join(', ')} of ${head} (blocks deleted, a certificate garbled)`;
  } finally {
    await store.close();
  }
}

/**
 * Poll every node's height (every 250 ms, bounded by `timeoutMs`) until each has reached
 * `headAtEnd + 1`: caught up with the head the network had when the fault ended, and the network has
 * decided at least one more block. Times are from `tEnd`.
 */
async function measureRecovery(
  nodes: { id: string; rpc: string }[],
  headAtEnd: number,
  tEnd: number,
  timeoutMs: number,
  budgetSec: number,
  signal?: AbortSignal,
): Promise<RecoveryResult> {
  const target = headAtEnd + 1;
  const perNodeMs: Record<string, number | null> = Object.fromEntries(nodes.map((n) => [n.id, null]));
  while (Date.now() - tEnd < timeoutMs && !signal?.aborted) {
    const pending = nodes.filter((n) => perNodeMs[n.id] === null);
    if (pending.length === 0) break;
    await Promise.all(
      pending.map(async (n) => {
        const hgt = await heightOf(n.rpc);
        if (hgt !== null && hgt >= target) perNodeMs[n.id] = Date.now() - tEnd;
      }),
    );
    await sleep(250, signal);
  }
  const values = Object.values(perNodeMs);
  const maxMs = values.some((v) => v === null) ? null : Math.max(0, ...(values as number[]));
  return {
    headAtEnd,
    target,
    perNodeMs,
    maxMs,
    withinBudget: maxMs !== null && maxMs <= budgetSec * 1000,
  };
}

function safetyProblems(s: SafetyResult): string[] {
  const out: string[] = [];
  if (s.conflictingCommits > 0) out.push(`${s.conflictingCommits} heights with conflicting blocks`);
  for (const n of s.nodes)
    if (n.error !== undefined) out.push(`${n.id}: safety check could not read it (${n.error})`);
  return out;
}

/** The terminal table: one row per case, then the final check. */
export function formatMatrixTable(r: FaultMatrixReport): string {
  const rows: string[][] = [
    [
      'case',
      'fault s',
      'end s',
      'recovery s',
      'slowest node',
      'safety',
      'acked',
      'once',
      'behind',
      'missing',
      'dup',
      'result',
    ],
  ];
  const s = (ms: number | null | undefined): string =>
    ms === null || ms === undefined ? '-' : (ms / 1000).toFixed(1);
  for (const c of r.cases) {
    if (c.skipped !== undefined) {
      rows.push([c.name, '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', 'skipped']);
      continue;
    }
    const per = Object.entries(c.recovery?.perNodeMs ?? {});
    const slowest = per.reduce<[string, number | null] | undefined>(
      (a, b) => (a === undefined || b[1] === null || (a[1] !== null && b[1] > a[1]) ? b : a),
      undefined,
    );
    rows.push([
      c.name,
      s(c.faultMs),
      s(c.endActionMs),
      c.recovery?.maxMs === null ? 'NONE' : s(c.recovery?.maxMs),
      slowest?.[0] ?? '-',
      c.safety === undefined
        ? '-'
        : c.safety.conflictingCommits === 0
          ? `ok ${c.safety.checkedHeights}h`
          : 'CONFLICT',
      String(c.history?.acknowledged ?? '-'),
      String(c.history?.foundOnce ?? '-'),
      String(c.history?.notYetVisible ?? '-'),
      String(c.history?.missing ?? '-'),
      String(c.history?.duplicated ?? '-'),
      c.ok ? 'ok' : 'FAIL',
    ]);
  }
  const f = r.final;
  rows.push([
    'final (load drained)',
    '',
    '',
    '',
    '',
    f.safety.conflictingCommits === 0 ? `ok ${f.safety.checkedHeights}h` : 'CONFLICT',
    String(f.history?.acknowledged ?? '-'),
    String(f.history?.foundOnce ?? '-'),
    String(f.history?.notYetVisible ?? '-'),
    String(f.history?.missing ?? '-'),
    String(f.history?.duplicated ?? '-'),
    f.problems.length === 0 ? 'ok' : 'FAIL',
  ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]): string =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const lines = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  for (const c of r.cases) {
    if (c.skipped !== undefined) lines.push(`  ${c.name}: skipped: ${c.skipped}`);
    for (const p of c.problems) lines.push(`  ${c.name}: ${p}`);
    for (const n of c.notes) lines.push(`  ${c.name}: note: ${n}`);
    for (const st of c.restarts ?? []) {
      const ms = st.startupMs;
      const total = Object.values(ms).reduce((a, b) => a + b, 0);
      const top = Object.entries(ms)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`)
        .join(', ');
      if (total > 0)
        lines.push(
          `  ${c.name}: ${st.node} started in ${(total / 1000).toFixed(1)} s (${top}), CPU ${
            st.startupCpuMs === null ? '-' : `${(st.startupCpuMs / 1000).toFixed(1)} s`
          }`,
        );
    }
  }
  for (const p of f.problems) lines.push(`  final: ${p}`);
  if (r.load !== null) {
    const rej = Object.values(r.load.rejected).reduce((a, b) => a + b, 0);
    lines.push(
      `load: offered ${r.load.offered}, accepted ${r.load.accepted}, rejected ${rej}, not sent ${r.load.notSent}, ` +
        `committed ${r.load.committedTxs}, accepted but never seen committed ${r.load.uncommitted} ` +
        `(an admission is not a commit acknowledgement), p50 ${r.load.latencyMs.p50} ms, p99 ${r.load.latencyMs.p99} ms`,
    );
  }
  lines.push(
    `fault matrix ${r.ok ? 'PASSED' : 'FAILED'}: ${r.cases.filter((c) => c.skipped === undefined).length} cases run, ` +
      `${r.cases.filter((c) => c.skipped !== undefined).length} skipped, worst recovery ${
        r.worstRecoveryMs === null ? '-' : `${(r.worstRecoveryMs / 1000).toFixed(1)} s`
      } (budget ${r.recoveryBudgetSec} s), load average ${r.loadAverage.start}→${r.loadAverage.end}, partitions by ${r.partitions === 'netns' ? 'network namespaces' : 'the admin RPC'}${
        r.notRecovered.length > 0 ? `; not recovered: ${r.notRecovered.join(', ')}` : ''
      }`,
  );
  return lines.join('\n');
}
