/**
 * Bundle load, the sending half (issue #22): offers `rate` bundles a second from a `BundlePlanner`
 * through JSON-RPC `ordo_sendBundle` (sends are not serialised; over the feed's WebSocket when there is
 * one), follows each
 * until it is pre-confirmed with an execution outcome or dropped, settles the planner (so senders'
 * nonces follow what applied) and measures submit → pre-confirmation latency and its stages (submit →
 * accepted, → committed seen, → pre-confirmation seen). With a `feed` (src/loadgen/bundle-feed.ts) a
 * bundle is followed by the WebSocket subscription `ordo_subscribe ["bundleStatus", hash]`, with one
 * `ordo_getBundleStatus` right after subscribing (a change before the subscription is not lost) and a
 * slow fallback poll; without one, by polling `ordo_getBundleStatus` every `pollMs`. The RPC call and the
 * feed are injected, so the loop is tested without a node.
 */
import { OrdoError } from '../errors.ts';
import type { BundleStatusFeed, BundleStatusJson } from './bundle-feed.ts';
import type { BundlePlanner, PlannedBundle } from './bundles.ts';
import { sendBundleParams } from './bundles.ts';

export type RpcCall = (url: string, method: string, params: unknown[], timeoutMs: number) => Promise<unknown>;

export interface BundleSendOptions {
  urls: string[];
  planner: BundlePlanner;
  /** Bundles offered per second. */
  rate: number;
  durationMs: number;
  call: RpcCall;
  /** Status subscriptions; without it statuses are polled every `pollMs`. */
  feed?: BundleStatusFeed;
  /** How long after the offered window bundles are still followed. Default 10 s. */
  drainMs?: number;
  /** Status poll interval: without a feed default 50 ms; with one (fallback poll) default 1,000 ms. */
  pollMs?: number;
  /** Per-call timeout. Default 5 s. */
  timeoutMs?: number;
  /**
   * Requests (sends and polls) in flight at most. Default without a feed 64 (HTTP: below the node's
   * per-address connection cap); with one, 32 per url (each node's requests share one WebSocket, which
   * the node lets carry `rpc.maxWsRequestsInFlight`, 64, at once).
   */
  maxInFlightRequests?: number;
  /**
   * Requests in flight to one url at most. Default with a feed 32, without one `maxInFlightRequests`.
   * A send goes to the next url in turn with room: one slow node neither takes the whole budget (its
   * WebSocket refused the excess `TOO_MANY_IN_FLIGHT`) nor holds back the sends to the others.
   */
  maxInFlightPerUrl?: number;
  /** Stops the run early (the drain still follows what was sent, bounded by `drainMs`). */
  signal?: AbortSignal;
  /** Fill this report as the run goes (callers read live figures from it). */
  into?: BundleSendReport;
  /** Settled bundles kept in `bundles` for the atomicity check; later ones are only counted. Default 200,000. */
  maxKept?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Per pre-confirmed bundle, ms from the submit call: accepted, committed seen, pre-confirmation seen. */
export interface BundleStages {
  acceptedMs: number[];
  committedMs: number[];
  preconfirmMs: number[];
}

export interface BundleSendReport {
  offered: number;
  accepted: number;
  refused: number;
  /** Refusals by error message prefix (data.code when the node gave one). */
  refusedBy: Record<string, number>;
  /** Offers skipped because every sender account was busy in the rollups the bundle would touch. */
  notSent: number;
  /**
   * Offers due in the offered window but not made when it ended, because every url's request budget
   * was full (the nodes answered too slowly); neither offered nor `notSent`.
   */
  late: number;
  /**
   * Sender slots (account × executed rollup), the most held at once by bundles in flight, and their mean
   * over the offered window: with `notSent` > 0, a mean near `senderSlots` says the closed loop ran out
   * of senders (rate × legs × time to settle > slots), a mean well below says the offers came in bursts.
   */
  senderAccounts: number;
  senderSlots: number;
  maxBusySlots: number;
  meanBusySlots: number;
  applied: number;
  reverted: number;
  dropped: Record<string, number>;
  /** Still pending or committed without an outcome when the drain ended. */
  unsettled: number;
  /** Submit → pre-confirmation seen, per pre-confirmed bundle (ms). */
  preconfirmMs: number[];
  /** The stages of each pre-confirmed bundle's latency (same order as `preconfirmMs`). */
  stages: BundleStages;
  /** Every bundle that was accepted, with its outcome (for the atomicity checker), up to `maxKept`. */
  bundles: { bundle: PlannedBundle; outcome: 'applied' | 'reverted' | 'dropped' | 'unsettled' }[];
  /** Settled bundles not kept in `bundles` (past `maxKept`). */
  notKept: number;
  /** Highest height a followed bundle was committed at (the atomicity check waits for its execution). */
  maxCommittedHeight: number;
}

/** An empty report (callers that read live figures pass one as `into`). */
export function emptyBundleSendReport(): BundleSendReport {
  return {
    offered: 0,
    accepted: 0,
    refused: 0,
    refusedBy: {},
    notSent: 0,
    late: 0,
    senderAccounts: 0,
    senderSlots: 0,
    maxBusySlots: 0,
    meanBusySlots: 0,
    applied: 0,
    reverted: 0,
    dropped: {},
    unsettled: 0,
    preconfirmMs: [],
    stages: { acceptedMs: [], committedMs: [], preconfirmMs: [] },
    bundles: [],
    notKept: 0,
    maxCommittedHeight: 0,
  };
}

interface Flight {
  bundle: PlannedBundle;
  hash: string;
  url: string;
  sentAt: number;
  ackAt: number;
  committedAt?: number;
  lastHeard: number;
  done: boolean;
  unsubscribe?: () => void;
}

function refusalKey(err: unknown): string {
  const data = (err as { data?: { rpcData?: { code?: unknown } } })?.data?.rpcData;
  if (typeof data?.code === 'string') return data.code;
  const m = err instanceof Error ? err.message : String(err);
  return m.slice(0, 40);
}

export async function sendBundles(o: BundleSendOptions): Promise<BundleSendReport> {
  if (o.urls.length === 0) throw new OrdoError('LOADGEN_NO_TARGET', 'bundle load needs at least one url');
  if (!(o.rate > 0)) throw new RangeError(`bundle rate must be > 0, got ${o.rate}`);
  const now = o.now ?? (() => performance.now());
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const feed = o.feed;
  const pollMs = o.pollMs ?? (feed === undefined ? 50 : 1000);
  const timeoutMs = o.timeoutMs ?? 5000;
  const maxRequests = o.maxInFlightRequests ?? (feed === undefined ? 64 : 32 * o.urls.length);
  const perUrl = o.maxInFlightPerUrl ?? (feed === undefined ? maxRequests : 32);
  const r: BundleSendReport = o.into ?? emptyBundleSendReport();
  const maxKept = o.maxKept ?? 200_000;
  const flights = new Set<Flight>();
  let requests = 0;
  /** Requests in flight by url (sends and polls). */
  const byUrl = new Map<string, number>(o.urls.map((u) => [u, 0]));
  const begin = (url: string): void => {
    requests++;
    byUrl.set(url, (byUrl.get(url) ?? 0) + 1);
  };
  const done = (url: string): void => {
    requests--;
    byUrl.set(url, (byUrl.get(url) ?? 1) - 1);
  };
  const room = (url: string, budget: number): boolean => (byUrl.get(url) ?? 0) < budget;
  r.senderAccounts = o.planner.slots.accounts;
  r.senderSlots = o.planner.slots.total;
  let nextUrl = 0;
  /** The next url in turn whose budget has room, or undefined when every url is full. */
  const pickUrl = (): string | undefined => {
    for (let k = 0; k < o.urls.length; k++) {
      const u = o.urls[(nextUrl + k) % o.urls.length]!;
      if (room(u, perUrl)) {
        nextUrl = (nextUrl + k + 1) % o.urls.length;
        return u;
      }
    }
    return undefined;
  };
  const start = now();
  const offerEnd = start + o.durationMs;
  const end = offerEnd + (o.drainMs ?? 10_000);

  const onStatus = (f: Flight, s: BundleStatusJson): void => {
    if (f.done) return;
    const t = now();
    f.lastHeard = t;
    if (s.status === 'committed' && f.committedAt === undefined) f.committedAt = t;
    if (s.status === 'committed' && s.height !== undefined && s.height > r.maxCommittedHeight)
      r.maxCommittedHeight = s.height;
    if (s.status === 'dropped') {
      const why = s.reason ?? 'unknown';
      r.dropped[why] = (r.dropped[why] ?? 0) + 1;
      finish(f, 'dropped');
    } else if (s.status === 'committed' && s.execution?.outcome !== undefined) {
      if (s.preconfirmation !== undefined && r.preconfirmMs.length < maxKept) {
        r.preconfirmMs.push(t - f.sentAt);
        r.stages.acceptedMs.push(f.ackAt - f.sentAt);
        r.stages.committedMs.push((f.committedAt ?? t) - f.sentAt);
        r.stages.preconfirmMs.push(t - f.sentAt);
      }
      if (s.execution.outcome === 'applied') r.applied++;
      else r.reverted++;
      finish(f, s.execution.outcome === 'applied' ? 'applied' : 'reverted');
    }
  };
  const finish = (f: Flight, outcome: 'applied' | 'reverted' | 'dropped'): void => {
    f.done = true;
    f.unsubscribe?.();
    o.planner.settled(f.bundle, outcome === 'applied');
    if (r.bundles.length < maxKept) r.bundles.push({ bundle: f.bundle, outcome });
    else r.notKept++;
    flights.delete(f);
  };
  const read = async (f: Flight): Promise<void> => {
    try {
      const call = feed?.request?.bind(feed) ?? o.call;
      onStatus(f, (await call(f.url, 'ordo_getBundleStatus', [f.hash], timeoutMs)) as BundleStatusJson);
    } catch {
      // a failed read is retried at the next poll interval
    }
  };
  const poll = async (f: Flight): Promise<void> => {
    begin(f.url);
    try {
      await read(f);
    } finally {
      done(f.url);
    }
  };
  /** One bundle's send, subscribe and first read, in one slot of its url's budget. */
  const offer = async (b: PlannedBundle, url: string): Promise<void> => {
    begin(url);
    try {
      const sentAt = now();
      let hash: string;
      try {
        const send = feed?.request?.bind(feed) ?? o.call;
        const res = (await send(url, 'ordo_sendBundle', sendBundleParams(b), timeoutMs)) as {
          bundleHash?: string;
        };
        if (typeof res?.bundleHash !== 'string') throw new Error('no bundleHash in the answer');
        hash = res.bundleHash;
      } catch (err) {
        r.refused++;
        const k = refusalKey(err);
        r.refusedBy[k] = (r.refusedBy[k] ?? 0) + 1;
        o.planner.settled(b, false);
        return;
      }
      r.accepted++;
      const t = now();
      const f: Flight = { bundle: b, hash, url, sentAt, ackAt: t, lastHeard: t, done: false };
      flights.add(f);
      if (feed === undefined) return;
      try {
        const unsub = await feed.subscribe(url, hash, (s) => onStatus(f, s));
        if (f.done) unsub();
        else f.unsubscribe = unsub;
      } catch {
        return; // followed by the fallback poll
      }
      // A change between the send's answer and the subscription is not notified: read it once.
      if (!f.done) await read(f);
    } finally {
      done(url);
    }
  };

  let lastPoll = start;
  /** Offers due so far (the offered load is a fixed rate from the start). */
  const due = (t: number): number => Math.floor(((Math.min(t, offerEnd) - start) / 1000) * o.rate) + 1;
  let wasOffering = true;
  /** Busy sender slots integrated over the offered window (slot·ms), sampled once a loop. */
  let busyArea = 0;
  let lastTick = start;
  const stopOffering = (t: number): void => {
    wasOffering = false;
    r.late = Math.max(0, due(t) - 1 - r.offered - r.notSent);
    const span = Math.min(t, offerEnd) - start;
    r.meanBusySlots = span > 0 ? Math.round(busyArea / span) : 0;
  };
  while (true) {
    const t = now();
    if (t >= end) break;
    const offering = t < offerEnd && o.signal?.aborted !== true;
    if (wasOffering && !offering) stopOffering(t);
    if (offering) {
      const busy = o.planner.slots.busy;
      busyArea += busy * (t - lastTick);
      if (busy > r.maxBusySlots) r.maxBusySlots = busy;
    }
    lastTick = t;
    // Draining: bundles built to fail and not committed are expected to stay pending (the proposers leave
    // them out and they have no maxHeight), so they do not hold the drain.
    if (
      !offering &&
      requests === 0 &&
      [...flights].every((f) => f.bundle.builtToFail && f.committedAt === undefined)
    )
      break;
    while (offering && r.offered + r.notSent < due(t)) {
      if (requests >= maxRequests) break;
      const url = pickUrl();
      if (url === undefined) break; // every node's budget full: sent when answers free it (or `late`)
      const b = o.planner.next();
      if (b === undefined) {
        r.notSent++; // every sender busy: offered load is capped by settled bundles
        continue;
      }
      r.offered++;
      void offer(b, url);
    }
    if (t - lastPoll >= pollMs) {
      lastPoll = t;
      // While offering, fallback polls take at most half the request budget: on a slow node every
      // bundle between submit and commit is silent for seconds, and polling them all must not hold
      // every slot and starve the sends.
      const pollBudget = offering ? Math.max(1, Math.floor(maxRequests / 2)) : maxRequests;
      const pollPerUrl = offering ? Math.max(1, Math.floor(perUrl / 2)) : perUrl;
      for (const f of flights) {
        if (requests >= pollBudget) break;
        if (t - f.lastHeard >= pollMs && room(f.url, pollPerUrl)) void poll(f);
      }
    }
    await sleep(feed === undefined ? pollMs : Math.min(pollMs, 5));
  }
  if (wasOffering) stopOffering(now());
  r.unsettled = flights.size;
  for (const f of flights) {
    f.unsubscribe?.();
    if (r.bundles.length < maxKept) r.bundles.push({ bundle: f.bundle, outcome: 'unsettled' });
    else r.notKept++;
  }
  return r;
}
