/**
 * Public surface of the auction (docs/auction.md): sealed-bid, second-price, per-slot top-of-block.
 * The pure parts: parameters, commit–reveal rules and signatures (commit-reveal.ts), bid validity and
 * deterministic resolution with pricing and the proceeds split (resolve.ts), the slot's simulation budget
 * with each bidder's share (sim-budget.ts), the deposit ledger
 * (ledger.ts), the published outcome with its auction_hash (outcome.ts); the seams (book.ts, view.ts);
 * and the state machine over committed blocks with its persistence (state.ts, configured by setup.ts).
 * The builder's source is src/builder/auction-source.ts; the node wiring src/node/auction.ts.
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
export * from './sim-budget.ts';
export * from './state.ts';
export * from './view.ts';
