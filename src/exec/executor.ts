/**
 * The embedded executor the node wires in: one state store per executed rollup (kinds `transfer` and
 * `evm`; `opaque` rollups are only ordered), a sequential reference path and the parallel worker pool.
 *
 * `executeBlock(height, txsByNamespace)` runs every executed rollup's slice of a committed block,
 * persists receipts, state changes and the new state roots of all rollups in one atomic write, and only then
 * resolves (and notifies subscribers — the adapter layer). Heights run strictly in order; asking for a
 * height that is already persisted returns the stored results, so a node that restarts mid-way simply
 * replays blocks from its last executed height. Every executed rollup gets a result at every height
 * (empty slice → no receipts, root still chained), so all nodes chain the same roots.
 */
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RollupConfig } from '../config/index.ts';
import { OrdoError } from '../errors.ts';
import { batchViews, type KvStore } from '../store/index.ts';
import type { Bundle, BundleSpan } from '../types.ts';
import {
  type BundleOutcome,
  bundleOutcomes,
  LaneCursor,
  type PrepareFn,
  planExecutionBundles,
  type ReuseFn,
  runBundled,
} from './bundles.ts';
import {
  type AnyVm,
  type BlockExecution,
  createVm,
  executeSequential,
  isExecuted,
  type VmOptions,
} from './engine.ts';
import { executeParallel, preparedByPool, WorkerPool } from './parallel.ts';
import { PreparedCache } from './prepared-cache.ts';
import { SimRuns } from './sim-runs.ts';
import { AdvanceCache, type PendingBlock, type RecordRun, type SimResult, simulateAt } from './simulate.ts';
import { type PreparedCommit, RollupState } from './state.ts';
import type { BlockContext, NamespaceResult, Prepared, Receipt } from './types.ts';

export interface ExecutorOptions {
  rollups: RollupConfig[];
  /** The rollup's key/value namespace in the node database (e.g. blockStore.sub(`exec/${ns}`)). */
  kv: (namespace: number) => KvStore;
  /** Worker threads; 0 = sequential reference executor only. Default: available cores. */
  workers?: number;
  logger?: Logger;
  registry?: Registry;
  vm?: VmOptions;
  /** Transactions per worker message (default transfer 512, evm 48). */
  chunkSize?: { transfer?: number; evm?: number };
  /**
   * A bundled block reuses this node's simulated runs whose reads still hold (ADR 0220); default true.
   * false only for comparisons (bench/bundle-exec.ts `--no-reuse`).
   */
  reuseSimulatedRuns?: boolean;
  /**
   * Told when each block was executed and each simulation ran, in wall-clock ms (`Date.now()`): the
   * node puts them in its height timeline (ADR 0307). A throwing hook is ignored.
   */
  onTrace?: (e: ExecTraceEvent) => void;
}

/** What the executor did and when (wall-clock ms), for the height timeline. */
export type ExecTraceEvent =
  | { kind: 'execute'; height: number; queuedMs: number; startMs: number; endMs: number }
  | { kind: 'simulate'; startMs: number; endMs: number };

/** What executeBlock resolves to: per executed rollup its results, and how each bundle executed. */
export type BlockResults = Map<number, NamespaceResult> & {
  /** Bundles of the block with at least one executed leg (docs/executor.md, "Bundles"). */
  bundles: BundleOutcome[];
};

export interface ExecuteBlockOptions {
  /** Block time in ms (the certified header's); default 0. */
  timeMs?: number;
  /** The block's bundle spans; execution bundles run as one unit across rollups. */
  spans?: readonly BundleSpan[];
}

export type ResultsListener = (
  height: number,
  results: Map<number, NamespaceResult>,
  bundles: BundleOutcome[],
) => void;

