/**
 * The pending set: every transaction the pool holds, by its 32-byte id, in one arrival-ordered
 * intrusive list (time-to-live expiry pops from its head, O(1) when nothing expires), with pool-wide
 * and per-lane counts and bytes. Queue placement (ready or held) is the nonce book's (nonces.ts); this
 * module only links and unlinks.
 *
 * The by-id index is an open-addressing table in typed arrays (id-table.ts, ADR 0317), not a Map keyed
 * by the id as a latin1 string: the string (a Buffer view and a 32-character copy per transaction,
 * memoised on the envelope with a property definition) and the Map's string hashing were most of
 * `admit`'s own time at 5,000 tx/s. The entries stand in a column beside it, by slot. The table doubles
 * when half full and never shrinks: at most twice the pool's peak count of slots (bounded by `maxTxs`).
 */
import { type Entry, qRemove } from './entry.ts';
import { ID_BYTES, IdTable, loadId } from './id-table.ts';

const INITIAL_SLOTS = 1024;

/** Transaction id (32 bytes) -> pending entry. */
export class PendingIds {
  readonly #ids: IdTable;
  /** The entry of the id in each slot of `#ids`. */
  #values: (Entry | undefined)[];
  readonly #move = (from: number, to: number): void => {
    this.#values[to] = this.#values[from];
  };

  constructor(slots = INITIAL_SLOTS) {
    this.#ids = new IdTable(slots);
    this.#values = new Array<Entry | undefined>(this.#ids.slots).fill(undefined);
  }

  get size(): number {
    return this.#ids.size;
  }

  /** Slots in the table (a power of two, at least twice the count). */
  get slots(): number {
    return this.#ids.slots;
  }

  get(id: Uint8Array): Entry | undefined {
    if (this.#ids.size === 0 || id.byteLength !== ID_BYTES) return undefined;
    const s = this.#ids.find(loadId(id));
    return s >= 0 ? this.#values[s] : undefined;
  }

  has(id: Uint8Array): boolean {
    return this.get(id) !== undefined;
  }

  /** Insert or replace the entry of `id`. */
  set(id: Uint8Array, e: Entry): void {
    if (id.byteLength !== ID_BYTES) throw new RangeError(`a transaction id is ${ID_BYTES} bytes`);
    if (2 * (this.#ids.size + 1) > this.#ids.slots) this.#grow();
    const t = loadId(id);
    let s = this.#ids.find(t);
    if (s < 0) {
      s = -1 - s;
      this.#ids.insertAt(t, s);
    }
    this.#values[s] = e;
  }

  /** Remove `id`; false when it was not there. */
  delete(id: Uint8Array): boolean {
    if (this.#ids.size === 0 || id.byteLength !== ID_BYTES) return false;
    const s = this.#ids.find(loadId(id));
    if (s < 0) return false;
    this.#values[this.#ids.deleteAt(s, this.#move)] = undefined;
    return true;
  }

  #grow(): void {
    const old = this.#values;
    const values = new Array<Entry | undefined>(2 * this.#ids.slots).fill(undefined);
    this.#ids.grow((from, to) => {
      values[to] = old[from];
    });
    this.#values = values;
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
