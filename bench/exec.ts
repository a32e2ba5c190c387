/**
 * Executor benchmark (issue 6). Writes
 *   {evm: {lowContention, highContention, erc20: {parallelTxPerSec, sequentialTxPerSec, ratio, …}},
 *    transfer: {txPerSec, sigVerifyLimitTxPerSec, ratioToLimit, …}, secp256k1Recover: {…}}
 *
 * EVM: the same N signed transactions are run (a) by `@ethereumjs/vm`'s own `runTx` on its default
 * Merkle state manager, decoding each raw transaction first (the baseline, `sequentialTxPerSec`), and
 * (b) by Ordo's parallel executor through `executeBlock` (includes persistence to an in-memory KvStore
 * and the state commitment). Workloads: low contention (distinct senders → distinct new receivers),
 * high contention (every transaction pays one receiver), ERC-20 transfers of one token (distinct
 * holders, a hand-assembled minimal token, src/exec/evm/contracts.ts). We also check that every
 * receipt's status and gasUsed equal ethereumjs' own (`agreesWithEthereumjs`). Because ethereumjs'
 * baseline also updates Merkle tries per transaction, `ratio` can exceed the core count; the
 * like-for-like speedup is `ratioToOrdoSequential`, against Ordo's own sequential executor (workers: 0)
 * on the same `executeBlock` path. Every timed instance (the ethereumjs VM, each executor) first runs a
 * warm-up block of 1,024 other senders' transactions of the same workload, untimed: a parallel
 * executor's worker threads start cold (no JIT) while the main thread, where the sequential executor
 * and the coordinator run, was warmed by every earlier run; without the warm-up the sequential executor
 * beat the parallel one in wall time (session 15). The JSON's `meta.compared` says what each ratio divides.
 * Transfer: N transfers through the parallel executor vs. the rate at which the same signatures are
 * verified by a pool of the same size doing nothing else (`sigVerifyLimitTxPerSec`), same run. Both
 * sides first process 1,024 other transactions (JIT warm-up). `txPerSec` is execution (verify, execute,
 * validate: what a pre-confirmation needs); `txPerSecWithPersistence` adds the atomic state/results
 * write to the (in-memory) KvStore.
 * Each figure is the median of --runs runs (EVM; default 1 because ethereumjs' own runTx over 10,000
 * transactions takes 1–2 minutes per workload on the 2-core machine, and the bench must stay near six
 * minutes) and --transfer-runs runs (default 5); baseline and parallel alternate order between runs.
 * The committed bench/results/exec.json was produced with --runs 3.
 *
 *   npm run bench:exec -- [--out FILE] [--n 10000] [--runs 1] [--transfer-runs 5] [--workers 2]
 *                         [--transfer-n 10000] [--only evm|transfer|secp]
 * `--only secp` runs only secp256k1Recover (recovery and decode + recovery per second: noble, and
 * libsecp256k1 as WebAssembly and as the native addon, ADR 0235) over --n (≤ 2,000) transactions.
 */
import { createHash } from 'node:crypto';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createBlock } from '@ethereumjs/block';
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createTx, createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx';
import { Account, Address, bigIntToBytes, generateAddress, privateToAddress } from '@ethereumjs/util';
import { createVM, runTx } from '@ethereumjs/vm';
import { secp256k1 as nobleV2 } from '@noble/curves/secp256k1.js';
import { pino } from 'pino';
import type { RollupConfig } from '../src/config/index.ts';
import { Ed25519Signer, verifySignature } from '../src/crypto/index.ts';
import {
  allowNativeSecp256k1,
  createExecutor,
  DEFAULT_EVM_BASE_FEE,
  DEFAULT_EVM_FEE_RECIPIENT,
  deployCode,
  ecrecoverBackend,
  ecrecoverWith,
  memoryKvFactory,
  type Receipt,
  type RecoverRaw,
  recoverNative,
  recoverWasm,
  signTransfer,
  TOKEN_RUNTIME,
  tokenAirdropData,
  tokenTransferData,
  transferSignBytes,
  WorkerPool,
} from '../src/exec/index.ts';
import { benchEvmRollup, startBenchExecutor } from './lib/evm-rollup.ts';
import { writeResult } from './lib/json-out.ts';