export interface Executor {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Namespaces this executor executes (kinds transfer and evm). */
  executedNamespaces(): number[];
  /** Cheap admission check: sender and nonce (transfer: no signature check; evm: recovers the sender). */
  classify(namespace: number, payload: Uint8Array): { sender: string; nonce: bigint } | { error: string };
  /**
   * This node's Ethereum RPC admission recovered the sender of `payload`: the executor's VM keeps it by
   * payload, and execution (workers included) skips a second recovery (ADR 0180).
   */
  noteSender?(namespace: number, payload: Uint8Array, senderPubKey: Uint8Array): void;
  /** The sender (20-byte address) of an EVM payload if this node already recovered it, else undefined. */
  knownSender?(namespace: number, payload: Uint8Array): Uint8Array | undefined;
  /**
   * A bundle leg's admission check: why the payload is invalid for its rollup, or undefined (the same
   * answer as `classify`). The prepared transaction is remembered, so the proposer's simulation and the
   * block's execution do not decode it, check its signature or recover its sender again (ADR 0175).
   */
  checkPayload(namespace: number, payload: Uint8Array): string | undefined;
  /**
   * Execute a committed block (heights in order). `opts` as a number is the block time (older form).
   * Resolves after every executed rollup's results are persisted and subscribers were told.
   */
  executeBlock(
    height: number,
    txsByNamespace: Map<number, Uint8Array[]>,
    opts?: number | ExecuteBlockOptions,
  ): Promise<BlockResults>;
  getResult(namespace: number, height: number): Promise<NamespaceResult | undefined>;
  getReceipt(namespace: number, height: number, index: number): Promise<Receipt | undefined>;
  /** Next nonce of `sender` in committed state (transfer: hex pubkey; evm: 0x address). */
  accountNonce(namespace: number, sender: string): bigint;
  /**
   * Read access to a rollup's committed state (the Ethereum RPC's balances, code, storage and
   * `eth_call` base). The getter sees the state as it is when called: it follows later commits.
   */
  stateGetter(namespace: number): (key: string) => string | undefined;
  /** Last executed height and state root of a rollup. */
  head(namespace: number): { height: number; stateRoot: Uint8Array };
  /** Called after each executed block's results are persisted. Returns an unsubscribe function. */
  subscribe(listener: ResultsListener): () => void;
  /**
   * Follow a rollup's committed state from another thread (the Ethereum RPC's call workers, ADR 0205):
   * returns the state and its height now, then calls `listener` with every later committed height's net
   * diff (null = deleted), in height order, right after the executor's own workers are sent it. The
   * returned map is the live state: copy it before yielding. `stop()` ends the feed.
   */
  followState(
    namespace: number,
    listener: (height: number, diff: readonly [string, string | null][]) => void,
  ): { height: number; state: ReadonlyMap<string, string>; stop(): void };
  /**
   * Simulate a bundle against the latest executed state without persisting anything (the bundle pool's
   * `BundleSimulator`; docs/executor.md "Bundles"). `opts.height`, when given, must be that state's
   * height (EXEC_SIM_HEIGHT_UNAVAILABLE otherwise). `opts.timeMs` is the block time the transactions see
   * (default: now); the auction passes the parent header's time so every validator gets one verdict.
   * `opts.pending`, the committed block `opts.height`: when the bundle's rollups have executed only
   * `height - 1`, that block's slices are run in memory first (not persisted) and the bundle on top, so
   * the result is the one on the state after `height` without waiting for its execution (ADR 0195).
   */
  simulate(bundle: Bundle, opts?: SimulateOptions): Promise<SimResult>;
  /** Test hook: make the next worker job crash its worker. */
  injectWorkerCrash(): void;
  /** Counters since start: coordinator re-executions, worker respawns, chunks per dispatch mode. */
  stats(): ExecutorStats;
}

export interface SimulateOptions {
  height?: number;
  timeMs?: number;
  pending?: PendingBlock;
}

export interface ExecutorStats {
  /** Seconds spent executing (verify + execute + validate), and persisting results/state. */
  executeSeconds: number;
  persistSeconds: number;
  reexecuted: number;
  workerRespawns: number;
  specChunks: number;
  prepChunks: number;
}

/** A bundled block's lane sends its unprepared transactions to the workers only from this many on. */
const POOL_MIN_MISSING = 16;

interface Lane {
  rollup: RollupConfig;
  vm: AnyVm;
  state: RollupState;
  /** Prepared bundle transactions (admission, simulation → execution), ADR 0175. */
  prepared: PreparedCache;
  /** The proposer's simulated runs of bundle leg transactions, reused by execution (ADR 0220). */
  simRuns: SimRuns;
}

