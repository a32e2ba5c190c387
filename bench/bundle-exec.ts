/**
 * Bundle execution CPU on one node (issue #22, ADR 0220): what a bundled block costs the proposer, which
 * simulated its bundles first (rule 4) and reuses the simulated runs whose reads still hold, against a
 * validator that only executes. In-process, no network: CPU time (process.cpuUsage, user + system), so
 * a busy shared host changes the figures far less than wall-clock testnet latencies.
 *
 * Per height: `--bundles` bundles from distinct senders, each an EVM value transfer (to a fresh
 * recipient), half of them cross-rollup with a transfer-rollup leg too (the bench:bundles load's shape).
 * Both executors admit every leg first (`checkPayload`: decode and sender recovery, not timed, as the
 * bundle pool does on every node). The proposer simulates every bundle on its latest executed state
 * (timed: `simulateMicrosPerLeg`), then both execute the block with the bundles' spans (timed, order
 * alternating: `execMicrosPerLegProposer`, `execMicrosPerLegValidator`). Medians over `--heights`
 * heights after `--warmup` ones. `--no-reuse` runs the proposer without reusing its simulated runs
 * (`reuseSimulatedRuns: false`: the code before ADR 0220) for the same comparison.
 *
 *   node bench/bundle-exec.ts [--out FILE] [--bundles 100] [--heights 12] [--warmup 3] [--no-reuse]
 * JSON: {simulateMicrosPerLeg, execMicrosPerLegProposer, execMicrosPerLegValidator,
 *        proposerMicrosPerLeg (simulate + execute), proposerOverValidator, reusedShare, loadAvg, …}
 */
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createTx } from '@ethereumjs/tx';
import { privateToAddress } from '@ethereumjs/util';
import { Registry } from 'prom-client';
import { unsignedBundle } from '../src/codec/index.ts';
import type { RollupConfig } from '../src/config/index.ts';
import {
  createExecutor,
  type Executor,
  memoryKvFactory,
  signTransfer,
  transferSigner,
} from '../src/exec/index.ts';
import type { Bundle, BundleSpan } from '../src/types.ts';
import { writeResult } from './lib/json-out.ts';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    bundles: { type: 'string', default: '100' },
    heights: { type: 'string', default: '12' },
    warmup: { type: 'string', default: '3' },
    'no-reuse': { type: 'boolean', default: false },
  },
});
const K = Number(args.bundles);
const HEIGHTS = Number(args.heights);
const WARMUP = Number(args.warmup);
const EVM_NS = 3;
const TRANSFER_NS = 2;
const CHAIN_ID = 900001;

const seed = (tag: string): Uint8Array => new Uint8Array(createHash('sha256').update(tag).digest());
const evmKeys = Array.from({ length: K }, (_, i) => seed(`bench-evm-${i}`));
const tSigners = Array.from({ length: K }, (_, i) => transferSigner(seed(`bench-t-${i}`)));
const common = createCustomCommon({ chainId: CHAIN_ID }, Mainnet, { hardfork: Hardfork.Prague });

const rollups: RollupConfig[] = [
  {
    namespace: TRANSFER_NS,
    name: 'pay',
    kind: 'transfer',
    weight: 1,
    maxTxBytes: 1000,
    maxPendingTxs: 10_000,
    maxPendingBytes: 10_000_000,
    alloc: tSigners.map((s) => ({
      address: Buffer.from(s.publicKey).toString('hex'),
      balance: '1000000000',
    })),
  },
  {
    namespace: EVM_NS,
    name: 'evm',
    kind: 'evm',
    weight: 1,
    maxTxBytes: 100_000,
    maxPendingTxs: 10_000,
    maxPendingBytes: 10_000_000,
    evmChainId: CHAIN_ID,
    alloc: evmKeys.map((k) => ({
      address: `0x${Buffer.from(privateToAddress(k)).toString('hex')}`,
      balance: '1000000000000000000000',
    })),
  },
];

function evmPay(i: number, nonce: bigint, height: number): Uint8Array {
  const to = privateToAddress(seed(`bench-rcpt-${height}-${i}`));
  return createTx(
    {
      type: 2,
      nonce,
      to,
      value: 1000n,
      gasLimit: 21_000n,
      maxFeePerGas: 3_000_000_000n,
      maxPriorityFeePerGas: 0n,
    },
    { common },
  )
    .sign(evmKeys[i]!)
    .serialize();
}

