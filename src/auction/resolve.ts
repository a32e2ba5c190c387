/**
 * Resolution of one slot's auction, pure and deterministic (docs/auction.md, "Resolution" and
 * "Pricing"): every validator runs it on the same consensus-ordered reveals and gets the same winners
 * and prices, so the proposer of h has nothing to choose.
 *
 * 1. `validateBids` walks the revealed bids in consensus order and sets aside the invalid ones with a
 *    reason (wrong slot, windows, reserve, deposit, more than maxBidsPerBidder, a failing bundle).
 * 2. `resolveSlot` ranks the valid bids by amount (descending), ties by keccak256(bidder || commitment)
 *    (ascending), and picks winners greedily: a bid wins when none of its rollups is taken yet and its
 *    bundle fits what the winners above it left of the slot's top budget (maxTopBytes, maxTopTxs; ADR
 *    0295). A bid's rollups are the namespaces of its bundle's legs, all or nothing.
 * 3. Each winner pays the least amount that would still have won: the amount of the highest bid it
 *    displaced — the first bid, in rank order below it, that the greedy run WITHOUT the winner would have
 *    chosen and the real run did not (it shares a rollup with the winner, or the winner took the budget
 *    it needed) — and never less than the highest reserve price of its rollups. With nothing displaced
 *    (a lone bidder) it pays that reserve.
 *
 * Bids are opaque to this module beyond `Bid`'s fields: callers may pass richer objects (signed reveals)
 * and get the same objects back.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { TX_OVERHEAD_BYTES } from '../codec/index.ts';
import { latin1Key } from '../crypto/index.ts';
import type { Bundle } from '../types.ts';
import { commitInWindow, revealInWindow } from './commit-reveal.ts';
import type { BidInvalidReason } from './errors.ts';
import { type AuctionParams, MAX_AMOUNT } from './params.ts';

/** A revealed bid as resolution sees it. */
export interface Bid {
  /** ed25519 public key, 32 bytes. */
  bidder: Uint8Array;
  amount: bigint;
  /** The namespaces of the bundle's legs (each once). */
  namespaces: number[];
  /** The commitment the reveal opened (unique per bid). */
  commitment: Uint8Array;
  bundleHash: Uint8Array;
  /** What the bundle takes of a block's room (`topSizeOf`); absent = nothing (resolution ignores it). */
  size?: TopSize;
}

/** What a bundle takes of a block's room, counted as the builder counts it. */
export interface TopSize {
  bytes: number;
  txs: number;
}

/** The slot's top budget: what the winners' bundles together may take (AuctionParams maxTop*). */
export interface TopBudget {
  maxBytes: number;
  maxTxs: number;
}

/** A bundle's size at the top: its transactions' payload bytes + TX_OVERHEAD_BYTES each, and their count. */
export function topSizeOf(bundle: Bundle): TopSize {
  let bytes = 0;
  let txs = 0;
  for (const leg of bundle.legs) {
    for (const tx of leg.txs) bytes += tx.byteLength + TX_OVERHEAD_BYTES;
    txs += leg.txs.length;
  }
  return { bytes, txs };
}

/** The top budget AuctionParams give. */
export function topBudgetOf(params: AuctionParams): TopBudget {
  return { maxBytes: params.maxTopBytes, maxTxs: params.maxTopTxs };
}

/** A revealed bid with what validity needs: its slot and the heights of its commit and reveal. */
export interface BidCandidate extends Bid {
  slot: number;
  commitHeight: number;
  revealHeight: number;
  /** The embedded executor's verdict on the bundle (undefined: not checked here, e.g. opaque rollups). */
  bundleApplies?: boolean;
  /** Not simulated: the slot's simulation budget was spent before the outcome named it. */
  simSkipped?: boolean;
}

export interface ValidationContext {
  params: AuctionParams;
  /** Reserve price of a rollup from genesis; undefined = the rollup is not in the registry. */
  reserve(namespace: number): bigint | undefined;
  /** The bidder's deposit available for this slot's bids, before any of them is locked. */
  available(bidder: Uint8Array): bigint;
}