interface Args {
  out: string | undefined;
  n: number;
  runs: number;
  transferRuns: number;
  only: 'evm' | 'transfer' | 'secp' | undefined;
  workers: number;
  transferN: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    out: undefined,
    n: 10_000,
    runs: 1,
    transferRuns: 5,
    only: undefined,
    workers: availableParallelism(),
    transferN: 10_000,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--out') a.out = v;
    else if (k === '--n') a.n = Number(v);
    else if (k === '--runs') a.runs = Number(v);
    else if (k === '--transfer-runs') a.transferRuns = Number(v);
    else if (k === '--only') a.only = v === 'evm' || v === 'transfer' || v === 'secp' ? v : undefined;
    else if (k === '--workers') a.workers = Number(v);
    else if (k === '--transfer-n') a.transferN = Number(v);
    else continue;
    i++;
  }
  return a;
}

const args = parseArgs(process.argv.slice(2));
const say = (m: string) => process.stderr.write(`[bench:exec] ${m}\n`);
const median = (xs: number[]) => {
  const s = xs.slice().sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const h32 = (s: string) => new Uint8Array(createHash('sha256').update(s).digest());
const round = (x: number) => Math.round(x * 100) / 100;

// ---------------------------------------------------------------- EVM
const CHAIN_ID = 1337;
const EVM_NS = 2;
const common = createCustomCommon({ chainId: CHAIN_ID }, Mainnet, { hardfork: Hardfork.Prague });
const FUND = 10n ** 21n;
const TIME_MS = 1_700_000_000_000;

interface Workload {
  name: 'lowContention' | 'highContention' | 'erc20';
  setup: Uint8Array[];
  /** run untimed first on every timed instance (JIT warm-up): senders n..n+EVM_WARMUP */
  warmup: Uint8Array[];
  txs: Uint8Array[];
}

const EVM_WARMUP = 1024;

const FEE = { maxFeePerGas: 3n * DEFAULT_EVM_BASE_FEE, maxPriorityFeePerGas: 1_000_000n };
const recvAddr = (i: number) => h32(`bench-recv-${i}`).subarray(12);
const deployerKey = h32('bench-deployer');

function signEvm(key: Uint8Array, data: Parameters<typeof createTx>[0]): Uint8Array {
  return createTx({ type: 2, ...FEE, ...data }, { common })
    .sign(key)
    .serialize();
}

interface SignedRange {
  addrs: Uint8Array[];
  low: Uint8Array[];
  high: Uint8Array[];
  erc20: Uint8Array[];
}

/** Sign the three workloads' transactions of senders [a, b) (runs in signing worker threads). */
function signRange(a: number, b: number): SignedRange {
  const hot = h32('bench-hot').subarray(12);
  const token = generateAddress(privateToAddress(deployerKey), bigIntToBytes(0n));
  const out: SignedRange = { addrs: [], low: [], high: [], erc20: [] };
  for (let i = a; i < b; i++) {
    const k = h32(`bench-sender-${i}`);
    out.addrs.push(privateToAddress(k));
    out.low.push(signEvm(k, { to: recvAddr(i), value: 1000n, gasLimit: 21_000n, nonce: 0n }));
    out.high.push(signEvm(k, { to: hot, value: 1000n, gasLimit: 21_000n, nonce: 0n }));
    out.erc20.push(
      signEvm(k, {
        to: token,
        data: tokenTransferData(recvAddr(i), 10n ** 15n),
        gasLimit: 100_000n,
        nonce: 0n,
      }),
    );
  }
  return out;
}

async function buildEvmWorkloads(
  n: number,
  warm: number,
  threads: number,
): Promise<{ alloc: Uint8Array[]; workloads: Workload[] }> {
  const t0 = performance.now();
  const per = Math.ceil((n + warm) / threads);
  const parts = await Promise.all(
    Array.from({ length: threads }, (_, w) => {
      const a = w * per;
      const b = Math.min(n + warm, a + per);
      return new Promise<SignedRange>((resolve, reject) => {
        const worker = new Worker(new URL(import.meta.url), { workerData: { signRange: [a, b] } });
        worker.once('message', (m: SignedRange) => resolve(m));
        worker.once('error', reject);
      });
    }),
  );
  const all: SignedRange = { addrs: [], low: [], high: [], erc20: [] };
  for (const p of parts) {
    all.addrs.push(...p.addrs);
    all.low.push(...p.low);
    all.high.push(...p.high);
    all.erc20.push(...p.erc20);
  }
  const deployer = privateToAddress(deployerKey);
  const token = generateAddress(deployer, bigIntToBytes(0n));
  const setup = [signEvm(deployerKey, { data: deployCode(TOKEN_RUNTIME), gasLimit: 1_000_000n, nonce: 0n })];
  for (let i = 0, nonce = 1n; i < all.addrs.length; i += 1000, nonce++) {
    const batch = all.addrs.slice(i, i + 1000);
    setup.push(
      signEvm(deployerKey, { to: token, data: tokenAirdropData(batch), gasLimit: 30_000_000n, nonce }),
    );
  }
  say(
    `signed ${3 * (n + warm)} EVM transactions in ${((performance.now() - t0) / 1000).toFixed(1)} s (${threads} threads)`,
  );
  return {
    alloc: [...all.addrs, deployer],
    workloads: [
      { name: 'lowContention', setup: [], warmup: all.low.slice(n), txs: all.low.slice(0, n) },
      { name: 'highContention', setup: [], warmup: all.high.slice(n), txs: all.high.slice(0, n) },
      { name: 'erc20', setup, warmup: all.erc20.slice(n), txs: all.erc20.slice(0, n) },
    ],
  };
}

function header() {
  return createBlock(
    {
      header: {
        number: 1n,
        timestamp: BigInt(TIME_MS / 1000),
        gasLimit: 1n << 50n,
        baseFeePerGas: DEFAULT_EVM_BASE_FEE,
        coinbase: new Address(Buffer.from(DEFAULT_EVM_FEE_RECIPIENT.slice(2), 'hex')),
      },
    },
    { common },
  );
}

/** Baseline: ethereumjs' own runTx over the same raw transactions. */
async function baseline(
  alloc: Uint8Array[],
  w: Workload,
): Promise<{ tps: number; receipts: [boolean, bigint][] }> {
  const vm = await createVM({ common });
  for (const a of alloc) await vm.stateManager.putAccount(new Address(a), new Account(0n, FUND));
  const block = header();
  for (const p of w.setup) {
    const r = await runTx(vm, {
      tx: createTxFromRLP(p, { common }) as TypedTransaction,
      block,
      skipBlockGasLimitValidation: true,
    });
    if (r.execResult.exceptionError !== undefined) throw new Error('baseline setup failed');
  }
  for (const p of w.warmup) {
    const tx = createTxFromRLP(p, { common }) as TypedTransaction;
    const r = await runTx(vm, { tx, block, skipBlockGasLimitValidation: true });
    if (r.execResult.exceptionError !== undefined) throw new Error('baseline warm-up failed');
  }
  const receipts: [boolean, bigint][] = [];
  const t0 = performance.now();
  for (const p of w.txs) {
    const tx = createTxFromRLP(p, { common }) as TypedTransaction;
    const r = await runTx(vm, { tx, block, skipBlockGasLimitValidation: true });
    receipts.push([r.execResult.exceptionError === undefined, r.totalGasSpent]);
  }
  const s = (performance.now() - t0) / 1000;
  return { tps: w.txs.length / s, receipts };
}

async function ordoEvm(
  alloc: Uint8Array[],
  w: Workload,
  workers: number,
): Promise<{ tps: number; receipts: Receipt[]; reexecuted: number; prepChunks: number; specChunks: number }> {
  const rollup = benchEvmRollup(EVM_NS, CHAIN_ID, alloc, FUND);
  const ex = await startBenchExecutor(rollup, workers);
  let height = 1;
  if (w.setup.length > 0) {
    const r = await ex.executeBlock(height++, new Map([[EVM_NS, w.setup]]), TIME_MS);
    if (r.get(EVM_NS)!.receipts.some((x) => x.status !== 'success')) throw new Error('ordo setup failed');
  }
  if (w.warmup.length > 0) {
    const r = await ex.executeBlock(height++, new Map([[EVM_NS, w.warmup]]), TIME_MS);
    if (r.get(EVM_NS)!.receipts.some((x) => x.status !== 'success')) throw new Error('ordo warm-up failed');
  }
  const before = ex.stats();
  const t0 = performance.now();
  const res = await ex.executeBlock(height, new Map([[EVM_NS, w.txs]]), TIME_MS);
  const s = (performance.now() - t0) / 1000;
  const after = ex.stats();
  await ex.stop();
  return {
    tps: w.txs.length / s,
    receipts: res.get(EVM_NS)!.receipts,
    reexecuted: after.reexecuted - before.reexecuted,
    prepChunks: after.prepChunks - before.prepChunks,
    specChunks: after.specChunks - before.specChunks,
  };
}

// ---------------------------------------------------------------- transfer
const T_NS = 1;

const WARMUP = 1024;

function buildTransfers(n: number): { rollup: RollupConfig; txs: Uint8Array[]; warmup: Uint8Array[] } {
  const signers = Array.from({ length: n + WARMUP }, (_, i) => new Ed25519Signer(h32(`t-sender-${i}`)));
  const all = signers.map((s, i) =>
    signTransfer(s, T_NS, { to: h32(`t-recv-${i}`), amount: 100n, fee: 1n, nonce: 0n }),
  );
  return {
    warmup: all.slice(n),
    txs: all.slice(0, n),
    rollup: {
      namespace: T_NS,
      name: 'pay',
      kind: 'transfer',
      weight: 1,
      maxTxBytes: 1000,
      maxPendingTxs: 1e6,
      maxPendingBytes: 1e9,
      alloc: signers.map((s) => ({ address: Buffer.from(s.publicKey).toString('hex'), balance: '1000000' })),
    },
  };
}

/** Executor throughput: execution only (verify, execute, validate) and including persistence. */
async function transferRun(
  rollup: RollupConfig,
  txs: Uint8Array[],
  warmup: Uint8Array[],
  workers: number,
): Promise<{ exec: number; total: number }> {
  const ex = createExecutor({ rollups: [rollup], kv: memoryKvFactory().kv, workers });
  await ex.start();
  await ex.executeBlock(1, new Map([[T_NS, warmup]])); // JIT warm-up, other accounts
  const before = ex.stats();
  const t0 = performance.now();
  const r = await ex.executeBlock(2, new Map([[T_NS, txs]]));
  const s = (performance.now() - t0) / 1000;
  const after = ex.stats();
  await ex.stop();
  if (r.get(T_NS)!.receipts.some((x) => x.status !== 'success')) throw new Error('transfer bench tx failed');
  return { exec: txs.length / (after.executeSeconds - before.executeSeconds), total: txs.length / s };
}

/** The same signatures verified by a pool of the same size doing nothing else ("prepare" jobs). */
async function sigLimitRun(
  rollup: RollupConfig,
  txs: Uint8Array[],
  warmup: Uint8Array[],
  workers: number,
): Promise<number> {
  const pool = new WorkerPool({
    size: workers,
    rollups: [rollup],
    vm: {},
    snapshot: () => [],
    chunkSize: {},
    logger: pino({ level: 'silent' }),
  });
  await pool.start();
  const verifyAll = (list: Uint8Array[]) => {
    const size = pool.chunkSizeFor('transfer', list.length);
    const jobs: Promise<unknown[]>[] = [];
    for (let s = 0, i = 0; s < list.length; s += size, i++) {
      jobs.push(
        pool.run({
          namespace: T_NS,
          start: s,
          payloads: list.slice(s, s + size),
          ctx: { height: 1, timeMs: 0 },
          mode: () => 'prep',
          priority: i,
        }),
      );
    }
    return Promise.all(jobs);
  };
  await verifyAll(warmup);
  const t0 = performance.now();
  const outs = await verifyAll(txs);
  const sec = (performance.now() - t0) / 1000;
  await pool.stop();
  for (const o of outs)
    for (let k = 0; k < o.length; k += 2) if (o[k] !== 2) throw new Error('verify failed');
  return txs.length / sec;
}

// ---------------------------------------------------------------- secp256k1 recovery alternatives
async function secpAlternatives(payloads: Uint8Array[]) {
  const sample = payloads.slice(0, 300);
  const parsed = sample.map((p) => createTxFromRLP(p, { common }) as TypedTransaction);
  const sigs = parsed.map((t) => ({
    hash: t.getHashedMessageToSign(),
    r: bigIntToBytes(t.r!),
    s: bigIntToBytes(t.s!),
    v: Number(t.v!),
  }));
  const rate = (f: () => void) => {
    const t0 = performance.now();
    f();
    return Math.round(sample.length / ((performance.now() - t0) / 1000));
  };
  const pad = (b: Uint8Array) => {
    const o = new Uint8Array(32);
    o.set(b, 32 - b.byteLength);
    return o;
  };
  const compact = sigs.map((x) => {
    const o = new Uint8Array(64);
    o.set(pad(x.r), 0);
    o.set(pad(x.s), 32);
    return o;
  });
  const ethjs = rate(() => {
    for (const p of sample) (createTxFromRLP(p, { common }) as TypedTransaction).getSenderPublicKey();
  });
  const v2 = rate(() => {
    for (let i = 0; i < sigs.length; i++) {
      nobleV2.Signature.fromBytes(compact[i]!).addRecoveryBit(sigs[i]!.v).recoverPublicKey(sigs[i]!.hash);
    }
  });
  let v1: number | null = null;
  try {
    const path = new URL('../node_modules/viem/node_modules/@noble/curves/esm/secp256k1.js', import.meta.url);
    const mod = (await import(path.href)) as {
      secp256k1: {
        Signature: {
          fromCompact(b: Uint8Array): {
            addRecoveryBit(v: number): { recoverPublicKey(h: Uint8Array): unknown };
          };
        };
      };
    };
    v1 = rate(() => {
      for (let i = 0; i < sigs.length; i++) {
        mod.secp256k1.Signature.fromCompact(compact[i]!)
          .addRecoveryBit(sigs[i]!.v)
          .recoverPublicKey(sigs[i]!.hash);
      }
    });
  } catch {
    v1 = null;
  }
  // libsecp256k1, both builds Ordo loads (src/exec/evm/ecrecover.ts, ADR 0235): the recovery alone and
  // ethereumjs' decode + sender recovery with each plugged in as Common.customCrypto.ecrecover, as the
  // executor and Ethereum admission run it. Medians of 5 alternated rounds.
  const builds: [string, RecoverRaw | undefined][] = [
    ['wasm', recoverWasm],
    ['native', recoverNative],
  ];
  const libsecp: Record<string, { recoverPerSec: number; ethereumjsDecodePlusRecoverPerSec: number } | null> =
    {};
  const rounds: Record<string, { rec: number[]; tx: number[] }> = {};
  for (let round = 0; round < 5; round++) {
    for (const [name, raw] of builds) {
      if (raw === undefined) continue;
      const c = createCustomCommon({ chainId: CHAIN_ID }, Mainnet, {
        hardfork: Hardfork.Prague,
        customCrypto: { ecrecover: (h, v, r, s2, id) => ecrecoverWith(raw, h, v, r, s2, id) },
      });
      const rec = rate(() => {
        for (let i = 0; i < sigs.length; i++) raw(sigs[i]!.hash, compact[i]!, (sigs[i]!.v & 1) as 0 | 1);
      });
      const tx = rate(() => {
        for (const p of sample) (createTxFromRLP(p, { common: c }) as TypedTransaction).getSenderPublicKey();
      });
      const acc = rounds[name] ?? { rec: [], tx: [] };
      rounds[name] = acc;
      acc.rec.push(rec);
      acc.tx.push(tx);
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [name] of builds) {
    const r = rounds[name];
    libsecp[name] =
      r === undefined ? null : { recoverPerSec: med(r.rec), ethereumjsDecodePlusRecoverPerSec: med(r.tx) };
  }
  const w = libsecp.wasm;
  const n = libsecp.native;
  return {
    ethereumjsDecodePlusRecoverPerSec: ethjs,
    libsecp256k1: libsecp,
    nativeOverWasmRecover: w && n ? Math.round((n.recoverPerSec / w.recoverPerSec) * 100) / 100 : null,
    nativeOverWasmDecodePlusRecover:
      w && n
        ? Math.round((n.ethereumjsDecodePlusRecoverPerSec / w.ethereumjsDecodePlusRecoverPerSec) * 100) / 100
        : null,
    backendInUse: ecrecoverBackend(),
    nobleCurves2RecoverPerSec: v2,
    nobleCurves1_9RecoverPerSec: v1,
    note: 'single thread; node:crypto has no secp256k1 public-key recovery',
  };
}

// ---------------------------------------------------------------- main
async function main() {
  const started = performance.now();
  const loadavgStart = loadavg();
  say(`n=${args.n} runs=${args.runs} workers=${args.workers} cpus=${cpus().length}`);
  const { alloc, workloads } =
    args.only === 'transfer'
      ? { alloc: [], workloads: [] }
      : await buildEvmWorkloads(
          args.only === 'secp' ? Math.min(args.n, 2000) : args.n,
          args.only === 'secp' ? 0 : EVM_WARMUP,
          Math.max(1, args.workers),
        );
  const secp = workloads.length > 0 ? await secpAlternatives(workloads[0]!.txs) : null;
  say(`secp256k1 recover: ${JSON.stringify(secp)}`);
  if (args.only === 'secp') {
    writeResult(
      {
        secp256k1Recover: secp,
        meta: {
          n: Math.min(args.n, 2000),
          cpus: cpus().length,
          node: process.version,
          loadavg: loadavg(),
          date: new Date().toISOString(),
        },
      },
      args.out,
    );
    return;
  }

  const evm: Record<string, unknown> = {};
  for (const w of workloads) {
    const par: number[] = [];
    const seq: number[] = [];
    const own: number[] = [];
    let agrees = true;
    let reexecuted = 0;
    let prepChunks = 0;
    let specChunks = 0;
    for (let r = 0; r < args.runs; r++) {
      let b: Awaited<ReturnType<typeof baseline>>;
      let o: Awaited<ReturnType<typeof ordoEvm>>;
      if (r % 2 === 0) {
        b = await baseline(alloc, w);
        o = await ordoEvm(alloc, w, args.workers);
      } else {
        o = await ordoEvm(alloc, w, args.workers);
        b = await baseline(alloc, w);
      }
      // Like-for-like: Ordo's own sequential executor (same flat state, no workers).
      const q = await ordoEvm(alloc, w, 0);
      own.push(q.tps);
      seq.push(b.tps);
      par.push(o.tps);
      reexecuted = o.reexecuted;
      prepChunks = o.prepChunks;
      specChunks = o.specChunks;
      for (let i = 0; i < w.txs.length; i++) {
        const [ok, gas] = b.receipts[i]!;
        const mine = o.receipts[i]!;
        if ((mine.status === 'success') !== ok || mine.gasUsed !== gas) agrees = false;
      }
      say(
        `${w.name} run ${r + 1}: ethereumjs ${b.tps.toFixed(0)} tx/s, ordo sequential ${q.tps.toFixed(0)} tx/s, ordo parallel ${o.tps.toFixed(0)} tx/s (re-executed ${o.reexecuted})`,
      );
    }
    const p = median(par);
    const s = median(seq);
    evm[w.name] = {
      parallelTxPerSec: Math.round(p),
      sequentialTxPerSec: Math.round(s),
      ratio: round(p / s),
      runsParallel: par.map(Math.round),
      runsSequential: seq.map(Math.round),
      ordoSequentialTxPerSec: Math.round(median(own)),
      ratioToOrdoSequential: round(p / median(own)),
      runsOrdoSequential: own.map(Math.round),
      warmupTxs: w.warmup.length,
      reexecutedTxs: reexecuted,
      speculativeChunks: specChunks,
      prepareOnlyChunks: prepChunks,
      agreesWithEthereumjs: agrees,
    };
  }

  const { rollup, txs, warmup } = buildTransfers(args.only === 'evm' ? 0 : args.transferN);
  const tps: number[] = [];
  const total: number[] = [];
  const lim: number[] = [];
  for (let r = 0; r < (args.only === 'evm' ? 0 : args.transferRuns); r++) {
    // Alternate the order so neither side always runs on a warmer (or busier) machine.
    let t: { exec: number; total: number };
    if (r % 2 === 0) {
      lim.push(await sigLimitRun(rollup, txs, warmup, args.workers));
      t = await transferRun(rollup, txs, warmup, args.workers);
    } else {
      t = await transferRun(rollup, txs, warmup, args.workers);
      lim.push(await sigLimitRun(rollup, txs, warmup, args.workers));
    }
    tps.push(t.exec);
    total.push(t.total);
    say(
      `transfer run ${r + 1}: ${t.exec.toFixed(0)} tx/s executed (${t.total.toFixed(0)} tx/s incl. persistence), sig-verify limit ${lim[r]!.toFixed(0)} tx/s`,
    );
  }
  // Single-thread verify rate for reference.
  const t0 = performance.now();
  const m = Math.min(2000, txs.length);
  for (let i = 0; i < m; i++) {
    const p = txs[i]!;
    verifySignature(p.subarray(1, 33), transferSignBytes(T_NS, p), p.subarray(89, 153));
  }
  const single = m / ((performance.now() - t0) / 1000);
  const transfer = {
    txPerSec: Math.round(median(tps)),
    sigVerifyLimitTxPerSec: Math.round(median(lim)),
    ratioToLimit: round(median(tps) / median(lim)),
    txPerSecWithPersistence: Math.round(median(total)),
    ratioToLimitWithPersistence: round(median(total) / median(lim)),
    runsTxPerSecWithPersistence: total.map(Math.round),
    runsTxPerSec: tps.map(Math.round),
    runsLimit: lim.map(Math.round),
    singleThreadVerifyPerSec: Math.round(single),
    txs: txs.length,
  };

  const out = {
    evm,
    transfer,
    secp256k1Recover: secp,
    meta: {
      n: args.n,
      runs: args.runs,
      transferRuns: args.transferRuns,
      workers: args.workers,
      compared: {
        ratio:
          "parallelTxPerSec / sequentialTxPerSec: Ordo's executeBlock with the worker pool (decode, recovery, execution, validation, in-memory persistence, state root) over ethereumjs' runTx on its Merkle state manager (decode included), one block of n transactions",
        ratioToOrdoSequential:
          'parallelTxPerSec / ordoSequentialTxPerSec: the same executeBlock with the worker pool over it without workers (workers: 0, on the main thread)',
        warmup: `every timed instance (ethereumjs VM, parallel and sequential executor) first runs ${EVM_WARMUP} other senders' transactions of the workload, untimed`,
      },
      cpus: cpus().length,
      loadavgStart,
      node: process.version,
      seconds: Math.round((performance.now() - started) / 1000),
      date: new Date().toISOString(),
    },
  };
  writeResult(out, args.out);
}

if (isMainThread) {
  await main();
} else {
  // Signing threads end by themselves after answering (never terminated), so they may sign natively (ADR 0331).
  allowNativeSecp256k1();
  const [a, b] = (workerData as { signRange: [number, number] }).signRange;
  parentPort!.postMessage(signRange(a, b));
}
