/**
 * LevelDB engine (classic-level). A write is one LevelDB WriteBatch, which LevelDB applies atomically
 * through its write-ahead log. `sync: true` makes LevelDB fsync the log before the batch resolves; with
 * `sync: false` the batch is in the OS page cache only (survives a process crash, not a power loss).
 */
import { ClassicLevel } from 'classic-level';
import { type Engine, plain } from './engine.ts';
import type { KvWrite } from './types.ts';

const MIB = 1024 * 1024;

/** The smallest memtable; each open adds a random part of up to the same size (ADR 0066). */
export const MIN_WRITE_BUFFER_BYTES = 8 * MIB;

/**
 * LevelDB's memtable ("write buffer") size for one open: 8 MiB plus a random 0-8 MiB. LevelDB's 4 MiB
 * default flushed a table every ~1.5 s at 10,000 tx/s and merged level 0 into level 1 every ~6 s; the
 * larger tables cut the bytes compaction rewrites by about 40 %. The random part keeps replicas that
 * receive the same writes on one machine (a local testnet) from compacting at the same moment: in
 * lockstep, four compaction threads starved every node's event loop for about a second at a time.
 */
export function writeBufferSize(random: () => number = Math.random): number {
  const r = Math.min(Math.max(random(), 0), 1 - Number.EPSILON);
  return MIN_WRITE_BUFFER_BYTES + Math.floor(r * MIN_WRITE_BUFFER_BYTES);
}

export interface LevelEngineOptions {
  /** Memtable size in bytes (default: `writeBufferSize()`). */
  writeBufferSize?: number;
}

export class LevelEngine implements Engine {
  readonly name = 'leveldb' as const;
  /** The memtable size this open uses. */
  readonly writeBufferSize: number;
  private readonly db: ClassicLevel<Uint8Array, Uint8Array>;
  private readonly path: string;

  constructor(path: string, opts: LevelEngineOptions = {}) {
    this.path = path;
    this.writeBufferSize = opts.writeBufferSize ?? writeBufferSize();
    this.db = new ClassicLevel<Uint8Array, Uint8Array>(path, {
      keyEncoding: 'view',
      valueEncoding: 'view',
      createIfMissing: true,
      writeBufferSize: this.writeBufferSize,
    });
  }

  async open(): Promise<void> {
    await this.db.open();
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  /** LevelDB's RepairDB on the closed database (moves what it cannot read to <path>/lost). */
  async rebuild(): Promise<void> {
    await ClassicLevel.repair(this.path);
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const v = await this.db.get(key);
    return v === undefined ? undefined : plain(v);
  }

  /**
   * One LevelDB WriteBatch, built through a chained batch: each write goes to the native batch as it is
   * added. The array form (`db.batch(ops)`) clones every operation object and resolves its encodings in
   * JavaScript first, and a block commit carries one tx-index entry per transaction: ~0.64 × the CPU
   * per entry this way (ADR 0318, bench/store-batch.ts). Atomic all the same; the native batch's memory
   * is freed when its JS object is collected (classic-level closes it on GC).
   */
  async write(writes: KvWrite[], sync: boolean): Promise<void> {
    const batch = this.db.batch();
    try {
      for (const w of writes) {
        if (w.value === undefined) batch.del(w.key);
        else batch.put(w.key, w.value);
      }
    } catch (err) {
      await batch.close();
      throw err;
    }
    await batch.write({ sync });
  }

  async *iterate(
    lo: Uint8Array,
    hi: Uint8Array | undefined,
    reverse: boolean,
    limit: number,
  ): AsyncIterable<[Uint8Array, Uint8Array]> {
    if (!Number.isFinite(limit)) limit = -1;
    const opts = hi === undefined ? { gte: lo, reverse, limit } : { gte: lo, lt: hi, reverse, limit };
    for await (const [k, v] of this.db.iterator(opts)) yield [plain(k), plain(v)];
  }
}
