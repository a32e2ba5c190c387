/**
 * Admission: the checks a transaction passes to enter the pool, cheapest first, each refusal a typed
 * `RejectCode` with `retryable` set: registered namespace, non-empty payload, size against the lane
 * and the pool, not pending, not recently committed; for RPC submissions the backlog and high-water
 * limits (capacity.ts); for executed lanes the sender's nonce (nonces.ts); then room is made by
 * eviction, and the entry is linked, queued and announced to the listeners (gossip batching).
 */
import { txHash } from '../codec/index.ts';
import type { TxEnvelope } from '../types.ts';
import { evictFor, overHighWater } from './capacity.ts';
import type { Entry, SenderState } from './entry.ts';
import type { LaneCounters } from './metrics.ts';
import { NonceBook } from './nonces.ts';
import type { Pool } from './pool.ts';
import type { AdmitResult, Classifier, RejectCode, TxSource } from './types.ts';

const RETRYABLE: Record<RejectCode, boolean> = {
  UNKNOWN_NAMESPACE: false,
  TX_TOO_LARGE: false,
  DUPLICATE: false,
  ALREADY_COMMITTED: false,
  MEMPOOL_FULL: true,
  LANE_FULL: true,
  INVALID_TX: false,
  NONCE_TOO_LOW: false,
  NONCE_GAP_TOO_LARGE: true,
  OVERLOADED: true,
};

function reject(
  counters: LaneCounters,
  code: RejectCode,
  message: string,
  retryable = RETRYABLE[code],
): AdmitResult {
  counters.rejected(code).inc();
  return { ok: false as const, code, message, retryable };
}

export function admit(pool: Pool, tx: TxEnvelope, source: TxSource): AdmitResult {
  const now = pool.clock();
  pool.sweep(now);
  const { limits, pending, nonces } = pool;
  const lane = pool.lanes.byNamespace.get(tx?.namespace);
  if (lane === undefined) {
    return reject(
      pool.unknownCounters,
      'UNKNOWN_NAMESPACE',
      `namespace ${tx?.namespace} is not a registered rollup`,
    );
  }
  const payload = tx.payload;
  if (!(payload instanceof Uint8Array) || payload.byteLength === 0) {
    return reject(lane.counters, 'INVALID_TX', 'transaction payload must be non-empty bytes');
  }
  const size = payload.byteLength;
  if (size > lane.maxTxBytes) {
    return reject(
      lane.counters,
      'TX_TOO_LARGE',
      `transaction is ${size} bytes; rollup ${lane.namespace} accepts at most ${lane.maxTxBytes}`,
    );
  }
  if (size > lane.maxBytes) {
    return reject(
      lane.counters,
      'LANE_FULL',
      `transaction larger than lane ${lane.namespace}'s capacity`,
      false,
    );
  }
  if (size > limits.maxTotalBytes) {
    return reject(lane.counters, 'MEMPOOL_FULL', 'transaction larger than the mempool capacity', false);
  }
  const hash = txHash(tx); // memoised per envelope
  if (pending.has(hash)) return reject(lane.counters, 'DUPLICATE', 'transaction already pending');
  if (pool.status.wasCommitted(hash))
    return reject(lane.counters, 'ALREADY_COMMITTED', 'transaction already committed');
  if (source === 'rpc') {
    if (pending.txs >= pool.backlog.limit) {
      return reject(
        lane.counters,
        'OVERLOADED',
        `network backlog: ${pending.txs} transactions pending, more than ${limits.maxBacklogSeconds} s of the recent commit rate (${Math.round(pool.backlog.rate)} tx/s); retry later`,
      );
    }
    if (overHighWater(pending, lane, size, limits)) {
      return reject(
        lane.counters,
        'OVERLOADED',
        `node saturated (lane ${lane.namespace}: ${lane.txs} txs / ${lane.bytes} bytes; total ${pending.txs} / ${pending.bytes}); retry later`,
      );
    }
  }

  let sender: string | undefined;
  let nonce = 0n;
  let skey = '';
  nonces.beginAdmission();
  if (lane.classified) {
    let c: ReturnType<Classifier>;
    try {
      c = pool.classify!(tx);
    } catch (err) {
      c = { error: (err as Error)?.message ?? String(err) };
    }
    if (c !== undefined) {
      if ('error' in c) return reject(lane.counters, 'INVALID_TX', c.error);
      sender = c.sender;
      nonce = c.nonce;
      skey = NonceBook.senderKey(lane, sender);
      const bad = nonces.check(lane, sender, skey, nonce);
      if (bad) return reject(lane.counters, bad.code, bad.message);
    }
  }

  const full = evictFor(pending, pool.lanes.sorted, lane, size, limits, pool, now);
  if (full === 'LANE_FULL') {
    return reject(lane.counters, 'LANE_FULL', `lane ${lane.namespace} cannot hold this transaction`, false);
  }
  if (full === 'MEMPOOL_FULL') return reject(lane.counters, 'MEMPOOL_FULL', 'mempool full', false);

  let st: SenderState | null = null;
  if (sender !== undefined) {
    // Eviction may have removed earlier nonces of this very sender: check again.
    const bad = nonces.check(lane, sender, skey, nonce);
    if (bad) return reject(lane.counters, bad.code, bad.message);
    st = nonces.stateFor(lane, sender, skey);
  }

  const e: Entry = {
    hash,
    tx,
    bytes: size,
    lane,
    arrivedMs: now,
    heldSinceMs: 0,
    ready: true,
    live: true,
    sender: st,
    nonce,
    gPrev: pending.tail,
    gNext: null,
    lPrev: null,
    lNext: null,
  };
  pending.insert(e);
  nonces.place(e, now);
  lane.counters.admitted[source].inc();
  for (const l of pool.listeners) l(tx, source, e.hash);
  return { ok: true, hash: e.hash };
}
