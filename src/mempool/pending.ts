/**
 * The pending set: every transaction the pool holds, by hash key, in one arrival-ordered intrusive
 * list (time-to-live expiry pops from its head, O(1) when nothing expires), with pool-wide and per-lane
 * counts and bytes. Queue placement (ready or held) is the nonce book's (nonces.ts); this module only
 * links and unlinks.
 */
import { type Entry, qRemove } from './entry.ts';

export class PendingSet {
  /** hash key (32-byte sha256 as a latin1 string, entry.ts) -> Entry. */
  readonly entries = new Map<string, Entry>();
  head: Entry | null = null;
  tail: Entry | null = null;
  txs = 0;
  bytes = 0;

  /** Link a new entry (its `gPrev` must already be `tail`) and count it in its lane and the pool. */
  insert(e: Entry): void {
    this.entries.set(e.key, e);
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
    this.entries.delete(e.key);
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
