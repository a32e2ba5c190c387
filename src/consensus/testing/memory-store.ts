/**
 * TEST DOUBLE: an in-memory `BlockStore` for consensus engine tests (the real store lives in
 * src/store/, owned elsewhere). Commits are checked like the real contract (height must be
 * height()+1) and are instantaneous; nothing survives the process.
 */
import { blockHash } from '../../codec/index.ts';
import { toHex } from '../../crypto/index.ts';
import { OrdoError } from '../../errors.ts';
import type { BlockStore, KvStore, KvWrite, TxLocation } from '../../store/index.ts';
import type { Block, CommitCertificate } from '../../types.ts';

function cmp(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

class MemoryKv implements KvStore {
  readonly #m = new Map<string, [Uint8Array, Uint8Array]>();

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#m.get(toHex(key))?.[1];
  }
  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    this.#m.set(toHex(key), [key, value]);
  }
  async del(key: Uint8Array): Promise<void> {
    this.#m.delete(toHex(key));
  }
  async batch(writes: KvWrite[]): Promise<void> {
    for (const w of writes) {
      if (w.value === undefined) this.#m.delete(toHex(w.key));
      else this.#m.set(toHex(w.key), [w.key, w.value]);
    }
  }
  async *range(opts: {
    gte?: Uint8Array;
    lt?: Uint8Array;
    limit?: number;
    reverse?: boolean;
  }): AsyncIterable<[Uint8Array, Uint8Array]> {
    let rows = [...this.#m.values()].filter(
      ([k]) =>
        (opts.gte === undefined || cmp(k, opts.gte) >= 0) && (opts.lt === undefined || cmp(k, opts.lt) < 0),
    );
    rows.sort((a, b) => cmp(a[0], b[0]));
    if (opts.reverse === true) rows.reverse();
    if (opts.limit !== undefined) rows = rows.slice(0, opts.limit);
    for (const r of rows) yield r;
  }
}

export class MemoryBlockStore implements BlockStore {
  readonly blocks: Block[] = [];
  readonly certs: CommitCertificate[] = [];
  readonly #meta = new Map<string, Uint8Array>();
  readonly #subs = new Map<string, MemoryKv>();

  async open(): Promise<void> {}
  async close(): Promise<void> {}
  height(): number {
    return this.blocks.length;
  }
  baseHeight(): number {
    return 1;
  }
  async commitBlock(block: Block, cert: CommitCertificate): Promise<void> {
    if (block.header.height !== this.blocks.length + 1) {
      throw new OrdoError(
        'STORE_HEIGHT',
        `commit of height ${block.header.height} onto ${this.blocks.length}`,
      );
    }
    this.blocks.push(block);
    this.certs.push(cert);
  }
  async getBlock(height: number): Promise<Block | undefined> {
    return this.blocks[height - 1];
  }
  async getCertificate(height: number): Promise<CommitCertificate | undefined> {
    return this.certs[height - 1];
  }
  async getBlockHash(height: number): Promise<Uint8Array | undefined> {
    const b = this.blocks[height - 1];
    return b === undefined ? undefined : blockHash(b);
  }
  async getTxLocation(): Promise<TxLocation | undefined> {
    return undefined;
  }
  async getMeta(key: string): Promise<Uint8Array | undefined> {
    return this.#meta.get(key);
  }
  async putMeta(key: string, value: Uint8Array): Promise<void> {
    this.#meta.set(key, value);
  }
  sub(prefix: string): KvStore {
    let s = this.#subs.get(prefix);
    if (s === undefined) {
      s = new MemoryKv();
      this.#subs.set(prefix, s);
    }
    return s;
  }
}
