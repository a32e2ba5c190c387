/**
 * The auction's parameters with their defaults (docs/auction.md, "Parameters"). Every validator must
 * run with the same values, so they come from genesis; `auctionParams` fills in the defaults and
 * refuses combinations that cannot work.
 */
import { AuctionError } from './errors.ts';

export interface AuctionParams {
  /** A commit for slot h is valid only in blocks <= h - commitOffset. */
  commitOffset: number;
  /** ... and only in blocks >= h - commitOffset - commitHorizon (bounds what a node keeps). */
  commitHorizon: number;
  /** A reveal for slot h is valid only in blocks h - commitOffset + 1 ..= h - revealOffset. */
  revealOffset: number;
  /** At most this many bids (commits) per bidder per slot. */
  maxBidsPerBidder: number;
  /** Withdrawals requested in block b are paid out at block b + withdrawDelay. */
  withdrawDelay: number;
  /** Bond locked by each commit; forfeited when the commit is never revealed in its window. */
  forfeitFee: bigint;
  /**
   * The winners' bundles of one slot together carry at most this many bytes, counted as the builder
   * counts a block's room (payload + 16 per transaction): resolution skips a bid that would overflow it,
   * so every proposer's block has room for every winner (ADR 0295).
   */
  maxTopBytes: number;
  /** ... and at most this many transactions. */
  maxTopTxs: number;
  /**
   * The EVM gas resolution may simulate for one slot: the gas the simulated bundles' EVM transactions
   * declare, summed. Every validator simulates the bids the outcome names on its main thread before it
   * can propose or vote; a bid named after the budget is spent is not simulated and takes no part
   * (SIM_BUDGET_EXHAUSTED), so failing bids cannot hold consensus (ADR 0296).
   */
  maxSimGas: number;
  /**
   * What a bid whose bundle fails (BUNDLE_FAILS, the bidder's fault) forfeits at settlement, in basis
   * points of its amount, rounded up: paid from its locked amount to the treasuries of the rollups it bid
   * for, like a winner's price. 0 = a failing bid costs nothing (before ADR 0320). Bids set aside for a
   * reason that is not the bidder's own bundle (SIM_BUDGET_EXHAUSTED, ...) pay nothing.
   */
  failPenaltyBps: number;
  /**
   * The share of maxSimGas one bidder's simulations may declare in one slot, in basis points (rounded
   * down to gas): a bid whose gas does not fit what its bidder has left of its share is not simulated
   * and takes no part (SIM_BUDGET_EXHAUSTED), so one bidder's failing bundles cannot spend the whole
   * budget and leave the bids below them unsimulated (ADR 0321). 0 = no per-bidder bound (before ADR 0321).
   */
  bidderSimShareBps: number;
}

/** A proposer builds at most 1 MiB - 2 KiB of transactions (the engine's build cap): the tops' ceiling. */
export const MAX_TOP_BYTES = 1024 * 1024 - 2048;
/** A proposer builds at most 10,000 transactions a block (the engine's build cap). */
export const MAX_TOP_TXS = 10_000;
/** The largest simulation budget a genesis may set (ten 30 M-gas blocks). */
export const MAX_SIM_GAS = 300_000_000;
/** failPenaltyBps at most forfeits the whole bid (10,000 basis points = 100 %). */
export const MAX_FAIL_PENALTY_BPS = 10_000;
/** bidderSimShareBps at most gives one bidder the whole simulation budget (10,000 = 100 %). */
export const MAX_BIDDER_SIM_SHARE_BPS = 10_000;

export const DEFAULT_AUCTION_PARAMS: Readonly<AuctionParams> = Object.freeze({
  commitOffset: 2,
  commitHorizon: 64,
  revealOffset: 1,
  maxBidsPerBidder: 5,
  withdrawDelay: 2,
  forfeitFee: 1_000n,
  maxTopBytes: 512 * 1024,
  maxTopTxs: 1_000,
  maxSimGas: 10_000_000,
  failPenaltyBps: 1_000,
  bidderSimShareBps: 1_000,
});

/** The largest amount a bid, deposit or price may have (amounts travel as u64). */
export const MAX_AMOUNT = (1n << 64n) - 1n;

/** Parameters with defaults filled in; throws AUCTION_BAD_PARAMS when they cannot work. */
export function auctionParams(p: Partial<AuctionParams> = {}): AuctionParams {
  const out: AuctionParams = { ...DEFAULT_AUCTION_PARAMS, ...p };
  const int = (name: keyof AuctionParams, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const v = out[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min} ... ${max}`;
      throw new AuctionError('AUCTION_BAD_PARAMS', `auction.${name} must be an integer ${range}`, {
        field: name,
        value: String(v),
      });
    }
  };
  int('revealOffset', 1);
  int('commitOffset', 2);
  int('commitHorizon', 0);
  int('maxBidsPerBidder', 1);
  int('withdrawDelay', 1);
  int('maxTopBytes', 1024, MAX_TOP_BYTES);
  int('maxTopTxs', 1, MAX_TOP_TXS);
  int('maxSimGas', 0, MAX_SIM_GAS);
  int('failPenaltyBps', 0, MAX_FAIL_PENALTY_BPS);
  int('bidderSimShareBps', 0, MAX_BIDDER_SIM_SHARE_BPS);
  if (out.commitOffset <= out.revealOffset) {
    throw new AuctionError(
      'AUCTION_BAD_PARAMS',
      'auction.commitOffset must exceed auction.revealOffset (the reveal window would be empty)',
      { commitOffset: out.commitOffset, revealOffset: out.revealOffset },
    );
  }
  if (typeof out.forfeitFee !== 'bigint' || out.forfeitFee < 0n || out.forfeitFee > MAX_AMOUNT) {
    throw new AuctionError('AUCTION_BAD_PARAMS', 'auction.forfeitFee must be a u64', {
      field: 'forfeitFee',
    });
  }
  return out;
}

/**
 * What a BUNDLE_FAILS bid of `amount` forfeits under `bps` basis points: ceil(amount × bps / 10,000), so
 * a non-zero rate never lets a failing bid go free, and never more than the amount (bps ≤ 10,000).
 */
export function failPenaltyOf(amount: bigint, bps: number): bigint {
  if (amount <= 0n || bps <= 0) return 0n;
  const p = (amount * BigInt(bps) + 9_999n) / 10_000n;
  return p > amount ? amount : p;
}

/**
 * The EVM gas one bidder's simulations may declare in one slot: floor(maxSimGas × bidderSimShareBps /
 * 10,000), or maxSimGas when bidderSimShareBps is 0 (no per-bidder bound, the rule before ADR 0321).
 */
export function bidderSimGasOf(params: Pick<AuctionParams, 'maxSimGas' | 'bidderSimShareBps'>): number {
  const bps = params.bidderSimShareBps;
  if (bps <= 0 || bps >= MAX_BIDDER_SIM_SHARE_BPS) return params.maxSimGas;
  return Math.floor((params.maxSimGas * bps) / MAX_BIDDER_SIM_SHARE_BPS);
}
