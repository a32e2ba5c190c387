/**
 * The thin engine seam under the block store. An engine is an ordered byte-key/byte-value database with
 * atomic multi-key writes; everything above it (key layout, block commits, recovery, sub views) lives in
 * block-store.ts and is shared, so LevelDB and LMDB differ only in these few calls.
 */
import type { KvWrite } from './types.ts';

export type EngineName = 'leveldb' | 'lmdb';

export interface Engine {
  readonly name: EngineName;
  open(): Promise<void>;
  close(): Promise<void>;
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Apply every write atomically; when `sync`, resolve only once the batch is durable on disk. */
  write(writes: KvWrite[], sync: boolean): Promise<void>;
  /** Entries with lo <= key < hi in byte order (descending when reverse), at most `limit`. */
  iterate(
    lo: Uint8Array,
    hi: Uint8Array | undefined,
    reverse: boolean,
    limit: number,
  ): AsyncIterable<[Uint8Array, Uint8Array]>;
  /**
   * Rewrite the database files of a CLOSED engine, keeping every readable entry and dropping the
   * unreadable parts (LevelDB's RepairDB: a damaged table block is dropped, the rest copied). Optional:
   * only engines that can do it have it (ADR 0145).
   */
  rebuild?(): Promise<void>;
}

/** View any Uint8Array subclass (Buffer) as a plain Uint8Array without copying. */
export function plain(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
