/**
 * What the rest of the node reads of the auction (RPC `ordo_getAuction` / `ordo_getAccount` /
 * `ordo_getAuctionInfo`, the dashboard, the CLI through RPC) and the admission check the ingress runs on
 * an auction-namespace transaction. Implemented by the auction's state machine (wired in src/node); the
 * readers depend only on this interface, so they never reach into the ledger or the bid book.
 *
 * Amounts are bigint here; the RPC renders them as decimal strings (they may exceed 2^53 in sums).
 */

import type { AuctionTx } from '../types.ts';
import type { BidInvalidReason } from './errors.ts';
import type { AccountView } from './ledger.ts';
import type { AuctionParams } from './params.ts';

/** The auction's configuration from genesis. */
export interface AuctionInfo {
  enabled: boolean;
  params: AuctionParams;
  /** Reserve price per rollup namespace (rollups without one: 0). */
  reserves: ReadonlyMap<number, bigint>;
  /** Treasury account (ed25519 public key) per rollup namespace. */
  treasuries: ReadonlyMap<number, Uint8Array>;
  depositAuthority: Uint8Array;
  forfeitSink: Uint8Array;
  /** The deposit authority's next deposit nonce, as of the applied height. */
  nextDepositNonce: number;
  /** The last height whose auction transactions and settlement the state has applied. */
  appliedHeight: number;
}

/** A ledger account as read by clients. */
export interface AccountInfo extends AccountView {
  account: Uint8Array;
  /** The account's next withdrawal nonce. */
  withdrawNonce: number;
  /** False when the ledger has never seen the account (all balances zero). */
  known: boolean;
}

/** One revealed bid of a slot as read by clients. */
export interface SlotBidView {
  bidder: Uint8Array;
  amount: bigint;
  namespaces: number[];
  bundleHash: Uint8Array;
  commitment: Uint8Array;
  commitHeight: number;
  revealHeight: number;
  /** Undefined when the bid took part in the resolution. */
  invalid?: BidInvalidReason;
  /**
   * What the bid forfeited at settlement because its bundle failed (BUNDLE_FAILS; auction.failPenaltyBps,
   * ADR 0320): paid from its locked amount to its rollups' treasuries. Absent when it paid nothing.
   */
  penalty?: bigint;
}

/** One sold rollup top of a resolved slot. */
export interface SlotWinnerView {
  namespace: number;
  bidder: Uint8Array;
  commitment: Uint8Array;
  bundleHash: Uint8Array;
  /** The winner's whole price (over all its rollups) and this rollup's share. */
  price: bigint;
  proceeds: bigint;
  treasury: Uint8Array;
}

/** A slot (height) of the auction. */
export interface AuctionSlotView {
  height: number;
  /** True once the block at `height` is committed (its outcome settled); false while commits/reveals gather. */
  resolved: boolean;
  /** Commits included so far for the slot, and how many were revealed. */
  commits: number;
  reveals: number;
  /** Revealed bids in consensus order, each with its validity verdict once resolved. */
  bids: SlotBidView[];
  /** Sorted by namespace; empty when nothing was sold (or not resolved yet). */
  winners: SlotWinnerView[];
  /** Commits never revealed (their bonds forfeited at resolution). */
  forfeited: number;
  /** header.auctionHash of the committed block (resolved slots only). */
  auctionHash?: Uint8Array;
}

export interface AuctionReadView {
  info(): AuctionInfo;
  /** Undefined for a height the state has no record of (too old: pruned after commitHorizon + 64 slots, or far future). */
  slot(height: number): AuctionSlotView | undefined;
  account(account: Uint8Array): AccountInfo;
  /**
   * Admission of an auction-namespace transaction at the current head: decodes nothing (the caller
   * decoded it), checks signatures, windows against the next height, nonces and funds as far as the
   * state knows them. Throws AuctionError with a stable code (AUCTION_MALFORMED, AUCTION_BAD_SIGNATURE,
   * AUCTION_OUT_OF_WINDOW, AUCTION_COMMITMENT_MISMATCH, LEDGER_INSUFFICIENT_FUNDS, …) and a message
   * that says what was wrong.
   */
  check(tx: AuctionTx): void;
  /** Called after each height's auction state is applied (the slot resolved at that height). */
  onApplied(listener: (height: number) => void): () => void;
}
