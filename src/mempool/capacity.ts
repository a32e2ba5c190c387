/**
 * Capacity: what the pool may hold and who makes room. Three rules, in order of admission:
 * - backlog (`Backlog`): RPC admissions are refused OVERLOADED while the pool holds more than
 *   `maxBacklogSeconds` of the recent commit rate (measured over RATE_WINDOW_MS);
 * - high water (`overHighWater`): RPC admissions are refused OVERLOADED above `highWaterFraction` of
 *   any capacity, lane or total, so gossip and re-injection always find room;
 * - eviction (`evictFor`): a full lane evicts its own oldest (held before ready); a full pool evicts the
 *   oldest of the lane furthest above its weighted share. Every operation is O(1) or O(work done)
 *   except cross-lane eviction, which scans the lanes.
 */
import type { Entry, Lane } from './entry.ts';
import type { MempoolLimits } from './limits.ts';
import type { PendingSet } from './pending.ts';

/** The commit rate behind admission control is measured over this window. */
const RATE_WINDOW_MS = 5_000;

export class Backlog {
  readonly #maxBacklogSeconds: number;
  readonly #minBacklogTxs: number;
  // The commits of the last RATE_WINDOW_MS (block time, tx count), oldest first.
  readonly #commitTimes: number[] = [];
  readonly #commitCounts: number[] = [];
  #firstCommitAt = -1;
  /** Pending count above which RPC admissions are refused; infinite when admission control is off. */
  limit: number;
  /** Transactions per second committed over the window. */
  rate = 0;

  constructor(limits: MempoolLimits) {
    this.#maxBacklogSeconds = limits.maxBacklogSeconds;
    this.#minBacklogTxs = limits.minBacklogTxs;
    this.limit = limits.maxBacklogSeconds > 0 ? limits.minBacklogTxs : Number.POSITIVE_INFINITY;
  }

  /**
   * Track the commit rate over the last RATE_WINDOW_MS and size the RPC backlog limit from it. The
   * limit only moves when blocks commit: if the chain stalls, the pool fills up to the last limit and
   * then refuses, which is what a stalled chain should do.
   */
  noteCommit(now: number, count: number): void {
    if (this.#maxBacklogSeconds <= 0) return;
    if (this.#firstCommitAt < 0) this.#firstCommitAt = now;
    this.#commitTimes.push(now);
    this.#commitCounts.push(count);
    while (this.#commitTimes.length > 0 && this.#commitTimes[0]! <= now - RATE_WINDOW_MS) {
      this.#commitTimes.shift();
      this.#commitCounts.shift();
    }
    let sum = 0;
    for (const c of this.#commitCounts) sum += c;
    const spanMs = Math.max(1000, Math.min(RATE_WINDOW_MS, now - this.#firstCommitAt));
    this.rate = (sum * 1000) / spanMs;
    this.limit = Math.max(this.#minBacklogTxs, Math.ceil(this.rate * this.#maxBacklogSeconds));
  }
}

/**
 * Would one more transaction of `size` bytes take the pool or the lane above the high-water mark? An
 * empty lane / pool always takes one transaction that fits, so OVERLOADED is never permanent.
 */
export function overHighWater(pool: PendingSet, lane: Lane, size: number, limits: MempoolLimits): boolean {
  const hw = limits.highWaterFraction;
  return (
    (pool.txs > 0 &&
      (pool.txs + 1 > limits.maxTotalTxs * hw || pool.bytes + size > limits.maxTotalBytes * hw)) ||
    (lane.txs > 0 && (lane.txs + 1 > lane.maxTxs * hw || lane.bytes + size > lane.maxBytes * hw))
  );
}

function oldestOf(lane: Lane): Entry | null {
  return lane.held.head ?? lane.ready.head;
}

/** The lane furthest above its weighted share of the total capacity, counting the incoming tx. */
function mostOverShare(lanes: readonly Lane[], incoming: Lane, size: number): Lane | null {
  let best: Lane | null = null;
  let bestRatio = -1;
  for (const l of lanes) {
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

/** Who drops an evicted entry with its final status (pool.ts). */
export interface Evictor {
  drop(victim: Entry, reason: 'evicted', message: string, now: number): void;
}

/**
 * Evict until a transaction of `size` bytes fits in `lane` and in the pool; `evictor` drops each victim
 * (status `evicted`). Returns the code of the capacity that cannot make room, or undefined.
 */
export function evictFor(
  pool: PendingSet,
  lanes: readonly Lane[],
  lane: Lane,
  size: number,
  limits: MempoolLimits,
  evictor: Evictor,
  now: number,
): 'LANE_FULL' | 'MEMPOOL_FULL' | undefined {
  while (lane.txs + 1 > lane.maxTxs || lane.bytes + size > lane.maxBytes) {
    const victim = oldestOf(lane);
    if (!victim) return 'LANE_FULL';
    evictor.drop(victim, 'evicted', `lane ${lane.namespace} full; oldest transaction evicted`, now);
  }
  while (pool.txs + 1 > limits.maxTotalTxs || pool.bytes + size > limits.maxTotalBytes) {
    const victimLane = mostOverShare(lanes, lane, size);
    const victim = victimLane ? oldestOf(victimLane) : null;
    if (!victim) return 'MEMPOOL_FULL';
    evictor.drop(
      victim,
      'evicted',
      `mempool full; oldest transaction of the lane furthest over its share evicted`,
      now,
    );
  }
  return undefined;
}