export interface InvalidBid<B> {
  bid: B;
  reason: BidInvalidReason;
}

export interface Validated<B> {
  /** In consensus order. */
  valid: B[];
  invalid: InvalidBid<B>[];
}

/** Sets aside the bids of `candidates` (consensus order) that may not take part in slot `slot`. */
export function validateBids<B extends BidCandidate>(
  slot: number,
  candidates: readonly B[],
  ctx: ValidationContext,
): Validated<B> {
  const valid: B[] = [];
  const invalid: InvalidBid<B>[] = [];
  const seen = new Set<string>();
  const counts = new Map<string, number>();
  const locked = new Map<string, bigint>();
  for (const bid of candidates) {
    const reason = check(bid);
    if (reason === undefined) valid.push(bid);
    else invalid.push({ bid, reason });
  }
  return { valid, invalid };

  function check(bid: B): BidInvalidReason | undefined {
    if (bid.slot !== slot) return 'WRONG_SLOT';
    const ck = latin1Key(bid.commitment);
    if (seen.has(ck)) return 'DUPLICATE_BID';
    seen.add(ck);
    const who = latin1Key(bid.bidder);
    const n = (counts.get(who) ?? 0) + 1;
    counts.set(who, n);
    if (n > ctx.params.maxBidsPerBidder) return 'TOO_MANY_BIDS';
    if (!commitInWindow(slot, bid.commitHeight, ctx.params)) return 'COMMIT_OUT_OF_WINDOW';
    if (bid.revealHeight <= bid.commitHeight || !revealInWindow(slot, bid.revealHeight, ctx.params)) {
      return 'REVEAL_OUT_OF_WINDOW';
    }
    if (typeof bid.amount !== 'bigint' || bid.amount <= 0n || bid.amount > MAX_AMOUNT) return 'BAD_AMOUNT';
    if (bid.namespaces.length === 0 || new Set(bid.namespaces).size !== bid.namespaces.length) {
      return 'BAD_NAMESPACES';
    }
    let reserve = 0n;
    for (const ns of bid.namespaces) {
      const r = ctx.reserve(ns);
      if (r === undefined) return 'UNKNOWN_NAMESPACE';
      if (r > reserve) reserve = r;
    }
    if (bid.amount < reserve) return 'BELOW_RESERVE';
    const size = bid.size;
    if (size !== undefined && (size.bytes > ctx.params.maxTopBytes || size.txs > ctx.params.maxTopTxs)) {
      return 'BUNDLE_TOO_LARGE';
    }
    if (bid.simSkipped === true) return 'SIM_BUDGET_EXHAUSTED';
    if (bid.bundleApplies === false) return 'BUNDLE_FAILS';
    const already = locked.get(who) ?? 0n;
    if (already + bid.amount > ctx.available(bid.bidder)) return 'ABOVE_DEPOSIT';
    locked.set(who, already + bid.amount);
    return undefined;
  }
}

/** One winner of a slot. */
export interface Winner<B> {
  bid: B;
  /** What it pays: max(displaced amount, highest reserve of its rollups); never above bid.amount. */
  price: bigint;
  /** The highest bid it displaced (sets the price when above the reserve); undefined when none. */
  displaced: B | undefined;
}

export interface Resolution<B> {
  slot: number;
  /** In rank order; their namespace sets are pairwise disjoint. */
  winners: Winner<B>[];
  /** Every valid bid in rank order (amount desc, then keccak tie-break asc). */
  ranked: B[];
}

/** keccak256(bidder || commitment): the tie-break key (lower ranks first). */
export function tieBreakKey(bid: Bid): Uint8Array {
  const buf = new Uint8Array(bid.bidder.byteLength + bid.commitment.byteLength);
  buf.set(bid.bidder, 0);
  buf.set(bid.commitment, bid.bidder.byteLength);
  return keccak_256(buf);
}

