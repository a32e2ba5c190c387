import { MessageChannel, Worker, type WorkerOptions } from 'node:worker_threads';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { encodeFunctionData, type Hex, parseEther } from 'viem';
import { afterEach, describe, expect, it } from 'vitest';
import { CallPool, DEFAULT_CALL_DEPTH, MAIN_THREAD_MAX_GAS } from '../../../src/eth-rpc/call-pool.ts';
import {
  CallCrashedError,
  CallTimeoutError,
  goDuration,
  sharedClock,
} from '../../../src/eth-rpc/call-timeout.ts';
import type { CallRequest } from '../../../src/eth-rpc/params.ts';
import { parseStateOverrides } from '../../../src/eth-rpc/params.ts';
import { EvmStateReader } from '../../../src/eth-rpc/state.ts';
import { DEFAULT_EVM_FEE_RECIPIENT, evmStorageKey } from '../../../src/exec/index.ts';
import {
  abi,
  asBig,
  balanceKey,
  caller,
  common,
  hex,
  holder,
  holderHex,
  other,
  probe,
  stripped,
  token,
  word,
  world,
} from './evm-world.ts';

const call = (fn: string, args: unknown[]) => hex(encodeFunctionData({ abi, functionName: fn, args }));
/** The i-th bulk holder's address, and its token balance's state key (the token's mapping at slot 3). */
const bulkHolder = (i: number) => `0x${(0xb0_0000_0000 + i).toString(16).padStart(40, '0')}` as Hex;
const holderKey = (i: number) =>
  evmStorageKey(
    token,
    keccak_256(new Uint8Array([...new Uint8Array(12), ...hex(bulkHolder(i)), ...word(3n)])),
  );
const otherHex = `0x${Buffer.from(other).toString('hex')}` as Hex;

/** The executor's side: committed state, its height, and the diff feed (Executor.followState). */
function feed(state: Map<string, string>) {
  let height = 5;
  let reads = 0;
  const listeners = new Set<(h: number, d: readonly [string, string | null][]) => void>();
  return {
    get height() {
      return height;
    },
    /** How often the pool took the executor's whole state (to snapshot it on the main thread). */
    get stateReads() {
      return reads;
    },
    follow(listener: (h: number, d: readonly [string, string | null][]) => void) {
      listeners.add(listener);
      return {
        height,
        get state() {
          reads++;
          return state;
        },
        stop: () => listeners.delete(listener),
      };
    },
    /** Commit a height: the map and the height change now; the diff goes out only when `announce` runs. */
    commit(diff: [string, string | null][]): () => void {
      for (const [k, v] of diff) {
        if (v === null) state.delete(k);
        else state.set(k, v);
      }
      height++;
      const h = height;
      return () => {
        for (const fn of listeners) fn(h, diff);
      };
    },
  };
}

const pools: CallPool[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) await p.stop();
});

/** An address whose code (given as a state override) loops forever: JUMPDEST PUSH1 0 JUMP. */
const LOOP = new Uint8Array(20).fill(0x0e);
const loopOverride = parseStateOverrides({ [`0x${'0e'.repeat(20)}`]: { code: '0x5b600056' } }, 1000);
/** Gas no loop spends in a test's lifetime (~10^11 iterations): only the wall-clock bound ends it. */
const ENDLESS = 1n << 40n;

/** An address whose calls end their worker thread (the pool's `crashTo` test hook). */
const CRASH = new Uint8Array(20).fill(0xcc);

/**
 * `depth` null: the pool's default (DEFAULT_CALL_DEPTH). `timeoutMs`: the pool's wall-clock bound. `size`:
 * workers (1). `holders`: that many more token holders in the state (holder i owns i + 1).
 */
