/**
 * The local testnet orchestrator behind `ordo testnet up` (and `npm start`).
 *
 *   setupNetwork (testnet/setup.ts)   homes, keys, one genesis, configs, free ports
 *   NodeProcess × N (process.ts)      one OS process per node, own process group, watchdog pipe
 *   status poller                     ordo_status of every node once a second
 *   BlockFollower (src/loadgen)       every committed block once, shared by load, dashboard and report
 *   LoadGenerator (src/loadgen)       optional open-loop load over every node
 *   bundle load (src/loadgen)         optional signed bundles (--bundles-per-sec), followed by WebSocket,
 *                                     and the atomicity check that reads every leg's effect at the end
 *   control server (node:http)        dashboard page, server-sent events, the control API the
 *                                     `ordo testnet kill|restart|…` commands call (token-guarded)
 *   report                            load figures + node heads + safety check (testnet/safety.ts)
 *   network namespaces (--netns)      optional (root): every node in its own namespace (netns.ts), and
 *                                     partitions drop packets there instead of using the admin RPC
 *
 * Every child is stopped on every exit path: normal end, Ctrl-C (first: graceful, second: SIGKILL),
 * errors, and — through the watchdog pipe — even when this process is killed outright.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DEMO_ACCOUNTS, DEMO_BUNDLE_ACCOUNTS } from '../src/config/index.ts';
import { errorMessage, OrdoError } from '../src/errors.ts';
import type { LatencySummary } from '../src/loadgen/index.ts';
import {
  BlockFollower,
  type BundleLoadSummary,
  type BundleSendReport,
  checkBundleEffects,
  chooseRollups,
  DEMO_EVM_CHAIN_ID,
  emptyBundleSendReport,
  type FollowedBlock,
  type LiveLoad,
  LoadGenerator,
  type LoadReport,
  payloadSourceFor,
  type RollupInfo,
  runBundleLoad,
  summarizeBundleLoad,
} from '../src/loadgen/index.ts';
import { rpcCall } from '../src/rpc/index.ts';
import { DashboardHistory } from './history.ts';
import { MarketFeed } from './market-feed.ts';
import { NetnsLab, probeNetns } from './netns.ts';
import { NodeProcess, REPO_ROOT } from './process.ts';
import { checkSafety, type SafetyResult } from './safety.ts';
import { checkPorts, type NetworkLayout, type NodeLayout, nodeIds, setupNetwork } from './setup.ts';
import { removeState, writeState } from './state.ts';

export interface UpOptions {
  dir: string;
  validators: number;
  fullNodes: number;
  rollups: number;
  basePort: number;
  /** Offered tx/s; 0 = no load. */
  load: number;
  /** Namespaces to load; default: every rollup at light load (<= 500 tx/s), else the opaque ones. */
  loadNamespaces?: number[];
  /** The load generator submits protobuf batches (`POST /ordo/v1/tx-batch`) instead of JSON-RPC. */
  batchSubmit?: boolean;
  /** Signed bundles offered per second over the executed rollups (0 or absent: none). */
  bundlesPerSec?: number;
  /** Share of bundles touching two rollups (default 0.5). */
  bundleCrossShare?: number;
  /** Share of bundles built to fail (default 0.1). */
  bundleFailShare?: number;
  sizeBytes: number;
  /** Stop by itself after this many seconds (after the warm-up) and write the report. */
  durationSec?: number;
  /** Seconds of load before the measured window starts (default 0). */
  warmupSec?: number;
  reportFile?: string;
  /** Dashboard/control port on 127.0.0.1; 0 = any free port. */
  dashboardPort: number;
  progressMs?: number;
  out?: (line: string) => void;
  signal?: AbortSignal;
  /** Extra node config sections (tests use it for faster timeouts). */
  nodeConfig?: Record<string, Record<string, unknown>>;
  /** Genesis without the `auction` section: the auction is disabled on every node (`--no-auction`). */
  noAuction?: boolean;
  /** Skip the report's safety check (not recommended; for quick demos). */
  skipSafety?: boolean;
  /** How long `up` waits for every node to commit its first blocks (default 60 s). */
  firstBlocksTimeoutMs?: number;
  /** Called once the homes are written, before any node starts (the fault matrix mounts a small disk). */
  beforeSpawn?: (net: NetworkLayout) => Promise<void>;
  /**
   * Every node in a network namespace of its own, partitions by dropping packets (testnet/netns.ts).
   * Where that is not possible (not root, no `ip`/`iptables`) the testnet says why and falls back to
   * loopback and admin-RPC partitions.
   */
  netns?: boolean;
  /** With netns: one-way delay added on every node's interface (tc netem), ms (default 0). */
  netnsDelayMs?: number;
}

export interface TestnetReport {
  validators: number;
  fullNodes: number;
  rollups: { namespace: number; name: string; kind: string }[];
  durationSec: number;
  offeredTxPerSec: number;
  committedTxs: number;
  txPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number };
  nodes: { id: string; height: number | null; headHash: string | null; error?: string }[];
  safety: {
    checkedHeights: number;
    conflictingCommits: number;
    conflicts: SafetyResult['conflicts'];
    tookMs: number;
  };
  load: LoadReport | null;
  /** The bundle load's figures and atomicity check (null without --bundles-per-sec). */
  bundles: BundleLoadSummary | null;
  blocks: { count: number; txs: number };
  faults: FaultEvent[];
}

export interface FaultEvent {
  t: number;
  action: string;
  nodes: string[];
  ok: boolean;
  message: string;
}

export type ControlAction =
  | 'kill'
  | 'restart'
  | 'pause'
  | 'resume'
  | 'partition'
  | 'heal'
  | 'status'
  | 'down';
