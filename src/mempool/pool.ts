/**
 * The pool's state and the operations every part shares: the lanes, the pending set, the nonce book,
 * the status book, the backlog meter; `drop` (a pending transaction leaves with a final status, and
 * its sender's later nonces lose executability) and `sweep` (time-to-live expiry of pending and held
 * transactions and of old statuses, run lazily by every call). admission.ts, block.ts and mempool.ts
 * operate on one `Pool`.
 */
import type { Logger } from 'pino';
import { latin1Key } from '../crypto/index.ts';
import type { TxEnvelope } from '../types.ts';
import { Backlog } from './capacity.ts';
import type { Entry, SenderState } from './entry.ts';
import type { Lanes } from './lanes.ts';
import type { MempoolLimits } from './limits.ts';
import type { LaneCounters } from './metrics.ts';
import type { NonceBook } from './nonces.ts';
import { PendingSet } from './pending.ts';
import type { FairLane } from './select.ts';
import { StatusBook } from './status.ts';
import type { AdmitListener, Classifier, DropReason } from './types.ts';

export class Pool {
  readonly limits: MempoolLimits;
  readonly lanes: Lanes;
  readonly pending = new PendingSet();
  readonly status: StatusBook;
  readonly nonces: NonceBook;
  readonly backlog: Backlog;
  readonly clock: () => number;
  readonly classify: Classifier | undefined;
  readonly log: Logger;
  readonly unknownCounters: LaneCounters;
  /** Envelopes handed out by `reap`, so that their commit finds the entry without hashing. */
  readonly byObject = new WeakMap<TxEnvelope, Entry>();
  readonly listeners: AdmitListener[] = [];
  /** The lanes' selection views, in namespace order (select.ts). */
  readonly fairLanes: FairLane<Entry>[];

  constructor(o: {
    limits: MempoolLimits;
    lanes: Lanes;
    nonces: NonceBook;
    clock: () => number;
    classify: Classifier | undefined;
    log: Logger;
    unknownCounters: LaneCounters;
  }) {
    this.limits = o.limits;
    this.lanes = o.lanes;
    this.status = new StatusBook(o.limits);
    this.nonces = o.nonces;
    this.backlog = new Backlog(o.limits);
    this.clock = o.clock;
    this.classify = o.classify;
    this.log = o.log;
    this.unknownCounters = o.unknownCounters;
    this.fairLanes = o.lanes.sorted.map((l) => l.fair);
  }

  /** Drop a pending transaction with a final status; its sender's later nonces lose executability. */
  drop(e: Entry, reason: DropReason, message: string, now: number): void {
    const wasReady = e.ready;
    this.pending.remove(e);
    this.status.dropped(latin1Key(e.hash), reason, message, now);
    e.lane.counters.dropped(reason).inc();
    const st = e.sender;
    if (!st) return;
    for (const x of this.nonces.unwind(st, e, wasReady, now)) {
      if (x.live) this.drop(x, reason, `nonce ${e.nonce} of this sender was dropped (${reason})`, now);
    }
    this.nonces.retireIfEmpty(st);
  }

  /** After commits used up nonces below `maxCommitted + 1`: drop those pending (`replaced`), promote the rest. */
  settle(st: SenderState, maxCommitted: bigint, height: number, now: number): void {
    for (const x of this.nonces.raiseBase(st, maxCommitted)) {
      this.pending.remove(x);
      this.status.dropped(
        latin1Key(x.hash),
        'replaced',
        `another transaction with nonce ${x.nonce} from this sender committed (height ${height})`,
        now,
      );
      x.lane.counters.dropped('replaced').inc();
    }
    this.nonces.extendReady(st);
    this.nonces.retireIfEmpty(st);
  }

  /** Expiry: pending transactions past `ttlMs`, held ones past `heldTtlMs`, statuses past retention. */
  sweep(now: number): void {
    const { ttlMs, heldTtlMs } = this.limits;
    const pending = this.pending;
    while (pending.head !== null && pending.head.arrivedMs + ttlMs <= now) {
      this.drop(pending.head, 'expired', `not included within the time-to-live of ${ttlMs} ms`, now);
    }
    const nonces = this.nonces;
    if (now >= nonces.nextHeldSweepAt) {
      nonces.nextHeldSweepAt = Number.POSITIVE_INFINITY;
      for (const lane of this.lanes.sorted) {
        let h = lane.held.head;
        while (h !== null && h.heldSinceMs + heldTtlMs <= now) {
          this.drop(h, 'expired', `nonce gap not filled within ${heldTtlMs} ms`, now);
          h = lane.held.head;
        }
        if (h !== null && h.heldSinceMs + heldTtlMs < nonces.nextHeldSweepAt) {
          nonces.nextHeldSweepAt = h.heldSinceMs + heldTtlMs;
        }
      }
    }
    this.status.sweep(now);
  }
}
