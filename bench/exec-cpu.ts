/**
 * CPU per executed EVM transaction in Ordo's executor (session 15, ADRs 0328–0330): the same blocks as
 * `bench:exec`'s EVM workloads (low contention: distinct senders → distinct receivers; high contention:
 * every transfer pays one receiver; ERC-20 transfers of one token), run by `executeBlock` with the worker
 * pool (parallel) and without (sequential), reporting the process's CPU (every thread: coordinator,
 * workers, GC) per transaction beside the wall-clock rate, and the coordinator thread's own share.
 *
 * Unlike `bench:exec` it does not run ethereumjs' own `runTx` baseline (1–2 minutes per workload), so an
 * A/B pair against another checkout fits in a few minutes: run the same file from both trees. Every run
 * first executes a warm-up block of other senders (JIT), then measures --n transactions as --blocks
 * consecutive blocks (default 1; more blocks of fewer transactions bring out per-height costs, as a node's
 * short blocks do: --n 4000 --blocks 80 is 50 transactions a block).
 * The signed transactions are cached in --cache (default /tmp) by n, so a rerun does not sign again.
 *
 *   node bench/exec-cpu.ts [--n 4000] [--warmup 1000] [--runs 3] [--workers 2] [--only erc20,low,high]
 *                          [--modes parallel,sequential] [--blocks 1] [--out FILE]
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createTx } from '@ethereumjs/tx';
import { bigIntToBytes, generateAddress, privateToAddress } from '@ethereumjs/util';
import {
  DEFAULT_EVM_BASE_FEE,
  deployCode,
  TOKEN_RUNTIME,
  tokenAirdropData,
  tokenTransferData,
} from '../src/exec/index.ts';
import { benchEvmRollup, startBenchExecutor } from './lib/evm-rollup.ts';
import { writeResult } from './lib/json-out.ts';

type Name = 'erc20' | 'low' | 'high';
type Mode = 'parallel' | 'sequential';

interface Args {
  n: number;
  warmup: number;
  runs: number;
  blocks: number;
  workers: number;
  only: Name[];
  modes: Mode[];
  out: string | undefined;
  cache: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    n: 4000,
    warmup: 1000,
    runs: 3,
    blocks: 1,
    workers: availableParallelism(),
    only: ['erc20', 'low', 'high'],
    modes: ['parallel', 'sequential'],
    out: undefined,
    cache: '/tmp',
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1] ?? '';
    if (k === '--n') a.n = Number(v);
    else if (k === '--warmup') a.warmup = Number(v);
    else if (k === '--runs') a.runs = Number(v);
    else if (k === '--blocks') a.blocks = Number(v);
    else if (k === '--workers') a.workers = Number(v);
    else if (k === '--only')
      a.only = v.split(',').filter((x): x is Name => ['erc20', 'low', 'high'].includes(x));
    else if (k === '--modes')
      a.modes = v.split(',').filter((x): x is Mode => x === 'parallel' || x === 'sequential');
    else if (k === '--out') a.out = v;
    else if (k === '--cache') a.cache = v;
    else continue;
    i++;
  }
  for (const [k, x] of [
    ['--n', a.n],
    ['--warmup', a.warmup],
    ['--runs', a.runs],
    ['--blocks', a.blocks],
    ['--workers', a.workers],
  ] as const) {
    if (!Number.isInteger(x) || x < (k === '--workers' || k === '--warmup' ? 0 : 1))
      throw new RangeError(`${k} must be a non-negative integer (got ${x})`);
  }
  if (a.blocks > a.n) throw new RangeError(`--blocks must be at most --n (got ${a.blocks} > ${a.n})`);
  return a;
}

const args = parseArgs(process.argv.slice(2));
const say = (m: string) => process.stderr.write(`[exec-cpu] ${m}\n`);
const h32 = (s: string) => new Uint8Array(createHash('sha256').update(s).digest());
const median = (xs: number[]) => {
  const s = xs.slice().sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const CHAIN_ID = 1337;
const NS = 2;
const common = createCustomCommon({ chainId: CHAIN_ID }, Mainnet, { hardfork: Hardfork.Prague });
const FUND = 10n ** 21n;
const TIME_MS = 1_700_000_000_000;
const FEE = { maxFeePerGas: 3n * DEFAULT_EVM_BASE_FEE, maxPriorityFeePerGas: 1_000_000n };
const deployerKey = h32('bench-deployer');

const sign = (key: Uint8Array, data: Parameters<typeof createTx>[0]): Uint8Array =>
  createTx({ type: 2, ...FEE, ...data }, { common })
    .sign(key)
    .serialize();

interface Signed {
  addrs: Uint8Array[];
  setup: Uint8Array[];
  /** per workload: warm-up block (senders n..n+warmup), then the measured block (senders 0..n) */
  blocks: Record<Name, { warm: Uint8Array[]; main: Uint8Array[] }>;
}

