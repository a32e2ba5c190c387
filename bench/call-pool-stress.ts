/**
 * A stress run of the call pool's thread hand-overs (ADR 0303): many pools in one process, each driven
 * through the paths that end, replace and feed threads while others still talk to them, so a race
 * between a MessagePort hand-over and a thread's exit shows up as this process dying (a native abort
 * takes the whole process, as it took a vitest fork once). Scenarios, in a seeded random order:
 *
 *   crash:    a call that ends its worker (the `crashTo` hook), light and heavy calls behind it
 *   timeout:  a looping call stopped at a short bound; another loop sent to the replacement while it loads
 *   missed:   a height whose diff is lost (worker and seed both end), twice in a row, calls in between
 *   stop:     stop() while the replacements and the seed are loading
 *   early:    stop() before start() has finished
 *
 * Every call must settle (an answer or a typed error) within 30 s; the JSON counts what settled how.
 * Exit code 0 means every scenario ran and every call settled; a crash shows as the process's signal.
 *
 *   node bench/call-pool-stress.ts [--iterations 200] [--entries 20000] [--seed 1] [--only missed,crash]
 *                                  [--trail FILE] [--out FILE]
 *
 * Run it with `--report-on-fatalerror` (and `ulimit -c unlimited`) to keep what a crash leaves.
 */
import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import {
  CHAIN_ID,
  evmCommon,
  LOOP,
  loadCallPool,
  loopOverrides,
  type Pool,
  type StateDiff,
} from './lib/call-pool-fixture.ts';
import { writeResult } from './lib/json-out.ts';