function transferPay(i: number, nonce: bigint, height: number): Uint8Array {
  return signTransfer(tSigners[i]!, TRANSFER_NS, {
    to: transferSigner(seed(`bench-trcpt-${height}-${i}`)).publicKey,
    amount: 1n,
    fee: 1n,
    nonce,
  });
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const registry = new Registry();
  const proposer = createExecutor({
    rollups,
    kv: memoryKvFactory().kv,
    workers: 0,
    registry,
    reuseSimulatedRuns: args['no-reuse'] !== true,
  });
  const validator = createExecutor({ rollups, kv: memoryKvFactory().kv, workers: 0 });
  await Promise.all([proposer.start(), validator.start()]);
  const sim: number[] = [];
  const execP: number[] = [];
  const execV: number[] = [];
  let legsPerHeight = 0;
  for (let h = 1; h <= WARMUP + HEIGHTS; h++) {
    const evm: Uint8Array[] = [];
    const tr: Uint8Array[] = [];
    const spans: BundleSpan[] = [];
    const bundles: Bundle[] = [];
    for (let i = 0; i < K; i++) {
      const hash = seed(`bundle-${h}-${i}`);
      const e = evmPay(i, BigInt(h - 1), h);
      const legs: Bundle['legs'] = [];
      if (i % 2 === 0) {
        const t = transferPay(i, BigInt(h - 1), h);
        spans.push({
          bundleHash: hash,
          namespace: TRANSFER_NS,
          start: tr.length,
          count: 1,
          atomicity: 1,
          reverting: [],
        });
        tr.push(t);
        legs.push({ namespace: TRANSFER_NS, txs: [t], revertingTxHashes: [] });
      }
      spans.push({
        bundleHash: hash,
        namespace: EVM_NS,
        start: evm.length,
        count: 1,
        atomicity: 1,
        reverting: [],
      });
      evm.push(e);
      legs.push({ namespace: EVM_NS, txs: [e], revertingTxHashes: [] });
      bundles.push(unsignedBundle(legs));
    }
    legsPerHeight = evm.length + tr.length;
    // Admission on both nodes (not timed).
    for (const ex of [proposer, validator]) {
      for (const p of evm) if (ex.checkPayload(EVM_NS, p) !== undefined) throw new Error('bad evm leg');
      for (const p of tr)
        if (ex.checkPayload(TRANSFER_NS, p) !== undefined) throw new Error('bad transfer leg');
    }
    const txs = new Map<number, Uint8Array[]>([
      [TRANSFER_NS, tr],
      [EVM_NS, evm],
    ]);
    const c0 = cpuMicros();
    for (const b of bundles) {
      const r = await proposer.simulate(b);
      if (!r.applies) throw new Error(`bundle would not apply: ${r.reason}`);
    }
    const c1 = cpuMicros();
    const timeMs = h * 1000;
    const run = async (ex: Executor): Promise<number> => {
      const t0 = cpuMicros();
      const res = await ex.executeBlock(h, txs, { timeMs, spans });
      if (res.bundles.some((o) => o.outcome !== 'applied')) throw new Error('a bundle was voided');
      return cpuMicros() - t0;
    };
    let p: number;
    let v: number;
    if (h % 2 === 0) {
      p = await run(proposer);
      v = await run(validator);
    } else {
      v = await run(validator);
      p = await run(proposer);
    }
    if (Buffer.compare(proposer.head(EVM_NS).stateRoot, validator.head(EVM_NS).stateRoot) !== 0)
      throw new Error(`state roots differ at height ${h}`);
    if (h > WARMUP) {
      sim.push((c1 - c0) / legsPerHeight);
      execP.push(p / legsPerHeight);
      execV.push(v / legsPerHeight);
    }
  }
  const runs = (await registry.getSingleMetric('ordo_exec_sim_runs_total')?.get())?.values ?? [];
  const reused = runs.filter((r) => r.labels.result === 'reused').reduce((a, r) => a + r.value, 0);
  const total = runs.reduce((a, r) => a + r.value, 0);
  await Promise.all([proposer.stop(), validator.stop()]);
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const out = {
    reuse: args['no-reuse'] !== true,
    bundlesPerHeight: K,
    legsPerHeight,
    heights: HEIGHTS,
    simulateMicrosPerLeg: r1(median(sim)),
    execMicrosPerLegProposer: r1(median(execP)),
    execMicrosPerLegValidator: r1(median(execV)),
    proposerMicrosPerLeg: r1(median(sim) + median(execP)),
    proposerOverValidator: Math.round(((median(sim) + median(execP)) / median(execV)) * 1000) / 1000,
    reusedShare: total === 0 ? 0 : Math.round((reused / total) * 1000) / 1000,
    loadAvg: r1(loadavg()[0]!),
  };
  writeResult(out, args.out);
}

await main();
