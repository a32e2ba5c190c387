/**
 * Bundle load on a running network (issue #22), as `ordo testnet up --bundles-per-sec` and
 * `npm run bench:bundles` run it: plans signed single- and cross-rollup bundles over the executed rollups
 * (src/loadgen/bundles.ts), offers and follows them (bundle-sender.ts with the WebSocket status feed),
 * then reads every leg's effect back — EVM recipients with `eth_getBalance`, transfer recipients with
 * `ordo_getTransferAccount` — once the reading node has executed every height a bundle was committed at,
 * and runs the atomicity check. `summarizeBundleLoad` is the report shape (docs/testnet.md).
 */
import type { RollupKind } from '../types.ts';
import type { BundleStatusFeed } from './bundle-feed.ts';
import { WsBundleFeed } from './bundle-feed.ts';
import { type BundleSendReport, emptyBundleSendReport, type RpcCall, sendBundles } from './bundle-sender.ts';
import { type AtomicityReport, BundlePlanner, checkAtomicity, type PlannedBundle } from './bundles.ts';
import { summarize } from './stats.ts';

export interface BundleLoadOptions {
  urls: string[];
  chainId: string;
  rollups: { namespace: number; kind: RollupKind; evmChainId?: number }[];
  /** Demo account indices reserved for bundle senders (not used by the background load). */
  accounts: number[];
  rate: number;
  durationMs: number;
  crossShare: number;
  failShare: number;
  call: RpcCall;
  drainMs?: number;
  signal?: AbortSignal;
  /** Live figures: filled while the run goes. */
  into?: BundleSendReport;
  feed?: BundleStatusFeed;
  random?: () => number;
  /** The latest committed height (the planner's bundle window, `windowHeights` heights from it). */
  height?: () => number;
  /** Default 30. */
  windowHeights?: number;
}

/** Offer and follow bundles until the duration (or the signal) ends, then drain. */
export async function runBundleLoad(o: BundleLoadOptions): Promise<BundleSendReport> {
  const planner = new BundlePlanner({
    rollups: o.rollups,
    accounts: o.accounts,
    crossShare: o.crossShare,
    failShare: o.failShare,
    runId: `${Date.now()}-${Math.random().toString(16).slice(2, 8)}`,
    random: o.random ?? Math.random,
    chainId: o.chainId,
    ...(o.height !== undefined ? { window: { height: o.height, heights: o.windowHeights ?? 30 } } : {}),
  });
  const feed = o.feed ?? new WsBundleFeed();
  try {
    return await sendBundles({
      urls: o.urls,
      planner,
      rate: o.rate,
      durationMs: o.durationMs,
      call: o.call,
      feed,
      ...(o.drainMs !== undefined ? { drainMs: o.drainMs } : {}),
      ...(o.signal !== undefined ? { signal: o.signal } : {}),
      into: o.into ?? emptyBundleSendReport(),
    });
  } finally {
    if (o.feed === undefined) feed.close();
  }
}

export interface BundleEffectsCheck extends AtomicityReport {
  /** Legs whose effect could not be read (the read failed); their bundles are left out of the check. */
  unreadLegs: number;
  /** Settled bundles the sender did not keep (long runs): not checked. */
  notKept: number;
}

/**
 * Read every leg's effect from `url` (one node) and judge atomicity. Waits (at most `waitMs`) until that
 * node has executed `minHeight` (reads of a transfer account answer the executed height).
 */
