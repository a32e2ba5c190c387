/**
 * The lane mempool: one FIFO lane per registered rollup, bounded admission, weighted fair reaping and a
 * status for every transaction hash. See docs/mempool.md for the full specification.
 *
 * Bird's-eye view of the data structures (every pending transaction is one `Entry`):
 * - `entries`: hash key -> Entry. The key is the 32-byte sha256 as a latin1 string (no hex work).
 * - a global intrusive list in arrival order (TTL expiry pops from its head, O(1) when nothing expires);
 * - per lane, an intrusive `ready` queue (executable, FIFO, what `reap` walks) and a `held` list
 *   (nonce-gapped transactions of executed lanes, waiting for the gap to fill, evicted first);
 * - per (lane, sender) a `SenderState` with the next expected nonce and the sender's pending nonces;
 * - `finals`: hash key -> final status (committed / dropped), bounded in time and entries; and a
 *   count-bounded set of recently committed keys that rejects re-submission of committed transactions
 *   (both two-generation maps, recent.ts: evicting a Map's first key one at a time is quadratic in V8).
 * Every operation is O(1) or O(work done) except cross-lane eviction, which scans the lanes.
 */

import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { txHash } from '../codec/hashing.ts';
import { LIMITS } from '../codec/limits.ts';
import type { RollupConfig } from '../config/genesis-types.ts';
import { latin1Key } from '../crypto/hash.ts';
import { OrdoError } from '../errors.ts';
import type { Namespace, TxEnvelope } from '../types.ts';
import { createMempoolMetrics, type LaneCounters } from './metrics.ts';
import { RecentMap } from './recent.ts';
import { type FairLane, selectFair } from './select.ts';
import type {
  AdmitListener,
  AdmitResult,
  Classifier,
  DropReason,
  LaneMempool,
  ReapLimits,
  RejectCode,
  TxSource,
  TxStatus,
} from './types.ts';

/** The commit rate behind admission control is measured over this window. */
const RATE_WINDOW_MS = 5_000;

export interface MempoolLimits {
  /** Pending transactions over all lanes. */
  maxTotalTxs: number;
  /** Pending payload bytes over all lanes. */
  maxTotalBytes: number;
  /** A pending transaction older than this is dropped `expired`. */
  ttlMs: number;
  /** A nonce-gapped (held) transaction whose gap has not filled within this is dropped `expired`. */
  heldTtlMs: number;
  /** Final statuses (committed / dropped) are served for this long after the transaction left... */
  statusRetentionMs: number;
  /** ...and at most this many of them are kept (oldest forgotten first). */
  maxStatusEntries: number;
  /** Executed lanes: a transaction may be at most this many nonces ahead of the sender's next one. */
  maxNonceGap: number;
  /** RPC admissions are refused with OVERLOADED above this fraction of any capacity (lane or total). */
  highWaterFraction: number;
  /**
   * Admission control sized to what the network commits: RPC admissions are refused with OVERLOADED
   * while the pool holds more than this many seconds of the recent commit rate (0 turns it off). A
   * pool that only ever grows under overload turns every accepted transaction into a long wait and
   * spends the CPU that consensus needs on admitting transactions that cannot commit soon.
   */
  maxBacklogSeconds: number;
  /** ...but never refuses below this many pending transactions (the rate is unknown at start-up). */
  minBacklogTxs: number;
  /** Recently committed hashes remembered to reject re-submissions (count-bounded). */
  maxCommittedHashes: number;
  /** Next-nonce memory for senders with nothing pending (count-bounded). */
  maxSenderCache: number;
}

export const DEFAULT_MEMPOOL_LIMITS: MempoolLimits = {
  maxTotalTxs: 100_000,
  maxTotalBytes: 128 * 1024 * 1024,
  ttlMs: 240_000,
  heldTtlMs: 60_000,
  statusRetentionMs: 600_000,
  maxStatusEntries: 200_000,
  maxNonceGap: 16,
  highWaterFraction: 0.9,
  maxBacklogSeconds: 1,
  minBacklogTxs: 5_000,
  maxCommittedHashes: 200_000,
  maxSenderCache: 100_000,
};

