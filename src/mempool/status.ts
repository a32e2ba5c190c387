/**
 * Final statuses of transactions that left the pool (committed / dropped), and the count-bounded set of
 * recently committed hashes that rejects re-submission of committed transactions. Both are
 * two-generation maps (recent.ts): evicting a Map's first key one at a time is quadratic in V8.
 *
 * A committed transaction is written once, to the committed-hash memory, whose value is its block's
 * record: that one entry both refuses a re-submission (exactly-once) and serves the `committed`
 * status, which is served while the record is younger than `statusRetentionMs` and among the last
 * `maxStatusEntries` committed transactions (a commit sequence number per block gives the count).
 * Until ADR 0210 each commit wrote a status entry and a committed-hash entry, two map inserts per
 * transaction per node. Dropped statuses keep their own time- and count-bounded memory.
 *
 * Every transaction committed in one block shares one `CommittedBlock` record (a commit allocates
 * nothing per transaction that outlives it; per-transaction status objects kept for minutes were a
 * large share of the old-generation garbage at thousands of transactions per second). Since ADR 0300
 * the committed memory is keyed by the id's bytes in typed-array tables (committed-ids.ts), which also
 * hold each transaction's index in its block.
 */

import { type CommittedBlockRecord, CommittedIds } from './committed-ids.ts';
import type { MempoolLimits } from './limits.ts';
import { RecentMap } from './recent.ts';
import type { DropReason, TxStatus } from './types.ts';

/** A dropped transaction's final status. */
interface FinalRecord {
  status: TxStatus;
  at: number;
}

/** A block's shared record (`seq`: transactions committed on this node before it). */
export type CommittedBlock = CommittedBlockRecord;

export class StatusBook {
  readonly #retentionMs: number;
  readonly #maxStatusEntries: number;
  /** Dropped transactions' statuses. */
  readonly #finals: RecentMap<string, FinalRecord>;
  /** Committed transactions: their block's record, for the status and against re-submission. */
  readonly #committed: CommittedIds;
  /** Transactions committed so far (for the count bound of committed statuses). */
  #committedCount = 0;
  #nextSweepAt = Number.POSITIVE_INFINITY;

  constructor(limits: MempoolLimits) {
    this.#retentionMs = limits.statusRetentionMs;
    this.#maxStatusEntries = limits.maxStatusEntries;
    this.#finals = new RecentMap(limits.maxStatusEntries, limits.statusRetentionMs);
    this.#committed = new CommittedIds(limits.maxCommittedHashes);
  }

  /** A new block's shared record; `size` transactions of it are about to be `committed`. */
  committedBlock(height: number, at: number, size: number): CommittedBlock {
    const block: CommittedBlock = { height, at, seq: this.#committedCount };
    this.#committedCount += size;
    return block;
  }

  /**
   * Record a final status. At most `maxStatusEntries` are kept, and a status is served for at least
   * `statusRetentionMs` (unless the count bound forgets it first) and at most twice that: the memory
   * drops whole generations, each spanning at most the retention (recent.ts).
   */
  #setFinal(key: string, record: FinalRecord, now: number): void {
    this.#finals.set(key, record, now);
    if (this.#nextSweepAt === Number.POSITIVE_INFINITY) this.#nextSweepAt = now + this.#retentionMs;
  }

  dropped(key: string, reason: DropReason, message: string, now: number): void {
    this.#setFinal(key, { status: { status: 'dropped', reason, message }, at: now }, now);
  }

  /** Transaction `id` committed at `index` of `block` (a record from `committedBlock`). */
  committed(id: Uint8Array, block: CommittedBlock, index: number): void {
    this.#committed.set(id, block, index);
  }

  wasCommitted(id: Uint8Array): boolean {
    return this.#committed.has(id);
  }

  /** The final status of a transaction not pending (unknown when never seen or forgotten). */
  final(id: Uint8Array, key: string, now: number): TxStatus {
    const hit = this.#committed.get(id);
    if (hit !== undefined) {
      const b = hit.block;
      if (
        now - b.at < this.#retentionMs &&
        this.#committedCount - (b.seq + hit.index) <= this.#maxStatusEntries
      )
        return { status: 'committed', height: b.height, index: hit.index };
      return { status: 'unknown' };
    }
    const r = this.#finals.get(key);
    return r === undefined ? { status: 'unknown' } : r.status;
  }

  /** Forget statuses past their retention (cheap when nothing is due). */
  sweep(now: number): void {
    if (now >= this.#nextSweepAt) {
      this.#finals.expire(now - this.#retentionMs);
      this.#nextSweepAt = this.#finals.nextExpiry(this.#retentionMs);
    }
  }
}
