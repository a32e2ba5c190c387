/**
 * An open-addressing table of 32-byte transaction ids in typed arrays: id bytes -> slot, the one probe
 * loop behind the pending set's by-id index (pending.ts, ADR 0317) and the committed-id memory
 * (committed-ids.ts, ADR 0300). Its owner keeps whatever it maps an id to in its own columns indexed by
 * the slot, and is told when an entry moves (a delete's backward shift, a growth's rehash).
 *
 * Each slot holds the id's eight words inline and a tag (the id's words mixed with a per-process random
 * seed, low bit set: 0 marks an empty slot), so a probe that misses reads no id, and a probe's home is
 * the tag's own bits (a delete shifts entries back without rehashing them; no tombstones, so lookups do
 * not slow down with churn). Ids are sha256 of payloads a submitter chooses: grinding payloads whose
 * probe runs collide needs the seed, which never leaves the process.
 *
 * Lookups go in two steps so an id is copied and hashed once however many tables it is looked up in:
 * `loadId` copies it into a scratch key (aligned whatever its byteOffset) and returns its tag; `find`,
 * `insertAt` then act on that key. Nothing else may run between the two (both are synchronous).
 */
import { randomBytes } from 'node:crypto';

/** The length of a transaction id. */
export const ID_BYTES = 32;

const seed = randomBytes(8);
const SEED_A = seed.readUInt32LE(0) | 1;
const SEED_B = seed.readUInt32LE(4);

/** The id last loaded, as little-endian words: compared and mixed a word at a time. */
const key = new Uint32Array(8);
const keyBytes = new Uint8Array(key.buffer);

/**
 * Make `id` (exactly `ID_BYTES` long: the caller checks) the key of the next `find` / `insertAt`, and
 * return its tag: its words mixed with the seed, odd (never 0).
 */
export function loadId(id: Uint8Array): number {
  keyBytes.set(id);
  let h = SEED_B;
  for (let i = 0; i < 8; i++) {
    h = Math.imul(h ^ key[i]!, SEED_A);
    h ^= h >>> 15;
  }
  return h | 1;
}

/** A slot's home position: from its tag alone, so entries move without their ids being rehashed. */
const home = (tag: number, mask: number): number => (tag >>> 1) & mask;

/** Told that the entry in slot `from` now stands in slot `to` (of the grown table, after `grow`). */
export type SlotMove = (from: number, to: number) => void;

export class IdTable {
  #words: Uint32Array;
  #tags: Int32Array;
  #mask: number;
  #count = 0;

  /** A table of `slots` slots, rounded up to a power of two (at least 2). */
  constructor(slots: number) {
    let n = 2;
    while (n < slots) n *= 2;
    this.#words = new Uint32Array(8 * n);
    this.#tags = new Int32Array(n);
    this.#mask = n - 1;
  }

  /** Ids held. */
  get size(): number {
    return this.#count;
  }

  /** Slots in the table (a power of two). The owner keeps it at most half full (`grow`). */
  get slots(): number {
    return this.#mask + 1;
  }

  /** Whether slot `s` holds an id (for a walk over every slot). */
  holds(s: number): boolean {
    return this.#tags[s] !== 0;
  }

  /** The slot holding the loaded id (tag `t`), or -1 - the empty slot where it would go. */
  find(t: number): number {
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

  /** Put the loaded id (tag `t`) in slot `s`: the empty slot a `find` of it just named (as -1 - s). */
  insertAt(t: number, s: number): void {
    this.#words.set(key, s * 8);
    this.#tags[s] = t;
    this.#count++;
  }

  /**
   * Empty slot `s` (held): each later entry of its run whose home allows it is shifted back into the
   * hole (`move` told of each, in order), so every entry stays reachable from its home. Returns the slot
   * left empty at the end, whose value the owner clears.
   */
  deleteAt(s: number, move: SlotMove): number {
    const tags = this.#tags;
    const words = this.#words;
    const mask = this.#mask;
    let i = s;
    for (let j = (i + 1) & mask; tags[j] !== 0; j = (j + 1) & mask) {
      const k = home(tags[j]!, mask);
      if (((j - k) & mask) >= ((j - i) & mask)) {
        tags[i] = tags[j]!;
        words.copyWithin(i * 8, j * 8, j * 8 + 8);
        move(j, i);
        i = j;
      }
    }
    tags[i] = 0;
    this.#count--;
    return i;
  }

  /** Double the slots: every entry is placed anew, `move(old slot, new slot)` told of each. */
  grow(move: SlotMove): void {
    const oldTags = this.#tags;
    const oldWords = this.#words;
    const n = 2 * (this.#mask + 1);
    const tags = new Int32Array(n);
    const words = new Uint32Array(8 * n);
    const mask = n - 1;
    for (let s = 0; s < oldTags.length; s++) {
      const t = oldTags[s]!;
      if (t === 0) continue;
      let d = home(t, mask);
      while (tags[d] !== 0) d = (d + 1) & mask;
      tags[d] = t;
      // Word by word: a subarray per entry would allocate a view for each.
      for (let w = 0; w < 8; w++) words[d * 8 + w] = oldWords[s * 8 + w]!;
      move(s, d);
    }
    this.#tags = tags;
    this.#words = words;
    this.#mask = mask;
  }

  /** Forget every id (the slots stay). */
  clear(): void {
    if (this.#count > 0) this.#tags.fill(0);
    this.#count = 0;
  }
}
