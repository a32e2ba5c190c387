/**
 * Call workers of one EVM rollup (ADR 0205): `eth_call` and `eth_estimateGas` simulations run on worker
 * threads (call-worker.ts) instead of the node's main thread, which then only does the HTTP exchange and
 * JSON-RPC around them. One executed rollup's EVM run is most of a call's CPU; on the main thread it
 * competed with consensus, ingress and every other request.
 *
 * State: each worker holds a replica of the rollup's committed state, loaded from the executor's
 * `followState` snapshot and kept current by its diff feed (forwarded to every worker in height order).
 * A call is sent with the executed height the main thread's state has at that moment, and the worker
 * runs it at exactly that height (waiting for that height's diff if it is still on its way), so the
 * answer is the one the main thread would have given at dispatch: `latest` / `pending` semantics and
 * the block number the call sees (head + 1, passed along) are unchanged. What the main thread runs
 * itself (the fallback `EvmStateReader`, at the state current then, as without workers): calls while
 * every worker already holds `depth` calls (64 by default, so only under overload do both threads run
 * calls), and calls while no worker is ready. A call a worker answers `stale` (sent before the worker was
 * handed a newer seed snapshot, ADR 0303) is sent again at the height current then, as a dead worker's is.
 *
 * Bounds: a worker holds at most `depth` calls; what overflows queues on the main thread, whose
 * bound (MAX_QUEUED_SIMULATIONS per rollup, -32003 past it) is unchanged.
 *
 * Bundle legs (ADR 0305, `simulateLeg`): an EVM leg of `ordo_callBundle` / `eth_callBundle` is a job like
 * a heavy call (least busy worker, the same height stamp, wall-clock bound and respawn), run with the
 * executor's leg simulation (bundle-sim-worker.ts); a dead worker's legs are sent again as its heavy
 * calls are (ADR 0316). Where a call would run on the main thread (`#runHere`: no worker ready at
 * dispatch, stopping), a leg is refused with `LegOffWorker` instead: the coordinator (bundle-sim.ts)
 * then simulates the whole bundle there, since its legs must share one height.
 *
 * Heavy calls never run on the main thread while a worker is ready (ADR 0286): a call whose gas is above
 * MAIN_THREAD_MAX_GAS (every call that names none: the default is 50 M) goes to the least busy worker
 * whatever its depth, up to MAX_QUEUED_SIMULATIONS there, and a batch entry ("here") too. The main
 * thread also runs consensus: 50 M gas of a plain loop costs ethereumjs ~3 s, of keccak ~10 s, and one
 * batch of such calls held a validator's event loop for minutes.
 *
 * Wall clock (ADR 0288): a call a worker has been running for `timeoutMs` (`rpc.ethCallTimeoutMs`, 5 s as
 * geth's `RPCEVMTimeout`), or past the deadline its request gave (eth_estimateGas), is answered geth's
 * `execution aborted (timeout = 5s)` and never runs anywhere else. A simulation cannot be interrupted
 * (it yields only to microtasks), so the worker thread is terminated and a new one spawned at once. Its
 * other calls (queued behind it, or finished with their answers not posted yet) are sent again, at the
 * height current then, to the least busy worker, the new one included: it takes heavy calls while it
 * loads, so the main thread never runs them meanwhile. What the main thread runs itself cannot be stopped
 * (docs/eth-rpc.md "State").
 *
 * Respawns (ADR 0315): a (re)spawned worker gets its state from the seed replica (call-seed.ts), a thread
 * that follows the same diff feed and runs no call, over a MessageChannel: the main thread starts a thread
 * and posts a port, and never builds a snapshot of the whole state for it (the seed's own snapshot, at
 * start or when the seed itself is lost, is the only one). A client that runs calls to the bound forces a
 * respawn per `timeoutMs` per worker at most; it costs the other threads, not consensus. A seed lost while
 * workers load is replaced and each loading worker handed a port of the new one, not terminated (ADR
 * 0303); a seed the pool ends is marked lost first, so no port is posted to a thread that is ending.
 *
 * Crashes (ADR 0316): a worker that exits on its own is respawned the same way and its calls sent again
 * like a stopped worker's. The call it was running is the suspect: it is sent again to a worker once, and
 * a call that crashed two workers is answered CallCrashedError (never run again, never on the main
 * thread). Calls sent again run on the main thread only when no worker is live or loading, and only light
 * ones; a heavy one gets -32003 (retryable) then.
 */
