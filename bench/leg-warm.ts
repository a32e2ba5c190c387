/**
 * Why a bundle leg answers slower on a call worker (ADR 0305, ADR 0306): one 30 M-gas EVM leg (a creation
 * whose init code loops until its gas is spent, as bench/callbundle-main-thread.ts sends) timed leg after
 * leg on one call worker (call-pool.ts `simulateLeg`) from the moment the pool reports ready, and the same
 * bundle through the executor's main-thread simulation, in one process over an in-memory executor.
 *
 *   rounds:   `--rounds` times: a fresh pool (one worker, as the `rpc.ethCallWorkers` default), then
 *             three small legs (one 21,000-gas transfer: what a worker's first leg pays beyond the later
 *             ones) and `--legs` 30 M-gas legs one after another on it; then the same through the
 *             executor's simulation on this thread
 *   figures:  per position (1st leg, 2nd, …) the median wall ms over the rounds, and the process CPU ms
 *             of each 30 M-gas leg (this thread only awaits while a worker runs one)
 *
 *   node bench/leg-warm.ts [--repo DIR] [--rounds 3] [--legs 4] [--out FILE]
 *
 * Wrap it in `flock /tmp/ordo-bench.lock`; compare a branch with its parent in the same window.
 */

import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type * as Exec from '../src/exec/index.ts';
import type { Bundle } from '../src/types.ts';
import { CHAIN_ID, common, EVM_NS, evmTx, rollups } from '../test/unit/exec/helpers.ts';
import { writeResult } from './lib/json-out.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    legs: { type: 'string', default: '4' },
    out: { type: 'string' },
    repo: { type: 'string', default: join(dirname(fileURLToPath(import.meta.url)), '..') },
  },
});
// The checkout measured (`--repo`: a branch's parent for the A/B); the fixtures are this one's.
const src = (p: string) => pathToFileURL(join(args.repo, 'src', p)).href;
/** What this benchmark uses of a call pool (call-pool.ts; loaded from `--repo`, so typed here). */
interface Pool {
  start(): Promise<void>;
  stop(): Promise<void>;
  simulateLeg(job: Record<string, unknown>): Promise<{ v: number; r: { txs: { gasUsed: bigint }[] } }>;
}
const { CallPool } = (await import(src('eth-rpc/call-pool.ts'))) as {
  CallPool: new (o: Record<string, unknown>) => Pool;
};
const { EvmStateReader } = (await import(src('eth-rpc/state.ts'))) as {
  EvmStateReader: new (get: (k: string) => string | undefined, common: unknown) => unknown;
};
const { createExecutor, DEFAULT_EVM_FEE_RECIPIENT, memoryKvFactory } = (await import(
  src('exec/index.ts')
)) as typeof Exec;
const rounds = Number(args.rounds);
const legs = Number(args.legs);
const loadAvgBefore = loadavg()[0];

const cfg = rollups({ evmBalance: '1000000000000000000' });
const exec = createExecutor({ rollups: cfg, kv: memoryKvFactory().kv, workers: 0 });
await exec.start();
await exec.executeBlock(
  1,
  new Map([[EVM_NS, [evmTx(0, { to: new Uint8Array(20), value: 1n, nonce: 0n, gasLimit: 21_000n })]]]),
  {
    timeMs: 1000,
  },
);
const small = evmTx(8, { to: new Uint8Array(20), value: 1n, nonce: 0n, gasLimit: 21_000n });
const tx = evmTx(7, { data: Uint8Array.from([0x5b, 0x60, 0x00, 0x56]), nonce: 0n, gasLimit: 30_000_000n });
const bundleOf = (t: Uint8Array): Bundle =>
  ({
    atomicity: 'inclusion',
    legs: [{ namespace: EVM_NS, txs: [t], revertingTxHashes: [] }],
  }) as unknown as Bundle;
const bundle = bundleOf(tx);
const smallBundle = bundleOf(small);
const cpuMs = (c: NodeJS.CpuUsage) => Math.round((c.user + c.system) / 100) / 10;
const ms = (t: number) => Math.round((performance.now() - t) * 10) / 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const worker: number[][] = [];
const main: number[][] = [];
const workerSmall: number[][] = [];
const mainSmall: number[][] = [];
const workerCpu: number[][] = [];
const mainCpu: number[][] = [];
let gasUsed: string | undefined;
for (let r = 0; r < rounds; r++) {
  const pool = new CallPool({
    size: 1,
    chainId: CHAIN_ID,
    coinbase: DEFAULT_EVM_FEE_RECIPIENT,
    follow: (l: Parameters<typeof exec.followState>[1]) => exec.followState(EVM_NS, l),
    head: () => exec.head(EVM_NS).height,
    timeoutMs: 60_000,
    fallback: new EvmStateReader(exec.stateGetter(EVM_NS), common()),
  });
  await pool.start();
  const leg = (b: Bundle) =>
    pool.simulateLeg({
      rollup: cfg.find((c) => c.namespace === EVM_NS)!,
      vm: {},
      root: exec.head(EVM_NS).stateRoot,
      timeMs: 2000,
      leg: b.legs[0]!,
    });
  const ws: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await leg(smallBundle);
    ws.push(ms(t));
  }
  workerSmall.push(ws);
  const w: number[] = [];
  const wc: number[] = [];
  for (let i = 0; i < legs; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    const a = await leg(bundle);
    w.push(ms(t));
    wc.push(cpuMs(process.cpuUsage(c)));
    gasUsed = String(a.r.txs[0]!.gasUsed);
  }
  await pool.stop();
  worker.push(w);
  workerCpu.push(wc);
  const ms3: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await exec.simulate(smallBundle, { timeMs: 2000 });
    ms3.push(ms(t));
  }
  mainSmall.push(ms3);
  const m: number[] = [];
  const mc: number[] = [];
  for (let i = 0; i < legs; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    await exec.simulate(bundle, { timeMs: 2000 });
    m.push(ms(t));
    mc.push(cpuMs(process.cpuUsage(c)));
  }
  main.push(m);
  mainCpu.push(mc);
}
await exec.stop();
const at = (xs: number[][]) => Array.from({ length: xs[0]!.length }, (_, i) => median(xs.map((x) => x[i]!)));
const out = {
  repo: args.repo,
  rounds,
  legs,
  gasUsed,
  loadAvgBefore,
  workerSmallMedianMsByPosition: at(workerSmall),
  mainSmallMedianMsByPosition: at(mainSmall),
  workerMedianMsByPosition: at(worker),
  mainMedianMsByPosition: at(main),
  workerCpuMedianMsByPosition: at(workerCpu),
  mainCpuMedianMsByPosition: at(mainCpu),
  worker,
  main,
  workerSmall,
  mainSmall,
  workerCpu,
  mainCpu,
  loadAvgAfter: loadavg()[0],
};
writeResult(out, args.out);