export const CONTROL_ACTIONS: ControlAction[] = [
  'kill',
  'restart',
  'pause',
  'resume',
  'partition',
  'heal',
  'status',
  'down',
];

interface NodeView {
  layout: NodeLayout;
  proc: NodeProcess;
  status: Record<string, unknown> | null;
  error: string | null;
  hist: { t: number; h: number }[];
}

/** `up` returns once every node has committed this many blocks (the network is deciding, not just listening). */
const FIRST_HEIGHTS = 2;

/**
 * Node.js options for the node processes only (not the orchestrator), from `ORDO_TESTNET_NODE_OPTIONS`,
 * e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile every node under load (bench/testnet.ts
 * `--cpu-prof DIR` sets it). Passed as the nodes' NODE_OPTIONS, so Node.js itself checks them.
 */
export function nodeOptionsEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const v = env.ORDO_TESTNET_NODE_OPTIONS?.trim();
  return v === undefined || v === '' ? {} : { NODE_OPTIONS: v };
}
/**
 * Node.js's compile cache for the node processes and their worker threads (`NODE_COMPILE_CACHE`, one
 * directory under the testnet dir, kept across runs; entries are keyed by source hash and Node version).
 * A restarted node then reuses the compiled code of its module graph: measured here, 20 % less
 * start-up CPU (median 2.13 s → 1.71 s, 5 alternating starts at load average ~10). Start-up CPU is what
 * a kill-restart waits for on a loaded machine (ADR 0185). An inherited NODE_COMPILE_CACHE is kept; `ORDO_TESTNET_COMPILE_CACHE=0` turns it off.
 */