export interface MempoolOptions {
  rollups: RollupConfig[];
  limits?: Partial<MempoolLimits>;
  /** Milliseconds; defaults to Date.now. */
  clock?: () => number;
  /** Sender + nonce for executed lanes (`transfer`, `evm`); never called for opaque lanes. */
  classify?: Classifier;
  /** The committed next nonce of an account; asked when a sender first appears. Default 0n. */
  accountNonce?: (namespace: Namespace, sender: string) => bigint;
  registry?: Registry;
  logger?: Logger;
}

interface Queue {
  head: Entry | null;
  tail: Entry | null;
  count: number;
}

interface SenderState {
  key: string;
  lane: Lane;
  /** The committed next nonce (nonces below it are used up). */
  base: bigint;
  /** The first nonce not in the contiguous ready run that starts at `base`. */
  next: bigint;
  txs: Map<bigint, Entry>;
}

interface Entry {
  key: string;
  hash: Uint8Array;
  tx: TxEnvelope;
  bytes: number;
  lane: Lane;
  arrivedMs: number;
  heldSinceMs: number;
  ready: boolean;
  live: boolean;
  sender: SenderState | null;
  nonce: bigint;
  gPrev: Entry | null;
  gNext: Entry | null;
  lPrev: Entry | null;
  lNext: Entry | null;
}

interface Lane {
  namespace: Namespace;
  weight: number;
  classified: boolean;
  maxTxBytes: number;
  maxTxs: number;
  maxBytes: number;
  /** This lane's weighted share of the total capacity (cross-lane eviction). */
  shareTxs: number;
  shareBytes: number;
  txs: number;
  bytes: number;
  /** Sender states (senders with pending nonce-tracked transactions) in this lane. */
  senders: number;
  ready: Queue;
  held: Queue;
  fair: FairLane<Entry>;
  counters: LaneCounters;
}

/** A dropped transaction's final status. */
interface FinalRecord {
  status: TxStatus;
  at: number;
}

/**
 * Every transaction committed in one block shares this record (a commit allocates nothing per
 * transaction that outlives it; per-transaction status objects kept for minutes were a large share of
 * the old-generation garbage at thousands of transactions per second). The index is found on demand.
 */
interface CommittedBlock {
  height: number;
  at: number;
  keys: string[];
}

/** The transaction id (codec/hashing.ts `txHash`, memoised per envelope) as a 32-char latin1 string key. */
function txKey(tx: TxEnvelope): string {
  return latin1Key(txHash(tx));
}

function keyOfHash(hash: Uint8Array): string | undefined {
  if (!(hash instanceof Uint8Array) || hash.byteLength !== 32) return undefined;
  return latin1Key(hash);
}

function newQueue(): Queue {
  return { head: null, tail: null, count: 0 };
}

function qAppend(q: Queue, e: Entry): void {
  e.lNext = null;
  e.lPrev = q.tail;
  if (q.tail) q.tail.lNext = e;
  else q.head = e;
  q.tail = e;
  q.count++;
}

function qRemove(q: Queue, e: Entry): void {
  if (e.lPrev) e.lPrev.lNext = e.lNext;
  else q.head = e.lNext;
  if (e.lNext) e.lNext.lPrev = e.lPrev;
  else q.tail = e.lPrev;
  e.lPrev = null;
  e.lNext = null;
  q.count--;
}

function positiveInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v <= 0) {
    throw new OrdoError(
      'MEMPOOL_CONFIG_INVALID',
      `mempool limit ${name} must be a positive integer, got ${v}`,
      {
        field: name,
        value: v,
      },
    );
  }
}

