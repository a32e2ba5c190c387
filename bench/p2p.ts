/**
 * P2P gossip benchmark: 4 nodes as separate OS processes (bench/p2p-node.ts) on 127.0.0.1, full mesh,
 * 200-byte transactions submitted across all nodes. Each round measures
 *  - batched: transactions go through TxGossip (batches of up to 512 txs / 256 KiB / 10 ms);
 *  - raw: the same setup publishing one gossip message per transaction (the baseline);
 * as transactions delivered to all 4 nodes per second (time from the start command to the last node
 * having every transaction). Several rounds, medians reported; ratio = batched / raw from the same run.
 * Latency (submit -> delivered at all 4 nodes) comes from a paced batched round at about half the
 * measured capacity, from timestamps embedded in sampled payloads.
 *
 *   npm run bench:p2p -- --out FILE [--rounds 3] [--batched-per-node 12500] [--raw-per-node 600]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeResult } from './lib/json-out.ts';
import type { ChildMsg, Mode, ParentMsg } from './p2p-node.ts';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    'batched-per-node': { type: 'string', default: '12500' },
    'raw-per-node': { type: 'string', default: '600' },
    'latency-seconds': { type: 'string', default: '2' },
    'batch-txs': { type: 'string', default: '512' },
    'batch-kib': { type: 'string', default: '256' },
    'flush-ms': { type: 'string', default: '10' },
    /** Gossipsub mesh degree D (Dlo = max(1, D-1), Dhi = D+1); default: the library's. */
    'mesh-d': { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
const BATCHED_PER_NODE = Number(args['batched-per-node']);
const RAW_PER_NODE = Number(args['raw-per-node']);
const LATENCY_SECONDS = Number(args['latency-seconds']);
const BATCH = {
  maxTxs: Number(args['batch-txs']),
  maxBytes: Number(args['batch-kib']) * 1024,
  flushMs: Number(args['flush-ms']),
};
const MESH_D = args['mesh-d'] === undefined ? undefined : Number(args['mesh-d']);
const MESH = MESH_D === undefined ? undefined : { D: MESH_D, Dlo: Math.max(1, MESH_D - 1), Dhi: MESH_D + 1 };
const NODES = 4;
const ROUND_TIMEOUT_MS = 120_000;

interface Child {
  proc: ChildProcess;
  inbox: ChildMsg[];
  waiters: ((m: ChildMsg) => boolean)[];
}

function spawnChild(): Child {
  const proc = fork(join(import.meta.dirname, 'p2p-node.ts'), [], {
    execPath: process.execPath,
    // ORDO_BENCH_PROF=DIR writes a CPU profile per node process.
    execArgv: process.env.ORDO_BENCH_PROF
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.ORDO_BENCH_PROF}`]
      : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const c: Child = { proc, inbox: [], waiters: [] };
  proc.on('message', (raw) => {
    const m = raw as ChildMsg;
    if (m.type === 'error') console.error(`[p2p-node] ${m.message}`);
    c.inbox.push(m);
    c.waiters = c.waiters.filter((w) => !w(m));
  });
  return c;
}

function expectMsg<T extends ChildMsg['type']>(
  c: Child,
  type: T,
  timeoutMs: number,
  pred: (m: Extract<ChildMsg, { type: T }>) => boolean = () => true,
): Promise<Extract<ChildMsg, { type: T }>> {
  return new Promise((resolve, reject) => {
    const match = (m: ChildMsg) => m.type === type && pred(m as Extract<ChildMsg, { type: T }>);
    const idx = c.inbox.findIndex(match);
    if (idx >= 0) {
      resolve(c.inbox.splice(idx, 1)[0] as Extract<ChildMsg, { type: T }>);
      return;
    }
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${type}`)), timeoutMs);
    c.waiters.push((m) => {
      if (!match(m)) return false;
      clearTimeout(timer);
      c.inbox.splice(c.inbox.indexOf(m), 1);
      resolve(m as Extract<ChildMsg, { type: T }>);
      return true;
    });
  });
}

const tell = (c: Child, m: ParentMsg) => c.proc.send(m);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

let roundNo = 0;

/** Total CPU time (user + system) used so far by all node processes. */
async function cpuTotal(children: Child[]): Promise<number> {
  for (const c of children) tell(c, { cmd: 'status' });
  const st = await Promise.all(children.map((c) => expectMsg(c, 'status', 10_000)));
  return st.reduce((n, s) => n + s.cpuMicros, 0);
}

async function runRound(
  children: Child[],
  mode: Mode,
  perNode: number,
  ratePerSec = 0,
  sampleEvery = 1_000_000,
): Promise<{
  txPerSec: number;
  seconds: number;
  latencies: number[];
  dropped: number;
  cpuMicrosPerTx: number;
}> {
  const round = ++roundNo;
  const cpuBefore = await cpuTotal(children);
  const t0 = performance.now();
  for (const c of children) tell(c, { cmd: 'run', mode, round, count: perNode, ratePerSec, sampleEvery });
  const dones = await Promise.all(
    children.map((c) => expectMsg(c, 'done', ROUND_TIMEOUT_MS, (m) => m.round === round)),
  );
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(
    children.map((c) => expectMsg(c, 'progress', ROUND_TIMEOUT_MS, (m) => m.round === round)),
  );
  // Latency per sampled tx: the slowest of the 4 deliveries (the origin delivers at submit).
  const worst = new Map<string, number>();
  for (const d of dones) {
    for (const [origin, seq, submit, deliver] of d.samples) {
      const k = `${origin}:${seq}`;
      worst.set(k, Math.max(worst.get(k) ?? 0, deliver - submit));
    }
  }
  const total = perNode * NODES;
  const cpuMicrosPerTx = ((await cpuTotal(children)) - cpuBefore) / total;
  return {
    cpuMicrosPerTx,
    txPerSec: total / seconds,
    seconds,
    latencies: [...worst.values()],
    dropped: dones.reduce((n, d) => n + d.dropped, 0),
  };
}