/** Rank order: amount descending, then tie-break key ascending (bytewise). */
export function rankBids<B extends Bid>(bids: readonly B[]): B[] {
  const keyed = bids.map((bid) => ({ bid, key: Buffer.from(tieBreakKey(bid)) }));
  keyed.sort((a, b) => {
    if (a.bid.amount !== b.bid.amount) return a.bid.amount > b.bid.amount ? -1 : 1;
    return Buffer.compare(a.key, b.key);
  });
  return keyed.map((k) => k.bid);
}

/**
 * Winners and prices of slot `slot` from its VALID bids (see validateBids). `reserve` gives each rollup's
 * reserve price (0 for a rollup without one); `top` bounds what the winners' bundles take together
 * (bids without a `size` take nothing; no `top`: no bound).
 */
export function resolveSlot<B extends Bid>(
  slot: number,
  validBids: readonly B[],
  reserve: (namespace: number) => bigint,
  top?: TopBudget,
): Resolution<B> {
  const ranked = rankBids(validBids);
  const budget = top ?? { maxBytes: Number.POSITIVE_INFINITY, maxTxs: Number.POSITIVE_INFINITY };
  const real = new Greedy(budget);
  const winnerIdx: number[] = [];
  for (let i = 0; i < ranked.length; i++) if (real.offer(ranked[i] as B)) winnerIdx.push(i);

  const winners: Winner<B>[] = [];
  const above = new Greedy(budget); // the winners ranked above the current one
  for (const i of winnerIdx) {
    const w = ranked[i] as B;
    // Greedy without w is identical to the real run above w; below it, replay both from the winners
    // above: the first bid the run without w takes and the run with w does not is the one w displaced.
    const without = above.copy();
    const withW = above.copy();
    withW.take(w);
    let displaced: B | undefined;
    for (let j = i + 1; j < ranked.length; j++) {
      const b = ranked[j] as B;
      if (!without.fits(b)) continue;
      if (!withW.offer(b)) {
        displaced = b;
        break;
      }
      without.take(b);
    }
    let price = displaced?.amount ?? 0n;
    for (const ns of w.namespaces) {
      const r = reserve(ns);
      if (r > price) price = r;
    }
    winners.push({ bid: w, price, displaced });
    above.take(w);
  }
  return { slot, winners, ranked };
}

/** One greedy run's state: the rollups taken and what is left of the top budget. */
class Greedy {
  readonly #taken: Set<number>;
  #bytes: number;
  #txs: number;

  constructor(budget: TopBudget, taken: Set<number> = new Set()) {
    this.#taken = taken;
    this.#bytes = budget.maxBytes;
    this.#txs = budget.maxTxs;
  }

  copy(): Greedy {
    return new Greedy({ maxBytes: this.#bytes, maxTxs: this.#txs }, new Set(this.#taken));
  }

  fits(bid: Bid): boolean {
    if (bid.namespaces.some((ns) => this.#taken.has(ns))) return false;
    return bid.size === undefined || (bid.size.bytes <= this.#bytes && bid.size.txs <= this.#txs);
  }

  take(bid: Bid): void {
    for (const ns of bid.namespaces) this.#taken.add(ns);
    if (bid.size !== undefined) {
      this.#bytes -= bid.size.bytes;
      this.#txs -= bid.size.txs;
    }
  }

  /** Takes `bid` when it fits; says whether it did. */
  offer(bid: Bid): boolean {
    if (!this.fits(bid)) return false;
    this.take(bid);
    return true;
  }
}

/**
 * How a winner's price is split over the treasuries of the rollups it bought (docs/auction.md,
 * "Proceeds"): equal shares, the remainder one unit each to the lowest namespaces. Sorted by namespace;
 * the shares sum to `price`.
 */
export function splitProceeds(
  price: bigint,
  namespaces: readonly number[],
): { namespace: number; share: bigint }[] {
  const sorted = [...namespaces].sort((a, b) => a - b);
  const n = BigInt(sorted.length);
  if (n === 0n) return [];
  const base = price / n;
  let rest = price - base * n;
  return sorted.map((namespace) => {
    const extra = rest > 0n ? 1n : 0n;
    rest -= extra;
    return { namespace, share: base + extra };
  });
}