async function setup(
  depth: number | null = 1_000,
  opts: {
    timeoutMs?: number;
    size?: number;
    holders?: number;
    newThread?: (script: URL, options?: WorkerOptions) => Worker;
  } = {},
) {
  const state = await world();
  for (let i = 0; i < (opts.holders ?? 0); i++) state.set(holderKey(i), stripped(word(BigInt(i + 1))));
  const f = feed(state);
  const main = new EvmStateReader((k) => state.get(k), common);
  let mainRuns = 0;
  const warnings: string[] = [];
  const fallback = new Proxy(main, {
    get(target, prop) {
      if (prop === 'simulate')
        return (...args: Parameters<EvmStateReader['simulate']>) => {
          mainRuns++;
          // The endless loop would hold this thread (and the test) for hours: refuse it, and count it.
          if (args[0].to !== undefined && Buffer.from(args[0].to).equals(Buffer.from(LOOP)))
            return Promise.reject(new Error('the endless loop reached the main thread'));
          return target.simulate(...args);
        };
      return Reflect.get(target, prop);
    },
  });
  const pool = new CallPool({
    size: opts.size ?? 1,
    crashTo: CRASH,
    ...(depth === null ? {} : { depth }),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.newThread !== undefined ? { newThread: opts.newThread } : {}),
    chainId: 900_001,
    coinbase: DEFAULT_EVM_FEE_RECIPIENT,
    follow: (l) => f.follow(l),
    head: () => f.height,
    fallback,
    logger: {
      warn: (_o: unknown, msg: string) => warnings.push(msg),
      error: (_o: unknown, msg: string) => warnings.push(msg),
    } as never,
  });
  pools.push(pool);
  await pool.start();
  expect(pool.ready).toBe(opts.size ?? 1);
  return { state, f, main, pool, mainRuns: () => mainRuns, warnings };
}

/** Wait until `cond` holds, at most `ms` (then fail): no test waits unbounded. */
async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 10)))
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
}

/** A promise's outcome within `ms` (then fail), an error as its value. */
function within<T>(p: Promise<T>, ms = 20_000): Promise<T | unknown> {
  return Promise.race([
    p.catch((e: unknown) => e),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref()),
  ]);
}

