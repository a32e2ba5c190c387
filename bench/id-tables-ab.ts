/**
 * The mempool's id tables of two checkouts in one process (ADR 0327): `PendingIds` (has, set, get and
 * delete of 2,000 ids at a time, 200,000 ids) and `CommittedIds` (a miss, an insert and a quarter of
 * hits per id, 400,000 ids in blocks of 2,000, capacity 100,000), rounds alternating between `--base`
 * and `--branch` so both see the same host; µs of CPU per id, medians of 9 rounds (the first two
 * warm the JIT and are counted).
 *
 *   node bench/id-tables-ab.ts --base DIR [--branch DIR] [--out FILE]
 *
 * Wrap it in `flock /tmp/ordo-bench.lock`.
 */
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { writeResult } from './lib/json-out.ts';

const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    branch: { type: 'string', default: join(dirname(fileURLToPath(import.meta.url)), '..') },
    out: { type: 'string' },
  },
});
if (args.base === undefined) throw new Error('--base DIR: the checkout to compare against');
interface Table {
  has(id: Uint8Array): boolean;
  get(id: Uint8Array): unknown;
  set(id: Uint8Array, ...v: unknown[]): void;
  delete?(id: Uint8Array): boolean;
}
const load = async (root: string) => {
  const src = (f: string) => pathToFileURL(join(root, 'src', f)).href;
  return {
    PendingIds: (await import(src('mempool/pending.ts'))).PendingIds as new () => Table,
    CommittedIds: (await import(src('mempool/committed-ids.ts'))).CommittedIds as new (c: number) => Table,
  };
};
const sides = { base: await load(args.base), branch: await load(args.branch) };
const N = 200_000,
  B = 2000;
const ids: Uint8Array[] = [];
for (let i = 0; i < 2 * N; i++) ids.push(new Uint8Array(createHash('sha256').update(`tx ${i}`).digest()));
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
};
const entry = {} as unknown;
function pendingRound(P: new () => Table): number {
  const t = new P();
  const c0 = cpu();
  for (let i = 0; i < N; i += B) {
    for (let j = i; j < i + B; j++) {
      if (!t.has(ids[j]!)) t.set(ids[j]!, entry);
    }
    for (let j = i; j < i + B; j++) {
      t.get(ids[j]!);
      t.delete!(ids[j]!);
    }
  }
  return ((cpu() - c0) * 1e3) / N; // µs per id (has+set+get+delete)
}
function committedRound(C: new (c: number) => Table): number {
  const m = new C(100_000);
  const c0 = cpu();
  let h = 0;
  for (let i = 0; i < 2 * N; i += B) {
    const block = { height: ++h, at: h, seq: i };
    for (let j = i; j < i + B; j++) m.has(ids[j]!); // admission check: a miss
    for (let j = i; j < i + B; j++) m.set(ids[j]!, block, j - i);
    for (let j = i; j < i + B; j += 4) m.get(ids[j]!); // status lookups: hits
  }
  return ((cpu() - c0) * 1e3) / (2 * N);
}
const res: Record<string, { pending: number[]; committed: number[] }> = {
  base: { pending: [], committed: [] },
  branch: { pending: [], committed: [] },
};
const loadAvgBefore = loadavg()[0];
for (let r = 0; r < 9; r++) {
  const order: ('base' | 'branch')[] = r % 2 === 0 ? ['base', 'branch'] : ['branch', 'base'];
  for (const s of order) {
    res[s]!.pending.push(pendingRound(sides[s].PendingIds));
    res[s]!.committed.push(committedRound(sides[s].CommittedIds));
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const out = {
  base: args.base,
  branch: args.branch,
  loadAvgBefore,
  note: 'rounds 0-1 are warm-up for the JIT but counted; µs of CPU per id',
  pendingMicrosPerId: { base: r3(med(res.base!.pending)), branch: r3(med(res.branch!.pending)) },
  committedMicrosPerId: { base: r3(med(res.base!.committed)), branch: r3(med(res.branch!.committed)) },
  pendingRatio: r3(med(res.branch!.pending) / med(res.base!.pending)),
  committedRatio: r3(med(res.branch!.committed) / med(res.base!.committed)),
  runs: Object.fromEntries(
    Object.entries(res).map(([k, v]) => [k, { pending: v.pending.map(r3), committed: v.committed.map(r3) }]),
  ),
  loadAvgAfter: loadavg()[0],
};
writeResult(out, args.out);
