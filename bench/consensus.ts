/**
 * Consensus benchmark (issue 4): 4 validator processes on loopback, submit → committed latency.
 *   idle:   no load for a window (blocks per second: the heartbeat/empty-block cadence), then a trickle of
 *           10 tx/s to measure the latency of a transaction arriving at an idle network.
 *   loaded: 5,000 tx/s open-loop (200-byte opaque transactions over JSON-RPC batches spread across all
 *           nodes), after a warm-up; latency from submit to the commit of the block holding the tx.
 * Several rounds (a fresh network each), medians reported. Writes
 *   {idle: {latencyMs: {p50, p99}, blocksPerSec}, loaded: {offeredTxPerSec, txPerSec, latencyMs: {p50, p99}}}
 *
 *   npm run bench:consensus -- --out FILE [--rounds 3] [--rate 5000] [--duration 20] [--warmup 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad } from '../src/loadgen/index.ts';
import { rpcCall } from '../src/rpc/index.ts';
import { NodeProcess } from '../testnet/process.ts';
import { findFreeBasePort, setupNetwork } from '../testnet/setup.ts';
import { writeResult } from './lib/json-out.ts';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    rate: { type: 'string', default: '5000' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    validators: { type: 'string', default: '4' },
  },
});
const rounds = Number(args.rounds);
const rate = Number(args.rate);
const duration = Number(args.duration);
const warmup = Number(args.warmup);
const validators = Number(args.validators);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? 0
    : s.length % 2
      ? s[(s.length - 1) / 2]!
      : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => process.stderr.write(`[bench:consensus] ${s}\n`);

interface RoundResult {
  idle: { blocksPerSec: number; p50: number; p99: number };
  loaded: { txPerSec: number; p50: number; p99: number; committed: number };
}

async function heightOf(url: string): Promise<number> {
  return ((await rpcCall(url, 'ordo_status', [], 10_000)) as { height: number }).height;
}

async function round(i: number): Promise<RoundResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ordo-bench-consensus-'));
  const procs: NodeProcess[] = [];
  try {
    const basePort = await findFreeBasePort(validators);
    const net = await setupNetwork({
      dir,
      validators,
      fullNodes: 0,
      rollups: 3,
      basePort,
      chainId: `bench-${i}`,
      config: { log: { level: 'warn' } },
    });
    for (const n of net.nodes) procs.push(new NodeProcess({ id: n.id, home: n.home, rpc: n.rpc }));
    for (const p of procs) p.spawn();
    await Promise.all(procs.map((p) => p.waitReady(90_000)));
    const urls = procs.map((p) => p.rpc);
    // let the network settle into steady heights
    for (let k = 0; k < 100 && (await heightOf(urls[0]!)) < 3; k++) await sleep(200);

    // idle cadence
    const h0 = await heightOf(urls[0]!);
    const t0 = performance.now();
    await sleep(5000);
    const blocksPerSec = ((await heightOf(urls[0]!)) - h0) / ((performance.now() - t0) / 1000);

    // idle latency: a trickle of transactions
    const trickle = await runLoad({
      urls,
      rate: 10,
      durationSec: 8,
      sizeBytes: 200,
      namespaces: [1],
      drainMs: 3000,
    });

    // loaded: warm-up, then the measured window
    const loaded = await runLoad({
      urls,
      rate,
      durationSec: duration,
      warmupSec: warmup,
      sizeBytes: 200,
      namespaces: [1],
      drainMs: 5000,
    });
    const r: RoundResult = {
      idle: { blocksPerSec, p50: trickle.latencyMs.p50, p99: trickle.latencyMs.p99 },
      loaded: {
        txPerSec: loaded.txPerSec,
        p50: loaded.latencyMs.p50,
        p99: loaded.latencyMs.p99,
        committed: loaded.committedTxs,
      },
    };
    log(`round ${i + 1}/${rounds}: ${JSON.stringify(r)} (load average ${loadavg()[0]!.toFixed(1)})`);
    return r;
  } finally {
    await Promise.all(procs.map((p) => p.stop(5000).catch(() => p.killNow())));
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: RoundResult[] = [];
for (let i = 0; i < rounds; i++) results.push(await round(i));

const out = {
  idle: {
    latencyMs: { p50: median(results.map((r) => r.idle.p50)), p99: median(results.map((r) => r.idle.p99)) },
    blocksPerSec: Number(median(results.map((r) => r.idle.blocksPerSec)).toFixed(2)),
  },
  loaded: {
    offeredTxPerSec: rate,
    txPerSec: Math.round(median(results.map((r) => r.loaded.txPerSec))),
    latencyMs: {
      p50: median(results.map((r) => r.loaded.p50)),
      p99: median(results.map((r) => r.loaded.p99)),
    },
  },
  targets: { loadedP50Ms: 150, loadedP99Ms: 500 },
  meta: {
    validators,
    rounds,
    durationSec: duration,
    warmupSec: warmup,
    txBytes: 200,
    cores: availableParallelism(),
    loadAverageAtEnd: loadavg()[0],
    note: 'all validators, the load generator and the follower share this machine; medians over rounds',
    perRound: results,
  },
};
writeResult(out, args.out);
process.exit(0);
