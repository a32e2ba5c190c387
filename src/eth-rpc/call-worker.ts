/**
 * An Ethereum RPC call worker thread (ADR 0205): runs `eth_call` / `eth_estimateGas` simulations of one
 * EVM rollup off the node's main thread, against its own replica of that rollup's committed state.
 *
 * The replica starts from a snapshot at a known executed height and applies each later height's net diff
 * (the executor's `followState` feed, forwarded by call-pool.ts). Every call names the height the main
 * thread's state had when the request was dispatched (`v`): the worker runs it exactly at that height —
 * a call for a height whose diff has not arrived yet waits for it (messages are ordered, and the diff is
 * always posted after the main thread's state changed), a call for an older height (sent before the pool
 * handed this worker a newer seed's snapshot, ADR 0303) is answered `stale` and the pool sends it again
 * at the height current then. Messages are handled one at
 * a time, so a diff never lands in the middle of a simulation.
 *
 * Messages in:  {t:'load', height, state}     snapshot: the first message, on the `init.seed` port (the
 *                                             seed replica's, call-seed.ts, ADR 0315); messages on
 *                                             the parent port wait for it
 *               {t:'diff', height, diff}      a committed height's net diff (null = deleted)
 *               {t:'call', id, v, req, overrides, gas, nextBlock, timestamp, dl?}
 *               {t:'calls', calls: [call, …]} calls the main thread gathered in one event-loop turn
 *               {t:'leg', id, v, job}         a bundle leg (bundle-sim-worker.ts, ADR 0305): run as a
 *                                             call is (same height rule, bound and answers), but the
 *                                             executor's leg simulation
 *               {t:'seed', port}              another seed port, posted when the seed asked first was
 *                                             lost before it answered (ADR 0303): handled at once, not
 *                                             queued; the first port that brings a snapshot wins
 * Messages out: {t:'ready'} after the snapshot (and one throw-away call that builds the VM, and one
 *                                             throw-away leg that builds the leg VM, ADR 0306);
 *               {t:'done', id, r} | {t:'leg', id, a} | {t:'fail', id, e} | {t:'stale', id}
 *               | {t:'late', id} (its deadline `dl` passed before it started: not run),
 *               or {t:'many', m: [answer, …]}: answers are gathered until the messages that arrived
 *               together are handled, then posted as one (ADR 0226: a message wakes the other thread,
 *               which cost more than a balanceOf's EVM run when each answer went alone).
 *
 * The running call (ADR 0288): before a simulation starts the worker writes its start time and then its
 * id into `init.running` (shared memory, no message), and 0 as the id when it ends. The pool reads them
 * to stop a call that runs past `rpc.ethCallTimeoutMs`: a simulation yields only to microtasks, so the
 * worker cannot stop one itself; the pool ends the whole thread (`worker.terminate()`).
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { evmCustomCrypto } from '../exec/index.ts';
import { RpcError } from '../rpc/index.ts';
import { runLegJob, warmLegVm } from './bundle-sim-worker.ts';
import { sharedClock } from './call-timeout.ts';
import type { LegAnswer, LegJob } from './leg-job.ts';
import type { AccountOverride, CallRequest } from './params.ts';
import { EvmStateReader, type SimResult } from './state.ts';

export interface CallWorkerInit {
  chainId: number;
  /** 0x fee recipient (the call block's coinbase). */
  coinbase: string;
  /** The rollup's block gas limit (the calls' GASLIMIT, ADR 0285). */
  blockGasLimit?: bigint;
  /**
   * 16 bytes shared with the pool (a BigInt64Array of 2): [id of the call running now or 0, its start on
   * `sharedClock()` in µs]. Absent: nothing is published (no bound).
   */
  running?: SharedArrayBuffer;
  /** Where the snapshot comes from (ADR 0315): one `load` message, posted by the seed replica. */
  seed: MessagePort;
  /** Test hook: a call to this 0x address ends the thread (exit code 70) as it starts, as a crash would. */
  crashTo?: string;
}

