/**
 * Main-thread stalls per node over a testnet benchmark run, from each node's
 * `ordo_event_loop_stall_seconds` histogram (ADR 0311): run beside `bench/testnet.ts` (same lock hold),
 * it finds the newest `/tmp/ordo-bench-*` testnet directory created after it started, scrapes every
 * node's `/metrics` every 2 s, and when the nodes stop answering writes, per node, the stalls seen
 * between its first and last scrape: count (≥ 50 ms), total seconds, and how many reached 0.25 / 0.5 /
 * 1 / 2.5 s (the histogram's buckets; a histogram has no maximum, so "longest" is the highest bucket
 * reached).
 *
 *   node bench/stall-poll.ts --out FILE.json &  node bench/testnet.ts --mix ...
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeResult } from './lib/json-out.ts';

const { values: args } = parseArgs({
  options: { out: { type: 'string' }, root: { type: 'string', default: '/tmp' } },
});
if (args.out === undefined) throw new Error('--out FILE is required');
const started = Date.now();
const BOUNDS = ['0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf'];

type Hist = { buckets: Record<string, number>; sum: number; count: number };
function parse(text: string): Hist | null {
  const h: Hist = { buckets: {}, sum: 0, count: 0 };
  let seen = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith('ordo_event_loop_stall_seconds')) continue;
    seen = true;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le !== undefined) h.buckets[le] = v;
    else if (line.startsWith('ordo_event_loop_stall_seconds_sum')) h.sum = v;
    else if (line.startsWith('ordo_event_loop_stall_seconds_count')) h.count = v;
  }
  return seen ? h : null;
}

function findDir(): string | undefined {
  let best: { d: string; t: number } | undefined;
  for (const n of readdirSync(args.root!)) {
    if (!n.startsWith('ordo-bench-')) continue;
    const d = join(args.root!, n);
    try {
      const t = statSync(d).birthtimeMs || statSync(d).ctimeMs;
      if (t >= started - 1000 && (best === undefined || t > best.t)) best = { d, t };
    } catch {}
  }
  return best?.d;
}

const first = new Map<string, Hist>();
const last = new Map<string, Hist>();
let lastOk = Date.now();
let seenDir: string | undefined;
for (;;) {
  await new Promise((r) => setTimeout(r, 2000));
  const dir = findDir();
  let ok = 0;
  if (dir !== undefined) {
    seenDir = dir;
    let nodes: string[] = [];
    try {
      nodes = readdirSync(join(dir, 'nodes'));
    } catch {}
    await Promise.all(
      nodes.map(async (n) => {
        try {
          const cfg = JSON.parse(readFileSync(join(dir, 'nodes', n, 'config.json'), 'utf8'));
          const res = await fetch(`http://${cfg.rpc.listen}/metrics`, { signal: AbortSignal.timeout(1500) });
          const h = parse(await res.text());
          if (h === null) return;
          if (!first.has(n)) first.set(n, h);
          last.set(n, h);
          ok++;
        } catch {}
      }),
    );
  }
  if (ok > 0) lastOk = Date.now();
  if (first.size > 0 && Date.now() - lastOk > 8000) break;
  if (first.size === 0 && Date.now() - started > 15 * 60_000) break;
}
const perNode: Record<string, unknown> = {};
for (const [n, b] of last) {
  const a = first.get(n)!;
  const d = (le: string): number => (b.buckets[le] ?? 0) - (a.buckets[le] ?? 0);
  const count = b.count - a.count;
  const over: Record<string, number> = {};
  for (const le of ['0.25', '0.5', '1', '2.5']) over[`${le}s`] = count - d(le);
  const top = BOUNDS.filter((le) => d(le) > 0 && le !== '+Inf');
  perNode[n] = {
    stalls: count,
    stallSec: Math.round((b.sum - a.sum) * 1000) / 1000,
    atLeast: over,
    longestAtLeastSec:
      over['2.5s']! > 0
        ? 2.5
        : over['1s']! > 0
          ? 1
          : over['0.5s']! > 0
            ? 0.5
            : over['0.25s']! > 0
              ? 0.25
              : top.length > 0
                ? 0.05
                : 0,
  };
}
writeResult({ started: new Date(started).toISOString(), dir: seenDir, perNode }, args.out, { print: false });
