/**
 * The auction's configuration as the state machine consumes it: genesis' `auction` section resolved
 * (defaults filled in, amounts as bigint, keys as bytes) by src/config (`auctionSetupOf`). Kept here as
 * a plain type so src/auction never imports the config loader.
 */
import type { AuctionParams } from './params.ts';

/** The auction lane of the mempool and of a block. */
export interface AuctionLaneLimits {
  maxPendingTxs: number;
  maxPendingBytes: number;
  /** Auction transactions one block carries at most (the proposer's cap). */
  maxTxsPerBlock: number;
}

export const DEFAULT_AUCTION_LANE: Readonly<AuctionLaneLimits> = Object.freeze({
  maxPendingTxs: 4096,
  maxPendingBytes: 8 * 1024 * 1024,
  maxTxsPerBlock: 512,
});

export interface AuctionSetup {
  chainId: string;
  params: AuctionParams;
  depositAuthority: Uint8Array;
  forfeitSink: Uint8Array;
  /** Reserve price of every genesis rollup (0 for a rollup genesis gives none). */
  reserves: ReadonlyMap<number, bigint>;
  /** Treasury of every genesis rollup (the forfeit sink for a rollup genesis gives none). */
  treasuries: ReadonlyMap<number, Uint8Array>;
  /** Ledger accounts funded at genesis, in genesis order. */
  accounts: readonly { account: Uint8Array; balance: bigint }[];
  lane: AuctionLaneLimits;
}
