/**
 * LMDB engine (lmdb-js). A write is one LMDB write transaction, which is atomic by construction
 * (copy-on-write B+tree; the new root becomes visible only when the meta page is written). Durable mode
 * keeps lmdb-js's defaults: the commit is fsynced (with `overlappingSync` the fsync happens right after
 * the commit, and we additionally wait for `db.flushed` before resolving). `sync: false` opens the
 * environment with `noSync`: nothing is fsynced, so a process crash keeps data but a power loss may
 * lose recent commits. LMDB reads are synchronous memory-mapped lookups.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { open as lmdbOpen, type RootDatabase } from 'lmdb';
import { type Engine, plain } from './engine.ts';
import { compareBytes } from './keys.ts';
import type { KvWrite } from './types.ts';

export class LmdbEngine implements Engine {
  readonly name = 'lmdb' as const;
  private readonly path: string;
  private readonly noSync: boolean;
  private db: RootDatabase<Buffer, Buffer> | undefined;

  /** `durable` fixes the environment's sync mode for its lifetime (LMDB sets it per environment). */
  constructor(path: string, durable: boolean) {
    this.path = path;
    this.noSync = !durable;
  }

  async open(): Promise<void> {
    checkLmdbFile(join(this.path, 'data.mdb'));
    this.db = lmdbOpen<Buffer, Buffer>({
      path: this.path,
      encoding: 'binary',
      keyEncoding: 'binary',
      compression: false,
      noSync: this.noSync,
    });
  }

  private handle(): RootDatabase<Buffer, Buffer> {
    if (this.db === undefined) throw new Error('LMDB environment is not open');
    return this.db;
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    if (db !== undefined) await db.close();
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const v = this.handle().getBinary(Buffer.from(key.buffer, key.byteOffset, key.byteLength));
    return v === undefined ? undefined : plain(v);
  }

  async write(writes: KvWrite[], sync: boolean): Promise<void> {
    const db = this.handle();
    await db.transaction(() => {
      for (const w of writes) {
        const k = Buffer.from(w.key.buffer, w.key.byteOffset, w.key.byteLength);
        if (w.value === undefined) db.remove(k);
        else db.put(k, Buffer.from(w.value.buffer, w.value.byteOffset, w.value.byteLength));
      }
    });
    if (sync && !this.noSync) await db.flushed;
  }

  async *iterate(
    lo: Uint8Array,
    hi: Uint8Array | undefined,
    reverse: boolean,
    limit: number,
  ): AsyncIterable<[Uint8Array, Uint8Array]> {
    const db = this.handle();
    const loB = Buffer.from(lo.buffer, lo.byteOffset, lo.byteLength);
    const hiB = hi === undefined ? undefined : Buffer.from(hi.buffer, hi.byteOffset, hi.byteLength);
    let n = 0;
    if (n >= limit) return;
    if (!reverse) {
      const range = hiB === undefined ? db.getRange({ start: loB }) : db.getRange({ start: loB, end: hiB });
      for (const { key, value } of range) {
        yield [plain(key), plain(value)];
        if (++n >= limit) return;
      }
      return;
    }
    // Reverse: lmdb-js treats `start` as inclusive, so skip an exact hit on the exclusive upper bound and
    // stop by hand below `lo`.
    const range =
      hiB === undefined ? db.getRange({ reverse: true }) : db.getRange({ start: hiB, reverse: true });
    for (const { key, value } of range) {
      if (hi !== undefined && compareBytes(key, hi) >= 0) continue;
      if (compareBytes(key, lo) < 0) return;
      yield [plain(key), plain(value)];
      if (++n >= limit) return;
    }
  }
}

const META_MAGIC = 0xbeefc0de;
/** Offset of the meta magic inside a meta page in lmdb-js's LMDB build (24-byte page header). */
const MAGIC_OFFSET = 24;
const PAGE_SIZE_OFFSET = 48;

/**
 * LMDB maps its file and trusts it: a garbage file can crash the process inside the native open. Check
 * both meta pages' magic numbers first, so the common cases (a truncated file, a foreign or overwritten
 * file) become a clear error instead. Damage deeper inside the B+tree is not detected here.
 */
export function checkLmdbFile(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return; // no file yet: LMDB creates it
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return;
    const head = Buffer.alloc(64);
    if (readSync(fd, head, 0, 64, 0) < 64)
      throw new Error(`corrupt LMDB file ${file}: ${size} bytes is too short`);
    if (head.readUInt32LE(MAGIC_OFFSET) !== META_MAGIC) {
      throw new Error(`corrupt LMDB file ${file}: first meta page has no LMDB magic number`);
    }
    const pageSize = head.readUInt32LE(PAGE_SIZE_OFFSET);
    if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
      throw new Error(`corrupt LMDB file ${file}: meta page size ${pageSize} is invalid`);
    }
    if (size < 2 * pageSize)
      throw new Error(`corrupt LMDB file ${file}: ${size} bytes is shorter than two meta pages`);
    const second = Buffer.alloc(4);
    readSync(fd, second, 0, 4, pageSize + MAGIC_OFFSET);
    if (second.readUInt32LE(0) !== META_MAGIC) {
      throw new Error(`corrupt LMDB file ${file}: second meta page has no LMDB magic number`);
    }
  } finally {
    closeSync(fd);
  }
}
