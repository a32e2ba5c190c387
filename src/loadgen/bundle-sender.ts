/**
 * Bundle load, the sending half (issue #22): offers `rate` bundles a second from a `BundlePlanner`
 * through JSON-RPC `ordo_sendBundle`, follows each through `ordo_getBundleStatus` until it is
 * pre-confirmed with an execution outcome or dropped, settles the planner (so senders' nonces follow
 * what applied) and measures submit → pre-confirmation latency. The RPC call is injected (`call`), so
 * the loop is tested without a node; `runLoad`'s callers pass `rpcCall`.
 *
 * NOT YET RUN against a real node: the endpoint arrives with the bundle API (bapi) after the merge.
 */
import { OrdoError } from '../errors.ts';
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
  /** How long after the offered window bundles are still followed. Default 10 s. */
  drainMs?: number;
  /** Status poll interval. Default 50 ms. */
  pollMs?: number;
  /** Per-call timeout. Default 5 s. */
  timeoutMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface BundleSendReport {
  offered: number;
  accepted: number;
  refused: number;
  applied: number;
  reverted: number;
  dropped: Record<string, number>;
  /** Still pending or committed without an outcome when the drain ended. */
  unsettled: number;
  /** Submit → pre-confirmation seen, per pre-confirmed bundle (ms). */
  preconfirmMs: number[];
  /** Every bundle that was accepted, with its outcome (for the atomicity checker). */
  bundles: { bundle: PlannedBundle; outcome: 'applied' | 'reverted' | 'dropped' | 'unsettled' }[];
}

interface StatusView {
  status?: string;
  reason?: string;
  execution?: { outcome?: string };
  preconfirmation?: unknown;
}

interface Flight {
  bundle: PlannedBundle;
  hash: string;
  url: string;
  sentAt: number;
  preconfAt?: number;
}

export async function sendBundles(o: BundleSendOptions): Promise<BundleSendReport> {
  if (o.urls.length === 0) throw new OrdoError('LOADGEN_NO_TARGET', 'bundle load needs at least one url');
  if (!(o.rate > 0)) throw new RangeError(`bundle rate must be > 0, got ${o.rate}`);
  const now = o.now ?? (() => performance.now());
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const pollMs = o.pollMs ?? 50;
  const timeoutMs = o.timeoutMs ?? 5000;
  const r: BundleSendReport = {
    offered: 0,
    accepted: 0,
    refused: 0,
    applied: 0,
    reverted: 0,
    dropped: {},
    unsettled: 0,
    preconfirmMs: [],
    bundles: [],
  };
  const flights: Flight[] = [];
  const start = now();
  const offerEnd = start + o.durationMs;
  const end = offerEnd + (o.drainMs ?? 10_000);
  const settle = (f: Flight, outcome: 'applied' | 'reverted' | 'dropped'): void => {
    o.planner.settled(f.bundle, outcome === 'applied');
    r.bundles.push({ bundle: f.bundle, outcome });
    flights.splice(flights.indexOf(f), 1);
  };
  // One loop: offer what the clock allows, then poll every bundle in flight once. Bounded by `end`
  // and by the number of poll intervals that fit before it.
  const maxRounds = Math.ceil((end - start) / Math.max(1, pollMs)) + 1;
  for (let round = 0; round < maxRounds && now() < end; round++) {
    const t = now();
    while (t < offerEnd && r.offered < Math.floor(((t - start) / 1000) * o.rate) + 1) {
      const b = o.planner.next();
      if (b === undefined) break; // every sender busy: offered load is capped by settled bundles
      r.offered++;
      const url = o.urls[r.offered % o.urls.length]!;
      try {
        const res = (await o.call(url, 'ordo_sendBundle', sendBundleParams(b), timeoutMs)) as {
          bundleHash?: string;
        };
        if (typeof res?.bundleHash !== 'string') throw new Error('no bundleHash in the answer');
        r.accepted++;
        flights.push({ bundle: b, hash: res.bundleHash, url, sentAt: t });
      } catch {
        r.refused++;
        o.planner.settled(b, false);
      }
    }
    if (t >= offerEnd && flights.length === 0) break;
    for (const f of [...flights]) {
      let s: StatusView;
      try {
        s = (await o.call(f.url, 'ordo_getBundleStatus', [f.hash], timeoutMs)) as StatusView;
      } catch {
        continue;
      }
      if (s.preconfirmation !== undefined && f.preconfAt === undefined) {
        f.preconfAt = now();
        r.preconfirmMs.push(f.preconfAt - f.sentAt);
      }
      if (s.status === 'dropped') {
        const why = s.reason ?? 'unknown';
        r.dropped[why] = (r.dropped[why] ?? 0) + 1;
        settle(f, 'dropped');
      } else if (s.status === 'committed' && s.execution?.outcome !== undefined) {
        if (s.execution.outcome === 'applied') r.applied++;
        else r.reverted++;
        settle(f, s.execution.outcome === 'applied' ? 'applied' : 'reverted');
      }
    }
    await sleep(pollMs);
  }
  r.unsettled = flights.length;
  for (const f of flights) r.bundles.push({ bundle: f.bundle, outcome: 'unsettled' });
  return r;
}
