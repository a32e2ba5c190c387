/**
 * The dashboard's bundles and auction feeds (testnet/dashboard/index.html, panels "Bundles" and
 * "Auction"), read from one running node by the orchestrator's poll, never blocking it:
 *
 *   bundles   GET /metrics on the node's RPC port: ordo_bundles_committed_total, ordo_bundles_pending,
 *             ordo_exec_bundles_total{outcome="applied"|"reverted"} and the ordo_bundle_preconfirm_seconds
 *             histogram. Rates are counter deltas between scrapes of the same node (a switch to another
 *             node or a counter reset starts over); pre-confirmation p50/p99 are estimated from the
 *             histogram's bucket deltas over the last ~10 s, interpolated within a bucket as Prometheus'
 *             histogram_quantile does.
 *   auction   `ordo_getAuction [height]` per committed height (docs/rpc.md): the per-slot bids, winners,
 *             prices and proceeds, the failure penalties its failing bids paid (ADR 0320) and how many
 *             bids were not simulated for want of budget (SIM_BUDGET_EXHAUSTED, ADRs 0296 / 0321). A node without the method (-32601) or with the auction off in genesis
 *             (`{enabled: false}`) makes the feed "disabled" with the reason; the panel says so.
 */
import { RpcCallError, rpcCall } from '../src/rpc/index.ts';

// ------------------------------------------------------------------ Prometheus text

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A scrape larger than this is not parsed (a node's /metrics is tens of KiB). */
export const MAX_METRICS_BYTES = 4 * 1024 * 1024;

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of the metrics whose names start with one of `prefixes` (exposition format 0.0.4). */
export function parsePrometheusText(text: string, prefixes: readonly string[]): MetricSample[] {
  if (text.length > MAX_METRICS_BYTES) return [];
  const out: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || !prefixes.some((p) => line.startsWith(p))) continue;
    const m = LINE.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!;
    const value = m[3] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[3]);
    if (!Number.isNaN(value)) out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/**
 * The q-quantile of a histogram's observations given cumulative bucket counts `[upperBound, count]`
 * sorted by bound (the last one +Inf), linearly interpolated within the bucket; null without any.
 */
export function histogramQuantile(q: number, buckets: readonly [number, number][]): number | null {
  const total = buckets[buckets.length - 1]?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, count] of buckets) {
    if (count >= rank) {
      if (bound === Number.POSITIVE_INFINITY) return prevBound;
      if (count === prevCount) return bound;
      return prevBound + ((bound - prevBound) * (rank - prevCount)) / (count - prevCount);
    }
    prevBound = bound;
    prevCount = count;
  }
  return prevBound;
}

// ------------------------------------------------------------------ bundles

interface BundleScrape {
  t: number;
  committed: number;
  pending: number;
  applied: number;
  reverted: number;
  /** Cumulative buckets of ordo_bundle_preconfirm_seconds, `[le seconds, count]`, sorted. */
  buckets: [number, number][];
}

export interface BundleSample {
  t: number;
  bundlesPerSec: number;
  appliedPerSec: number;
  revertedPerSec: number;
  pending: number;
  preconfirmP50Ms: number | null;
  preconfirmP99Ms: number | null;
}

export interface BundleFeedJSON {
  /** The node the figures come from (null before the first scrape). */
  source: string | null;
  totals: {
    committed: number;
    applied: number;
    reverted: number;
    pending: number;
    preconfirmed: number;
  } | null;
  samples: BundleSample[];
}

export function bundleScrape(text: string, t: number): BundleScrape {
  const s = parsePrometheusText(text, [
    'ordo_bundles_',
    'ordo_exec_bundles_total',
    'ordo_bundle_preconfirm_',
  ]);
  const one = (name: string): number => s.find((x) => x.name === name)?.value ?? 0;
  const outcome = (o: string): number =>
    s.find((x) => x.name === 'ordo_exec_bundles_total' && x.labels.outcome === o)?.value ?? 0;
  const buckets = s
    .filter((x) => x.name === 'ordo_bundle_preconfirm_seconds_bucket' && x.labels.le !== undefined)
    .map((x): [number, number] => [
      x.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(x.labels.le),
      x.value,
    ])
    .sort((a, b) => a[0] - b[0]);
  return {
    t,
    committed: one('ordo_bundles_committed_total'),
    pending: one('ordo_bundles_pending'),
    applied: outcome('applied'),
    reverted: outcome('reverted'),
    buckets,
  };
}

const RATE_WINDOW_MS = 5_000;
const LATENCY_WINDOW_MS = 10_000;