async function main(): Promise<void> {
  const children: Child[] = [];
  try {
    const addrs: string[] = [];
    for (let i = 0; i < NODES; i++) {
      const c = spawnChild();
      children.push(c);
      tell(c, {
        cmd: 'start',
        index: i,
        bootstrap: [...addrs],
        chainId: 'bench',
        batch: BATCH,
        ...(MESH ? { mesh: MESH } : {}),
      });
      const started = await expectMsg(c, 'started', 30_000);
      addrs.push(started.addr);
    }
    // Wait until every node sees the other three subscribed to the tx topic.
    for (let i = 0; i < 200; i++) {
      for (const c of children) tell(c, { cmd: 'status' });
      const st = await Promise.all(children.map((c) => expectMsg(c, 'status', 10_000)));
      if (st.every((s) => s.txTopicPeers === NODES - 1)) break;
      await sleep(100);
    }
    await sleep(1000); // let the gossipsub mesh form (a few heartbeats)

    // Warm-up (JIT, connections, mesh).
    await runRound(children, 'batched', Math.ceil(BATCHED_PER_NODE / 5));
    await runRound(children, 'raw', Math.ceil(RAW_PER_NODE / 5));

    const batched: number[] = [];
    const raw: number[] = [];
    const batchedCpu: number[] = [];
    const rawCpu: number[] = [];
    let dropped = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const b = await runRound(children, 'batched', BATCHED_PER_NODE);
      const w = await runRound(children, 'raw', RAW_PER_NODE);
      batched.push(b.txPerSec);
      raw.push(w.txPerSec);
      batchedCpu.push(b.cpuMicrosPerTx);
      rawCpu.push(w.cpuMicrosPerTx);
      dropped += b.dropped + w.dropped;
      console.error(
        `round ${r + 1}: batched ${b.txPerSec.toFixed(0)} tx/s (${b.seconds.toFixed(2)} s, ${b.cpuMicrosPerTx.toFixed(1)} cpu-us/tx), raw ${w.txPerSec.toFixed(0)} msg/s (${w.seconds.toFixed(2)} s, ${w.cpuMicrosPerTx.toFixed(1)} cpu-us/tx)`,
      );
    }
    const txPerSec = median(batched);
    const rawGossipMsgPerSec = median(raw);

    // Latency: paced batched load at about half of the measured capacity.
    const ratePerNode = Math.max(100, Math.floor(txPerSec / 2 / NODES));
    const perNode = Math.max(1000, Math.floor(ratePerNode * LATENCY_SECONDS));
    const lat = await runRound(children, 'batched', perNode, ratePerNode, 10);
    const result = {
      txPerSec: Math.round(txPerSec),
      rawGossipMsgPerSec: Math.round(rawGossipMsgPerSec),
      ratio: Number((txPerSec / rawGossipMsgPerSec).toFixed(2)),
      latencyMs: {
        p50: Number(percentile(lat.latencies, 50).toFixed(1)),
        p99: Number(percentile(lat.latencies, 99).toFixed(1)),
      },
      detail: {
        nodes: NODES,
        txBytes: 200,
        rounds: ROUNDS,
        batchedTxPerNodePerRound: BATCHED_PER_NODE,
        rawTxPerNodePerRound: RAW_PER_NODE,
        batchedTxPerSecRounds: batched.map(Math.round),
        rawMsgPerSecRounds: raw.map(Math.round),
        // CPU time of all 4 node processes per transaction delivered everywhere: independent of how busy
        // the shared machine is. Capacity on C idle cores is about C * 1e6 / cpuMicrosPerTx.
        cpuMicrosPerTx: {
          batched: Number(median(batchedCpu).toFixed(1)),
          raw: Number(median(rawCpu).toFixed(1)),
          ratio: Number((median(rawCpu) / median(batchedCpu)).toFixed(2)),
        },
        cpuCores: availableParallelism(),
        loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
        latencyOfferedTxPerSec: ratePerNode * NODES,
        latencySamples: lat.latencies.length,
        publishFailures: dropped,
        batching: BATCH,
        mesh: MESH ?? 'gossipsub default (D=6, Dlo=4, Dhi=12)',
      },
    };
    writeResult(result, args.out);
  } finally {
    for (const c of children) {
      if (c.proc.connected) tell(c, { cmd: 'stop' });
    }
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.proc.exitCode !== null) return resolve();
            const t = setTimeout(() => {
              c.proc.kill('SIGKILL');
              resolve();
            }, 10_000);
            c.proc.on('exit', () => {
              clearTimeout(t);
              resolve();
            });
          }),
      ),
    );
  }
}

await main();
