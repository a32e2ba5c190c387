/**
 * Auction benchmark: `npm run bench:auction -- --out FILE [--runs N] [--no-testnet] [--load TX_PER_S]
 * [--duration S] [--warmup S] [--searchers N] [--pairs P]` writes
 * `{resolveMsAt1000Bids, resolveMsAt10000Bids, bidsPerSecAdmitted, nonAuctionP99RatioAuctionOnVsOff,
 * testnetTxPerSecAuctionOnVsOffRatio, nonAuctionExtraDelayBlocksP50, nonAuctionExtraDelayBlocksP99,
 * cpuPerTxRatioAuctionOnVsOff,
 * notMeasured, details}`:
 * - resolveMsAt*: median wall ms of `resolveSlot` over random valid bids for one slot (1-3 of 16 rollups);
 * - the rest from 4-validator testnets in this one script (`ordo testnet up --load RATE
 *   --load-namespaces 1 --duration S`), in P pairs (default 1) of an "on" run with `--searchers N`
 *   (N demo bidders commit and reveal in every slot, src/loadgen/searcher.ts) and an "off" run with
 *   `--no-auction` (genesis without the auction: no auction code runs). bidsPerSecAdmitted = commits the
 *   nodes admitted per second of the "on" run; the ratios compare the background (non-auction) load's
 *   p99 submit → commit latency and committed tx/s, on over off (median over the pairs).
 * - cpuPerTxRatioAuctionOnVsOff: CPU of every process of the run (nodes, orchestrator, load generator,
 *   searchers) per committed transaction in the measured window, on over off (bench/lib/proc-cpu.ts);
 *   less sensitive to a shared machine's load than latencies. Each run's µs/tx is in `details`.
 * - nonAuctionExtraDelayBlocks*: the issue's rule 7 ("the auction never delays non-auction transactions
 *   more than one block"), as (latency on − latency off) / the "off" run's mean block interval, at p50
 *   and p99: how many blocks later a non-auction transaction commits when the auction runs. ≤ 1 meets it.
 * - `--searchers-poll-only`: the searchers poll the head every 100 ms instead of following a node's
 *   `ordo_subscribe ["auction"]` (they then miss most one-block reveal windows): an A/B of node changes
 *   against a baseline whose searchers do not subscribe.
 * - auctionSlotsWithBidsOn / auctionSlotsSoldOn: slots of the "on" run that resolved with at least one
 *   valid revealed bid / sold something, as the searchers saw them (median over the pairs), and
 *   auctionSlotsWithBidsShareOn, the former over the run's committed blocks: how much auction work the
 *   ratios above are about (a reveal that misses its one-block window leaves a slot without bids).
 * A figure that could not be measured is null with the reason in `notMeasured`. Load averages are
 * recorded: the machine is shared, read the ratios with them.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Bid, resolveSlot } from '../src/auction/index.ts';
import type { SearcherReport } from '../src/loadgen/index.ts';
import type { TestnetReport } from '../testnet/orchestrator.ts';
import { findFreeBasePort } from '../testnet/setup.ts';
import { writeResult } from './lib/json-out.ts';
import { TreeCpuSampler } from './lib/proc-cpu.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    runs: { type: 'string', default: '7' },
    'no-testnet': { type: 'boolean' },
    load: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    searchers: { type: 'string', default: '8' },
    pairs: { type: 'string', default: '1' },
    'searchers-poll-only': { type: 'boolean' },
  },
});
const runs = Math.max(1, Number(values.runs));

let s = 12345;
const rnd = (n: number) => {
  s = (Math.imul(s, 1103515245) + 12345) >>> 0;
  return s % n;
};
function bids(n: number): Bid[] {
  return Array.from({ length: n }, (_, i) => {
    const k = new Uint8Array(32);
    new DataView(k.buffer).setUint32(0, i);
    const ns = new Set<number>();
    const legs = 1 + rnd(3);
    while (ns.size < legs) ns.add(1 + rnd(16));
    return {
      bidder: k,
      amount: BigInt(1 + rnd(1_000_000)),
      namespaces: [...ns],
      commitment: k,
      bundleHash: k,
    };
  });
}
function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? (a[m] as number) : ((a[m - 1] as number) + (a[m] as number)) / 2;
}
function measure(n: number): number {
  const set = bids(n);
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    resolveSlot(1, set, () => 0n);
    ms.push(performance.now() - t);
  }
  return Math.round(median(ms) * 1000) / 1000;
}
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Run {
  report: TestnetReport;
  /** CPU µs (every process of the run: nodes, orchestrator, load, searchers) per committed tx in the window. */
  cpuMicrosPerTx: number | null;
  searchers: SearcherReport | undefined;
  loadavgBefore: number[];
  loadavgAfter: number[];
}

