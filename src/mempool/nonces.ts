/**
 * Nonces of executed lanes (`transfer`, `evm`). Per (lane, sender) a `SenderState` holds the committed
 * next nonce (`base`), the end of the contiguous executable run (`next`) and the sender's pending
 * transactions by nonce. A transaction at `next` is ready (in its lane's ready queue); one past a gap is
 * held (in the held queue) until the gap fills or `heldTtlMs` passes. Senders with nothing pending are
 * forgotten into a count-bounded next-nonce cache; a new sender's base comes from `accountNonce` (the
 * executor's committed state), asked at most once per admission.
 */
import type { Logger } from 'pino';
import type { Namespace } from '../types.ts';
import { type Entry, type Lane, qAppend, qRemove, type SenderState } from './entry.ts';
import type { MempoolLimits } from './limits.ts';
import { RecentMap } from './recent.ts';
import type { RejectCode } from './types.ts';

export type NonceProblem = { code: RejectCode; message: string } | undefined;

export class NonceBook {
  readonly #senders = new Map<string, SenderState>();
  readonly #baseCache: RecentMap<string, bigint>;
  readonly #accountNonce: (namespace: Namespace, sender: string) => bigint;
  readonly #log: Logger;
  readonly #maxGap: bigint;
  readonly #maxGapNumber: number;
  readonly #heldTtlMs: number;
  /** When the oldest held transaction may expire (expiry.ts asks). */
  nextHeldSweepAt = Number.POSITIVE_INFINITY;
  /** One admission asks `accountNonce` at most once per new sender (it may read executor state). */
  #memoKey: string | null = null;
  #memoBase = 0n;

  constructor(
    limits: MempoolLimits,
    accountNonce: (namespace: Namespace, sender: string) => bigint,
    log: Logger,
  ) {
    this.#baseCache = new RecentMap(limits.maxSenderCache);
    this.#accountNonce = accountNonce;
    this.#log = log;
    this.#maxGap = BigInt(limits.maxNonceGap);
    this.#maxGapNumber = limits.maxNonceGap;
    this.#heldTtlMs = limits.heldTtlMs;
  }

  static senderKey(lane: Lane, sender: string): string {
    return `${lane.namespace}:${sender}`;
  }

  /** The nonce a sender's next transaction must carry: past its pending ones, else its account nonce. */
  nextFor(lane: Lane, sender: string): bigint {
    const key = NonceBook.senderKey(lane, sender);
    const st = this.#senders.get(key);
    return st !== undefined ? st.next : this.#accountNonceOf(lane, sender, key);
  }

  /** A new admission starts: forget the previous one's `accountNonce` answer. */
  beginAdmission(): void {
    this.#memoKey = null;
  }

  get(skey: string): SenderState | undefined {
    return this.#senders.get(skey);
  }

  #initialBase(lane: Lane, sender: string, key: string): bigint {
    if (this.#memoKey === key) return this.#memoBase;
    this.#memoKey = key;
    this.#memoBase = this.#accountNonceOf(lane, sender, key);
    return this.#memoBase;
  }