describe('eth_call on call workers', () => {
  it('answers exactly as the main thread, errors included', async () => {
    const { main, pool, mainRuns } = await setup();
    const over = parseStateOverrides(
      { [`0x${'07'.repeat(20)}`]: { stateDiff: { [`0x${'00'.repeat(31)}02`]: `0x${'00'.repeat(31)}05` } } },
      1000,
    );
    const cases: [CallRequest, bigint, typeof over][] = [
      [{ to: token, data: call('balanceOf', [holderHex]) }, 50_000_000n, []],
      [{ to: token, data: call('totalSupply', []) }, 50_000_000n, over],
      [{ from: holder, to: token, data: call('transfer', [otherHex, 1n]) }, 50_000_000n, []],
      [{ from: other, to: token, data: call('transfer', [holderHex, 1n]) }, 50_000_000n, []], // revert
      [{ from: holder, to: token, data: call('transfer', [otherHex, 1n]) }, 30_000n, []], // out of gas
      [{ from: holder, to: token, data: call('transfer', [otherHex, 1n]) }, 22_000n, []], // below intrinsic
      [{ from: holder, to: probe, value: 3n, gasPrice: 9n }, 100_000n, []],
      [{ to: caller, data: call('symbol', []) }, 1_000_000n, []],
      [{ from: holder, to: probe, gasPrice: 1n << 255n }, 100_000n, []], // gas × price > 2^256: -32602
      [{ from: holder, data: hex('0x600160005260206000f3') }, 100_000n, []], // a creation
    ];
    const settle = (p: Promise<unknown>) =>
      p.catch((e: unknown) => ({
        threw: (e as Error).message,
        code: (e as { code?: number }).code,
        name: (e as Error).name,
      }));
    for (let round = 0; round < 2; round++) {
      for (const [req, gas, o] of cases) {
        const a = await settle(pool.simulate(req, o, gas, 12, 2000));
        const b = await settle(main.simulate(req, o, gas, 12, 2000));
        expect(a).toEqual(b);
      }
    }
    expect(mainRuns()).toBe(0); // every one of them ran on the worker
    const bal = await pool.simulate(cases[0]![0], [], 50_000_000n, 12, 2000);
    expect(asBig(bal.returnValue)).toBe(parseEther('1000'));
    await expect(pool.simulate(cases[8]![0], [], 100_000n, 12, 2000)).rejects.toMatchObject({
      code: -32602,
    });
  });

  it('runs a call at the height the main thread had when it was sent, not before, not after', async () => {
    const { f, pool, mainRuns } = await setup();
    const req = { to: token, data: call('balanceOf', [holderHex]) };
    const balance = async () => asBig((await pool.simulate(req, [], 1_000_000n, 12, 2000)).returnValue);
    expect(await balance()).toBe(parseEther('1000'));

    // Height 6 is committed (the main thread's map has it) but its diff is still on the way: a call
    // sent now must see height 6, so it waits for the diff.
    const announce6 = f.commit([[balanceKey, stripped(word(6n))]]);
    const at6 = balance();
    let settled = false;
    void at6.then(() => {
      settled = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    announce6();
    expect(await at6).toBe(6n);

    // A call sent at height 6 answers for 6 even when height 7 lands right after it was sent.
    const sent6 = balance();
    const announce7 = f.commit([[balanceKey, stripped(word(7n))]]);
    announce7();
    expect(await sent6).toBe(6n);
    expect(await balance()).toBe(7n);

    // A deleted slot reads as zero on the worker too.
    f.commit([[balanceKey, null]])();
    expect(await balance()).toBe(0n);
    expect(mainRuns()).toBe(0);
  });

  it('runs what overflows the workers on the main thread, with the same answers', async () => {
    const { pool, mainRuns } = await setup(1);
    const req = { to: token, data: call('balanceOf', [holderHex]) };
    const out = await Promise.all(
      Array.from({ length: 8 }, () => pool.simulate(req, [], 1_000_000n, 12, 2000)),
    );
    expect(mainRuns()).toBeGreaterThan(0);
    expect(mainRuns()).toBeLessThan(8);
    for (const r of out) expect(asBig(r.returnValue)).toBe(parseEther('1000'));
    // a batch entry (`here`) runs on the calling thread even with a worker free
    const before = mainRuns();
    const here = await pool.simulate(req, [], 1_000_000n, 12, 2000, { here: true });
    expect(asBig(here.returnValue)).toBe(parseEther('1000'));
    expect(mainRuns()).toBe(before + 1);
  });

  it('never runs a heavy call on the main thread while a worker is ready, a batch entry included (ADR 0286)', async () => {
    const { pool, mainRuns } = await setup(1);
    const req = { to: token, data: call('balanceOf', [holderHex]) };
    const gas = MAIN_THREAD_MAX_GAS + 1n; // every call naming no gas runs with 50 M
    const out = await Promise.all(Array.from({ length: 8 }, () => pool.simulate(req, [], gas, 12, 2000)));
    const here = await pool.simulate(req, [], 50_000_000n, 12, 2000, { here: true });
    expect(mainRuns()).toBe(0); // past the worker's depth of 1, still none
    for (const r of [...out, here]) expect(asBig(r.returnValue)).toBe(parseEther('1000'));
  });

  it('by default a worker holds 64 calls before the main thread takes one (ADR 0245)', async () => {
    const { pool, mainRuns } = await setup(null);
    expect(DEFAULT_CALL_DEPTH).toBe(64);
    const req = { to: token, data: call('balanceOf', [holderHex]) };
    // 16 single requests in flight (the bench's load) all go to the worker: the main thread, which
    // does every call's HTTP exchange anyway, runs none of them.
    const sixteen = await Promise.all(
      Array.from({ length: 16 }, () => pool.simulate(req, [], 1_000_000n, 12, 2000)),
    );
    expect(mainRuns()).toBe(0);
    const all = await Promise.all(
      Array.from({ length: DEFAULT_CALL_DEPTH + 2 }, () => pool.simulate(req, [], 1_000_000n, 12, 2000)),
    );
    expect(mainRuns()).toBe(2); // only what passed the depth
    for (const r of [...sixteen, ...all]) expect(asBig(r.returnValue)).toBe(parseEther('1000'));
  });

  it('a worker that misses a height ends; its calls go to its replacement, which comes back current', async () => {
    const { f, pool, mainRuns } = await setup();
    const req = { to: token, data: call('balanceOf', [holderHex]) };
    const balance = async () => asBig((await pool.simulate(req, [], 1_000_000n, 12, 2000)).returnValue);
    f.commit([[balanceKey, stripped(word(6n))]]); // height 6: its diff is lost
    const waiting = balance(); // sent at 6: parked on the worker
    await new Promise((r) => setTimeout(r, 20));
    f.commit([[balanceKey, stripped(word(7n))]])(); // height 7 arrives without 6: the worker ends
    // Sent again to the replacement (ADR 0316), at the height current then.
    expect(await within(waiting)).toBe(7n);
    expect(pool.crashes).toBe(1);
    await until(() => pool.ready === 1);
    expect(await balance()).toBe(7n); // the respawned worker starts from height 7
    expect(mainRuns()).toBe(0);
    // The seed missed height 6 as well: it was replaced from a snapshot of the state at 7 (the one snapshot
    // since start's the main thread built).
    expect(pool.snapshots).toBe(2);
    expect(f.stateReads).toBe(2);
  });

  it('stop() answers calls still waiting on a worker from the main thread', async () => {
    const { f, pool, mainRuns } = await setup();
    f.commit([[balanceKey, stripped(word(9n))]]); // never announced: the worker would wait forever
    const req = { to: token, data: call('balanceOf', [holderHex]) };
    const pending = pool.simulate(req, [], 1_000_000n, 12, 2000);
    await new Promise((r) => setTimeout(r, 20));
    await pool.stop();
    expect(asBig((await pending).returnValue)).toBe(9n);
    expect(mainRuns()).toBe(1);
    // after stop, calls run on the main thread
    expect(asBig((await pool.simulate(req, [], 1_000_000n, 12, 2000)).returnValue)).toBe(9n);
  });
});

describe('the wall-clock bound on calls (rpc.ethCallTimeoutMs, ADR 0288)', () => {
  const balanceReq = { to: token, data: call('balanceOf', [holderHex]) };

  // Bounds are short for the loop (it never ends: only the bound stops it) and long next to what an
  // ordinary call takes even on a loaded host (a fresh worker's first balanceOf: 15–70 ms at load 8).
  it("answers geth's timeout, replaces the worker, re-sends the calls behind it, never runs the loop on the main thread", async () => {
    const { pool, mainRuns, warnings } = await setup(1_000, { timeoutMs: 1_000 });
    // Sent in one turn, so both reach the worker in one message: the balance calls wait behind the loop.
    const looping = within(pool.simulate({ to: LOOP }, loopOverride, ENDLESS, 12, 2000));
    const heavyBehind = pool.simulate(balanceReq, [], 50_000_000n, 12, 2000);
    const lightBehind = pool.simulate(balanceReq, [], 100_000n, 12, 2000);
    const err = await looping;
    expect(err).toBeInstanceOf(CallTimeoutError);
    expect(err).toMatchObject({
      code: -32000,
      message: 'execution aborted (timeout = 1s)',
      data: undefined,
    });
    // The calls behind it were sent again (to the replacement) and answered, none by the main thread.
    expect(asBig(((await within(heavyBehind)) as { returnValue: Uint8Array }).returnValue)).toBe(
      parseEther('1000'),
    );
    expect(asBig(((await within(lightBehind)) as { returnValue: Uint8Array }).returnValue)).toBe(
      parseEther('1000'),
    );
    expect(pool.timeouts).toBe(1);
    expect(warnings).toContain('eth call ran past rpc.ethCallTimeoutMs; worker stopped and respawned');
    await until(() => pool.ready === 1);
    expect(asBig((await pool.simulate(balanceReq, [], 50_000_000n, 12, 2000)).returnValue)).toBe(
      parseEther('1000'),
    );
    // A second loop is stopped as well: every respawned worker is bounded the same way.
    expect(await within(pool.simulate({ to: LOOP }, loopOverride, ENDLESS, 12, 2000))).toBeInstanceOf(
      CallTimeoutError,
    );
    expect(pool.timeouts).toBe(2);
    expect(mainRuns()).toBe(0);
  });

  it('a heavy call sent while the replacement loads waits for it, not the main thread', async () => {
    const { pool, mainRuns } = await setup(1_000, { timeoutMs: 60_000 });
    // Stopped at its request's deadline (as an eth_estimateGas is), so the heavy call after it has 60 s.
    await within(
      pool.simulate({ to: LOOP }, loopOverride, ENDLESS, 12, 2000, { deadline: sharedClock() + 300 }),
    );
    expect(pool.timeouts).toBe(1);
    // Straight after the stop: the new worker is still loading its snapshot.
    expect(pool.ready).toBe(0);
    const heavy = await within(pool.simulate(balanceReq, [], 50_000_000n, 12, 2000));
    expect(asBig((heavy as { returnValue: Uint8Array }).returnValue)).toBe(parseEther('1000'));
    expect(mainRuns()).toBe(0);
  });

  it("stops a call at its request's deadline (eth_estimateGas's budget), and does not start one past it", async () => {
    const { pool, mainRuns, warnings } = await setup(1_000, { timeoutMs: 0 }); // no per-call bound
    const err = await within(
      pool.simulate({ to: LOOP }, loopOverride, ENDLESS, 12, 2000, { deadline: sharedClock() + 300 }),
    );
    expect(err).toBeInstanceOf(CallTimeoutError);
    expect(pool.timeouts).toBe(1);
    await until(() => pool.ready === 1);
    // A call whose deadline has passed when the worker reaches it is answered without running it, and
    // the worker is kept.
    const restarts = warnings.length;
    const late = await within(
      pool.simulate(balanceReq, [], 50_000_000n, 12, 2000, { deadline: sharedClock() - 1 }),
    );
    expect(late).toBeInstanceOf(CallTimeoutError);
    expect(pool.timeouts).toBe(2);
    expect(warnings.length).toBe(restarts);
    expect(asBig((await pool.simulate(balanceReq, [], 50_000_000n, 12, 2000)).returnValue)).toBe(
      parseEther('1000'),
    );
    expect(mainRuns()).toBe(0);
  });

  it('a respawn on a large state builds no snapshot on the main thread: the replacement loads from the seed', async () => {
    const holders = 50_000;
    const { f, pool, mainRuns } = await setup(1_000, { timeoutMs: 1_000, holders });
    expect(pool.snapshots).toBe(1); // the seed's, at start; the worker loaded from the seed
    expect(f.stateReads).toBe(1);
    const balanceOf = (i: number) => ({ to: token, data: call('balanceOf', [bulkHolder(i)]) });
    const looping = within(pool.simulate({ to: LOOP }, loopOverride, ENDLESS, 12, 2000));
    const behind = pool.simulate(balanceOf(holders - 1), [], 50_000_000n, 12, 2000);
    expect(await looping).toBeInstanceOf(CallTimeoutError);
    // A height committed while the replacement loads reaches it too.
    f.commit([[holderKey(7), stripped(word(777n))]])();
    expect(asBig(((await within(behind)) as { returnValue: Uint8Array }).returnValue)).toBe(BigInt(holders));
    await until(() => pool.ready === 1);
    expect(asBig((await pool.simulate(balanceOf(7), [], 50_000_000n, 12, 2000)).returnValue)).toBe(777n);
    expect(asBig((await pool.simulate(balanceOf(12_345), [], 50_000_000n, 12, 2000)).returnValue)).toBe(
      12_346n,
    );
    // Twice more: each respawn costs the main thread no snapshot of the state.
    for (let i = 0; i < 2; i++)
      expect(await within(pool.simulate({ to: LOOP }, loopOverride, ENDLESS, 12, 2000))).toBeInstanceOf(
        CallTimeoutError,
      );
    await until(() => pool.ready === 1);
    expect(pool.timeouts).toBe(3);
    expect(pool.snapshots).toBe(1);
    expect(f.stateReads).toBe(1);
    expect(mainRuns()).toBe(0);
  });

  it("formats the bound as geth's Go duration", () => {
    expect(goDuration(300)).toBe('300ms');
    expect(goDuration(5_000)).toBe('5s');
    expect(goDuration(1_500)).toBe('1.5s');
    expect(goDuration(120_000)).toBe('2m0s');
    expect(goDuration(90_250)).toBe('1m30.25s');
    expect(goDuration(3_600_000)).toBe('1h0m0s');
    expect(new CallTimeoutError(5_000).message).toBe('execution aborted (timeout = 5s)');
  });
});

describe('call workers that crash (ADR 0316)', () => {
  const balanceReq = { to: token, data: call('balanceOf', [holderHex]) };

  it("sends a crashed worker's calls to a worker, never the main thread; the call running then is answered an error after a second crash", async () => {
    const { pool, mainRuns, warnings } = await setup(1_000, { size: 3 });
    // One message to one worker: the crashing call runs first, the others wait behind it.
    const crashing = within(pool.simulate({ to: CRASH }, [], 50_000_000n, 12, 2000));
    const heavyBehind = pool.simulate(balanceReq, [], 50_000_000n, 12, 2000);
    const lightBehind = pool.simulate(balanceReq, [], 100_000n, 12, 2000);
    const err = await crashing;
    expect(err).toBeInstanceOf(CallCrashedError);
    expect(err).toMatchObject({
      code: -32000,
      message: 'execution aborted (the call ended its call worker twice)',
    });
    // It ended two workers (sent again once), not all three.
    expect(pool.crashes).toBe(2);
    for (const r of [await within(heavyBehind), await within(lightBehind)])
      expect(asBig((r as { returnValue: Uint8Array }).returnValue)).toBe(parseEther('1000'));
    expect(mainRuns()).toBe(0);
    expect(warnings.filter((w) => w === 'eth call worker exited; respawning')).toHaveLength(2);
    await until(() => pool.ready === 3);
    expect(pool.snapshots).toBe(1); // both replacements loaded from the seed
    expect(asBig((await pool.simulate(balanceReq, [], 50_000_000n, 12, 2000)).returnValue)).toBe(
      parseEther('1000'),
    );
    expect(mainRuns()).toBe(0);
  });

  it('with a single worker the crashing call is sent to its replacement once, then answered an error', async () => {
    const { pool, mainRuns } = await setup(1_000, { size: 1 });
    const light = within(pool.simulate({ to: CRASH }, [], 100_000n, 12, 2000));
    expect(await light).toBeInstanceOf(CallCrashedError); // light, yet never run on the main thread
    expect(pool.crashes).toBe(2);
    await until(() => pool.ready === 1);
    expect(asBig((await pool.simulate(balanceReq, [], 50_000_000n, 12, 2000)).returnValue)).toBe(
      parseEther('1000'),
    );
    expect(mainRuns()).toBe(0);
  });
});

describe('thread hand-overs that fail or race (ADR 0303)', () => {
  const balanceReq = { to: token, data: call('balanceOf', [holderHex]) };
  const isWorker = (url: URL) => url.pathname.endsWith('/call-worker.ts');
  const retryable = { code: -32003, message: 'no eth call worker is running; retry later' };

  /**
   * A pool of one worker whose replacements `replace` makes: a call ends the worker, a heavy and a light
   * call are sent behind it at once; the pool and the three answers.
   */
  async function crashWithReplacement(replace: (url: URL, o?: WorkerOptions) => Worker) {
    let failing = false;
    const newThread = (url: URL, o?: WorkerOptions) =>
      failing && isWorker(url) ? replace(url, o) : new Worker(url, o);
    const { pool, mainRuns, warnings } = await setup(1_000, { newThread });
    failing = true;
    const crashing = within(pool.simulate({ to: CRASH }, [], 100_000n, 12, 2000));
    const heavy = within(pool.simulate(balanceReq, [], 50_000_000n, 12, 2000));
    const light = within(pool.simulate(balanceReq, [], 100_000n, 12, 2000));
    return { pool, mainRuns, warnings, crashing, heavy, light };
  }

  it('a replacement that cannot be spawned: light calls run here, heavy ones get -32003, the suspect an error', async () => {
    const { pool, mainRuns, warnings, crashing, heavy, light } = await crashWithReplacement(() => {
      throw new Error('no thread for you');
    });
    // The call that ended the worker never runs on the main thread, light as it is (ADR 0316).
    expect(await crashing).toBeInstanceOf(CallCrashedError);
    expect(await heavy).toMatchObject(retryable);
    expect(asBig(((await light) as { returnValue: Uint8Array }).returnValue)).toBe(parseEther('1000'));
    expect(mainRuns()).toBe(1);
    expect(pool.crashes).toBe(1);
    expect(pool.ready).toBe(0);
    expect(warnings).toContain('eth call worker could not be respawned');
    // Without a worker, calls run here as they do without workers.
    expect(asBig((await pool.simulate(balanceReq, [], 100_000n, 12, 2000)).returnValue)).toBe(
      parseEther('1000'),
    );
  });

  it('a replacement that exits at once: its calls are answered the same way, never lost', async () => {
    const { pool, mainRuns, warnings, crashing, heavy, light } = await crashWithReplacement(
      (_url, o) => new Worker('process.exit(3)', { ...o, eval: true }),
    );
    expect(await crashing).toBeInstanceOf(CallCrashedError);
    expect(await heavy).toMatchObject(retryable);
    expect(asBig(((await light) as { returnValue: Uint8Array }).returnValue)).toBe(parseEther('1000'));
    expect(mainRuns()).toBe(1);
    expect(warnings).toContain('eth call worker exited before it was ready; calls run on the main thread');
    // The seed's answer to the vanished replacement went nowhere; the seed lives on and serves a stop.
    expect(pool.snapshots).toBe(1);
  });

  it('a call worker loads from the first seed port that answers and closes the others', async () => {
    const state = await world();
    const first = new MessageChannel();
    const second = new MessageChannel();
    const worker = new Worker(new URL('../../../src/eth-rpc/call-worker.ts', import.meta.url), {
      workerData: { chainId: 900_001, coinbase: DEFAULT_EVM_FEE_RECIPIENT, seed: first.port2 },
      transferList: [first.port2],
    });
    try {
      const answers: { t: string; id?: number }[] = [];
      worker.on('message', (m: { t: string; id?: number }) => answers.push(m));
      let firstClosed = false;
      first.port1.once('close', () => {
        firstClosed = true;
      });
      // The pool's second port, as after a lost seed; it answers, the first never does.
      worker.postMessage({ t: 'seed', port: second.port2 }, [second.port2]);
      second.port1.postMessage({ t: 'load', height: 5, state });
      await until(() => answers.some((a) => a.t === 'ready'));
      await until(() => firstClosed);
      // A call at the second snapshot's height runs there (`done`, not `stale`).
      worker.postMessage({
        t: 'call',
        id: 1,
        v: 5,
        req: { to: token, data: call('balanceOf', [holderHex]) },
        overrides: [],
        gas: 1_000_000n,
        nextBlock: 6,
        timestamp: 0,
      });
      await until(() => answers.some((a) => a.id === 1));
      expect(answers.find((a) => a.id === 1)?.t).toBe('done');
      expect(answers.filter((a) => a.t === 'ready')).toHaveLength(1);
    } finally {
      await worker.terminate();
    }
  });

  it('a seed lost before it answered a replacement: the replacement gets a port of the new seed, not a terminate', async () => {
    // The first seed serves the first worker, keeps every later port unanswered, and exits at the next
    // diff after one: the `give` of the replacement is lost with it.
    const stub = `
      const { parentPort } = require('node:worker_threads');
      let replica = new Map(), height = -1, gives = 0;
      const held = [];
      parentPort.on('message', (m) => {
        if (m.t === 'load') { replica = m.state; height = m.height; parentPort.postMessage({ t: 'ready' }); }
        else if (m.t === 'diff') { if (held.length > 0) process.exit(9); }
        else if (++gives === 1) { m.port.postMessage({ t: 'load', height, state: replica }); m.port.close(); }
        else held.push(m.port);
      });`;
    let seeds = 0;
    let workers = 0;
    const newThread = (url: URL, o?: WorkerOptions) => {
      if (isWorker(url)) workers++;
      else if (++seeds === 1) return new Worker(stub, { ...o, eval: true });
      return new Worker(url, o);
    };
    const { f, pool, mainRuns, warnings } = await setup(1_000, { timeoutMs: 1_000, newThread });
    const looping = within(pool.simulate({ to: LOOP }, loopOverride, ENDLESS, 12, 2000));
    const behind = within(pool.simulate(balanceReq, [], 50_000_000n, 12, 2000));
    expect(await looping).toBeInstanceOf(CallTimeoutError);
    expect(workers).toBe(2); // the replacement waits for the stub's answer, which never comes
    await new Promise((r) => setTimeout(r, 100));
    expect(pool.ready).toBe(0);
    f.commit([[balanceKey, stripped(word(6n))]])(); // the stub exits
    expect(asBig(((await behind) as { returnValue: Uint8Array }).returnValue)).toBe(6n);
    await until(() => pool.ready === 1);
    expect(seeds).toBe(2);
    expect(workers).toBe(2); // reseeded in place: no third thread, no terminate while it loaded
    expect(pool.snapshots).toBe(2);
    expect(warnings).toContain('eth call seed exited; respawning it from a snapshot');
    expect(asBig((await pool.simulate(balanceReq, [], 50_000_000n, 12, 2000)).returnValue)).toBe(6n);
    expect(mainRuns()).toBe(0);
  });
});