export function createExecutor(opts: ExecutorOptions): Executor {
  const log = opts.logger ?? pino({ level: 'silent' });
  const lanes = new Map<number, Lane>();
  const listeners = new Set<ResultsListener>();
  /** followState feeds: namespace → listeners of committed diffs. */
  const diffFeeds = new Map<
    number,
    Set<(height: number, diff: readonly [string, string | null][]) => void>
  >();
  const feedDiff = (ns: number, height: number, diff: [string, string | null][]): void => {
    pool?.broadcastDiff(ns, diff);
    for (const fn of diffFeeds.get(ns) ?? []) {
      try {
        fn(height, diff);
      } catch (err) {
        // A follower's failure is its own (it falls behind); execution goes on.
        log.warn({ err, namespace: ns, height }, 'state follower failed');
      }
    }
  };
  const nWorkers = opts.workers ?? availableParallelism();
  const reuseRuns = opts.reuseSimulatedRuns !== false;
  let pool: WorkerPool | undefined;
  let started = false;
  let queue: Promise<unknown> = Promise.resolve();
  const counters = { reexecuted: 0, specChunks: 0, prepChunks: 0, executeSeconds: 0, persistSeconds: 0 };
  const trace = (e: ExecTraceEvent): void => {
    try {
      opts.onTrace?.(e);
    } catch {
      // A diagnostic hook never fails execution.
    }
  };

  const reg = opts.registry;
  const blockSeconds = new Histogram({
    name: 'ordo_exec_block_seconds',
    help: 'Time to execute and persist one rollup slice of a block',
    labelNames: ['kind'],
    buckets: [0.001, 0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: reg === undefined ? [] : [reg],
  });
  const txsTotal = new Counter({
    name: 'ordo_exec_txs_total',
    help: 'Executed transactions by status',
    labelNames: ['kind', 'status'],
    registers: reg === undefined ? [] : [reg],
  });
  const executedHeight = new Gauge({
    name: 'ordo_exec_height',
    help: 'The last height whose executed rollups were executed and persisted (lag = ordo_chain_height - this)',
    registers: reg === undefined ? [] : [reg],
  });
  const reexecTotal = new Counter({
    name: 'ordo_exec_reexecuted_total',
    help: 'Transactions re-executed by the coordinator after a failed read-set validation',
    labelNames: ['kind'],
    registers: reg === undefined ? [] : [reg],
  });

  const preparedTotal = new Counter({
    name: 'ordo_exec_bundle_prepared_total',
    help: 'Transactions of blocks with execution bundles by who prepared them: cache (admission or simulation already did), workers, coordinator',
    labelNames: ['source'],
    registers: reg === undefined ? [] : [reg],
  });
  const simRunsTotal = new Counter({
    name: 'ordo_exec_sim_runs_total',
    help: 'Transactions of blocks with execution bundles that this node had simulated, by whether the simulated run was reused (same reads) or the transaction executed again (stale)',
    labelNames: ['result'],
    registers: reg === undefined ? [] : [reg],
  });
  const simBlockRunsTotal = new Counter({
    name: 'ordo_exec_sim_block_runs_total',
    help: 'Simulations on the state after a block the executor had not executed yet, by whether the block was run in memory for it (run) or an earlier run of the same block served (reused)',
    labelNames: ['result'],
    registers: reg === undefined ? [] : [reg],
  });
  const bundlesTotal = new Counter({
    name: 'ordo_exec_bundles_total',
    help: 'Bundles with an executed leg, by outcome (applied; reverted: an execution bundle whose transactions were voided)',
    labelNames: ['outcome'],
    registers: reg === undefined ? [] : [reg],
  });

  function lane(ns: number): Lane {
    const l = lanes.get(ns);
    if (l === undefined)
      throw new OrdoError('EXEC_UNKNOWN_NAMESPACE', `namespace ${ns} is not an executed rollup`);
    return l;
  }

  /** A lane's slice of `height` executed and its commit prepared, not yet written (ADR 0344). */
  interface LaneRun {
    l: Lane;
    t0: number;
    exec: BlockExecution;
    commit: PreparedCommit;
  }

  /** Execute a lane's slice of the next height and prepare its commit (nothing is written). */
  async function executeLane(
    l: Lane,
    height: number,
    payloads: Uint8Array[],
    timeMs: number,
  ): Promise<LaneRun> {
    const { state, vm, rollup } = l;
    const ctx: BlockContext = { height, timeMs };
    const t0 = performance.now();
    let exec: BlockExecution;
    if (pool !== undefined && payloads.length > 0) {
      const r = await executeParallel(pool, vm, rollup.namespace, state.state, payloads, ctx);
      exec = r;
      if (r.reexecuted > 0) reexecTotal.inc({ kind: rollup.kind }, r.reexecuted);
      counters.reexecuted += r.reexecuted;
      counters.specChunks += r.specChunks;
      counters.prepChunks += r.prepChunks;
    } else {
      exec = await executeSequential(vm, state.state, payloads, ctx);
    }
    counters.executeSeconds += (performance.now() - t0) / 1000;
    return { l, t0, exec, commit: state.prepare(height, exec.writes, exec.receipts) };
  }

  /**
   * Persist lanes' prepared commits of one height in one atomic write (one LevelDB batch for all
   * executed rollups instead of one each, ADR 0344), then apply them and tell the state followers.
   */
  async function persistLanes(height: number, runs: LaneRun[]): Promise<void> {
    if (runs.length === 0) return;
    const t1 = performance.now();
    await batchViews(runs.map((r) => ({ kv: r.l.state.kv, writes: r.commit.writes })));
    counters.persistSeconds += (performance.now() - t1) / 1000;
    for (const { l, t0, exec, commit } of runs) {
      commit.apply();
      feedDiff(l.rollup.namespace, height, commit.diff);
      blockSeconds.observe({ kind: l.rollup.kind }, (performance.now() - t0) / 1000);
      for (const r of exec.receipts) txsTotal.inc({ kind: l.rollup.kind, status: r.status });
      log.debug(
        { namespace: l.rollup.namespace, height, txs: exec.receipts.length },
        'executed rollup slice',
      );
    }
  }

  async function storedResult(l: Lane, height: number): Promise<NamespaceResult> {
    const stored = await l.state.getResult(height);
    if (stored === undefined) {
      throw new OrdoError(
        'EXEC_RESULT_MISSING',
        `results of height ${height} for namespace ${l.rollup.namespace} are not stored`,
      );
    }
    return stored;
  }

  function checkHeight(l: Lane, height: number): 'stored' | 'run' {
    const { state, rollup } = l;
    if (height <= state.height) return 'stored';
    if (height !== state.height + 1) {
      throw new OrdoError(
        'EXEC_HEIGHT_GAP',
        `namespace ${rollup.namespace} executed up to ${state.height}; cannot execute ${height}`,
        { namespace: rollup.namespace, executed: state.height, height },
      );
    }
    return 'run';
  }

  /**
   * Who prepares transaction i of a bundled block's lane: the prepared-transaction cache when the bundle
   * pool's admission or the proposer's simulation already did (no worker round trip, no second decode),
   * else the worker pool (only the missing ones are sent, and only when there are POOL_MIN_MISSING of
   * them), else the coordinator.
   */
  function bundledPrepare(
    l: Lane,
    payloads: Uint8Array[],
    ctx: BlockContext,
    stored: Receipt[] | undefined,
  ): PrepareFn {
    const cache = l.prepared;
    const local = async (i: number) => l.vm.prepare(payloads[i]!);
    if (stored !== undefined || payloads.length === 0) return local;
    const hit: (Prepared<unknown> | undefined)[] = payloads.map((p) => cache.peek(p));
    const missing: number[] = [];
    for (let i = 0; i < payloads.length; i++) if (hit[i] === undefined) missing.push(i);
    preparedTotal.inc({ source: 'cache' }, payloads.length - missing.length);
    const viaPool = pool !== undefined && missing.length >= POOL_MIN_MISSING;
    preparedTotal.inc({ source: viaPool ? 'workers' : 'coordinator' }, missing.length);
    if (missing.length === 0) return async (i) => hit[i]!;
    // A few missing ones are prepared here: a worker round trip costs more wall time on a busy host.
    const fromPool =
      viaPool && pool !== undefined
        ? preparedByPool(
            pool,
            l.vm,
            l.rollup.namespace,
            missing.map((i) => payloads[i]!),
            ctx,
          )
        : undefined;
    const at = new Map(missing.map((i, j) => [i, j]));
    return async (i) => hit[i] ?? (fromPool === undefined ? local(i) : fromPool(at.get(i)!));
  }

  /** The simulated run of transaction i when its reads still hold (sim-runs.ts, ADR 0220). */
  function simRunReuse(l: Lane, payloads: Uint8Array[], ctx: BlockContext): ReuseFn {
    return (i, get) => {
      const p = payloads[i]!;
      if (!l.simRuns.has(p)) return undefined;
      const run = l.simRuns.reusable(p, get, ctx);
      simRunsTotal.inc({ result: run === undefined ? 'stale' : 'reused' });
      return run;
    };
  }

  /**
   * A block with execution bundles: every rollup's slice is walked by a cursor, bundles in topological
   * order with their legs under checkpoints (bundles.ts); workers only prepare. Then each rollup
   * commits as usual.
   */
  async function runBundledBlock(
    height: number,
    txs: Map<number, Uint8Array[]>,
    timeMs: number,
    spans: readonly BundleSpan[],
  ): Promise<Map<number, NamespaceResult> | undefined> {
    const ordered = [...lanes.keys()].sort((a, b) => a - b);
    const lengths = new Map(ordered.map((ns) => [ns, (txs.get(ns) ?? []).length]));
    const plan = planExecutionBundles(spans, lengths);
    if (plan.length === 0) return undefined;
    const ctx: BlockContext = { height, timeMs };
    const t0 = performance.now();
    const cursors = new Map<number, LaneCursor>();
    const out = new Map<number, NamespaceResult>();
    for (const ns of ordered) {
      const l = lane(ns);
      const payloads = txs.get(ns) ?? [];
      let stored: Receipt[] | undefined;
      if (checkHeight(l, height) === 'stored') {
        const r = await storedResult(l, height);
        out.set(ns, r);
        stored = r.receipts;
      }
      cursors.set(
        ns,
        new LaneCursor(
          l.vm,
          l.state.state,
          payloads.length,
          ctx,
          bundledPrepare(l, payloads, ctx, stored),
          stored,
          stored === undefined && reuseRuns && l.simRuns.size > 0 ? simRunReuse(l, payloads, ctx) : undefined,
        ),
      );
    }
    await runBundled(plan, cursors);
    const t1 = performance.now();
    counters.executeSeconds += (t1 - t0) / 1000;
    // Every rollup's commit in one atomic write (ADR 0344; a lane already stored is the case `stored`
    // handles after a restart).
    const runs: LaneRun[] = [];
    for (const ns of ordered) {
      const c = cursors.get(ns)!;
      if (c.stored) continue;
      const exec = { receipts: c.receipts, writes: c.overlay };
      runs.push({ l: lane(ns), t0, exec, commit: lane(ns).state.prepare(height, c.overlay, c.receipts) });
    }
    await persistLanes(height, runs);
    for (const r of runs) out.set(r.l.rollup.namespace, r.commit.result);
    // In rollup order, as before (stored lanes were set first).
    const sorted = new Map(ordered.filter((ns) => out.has(ns)).map((ns) => [ns, out.get(ns)!]));
    out.clear();
    for (const [ns, r] of sorted) out.set(ns, r);
    log.debug({ height, bundles: plan.length }, 'executed block with execution bundles');
    return out;
  }

  async function doExecute(
    height: number,
    txs: Map<number, Uint8Array[]>,
    timeMs: number,
    spans: readonly BundleSpan[],
  ): Promise<BlockResults> {
    if (!started) throw new OrdoError('EXEC_NOT_STARTED', 'executor is not started');
    let results = spans.length > 0 ? await runBundledBlock(height, txs, timeMs, spans) : undefined;
    if (results === undefined) {
      // No execution bundle with an executed leg: today's fast path, one rollup after another, then
      // every rollup's commit in one write (ADR 0344). A lane that already ran this height (a restart
      // between its write and the others') answers from the store.
      const ordered = [...lanes.keys()].sort((a, b) => a - b);
      const byNs = new Map<number, NamespaceResult>();
      const runs: LaneRun[] = [];
      for (const ns of ordered) {
        const l = lane(ns);
        if (checkHeight(l, height) === 'stored') byNs.set(ns, await storedResult(l, height));
        else runs.push(await executeLane(l, height, txs.get(ns) ?? [], timeMs));
      }
      await persistLanes(height, runs);
      for (const r of runs) byNs.set(r.l.rollup.namespace, r.commit.result);
      results = new Map(ordered.map((ns) => [ns, byNs.get(ns)!]));
    }
    const bundles = bundleOutcomes(spans, results);
    // The bundles' transactions are committed now: nothing prepares them again. (Anything else cached,
    // e.g. by `ordo_callBundle`'s simulation, ages out.)
    for (const s of spans) {
      const l = lanes.get(s.namespace);
      if (l === undefined || (l.prepared.size === 0 && l.simRuns.size === 0)) continue;
      for (const p of (txs.get(s.namespace) ?? []).slice(s.start, s.start + s.count)) {
        l.prepared.delete(p);
        l.simRuns.delete(p);
      }
    }
    executedHeight.set(height);
    for (const b of bundles) bundlesTotal.inc({ outcome: b.outcome });
    for (const l of listeners) {
      try {
        l(height, results, bundles);
      } catch (err) {
        log.warn({ err }, 'results listener threw');
      }
    }
    return Object.assign(results, { bundles });
  }

  // Simulation: own VMs (a VM is not re-entrant), one simulation at a time.
  const simVms = new Map<number, Promise<AnyVm>>();
  let simQueue: Promise<unknown> = Promise.resolve();
  const simVm = (ns: number): Promise<AnyVm> => {
    let v = simVms.get(ns);
    if (v === undefined) {
      v = createVm(lane(ns).rollup, opts.vm);
      simVms.set(ns, v);
    }
    return v;
  };
  const SIM_ATTEMPTS = 3;
  /** The pending block last run in memory, for the next simulations on it (ADR 0298). */
  const advanceCache = new AdvanceCache((result) => simBlockRunsTotal.inc({ result }));
  /** The simulation prepares through the lane's cache: admission already did, execution will reuse it. */
  const simPrepare = (ns: number, payload: Uint8Array): Prepared<unknown> => {
    const l = lane(ns);
    return l.prepared.prepare(payload, (x) => l.vm.prepare(x));
  };
  /** A pending block's transactions: prepared by admission or a simulation if cached, else now (not kept). */
  const blockPrepare = (ns: number, payload: Uint8Array): Prepared<unknown> => {
    const l = lane(ns);
    return l.prepared.peek(payload) ?? l.vm.prepare(payload);
  };
  /** Every simulated leg run is kept: the block that places the bundle may reuse it (ADR 0220). */
  const recordRun: RecordRun = (ns, payload, run) => lanes.get(ns)?.simRuns.set(payload, run);
  async function doSimulate(
    bundle: Bundle,
    height: number | undefined,
    timeMs: number | undefined,
    pending: PendingBlock | undefined,
  ): Promise<SimResult> {
    if (!started) throw new OrdoError('EXEC_NOT_STARTED', 'executor is not started');
    // Whole seconds by default: the EVM sees seconds, and its VM reuses one block header per height and
    // time, so simulations within a second do not each build a header.
    const t = timeMs ?? Math.floor(Date.now() / 1000) * 1000;
    for (let a = 0; a < SIM_ATTEMPTS; a++) {
      const r = await simulateAt(
        bundle,
        lanes,
        simVm,
        t,
        height,
        simPrepare,
        pending,
        blockPrepare,
        recordRun,
        advanceCache,
      );
      if (r !== undefined) return r;
    }
    // Blocks keep committing under it: run between two blocks, on the execution queue.
    const p = queue.then(() =>
      simulateAt(bundle, lanes, simVm, t, height, simPrepare, pending, blockPrepare, recordRun, advanceCache),
    );
    queue = p.catch(() => {});
    const r = await p;
    if (r === undefined) throw new OrdoError('EXEC_SIM_UNSTABLE', 'executed heads moved during simulation');
    return r;
  }

  return {
    simulate(bundle, o) {
      const p = simQueue.then(async () => {
        const startMs = Date.now();
        try {
          return await doSimulate(bundle, o?.height, o?.timeMs, o?.pending);
        } finally {
          trace({ kind: 'simulate', startMs, endMs: Date.now() });
        }
      });
      simQueue = p.catch(() => {});
      return p;
    },
    async start() {
      if (started) return;
      for (const rollup of opts.rollups) {
        if (!isExecuted(rollup)) continue;
        const vm = await createVm(rollup, opts.vm);
        const state = new RollupState(rollup.namespace, opts.kv(rollup.namespace));
        await state.open(() => vm.genesis());
        lanes.set(rollup.namespace, {
          rollup,
          vm,
          state,
          prepared: new PreparedCache(),
          simRuns: new SimRuns(),
        });
        log.info(
          { namespace: rollup.namespace, kind: rollup.kind, height: state.height },
          'executor lane open',
        );
      }
      if (nWorkers > 0 && lanes.size > 0) {
        pool = new WorkerPool({
          size: nWorkers,
          rollups: [...lanes.values()].map((l) => l.rollup),
          vm: opts.vm ?? {},
          snapshot: () =>
            [...lanes.values()].map((l) => ({ namespace: l.rollup.namespace, state: l.state.state })),
          chunkSize: opts.chunkSize ?? {},
          logger: log,
        });
        await pool.start();
      }
      started = true;
    },
    async stop() {
      started = false;
      await queue.catch(() => {});
      await pool?.stop();
      pool = undefined;
    },
    executedNamespaces: () => [...lanes.keys()].sort((a, b) => a - b),
    classify(namespace, payload) {
      const l = lanes.get(namespace);
      if (l === undefined) return { error: `namespace ${namespace} is not an executed rollup` };
      return l.vm.classify(payload);
    },
    noteSender(namespace, payload, senderPubKey) {
      lanes.get(namespace)?.vm.noteSender?.(payload, senderPubKey);
    },
    knownSender(namespace, payload) {
      return lanes.get(namespace)?.vm.knownSender?.(payload);
    },
    checkPayload(namespace, payload) {
      const l = lanes.get(namespace);
      if (l === undefined) return `namespace ${namespace} is not an executed rollup`;
      // EVM: classify is prepare (decode and recover the sender); keep the result. Transfer: classify
      // does not check the signature, so the answer stays classify's (a bad signature voids the bundle at
      // execution, as before); the prepared form (signature checked) is kept for what comes next.
      if (l.rollup.kind === 'evm') {
        const p = l.prepared.prepare(payload, (x) => l.vm.prepare(x));
        return p.ok ? undefined : p.error;
      }
      const c = l.vm.classify(payload);
      if ('error' in c) return c.error;
      l.prepared.prepare(payload, (x) => l.vm.prepare(x));
      return undefined;
    },
    executeBlock(height, txs, opts) {
      const o: ExecuteBlockOptions = typeof opts === 'number' ? { timeMs: opts } : (opts ?? {});
      const queuedMs = Date.now();
      const p = queue.then(async () => {
        const startMs = Date.now();
        const r = await doExecute(height, txs, o.timeMs ?? 0, o.spans ?? []);
        trace({ kind: 'execute', height, queuedMs, startMs, endMs: Date.now() });
        return r;
      });
      queue = p.catch(() => {});
      return p;
    },
    async getResult(namespace, height) {
      return lane(namespace).state.getResult(height);
    },
    async getReceipt(namespace, height, index) {
      const r = await lane(namespace).state.getResult(height);
      return r?.receipts[index];
    },
    accountNonce(namespace, sender) {
      const l = lane(namespace);
      return l.vm.nonceOf((k) => l.state.state.get(k), sender);
    },
    stateGetter(namespace) {
      const s = lane(namespace).state.state;
      return (k) => s.get(k);
    },
    head(namespace) {
      const s = lane(namespace).state;
      return { height: s.height, stateRoot: s.root };
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    followState(namespace, listener) {
      const s = lane(namespace).state;
      let set = diffFeeds.get(namespace);
      if (set === undefined) {
        set = new Set();
        diffFeeds.set(namespace, set);
      }
      const fn = (h: number, d: readonly [string, string | null][]) => listener(h, d);
      set.add(fn);
      return { height: s.height, state: s.state, stop: () => set.delete(fn) };
    },
    injectWorkerCrash() {
      pool?.injectCrash();
    },
    stats() {
      return { ...counters, workerRespawns: pool?.respawns ?? 0 };
    },
  };
}