  #accountNonceOf(lane: Lane, sender: string, key: string): bigint {
    const cached = this.#baseCache.get(key);
    let base = 0n;
    try {
      base = this.#accountNonce(lane.namespace, sender);
    } catch (err) {
      this.#log.warn(
        { namespace: lane.namespace, err: (err as Error)?.message },
        'accountNonce failed; assuming 0',
      );
    }
    if (cached !== undefined && cached > base) base = cached;
    return base;
  }

  /** Can `nonce` from this sender be admitted now? */
  check(lane: Lane, sender: string, skey: string, nonce: bigint): NonceProblem {
    const st = this.#senders.get(skey);
    const base = st ? st.base : this.#initialBase(lane, sender, skey);
    const next = st ? st.next : base;
    if (nonce < base) {
      return { code: 'NONCE_TOO_LOW', message: `nonce ${nonce} is below the sender's next nonce ${base}` };
    }
    if (st?.txs.has(nonce)) {
      return {
        code: 'DUPLICATE',
        message: `a transaction with nonce ${nonce} from this sender is already pending (first seen wins)`,
      };
    }
    if (nonce - next > this.#maxGap) {
      return {
        code: 'NONCE_GAP_TOO_LARGE',
        message: `nonce ${nonce} is more than ${this.#maxGapNumber} ahead of the sender's next executable nonce ${next}`,
      };
    }
    return undefined;
  }

  /** The sender's state, created (and counted in its lane) on first use. */
  stateFor(lane: Lane, sender: string, skey: string): SenderState {
    let st = this.#senders.get(skey);
    if (st === undefined) {
      const base = this.#initialBase(lane, sender, skey);
      st = { key: skey, lane, base, next: base, txs: new Map() };
      this.#senders.set(skey, st);
      lane.senders++;
    }
    return st;
  }

  /** Queue a new entry: ready at the end of its lane (no sender, or the next nonce), else held. */
  place(e: Entry, now: number): void {
    const st = e.sender;
    if (st === null) {
      qAppend(e.lane.ready, e);
      return;
    }
    st.txs.set(e.nonce, e);
    if (e.nonce === st.next) {
      qAppend(e.lane.ready, e);
      st.next++;
      for (let x = st.txs.get(st.next); x !== undefined; x = st.txs.get(st.next)) {
        this.#promote(x);
        st.next++;
      }
    } else {
      this.#hold(e, now);
    }
  }

  #hold(e: Entry, now: number): void {
    e.ready = false;
    e.heldSinceMs = now;
    qAppend(e.lane.held, e);
    const due = now + this.#heldTtlMs;
    if (due < this.nextHeldSweepAt) this.nextHeldSweepAt = due;
  }

  #promote(e: Entry): void {
    qRemove(e.lane.held, e);
    e.ready = true;
    qAppend(e.lane.ready, e);
  }

  /**
   * A pending entry of this sender was dropped: if it was in the ready run, its later nonces lose
   * executability (back to held). Returns the entries now too far past the gap, for the caller to drop.
   */
  unwind(st: SenderState, e: Entry, wasReady: boolean, now: number): Entry[] {
    if (!(wasReady && e.nonce < st.next)) return [];
    for (let n = e.nonce + 1n; n < st.next; n++) {
      const x = st.txs.get(n);
      if (x?.ready) {
        qRemove(x.lane.ready, x);
        this.#hold(x, now);
      }
    }
    st.next = e.nonce;
    const beyond: Entry[] = [];
    for (const [n, x] of st.txs) if (n - st.next > this.#maxGap) beyond.push(x);
    return beyond;
  }

  /** A committed nonce of a pending sender: raise its base (settle() applies it). */
  static noteCommitted(touched: Map<SenderState, bigint>, st: SenderState, nonce: bigint): void {
    const prev = touched.get(st);
    if (prev === undefined || nonce > prev) touched.set(st, nonce);
  }

  /** A committed nonce of a sender with nothing pending: remember the next nonce. */
  noteCommittedIdle(skey: string, nonce: bigint): void {
    const cached = this.#baseCache.get(skey);
    if (cached === undefined || nonce + 1n > cached) this.#baseCache.set(skey, nonce + 1n);
  }

  /** After commits raised `st.base`: the pending entries whose nonces are used up. */
  raiseBase(st: SenderState, maxCommitted: bigint): Entry[] {
    if (maxCommitted + 1n > st.base) st.base = maxCommitted + 1n;
    const stale: Entry[] = [];
    for (const [n, x] of st.txs) if (n < st.base) stale.push(x);
    return stale;
  }

  /** Extend the ready run from the base, promoting filled gaps. */
  extendReady(st: SenderState): void {
    if (st.next < st.base) st.next = st.base;
    for (let x = st.txs.get(st.next); x !== undefined; x = st.txs.get(st.next)) {
      if (!x.ready) this.#promote(x);
      st.next++;
    }
  }

  /** Forget a sender with nothing pending (its next nonce goes to the cache). */
  retireIfEmpty(st: SenderState): void {
    if (st.txs.size === 0 && this.#senders.get(st.key) === st) {
      this.#senders.delete(st.key);
      st.lane.senders--;
      this.#baseCache.set(st.key, st.base);
    }
  }
}
