/**
 * The auction's typed errors and the reasons a bid is refused. Resolution never throws on a bad bid:
 * it sets the bid aside with a `BidInvalidReason` (so every validator reports the same verdicts); the
 * ledger and the commit–reveal checks throw `AuctionError` with a stable code for bad input.
 */
import { OrdoError } from '../errors.ts';

/** Why a revealed bid takes no part in the resolution of its slot (docs/auction.md, "Validity"). */
export type BidInvalidReason =
  /** The bid names another slot than the one being resolved (a replay for another slot). */
  | 'WRONG_SLOT'
  /** Its commit was included in a block outside [h - commitOffset - commitHorizon, h - commitOffset]. */
  | 'COMMIT_OUT_OF_WINDOW'
  /** Its reveal was included outside [h - commitOffset + 1, h - revealOffset]. */
  | 'REVEAL_OUT_OF_WINDOW'
  /** The bundle names no rollup, or a rollup twice. */
  | 'BAD_NAMESPACES'
  /** The bundle names a rollup the genesis registry does not know. */
  | 'UNKNOWN_NAMESPACE'
  /** Amount is zero, not an integer, or above the u64 range. */
  | 'BAD_AMOUNT'
  /** Amount below the highest reserve price of the bid's rollups. */
  | 'BELOW_RESERVE'
  /** Amount above the bidder's available deposit (after its earlier bids for the slot are locked). */
  | 'ABOVE_DEPOSIT'
  /** The bidder already has maxBidsPerBidder bids for the slot. */
  | 'TOO_MANY_BIDS'
  /** A second reveal of the same commitment. */
  | 'DUPLICATE_BID'
  /** The bundle alone takes more than the slot's top budget (maxTopBytes, maxTopTxs): it could never win. */
  | 'BUNDLE_TOO_LARGE'
  /**
   * The outcome named the bid after the slot's simulation budget (maxSimGas) was spent on bids ranked
   * above it: its bundle was not simulated, so it cannot go at the top.
   */
  | 'SIM_BUDGET_EXHAUSTED'
  /** The bundle would not apply on the state the proposer builds on (the executor's verdict). */
  | 'BUNDLE_FAILS';

export type AuctionErrorCode =
  /** A parameter set that cannot work (e.g. a reveal window that ends before it starts). */
  | 'AUCTION_BAD_PARAMS'
  /** A commit or reveal with a bad signature. */
  | 'AUCTION_BAD_SIGNATURE'
  /** A reveal whose body does not hash to the commitment it claims. */
  | 'AUCTION_COMMITMENT_MISMATCH'
  /** A commit or reveal included in a block outside its window. */
  | 'AUCTION_OUT_OF_WINDOW'
  /** A field of a commit or reveal is malformed (length, range). */
  | 'AUCTION_MALFORMED'
  /** A deposit or withdrawal whose nonce is not the next one (already used, or too far ahead). */
  | 'AUCTION_BAD_NONCE'
  /** A commit beyond maxBidsPerBidder for its bidder and slot. */
  | 'AUCTION_TOO_MANY_BIDS'
  /** A commit or reveal already included (the same commitment twice). */
  | 'AUCTION_DUPLICATE'
  /** The auction state has not applied a height yet (a bounded wait ran out). */
  | 'AUCTION_NOT_APPLIED'
  /** The persisted auction state cannot be read back, or a block is applied out of order. */
  | 'AUCTION_STATE_INVALID'
  /** A ledger event that needs more funds than the account has available. */
  | 'LEDGER_INSUFFICIENT_FUNDS'
  /** A ledger event with a zero, negative or out-of-range amount. */
  | 'LEDGER_BAD_AMOUNT'
  /** A ledger event naming a lock that does not exist (settle, forfeit of an unknown bid). */
  | 'LEDGER_UNKNOWN_LOCK'
  /** A ledger event creating a lock that already exists (the same bid locked twice). */
  | 'LEDGER_DUPLICATE_LOCK'
  /** A settlement whose price exceeds the locked bid, or with no treasury to credit. */
  | 'LEDGER_BAD_SETTLEMENT'
  /** An outcome encoding that does not decode (size, layout). */
  | 'OUTCOME_MALFORMED';

export class AuctionError extends OrdoError<AuctionErrorCode> {
  constructor(code: AuctionErrorCode, message: string, data: Record<string, unknown> = {}) {
    super(code, message, data);
    this.name = 'AuctionError';
  }
}
