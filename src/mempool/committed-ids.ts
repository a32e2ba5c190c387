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
 * garbage). Here each generation is one open-addressing table in typed arrays: the id's 32 bytes
 * inline, an Int32 naming its block record (a per-generation list, one entry per block) and a Uint32
 * index. Nothing per transaction is allocated, nothing is traced by the GC.
 *
 * Bounds and guarantees are recent.ts's: two generations of `capacity / 2` entries each; inserts go to
 * the current one, which becomes the old one when full (the previous old one is cleared and reused);
 * an entry survives at least `capacity / 2` later insertions of other ids. A table is at most half
 * full (size: the power of two at or above `capacity`), so linear probing stays short.
 *
 * The probe start mixes all eight words of the id with a per-process random seed: ids are sha256 of
 * payloads a submitter chooses, and grinding payloads whose first bytes collide (to lengthen one
 * probe chain) needs the seed, which never leaves the process.
 */
import { randomBytes } from 'node:crypto';

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

const ID_BYTES = 32;
const seed = randomBytes(8);
const SEED_A = seed.readUInt32LE(0) | 1;
const SEED_B = seed.readUInt32LE(4);

/**
 * The id being looked up, copied here (one 32-byte copy, no view allocated, and aligned whatever the
 * id's byteOffset) so it is compared and mixed a word at a time.
 */
const key = new Uint32Array(8);
const keyBytes = new Uint8Array(key.buffer);

class Generation {
  readonly ids: Uint8Array;
  /** The id bytes as little-endian words (the same buffer): compare a word at a time. */
  readonly words: Uint32Array;
  /** Per slot two words side by side: 1 + the index into `blocks` (0 = empty), and the id's first
   * word, so a probe that misses reads one cache line and not the 32-byte id as well. */
  readonly meta: Int32Array;
  readonly index: Uint32Array;
  readonly mask: number;
  blocks: CommittedBlockRecord[] = [];
  count = 0;

  constructor(size: number) {
    this.ids = new Uint8Array(size * ID_BYTES);
    this.words = new Uint32Array(this.ids.buffer);
    this.meta = new Int32Array(2 * size);
    this.index = new Uint32Array(size);
    this.mask = size - 1;
  }

  clear(): void {
    if (this.count > 0) this.meta.fill(0);
    this.blocks = [];
    this.count = 0;
  }

  /** The slot holding the id in `key`'s words, or -1 - the empty slot where it would go. */
  find(start: number): number {
    const w = key;
    const { words, meta, mask } = this;
    const first = w[0]! | 0;
    for (let s = start & mask; ; s = (s + 1) & mask) {
      if (meta[2 * s] === 0) return -1 - s;
      if (meta[2 * s + 1] !== first) continue;
      const o = s * 8;
      if (
        words[o + 1] === w[1] &&
        words[o + 2] === w[2] &&
        words[o + 3] === w[3] &&
        words[o + 4] === w[4] &&
        words[o + 5] === w[5] &&
        words[o + 6] === w[6] &&
        words[o + 7] === w[7]
      ) {
        return s;
      }
    }
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
    keyBytes.set(id);
    const start = probeStart();
    if (this.#cur.count > 0 && this.#cur.find(start) >= 0) return true;
    const old = this.#old;
    return old !== undefined && old.count > 0 && old.find(start) >= 0;
  }

  /** The block record and index of a committed id (the current generation first), or undefined. */
  get(id: Uint8Array): CommittedHit | undefined {
    if (id.byteLength !== ID_BYTES) return undefined;
    keyBytes.set(id);
    const start = probeStart();
    const cur = this.#cur;
    let s = cur.count === 0 ? -1 : cur.find(start);
    if (s >= 0) return { block: cur.blocks[cur.meta[2 * s]! - 1]!, index: cur.index[s]! };
    const old = this.#old;
    s = old === undefined || old.count === 0 ? -1 : old.find(start);
    return s >= 0 ? { block: old!.blocks[old!.meta[2 * s]! - 1]!, index: old!.index[s]! } : undefined;
  }

  /**
   * Record `id` as committed at `index` of `block` (insert or refresh). A refreshed id is written to the
   * current generation, which `get` reads first; a stale copy in the old one leaves with it.
   */
  set(id: Uint8Array, block: CommittedBlockRecord, index: number): void {
    if (id.byteLength !== ID_BYTES) throw new RangeError(`a transaction id is ${ID_BYTES} bytes`);
    keyBytes.set(id);
    const start = probeStart();
    let g = this.#cur;
    let s = g.find(start);
    if (s < 0) {
      if (g.count >= this.#half) {
        this.#rotate();
        g = this.#cur;
        s = g.find(start);
      }
      if (s < 0) {
        s = -1 - s;
        g.ids.set(id, s * ID_BYTES);
        g.meta[2 * s + 1] = key[0]! | 0;
        g.count++;
      }
    }
    if (this.#lastBlock !== block || g.blocks[this.#lastRef - 1] !== block) {
      g.blocks.push(block);
      this.#lastBlock = block;
      this.#lastRef = g.blocks.length;
    }
    g.meta[2 * s] = this.#lastRef;
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

/** Where the id in `key` starts probing: its eight words mixed with the process's seed. */
function probeStart(): number {
  let h = SEED_B;
  for (let i = 0; i < 8; i++) {
    h = Math.imul(h ^ key[i]!, SEED_A);
    h ^= h >>> 15;
  }
  return h >>> 0;
}
