/**
 * The empty seams: no bundles and no auction, until the bundle and auction issues fill them in. With
 * them a block carries no spans (any span names an unknown bundle and is refused) and the auction
 * commitment is the one to "no auction".
 */
import { NO_AUCTION } from '../codec/index.ts';
import type { AuctionSource, BundleSource } from './types.ts';

export const emptyBundleSource: BundleSource = {
  select: () => Promise.resolve([]),
  lookup: () => ({ kind: 'unknown' }),
};

export const noAuction: AuctionSource = {
  outcome: () => Promise.resolve({ outcome: NO_AUCTION, winners: [] }),
};
