/**
 * Public surface of the auction (docs/auction.md): sealed-bid, second-price, per-slot top-of-block.
 * Pure parts only, so far: parameters, commit–reveal rules and signatures (commit-reveal.ts), bid
 * validity and deterministic resolution with pricing and the proceeds split (resolve.ts), the deposit
 * ledger (ledger.ts) and the published outcome with its auction_hash (outcome.ts). The wiring into
 * ingress, the builder's `AuctionSource` and the node is not built yet.
 */
export * from './accounts.ts';
export * from './book.ts';
export * from './commit-reveal.ts';
export { AuctionError, type AuctionErrorCode, type BidInvalidReason } from './errors.ts';
export * from './ledger.ts';
export * from './outcome.ts';
export * from './params.ts';
export * from './resolve.ts';
export * from './setup.ts';
export * from './state.ts';
export * from './view.ts';