export async function checkBundleEffects(
  url: string,
  sent: BundleSendReport,
  rollups: { namespace: number; kind: RollupKind }[],
  call: RpcCall,
  waitMs = 15_000,
  concurrency = 8,
): Promise<BundleEffectsCheck> {
  const base = url.replace(/\/+$/, '');
  const kindOf = new Map(rollups.map((r) => [r.namespace, r.kind]));
  const transferNs = rollups.find((r) => r.kind === 'transfer')?.namespace;
  if (transferNs !== undefined) {
    const probe = `0x${'00'.repeat(32)}`;
    for (const end = Date.now() + waitMs; Date.now() < end; ) {
      try {
        const a = (await call(base, 'ordo_getTransferAccount', [transferNs, probe], 5000)) as {
          height: number;
        };
        if (a.height >= sent.maxCommittedHeight) break;
      } catch {
        // not ready yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const balances = new Map<string, bigint>();
  const checkable: PlannedBundle[] = [];
  let unreadLegs = 0;
  const readLeg = async (l: PlannedBundle['legs'][number]): Promise<void> => {
    let v: bigint;
    if (kindOf.get(l.namespace) === 'evm') {
      const hex = (await call(
        `${base}/evm/${l.namespace}`,
        'eth_getBalance',
        [l.recipient, 'latest'],
        5000,
      )) as string;
      v = BigInt(hex);
    } else {
      const a = (await call(base, 'ordo_getTransferAccount', [l.namespace, `0x${l.recipient}`], 5000)) as {
        balance: string;
      };
      v = BigInt(a.balance);
    }
    balances.set(`${l.namespace}/${l.recipient}`, v);
  };
  // A few bundles at a time; one bundle's legs back to back (a bundle still pending could commit
  // between two reads of its legs: keep that window short).
  const queue = sent.bundles.map((x) => x.bundle);
  const worker = async (): Promise<void> => {
    for (let b = queue.shift(); b !== undefined; b = queue.shift()) {
      try {
        await Promise.all(b.legs.map(readLeg));
        checkable.push(b);
      } catch {
        unreadLegs += b.legs.length;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const r = checkAtomicity(checkable, (ns, to) => balances.get(`${ns}/${to}`) ?? 0n);
  return { ...r, unreadLegs, notKept: sent.notKept };
}

/** The bundle figures of a testnet report / status (docs/testnet.md "Bundle load"). */
export interface BundleLoadSummary {
  offeredPerSec: number;
  windowSec: number;
  offered: number;
  accepted: number;
  refused: number;
  refusedBy: Record<string, number>;
  /** Offers skipped because no sender account was free (the load is closed-loop, ADR 0351). */
  notSent: number;
  /** Offers due in the window but not made: every node's request budget was full (slow answers). */
  late: number;
  /** Sender slots (account × executed rollup) and how many bundles in flight held: most, mean. */
  senders: { accounts: number; slots: number; maxBusy: number; meanBusy: number };
  /** Accepted bundles per second over the window. */
  bundlesPerSec: number;
  applied: number;
  /** Committed, executed and voided in every rollup (rule 3). */
  voided: number;
  dropped: Record<string, number>;
  unsettled: number;
  /** applied / (applied + voided + dropped). */
  appliedShare: number;
  preconfirmMs: { count: number; p50: number; p90: number; p99: number };
  stagesMs: {
    accepted: { p50: number; p99: number };
    committedSeen: { p50: number; p99: number };
    preconfirmSeen: { p50: number; p99: number };
  };
  atomicity: BundleEffectsCheck | null;
}

const r1 = (x: number): number => Math.round(x * 10) / 10;

export function summarizeBundleLoad(
  s: BundleSendReport,
  offeredPerSec: number,
  windowSec: number,
  atomicity: BundleEffectsCheck | null,
): BundleLoadSummary {
  const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
  const finished = s.applied + s.reverted + dropped;
  const lat = summarize(s.preconfirmMs);
  const st = (xs: number[]) => {
    const q = summarize(xs);
    return { p50: r1(q.p50), p99: r1(q.p99) };
  };
  return {
    offeredPerSec,
    windowSec: r1(windowSec),
    offered: s.offered,
    accepted: s.accepted,
    refused: s.refused,
    refusedBy: { ...s.refusedBy },
    notSent: s.notSent,
    late: s.late,
    senders: {
      accounts: s.senderAccounts,
      slots: s.senderSlots,
      maxBusy: s.maxBusySlots,
      meanBusy: s.meanBusySlots,
    },
    bundlesPerSec: windowSec > 0 ? r1(s.accepted / windowSec) : 0,
    applied: s.applied,
    voided: s.reverted,
    dropped: { ...s.dropped },
    unsettled: s.unsettled,
    appliedShare: finished === 0 ? 0 : Math.round((s.applied / finished) * 1000) / 1000,
    preconfirmMs: { count: lat.count, p50: r1(lat.p50), p90: r1(lat.p90), p99: r1(lat.p99) },
    stagesMs: {
      accepted: st(s.stages.acceptedMs),
      committedSeen: st(s.stages.committedMs),
      preconfirmSeen: st(s.stages.preconfirmMs),
    },
    atomicity,
  };
}
