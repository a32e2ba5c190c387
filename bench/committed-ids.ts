/**
 * The committed-id memory's per-transaction cost, Maps of latin1 strings (recent.ts, before ADR 0300)
 * against typed-array tables (committed-ids.ts), in one process: for N fresh 32-byte ids, each with its
 * latin1 key built as admission builds it (both paths pay that), look the id up, then record it as
 * committed — what every node does once per transaction at admission and once at commit. The bound is
 * the default `maxCommittedHashes` (200,000), so both memories rotate generations as on a node. Process
 * CPU (user + system, GC included) per id, alternating the two ROUNDS times; prints one JSON object.
 *
 *   node bench/committed-ids.ts [N=1000000] [ROUNDS=3]
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { CommittedIds, RecentMap } from '../src/mempool/index.ts';

const n = Number(process.argv[2] ?? 1_000_000);
const rounds = Number(process.argv[3] ?? 3);
const BOUND = 200_000;
const seed = randomBytes(32 * 4096);
const block = { height: 1, at: 0, seq: 0 };

/** A fresh id per index (distinct: the index is written into its first bytes). */
function idOf(i: number): Uint8Array {
  const o = ((i * 37) % 4096) * 32;
  const b = new Uint8Array(32);
  b.set(seed.subarray(o, o + 32));
  b[0] = i & 255;
  b[1] = (i >>> 8) & 255;
  b[2] = (i >>> 16) & 255;
  b[3] = (i >>> 24) & 255;
  return b;
}

const keyOf = (id: Uint8Array): string =>
  Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('latin1');

function cpuMicros(run: () => void): number {
  const t = process.cpuUsage();
  run();
  const u = process.cpuUsage(t);
  return u.user + u.system;
}

const maps: number[] = [];
const tables: number[] = [];
for (let r = 0; r < rounds; r++) {
  maps.push(
    cpuMicros(() => {
      const m = new RecentMap<string, object>(BOUND);
      for (let i = 0; i < n; i++) {
        const k = keyOf(idOf(i));
        if (!m.has(k)) m.set(k, block);
      }
    }) / n,
  );
  tables.push(
    cpuMicros(() => {
      const t = new CommittedIds(BOUND);
      for (let i = 0; i < n; i++) {
        const id = idOf(i);
        if (keyOf(id).length !== 32) throw new Error('unreachable');
        if (!t.has(id)) t.set(id, block, i);
      }
    }) / n,
  );
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;
process.stdout.write(
  `${JSON.stringify({
    bench: 'committed-ids',
    ids: n,
    bound: BOUND,
    loadavgAtStart: loadavg()[0],
    mapsMicrosPerId: maps.map(round3),
    tablesMicrosPerId: tables.map(round3),
    ratio: round3(median(tables) / median(maps)),
  })}\n`,
);