function validateLimits(l: MempoolLimits): void {
  for (const k of [
    'maxTotalTxs',
    'maxTotalBytes',
    'ttlMs',
    'heldTtlMs',
    'statusRetentionMs',
    'maxStatusEntries',
    'maxCommittedHashes',
    'maxSenderCache',
    'minBacklogTxs',
  ] as const) {
    positiveInt(k, l[k]);
  }
  if (!Number.isSafeInteger(l.maxNonceGap) || l.maxNonceGap < 0) {
    throw new OrdoError('MEMPOOL_CONFIG_INVALID', `mempool limit maxNonceGap must be an integer >= 0`, {
      field: 'maxNonceGap',
      value: l.maxNonceGap,
    });
  }
  if (!(Number.isFinite(l.maxBacklogSeconds) && l.maxBacklogSeconds >= 0)) {
    throw new OrdoError('MEMPOOL_CONFIG_INVALID', `mempool limit maxBacklogSeconds must be a number >= 0`, {
      field: 'maxBacklogSeconds',
      value: l.maxBacklogSeconds,
    });
  }
  if (!(l.highWaterFraction > 0 && l.highWaterFraction <= 1)) {
    throw new OrdoError('MEMPOOL_CONFIG_INVALID', `mempool limit highWaterFraction must be in (0, 1]`, {
      field: 'highWaterFraction',
      value: l.highWaterFraction,
    });
  }
}

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

