/**
 * The seam between the auction's state (the "book": ledger, commits and reveals per slot, built from
 * committed blocks in consensus order) and the resolution the builder runs for each slot
 * (src/builder/auction-source.ts). The book never simulates bundles and never reads a clock: the source
 * gives it each slot's resolution (with the embedded executor's verdicts folded in) when the block of
 * that slot commits, and the book settles it. See docs/auction.md, "Wiring".
 */
import type { Block, Bundle } from '../types.ts';
import type { PublishableBid } from './outcome.ts';
import type { BidCandidate, InvalidBid, Resolution } from './resolve.ts';
import type { AuctionReadView } from './view.ts';

/** A revealed bid as the book holds it: a validity candidate with the reveal it came from. */
export interface RevealedBid extends BidCandidate, PublishableBid {
  /** The bid's bundle in full (the winners' bundles go to the tops of their rollups' slices). */
  bundle: Bundle;
}

/** What the resolution of one slot reads from the book (valid once height slot - 1 is applied). */
export interface SlotInputs {
  slot: number;
  /** Every reveal for the slot that opened a commit, in consensus order (blocks <= slot - 1). */
  candidates: RevealedBid[];
  /** The bidder's funds validateBids may lock for this slot's bids (before any of them is locked). */
  available(bidder: Uint8Array): bigint;
}

/** A slot's resolution, as the source computed it and the header's auctionHash commits to. */
export interface ResolvedSlot {
  slot: number;
  invalid: InvalidBid<RevealedBid>[];
  resolution: Resolution<RevealedBid>;
  /** header.auctionHash of the slot's block (kind 1, or kind 0 when the auction is disabled). */
  auctionHash: Uint8Array;
  /**
   * How many bids' verdicts came from the embedded executor (0 or absent: none). A slot resolved with
   * the executor cannot be resolved again once the executor has moved past slot - 1, so the book makes
   * its record durable before execution goes on (docs/auction.md "State and persistence").
   */
  simulations?: number;
}

export interface AuctionBook extends AuctionReadView {
  /** The last height applied (genesis: 0). */
  appliedHeight(): number;
  /** Resolves once `height` is applied; rejects with a timeout error after `timeoutMs`. */
  whenApplied(height: number, timeoutMs: number): Promise<void>;
  /** Inputs of slot `slot`'s resolution; throws unless appliedHeight() >= slot - 1. */
  inputs(slot: number): SlotInputs;
  /**
   * Applies committed block `block` (height h = appliedHeight() + 1): its auction-namespace transactions
   * in order, then the settlement of slot h from `resolved` (winners pay, proceeds to treasuries,
   * unrevealed commits forfeit, every other lock of the slot released, due withdrawals paid out), then
   * persists, atomically per height, so a kill -9 never loses or double-spends a deposit.
   */
  apply(block: Block, resolved: ResolvedSlot): Promise<void>;
}
