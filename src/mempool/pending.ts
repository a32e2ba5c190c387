/**
 * The pending set: every transaction the pool holds, by its 32-byte id, in one arrival-ordered
 * intrusive list (time-to-live expiry pops from its head, O(1) when nothing expires), with pool-wide
 * and per-lane counts and bytes. Queue placement (ready or held) is the nonce book's (nonces.ts); this
 * module only links and unlinks.
 *
 * The by-id index is an open-addressing table in typed arrays (ADR 0317), not a Map keyed by the id as
 * a latin1 string: the string (a Buffer view and a 32-character copy per transaction, memoised on the
 * envelope with a property definition) and the Map's string hashing were most of `admit`'s own time at
 * 5,000 tx/s. Each slot holds the id's eight words inline and a tag (the id's probe hash, never 0 for a
 * used slot) so a probe that misses reads no id; deletion shifts the following run back (no
 * tombstones), so lookups never slow down with churn. The table doubles when half full and never
 * shrinks: at most twice the pool's peak count of slots (bounded by `maxTxs`). The probe hash mixes all
 * eight words with a per-process random seed, so payloads ground to collide need the seed.
 */
import { randomBytes } from 'node:crypto';
import { type Entry, qRemove } from './entry.ts';

const ID_BYTES = 32;
const INITIAL_SLOTS = 1024;
const seed = randomBytes(8);
const SEED_A = seed.readUInt32LE(0) | 1;
const SEED_B = seed.readUInt32LE(4);

/** The id being looked up, copied here (aligned whatever its byteOffset) to compare a word at a time. */
const key = new Uint32Array(8);
const keyBytes = new Uint8Array(key.buffer);

/** The tag of the id in `key`: its words mixed with the seed, low bit set (0 marks an empty slot). */
function tagOfKey(): number {
  let h = SEED_B;
  for (let i = 0; i < 8; i++) {
    h = Math.imul(h ^ key[i]!, SEED_A);
    h ^= h >>> 15;
  }
  return h | 1;
}

/** A slot's home position: from its tag alone, so a delete can shift entries back without rehashing. */
const home = (tag: number, mask: number): number => (tag >>> 1) & mask;

/** Transaction id (32 bytes) -> pending entry. */
export class PendingIds {
  #words: Uint32Array;
  #tags: Int32Array;
  #values: (Entry | undefined)[];
  #mask: number;
  #count = 0;

  constructor(slots = INITIAL_SLOTS) {
    let n = 2;
    while (n < slots) n *= 2;
    this.#words = new Uint32Array(8 * n);
    this.#tags = new Int32Array(n);
    this.#values = new Array<Entry | undefined>(n).fill(undefined);
    this.#mask = n - 1;
  }

  get size(): number {
    return this.#count;
  }

  /** Slots in the table (a power of two, at least twice the count). */
  get slots(): number {
    return this.#mask + 1;
  }