import { MessageChannel, type MessagePort, Worker, type WorkerOptions } from 'node:worker_threads';
import type { Logger } from 'pino';
import { RpcError } from '../rpc/index.ts';
import type { CallSeedIn } from './call-seed.ts';
import { CallCrashedError, CallTimeoutError, DEFAULT_CALL_TIMEOUT_MS, sharedClock } from './call-timeout.ts';
import type { CallWorkerAnswer, CallWorkerIn, CallWorkerInit } from './call-worker.ts';
import { type LegAnswer, type LegJob, LegOffWorker } from './leg-job.ts';
import type { AccountOverride, CallRequest } from './params.ts';
import type { EvmStateReader, SimResult } from './state.ts';
import { MAX_QUEUED_SIMULATIONS } from './state.ts';

/** The most gas a call may name and still run on the main thread (~0.1–0.2 s of the worst EVM code). */
export const MAIN_THREAD_MAX_GAS = 1_000_000n;

/** What runs simulations for the RPC methods: the main thread's reader, or call workers in front of it. */
export interface Simulator {
  simulate(
    req: CallRequest,
    overrides: AccountOverride[],
    gasLimit: bigint,
    nextBlock: number,
    timestamp: number,
    /**
     * `here`: run on the calling thread (a batch entry: batches run entry by entry, a hand-over only adds
     * a round trip). `deadline` (on `sharedClock()`): a worker does not start the call past it and stops
     * it there (an eth_estimateGas request's budget, ADR 0288).
     */
    opts?: { here?: boolean; deadline?: number },
  ): Promise<SimResult>;
}

/** The executor's state feed of one rollup (Executor.followState bound to a namespace). */
export type FollowState = (listener: (height: number, diff: readonly [string, string | null][]) => void) => {
  height: number;
  state: ReadonlyMap<string, string>;
  stop(): void;
};

export interface CallPoolOptions {
  size: number;
  chainId: number;
  coinbase: string;
  /** The rollup's block gas limit (the calls' GASLIMIT, ADR 0285). */
  blockGasLimit?: bigint;
  follow: FollowState;
  /** The executed height of the state the main thread reads now (Executor.head(namespace).height). */
  head: () => number;
  /**
   * Calls one worker holds at once (running or queued; default DEFAULT_CALL_DEPTH); past it on every
   * worker, the main thread runs the call itself.
   */
  depth?: number;
  /**
   * The most ms a worker may run one call (`rpc.ethCallTimeoutMs`, ADR 0288); past it the call is answered
   * CallTimeoutError and the worker is replaced. 0 or absent: no bound.
   */
  timeoutMs?: number;
  /** Runs what no worker can (see the module comment); its reads follow the same committed state. */
  fallback: EvmStateReader;
  logger?: Logger;
  /** Test hook: a call to this address ends its worker thread as it starts, as a crash would. */
  crashTo?: Uint8Array;
  /**
   * Test hook: makes the pool's threads (`script` is call-seed.ts or call-worker.ts), so a test can make a
   * spawn throw or hand the pool a thread that exits at once. Default: `new Worker(script, options)`.
   */
  newThread?: (script: URL, options?: WorkerOptions) => Worker;
}

