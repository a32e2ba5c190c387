/**
 * Searcher load (issue #23): N demo bidders bid in every slot of the auction over the public JSON-RPC,
 * the way real searchers would, and the run reports what happened to their bids.
 *
 * Each new head height h (polled with `ordo_status`) opens slot s = h + 1 + commitOffset + lead: every bidder
 * plans a small bundle (a transfer leg from a demo transfer account it owns, through the bundle load's
 * `BundlePlanner`; an opaque leg when the network has no transfer rollup), draws a random amount between
 * the highest reserve and `maxAmount`, signs the bid (`signBid`) and sends the commit
 * (`ordo_sendBidCommit`). When the next block is in a slot's reveal window the reveals go out
 * (`ordo_sendBidReveal`, sent again on the next poll while the window is open when a node has not applied
 * the commit yet); once the slot is resolved (`ordo_getAuction`) each bid is classified: won (with
 * its price), lost, invalid (by reason), or not revealed in time. A bidder's transfer account is spent
 * only by a bid that won (its bundle ran at the top), which settles the planner's nonce.
 *
 * Also the request builders the CLI (`ordo bid`) shares: `commitParams`, `revealParams`, `bundleJson`.
 */
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import {
  type AuctionParams,
  revealWindow,
  type SignedCommit,
  type SignedReveal,
  signBid,
} from '../auction/index.ts';
import { bundleHash, canonicalBundle } from '../codec/index.ts';
import { DEMO_AUCTION_BIDDERS, demoAuctionSeed } from '../config/index.ts';
import { toHex } from '../crypto/index.ts';
import { rpcCall } from '../rpc/index.ts';
import type { Bundle, BundleAtomicity } from '../types.ts';
import { BundlePlanner, type PlannedBundle } from './bundles.ts';

const hx = (b: Uint8Array) => `0x${toHex(b)}`;

/** A bundle as `ordo_sendBundle` / `ordo_sendBidReveal` take it (atomicity explicit, so its hash is fixed). */
export interface BundleJson {
  legs: { namespace: number; txs: string[] }[];
  atomicity: BundleAtomicity;
}

export function bundleJson(
  legs: { namespace: number; tx: Uint8Array }[],
  atomicity: BundleAtomicity,
): BundleJson {
  return { legs: legs.map((l) => ({ namespace: l.namespace, txs: [hx(l.tx)] })), atomicity };
}

/** The canonical Bundle of a `BundleJson` (what the node hashes). */
export function bundleOf(j: BundleJson): Bundle {
  return canonicalBundle({
    legs: j.legs.map((l) => ({
      namespace: l.namespace,
      txs: l.txs.map((t) => Uint8Array.from(Buffer.from(t.slice(2), 'hex'))),
      revertingTxHashes: [],
    })),
    atomicity: j.atomicity,
    minHeight: 0,
    maxHeight: 0,
    replacementUuid: new Uint8Array(0),
    signer: new Uint8Array(0),
    signature: new Uint8Array(0),
  });
}

export function commitParams(c: SignedCommit): Record<string, unknown> {
  return { slot: c.slot, bidder: hx(c.bidder), commitment: hx(c.commitment), signature: hx(c.signature) };
}

export function revealParams(r: SignedReveal, bundle: unknown): Record<string, unknown> {
  return {
    slot: r.slot,
    bidder: hx(r.bidder),
    amount: r.amount.toString(),
    bundle,
    salt: hx(r.salt),
    signature: hx(r.signature),
  };
}

/** `ordo_getAuctionInfo`'s answer as the searchers use it. */
export interface AuctionInfoJson {
  enabled: boolean;
  /**
   * maxTopBytes / maxTopTxs / maxSimGas / failPenaltyBps / bidderSimShareBps are absent from nodes before
   * ADRs 0295 / 0296 / 0320 / 0321.
   */
  params?: Omit<
    AuctionParams,
    'forfeitFee' | 'maxTopBytes' | 'maxTopTxs' | 'maxSimGas' | 'failPenaltyBps' | 'bidderSimShareBps'
  > & {
    forfeitFee: string;
    maxTopBytes?: number;
    maxTopTxs?: number;
    maxSimGas?: number;
    failPenaltyBps?: number;
    bidderSimShareBps?: number;
  };
  rollups?: { namespace: number; reservePrice: string }[];
  nextDepositNonce?: number;
  appliedHeight?: number;
}