function buildSigned(n: number, warm: number): Signed {
  const file = `${args.cache}/ordo-exec-cpu-${n}-${warm}.json`;
  if (existsSync(file)) {
    const j = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const dec = (xs: string[]) => xs.map((x) => new Uint8Array(Buffer.from(x, 'hex')));
    const b = j.blocks as Record<Name, { warm: string[]; main: string[] }>;
    return {
      addrs: dec(j.addrs as string[]),
      setup: dec(j.setup as string[]),
      blocks: {
        erc20: { warm: dec(b.erc20.warm), main: dec(b.erc20.main) },
        low: { warm: dec(b.low.warm), main: dec(b.low.main) },
        high: { warm: dec(b.high.warm), main: dec(b.high.main) },
      },
    };
  }
  const t0 = performance.now();
  const deployer = privateToAddress(deployerKey);
  const token = generateAddress(deployer, bigIntToBytes(0n));
  const hot = h32('bench-hot').subarray(12);
  const addrs: Uint8Array[] = [];
  const per: Record<Name, Uint8Array[]> = { erc20: [], low: [], high: [] };
  for (let i = 0; i < n + warm; i++) {
    const k = h32(`bench-sender-${i}`);
    const to = h32(`bench-recv-${i}`).subarray(12);
    addrs.push(privateToAddress(k));
    per.low.push(sign(k, { to, value: 1000n, gasLimit: 21_000n, nonce: 0n }));
    per.high.push(sign(k, { to: hot, value: 1000n, gasLimit: 21_000n, nonce: 0n }));
    per.erc20.push(
      sign(k, { to: token, data: tokenTransferData(to, 10n ** 15n), gasLimit: 100_000n, nonce: 0n }),
    );
  }
  const setup = [sign(deployerKey, { data: deployCode(TOKEN_RUNTIME), gasLimit: 1_000_000n, nonce: 0n })];
  for (let i = 0, nonce = 1n; i < addrs.length; i += 1000, nonce++) {
    setup.push(
      sign(deployerKey, {
        to: token,
        data: tokenAirdropData(addrs.slice(i, i + 1000)),
        gasLimit: 30_000_000n,
        nonce,
      }),
    );
  }
  const split = (xs: Uint8Array[]) => ({ warm: xs.slice(n), main: xs.slice(0, n) });
  const s: Signed = {
    addrs: [...addrs, deployer],
    setup,
    blocks: { erc20: split(per.erc20), low: split(per.low), high: split(per.high) },
  };
  const hex = (xs: Uint8Array[]) => xs.map((x) => Buffer.from(x).toString('hex'));
  writeFileSync(
    file,
    JSON.stringify({
      addrs: hex(s.addrs),
      setup: hex(s.setup),
      blocks: Object.fromEntries(
        Object.entries(s.blocks).map(([k, v]) => [k, { warm: hex(v.warm), main: hex(v.main) }]),
      ),
    }),
  );
  say(`signed ${3 * (n + warm)} transactions in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${file}`);
  return s;
}

interface RunResult {
  txPerSec: number;
  cpuMicrosPerTx: number;
  coordinatorCpuMicrosPerTx: number;
  executeMicrosPerTx: number;
  persistMicrosPerTx: number;
  reexecuted: number;
  /** chunks the workers ran speculatively / only prepared (the coordinator executed those) */
  specChunks: number;
  prepChunks: number;
  statuses: Record<string, number>;
  /** state root after the last measured block */
  stateRoot: string;
  /** CLOCK_MONOTONIC µs of the measured block (a V8 .cpuprofile's clock): profiles can be cut to it. */
  window: [number, number];
}

