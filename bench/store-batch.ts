/**
 * CPU per tx-index entry of a block commit's LevelDB batch (ADR 0318): the same 1,250-entry batches
 * (one block at 5,000 tx/s) written three ways into one database, rounds alternating the order:
 * `array` (classic-level's `db.batch(ops)`, what LevelEngine.write did until session 14), `chained`
 * (a chained batch, what it does now) and `perBlock` (the same hashes as ONE value per block: the
 * ceiling a per-block tx index could reach). CPU is the process's user + system time, LevelDB's own
 * threads (memtable, compaction) included, divided by the entries written; medians over the rounds.
 *
 *   node bench/store-batch.ts [--out FILE] [--rounds 4] [--blocks 200] [--txs 1250]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClassicLevel } from 'classic-level';
import { writeResult } from './lib/json-out.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    rounds: { type: 'string', default: '4' },
    blocks: { type: 'string', default: '200' },
    txs: { type: 'string', default: '1250' },
  },
});
const positive = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} needs a positive integer, got ${v}`);
  return n;
};
const ROUNDS = positive('rounds', values.rounds);
const BLOCKS = positive('blocks', values.blocks);
const TXS = positive('txs', values.txs);

const dir = mkdtempSync(join(tmpdir(), 'ordo-store-batch-'));
const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
await db.open();
const blocks = Array.from({ length: BLOCKS }, () =>
  Array.from({ length: TXS }, () => new Uint8Array(randomBytes(32))),
);
let height = 1;

/**
 * One block's tx-index entries as the store lays them out (src/store/keys.ts, which tools may not
 * import): key 't' || hash, value height u64 BE || index u32 BE, views into one buffer.
 */
function txLocationWrites(hashes: Uint8Array[], h: number): { key: Uint8Array; value: Uint8Array }[] {
  const buf = Buffer.allocUnsafe(hashes.length * 45);
  return hashes.map((hash, i) => {
    const at = i * 45;
    buf[at] = 0x74;
    buf.set(hash, at + 1);
    buf.writeBigUInt64BE(BigInt(h), at + 33);
    buf.writeUInt32BE(i, at + 41);
    return {
      key: new Uint8Array(buf.buffer, buf.byteOffset + at, 33),
      value: new Uint8Array(buf.buffer, buf.byteOffset + at + 33, 12),
    };
  });
}

const ways = {
  async array(hs: Uint8Array[]): Promise<void> {
    const w = txLocationWrites(hs, height++);
    await db.batch(
      w.map((x) => ({ type: 'put' as const, key: x.key, value: x.value })),
      { sync: false },
    );
  },
  async chained(hs: Uint8Array[]): Promise<void> {
    const b = db.batch();
    for (const x of txLocationWrites(hs, height++)) b.put(x.key, x.value);
    await b.write({ sync: false });
  },
  async perBlock(hs: Uint8Array[]): Promise<void> {
    const v = Buffer.allocUnsafe(32 * hs.length);
    for (let i = 0; i < hs.length; i++) v.set(hs[i]!, 32 * i);
    const k = new Uint8Array(9);
    k[0] = 0x78;
    new DataView(k.buffer).setBigUint64(1, BigInt(height++));
    await db.batch([{ type: 'put', key: k, value: v }], { sync: false });
  },
};
type Way = keyof typeof ways;
const names = Object.keys(ways) as Way[];
const perEntry: Record<Way, number[]> = { array: [], chained: [], perBlock: [] };
const loadAtStart = loadavg()[0]!;
for (let round = 0; round < ROUNDS; round++) {
  for (const name of round % 2 === 0 ? names : [...names].reverse()) {
    const c0 = process.cpuUsage();
    for (const hs of blocks) await ways[name](hs);
    const c = process.cpuUsage(c0);
    perEntry[name].push(Math.round(((c.user + c.system) / (BLOCKS * TXS)) * 1000) / 1000);
  }
}
await db.close();
rmSync(dir, { recursive: true, force: true });

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const medians = Object.fromEntries(names.map((n) => [n, median(perEntry[n])])) as Record<Way, number>;
const result = {
  benchmark: 'store-batch',
  started: new Date().toISOString(),
  loadavgAtStart: loadAtStart,
  blocks: BLOCKS,
  txsPerBlock: TXS,
  rounds: ROUNDS,
  cpuMicrosPerEntry: perEntry,
  medianCpuMicrosPerEntry: medians,
  chainedVsArray: Math.round((medians.chained / medians.array) * 1000) / 1000,
  perBlockVsArray: Math.round((medians.perBlock / medians.array) * 1000) / 1000,
};
writeResult(result, values.out);