/** `ordo_getAuction`'s answer (the parts read here). */
export interface AuctionSlotJson {
  height: number;
  enabled: boolean;
  resolved?: boolean;
  bids?: { commitment: string; amount: string; valid: boolean; reason?: string; penalty?: string }[];
  winners?: { namespace: number; commitment: string; price: string; proceeds: string }[];
}

/** What became of one bid once its slot resolved. */
export interface BidOutcome {
  result: 'won' | 'lost' | 'invalid' | 'unrevealed';
  /** The winner's whole price (won only). */
  price?: bigint;
  /** Proceeds per rollup it bought (won only). */
  proceeds?: { namespace: number; amount: bigint }[];
  reason?: string;
  /** What the bid forfeited because its bundle failed (invalid BUNDLE_FAILS only; ADR 0320). */
  penalty?: bigint;
}

/** Classify the bid with `commitment` (0x hex) in a resolved slot. */
export function bidOutcome(slot: AuctionSlotJson, commitment: string): BidOutcome {
  const c = commitment.toLowerCase();
  const won = (slot.winners ?? []).filter((w) => w.commitment.toLowerCase() === c);
  if (won.length > 0)
    return {
      result: 'won',
      price: BigInt(won[0]!.price),
      proceeds: won.map((w) => ({ namespace: w.namespace, amount: BigInt(w.proceeds) })),
    };
  const bid = (slot.bids ?? []).find((b) => b.commitment.toLowerCase() === c);
  if (bid === undefined) return { result: 'unrevealed' };
  if (!bid.valid)
    return {
      result: 'invalid',
      ...(bid.reason !== undefined ? { reason: bid.reason } : {}),
      ...(bid.penalty !== undefined ? { penalty: BigInt(bid.penalty) } : {}),
    };
  return { result: 'lost' };
}

type Call = (method: string, params: unknown[]) => Promise<unknown>;

export interface SearcherOptions {
  urls: string[];
  /** Demo bidders 0..searchers-1 (at most DEMO_AUCTION_BIDDERS). */
  searchers: number;
  durationSec: number;
  /** Slots of margin past the commit offset (default 2: slot = head + 1 + commitOffset + lead). */
  lead?: number;
  /** Largest amount drawn (default 1,000,000); the smallest is the highest reserve (at least 1). */
  maxAmount?: number;
  /** Demo transfer account indices for the bundles, split among the bidders (default 48..63). */
  bundleAccounts?: number[];
  /**
   * `transfer` (default when the network has a transfer rollup): bundles pay from demo transfer accounts;
   * `opaque`: one opaque leg (use it when a background load also spends the demo transfer accounts,
   * whose nonces the bidders would race).
   */
  legs?: 'transfer' | 'opaque';
  /** Head polling interval (default 100 ms). */
  pollMs?: number;
  /**
   * Follow the first node's `ordo_subscribe ["auction"]` over WebSocket (default: on unless `call` is
   * injected): each applied height wakes the loop at once, reveals go to that node (whose book has the
   * commits), and resolved slots come with the notification. With blocks shorter than the poll interval
   * a searcher that only polls misses most one-block reveal windows.
   */
  subscribe?: boolean;
  random?: () => number;
  onProgress?: (live: SearcherLive) => void;
  /** Told once the auction's parameters are read, before the first bid. */
  onStart?: (s: { chainId: string; head: number; legs: 'transfer' | 'opaque' }) => void;
  signal?: AbortSignal;
  /** Inject a JSON-RPC caller (tests); default `rpcCall` round-robin over `urls`. */
  call?: Call;
}