/**
 * 64 calls (~10 ms of EVM work at ~150 µs each): the main thread takes a call only when the workers are
 * that far behind (ADR 0245). It does the HTTP exchange and JSON-RPC of every call anyway, so each call
 * it also ran made it the bottleneck: at the former depth of 8, 16 single requests in flight put half
 * the calls on the main thread, which was 92–98 % busy while the worker idled at 12–30 %.
 */
export const DEFAULT_CALL_DEPTH = 64;

interface Pending {
  args: Parameters<EvmStateReader['simulate']>;
  /** A bundle leg instead of a call (ADR 0305): `args` are unused, `done` gets its answer. */
  leg?: { job: LegJob; done: (a: LegAnswer) => void };
  /** The request's deadline on `sharedClock()` (eth_estimateGas), if any. */
  deadline: number | undefined;
  resolve: (r: SimResult) => void;
  reject: (e: unknown) => void;
  /** Workers that exited while running this call (ADR 0316). */
  crashes?: number;
}

/** The seed replica's thread (call-seed.ts, ADR 0315). */
interface Seed {
  worker: Worker;
  ready: boolean;
  dead: boolean;
}

type Call = Extract<CallWorkerIn, { t: 'call' | 'leg' }>;

interface Slot {
  index: number;
  worker: Worker;
  ready: boolean;
  dead: boolean;
  /** Spawned to replace a worker that was ready: takes heavy calls while it loads (they wait for it). */
  respawn: boolean;
  inflight: Map<number, Pending>;
  /** Calls gathered in this event-loop turn, posted together (ADR 0226); always before a diff. */
  outbox: Call[];
  /** The worker's running call: [id or 0, start on sharedClock() in µs] (call-worker.ts). */
  running: BigInt64Array;
}

export class CallPool implements Simulator {
  readonly #o: CallPoolOptions;
  readonly #slots: Slot[] = [];
  #feed: ReturnType<FollowState> | undefined;
  #nextId = 1;
  #stopping = false;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #seed: Seed | undefined;

  constructor(opts: CallPoolOptions) {
    this.#o = opts;
  }

  /** Workers ready to take calls (tests). */
  get ready(): number {
    return this.#slots.filter((s) => s.ready && !s.dead).length;
  }

  /** Calls stopped at the wall-clock bound since start (tests, logs). */
  timeouts = 0;

  /** Snapshots of the executor's whole state built on the main thread (the seed's; tests, ADR 0315). */
  snapshots = 0;

  /** Workers that exited on their own (not stopped by the pool) since start (tests, logs). */
  crashes = 0;

  /** The bound on one call's run, ms (0: none). */
  get timeoutMs(): number {
    return this.#o.timeoutMs ?? 0;
  }

