/**
 * Final statuses of transactions that left the pool (committed / dropped), and the count-bounded set of
 * recently committed hashes that rejects re-submission of committed transactions. Both are
 * two-generation maps (recent.ts): evicting a Map's first key one at a time is quadratic in V8.
 *
 * Every transaction committed in one block shares one `CommittedBlock` record (a commit allocates
 * nothing per transaction that outlives it; per-transaction status objects kept for minutes were a
 * large share of the old-generation garbage at thousands of transactions per second). The index is
 * found on demand.
 */
import type { MempoolLimits } from './limits.ts';
import { RecentMap } from './recent.ts';
import type { DropReason, TxStatus } from './types.ts';

/** A dropped transaction's final status. */
interface FinalRecord {
  status: TxStatus;
  at: number;
}

export interface CommittedBlock {
  height: number;
  at: number;
  keys: string[];
}

export class StatusBook {
  readonly #retentionMs: number;
  readonly #finals: RecentMap<string, FinalRecord | CommittedBlock>;
  readonly #committedKeys: RecentMap<string, true>;
  #nextSweepAt = Number.POSITIVE_INFINITY;

  constructor(limits: MempoolLimits) {
    this.#retentionMs = limits.statusRetentionMs;
    this.#finals = new RecentMap(limits.maxStatusEntries, limits.statusRetentionMs);
    this.#committedKeys = new RecentMap(limits.maxCommittedHashes);
  }

  /**
   * Record a final status. At most `maxStatusEntries` are kept, and a status is served for at least
   * `statusRetentionMs` (unless the count bound forgets it first) and at most twice that: the memory
   * drops whole generations, each spanning at most the retention (recent.ts).
   */
  #setFinal(key: string, record: FinalRecord | CommittedBlock, now: number): void {
    this.#finals.set(key, record, now);
    if (this.#nextSweepAt === Number.POSITIVE_INFINITY) this.#nextSweepAt = now + this.#retentionMs;
  }

  dropped(key: string, reason: DropReason, message: string, now: number): void {
    this.#setFinal(key, { status: { status: 'dropped', reason, message }, at: now }, now);
  }

  /** `key` is `block.keys[i]`: committed at `block.height`, index `i`. */
  committed(key: string, block: CommittedBlock, now: number): void {
    this.#setFinal(key, block, now);
    this.#committedKeys.set(key, true);
  }

  wasCommitted(key: string): boolean {
    return this.#committedKeys.has(key);
  }

  /** The final status of a transaction not pending (unknown when never seen or forgotten). */
  final(key: string): TxStatus {
    const r = this.#finals.get(key);
    if (r === undefined) return { status: 'unknown' };
    if ('keys' in r) return { status: 'committed', height: r.height, index: r.keys.indexOf(key) };
    return r.status;
  }

  /** Forget statuses past their retention (cheap when nothing is due). */
  sweep(now: number): void {
    if (now >= this.#nextSweepAt) {
      this.#finals.expire(now - this.#retentionMs);
      this.#nextSweepAt = this.#finals.nextExpiry(this.#retentionMs);
    }
  }
}