export type CallWorkerIn =
  | { t: 'load'; height: number; state: Map<string, string> }
  | { t: 'diff'; height: number; diff: readonly [string, string | null][] }
  | {
      t: 'call';
      id: number;
      v: number;
      req: CallRequest;
      overrides: AccountOverride[];
      gas: bigint;
      nextBlock: number;
      timestamp: number;
      /** Deadline on `sharedClock()` (an eth_estimateGas request's budget): past it the call is not run. */
      dl?: number;
    }
  | { t: 'calls'; calls: Extract<CallWorkerIn, { t: 'call' | 'leg' }>[] }
  | { t: 'seed'; port: MessagePort }
  | { t: 'leg'; id: number; v: number; job: LegJob; dl?: number };

/** What a worker posts back for one call. */
export type CallWorkerAnswer =
  | { t: 'done'; id: number; r: SimResult }
  | { t: 'leg'; id: number; a: LegAnswer }
  | { t: 'fail'; id: number; e: CallWorkerError }
  | { t: 'stale'; id: number }
  | { t: 'late'; id: number };

/** A simulation's error as it crosses the thread boundary: an RpcError keeps its code and data. */
export interface CallWorkerError {
  rpc: boolean;
  code: number;
  message: string;
  data?: unknown;
}

type Call = Extract<CallWorkerIn, { t: 'call' }>;
type Leg = Extract<CallWorkerIn, { t: 'leg' }>;

const port = parentPort;
if (port === null) throw new Error('the call worker must run in a worker thread');
const init = workerData as CallWorkerInit;
const running = init.running === undefined ? undefined : new BigInt64Array(init.running);
const hexOf = (b: Uint8Array): string => `0x${Buffer.from(b).toString('hex')}`;

let replica = new Map<string, string>();
let height = -1;
/** Calls for a height not reached yet, in arrival order. */
const parked: (Call | Leg)[] = [];
let chain: Promise<void> = Promise.resolve();

const common = createCustomCommon({ chainId: init.chainId }, Mainnet, {
  hardfork: Hardfork.Prague,
  customCrypto: evmCustomCrypto,
});
const reader = new EvmStateReader(
  (k) => replica.get(k),
  common,
  init.coinbase,
  init.blockGasLimit === undefined ? {} : { blockGasLimit: init.blockGasLimit },
);

/** Answers not posted yet; flushed once the messages that arrived together are handled. */
let outbox: CallWorkerAnswer[] = [];
function answer(a: CallWorkerAnswer): void {
  outbox.push(a);
  if (outbox.length === 1) setImmediate(flush);
}
function flush(): void {
  const out = outbox;
  outbox = [];
  if (out.length > 0) port!.postMessage(out.length === 1 ? out[0] : { t: 'many', m: out });
}

/**
 * A bundle leg (ADR 0305): the same height rule, deadline and `running` slot as a call, then the
 * executor's leg simulation (bundle-sim-worker.ts) on the replica.
 */
/**
 * What a call and a bundle leg do before they run: the height rule (`stale`), the deadline (`late`), then
 * the `running` slot the pool's wall-clock check reads. False when the job was answered without running.
 */
function begin(m: Call | Leg): boolean {
  if (m.v !== height) {
    answer({ t: 'stale', id: m.id });
    return false;
  }
  if (m.dl !== undefined && sharedClock() >= m.dl) {
    answer({ t: 'late', id: m.id });
    return false;
  }
  if (running !== undefined) {
    // Start first, then the id: the pool reads the id first, so it never pairs it with an older start.
    Atomics.store(running, 1, BigInt(Math.round(sharedClock() * 1_000)));
    Atomics.store(running, 0, BigInt(m.id));
  }
  return true;
}