  /** Follow the executor's state and spawn the workers; resolves when every worker has its snapshot. */
  async start(): Promise<void> {
    this.#stopping = false;
    this.#feed = this.#o.follow((height, diff) => {
      const seed = this.#seed;
      if (seed !== undefined && !seed.dead) {
        try {
          seed.worker.postMessage({ t: 'diff', height, diff } satisfies CallSeedIn);
        } catch (err) {
          this.#o.logger?.warn({ err, height }, 'eth call seed missed a state diff; restarting it');
          this.#endSeed(seed, 'missed a diff');
        }
      }
      for (const s of this.#slots) {
        if (s.dead) continue;
        try {
          // Calls gathered before this height was committed carry the height before it: they go first.
          this.#flush(s);
          s.worker.postMessage({ t: 'diff', height, diff });
        } catch (err) {
          // The replica would miss this height: replace the worker (its exit handler respawns it).
          this.#o.logger?.warn({ err, height }, 'eth call worker missed a state diff; restarting it');
          void s.worker.terminate();
        }
      }
    });
    this.#spawnSeed();
    await Promise.all(Array.from({ length: this.#o.size }, (_, i) => this.#spawn(i, false)));
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#feed?.stop();
    this.#feed = undefined;
    if (this.#watchdog !== undefined) clearInterval(this.#watchdog);
    this.#watchdog = undefined;
    const seed = this.#seed;
    this.#seed = undefined;
    if (seed !== undefined) {
      seed.dead = true;
      await seed.worker.terminate();
    }
    const slots = this.#slots.splice(0);
    await Promise.all(
      slots.map(async (s) => {
        s.dead = true;
        const inflight = [...s.inflight.values()];
        s.inflight.clear();
        await s.worker.terminate();
        for (const p of inflight) this.#runHere(p);
      }),
    );
  }

  simulate(
    req: CallRequest,
    overrides: AccountOverride[],
    gasLimit: bigint,
    nextBlock: number,
    timestamp: number,
    opts?: { here?: boolean; deadline?: number },
  ): Promise<SimResult> {
    const depth = this.#o.depth ?? DEFAULT_CALL_DEPTH;
    // A heavy call waits for a worker, past `depth`: the main thread runs consensus (ADR 0286). It waits
    // for a worker that is loading in place of one that was stopped or died, too (ADR 0288).
    const heavy = gasLimit > MAIN_THREAD_MAX_GAS;
    let best: Slot | undefined;
    for (const s of opts?.here === true && !heavy ? [] : this.#slots) {
      if (!(s.ready || (heavy && s.respawn)) || s.dead) continue;
      if (s.inflight.size >= (heavy ? MAX_QUEUED_SIMULATIONS : depth)) continue;
      if (best === undefined || s.inflight.size < best.inflight.size) best = s;
    }
    if (best === undefined && heavy && this.#slots.some((s) => (s.ready || s.respawn) && !s.dead))
      return Promise.reject(
        new RpcError(
          -32003,
          `${MAX_QUEUED_SIMULATIONS} calls are already queued on this rollup; retry later`,
          {
            retryable: true,
          },
        ),
      );
    // Every worker busy (or none ready): the main thread runs the call, as it did without workers.
    if (best === undefined) return this.#o.fallback.simulate(req, overrides, gasLimit, nextBlock, timestamp);
    const slot = best;
    return new Promise<SimResult>((resolve, reject) => {
      this.#send(slot, {
        args: [req, overrides, gasLimit, nextBlock, timestamp],
        deadline: opts?.deadline,
        resolve,
        reject,
      });
    });
  }

  /**
   * Run a bundle leg on the least busy worker at the height the main thread's state has now (ADR 0305).
   * Rejects `LegOffWorker` where a call would run on the main thread, -32003 when every worker holds
   * MAX_QUEUED_SIMULATIONS, and CallTimeoutError past `timeoutMs`.
   */
  simulateLeg(job: LegJob): Promise<LegAnswer> {
    let best: Slot | undefined;
    let live = false;
    for (const s of this.#slots) {
      if (!(s.ready || s.respawn) || s.dead) continue;
      live = true;
      if (s.inflight.size >= MAX_QUEUED_SIMULATIONS) continue;
      if (best === undefined || s.inflight.size < best.inflight.size) best = s;
    }
    if (!live) return Promise.reject(new LegOffWorker('no call worker is ready'));
    if (best === undefined)
      return Promise.reject(
        new RpcError(
          -32003,
          `${MAX_QUEUED_SIMULATIONS} calls are already queued on this rollup; retry later`,
          {
            retryable: true,
          },
        ),
      );
    const slot = best;
    return new Promise<LegAnswer>((done, reject) => {
      // No call arguments; the gas slot marks the leg heavy: never re-run on the main thread (ADR 0286/0316).
      const args = [{}, [], MAIN_THREAD_MAX_GAS + 1n, 0, 0] as unknown as Pending['args'];
      this.#send(slot, { args, deadline: undefined, resolve: () => {}, reject, leg: { job, done } });
    });
  }

  /** Hand a call to a worker, at the height the main thread's state has now. */
  #send(slot: Slot, p: Pending): void {
    const id = this.#nextId++;
    const [req, overrides, gas, nextBlock, timestamp] = p.args;
    slot.inflight.set(id, p);
    const call: Call =
      p.leg !== undefined
        ? { t: 'leg', id, v: this.#o.head(), job: p.leg.job }
        : { t: 'call', id, v: this.#o.head(), req, overrides, gas, nextBlock, timestamp };
    if (p.deadline !== undefined) call.dl = p.deadline;
    slot.outbox.push(call);
    if (slot.outbox.length === 1) setImmediate(() => this.#flush(slot));
    if (this.timeoutMs > 0 || p.deadline !== undefined) this.#arm();
  }

  /**
   * Post a worker's gathered calls as one message. A message wakes the worker (and its answer wakes
   * this thread): one per event-loop turn instead of one per call (ADR 0226). Calls are queued in the
   * same synchronous step that reads their height, and every diff flushes first, so a call still
   * reaches the worker before any later height's diff.
   */
  #flush(slot: Slot): void {
    const out = slot.outbox;
    if (out.length === 0) return;
    slot.outbox = [];
    if (slot.dead) return; // its inflight calls run here (exit handler) or were sent again (#expire)
    const msg: CallWorkerIn = out.length === 1 ? out[0]! : { t: 'calls', calls: out };
    slot.worker.postMessage(msg);
  }

  /** Answer a call geth's timeout (the configured bound, or the default one a request deadline stands in for). */
  #timedOut(p: Pending): void {
    this.timeouts++;
    const ms = this.timeoutMs;
    p.reject(new CallTimeoutError(ms > 0 ? ms : DEFAULT_CALL_TIMEOUT_MS));
  }

  /** Run a call on the main thread (no worker can): same answer, at the state current now. */
  #runHere(p: Pending): void {
    if (p.leg !== undefined) {
      p.reject(new LegOffWorker('its call worker died or was behind'));
      return;
    }
    this.#o.fallback.simulate(...p.args).then(p.resolve, p.reject);
  }

  /**
   * Check the running calls while any worker holds calls: often enough that a call is stopped within a
   * twentieth of the bound after it (10–250 ms), and not at all while the workers are idle.
   */
  #arm(): void {
    if (this.#watchdog !== undefined) return;
    const t = this.timeoutMs > 0 ? this.timeoutMs : DEFAULT_CALL_TIMEOUT_MS;
    const period = Math.min(250, Math.max(10, Math.floor(t / 20)));
    this.#watchdog = setInterval(() => this.#check(), period);
    this.#watchdog.unref();
  }

  #check(): void {
    const t = this.timeoutMs;
    const now = sharedClock();
    let busy = false;
    for (const s of [...this.#slots]) {
      if (s.dead || s.inflight.size === 0) continue;
      busy = true;
      // The id first: a start read after it is this call's or a later one's, never an earlier one's.
      const id = Number(Atomics.load(s.running, 0));
      if (id === 0) continue;
      const p = s.inflight.get(id);
      if (p === undefined) continue; // answered; its answer is on its way
      const started = Number(Atomics.load(s.running, 1)) / 1_000;
      const end = Math.min(
        t > 0 ? started + t : Number.POSITIVE_INFINITY,
        p.deadline ?? Number.POSITIVE_INFINITY,
      );
      if (now >= end) this.#expire(s, id, p);
    }
    if (!busy && this.#watchdog !== undefined) {
      clearInterval(this.#watchdog);
      this.#watchdog = undefined;
    }
  }

  /**
   * A call ran past its bound: answer it geth's timeout, end the worker (the only way to stop a running
   * simulation), spawn its replacement now and send the worker's other calls again, to the least busy
   * worker (the replacement included). None of them runs on the main thread (ADR 0286), the stopped call
   * nowhere (ADR 0288).
   */
  #expire(slot: Slot, id: number, p: Pending): void {
    slot.dead = true;
    slot.ready = false;
    slot.inflight.delete(id);
    const others = [...slot.inflight.values()];
    slot.inflight.clear();
    slot.outbox = [];
    void slot.worker.terminate();
    this.#timedOut(p);
    this.#o.logger?.warn(
      { worker: slot.index, timeoutMs: this.timeoutMs, requeued: others.length },
      'eth call ran past rpc.ethCallTimeoutMs; worker stopped and respawned',
    );
    if (this.#stopping) {
      for (const o of others) this.#runHere(o);
      return;
    }
    this.#respawn(slot);
    for (const o of others) this.#requeue(o);
  }

  /**
   * Send again a call a stopped or dead worker held: to the least busy worker, ready or loading in place of
   * one (the new one included). With none, a light call runs here and a heavy one gets -32003 (ADR 0316).
   */
  #requeue(p: Pending): void {
    let best: Slot | undefined;
    for (const s of this.#slots)
      if ((s.ready || s.respawn) && !s.dead && (best === undefined || s.inflight.size < best.inflight.size))
        best = s;
    if (best !== undefined) this.#send(best, p);
    // A call running when a worker exited never runs here (ADR 0316), even when the replacement it was
    // sent to could not start either.
    else if (p.crashes !== undefined) p.reject(new CallCrashedError());
    else if (p.args[2] <= MAIN_THREAD_MAX_GAS) this.#runHere(p);
    else p.reject(new RpcError(-32003, 'no eth call worker is running; retry later', { retryable: true }));
  }

  /**
   * A worker exited on its own (ADR 0316): the call it was running (if any) is the suspect. It is sent
   * again to a worker once, and answered CallCrashedError when it crashed a worker before: otherwise one
   * such call could end every worker in turn. It never runs on the main thread, which it could crash too.
   * The worker's other calls are sent again as a stopped worker's are.
   */
  #crashed(slot: Slot, code: number): void {
    this.crashes++;
    const runningId = Number(Atomics.load(slot.running, 0));
    const inflight = [...slot.inflight.entries()];
    slot.inflight.clear();
    slot.outbox = [];
    let suspect: Pending | undefined;
    for (const [id, p] of inflight) if (id === runningId) suspect = p;
    this.#o.logger?.warn(
      { worker: slot.index, code, running: suspect !== undefined, requeued: inflight.length },
      'eth call worker exited; respawning',
    );
    this.#respawn(slot);
    if (suspect !== undefined) suspect.crashes = (suspect.crashes ?? 0) + 1;
    for (const [, p] of inflight) {
      if (p !== suspect) this.#requeue(p);
      else if (p.crashes! < 2 && this.#slots.some((s) => (s.ready || s.respawn) && !s.dead)) this.#requeue(p);
      else p.reject(new CallCrashedError());
    }
  }

  /**
   * Spawn the replacement of a stopped or dead worker. If no thread can be made, or loaded (resources),
   * log it and leave none: calls go to the other workers, or run here; a half-made one takes none.
   */
  #respawn(old: Slot): void {
    try {
      void this.#spawn(old.index, true);
    } catch (err) {
      const fresh = this.#slots[old.index];
      if (fresh !== undefined && fresh !== old) {
        fresh.dead = true;
        void fresh.worker.terminate();
      }
      this.#o.logger?.error({ err, worker: old.index }, 'eth call worker could not be respawned');
    }
  }

  /** A thread of this pool (the test hook `newThread` or a plain Worker). */
  #thread(script: string, options?: WorkerOptions): Worker {
    const url = new URL(script, import.meta.url);
    return this.#o.newThread !== undefined ? this.#o.newThread(url, options) : new Worker(url, options);
  }

  /**
   * Spawn the seed replica (ADR 0315) from a snapshot of the executor's state, built here: the one the main
   * thread builds, at start and when the seed is lost (it runs no call; a crash there is a bug or resources).
   */
  #spawnSeed(): Seed {
    const worker = this.#thread('./call-seed.ts');
    const seed: Seed = { worker, ready: false, dead: false };
    this.#seed = seed;
    // The snapshot and its height are read in this synchronous step (postMessage clones the executor's
    // Map as it is now); diffs of later heights are posted after it (the seed ignores any at or below).
    this.snapshots++;
    const state = (this.#feed?.state ?? new Map<string, string>()) as Map<string, string>;
    worker.on('message', (m: { t: 'ready' }) => {
      if (m.t === 'ready') seed.ready = true;
    });
    worker.on('error', (err) => this.#o.logger?.warn({ err }, 'eth call seed error'));
    worker.on('exit', (code) => this.#seedLost(seed, code));
    try {
      worker.postMessage({ t: 'load', height: this.#o.head(), state } satisfies CallSeedIn);
    } catch (err) {
      // A seed without its snapshot would answer a `give` with an empty replica: it never takes one.
      seed.dead = true;
      void worker.terminate();
      throw err;
    }
    return seed;
  }

  /**
   * End the seed (ADR 0303): marked lost at once, so no `give` is posted to a thread that is ending (a
   * port posted there is dropped with the thread), then terminated; its exit event finds it handled.
   */
  #endSeed(seed: Seed, why: string): void {
    this.#o.logger?.warn({ why }, 'eth call seed ended by the pool; respawning it from a snapshot');
    this.#seedLost(seed, undefined);
    void seed.worker.terminate();
  }

  /**
   * The seed is lost (its thread exited, or the pool ended it): replace it from a snapshot, once, and hand
   * every worker still loading a port of the new seed (ADR 0303): a `give` the lost seed had not answered
   * is gone with it (its port closed with its thread). A worker loading is never terminated for this; only
   * when no seed can be made is it ended (its calls sent again), as it could never load.
   */
  #seedLost(seed: Seed, code: number | undefined): void {
    if (seed.dead) return;
    seed.dead = true;
    if (this.#stopping) return;
    // A seed that could not even load (a broken install) is not respawned in a loop.
    let again = seed.ready;
    if (code !== undefined) {
      if (again) this.#o.logger?.warn({ code }, 'eth call seed exited; respawning it from a snapshot');
      else this.#o.logger?.error({ code }, 'eth call seed exited before it was ready; workers cannot load');
    }
    let fresh: Seed | undefined;
    try {
      if (again) fresh = this.#spawnSeed();
    } catch (err) {
      // No thread (resources): workers cannot load until a respawn makes a seed again.
      again = false;
      this.#o.logger?.error({ err }, 'eth call seed could not be respawned');
    }
    for (const s of [...this.#slots]) {
      if (s.ready || s.dead) continue;
      if (fresh !== undefined && !fresh.dead && this.#reseed(s, fresh)) continue;
      if (s.dead) continue; // ended meanwhile (the fresh seed was lost too)
      s.dead = true;
      const inflight = [...s.inflight.values()];
      s.inflight.clear();
      s.outbox = [];
      void s.worker.terminate();
      for (const p of inflight) this.#requeue(p);
    }
  }

  /**
   * Ask `seed` for its replica on `port` (the other end is the worker's). False when the post failed: the
   * seed is then treated as lost, and the port is closed here, so the worker's end closes too.
   */
  #give(seed: Seed, port: MessagePort): boolean {
    try {
      seed.worker.postMessage({ t: 'give', port } satisfies CallSeedIn, [port]);
      return true;
    } catch (err) {
      port.close();
      this.#o.logger?.warn({ err }, 'eth call seed could not take a port');
      if (seed === this.#seed) this.#endSeed(seed, 'give failed');
      return false;
    }
  }

  /**
   * Hand a loading worker a port of `seed` in place of one the lost seed never answered (ADR 0303). The new
   * snapshot may be at a later height than calls already sent to the worker: it answers those `stale`, and
   * they are sent again then, at the height current then. (They are not sent again here: the first copy
   * would still run on the worker, unseen by the wall-clock check, which knows only the pool's ids.)
   */
  #reseed(slot: Slot, seed: Seed): boolean {
    const channel = new MessageChannel();
    try {
      slot.worker.postMessage({ t: 'seed', port: channel.port2 } satisfies CallWorkerIn, [channel.port2]);
    } catch (err) {
      channel.port1.close();
      this.#o.logger?.warn({ err, worker: slot.index }, 'eth call worker could not take a seed port');
      return false;
    }
    return this.#give(seed, channel.port1);
  }

  #spawn(index: number, respawn: boolean): Promise<void> {
    const running = new SharedArrayBuffer(16);
    const channel = new MessageChannel();
    const init: CallWorkerInit = {
      chainId: this.#o.chainId,
      coinbase: this.#o.coinbase,
      ...(this.#o.blockGasLimit !== undefined ? { blockGasLimit: this.#o.blockGasLimit } : {}),
      running,
      seed: channel.port2,
      ...(this.#o.crashTo !== undefined
        ? { crashTo: `0x${Buffer.from(this.#o.crashTo).toString('hex')}` }
        : {}),
    };
    const worker = this.#thread('./call-worker.ts', { workerData: init, transferList: [channel.port2] });
    const slot: Slot = {
      index,
      worker,
      ready: false,
      dead: false,
      respawn,
      inflight: new Map(),
      outbox: [],
      running: new BigInt64Array(running),
    };
    this.#slots[index] = slot;
    // The seed posts its replica at the height of the last diff posted to it before this `give`; every
    // later diff is posted to this worker too (it ignores any at or below the snapshot's height).
    // A seed lost from here on hands this worker a port of its replacement (#seedLost).
    const seed = this.#seed !== undefined && !this.#seed.dead ? this.#seed : this.#spawnSeed();
    this.#give(seed, channel.port1);
    return new Promise<void>((resolve) => {
      const settle = (a: CallWorkerAnswer): void => {
        const p = slot.inflight.get(a.id);
        if (p === undefined) return;
        slot.inflight.delete(a.id);
        if (a.t === 'done') p.resolve(a.r);
        else if (a.t === 'leg') p.leg?.done(a.a);
        else if (a.t === 'fail') {
          const e = a.e;
          p.reject(e.rpc ? new RpcError(e.code, e.message, e.data) : new Error(e.message));
        } else if (a.t === 'late') {
          // Its request's deadline passed while it waited: answered as stopped, the worker is fine.
          this.#timedOut(p);
        } else this.#requeue(p); // stale: its height is below the worker's snapshot (a reseed, ADR 0303)
      };
      worker.on('message', (m: CallWorkerAnswer | { t: 'ready' } | { t: 'many'; m: CallWorkerAnswer[] }) => {
        if (m.t === 'ready') {
          slot.ready = true;
          resolve();
        } else if (m.t === 'many') for (const a of m.m) settle(a);
        else settle(m);
      });
      worker.on('error', (err) => this.#o.logger?.warn({ err, worker: index }, 'eth call worker error'));
      worker.on('exit', (code) => {
        const wasReady = slot.ready;
        slot.ready = false;
        resolve();
        if (slot.dead) return;
        slot.dead = true;
        if (this.#stopping) {
          const inflight = [...slot.inflight.values()];
          slot.inflight.clear();
          for (const p of inflight) this.#runHere(p);
          return;
        }
        if (!wasReady) {
          // A worker that cannot even start (a broken install) is not respawned in a loop.
          this.#o.logger?.warn(
            { worker: index, code },
            'eth call worker exited before it was ready; calls run on the main thread',
          );
          const inflight = [...slot.inflight.values()];
          slot.inflight.clear();
          for (const p of inflight) this.#requeue(p);
          return;
        }
        this.#crashed(slot, code);
      });
    });
  }
}