export function compileCacheEnv(dir: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (env.ORDO_TESTNET_COMPILE_CACHE === '0') return {};
  return { NODE_COMPILE_CACHE: env.NODE_COMPILE_CACHE ?? join(dir, 'compile-cache') };
}
const DASHBOARD_HTML = join(REPO_ROOT, 'testnet', 'dashboard', 'index.html');
/** uPlot, served from node_modules (no CDN): the dashboard's charts. */
const VENDOR: Record<string, { file: string; type: string }> = {
  '/vendor/uPlot.iife.min.js': {
    file: join(REPO_ROOT, 'node_modules', 'uplot', 'dist', 'uPlot.iife.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  '/vendor/uPlot.min.css': {
    file: join(REPO_ROOT, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'),
    type: 'text/css; charset=utf-8',
  },
};

export class Testnet {
  readonly o: UpOptions;
  readonly net: NetworkLayout;
  readonly token = randomBytes(16).toString('hex');
  readonly #nodes: NodeView[];
  readonly #blocks: (FollowedBlock & { perRollup: Record<string, number> })[] = [];
  readonly #txCount = new Map<number, number>();
  readonly #events: FaultEvent[] = [];
  readonly #blocked = new Map<string, string[]>();
  /** The nodes' network namespaces (--netns), or undefined: loopback and admin-RPC partitions. */
  readonly #lab: NetnsLab | undefined;
  readonly #sse = new Set<ServerResponse>();
  readonly #history: DashboardHistory;
  /** Bundles (/metrics) and auction (ordo_getAuction) panels, read from one running node. */
  readonly #market = new MarketFeed();
  readonly #out: (line: string) => void;
  #follower: BlockFollower | undefined;
  #load: LoadGenerator | undefined;
  #loadRun: Promise<LoadReport> | undefined;
  #bundleLive: BundleSendReport | undefined;
  #bundleRun: Promise<BundleSendReport> | undefined;
  #bundleStop: AbortController | undefined;
  #bundleStartedAt = 0;
  #bundleEndedAt = 0;
  #server: Server | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #progressTimer: NodeJS.Timeout | undefined;
  #startedAt = Date.now();
  #blockCount = 0;
  #blockTxs = 0;
  #stopping = false;
  #downRequested: (() => void) | undefined;
  readonly #exitHook = (): void => {
    for (const n of this.#nodes) n.proc.killNow();
    this.#lab?.destroy();
  };

  private constructor(o: UpOptions, net: NetworkLayout, lab: NetnsLab | undefined) {
    this.o = o;
    this.net = net;
    this.#lab = lab;
    this.#out = o.out ?? ((l) => process.stdout.write(`${l}\n`));
    this.#history = new DashboardHistory(net.genesis.validators);
    this.#nodes = net.nodes.map((layout) => ({
      layout,
      proc: new NodeProcess({
        id: layout.id,
        home: layout.home,
        rpc: layout.rpc,
        env: { ORDO_ADMIN_RPC: '1', ...compileCacheEnv(net.dir), ...nodeOptionsEnv() },
        ...(lab !== undefined ? { netns: lab.nsOf(layout.id) } : {}),
      }),
      status: null,
      error: null,
      hist: [],
    }));
  }

  /** Generate the network, start every node and wait until all answer; throws (after cleanup) on failure. */
  static async up(o: UpOptions): Promise<Testnet> {
    const count = o.validators + o.fullNodes;
    const out = o.out ?? ((l: string) => process.stdout.write(`${l}\n`));
    let lab: NetnsLab | undefined;
    if (o.netns === true) {
      const probe = probeNetns();
      if (!probe.ok) {
        out(
          `--netns: ${probe.reason}; falling back to nodes on 127.0.0.1 and partitions through the admin RPC (each node's connection gater)`,
        );
      } else {
        let delayMs = o.netnsDelayMs ?? 0;
        if (delayMs > 0 && !probe.tc) {
          out('--netns-delay: no `tc` command here; running without added latency');
          delayMs = 0;
        }
        lab = NetnsLab.create({ nodes: nodeIds(o.validators, o.fullNodes).map((n) => n.id), delayMs });
      }
    }
    let net: NetworkLayout;
    try {
      // In namespaces every node has its own ports; only the dashboard's is on this namespace's loopback.
      await checkPorts({
        basePort: o.basePort,
        count: lab === undefined ? count : 0,
        extra: [{ port: o.dashboardPort, what: 'dashboard (--dashboard)' }],
      });
      net = await setupNetwork({
        dir: o.dir,
        validators: o.validators,
        fullNodes: o.fullNodes,
        rollups: o.rollups,
        basePort: o.basePort,
        ...(o.nodeConfig !== undefined ? { config: o.nodeConfig } : {}),
        ...(o.noAuction === true ? { noAuction: true } : {}),
        ...(lab !== undefined
          ? { hosts: nodeIds(o.validators, o.fullNodes).map((n) => lab.ipOf(n.id)) }
          : {}),
      });
    } catch (err) {
      lab?.destroy();
      throw err;
    }
    const t = new Testnet(o, net, lab);
    process.on('exit', t.#exitHook);
    try {
      await o.beforeSpawn?.(net);
      await t.#startServer();
      for (const n of t.#nodes) n.proc.spawn();
      t.#saveState();
      t.#out(`starting ${count} nodes (logs in ${net.dir}/nodes/<id>/node.log) ...`);
      await Promise.all(t.#nodes.map((n) => n.proc.waitReady()));
      t.#saveState();
      await t.#waitForBlocks(FIRST_HEIGHTS, o.firstBlocksTimeoutMs ?? 60_000);
      t.#follower = new BlockFollower({ urls: t.#nodes.map((n) => n.layout.rpc), fromHeight: 0 });
      t.#follower.onBlock((b) => t.#onBlock(b));
      await t.#follower.start();
      t.#poll();
      t.#printAddresses();
    } catch (err) {
      await t.shutdown();
      throw err;
    }
    return t;
  }

  get dashboardUrl(): string {
    return `http://127.0.0.1:${(this.#server?.address() as AddressInfo | null)?.port ?? 0}`;
  }

  /** How partitions are made: packets dropped between network namespaces, or each node's connection gater. */
  get partitionMode(): 'netns' | 'admin-rpc' {
    return this.#lab === undefined ? 'admin-rpc' : 'netns';
  }

  get nodes(): NodeLayout[] {
    return this.net.nodes;
  }

  /**
   * Run until the duration elapses, the signal aborts or `down` is requested; then stop the load, build
   * the report (when a duration or report file was given), stop every node and return the report.
   */
  async run(): Promise<TestnetReport | undefined> {
    const o = this.o;
    const durationMs =
      o.durationSec === undefined ? Number.POSITIVE_INFINITY : (o.durationSec + (o.warmupSec ?? 0)) * 1000;
    const t0 = Date.now();
    this.#startLoad();
    this.#progressTimer = setInterval(() => this.#progress(), o.progressMs ?? 2000);
    let report: TestnetReport | undefined;
    try {
      await new Promise<void>((resolve) => {
        this.#downRequested = resolve;
        if (Number.isFinite(durationMs)) setTimeout(resolve, durationMs);
        if (o.signal?.aborted) resolve();
        o.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
      const windowSec = Math.round((Date.now() - t0) / 100) / 10;
      this.#load?.stop();
      this.#bundleStop?.abort();
      const loadReport = this.#loadRun === undefined ? null : await this.#loadRun;
      const bundleReport = this.#bundleRun === undefined ? undefined : await this.#bundleRun;
      if (o.durationSec !== undefined || o.reportFile !== undefined) {
        this.#out('collecting the report (node heads, bundle atomicity and safety check) ...');
        const bundles = bundleReport === undefined ? null : await this.#bundleSummary(bundleReport, true);
        report = await this.#report(windowSec, loadReport, bundles);
        const file = o.reportFile ?? join(this.net.dir, 'report.json');
        writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
        this.#out(summarizeReport(report, file));
      }
    } finally {
      await this.shutdown();
    }
    return report;
  }

  /** Stop everything: load, pollers, nodes (gracefully, then SIGKILL), the control server, the state file. */
  async shutdown(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#load?.stop();
    this.#bundleStop?.abort();
    if (this.#progressTimer !== undefined) clearInterval(this.#progressTimer);
    if (this.#pollTimer !== undefined) clearTimeout(this.#pollTimer);
    this.#follower?.stop();
    this.#out('stopping nodes ...');
    await Promise.all(this.#nodes.map((n) => n.proc.stop()));
    for (const r of this.#sse) r.end();
    this.#sse.clear();
    const server = this.#server;
    if (server !== undefined) {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
    removeState(this.net.dir);
    for (const p of this.#lab?.destroy() ?? []) this.#out(`warning: ${p}`);
    process.off('exit', this.#exitHook);
    this.#out('testnet stopped');
  }

  /** Hard stop (second Ctrl-C). */
  killAll(): void {
    for (const n of this.#nodes) n.proc.killNow();
  }

  // ------------------------------------------------------------------ load

  /**
   * Default mix at light load over every rollup: executed kinds get a small share (EVM 1/40, transfer
   * 4/40, opaque the rest) because their execution costs milliseconds per transaction on the commit
   * path; an even split would overload the EVM lane long before the network (docs/testnet.md).
   */
  #loadWeights(rollups: RollupInfo[]): number[] | undefined {
    if (this.o.loadNamespaces !== undefined) return undefined;
    if (!rollups.some((r) => r.kind !== 'opaque')) return undefined;
    const opaque = rollups.filter((r) => r.kind === 'opaque').length || 1;
    return rollups.map((r) => (r.kind === 'evm' ? 1 : r.kind === 'transfer' ? 4 : 35 / opaque));
  }

  #loadRollups(): RollupInfo[] {
    const registry: RollupInfo[] = this.net.genesis.rollups.map((r) => ({
      namespace: r.namespace,
      kind: r.kind,
      ...(r.evmChainId !== undefined ? { evmChainId: r.evmChainId } : {}),
    }));
    const ns = this.o.loadNamespaces ?? (this.o.load <= 500 ? registry.map((r) => r.namespace) : undefined);
    return chooseRollups(registry, ns, DEMO_EVM_CHAIN_ID);
  }

  /**
   * Demo accounts the background load signs with, and the bundle senders': the accounts reserved for
   * bundles (DEMO_BUNDLE_ACCOUNTS, past the background's) when the genesis funds them in every executed
   * rollup, and the background's too when it signs in no executed rollup (more senders for the closed-
   * loop bundle load, ADR 0352); else, as with an older genesis, the last quarter of the background's
   * when both sign in executed rollups, or all of them.
   */
  #accountSplit(rollups: RollupInfo[]): { background: number; bundles: number[] } {
    const executed = this.net.genesis.rollups.filter((r) => r.kind === 'transfer' || r.kind === 'evm');
    const funded = Math.min(...executed.map((r) => r.alloc?.length ?? 0));
    const shared = this.o.load > 0 && rollups.some((r) => r.kind !== 'opaque');
    if (executed.length > 0 && funded >= DEMO_ACCOUNTS + DEMO_BUNDLE_ACCOUNTS) {
      const from = shared ? DEMO_ACCOUNTS : 0;
      return {
        background: DEMO_ACCOUNTS,
        bundles: Array.from({ length: DEMO_ACCOUNTS + DEMO_BUNDLE_ACCOUNTS - from }, (_, i) => from + i),
      };
    }
    const all = Array.from({ length: DEMO_ACCOUNTS }, (_, i) => i);
    const bundles = (this.o.bundlesPerSec ?? 0) > 0;
    if (!bundles || !shared) return { background: DEMO_ACCOUNTS, bundles: all };
    // Both sign in executed rollups: the last quarter of the demo accounts is the bundle senders'.
    const split = DEMO_ACCOUNTS - DEMO_ACCOUNTS / 4;
    return { background: split, bundles: all.slice(split) };
  }

  #startBundles(accounts: number[]): void {
    const rate = this.o.bundlesPerSec ?? 0;
    if (rate <= 0) return;
    const rollups = this.net.genesis.rollups
      .filter((r) => r.kind === 'transfer' || r.kind === 'evm')
      .map((r) => ({
        namespace: r.namespace,
        kind: r.kind,
        ...(r.evmChainId !== undefined ? { evmChainId: r.evmChainId } : {}),
      }));
    if (rollups.length === 0) {
      this.#out('bundle load: the genesis has no executed rollup; no bundles');
      return;
    }
    const durationMs =
      this.o.durationSec === undefined
        ? Number.MAX_SAFE_INTEGER
        : (this.o.durationSec + (this.o.warmupSec ?? 0)) * 1000;
    this.#bundleStop = new AbortController();
    this.#bundleLive = emptyBundleSendReport();
    this.#bundleStartedAt = Date.now();
    const crossShare = this.o.bundleCrossShare ?? 0.5;
    const failShare = this.o.bundleFailShare ?? 0.1;
    this.#bundleRun = runBundleLoad({
      urls: this.#nodes.filter((n) => n.layout.role === 'validator').map((n) => n.layout.rpc),
      chainId: this.net.chainId,
      rollups,
      accounts,
      rate,
      durationMs,
      crossShare,
      failShare,
      call: rpcCall,
      drainMs: 5_000,
      signal: this.#bundleStop.signal,
      into: this.#bundleLive,
      // Bundles expire 30 heights on: one the proposers leave out is dropped and its sender freed.
      height: () => this.#blocks.at(-1)?.height ?? 0,
    }).finally(() => {
      this.#bundleEndedAt = Date.now();
    });
    this.#out(
      `bundles: ${rate}/s signed, ${Math.round(crossShare * 100)}% cross-rollup, ${Math.round(failShare * 100)}% built to fail, over namespaces ${rollups
        .map((r) => `${r.namespace} (${r.kind})`)
        .join(', ')} (${accounts.length} sender accounts)`,
    );
  }

  /** The bundle figures; `check` reads every leg's effect back (end of run, nodes still up). */
  async #bundleSummary(s: BundleSendReport, check: boolean): Promise<BundleLoadSummary> {
    const end = this.#bundleEndedAt > 0 ? this.#bundleEndedAt : Date.now();
    const windowSec = Math.max(0, (end - this.#bundleStartedAt) / 1000);
    let atomicity = null;
    const url = this.#nodes.find((n) => n.proc.alive)?.layout.rpc;
    if (check && url !== undefined) {
      try {
        atomicity = await checkBundleEffects(url, s, this.net.genesis.rollups, rpcCall);
      } catch (err) {
        this.#out(`bundle atomicity check failed: ${errorMessage(err)}`);
      }
    }
    return summarizeBundleLoad(s, this.o.bundlesPerSec ?? 0, windowSec, atomicity);
  }

  #startLoad(): void {
    const split = this.#accountSplit(this.#loadRollups());
    this.#startBundles(split.bundles);
    if (this.o.load <= 0 || this.#follower === undefined) return;
    const rollups = this.#loadRollups();
    const weights = this.#loadWeights(rollups);
    this.#load = new LoadGenerator({
      ...(weights !== undefined ? { weights } : {}),
      urls: this.#nodes.map((n) => n.layout.rpc),
      rate: this.o.load,
      durationSec: this.o.durationSec ?? Number.POSITIVE_INFINITY,
      warmupSec: this.o.warmupSec ?? 0,
      sources: rollups.map((r) => payloadSourceFor(r, this.o.sizeBytes, split.background)),
      follower: this.#follower,
      ...(this.o.batchSubmit === true ? { binary: true } : {}),
    });
    this.#out(
      `load: ${this.o.load} tx/s open-loop${this.o.batchSubmit === true ? ' (binary batches)' : ''} over namespaces ${rollups
        .map((r, i) => {
          const share =
            weights === undefined
              ? ''
              : ` ${Math.round((100 * (weights[i] ?? 0)) / weights.reduce((a, b) => a + b, 0))}%`;
          return `${r.namespace} (${r.kind}${share})`;
        })
        .join(', ')}`,
    );
    this.#loadRun = this.#load.run();
  }

  /**
   * Wait until every node has committed `minHeight` blocks: answering `ordo_status` only means a node is
   * listening, not that its peers are connected and consensus is deciding. Load offered before then
   * piles up in the pools and the first blocks are full, cold and slow, which is not what `up` promises.
   */
  async #waitForBlocks(minHeight: number, timeoutMs: number): Promise<void> {
    this.#out(`waiting for every node to commit height ${minHeight} ...`);
    const deadline = Date.now() + timeoutMs;
    const heights = new Map<string, number>();
    while (Date.now() < deadline) {
      await Promise.all(
        this.#nodes.map(async (n) => {
          if (!n.proc.alive) {
            throw new OrdoError(
              'TESTNET_NODE_EXITED',
              `${n.layout.id} exited during start-up (${n.proc.describeExit()}); last log lines:\n${n.proc.tail(15)}`,
            );
          }
          try {
            const st = (await rpcCall(n.layout.rpc, 'ordo_status', [], 1000)) as { height?: number };
            heights.set(n.layout.id, Number(st.height ?? 0));
          } catch {
            // Busy or restarting: asked again on the next turn.
          }
        }),
      );
      if (this.#nodes.every((n) => (heights.get(n.layout.id) ?? 0) >= minHeight)) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    const seen = this.#nodes.map((n) => `${n.layout.id}=${heights.get(n.layout.id) ?? '?'}`).join(' ');
    throw new OrdoError(
      'TESTNET_NO_BLOCKS',
      `not every node committed height ${minHeight} within ${timeoutMs} ms (heights ${seen}); see the nodes' logs in ${this.net.dir}/nodes/<id>/node.log`,
    );
  }

  // ------------------------------------------------------------------ observation

  #onBlock(b: FollowedBlock): void {
    const perRollup: Record<string, number> = {};
    for (const tx of b.txs) perRollup[tx.namespace] = (perRollup[tx.namespace] ?? 0) + 1;
    this.#blocks.push({ ...b, txs: [], perRollup });
    if (this.#blocks.length > 30) this.#blocks.shift();
    this.#txCount.set(b.height, b.txs.length);
    if (this.#txCount.size > 20_000) {
      const first = this.#txCount.keys().next().value;
      if (first !== undefined) this.#txCount.delete(first);
    }
    this.#blockCount++;
    this.#blockTxs += b.txs.length;
    this.#history.onBlock(b);
  }

  #poll(): void {
    if (this.#stopping) return;
    void Promise.all(
      this.#nodes.map(async (n) => {
        if (!n.proc.alive || n.proc.state === 'paused') {
          n.status = n.proc.state === 'paused' ? n.status : null;
          n.error =
            n.proc.state === 'paused' ? 'paused' : `process ${n.proc.state} (${n.proc.describeExit()})`;
          return;
        }
        try {
          n.status = (await rpcCall(n.layout.rpc, 'ordo_status', [], 900)) as Record<string, unknown>;
          n.error = null;
          const now = Date.now();
          n.hist.push({ t: now, h: Number(n.status.height ?? 0) });
          while (n.hist.length > 0 && (n.hist[0]?.t ?? 0) < now - 6000) n.hist.shift();
        } catch (err) {
          n.error = errorMessage(err);
        }
      }),
    ).then(() => {
      this.#sampleHistory();
      this.#tickMarket();
      this.#broadcast();
      this.#pollTimer = setTimeout(() => this.#poll(), 1000);
    });
  }

  #sampleHistory(): void {
    const mempools = this.#nodes
      .filter((n) => n.proc.alive && n.error === null && n.status !== null)
      .map(
        (n) =>
          (n.status as { mempool?: { txs: number; lanes: { namespace: number; txs: number }[] } }).mempool,
      )
      .filter((m) => m !== undefined);
    const live = this.#load?.live();
    this.#history.sample({
      mempools,
      load: live === undefined ? null : { pending: live.pending, latencyMs: live.latencyMs },
    });
  }

  /** The dashboard's bundles and auction feeds read the first running node that answered. */
  #tickMarket(): void {
    const n = this.#nodes.find((x) => x.proc.alive && x.proc.state !== 'paused' && x.error === null);
    const height = Number((n?.status as { height?: number } | null)?.height ?? 0);
    if (n !== undefined) this.#market.tick({ id: n.layout.id, rpc: n.layout.rpc, height });
  }

  #nodeTxPerSec(n: NodeView): number {
    const a = n.hist[0];
    const b = n.hist[n.hist.length - 1];
    if (a === undefined || b === undefined || b.t <= a.t) return 0;
    let txs = 0;
    for (let h = a.h + 1; h <= b.h; h++) txs += this.#txCount.get(h) ?? 0;
    return Math.round((txs * 1000) / (b.t - a.t));
  }

  snapshot(): Record<string, unknown> {
    const live: LiveLoad | null = this.#load?.live() ?? null;
    return {
      chainId: this.net.chainId,
      startedAt: new Date(this.#startedAt).toISOString(),
      uptimeSec: Math.round((Date.now() - this.#startedAt) / 1000),
      rollups: this.net.genesis.rollups.map((r) => ({ namespace: r.namespace, name: r.name, kind: r.kind })),
      nodes: this.#nodes.map((n, i) => {
        const s = n.status as {
          height?: number;
          round?: number;
          step?: string;
          peers?: number;
          mempool?: {
            txs: number;
            bytes: number;
            lanes: { namespace: number; txs: number; bytes: number }[];
          };
        } | null;
        const lat: LatencySummary | undefined = live?.perTarget[i]?.latencyMs;
        return {
          id: n.layout.id,
          role: n.layout.role,
          rpc: n.layout.rpc,
          grpc: n.layout.grpc,
          pid: n.proc.pid ?? null,
          proc: n.proc.state,
          height: s?.height ?? null,
          round: s?.round ?? null,
          step: s?.step ?? null,
          peers: s?.peers ?? null,
          mempool: s?.mempool ?? null,
          txPerSec: this.#nodeTxPerSec(n),
          latencyMs: lat !== undefined && lat.count > 0 ? { p50: lat.p50, p99: lat.p99 } : null,
          blocked: this.#blocked.get(n.layout.id)?.length ?? 0,
          error: n.error,
        };
      }),
      blocks: [...this.#blocks].reverse().map((b) => ({
        height: b.height,
        hash: b.hash,
        round: b.round,
        proposer: b.proposer,
        proposerName: this.#history.nameOf(b.proposer),
        txCount: Object.values(b.perRollup).reduce((x, y) => x + y, 0),
        perRollup: b.perRollup,
        bundles: b.bundles,
        observedAt: b.observedAt,
      })),
      // testnet/market-feed.ts: bundle rates and pre-confirmation latency, auction slots.
      bundleStats: this.#market.bundles.toJSON(),
      auction: this.#market.auction.toJSON(),
      load: live,
      // Live bundle figures (no atomicity check until the end of the run): docs/testnet.md.
      bundleLoad: this.#bundleLiveSummary(),
      history: this.#history.toJSON(),
      events: this.#events.slice(-20).reverse(),
    };
  }

  #bundleLiveSummary(): BundleLoadSummary | null {
    const s = this.#bundleLive;
    if (s === undefined) return null;
    const end = this.#bundleEndedAt > 0 ? this.#bundleEndedAt : Date.now();
    return summarizeBundleLoad(s, this.o.bundlesPerSec ?? 0, (end - this.#bundleStartedAt) / 1000, null);
  }

  #progress(): void {
    const hs = this.#nodes
      .map((n) => {
        const h = (n.status as { height?: number } | null)?.height;
        const mark = n.proc.state === 'running' ? '' : `(${n.proc.state})`;
        return `${n.layout.id}=${h ?? '-'}${mark}`;
      })
      .join(' ');
    const l = this.#load?.live();
    const el = Math.round((Date.now() - this.#startedAt) / 1000);
    const load =
      l === undefined
        ? ''
        : ` | load ${this.o.load} tx/s: committed ${l.committed} (${l.committedTxPerSec.toFixed(0)} tx/s) ` +
          `pending ${l.pending} notSent ${l.notSent} rejected ${l.rejectedTotal} p50 ${l.latencyMs.p50} ms p99 ${l.latencyMs.p99} ms`;
    const b = this.#bundleLiveSummary();
    const bundles =
      b === null
        ? ''
        : ` | bundles ${b.bundlesPerSec}/s applied ${b.applied} voided ${b.voided} pre-confirmation p50 ${b.preconfirmMs.p50} ms p99 ${b.preconfirmMs.p99} ms`;
    this.#out(`[${el}s] heights ${hs}${load}${bundles}`);
  }

  #printAddresses(): void {
    const lines = [`testnet ${this.net.chainId} is up: ${this.#nodes.length} nodes`];
    for (const n of this.#nodes) {
      const l = n.layout;
      lines.push(
        `  ${l.id.padEnd(7)} ${l.role.padEnd(9)} rpc ${l.rpc}  grpc ${l.grpc}  p2p ${l.p2p.split('/p2p/')[0]}  pid ${n.proc.pid}`,
      );
    }
    const first = this.#nodes[0]?.layout.rpc;
    for (const r of this.net.genesis.rollups) {
      if (r.kind === 'evm' && first !== undefined)
        lines.push(
          `  ethereum rpc ${r.name} (chain id ${r.evmChainId}): ${first.replace(/\/+$/, '')}/evm/${r.namespace} (every node serves /evm/${r.namespace})`,
        );
    }
    const lab = this.#lab;
    if (lab !== undefined)
      lines.push(
        `  network namespaces ${lab.hub} (bridge) and ${this.#nodes.map((n) => lab.nsOf(n.layout.id)).join(', ')}; this namespace is ${lab.rootIp}`,
      );
    lines.push(`  dashboard ${this.dashboardUrl}`);
    lines.push(
      `control: ordo testnet kill|restart|pause|resume|partition|heal NODE... --dir ${this.o.dir}; Ctrl-C stops everything`,
    );
    this.#out(lines.join('\n'));
  }

  // ------------------------------------------------------------------ report

  async #report(
    windowSec: number,
    load: LoadReport | null,
    bundles: BundleLoadSummary | null,
  ): Promise<TestnetReport> {
    for (const n of this.#nodes) if (n.proc.state === 'paused') n.proc.resume();
    const safety: SafetyResult = this.o.skipSafety
      ? { checkedHeights: 0, conflictingCommits: 0, conflicts: [], nodes: [], tookMs: 0 }
      : await checkSafety(
          this.#nodes.filter((n) => n.proc.alive).map((n) => ({ id: n.layout.id, rpc: n.layout.rpc })),
        );
    const heads = this.#nodes.map((n) => {
      const s = safety.nodes.find((x) => x.id === n.layout.id);
      if (s !== undefined) return s;
      return { id: n.layout.id, height: null, headHash: null, error: `process ${n.proc.state}` };
    });
    return {
      validators: this.o.validators,
      fullNodes: this.o.fullNodes,
      rollups: this.net.genesis.rollups.map((r) => ({ namespace: r.namespace, name: r.name, kind: r.kind })),
      durationSec: load?.durationSec ?? windowSec,
      offeredTxPerSec: this.o.load,
      committedTxs: load?.committedTxs ?? this.#blockTxs,
      txPerSec: load?.txPerSec ?? (windowSec > 0 ? Math.round((this.#blockTxs / windowSec) * 10) / 10 : 0),
      latencyMs: {
        p50: load?.latencyMs.p50 ?? 0,
        p90: load?.latencyMs.p90 ?? 0,
        p99: load?.latencyMs.p99 ?? 0,
      },
      nodes: heads,
      safety: {
        checkedHeights: safety.checkedHeights,
        conflictingCommits: safety.conflictingCommits,
        conflicts: safety.conflicts,
        tookMs: safety.tookMs,
      },
      load,
      bundles,
      blocks: { count: this.#blockCount, txs: this.#blockTxs },
      faults: [...this.#events],
    };
  }

  // ------------------------------------------------------------------ control

  #resolve(names: string[]): NodeView[] {
    return names.map((name) => {
      const n =
        this.#nodes.find((x) => x.layout.id === name) ??
        (/^[0-9]+$/.test(name) ? this.#nodes[Number(name)] : undefined);
      if (n === undefined) {
        throw new OrdoError(
          'TESTNET_UNKNOWN_NODE',
          `unknown node "${name}"; nodes are ${this.#nodes.map((x) => x.layout.id).join(', ')}`,
        );
      }
      return n;
    });
  }

  async control(action: ControlAction, names: string[]): Promise<unknown> {
    if (action === 'status') return this.snapshot();
    if (action === 'down') {
      this.#downRequested?.();
      return { ok: true, message: 'stopping the testnet' };
    }
    const needsNodes = action !== 'heal';
    if (needsNodes && names.length === 0) {
      throw new OrdoError('TESTNET_BAD_OPTION', `${action} needs at least one node`);
    }
    const targets = this.#resolve(names);
    let message: string;
    try {
      message = await this.#apply(action, targets);
      this.#record(action, names, true, message);
    } catch (err) {
      this.#record(action, names, false, errorMessage(err));
      throw err;
    }
    this.#saveState();
    this.#broadcast();
    return { ok: true, message };
  }

  async #apply(action: ControlAction, targets: NodeView[]): Promise<string> {
    const ids = targets.map((t) => t.layout.id).join(', ');
    switch (action) {
      case 'kill':
        await Promise.all(targets.map((t) => t.proc.kill()));
        return `killed ${ids} (SIGKILL)`;
      case 'pause':
        for (const t of targets) t.proc.pause();
        return `paused ${ids} (SIGSTOP)`;
      case 'resume':
        for (const t of targets) t.proc.resume();
        return `resumed ${ids} (SIGCONT)`;
      case 'restart':
        await Promise.all(
          targets.map(async (t) => {
            await t.proc.stop();
            t.proc.spawn();
            this.#saveState();
            await t.proc.waitReady();
            // Namespace rules outlive the process; a gater's list must be set again.
            const blocked = this.#blocked.get(t.layout.id);
            if (this.#lab === undefined && blocked !== undefined && blocked.length > 0)
              await this.#setBlocked(t, blocked);
          }),
        );
        return `restarted ${ids}`;
      case 'partition': {
        const inside = new Set(targets.map((t) => t.layout.id));
        const inPeers = targets.map((t) => t.layout.peerId);
        const outside = this.#nodes.filter((n) => !inside.has(n.layout.id));
        const outPeers = outside.map((n) => n.layout.peerId);
        const lab = this.#lab;
        if (lab !== undefined) {
          for (const t of targets)
            lab.setBlocked(
              t.layout.id,
              outside.map((n) => n.layout.id),
            );
          for (const n of outside) lab.setBlocked(n.layout.id, [...inside]);
          for (const t of targets) this.#blocked.set(t.layout.id, outPeers);
          for (const n of outside) this.#blocked.set(n.layout.id, inPeers);
          return `partitioned {${ids}} from {${outside.map((n) => n.layout.id).join(', ')}} (network namespaces: packets dropped)`;
        }
        await Promise.all([
          ...targets.map((t) => this.#setBlocked(t, outPeers)),
          ...outside.map((n) => this.#setBlocked(n, inPeers)),
        ]);
        return `partitioned {${ids}} from {${outside.map((n) => n.layout.id).join(', ')}}`;
      }
      case 'heal': {
        const which = targets.length > 0 ? targets : this.#nodes;
        const lab = this.#lab;
        if (lab !== undefined) {
          for (const n of which) {
            lab.setBlocked(n.layout.id, []);
            this.#blocked.set(n.layout.id, []);
          }
        } else await Promise.all(which.map((n) => this.#setBlocked(n, [])));
        return `healed ${which.map((n) => n.layout.id).join(', ')}`;
      }
      default:
        throw new OrdoError('TESTNET_BAD_OPTION', `unknown action ${action}`);
    }
  }

  async #setBlocked(n: NodeView, peers: string[]): Promise<void> {
    if (!n.proc.alive) {
      this.#blocked.set(n.layout.id, peers); // applied when it restarts
      return;
    }
    try {
      await rpcCall(n.layout.rpc, 'ordo_admin_setBlockedPeers', [peers], 5000);
      this.#blocked.set(n.layout.id, peers);
    } catch (err) {
      throw new OrdoError(
        'TESTNET_PARTITION_FAILED',
        `${n.layout.id} refused ordo_admin_setBlockedPeers: ${errorMessage(err)} ` +
          '(the node must support the admin RPC and run with ORDO_ADMIN_RPC=1)',
      );
    }
  }

  #record(action: string, nodes: string[], ok: boolean, message: string): void {
    this.#events.push({ t: Date.now(), action, nodes, ok, message });
    this.#out(`${ok ? 'fault' : 'fault FAILED'}: ${message}`);
  }

  // ------------------------------------------------------------------ server

  #saveState(): void {
    if (this.#stopping) return;
    writeState(this.net.dir, {
      version: 1,
      pid: process.pid,
      controlUrl: this.dashboardUrl,
      dashboardUrl: this.dashboardUrl,
      token: this.token,
      startedAt: new Date(this.#startedAt).toISOString(),
      chainId: this.net.chainId,
      nodes: this.#nodes.map((n) => ({
        id: n.layout.id,
        role: n.layout.role,
        home: n.layout.home,
        rpc: n.layout.rpc,
        grpc: n.layout.grpc,
        p2p: n.layout.p2p,
        peerId: n.layout.peerId,
        pid: n.proc.pid ?? null,
        state: n.proc.state,
      })),
    });
  }

  #broadcast(): void {
    if (this.#sse.size === 0) return;
    const data = `event: state\ndata: ${JSON.stringify(this.snapshot())}\n\n`;
    for (const r of this.#sse) r.write(data);
  }

  async #startServer(): Promise<void> {
    const server = createServer((req, res) => void this.#route(req, res));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.dashboardPort, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(readFileSync(DASHBOARD_HTML));
        return;
      }
      const vendor = req.method === 'GET' && path !== undefined ? VENDOR[path] : undefined;
      if (vendor !== undefined) {
        res.writeHead(200, { 'content-type': vendor.type, 'cache-control': 'max-age=3600' });
        res.end(readFileSync(vendor.file));
        return;
      }
      if (req.method === 'GET' && path === '/events') {
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-store',
          connection: 'keep-alive',
        });
        res.write(`retry: 2000\nevent: state\ndata: ${JSON.stringify(this.snapshot())}\n\n`);
        this.#sse.add(res);
        req.on('close', () => this.#sse.delete(res));
        return;
      }
      if (req.method === 'GET' && path === '/api/state') return json(res, 200, this.snapshot());
      if (req.method === 'POST' && path === '/api/control') {
        if (req.headers['x-ordo-testnet-token'] !== this.token) {
          return json(res, 403, { error: 'missing or wrong x-ordo-testnet-token (see testnet.json)' });
        }
        const body = await readBody(req, 64 * 1024);
        let msg: { action?: unknown; nodes?: unknown };
        try {
          msg = JSON.parse(body) as typeof msg;
        } catch {
          return json(res, 400, { error: 'body must be JSON {action, nodes}' });
        }
        const action = msg.action as ControlAction;
        const nodes = Array.isArray(msg.nodes) ? msg.nodes.map(String) : [];
        if (!CONTROL_ACTIONS.includes(action)) {
          return json(res, 400, { error: `action must be one of ${CONTROL_ACTIONS.join(', ')}` });
        }
        try {
          return json(res, 200, await this.control(action, nodes));
        } catch (err) {
          return json(res, 400, { error: errorMessage(err) });
        }
      }
      json(res, 404, { error: `no route ${req.method} ${path}` });
    } catch (err) {
      if (!res.headersSent) json(res, 500, { error: errorMessage(err) });
      else res.destroy();
    }
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new OrdoError('TESTNET_BODY_TOO_LARGE', `control request exceeds ${max} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
}

export function summarizeReport(r: TestnetReport, file: string): string {
  const heads = r.nodes.map((n) => `${n.id}=${n.height ?? '-'}`).join(' ');
  return [
    `report written to ${file}`,
    `  ${r.validators} validators, ${r.durationSec} s, offered ${r.offeredTxPerSec} tx/s, committed ${r.committedTxs} txs (${r.txPerSec} tx/s)`,
    `  latency submit->commit p50 ${r.latencyMs.p50} ms, p90 ${r.latencyMs.p90} ms, p99 ${r.latencyMs.p99} ms`,
    `  heights ${heads}`,
    `  safety: ${r.safety.checkedHeights} heights compared, ${r.safety.conflictingCommits} conflicting commits`,
    ...(r.bundles === null
      ? []
      : [
          `  bundles: ${r.bundles.bundlesPerSec}/s accepted (offered ${r.bundles.offeredPerSec}/s), applied ${r.bundles.applied}, voided ${r.bundles.voided}, dropped ${Object.values(r.bundles.dropped).reduce((a, b) => a + b, 0)}, unsettled ${r.bundles.unsettled}`,
          `  bundle pre-confirmation p50 ${r.bundles.preconfirmMs.p50} ms, p99 ${r.bundles.preconfirmMs.p99} ms; atomicity: ${
            r.bundles.atomicity === null
              ? 'not checked'
              : `${r.bundles.atomicity.bundles} bundles checked, ${r.bundles.atomicity.violations} violations`
          }`,
        ]),
  ].join('\n');
}
