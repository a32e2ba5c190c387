/**
 * The storage contract. A node has one embedded database; components get typed views of it. A
 * committed block (block, certificate, tx index entries, head pointer) is written in one atomic batch,
 * so a crash at any point leaves either the whole block or none of it.
 */
import type { Block, CommitCertificate } from '../types.ts';

export interface TxLocation {
  height: number;
  /** Position of the transaction in the block body. */
  index: number;
}

/** Extra key/value writes that must land atomically with a block (e.g. execution results). */
export interface KvWrite {
  key: Uint8Array;
  /** undefined = delete */
  value: Uint8Array | undefined;
}

/** A namespaced key/value view for a component (evidence, executor state, auction, adapter). */
export interface KvStore {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  put(key: Uint8Array, value: Uint8Array): Promise<void>;
  del(key: Uint8Array): Promise<void>;
  /** Apply writes atomically. */
  batch(writes: KvWrite[]): Promise<void>;
  /** Iterate keys in [gte, lt) in byte order; bounded by `limit`. */
  range(opts: {
    gte?: Uint8Array;
    lt?: Uint8Array;
    limit?: number;
    reverse?: boolean;
  }): AsyncIterable<[Uint8Array, Uint8Array]>;
}

/**
 * A sub() view of a store that can share one atomic write with other views of the same store
 * (`batchViews`): the raw key of a view key, the store's raw batch and the view's sync setting.
 */
export interface JoinableKv extends KvStore {
  readonly joint: {
    readonly base: object;
    readonly sync: boolean;
    rawKey(key: Uint8Array): Uint8Array;
    writeRaw(writes: KvWrite[], sync: boolean): Promise<void>;
  };
}

export interface SubOptions {
  /** fsync each write (default: the store's own setting). */
  sync?: boolean;
}

export interface BlockStore {
  open(): Promise<void>;
  close(): Promise<void>;
  /** Latest committed height (0 before genesis). Synchronous: cached after open. */
  height(): number;
  /** Lowest height still stored (1 unless pruned). */
  baseHeight(): number;
  /** Writes block + certificate + tx index + head in one atomic batch. Height must be height()+1. */
  commitBlock(block: Block, cert: CommitCertificate, extra?: KvWrite[]): Promise<void>;
  getBlock(height: number): Promise<Block | undefined>;
  getCertificate(height: number): Promise<CommitCertificate | undefined>;
  getBlockHash(height: number): Promise<Uint8Array | undefined>;
  getTxLocation(txHash: Uint8Array): Promise<TxLocation | undefined>;
  getMeta(key: string): Promise<Uint8Array | undefined>;
  putMeta(key: string, value: Uint8Array): Promise<void>;
  /**
   * A key/value view under a component prefix (e.g. 'evidence', 'exec/2'). `sync: false` skips the
   * fsync for state that can be recomputed after a crash (execution results are replayed from blocks).
   */
  sub(prefix: string, opts?: SubOptions): KvStore;
  /**
   * The raw key under which `sub(prefix)` stores `key`: use it to build `extra` writes for commitBlock so
   * a component's state lands in the same atomic batch as the block. (Optional member added by the store.)
   */
  subKey?(prefix: string, key: Uint8Array): Uint8Array;
  /**
   * Adds sub-view writes to the atomic batch of block `height`'s commit; resolves once it is written,
   * undefined when that commit is already under way (the caller writes on its own). Optional.
   */
  attachToCommit?(height: number, writes: KvWrite[]): Promise<void> | undefined;
}
