/**
 * Work-conserving weighted fair selection of block space across rollup lanes (progressive filling).
 *
 * A lane's usage of a block is its dominant share: max(bytes taken / maxBytes, txs taken / maxTxs).
 * Repeatedly, the lane with the smallest usage / weight (ties: lower namespace) takes the next
 * transaction at the head of its FIFO queue. A lane leaves the race when its queue is exhausted or its
 * head does not fit the bytes still free (strict FIFO: a lane never skips its head). Budget a lane does
 * not need therefore flows to the others, and the result is the weighted max-min fair allocation up to
 * one transaction of granularity. Cost: O(selected x lanes-with-work), no allocation per step beyond
 * the output arrays.
 *
 * A lane may also carry a budget of its own (`maxCost`, with `costOf`): an EVM rollup's block gas limit
 * (ADR 0285). Its head leaves the lane's race when its cost does not fit what the lane has left, like a
 * head that does not fit the bytes; the budget is the lane's alone and does not enter its usage.
 */

/** One lane's queue as the selector sees it: a head and a way to walk forward. */
export interface FairLane<T> {
  namespace: number;
  weight: number;
  head: T | null;
  /** The lane's own budget for this selection, in `costOf` units (undefined: none). */
  maxCost?: number | undefined;
}

export interface FairLimits {
  maxBytes: number;
  maxTxs: number;
}

interface Cursor<T> {
  lane: FairLane<T>;
  next: T | null;
  bytes: number;
  txs: number;
  /** What is left of the lane's own budget (Infinity without one). */
  costLeft: number;
  invWeight: number;
  out: T[];
}

/**
 * Select per lane, in the order of `lanes` (callers pass them sorted by namespace). Returns one array
 * per lane, each a FIFO prefix of that lane's queue.
 */
export function selectFair<T>(
  lanes: readonly FairLane<T>[],
  limits: FairLimits,
  sizeOf: (t: T) => number,
  nextOf: (t: T) => T | null,
  costOf?: (t: T, lane: FairLane<T>) => number,
): T[][] {
  const result: T[][] = lanes.map(() => []);
  let remBytes = limits.maxBytes;
  let remTxs = Math.floor(limits.maxTxs);
  if (!(remBytes > 0) || !(remTxs > 0)) return result;
  const byteScale = Number.isFinite(limits.maxBytes) ? 1 / limits.maxBytes : 0;
  const txScale = Number.isFinite(limits.maxTxs) ? 1 / limits.maxTxs : 0;

  const active: Cursor<T>[] = [];
  for (let i = 0; i < lanes.length; i++) {
    const lane = lanes[i]!;
    if (lane.head === null) continue;
    active.push({
      lane,
      next: lane.head,
      bytes: 0,
      txs: 0,
      costLeft: lane.maxCost ?? Number.POSITIVE_INFINITY,
      invWeight: 1 / Math.max(lane.weight, 1e-9),
      out: result[i]!,
    });
  }

  while (remTxs > 0 && active.length > 0) {
    // The lane furthest below its weighted share goes next (active keeps namespace order for ties).
    let best = 0;
    let bestLevel = Number.POSITIVE_INFINITY;
    for (let i = 0; i < active.length; i++) {
      const c = active[i]!;
      const b = c.bytes * byteScale;
      const t = c.txs * txScale;
      const level = Math.max(b, t) * c.invWeight;
      if (level < bestLevel) {
        bestLevel = level;
        best = i;
      }
    }
    const c = active[best]!;
    const item = c.next!;
    const size = sizeOf(item);
    if (size > remBytes) {
      active.splice(best, 1);
      continue;
    }
    if (c.costLeft !== Number.POSITIVE_INFINITY && costOf !== undefined) {
      const cost = costOf(item, c.lane);
      if (cost > c.costLeft) {
        active.splice(best, 1);
        continue;
      }
      c.costLeft -= cost;
    }
    c.out.push(item);
    c.bytes += size;
    c.txs += 1;
    remBytes -= size;
    remTxs -= 1;
    c.next = nextOf(item);
    if (c.next === null) active.splice(best, 1);
  }
  return result;
}

/**
 * The weighted max-min fair allocation of a divisible capacity among demands (water-filling): every
 * lane gets min(demand, level x weight) with the level chosen so the capacity is used up or every
 * demand met. Used by the benchmark and tests as the reference the selector is measured against.
 */
export function weightedMaxMinFair(
  demands: readonly number[],
  weights: readonly number[],
  capacity: number,
): number[] {
  const alloc = demands.map(() => 0);
  let remaining = capacity;
  let open = demands.map((_, i) => i).filter((i) => demands[i]! > 0);
  while (open.length > 0 && remaining > 1e-12) {
    const wsum = open.reduce((s, i) => s + weights[i]!, 0);
    const level = remaining / wsum;
    const satisfied = open.filter((i) => demands[i]! - alloc[i]! <= level * weights[i]!);
    if (satisfied.length === 0) {
      for (const i of open) alloc[i] = alloc[i]! + level * weights[i]!;
      remaining = 0;
      break;
    }
    for (const i of satisfied) {
      remaining -= demands[i]! - alloc[i]!;
      alloc[i] = demands[i]!;
    }
    open = open.filter((i) => !satisfied.includes(i));
  }
  return alloc;
}
