/**
 * A tiny in-memory `KvStore` for tests and benchmarks (the node uses the database-backed one from
 * src/store). Keys are kept as latin1 strings; `range` sorts on demand, which is fine at test sizes.
 */
import { latin1Key } from '../crypto/index.ts';
import type { KvStore, KvWrite } from '../store/index.ts';

// Keys as latin1 strings (latin1Key): one char per byte, so string order is byte order.

export class MemoryKv implements KvStore {
  readonly map = new Map<string, Uint8Array>();
  /** Number of batch() calls, for tests. */
  batches = 0;

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.map.get(latin1Key(key));
  }
  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    this.map.set(latin1Key(key), value.slice());
  }
  async del(key: Uint8Array): Promise<void> {
    this.map.delete(latin1Key(key));
  }
  async batch(writes: KvWrite[]): Promise<void> {
    this.batches++;
    for (const w of writes) {
      if (w.value === undefined) this.map.delete(latin1Key(w.key));
      else this.map.set(latin1Key(w.key), w.value.slice());
    }
  }
  async *range(opts: {
    gte?: Uint8Array;
    lt?: Uint8Array;
    limit?: number;
    reverse?: boolean;
  }): AsyncIterable<[Uint8Array, Uint8Array]> {
    const gte = opts.gte === undefined ? undefined : latin1Key(opts.gte);
    const lt = opts.lt === undefined ? undefined : latin1Key(opts.lt);
    const keys = [...this.map.keys()]
      .filter((k) => (gte === undefined || k >= gte) && (lt === undefined || k < lt))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (opts.reverse === true) keys.reverse();
    const limit = opts.limit ?? Number.POSITIVE_INFINITY;
    let n = 0;
    for (const k of keys) {
      if (n++ >= limit) return;
      yield [new Uint8Array(Buffer.from(k, 'latin1')), this.map.get(k)!];
    }
  }
}

/** A factory giving each namespace its own MemoryKv, kept so a "restart" can reopen the same data. */
export function memoryKvFactory(): { kv: (namespace: number) => MemoryKv; stores: Map<number, MemoryKv> } {
  const stores = new Map<number, MemoryKv>();
  return {
    stores,
    kv: (ns) => {
      let s = stores.get(ns);
      if (s === undefined) {
        s = new MemoryKv();
        stores.set(ns, s);
      }
      return s;
    },
  };
}
