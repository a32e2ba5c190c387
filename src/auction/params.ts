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
}

export const DEFAULT_AUCTION_PARAMS: Readonly<AuctionParams> = Object.freeze({
  commitOffset: 2,
  commitHorizon: 64,
  revealOffset: 1,
  maxBidsPerBidder: 5,
  withdrawDelay: 2,
  forfeitFee: 1_000n,
});

/** The largest amount a bid, deposit or price may have (amounts travel as u64). */
export const MAX_AMOUNT = (1n << 64n) - 1n;

/** Parameters with defaults filled in; throws AUCTION_BAD_PARAMS when they cannot work. */
export function auctionParams(p: Partial<AuctionParams> = {}): AuctionParams {
  const out: AuctionParams = { ...DEFAULT_AUCTION_PARAMS, ...p };
  const int = (name: keyof AuctionParams, min: number) => {
    const v = out[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      throw new AuctionError('AUCTION_BAD_PARAMS', `auction.${name} must be an integer >= ${min}`, {
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
