/**
 * LevelDB engine (classic-level). A write is one LevelDB WriteBatch, which LevelDB applies atomically
 * through its write-ahead log. `sync: true` makes LevelDB fsync the log before the batch resolves; with
 * `sync: false` the batch is in the OS page cache only (survives a process crash, not a power loss).
 */
import { ClassicLevel } from 'classic-level';
import { type Engine, plain } from './engine.ts';
import type { KvWrite } from './types.ts';

export class LevelEngine implements Engine {
  readonly name = 'leveldb' as const;
  private readonly db: ClassicLevel<Uint8Array, Uint8Array>;

  constructor(path: string) {
    this.db = new ClassicLevel<Uint8Array, Uint8Array>(path, {
      keyEncoding: 'view',
      valueEncoding: 'view',
      createIfMissing: true,
    });
  }

  async open(): Promise<void> {
    await this.db.open();
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const v = await this.db.get(key);
    return v === undefined ? undefined : plain(v);
  }

  async write(writes: KvWrite[], sync: boolean): Promise<void> {
    const ops = writes.map((w) =>
      w.value === undefined
        ? { type: 'del' as const, key: w.key }
        : { type: 'put' as const, key: w.key, value: w.value },
    );
    await this.db.batch(ops, { sync });
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