export class BundleFeed {
  readonly #max: number;
  readonly #samples: BundleSample[] = [];
  /** Recent scrapes of the current source node, oldest first. */
  #recent: BundleScrape[] = [];
  #source: string | null = null;

  constructor(maxSamples = 300) {
    this.#max = maxSamples;
  }

  /** One scrape of `source`'s /metrics at time `t` (ms). */
  update(source: string, text: string, t: number): void {
    const cur = bundleScrape(text, t);
    const last = this.#recent[this.#recent.length - 1];
    const reset =
      last !== undefined &&
      (cur.committed < last.committed || cur.applied < last.applied || cur.reverted < last.reverted);
    if (source !== this.#source || reset) this.#recent = [];
    this.#source = source;
    this.#recent.push(cur);
    while (this.#recent.length > 0 && this.#recent[0]!.t < t - LATENCY_WINDOW_MS - 1_500)
      this.#recent.shift();
    const base = this.#recent.find((x) => x.t >= t - RATE_WINDOW_MS - 500) ?? cur;
    if (base === cur) return; // first scrape of this node: no rate yet
    const secs = (cur.t - base.t) / 1000;
    const old = this.#recent[0]!;
    const window = cur.buckets.map(([le, n]): [number, number] => [
      le,
      n - (old.buckets.find((b) => b[0] === le)?.[1] ?? 0),
    ]);
    const ms = (q: number): number | null => {
      const v = histogramQuantile(q, window);
      return v === null ? null : Math.round(v * 1000);
    };
    const rate = (f: (x: BundleScrape) => number): number =>
      Math.round(((f(cur) - f(base)) / secs) * 10) / 10;
    this.#samples.push({
      t,
      bundlesPerSec: rate((x) => x.committed),
      appliedPerSec: rate((x) => x.applied),
      revertedPerSec: rate((x) => x.reverted),
      pending: cur.pending,
      preconfirmP50Ms: ms(0.5),
      preconfirmP99Ms: ms(0.99),
    });
    if (this.#samples.length > this.#max) this.#samples.shift();
  }

  toJSON(): BundleFeedJSON {
    const cur = this.#recent[this.#recent.length - 1];
    return {
      source: this.#source,
      totals:
        cur === undefined
          ? null
          : {
              committed: cur.committed,
              applied: cur.applied,
              reverted: cur.reverted,
              pending: cur.pending,
              preconfirmed: cur.buckets[cur.buckets.length - 1]?.[1] ?? 0,
            },
      samples: [...this.#samples],
    };
  }
}

// ------------------------------------------------------------------ auction

export interface AuctionSlotView {
  height: number;
  resolved: boolean;
  commits: number;
  reveals: number;
  forfeited: number;
  bids: number;
  validBids: number;
  winners: { namespace: number; bidder: string; price: string; proceeds: string }[];
  totalProceeds: string;
  /** The bids that paid a failure penalty (BUNDLE_FAILS, ADR 0320), in the node's order. */
  penalties: { bidder: string; amount: string; penalty: string }[];
  /** What they paid together (decimal; "0" when none or from a node before ADR 0320). */
  totalPenalties: string;
  /** Bids not simulated because the slot's budget or their bidder's share of it was spent. */
  simSkipped: number;
}

export interface AuctionFeedJSON {
  status: 'unknown' | 'disabled' | 'enabled';
  reason: string | null;
  /** Newest first. */
  slots: AuctionSlotView[];
}

export type RpcFn = (url: string, method: string, params: unknown[], timeoutMs: number) => Promise<unknown>;

const METHOD_NOT_FOUND = -32601;
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const DECIMAL = /^[0-9]{1,20}$/;
const count = (v: unknown): number => (Array.isArray(v) ? v.length : typeof v === 'number' ? v : 0);

/** An `ordo_getAuction` result of an enabled auction as the panel shows it; null when malformed. */
export function auctionSlotView(r: unknown): AuctionSlotView | null {
  if (typeof r !== 'object' || r === null) return null;
  const o = r as Record<string, unknown>;
  if (typeof o.height !== 'number') return null;
  const bids = Array.isArray(o.bids) ? (o.bids as Record<string, unknown>[]) : [];
  const winners = Array.isArray(o.winners) ? (o.winners as Record<string, unknown>[]) : [];
  return {
    height: o.height,
    resolved: o.resolved === true,
    commits: count(o.commits),
    reveals: count(o.reveals),
    forfeited: count(o.forfeited),
    bids: bids.length,
    validBids: bids.filter((b) => b?.valid === true).length,
    winners: winners.map((w) => ({
      namespace: Number(w?.namespace ?? 0),
      bidder: str(w?.bidder),
      price: str(w?.price),
      proceeds: str(w?.proceeds),
    })),
    totalProceeds: str(o.totalProceeds) || '0',
    penalties: bids
      .filter((b) => DECIMAL.test(str(b?.penalty)))
      .map((b) => ({ bidder: str(b.bidder), amount: str(b.amount), penalty: str(b.penalty) })),
    totalPenalties: DECIMAL.test(str(o.totalPenalties)) ? str(o.totalPenalties) : '0',
    simSkipped: bids.filter((b) => b?.reason === 'SIM_BUDGET_EXHAUSTED').length,
  };
}

export class AuctionFeed {
  readonly #rpc: RpcFn;
  readonly #keep: number;
  #status: AuctionFeedJSON['status'] = 'unknown';
  #reason: string | null = null;
  readonly #slots = new Map<number, AuctionSlotView>();
  #next = 1;

  constructor(rpc: RpcFn = rpcCall, keep = 20) {
    this.#rpc = rpc;
    this.#keep = keep;
  }

  /** Read the slots up to `height` from the node at `url` (at most `maxCalls` requests). */
  async poll(url: string, height: number, maxCalls = 5): Promise<void> {
    if (height < 1) return;
    const want: number[] = [];
    if (this.#status !== 'enabled') {
      want.push(height);
    } else {
      for (const [h, s] of this.#slots) if (!s.resolved) want.push(h);
      for (let h = Math.max(this.#next, height - this.#keep + 1); h <= height; h++)
        if (!want.includes(h)) want.push(h);
    }
    // Newest first: a node far ahead is shown from its tip, older slots fill in on later polls.
    want.sort((a, b) => b - a);
    for (const h of want.slice(0, maxCalls)) {
      let r: unknown;
      try {
        r = await this.#rpc(url, 'ordo_getAuction', [h], 900);
      } catch (err) {
        if (err instanceof RpcCallError && err.rpcCode === METHOD_NOT_FOUND) {
          this.#disable(
            'the nodes have no ordo_getAuction method (the auction is not built into this version)',
          );
        }
        return; // unreachable or another error: keep what is shown, try again next poll
      }
      if (r === null) continue; // unknown or pruned height
      if (typeof r === 'object' && (r as { enabled?: unknown }).enabled === false) {
        this.#disable("the auction is off in this chain's genesis (genesis.auction.enabled)");
        return;
      }
      const view = auctionSlotView(r);
      if (view === null) continue;
      this.#status = 'enabled';
      this.#reason = null;
      this.#slots.set(view.height, view);
      if (view.resolved) this.#next = Math.max(this.#next, view.height + 1);
    }
    const keep = [...this.#slots.keys()].sort((a, b) => b - a).slice(this.#keep);
    for (const h of keep) this.#slots.delete(h);
  }

  #disable(reason: string): void {
    this.#status = 'disabled';
    this.#reason = reason;
    this.#slots.clear();
  }

  toJSON(): AuctionFeedJSON {
    return {
      status: this.#status,
      reason: this.#reason,
      slots: [...this.#slots.values()].sort((a, b) => b.height - a.height),
    };
  }
}

// ------------------------------------------------------------------ both, for the orchestrator

/** Polls one node for both feeds; a poll still running when the next is due is not doubled. */
export class MarketFeed {
  readonly bundles = new BundleFeed();
  readonly auction: AuctionFeed;
  #busy = false;

  constructor(rpc?: RpcFn) {
    this.auction = new AuctionFeed(rpc);
  }

  /** Start a poll of `node` (its RPC base URL and committed height) unless one is in flight. */
  tick(node: { id: string; rpc: string; height: number }): void {
    if (this.#busy) return;
    this.#busy = true;
    void Promise.all([this.#scrape(node), this.auction.poll(node.rpc, node.height)])
      .catch(() => undefined)
      .finally(() => {
        this.#busy = false;
      });
  }

  async #scrape(node: { id: string; rpc: string }): Promise<void> {
    try {
      const res = await fetch(`${node.rpc.replace(/\/$/, '')}/metrics`, { signal: AbortSignal.timeout(900) });
      const len = Number(res.headers.get('content-length') ?? 0);
      if (!res.ok || len > MAX_METRICS_BYTES) {
        await res.body?.cancel();
        return;
      }
      this.bundles.update(node.id, await res.text(), Date.now());
    } catch {
      // unreachable or slow: the next poll tries again
    }
  }
}