export interface SearcherLive {
  elapsedSec: number;
  head: number;
  commitsSent: number;
  commitsAdmitted: number;
  revealsAdmitted: number;
  slotsResolved: number;
  won: number;
}

export interface SearcherReport {
  searchers: number;
  durationSec: number;
  slotsBid: number;
  slotsResolved: number;
  /** Resolved slots with at least one valid revealed bid (the auction had real work), and that sold something. */
  slotsWithBids: number;
  slotsSold: number;
  /** Bids (commits) the node admitted (answered with a txHash), per second of the bidding window. */
  bidsPerSecAdmitted: number;
  /** Commits and reveals admitted per second. */
  auctionTxsPerSecAdmitted: number;
  commits: { sent: number; admitted: number; rejected: Record<string, number> };
  /** `rejected`: the last refusal of each reveal never admitted (retried while its window was open). */
  reveals: { sent: number; admitted: number; retries: number; rejected: Record<string, number> };
  outcomes: { won: number; lost: number; invalid: Record<string, number>; unrevealed: number };
  /** Winning prices (decimal strings): median and total; proceeds summed over rollups. */
  prices: { median: string; total: string };
  totalProceeds: string;
  /** Failure penalties the searchers' BUNDLE_FAILS bids paid (ADR 0320), decimal string. */
  totalPenalties: string;
  skipped: { noAccount: number; noFunds: number };
}

interface OpenBid {
  bidder: number;
  slot: number;
  commit: SignedCommit;
  reveal: SignedReveal;
  bundle: BundleJson;
  planned?: PlannedBundle;
  admitted: boolean;
  /** 'no': not sent (or to be sent again); 'sending': in flight; 'done': admitted or refused for good. */
  reveal_: 'no' | 'sending' | 'done';
  revealAdmitted: boolean;
  revealAttempts: number;
  lastRevealError?: string;
}

/**
 * Refusals of a reveal that may pass a moment later while its window is open: the commit is included but
 * this node has not applied it yet (the next call goes to another node), or the window opens with the
 * next block, or the node is busy.
 */
const RETRY_REVEAL = new Set([
  'AUCTION_COMMITMENT_MISMATCH',
  'AUCTION_OUT_OF_WINDOW',
  'OVERLOADED',
  'LANE_FULL',
  'MEMPOOL_FULL',
  'RPC_UNREACHABLE',
]);

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((res) => {
    const t = setTimeout(res, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        res();
      },
      { once: true },
    );
  });

function codeOf(err: unknown): string {
  const d = (err as { data?: { rpcData?: { code?: unknown } } }).data?.rpcData;
  if (d !== undefined && typeof d.code === 'string') return d.code;
  return (err as { code?: string }).code ?? 'ERROR';
}