  /** The slot of the id in `key` (tag `t`), or -1 - the empty slot where it would go. */
  #find(t: number): number {
    const tags = this.#tags;
    const words = this.#words;
    const mask = this.#mask;
    const w = key;
    for (let s = home(t, mask); ; s = (s + 1) & mask) {
      const x = tags[s]!;
      if (x === 0) return -1 - s;
      if (x !== t) continue;
      const o = s * 8;
      if (
        words[o] === w[0] &&
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

  get(id: Uint8Array): Entry | undefined {
    if (this.#count === 0 || id.byteLength !== ID_BYTES) return undefined;
    keyBytes.set(id);
    const s = this.#find(tagOfKey());
    return s >= 0 ? this.#values[s] : undefined;
  }

  has(id: Uint8Array): boolean {
    return this.get(id) !== undefined;
  }

  /** Insert or replace the entry of `id`. */
  set(id: Uint8Array, e: Entry): void {
    if (id.byteLength !== ID_BYTES) throw new RangeError(`a transaction id is ${ID_BYTES} bytes`);
    if (2 * (this.#count + 1) > this.#mask + 1) this.#grow();
    keyBytes.set(id);
    const t = tagOfKey();
    let s = this.#find(t);
    if (s < 0) {
      s = -1 - s;
      this.#words.set(key, s * 8);
      this.#tags[s] = t;
      this.#count++;
    }
    this.#values[s] = e;
  }

  /** Remove `id`; false when it was not there. */
  delete(id: Uint8Array): boolean {
    if (this.#count === 0 || id.byteLength !== ID_BYTES) return false;
    keyBytes.set(id);
    let i = this.#find(tagOfKey());
    if (i < 0) return false;
    const tags = this.#tags;
    const words = this.#words;
    const values = this.#values;
    const mask = this.#mask;
    // Backward-shift deletion: move each later entry of the run into the hole when the hole lies
    // between its home and its slot, so every entry stays reachable from its home without tombstones.
    for (let j = (i + 1) & mask; tags[j] !== 0; j = (j + 1) & mask) {
      const k = home(tags[j]!, mask);
      if (((j - k) & mask) >= ((j - i) & mask)) {
        tags[i] = tags[j]!;
        words.copyWithin(i * 8, j * 8, j * 8 + 8);
        values[i] = values[j];
        i = j;
      }
    }
    tags[i] = 0;
    values[i] = undefined;
    this.#count--;
    return true;
  }

  #grow(): void {
    const oldTags = this.#tags;
    const oldWords = this.#words;
    const oldValues = this.#values;
    const n = 2 * (this.#mask + 1);
    this.#words = new Uint32Array(8 * n);
    this.#tags = new Int32Array(n);
    this.#values = new Array<Entry | undefined>(n).fill(undefined);
    this.#mask = n - 1;
    const mask = this.#mask;
    for (let s = 0; s < oldTags.length; s++) {
      const t = oldTags[s]!;
      if (t === 0) continue;
      let d = home(t, mask);
      while (this.#tags[d] !== 0) d = (d + 1) & mask;
      this.#tags[d] = t;
      this.#words.set(oldWords.subarray(s * 8, s * 8 + 8), d * 8);
      this.#values[d] = oldValues[s];
    }
  }
}

export class PendingSet {
  /** Transaction id -> Entry (every entry linked in the arrival list is here, and nothing else). */
  readonly entries = new PendingIds();
  head: Entry | null = null;
  tail: Entry | null = null;
  txs = 0;
  bytes = 0;

  /** The pending entry of transaction id `hash` (32 bytes), if any. */
  get(hash: Uint8Array): Entry | undefined {
    return this.entries.get(hash);
  }

  has(hash: Uint8Array): boolean {
    return this.entries.get(hash) !== undefined;
  }

  /** Link a new entry (its `gPrev` must already be `tail`) and count it in its lane and the pool. */
  insert(e: Entry): void {
    this.entries.set(e.hash, e);
    if (this.tail) this.tail.gNext = e;
    else this.head = e;
    this.tail = e;
    e.lane.txs++;
    e.lane.bytes += e.bytes;
    this.txs++;
    this.bytes += e.bytes;
  }

  /** Take an entry out of every structure. Sender bookkeeping beyond the nonce map is the caller's. */
  remove(e: Entry): void {
    e.live = false;
    this.entries.delete(e.hash);
    if (e.gPrev) e.gPrev.gNext = e.gNext;
    else this.head = e.gNext;
    if (e.gNext) e.gNext.gPrev = e.gPrev;
    else this.tail = e.gPrev;
    e.gPrev = null;
    e.gNext = null;
    qRemove(e.ready ? e.lane.ready : e.lane.held, e);
    e.lane.txs--;
    e.lane.bytes -= e.bytes;
    this.txs--;
    this.bytes -= e.bytes;
    if (e.sender) e.sender.txs.delete(e.nonce);
  }

  /** Hashes of every pending transaction, oldest first. */
  hashes(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let e = this.head; e !== null; e = e.gNext) out.push(e.hash);
    return out;
  }
}