const { values: args } = parseArgs({
  options: {
    iterations: { type: 'string', default: '200' },
    entries: { type: 'string', default: '20000' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
    /** A file each scenario's name is appended to before it runs: what was running when a crash hit. */
    trail: { type: 'string' },
    /** Run only these scenarios (comma-separated names). */
    only: { type: 'string' },
  },
});
const iterations = Number(args.iterations);
const entries = Number(args.entries);
const { CallPool, parseStateOverrides, EvmStateReader } = await loadCallPool();
const common = evmCommon();

/** A small seeded PRNG (mulberry32): the same --seed gives the same scenario order. */
let rs = Number(args.seed) >>> 0;
const rand = (): number => {
  rs = (rs + 0x6d2b79f5) >>> 0;
  let t = rs;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const CRASH = new Uint8Array(20).fill(0xcc);
const loop = loopOverrides(parseStateOverrides);
const PLAIN = new Uint8Array(20).fill(0x42);

const state = new Map<string, string>();
for (let i = 0; i < entries; i++) state.set(`k${i}`.padEnd(52, '.'), `v${i}`);

const tally = { answered: 0, errors: {} as Record<string, number>, unsettled: 0 };
/** Wait for a call's outcome (at most 30 s) and count it. */
async function settle(p: Promise<unknown>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const r = await Promise.race([
    p.then(
      () => 'answered',
      (e: unknown) => (e as { name?: string; code?: number }).name ?? String((e as { code?: number }).code),
    ),
    new Promise<string>((res) => {
      timer = setTimeout(() => res('unsettled'), 30_000);
    }),
  ]);
  clearTimeout(timer);
  if (r === 'answered') tally.answered++;
  else if (r === 'unsettled') tally.unsettled++;
  else tally.errors[r] = (tally.errors[r] ?? 0) + 1;
}

function makePool(size: number, timeoutMs: number) {
  let height = 5;
  const listeners = new Set<(h: number, d: StateDiff) => void>();
  const fallback = new EvmStateReader((k) => state.get(k), common);
  const pool = new CallPool({
    size,
    chainId: CHAIN_ID,
    coinbase: `0x${'00'.repeat(20)}`,
    crashTo: CRASH,
    timeoutMs,
    follow: (l: (h: number, d: StateDiff) => void) => {
      listeners.add(l);
      return { height, state, stop: () => listeners.delete(l) };
    },
    head: () => height,
    fallback: {
      simulate: (...a: unknown[]) =>
        (a[0] as { to?: Uint8Array }).to === LOOP
          ? Promise.reject(new Error('loop on the main thread'))
          : fallback.simulate(...a),
    },
  });
  /** Commit a height; its diff is announced unless `lose`. */
  const commit = (lose = false): void => {
    height++;
    const h = height;
    const diff: [string, string | null][] = [[`h${h}`.padEnd(52, '.'), `${h}`]];
    state.set(diff[0]![0], diff[0]![1]!);
    if (!lose) for (const l of listeners) l(h, diff);
  };
  return { pool, commit };
}

const light = (p: Pool) => p.simulate({ to: PLAIN }, [], 100_000n, 7, 0);
const heavy = (p: Pool) => p.simulate({ to: PLAIN }, [], 50_000_000n, 7, 0);

const scenarios = {
  async crash(): Promise<void> {
    const { pool } = makePool(pick([1, 2, 3]), 0);
    await pool.start();
    const calls = [
      pool.simulate({ to: CRASH }, [], pick([100_000n, 50_000_000n]), 7, 0),
      light(pool),
      heavy(pool),
    ].map(settle);
    await sleep(pick([0, 1, 5, 20]));
    calls.push(settle(heavy(pool)), settle(light(pool)));
    await Promise.all(calls);
    await pool.stop();
  },
  async timeout(): Promise<void> {
    const { pool, commit } = makePool(pick([1, 2]), pick([30, 60, 100]));
    await pool.start();
    // Every call is settled (counted) from the start: any may be answered first, a timeout included.
    const first = settle(pool.simulate({ to: LOOP }, loop, 1n << 40n, 7, 0));
    const behind = settle(heavy(pool));
    await first;
    // The replacement is loading now: give it a loop too, and a height.
    const second = settle(pool.simulate({ to: LOOP }, loop, 1n << 40n, 7, 0));
    commit();
    await Promise.all([second, behind, settle(heavy(pool))]);
    await pool.stop();
  },
  async missed(): Promise<void> {
    const { pool, commit } = makePool(pick([1, 2, 3]), 0);
    await pool.start();
    const calls = [light(pool), heavy(pool)].map(settle);
    commit(true);
    commit();
    calls.push(settle(heavy(pool)), settle(light(pool)));
    await sleep(pick([0, 1, 5, 30]));
    commit(true);
    commit();
    calls.push(settle(heavy(pool)), settle(light(pool)));
    await Promise.all(calls);
    await pool.stop();
  },
  async stop(): Promise<void> {
    const { pool, commit } = makePool(pick([1, 2, 3]), 0);
    await pool.start();
    const calls = [pool.simulate({ to: CRASH }, [], 50_000_000n, 7, 0), light(pool)].map(settle);
    if (rand() < 0.5) {
      commit(true);
      commit();
    }
    await sleep(pick([0, 1, 3, 10, 40]));
    await pool.stop();
    await Promise.all(calls);
  },
  async early(): Promise<void> {
    const { pool } = makePool(pick([1, 2]), 0);
    const started = pool.start();
    await sleep(pick([0, 1, 5, 20]));
    await pool.stop();
    await started;
  },
} as const;

const names = (args.only?.split(',') ?? Object.keys(scenarios)) as (keyof typeof scenarios)[];
for (const n of names) if (!(n in scenarios)) throw new Error(`no scenario ${n}`);
const ran: Record<string, number> = {};
const loadAvgBefore = loadavg()[0];
const t0 = performance.now();
for (let i = 0; i < iterations; i++) {
  const name = pick(names);
  if (args.trail !== undefined) appendFileSync(args.trail, `${i} ${name}\n`);
  await scenarios[name]();
  ran[name] = (ran[name] ?? 0) + 1;
}
const out = {
  iterations,
  entries,
  seed: Number(args.seed),
  node: process.version,
  ran,
  calls: tally,
  seconds: Math.round((performance.now() - t0) / 100) / 10,
  loadAvgBefore,
  loadAvgAfter: loadavg()[0],
};
writeResult(out, args.out);
if (tally.unsettled > 0) process.exitCode = 1;