/**
 * One `ordo testnet up` with the background load: with the auction and `searchers` bidders, or (0) with
 * the auction disabled in genesis; its report (and the searchers').
 */
async function testnetRun(searchers: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'ordo-bench-auction-'));
  const report = join(dir, 'report.json');
  const base = await findFreeBasePort(4);
  const argv = [
    join(REPO, 'bin', 'ordo.js'),
    'testnet',
    'up',
    '--validators',
    '4',
    '--rollups',
    '4',
    '--load',
    String(values.load),
    '--load-namespaces',
    '1',
    '--duration',
    String(values.duration),
    '--warmup',
    String(values.warmup),
    ...(searchers > 0 ? ['--searchers', String(searchers)] : ['--no-auction']),
    '--dashboard',
    '0',
    '--base-port',
    String(base),
    '--dir',
    join(dir, 'net'),
    '--report',
    report,
  ];
  process.stderr.write(
    `\n== testnet up --load ${values.load} ${searchers > 0 ? `--searchers ${searchers}` : '--no-auction'} --duration ${values.duration}\n`,
  );
  const loadavgBefore = loadavg();
  const child = spawn(process.execPath, argv, {
    cwd: REPO,
    stdio: ['ignore', 'inherit', 'inherit'],
    // --searchers-poll-only: searchers poll the head instead of following a node's applied heights.
    env:
      values['searchers-poll-only'] === true
        ? { ...process.env, ORDO_SEARCHERS_POLL_ONLY: '1' }
        : process.env,
  });
  const sampler = child.pid === undefined ? undefined : new TreeCpuSampler(child.pid);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  sampler?.stop();
  try {
    if (!existsSync(report)) throw new Error(`testnet up exited ${code} without a report`);
    const sfile = join(dir, 'report.searchers.json');
    const r = JSON.parse(readFileSync(report, 'utf8')) as TestnetReport;
    const w = r.load?.window;
    const inWindow = r.load?.committedInWindow ?? 0;
    const cpuSec = w === undefined ? undefined : sampler?.cpuSecondsBetween(w.startMs, w.endMs);
    return {
      report: r,
      cpuMicrosPerTx: cpuSec === undefined || inWindow === 0 ? null : Math.round((cpuSec * 1e6) / inWindow),
      searchers: existsSync(sfile) ? (JSON.parse(readFileSync(sfile, 'utf8')) as SearcherReport) : undefined,
      loadavgBefore,
      loadavgAfter: loadavg(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : null);
const notMeasured: Record<string, string> = {};
let bidsPerSecAdmitted: number | null = null;
let p99Ratio: number | null = null;
let tpsRatio: number | null = null;
let extraBlocksP50: number | null = null;
let cpuRatio: number | null = null;
let extraBlocksP99: number | null = null;
let slotsWithBids: number | null = null;
let slotsSold: number | null = null;
let slotsWithBidsShare: number | null = null;
const FIGURES = [
  'bidsPerSecAdmitted',
  'nonAuctionP99RatioAuctionOnVsOff',
  'testnetTxPerSecAuctionOnVsOffRatio',
  'nonAuctionExtraDelayBlocksP50',
  'nonAuctionExtraDelayBlocksP99',
];
let details: Record<string, unknown> = {};
const resolveMsAt1000Bids = measure(1000);
const resolveMsAt10000Bids = measure(10_000);
if (values['no-testnet'] === true) {
  for (const k of FIGURES) notMeasured[k] = '--no-testnet';
} else {
  try {
    const pairs: { on: Run; off: Run }[] = [];
    for (let i = 0; i < Math.max(1, Number(values.pairs)); i++) {
      // Alternate the order so a load drift on the shared machine does not favour one side.
      if (i % 2 === 0) {
        const on = await testnetRun(Number(values.searchers));
        pairs.push({ on, off: await testnetRun(0) });
      } else {
        const off = await testnetRun(0);
        pairs.push({ on: await testnetRun(Number(values.searchers)), off });
      }
    }
    const admitted = pairs.map((p) => p.on.searchers).filter((x) => x !== undefined);
    if (admitted.length === 0 || admitted.every((x) => x.commits.admitted === 0)) {
      notMeasured.bidsPerSecAdmitted =
        admitted.length === 0
          ? 'the searchers did not run (is the auction enabled in the testnet genesis?)'
          : `no bid was admitted: ${JSON.stringify(admitted[0]?.commits.rejected)}`;
    } else bidsPerSecAdmitted = median(admitted.map((x) => x.bidsPerSecAdmitted));
    const med = (xs: (number | null)[]) => {
      const v = xs.filter((x): x is number => x !== null);
      return v.length === 0 ? null : Math.round(median(v) * 1000) / 1000;
    };
    p99Ratio = med(pairs.map((p) => ratio(p.on.report.latencyMs.p99, p.off.report.latencyMs.p99)));
    tpsRatio = med(pairs.map((p) => ratio(p.on.report.txPerSec, p.off.report.txPerSec)));
    cpuRatio = med(
      pairs.map((p) =>
        p.on.cpuMicrosPerTx === null || p.off.cpuMicrosPerTx === null
          ? null
          : ratio(p.on.cpuMicrosPerTx, p.off.cpuMicrosPerTx),
      ),
    );
    // Rule 7: extra latency of the non-auction load, in "off" block intervals.
    const blockMs = (r: Run) =>
      r.report.blocks.count > 0 ? (r.report.durationSec * 1000) / r.report.blocks.count : null;
    const extra = (p: { on: Run; off: Run }, q: 'p50' | 'p99') => {
      const b = blockMs(p.off);
      return b === null ? null : (p.on.report.latencyMs[q] - p.off.report.latencyMs[q]) / b;
    };
    slotsWithBids = med(pairs.map((p) => p.on.searchers?.slotsWithBids ?? null));
    slotsSold = med(pairs.map((p) => p.on.searchers?.slotsSold ?? null));
    slotsWithBidsShare = med(
      pairs.map((p) =>
        p.on.searchers?.slotsWithBids === undefined || p.on.report.blocks.count === 0
          ? null
          : p.on.searchers.slotsWithBids / p.on.report.blocks.count,
      ),
    );
    extraBlocksP50 = med(pairs.map((p) => extra(p, 'p50')));
    extraBlocksP99 = med(pairs.map((p) => extra(p, 'p99')));
    const brief = (r: Run) => ({
      txPerSec: r.report.txPerSec,
      latencyMs: r.report.latencyMs,
      committedTxs: r.report.committedTxs,
      blocks: r.report.blocks,
      meanBlockIntervalMs: blockMs(r) === null ? null : Math.round(blockMs(r)! * 10) / 10,
      cpuMicrosPerTx: r.cpuMicrosPerTx,
      loadavgBefore: r.loadavgBefore,
      loadavgAfter: r.loadavgAfter,
    });
    details = {
      offeredTxPerSec: Number(values.load),
      durationSec: Number(values.duration),
      off: 'ordo testnet up --no-auction (genesis without the auction section)',
      pairs: pairs.map((p) => ({
        on: { ...brief(p.on), searchers: p.on.searchers ?? null },
        off: brief(p.off),
      })),
    };
  } catch (err) {
    const why = `testnet run failed: ${(err as Error).message}`;
    for (const k of FIGURES) notMeasured[k] = why;
  }
}
const out = {
  resolveMsAt1000Bids,
  resolveMsAt10000Bids,
  bidsPerSecAdmitted,
  nonAuctionP99RatioAuctionOnVsOff: p99Ratio,
  testnetTxPerSecAuctionOnVsOffRatio: tpsRatio,
  nonAuctionExtraDelayBlocksP50: extraBlocksP50,
  nonAuctionExtraDelayBlocksP99: extraBlocksP99,
  cpuPerTxRatioAuctionOnVsOff: cpuRatio,
  auctionSlotsWithBidsOn: slotsWithBids,
  auctionSlotsSoldOn: slotsSold,
  auctionSlotsWithBidsShareOn: slotsWithBidsShare,
  notMeasured,
  runs,
  searchersPollOnly: values['searchers-poll-only'] === true,
  details,
};
writeResult(out, values.out);