export function createMempool(opts: MempoolOptions): LaneMempool {
  const limits: MempoolLimits = { ...DEFAULT_MEMPOOL_LIMITS, ...opts.limits };
  validateLimits(limits);
  const clock = opts.clock ?? Date.now;
  const classify = opts.classify;
  const accountNonce = opts.accountNonce ?? (() => 0n);
  const log = (opts.logger ?? pino({ level: 'silent' })).child({ module: 'mempool' });
  const maxGap = BigInt(limits.maxNonceGap);
  const hw = limits.highWaterFraction;
  // Admission control: the commits of the last RATE_WINDOW_MS (block time, tx count), oldest first.
  const commitTimes: number[] = [];
  const commitCounts: number[] = [];
  let firstCommitAt = -1;
  let backlogLimit = limits.maxBacklogSeconds > 0 ? limits.minBacklogTxs : Number.POSITIVE_INFINITY;
  let commitRate = 0;

  // ------------------------------------------------------------------ lanes
  const lanes = new Map<Namespace, Lane>();
  const sortedLanes: Lane[] = [];
  const weightSum = opts.rollups.reduce((s, r) => s + Math.max(r.weight, 0), 0);
  const metrics = createMempoolMetrics(opts.registry ?? new Registry(), () =>
    sortedLanes.map((l) => ({ namespace: l.namespace, txs: l.txs, bytes: l.bytes })),
  );
  for (const r of opts.rollups) {
    if (lanes.has(r.namespace)) {
      throw new OrdoError('MEMPOOL_CONFIG_INVALID', `rollup namespace ${r.namespace} is registered twice`, {
        namespace: r.namespace,
      });
    }
    positiveInt(`rollups[${r.namespace}].maxTxBytes`, r.maxTxBytes);
    positiveInt(`rollups[${r.namespace}].maxPendingTxs`, r.maxPendingTxs);
    positiveInt(`rollups[${r.namespace}].maxPendingBytes`, r.maxPendingBytes);
    const share = weightSum > 0 ? Math.max(r.weight, 0) / weightSum : 1 / opts.rollups.length;
    const lane: Lane = {
      namespace: r.namespace,
      weight: r.weight,
      classified: r.kind !== 'opaque' && classify !== undefined,
      maxTxBytes: Math.min(r.maxTxBytes, LIMITS.maxTxBytes),
      maxTxs: r.maxPendingTxs,
      maxBytes: r.maxPendingBytes,
      shareTxs: Math.max(share * limits.maxTotalTxs, 1e-9),
      shareBytes: Math.max(share * limits.maxTotalBytes, 1e-9),
      txs: 0,
      bytes: 0,
      senders: 0,
      ready: newQueue(),
      held: newQueue(),
      fair: { namespace: r.namespace, weight: r.weight, head: null },
      counters: metrics.lane(r.namespace),
    };
    lanes.set(r.namespace, lane);
    sortedLanes.push(lane);
  }
  sortedLanes.sort((a, b) => a.namespace - b.namespace);
  const fairLanes = sortedLanes.map((l) => l.fair);
  const unknownCounters = metrics.lane('unknown');

  // ------------------------------------------------------------------ state
  const entries = new Map<string, Entry>();
  let gHead: Entry | null = null;
  let gTail: Entry | null = null;
  let totalTxs = 0;
  let totalBytes = 0;
  const senders = new Map<string, SenderState>();
  // Bounded memories: two-generation maps (recent.ts), never a Map evicting its first key.
  const senderBaseCache = new RecentMap<string, bigint>(limits.maxSenderCache);
  const finals = new RecentMap<string, FinalRecord | CommittedBlock>(
    limits.maxStatusEntries,
    limits.statusRetentionMs,
  );
  const committedKeys = new RecentMap<string, true>(limits.maxCommittedHashes);
  let nextHeldSweepAt = Number.POSITIVE_INFINITY;
  let nextStatusSweepAt = Number.POSITIVE_INFINITY;
  const byObject = new WeakMap<TxEnvelope, Entry>();
  const listeners: AdmitListener[] = [];

  function reject(counters: LaneCounters, code: RejectCode, message: string, retryable = RETRYABLE[code]) {
    counters.rejected(code).inc();
    return { ok: false as const, code, message, retryable };
  }

  /**
   * Record a final status. At most `maxStatusEntries` are kept, and a status is served for at least
   * `statusRetentionMs` (unless the count bound forgets it first) and at most twice that: the memory
   * drops whole generations, each spanning at most the retention (recent.ts).
   */
  function setFinal(key: string, record: FinalRecord | CommittedBlock, now: number): void {
    finals.set(key, record, now);
    if (nextStatusSweepAt === Number.POSITIVE_INFINITY) nextStatusSweepAt = now + limits.statusRetentionMs;
  }

  function senderKey(lane: Lane, sender: string): string {
    return `${lane.namespace}:${sender}`;
  }

  /** One admission asks `accountNonce` at most once per new sender (it may read executor state). */
  let memoKey: string | null = null;
  let memoBase = 0n;

  function initialBase(lane: Lane, sender: string, key: string): bigint {
    if (memoKey === key) return memoBase;
    memoKey = key;
    memoBase = accountNonceOf(lane, sender, key);
    return memoBase;
  }

  function accountNonceOf(lane: Lane, sender: string, key: string): bigint {
    const cached = senderBaseCache.get(key);
    let base = 0n;
    try {
      base = accountNonce(lane.namespace, sender);
    } catch (err) {
      log.warn(
        { namespace: lane.namespace, err: (err as Error)?.message },
        'accountNonce failed; assuming 0',
      );
    }
    if (cached !== undefined && cached > base) base = cached;
    return base;
  }

  function retireIfEmpty(st: SenderState): void {
    if (st.txs.size === 0 && senders.get(st.key) === st) {
      senders.delete(st.key);
      st.lane.senders--;
      senderBaseCache.set(st.key, st.base);
    }
  }

  // ------------------------------------------------------------------ list plumbing
  function unlinkGlobal(e: Entry): void {
    if (e.gPrev) e.gPrev.gNext = e.gNext;
    else gHead = e.gNext;
    if (e.gNext) e.gNext.gPrev = e.gPrev;
    else gTail = e.gPrev;
    e.gPrev = null;
    e.gNext = null;
  }

  function hold(e: Entry, now: number): void {
    e.ready = false;
    e.heldSinceMs = now;
    qAppend(e.lane.held, e);
    const due = now + limits.heldTtlMs;
    if (due < nextHeldSweepAt) nextHeldSweepAt = due;
  }

  function promote(e: Entry): void {
    qRemove(e.lane.held, e);
    e.ready = true;
    qAppend(e.lane.ready, e);
  }

  function demote(e: Entry, now: number): void {
    qRemove(e.lane.ready, e);
    hold(e, now);
  }

  /** Take an entry out of every structure. Sender bookkeeping beyond the nonce map is the caller's. */
  function removeEntry(e: Entry): void {
    e.live = false;
    entries.delete(e.key);
    unlinkGlobal(e);
    qRemove(e.ready ? e.lane.ready : e.lane.held, e);
    e.lane.txs--;
    e.lane.bytes -= e.bytes;
    totalTxs--;
    totalBytes -= e.bytes;
    if (e.sender) e.sender.txs.delete(e.nonce);
  }

  /** Drop a pending transaction with a final status; its sender's later nonces lose executability. */
  function drop(e: Entry, reason: DropReason, message: string, now: number): void {
    const wasReady = e.ready;
    removeEntry(e);
    setFinal(e.key, { status: { status: 'dropped', reason, message }, at: now }, now);
    e.lane.counters.dropped(reason).inc();
    const st = e.sender;
    if (!st) return;
    if (wasReady && e.nonce < st.next) {
      for (let n = e.nonce + 1n; n < st.next; n++) {
        const x = st.txs.get(n);
        if (x?.ready) demote(x, now);
      }
      st.next = e.nonce;
      const beyond: Entry[] = [];
      for (const [n, x] of st.txs) if (n - st.next > maxGap) beyond.push(x);
      for (const x of beyond) {
        if (x.live) drop(x, reason, `nonce ${e.nonce} of this sender was dropped (${reason})`, now);
      }
    }
    retireIfEmpty(st);
  }

  /** After commits raised `st.base`: drop used-up nonces, extend the ready run, promote filled gaps. */
  function normalizeSender(st: SenderState, height: number, now: number): void {
    const stale: Entry[] = [];
    for (const [n, x] of st.txs) if (n < st.base) stale.push(x);
    for (const x of stale) {
      removeEntry(x);
      setFinal(
        x.key,
        {
          status: {
            status: 'dropped',
            reason: 'replaced',
            message: `another transaction with nonce ${x.nonce} from this sender committed (height ${height})`,
          },
          at: now,
        },
        now,
      );
      x.lane.counters.dropped('replaced').inc();
    }
    if (st.next < st.base) st.next = st.base;
    for (let x = st.txs.get(st.next); x !== undefined; x = st.txs.get(st.next)) {
      if (!x.ready) promote(x);
      st.next++;
    }
    retireIfEmpty(st);
  }

  // ------------------------------------------------------------------ expiry
  function sweep(now: number): void {
    while (gHead !== null && gHead.arrivedMs + limits.ttlMs <= now) {
      drop(gHead, 'expired', `not included within the time-to-live of ${limits.ttlMs} ms`, now);
    }
    if (now >= nextHeldSweepAt) {
      nextHeldSweepAt = Number.POSITIVE_INFINITY;
      for (const lane of sortedLanes) {
        let h = lane.held.head;
        while (h !== null && h.heldSinceMs + limits.heldTtlMs <= now) {
          drop(h, 'expired', `nonce gap not filled within ${limits.heldTtlMs} ms`, now);
          h = lane.held.head;
        }
        if (h !== null && h.heldSinceMs + limits.heldTtlMs < nextHeldSweepAt) {
          nextHeldSweepAt = h.heldSinceMs + limits.heldTtlMs;
        }
      }
    }
    if (now >= nextStatusSweepAt) {
      finals.expire(now - limits.statusRetentionMs);
      nextStatusSweepAt = finals.nextExpiry(limits.statusRetentionMs);
    }
  }

  // ------------------------------------------------------------------ capacity
  function oldestOf(lane: Lane): Entry | null {
    return lane.held.head ?? lane.ready.head;
  }

  /** The lane furthest above its weighted share of the total capacity, counting the incoming tx. */
  function mostOverShare(incoming: Lane, size: number): Lane | null {
    let best: Lane | null = null;
    let bestRatio = -1;
    for (const l of sortedLanes) {
      if (l.txs === 0) continue;
      const add = l === incoming;
      const rt = (l.txs + (add ? 1 : 0)) / l.shareTxs;
      const rb = (l.bytes + (add ? size : 0)) / l.shareBytes;
      const r = Math.max(rt, rb);
      if (r > bestRatio) {
        bestRatio = r;
        best = l;
      }
    }
    return best;
  }

  /** Evict until the incoming transaction fits; returns a reject on failure. */
  function makeRoom(lane: Lane, size: number, now: number): AdmitResult | undefined {
    while (lane.txs + 1 > lane.maxTxs || lane.bytes + size > lane.maxBytes) {
      const victim = oldestOf(lane);
      if (!victim) {
        return reject(
          lane.counters,
          'LANE_FULL',
          `lane ${lane.namespace} cannot hold this transaction`,
          false,
        );
      }
      drop(victim, 'evicted', `lane ${lane.namespace} full; oldest transaction evicted`, now);
    }
    while (totalTxs + 1 > limits.maxTotalTxs || totalBytes + size > limits.maxTotalBytes) {
      const victimLane = mostOverShare(lane, size);
      const victim = victimLane ? oldestOf(victimLane) : null;
      if (!victim) return reject(lane.counters, 'MEMPOOL_FULL', 'mempool full', false);
      drop(
        victim,
        'evicted',
        `mempool full; oldest transaction of the lane furthest over its share evicted`,
        now,
      );
    }
    return undefined;
  }

  // ------------------------------------------------------------------ admission
  function add(tx: TxEnvelope, source: TxSource): AdmitResult {
    const now = clock();
    sweep(now);
    const lane = lanes.get(tx?.namespace);
    if (lane === undefined) {
      return reject(
        unknownCounters,
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
    const key = txKey(tx);
    if (entries.has(key)) return reject(lane.counters, 'DUPLICATE', 'transaction already pending');
    if (committedKeys.has(key))
      return reject(lane.counters, 'ALREADY_COMMITTED', 'transaction already committed');
    if (source === 'rpc') {
      if (totalTxs >= backlogLimit) {
        return reject(
          lane.counters,
          'OVERLOADED',
          `network backlog: ${totalTxs} transactions pending, more than ${limits.maxBacklogSeconds} s of the recent commit rate (${Math.round(commitRate)} tx/s); retry later`,
        );
      }
      // An empty lane / pool always takes one transaction that fits, so OVERLOADED is never permanent.
      if (
        (totalTxs > 0 &&
          (totalTxs + 1 > limits.maxTotalTxs * hw || totalBytes + size > limits.maxTotalBytes * hw)) ||
        (lane.txs > 0 && (lane.txs + 1 > lane.maxTxs * hw || lane.bytes + size > lane.maxBytes * hw))
      ) {
        return reject(
          lane.counters,
          'OVERLOADED',
          `node saturated (lane ${lane.namespace}: ${lane.txs} txs / ${lane.bytes} bytes; total ${totalTxs} / ${totalBytes}); retry later`,
        );
      }
    }

    let sender: string | undefined;
    let nonce = 0n;
    let skey = '';
    memoKey = null;
    if (lane.classified) {
      let c: ReturnType<Classifier>;
      try {
        c = classify!(tx);
      } catch (err) {
        c = { error: (err as Error)?.message ?? String(err) };
      }
      if (c !== undefined) {
        if ('error' in c) return reject(lane.counters, 'INVALID_TX', c.error);
        sender = c.sender;
        nonce = c.nonce;
        skey = senderKey(lane, sender);
        const bad = checkNonce(lane, sender, skey, nonce);
        if (bad) return bad;
      }
    }

    const full = makeRoom(lane, size, now);
    if (full) return full;

    let st: SenderState | null = null;
    if (sender !== undefined) {
      // Eviction may have removed earlier nonces of this very sender: check again.
      const bad = checkNonce(lane, sender, skey, nonce);
      if (bad) return bad;
      st = senders.get(skey) ?? null;
      if (st === null) {
        const base = initialBase(lane, sender, skey);
        st = { key: skey, lane, base, next: base, txs: new Map() };
        senders.set(skey, st);
        lane.senders++;
      }
    }

    const e: Entry = {
      key,
      hash: txHash(tx), // memoised by txKey above
      tx,
      bytes: size,
      lane,
      arrivedMs: now,
      heldSinceMs: 0,
      ready: true,
      live: true,
      sender: st,
      nonce,
      gPrev: gTail,
      gNext: null,
      lPrev: null,
      lNext: null,
    };
    entries.set(key, e);
    if (gTail) gTail.gNext = e;
    else gHead = e;
    gTail = e;
    lane.txs++;
    lane.bytes += size;
    totalTxs++;
    totalBytes += size;
    if (st === null) {
      qAppend(lane.ready, e);
    } else {
      st.txs.set(nonce, e);
      if (nonce === st.next) {
        qAppend(lane.ready, e);
        st.next++;
        for (let x = st.txs.get(st.next); x !== undefined; x = st.txs.get(st.next)) {
          promote(x);
          st.next++;
        }
      } else {
        hold(e, now);
      }
    }
    lane.counters.admitted[source].inc();
    for (const l of listeners) l(tx, source, e.hash);
    return { ok: true, hash: e.hash };
  }

  function checkNonce(lane: Lane, sender: string, skey: string, nonce: bigint): AdmitResult | undefined {
    const st = senders.get(skey);
    const base = st ? st.base : initialBase(lane, sender, skey);
    const next = st ? st.next : base;
    if (nonce < base) {
      return reject(
        lane.counters,
        'NONCE_TOO_LOW',
        `nonce ${nonce} is below the sender's next nonce ${base}`,
      );
    }
    if (st?.txs.has(nonce)) {
      return reject(
        lane.counters,
        'DUPLICATE',
        `a transaction with nonce ${nonce} from this sender is already pending (first seen wins)`,
      );
    }
    if (nonce - next > maxGap) {
      return reject(
        lane.counters,
        'NONCE_GAP_TOO_LARGE',
        `nonce ${nonce} is more than ${limits.maxNonceGap} ahead of the sender's next executable nonce ${next}`,
      );
    }
    return undefined;
  }

  // ------------------------------------------------------------------ selection and commit
  function reap(l: ReapLimits): TxEnvelope[] {
    sweep(clock());
    for (const lane of sortedLanes) lane.fair.head = lane.ready.head;
    const picked = selectFair(
      fairLanes,
      l,
      (e) => e.bytes,
      (e) => e.lNext,
    );
    const out: TxEnvelope[] = [];
    for (const lanePicks of picked) {
      for (const e of lanePicks) {
        out.push(e.tx);
        byObject.set(e.tx, e);
      }
    }
    return out;
  }

  function update(height: number, committed: TxEnvelope[]): void {
    const now = clock();
    const touched = new Map<SenderState, bigint>();
    const block: CommittedBlock = { height, at: now, keys: new Array<string>(committed.length).fill('') };
    for (let i = 0; i < committed.length; i++) {
      const tx = committed[i]!;
      let e = byObject.get(tx);
      if (e !== undefined && !e.live) e = undefined;
      let key: string;
      if (e !== undefined) {
        key = e.key;
      } else {
        if (!Number.isInteger(tx?.namespace) || !(tx.payload instanceof Uint8Array)) continue;
        key = txKey(tx);
        e = entries.get(key);
      }
      if (e !== undefined) {
        removeEntry(e);
        e.lane.counters.waitSeconds.observe(Math.max(0, now - e.arrivedMs) / 1000);
        const st = e.sender;
        if (st) {
          const prev = touched.get(st);
          if (prev === undefined || e.nonce > prev) touched.set(st, e.nonce);
        }
      } else {
        const lane = lanes.get(tx.namespace);
        // Classifying costs (an EVM signature recovery is ~1 ms): only when this lane has senders
        // with pending transactions whose nonces the commit may use up. Idle senders' nonces come
        // from `accountNonce` (the executor's committed state) when they next appear.
        if (lane?.classified && lane.senders > 0) {
          let c: ReturnType<Classifier>;
          try {
            c = classify!(tx);
          } catch {
            c = undefined;
          }
          if (c !== undefined && !('error' in c)) {
            const skey = senderKey(lane, c.sender);
            const st = senders.get(skey);
            if (st) {
              const prev = touched.get(st);
              if (prev === undefined || c.nonce > prev) touched.set(st, c.nonce);
            } else {
              const cached = senderBaseCache.get(skey);
              if (cached === undefined || c.nonce + 1n > cached) senderBaseCache.set(skey, c.nonce + 1n);
            }
          }
        }
      }
      block.keys[i] = key;
      setFinal(key, block, now);
      committedKeys.set(key, true);
    }
    for (const [st, maxNonce] of touched) {
      if (maxNonce + 1n > st.base) st.base = maxNonce + 1n;
      normalizeSender(st, height, now);
    }
    sweep(now);
    noteCommit(now, committed.length);
    log.debug({ height, committed: committed.length, pending: totalTxs }, 'mempool updated');
  }

  /**
   * Track the commit rate over the last RATE_WINDOW_MS and size the RPC backlog limit from it. The
   * limit only moves when blocks commit: if the chain stalls, the pool fills up to the last limit and
   * then refuses, which is what a stalled chain should do.
   */
  function noteCommit(now: number, count: number): void {
    if (limits.maxBacklogSeconds <= 0) return;
    if (firstCommitAt < 0) firstCommitAt = now;
    commitTimes.push(now);
    commitCounts.push(count);
    while (commitTimes.length > 0 && commitTimes[0]! <= now - RATE_WINDOW_MS) {
      commitTimes.shift();
      commitCounts.shift();
    }
    let sum = 0;
    for (const c of commitCounts) sum += c;
    const spanMs = Math.max(1000, Math.min(RATE_WINDOW_MS, now - firstCommitAt));
    commitRate = (sum * 1000) / spanMs;
    backlogLimit = Math.max(limits.minBacklogTxs, Math.ceil(commitRate * limits.maxBacklogSeconds));
  }

  function status(hash: Uint8Array): TxStatus {
    sweep(clock());
    const key = keyOfHash(hash);
    if (key === undefined) return { status: 'unknown' };
    if (entries.has(key)) return { status: 'pending' };
    const r = finals.get(key);
    if (r === undefined) return { status: 'unknown' };
    if ('keys' in r) return { status: 'committed', height: r.height, index: r.keys.indexOf(key) };
    return r.status;
  }

  return {
    add,
    reap,
    update,
    status,
    reinject(txs) {
      return txs.map((tx) => add(tx, 'reinject'));
    },
    get(hash) {
      const key = keyOfHash(hash);
      return key === undefined ? undefined : entries.get(key)?.tx;
    },
    has(hash) {
      const key = keyOfHash(hash);
      return key !== undefined && entries.has(key);
    },
    pendingHashes() {
      const out: Uint8Array[] = [];
      for (let e = gHead; e !== null; e = e.gNext) out.push(e.hash);
      return out;
    },
    invalidate(hash, message) {
      const key = keyOfHash(hash);
      const e = key === undefined ? undefined : entries.get(key);
      if (!e) return false;
      drop(e, 'invalid', message, clock());
      return true;
    },
    prune() {
      sweep(clock());
    },
    nextNonce(namespace, sender) {
      const lane = lanes.get(namespace);
      if (lane === undefined || !lane.classified) return undefined;
      const key = senderKey(lane, sender);
      const st = senders.get(key);
      return st !== undefined ? st.next : accountNonceOf(lane, sender, key);
    },
    onAdmit(listener) {
      listeners.push(listener);
    },
    stats() {
      return {
        txs: totalTxs,
        bytes: totalBytes,
        ...(Number.isFinite(backlogLimit) ? { backlogLimit } : {}),
        lanes: sortedLanes.map((l) => ({ namespace: l.namespace, txs: l.txs, bytes: l.bytes })),
      };
    },
  };
}