/** Run the searcher load; resolves with the report once the duration passed and open slots resolved. */
export async function runSearchers(o: SearcherOptions): Promise<SearcherReport> {
  if (o.searchers < 1 || o.searchers > DEMO_AUCTION_BIDDERS)
    throw new RangeError(`searchers must be in 1..${DEMO_AUCTION_BIDDERS}`);
  let rr = 0;
  const call: Call =
    o.call ?? ((m, p) => rpcCall(o.urls[rr++ % o.urls.length] as string, m, p, 5000) as Promise<unknown>);
  const random = o.random ?? Math.random;
  const status = (await call('ordo_status', [])) as {
    chainId: string;
    height: number;
    rollups: { namespace: number; kind: string }[];
  };
  const info = (await call('ordo_getAuctionInfo', [])) as AuctionInfoJson;
  if (!info.enabled || info.params === undefined)
    throw new RangeError('the auction is not enabled on this network');
  const params = { ...info.params, forfeitFee: BigInt(info.params.forfeitFee) } as AuctionParams;
  const chainId = status.chainId;
  const transfer = o.legs === 'opaque' ? [] : status.rollups.filter((r) => r.kind === 'transfer');
  const opaque = status.rollups.find((r) => r.kind === 'opaque');
  const reserves = new Map((info.rollups ?? []).map((r) => [r.namespace, BigInt(r.reservePrice)]));
  const accounts = o.bundleAccounts ?? Array.from({ length: 16 }, (_, i) => 48 + i);
  const planners = Array.from({ length: o.searchers }, (_, b) =>
    transfer.length === 0
      ? undefined
      : new BundlePlanner({
          rollups: transfer.map((r) => ({ namespace: r.namespace, kind: 'transfer' as const })),
          accounts: accounts.filter((_, i) => i % o.searchers === b),
          crossShare: 0,
          failShare: 0,
          runId: `searcher-${chainId}-${Date.now()}-${b}`,
          random,
        }),
  );
  const seeds = Array.from({ length: o.searchers }, (_, i) => demoAuctionSeed(i));
  const lead = o.lead ?? 2;
  const maxAmount = BigInt(o.maxAmount ?? 1_000_000);
  const open = new Map<number, OpenBid[]>();
  const rep: SearcherReport = {
    searchers: o.searchers,
    durationSec: o.durationSec,
    slotsBid: 0,
    slotsResolved: 0,
    slotsWithBids: 0,
    slotsSold: 0,
    bidsPerSecAdmitted: 0,
    auctionTxsPerSecAdmitted: 0,
    commits: { sent: 0, admitted: 0, rejected: {} },
    reveals: { sent: 0, admitted: 0, retries: 0, rejected: {} },
    outcomes: { won: 0, lost: 0, invalid: {}, unrevealed: 0 },
    prices: { median: '0', total: '0' },
    totalProceeds: '0',
    totalPenalties: '0',
    skipped: { noAccount: 0, noFunds: 0 },
  };
  const prices: bigint[] = [];
  let proceeds = 0n;
  let penalties = 0n;
  const bump = (m: Record<string, number>, k: string) => {
    m[k] = (m[k] ?? 0) + 1;
  };

  const bidFor = (slot: number, b: number): OpenBid | undefined => {
    const planner = planners[b];
    let planned: PlannedBundle | undefined;
    let bundle: BundleJson;
    if (planner !== undefined) {
      planned = planner.next();
      if (planned === undefined) {
        rep.skipped.noAccount++;
        return undefined;
      }
      bundle = bundleJson(planned.legs, 'execution');
    } else if (opaque !== undefined) {
      const tx = new TextEncoder().encode(`ordo-searcher/${slot}/${b}/${toHex(randomBytes(8))}`);
      bundle = bundleJson([{ namespace: opaque.namespace, tx }], 'inclusion');
    } else return undefined;
    let reserve = 1n;
    for (const l of bundle.legs) {
      const r = reserves.get(l.namespace) ?? 0n;
      if (r > reserve) reserve = r;
    }
    const span = maxAmount > reserve ? maxAmount - reserve : 0n;
    const amount = reserve + BigInt(Math.floor(random() * Number(span + 1n)));
    const signed = signBid(chainId, seeds[b] as Uint8Array, {
      slot,
      amount,
      bundleHash: bundleHash(chainId, bundleOf(bundle)),
      salt: randomBytes(32),
    });
    return {
      bidder: b,
      slot,
      ...signed,
      bundle,
      ...(planned !== undefined ? { planned } : {}),
      admitted: false,
      reveal_: 'no',
      revealAdmitted: false,
      revealAttempts: 0,
    };
  };

  const settle = (bid: OpenBid, won: boolean) => {
    if (bid.planned !== undefined) planners[bid.bidder]?.settled(bid.planned, won);
  };

  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  let head = status.height;
  let lastBid = head - 1;
  let lastProgress = 0;
  const tasks = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    tasks.add(p);
    void p.finally(() => tasks.delete(p));
  };

  const resolving = new Set<number>();
  const resolveSlot = async (slot: number, bids: OpenBid[]) => {
    if (resolving.has(slot)) return;
    resolving.add(slot);
    try {
      await resolveOnce(slot, bids);
    } finally {
      resolving.delete(slot);
    }
  };
  const resolveOnce = async (slot: number, bids: OpenBid[]) => {
    const s = notified.get(slot) ?? ((await call('ordo_getAuction', [slot])) as AuctionSlotJson | null);
    if (s === null) {
      // Pruned or unknown: count the bids as unrevealed and free their accounts.
      for (const b of bids) settle(b, false);
      open.delete(slot);
      return;
    }
    if (s.resolved !== true) return;
    open.delete(slot);
    rep.slotsResolved++;
    if ((s.bids ?? []).some((b) => b.valid)) rep.slotsWithBids++;
    if ((s.winners ?? []).length > 0) rep.slotsSold++;
    for (const b of bids) {
      if (!b.admitted) {
        settle(b, false);
        continue;
      }
      if (!b.revealAdmitted) bump(rep.reveals.rejected, b.lastRevealError ?? 'NOT_SENT_IN_WINDOW');
      const out = bidOutcome(s, hx(b.commit.commitment));
      settle(b, out.result === 'won');
      if (out.result === 'won') {
        rep.outcomes.won++;
        prices.push(out.price ?? 0n);
        for (const p of out.proceeds ?? []) proceeds += p.amount;
      } else if (out.result === 'lost') rep.outcomes.lost++;
      else if (out.result === 'invalid') {
        bump(rep.outcomes.invalid, out.reason ?? 'UNKNOWN');
        penalties += out.penalty ?? 0n;
      } else rep.outcomes.unrevealed++;
    }
  };

  // Applied heights pushed by the first node (see `subscribe`): wake the loop, remember resolved slots.
  const notified = new Map<number, AuctionSlotJson>();
  let wake: (() => void) | undefined;
  let woken = false;
  let ws: WebSocket | undefined;
  const first = o.urls[0];
  // ORDO_SEARCHERS_POLL_ONLY=1 (bench:auction --searchers-poll-only): the polling searchers of before, for A/Bs.
  const subscribe = o.subscribe ?? (o.call === undefined && process.env.ORDO_SEARCHERS_POLL_ONLY !== '1');
  if (subscribe && first !== undefined) {
    const sock = new WebSocket(first.replace(/^http/, 'ws'));
    ws = sock;
    sock.on('open', () =>
      sock.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ordo_subscribe', params: ['auction'] })),
    );
    sock.on('message', (data) => {
      let m: { method?: string; params?: { result?: AuctionSlotJson } };
      try {
        m = JSON.parse(String(data)) as typeof m;
      } catch {
        return;
      }
      const r = m.params?.result;
      if (m.method !== 'ordo_subscription' || typeof r?.height !== 'number') return;
      if (r.resolved === true) notified.set(r.height, r);
      for (const k of notified.keys()) if (k < r.height - 256) notified.delete(k);
      if (r.height > head) {
        head = r.height;
        woken = true;
        wake?.();
      }
    });
    sock.on('error', () => {}); // polling goes on without it
  }
  // Reveals go to the node whose applied heights wake the loop: it has applied the commits.
  const revealCall: Call =
    ws !== undefined && first !== undefined ? (m, p) => rpcCall(first, m, p, 5000) as Promise<unknown> : call;
  /** Sleeps the poll interval, or less when a pushed height wakes the loop. */
  const pause = () =>
    new Promise<void>((res) => {
      const done = () => {
        clearTimeout(t);
        wake = undefined;
        o.signal?.removeEventListener('abort', done);
        res();
      };
      const t = setTimeout(done, o.pollMs ?? 100);
      wake = done;
      o.signal?.addEventListener('abort', done, { once: true });
    });

  const deadline = o.durationSec;
  let lastPoll = 0;
  o.onStart?.({ chainId, head, legs: transfer.length > 0 ? 'transfer' : 'opaque' });
  while (!o.signal?.aborted) {
    const bidding = elapsed() < deadline;
    if (!bidding && open.size === 0) break;
    if (!bidding && elapsed() > deadline + 30) break; // slots that never resolve: give up
    // A pushed height: reveals now; commits and the status poll keep the poll's pace.
    const polled = !woken || performance.now() - lastPoll >= (o.pollMs ?? 100);
    woken = false;
    if (polled) {
      lastPoll = performance.now();
      try {
        head = Math.max(head, ((await call('ordo_status', [])) as { height: number }).height);
      } catch {
        await sleep(o.pollMs ?? 100, o.signal);
        continue;
      }
    }
    // New slots: one bid per bidder for each height we have not bid at yet (at most one slot per poll).
    if (bidding && polled && head > lastBid) {
      lastBid = head;
      const slot = head + 1 + params.commitOffset + lead;
      const bids: OpenBid[] = [];
      for (let b = 0; b < o.searchers; b++) {
        const bid = bidFor(slot, b);
        if (bid !== undefined) bids.push(bid);
      }
      if (bids.length > 0) {
        open.set(slot, [...(open.get(slot) ?? []), ...bids]);
        rep.slotsBid++;
        for (const bid of bids) {
          rep.commits.sent++;
          track(
            call('ordo_sendBidCommit', [commitParams(bid.commit)]).then(
              () => {
                bid.admitted = true;
                rep.commits.admitted++;
              },
              (err) => {
                bump(rep.commits.rejected, codeOf(err));
                if (codeOf(err) === 'LEDGER_INSUFFICIENT_FUNDS') rep.skipped.noFunds++;
              },
            ),
          );
        }
      }
    }
    // Reveals whose window holds the next block; resolution of slots at or below the head.
    for (const [slot, bids] of open) {
      const w = revealWindow(slot, params);
      if (head + 1 >= w.first && head + 1 <= w.last) {
        for (const bid of bids) {
          if (!bid.admitted || bid.reveal_ !== 'no') continue;
          bid.reveal_ = 'sending';
          if (bid.revealAttempts++ === 0) rep.reveals.sent++;
          else rep.reveals.retries++;
          track(
            revealCall('ordo_sendBidReveal', [revealParams(bid.reveal, bid.bundle)]).then(
              () => {
                bid.reveal_ = 'done';
                bid.revealAdmitted = true;
                rep.reveals.admitted++;
              },
              (err) => {
                const code = codeOf(err);
                bid.lastRevealError = code;
                bid.reveal_ = RETRY_REVEAL.has(code) ? 'no' : 'done';
              },
            ),
          );
        }
      }
      if (slot <= head) track(resolveSlot(slot, bids).catch(() => {}));
    }
    if (o.onProgress !== undefined && elapsed() - lastProgress >= 1) {
      lastProgress = elapsed();
      o.onProgress({
        elapsedSec: Math.round(elapsed()),
        head,
        commitsSent: rep.commits.sent,
        commitsAdmitted: rep.commits.admitted,
        revealsAdmitted: rep.reveals.admitted,
        slotsResolved: rep.slotsResolved,
        won: rep.outcomes.won,
      });
    }
    await pause();
  }
  ws?.close();
  await Promise.allSettled([...tasks]);
  const secs = Math.min(elapsed(), deadline) || 1;
  rep.durationSec = Math.round(secs);
  rep.bidsPerSecAdmitted = Math.round((rep.commits.admitted / secs) * 10) / 10;
  rep.auctionTxsPerSecAdmitted = Math.round(((rep.commits.admitted + rep.reveals.admitted) / secs) * 10) / 10;
  prices.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  rep.prices = {
    median: (prices[prices.length >> 1] ?? 0n).toString(),
    total: prices.reduce((a, b) => a + b, 0n).toString(),
  };
  rep.totalProceeds = proceeds.toString();
  rep.totalPenalties = penalties.toString();
  return rep;
}
