/**
 * Public surface of the block builder: the stage between the pools (mempool, bundle pool, auction) and
 * consensus that assembles proposals with every header commitment and re-checks others' proposals.
 */

export {
  AuctionSourceError,
  type AuctionSourceErrorCode,
  type AuctionSourceOptions,
  type AuctionSourceService,
  createAuctionSource,
} from './auction-source.ts';
export {
  assemble,
  type BlockBuilder,
  type BlockBuilderOptions,
  type BuilderVerdict,
  createBlockBuilder,
  DEFAULT_RESULTS_WAIT_MS,
  type PayloadCheck,
} from './builder.ts';
export { checkBundleSpans, checkSpanLayout } from './layout.ts';
export { type ExecutorView, executorResults, resultLeafOf, type ScheduleFn } from './results.ts';
export { emptyBundleSource, noAuction } from './sources.ts';
export {
  type AuctionSource,
  BuilderError,
  type BuilderErrorCode,
  type BundleLookup,
  type BundleSource,
  type MempoolView,
  type ProposalRejectCode,
  type ResultsSource,
  type SelectedBundle,
} from './types.ts';