async function run(s: Signed, name: Name, workers: number): Promise<RunResult> {
  const rollup = benchEvmRollup(NS, CHAIN_ID, s.addrs, FUND);
  const ex = await startBenchExecutor(rollup, workers);
  let height = 1;
  if (name === 'erc20') {
    const r = await ex.executeBlock(height++, new Map([[NS, s.setup]]), TIME_MS);
    if (r.get(NS)!.receipts.some((x) => x.status !== 'success')) throw new Error('setup failed');
  }
  const b = s.blocks[name];
  if (b.warm.length > 0) await ex.executeBlock(height++, new Map([[NS, b.warm]]), TIME_MS);
  const st0 = ex.stats();
  const c0 = process.cpuUsage();
  const m0 = process.threadCpuUsage();
  const w0 = Number(process.hrtime.bigint() / 1000n);
  const t0 = performance.now();
  const per = Math.ceil(b.main.length / args.blocks);
  const receipts: { status: string }[] = [];
  let stateRoot: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < b.main.length; i += per) {
    const res = await ex.executeBlock(height++, new Map([[NS, b.main.slice(i, i + per)]]), TIME_MS);
    const r = res.get(NS)!;
    receipts.push(...r.receipts);
    stateRoot = r.stateRoot;
  }
  const wall = (performance.now() - t0) / 1000;
  const w1 = Number(process.hrtime.bigint() / 1000n);
  const c1 = process.cpuUsage(c0);
  const m1 = process.threadCpuUsage(m0);
  const st1 = ex.stats();
  await ex.stop();
  const n = b.main.length;
  const statuses: Record<string, number> = {};
  for (const x of receipts) statuses[x.status] = (statuses[x.status] ?? 0) + 1;
  const perTx = (us: number) => Math.round((us / n) * 10) / 10;
  return {
    txPerSec: Math.round(n / wall),
    cpuMicrosPerTx: perTx(c1.user + c1.system),
    coordinatorCpuMicrosPerTx: perTx(m1.user + m1.system),
    executeMicrosPerTx: perTx((st1.executeSeconds - st0.executeSeconds) * 1e6),
    persistMicrosPerTx: perTx((st1.persistSeconds - st0.persistSeconds) * 1e6),
    reexecuted: st1.reexecuted - st0.reexecuted,
    specChunks: st1.specChunks - st0.specChunks,
    prepChunks: st1.prepChunks - st0.prepChunks,
    statuses,
    stateRoot: Buffer.from(stateRoot).toString('hex'),
    window: [w0, w1],
  };
}

async function main() {
  const la = loadavg();
  say(
    `n=${args.n} blocks=${args.blocks} warmup=${args.warmup} runs=${args.runs} workers=${args.workers} load ${la[0]!.toFixed(2)}`,
  );
  const s = buildSigned(args.n, args.warmup);
  const out: Record<string, Record<string, unknown>> = {};
  const roots = new Set<string>();
  for (const name of args.only) {
    for (const mode of args.modes) {
      const runs: RunResult[] = [];
      for (let r = 0; r < args.runs; r++) {
        const x = await run(s, name, mode === 'parallel' ? args.workers : 0);
        runs.push(x);
        roots.add(`${name}:${x.stateRoot}`);
        say(
          `${name} ${mode} run ${r + 1}: ${x.txPerSec} tx/s, ${x.cpuMicrosPerTx} µs CPU/tx (coordinator ${x.coordinatorCpuMicrosPerTx}), re-executed ${x.reexecuted}, chunks spec/prep ${x.specChunks}/${x.prepChunks}`,
        );
      }
      const med = (f: (x: RunResult) => number) => median(runs.map(f));
      const slot = out[name] ?? {};
      out[name] = slot;
      slot[mode] = {
        txPerSec: med((x) => x.txPerSec),
        cpuMicrosPerTx: med((x) => x.cpuMicrosPerTx),
        coordinatorCpuMicrosPerTx: med((x) => x.coordinatorCpuMicrosPerTx),
        executeMicrosPerTx: med((x) => x.executeMicrosPerTx),
        persistMicrosPerTx: med((x) => x.persistMicrosPerTx),
        reexecuted: med((x) => x.reexecuted),
        statuses: runs[0]!.statuses,
        stateRoot: runs[0]!.stateRoot,
        runs: runs.map(({ statuses: _s, stateRoot: _r, ...rest }) => rest),
      };
    }
  }
  // Every mode and run of a workload must end at the same state.
  const perWorkload = new Map<string, number>();
  for (const k of roots) perWorkload.set(k.split(':')[0]!, (perWorkload.get(k.split(':')[0]!) ?? 0) + 1);
  const agree = [...perWorkload.values()].every((c) => c === 1);
  writeResult(
    {
      evm: out,
      rootsAgree: agree,
      meta: {
        n: args.n,
        blocks: args.blocks,
        warmup: args.warmup,
        runs: args.runs,
        workers: args.workers,
        node: process.version,
        loadavgStart: la,
        loadavgEnd: loadavg(),
        date: new Date().toISOString(),
      },
    },
    args.out,
  );
  if (!agree) process.exitCode = 1;
}

await main();