async function runLeg(m: Leg): Promise<void> {
  if (!begin(m)) return;
  try {
    const r = await runLegJob(m.job, height, (k) => replica.get(k));
    answer({ t: 'leg', id: m.id, a: { v: height, r } });
  } catch (err) {
    answer({
      t: 'fail',
      id: m.id,
      e: { rpc: false, code: 0, message: err instanceof Error ? err.message : String(err) },
    });
  } finally {
    if (running !== undefined) Atomics.store(running, 0, 0n);
  }
}

/** Run a call or a bundle leg. */
const runJob = (m: Call | Leg): Promise<void> => (m.t === 'leg' ? runLeg(m) : run(m));

async function run(m: Call): Promise<void> {
  if (!begin(m)) return;
  if (init.crashTo !== undefined && m.req.to !== undefined && hexOf(m.req.to) === init.crashTo)
    process.exit(70);
  try {
    const r = await reader.simulate(m.req, m.overrides, m.gas, m.nextBlock, m.timestamp);
    answer({ t: 'done', id: m.id, r });
  } catch (err) {
    const e: CallWorkerError =
      err instanceof RpcError
        ? { rpc: true, code: err.code, message: err.message, data: err.data }
        : { rpc: false, code: 0, message: err instanceof Error ? err.message : String(err) };
    answer({ t: 'fail', id: m.id, e });
  } finally {
    if (running !== undefined) Atomics.store(running, 0, 0n);
  }
}

async function handle(m: Exclude<CallWorkerIn, { t: 'calls' | 'seed' }>): Promise<void> {
  if (m.t === 'load') {
    replica = m.state;
    height = m.height;
    // Build the call VM now (its first simulation creates it): a call's wall-clock bound (ADR 0288)
    // should not pay for it, nor the first call after a respawn wait for it.
    await reader.simulate({ to: new Uint8Array(20) }, [], 100_000n, 0, 0).catch(() => {});
    // And the bundle legs' VM (ADR 0306), for the same reasons.
    await warmLegVm(init, common);
    port!.postMessage({ t: 'ready' });
  } else if (m.t === 'diff') {
    if (m.height <= height) return; // already in the snapshot
    if (m.height !== height + 1) {
      // A height's diff went missing: this replica is wrong from here on. End the thread; the pool runs
      // its calls on the main thread and respawns it from a fresh snapshot.
      process.exit(1);
    }
    for (const [k, v] of m.diff) {
      if (v === null) replica.delete(k);
      else replica.set(k, v);
    }
    height = m.height;
    while (parked.length > 0 && parked[0]!.v <= height) await runJob(parked.shift()!);
  } else if (m.v > height) {
    parked.push(m);
  } else {
    await runJob(m);
  }
}

// Everything on the parent port (diffs, calls) waits for the seed's snapshot, which arrives on its own port.
let loaded = false;
let snapshot: (load: Promise<void>) => void = () => {};
chain = new Promise<void>((resolve) => {
  snapshot = resolve;
});
/**
 * Take the snapshot from the first of the seed ports that answers (ADR 0303): the pool posts another one
 * (`{t:'seed', port}`) when the seed it asked first was lost before it answered. Every port is closed
 * once used or once the snapshot came on another one.
 */
const seedPorts = new Set<MessagePort>();
function listen(seed: MessagePort): void {
  if (loaded) {
    seed.close();
    return;
  }
  seedPorts.add(seed);
  seed.once('message', (m: Extract<CallWorkerIn, { t: 'load' }>) => {
    if (loaded) return;
    loaded = true;
    for (const p of seedPorts) p.close();
    seedPorts.clear();
    snapshot(handle(m));
  });
}
listen(init.seed);

port.on('message', (m: CallWorkerIn) => {
  if (m.t === 'seed') listen(m.port);
  else if (m.t === 'calls') for (const c of m.calls) chain = chain.then(() => handle(c));
  else chain = chain.then(() => handle(m));
});
