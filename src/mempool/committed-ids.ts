/**
 * The committed-id memory: which 32-byte transaction ids were committed recently, and for each its
 * block record and index in the block. It refuses re-submission of a committed transaction
 * (exactly-once) and serves the `committed` status (status.ts).
 *
 * Why not a Map keyed by the id's latin1 string (recent.ts, until ADR 0300): at 5,000 tx/s every node
 * looked up each admitted transaction in two generations of 100,000-entry Maps and inserted each
 * committed one, ~5 % of a node's main thread at 4.6 and 3.3 µs a call (cache misses through the
 * Map's chains and each entry's string; the Maps' growth rehashes), and kept a 32-character string, a
 * Map entry and a slot of its block's key list alive per transaction for minutes (old-generation
 * garbage). Here each generation is one open-addressing table in typed arrays (id-table.ts: the id's 32
 * bytes inline) and two columns beside it by slot: an Int32 naming the id's block record (a
 * per-generation list, one entry per block) and a Uint32 index. Nothing per transaction is allocated,
 * nothing is traced by the GC. An id is copied and hashed once for both generations.
 *
 * Bounds and guarantees are recent.ts's: two generations of `capacity / 2` entries each; inserts go to
 * the current one, which becomes the old one when full (the previous old one is cleared and reused);
 * an entry survives at least `capacity / 2` later insertions of other ids. A table is at most half
 * full (size: the power of two at or above `capacity`), so linear probing stays short; it never grows.
 */
import { ID_BYTES, IdTable, loadId } from './id-table.ts';

/** One block's shared record (every transaction committed in it points at it). */
export interface CommittedBlockRecord {
  height: number;
  at: number;
  /** Transactions committed on this node before this block. */
  seq: number;
}

export interface CommittedHit {
  block: CommittedBlockRecord;
  index: number;
}

class Generation {
  readonly ids: IdTable;
  /** Per slot: 1 + the index into `blocks` of the id's block. */
  readonly ref: Int32Array;
  /** Per slot: the id's index in its block. */
  readonly index: Uint32Array;
  blocks: CommittedBlockRecord[] = [];

  constructor(size: number) {
    this.ids = new IdTable(size);
    this.ref = new Int32Array(size);
    this.index = new Uint32Array(size);
  }

  get count(): number {
    return this.ids.size;
  }

  clear(): void {
    this.ids.clear();
    this.blocks = [];
  }

  /** The block record and index in slot `s`. */
  hit(s: number): CommittedHit {
    return { block: this.blocks[this.ref[s]! - 1]!, index: this.index[s]! };
  }
}

export class CommittedIds {
  readonly #half: number;
  readonly #size: number;
  #cur: Generation;
  #old: Generation | undefined;
  /** The generation and its block index the last `set` used (a block's ids arrive together). */
  #lastBlock: CommittedBlockRecord | undefined;
  #lastRef = 0;

  constructor(capacity: number) {
    this.#half = Math.max(1, Math.floor(capacity / 2));
    let size = 2;
    while (size < 2 * this.#half) size *= 2;
    this.#size = size;
    this.#cur = new Generation(size);
  }

  get size(): number {
    return this.#cur.count + (this.#old?.count ?? 0);
  }

  has(id: Uint8Array): boolean {
    if (id.byteLength !== ID_BYTES) return false;
    const t = loadId(id);
    if (this.#cur.count > 0 && this.#cur.ids.find(t) >= 0) return true;
    const old = this.#old;
    return old !== undefined && old.count > 0 && old.ids.find(t) >= 0;
  }

  /** The block record and index of a committed id (the current generation first), or undefined. */
  get(id: Uint8Array): CommittedHit | undefined {
    if (id.byteLength !== ID_BYTES) return undefined;
    const t = loadId(id);
    const cur = this.#cur;
    let s = cur.count === 0 ? -1 : cur.ids.find(t);
    if (s >= 0) return cur.hit(s);
    const old = this.#old;
    s = old === undefined || old.count === 0 ? -1 : old.ids.find(t);
    return s >= 0 ? old!.hit(s) : undefined;
  }

  /**
   * Record `id` as committed at `index` of `block` (insert or refresh). A refreshed id is written to the
   * current generation, which `get` reads first; a stale copy in the old one leaves with it.
   */
  set(id: Uint8Array, block: CommittedBlockRecord, index: number): void {
    if (id.byteLength !== ID_BYTES) throw new RangeError(`a transaction id is ${ID_BYTES} bytes`);
    const t = loadId(id);
    let g = this.#cur;
    let s = g.ids.find(t);
    if (s < 0) {
      if (g.count >= this.#half) {
        this.#rotate();
        g = this.#cur;
        s = g.ids.find(t);
      }
      if (s < 0) {
        s = -1 - s;
        g.ids.insertAt(t, s);
      }
    }
    if (this.#lastBlock !== block || g.blocks[this.#lastRef - 1] !== block) {
      g.blocks.push(block);
      this.#lastBlock = block;
      this.#lastRef = g.blocks.length;
    }
    g.ref[s] = this.#lastRef;
    g.index[s] = index;
  }

  #rotate(): void {
    const reuse = this.#old;
    this.#old = this.#cur;
    if (reuse !== undefined) {
      reuse.clear();
      this.#cur = reuse;
    } else {
      this.#cur = new Generation(this.#size);
    }
    this.#lastBlock = undefined;
    this.#lastRef = 0;
  }
}
