/**
 * Protocol-wide size limits, the defaults every decoder checks before it decodes. Nodes may lower them
 * in config; raising them above these values is refused by config validation.
 */
export const LIMITS = {
  /** One transaction's payload. */
  maxTxBytes: 128 * 1024,
  /** A block's encoded body. */
  maxBlockBytes: 4 * 1024 * 1024,
  /** Transactions in one block. */
  maxBlockTxs: 100_000,
  /** A gossiped transaction batch. */
  maxBatchBytes: 1024 * 1024,
  maxBatchTxs: 10_000,
  /** A consensus message (a proposal carries a whole block). */
  maxConsensusMessageBytes: 4 * 1024 * 1024 + 64 * 1024,
  /** A sync response (blocks by range). */
  maxSyncResponseBytes: 16 * 1024 * 1024,
  maxSyncRequestBytes: 64 * 1024,
  maxSyncBlocksPerRequest: 64,
  maxChainIdLength: 64,
  /** Transactions in one bundle, over all legs (Flashbots' limit). */
  maxBundleTxs: 100,
  /** Payload bytes of one bundle, over all legs (Flashbots' limit). */
  maxBundleBytes: 300_000,
  /** Legs (rollups) of one bundle. */
  maxBundleLegs: 16,
  /** An encoded bundle (payloads plus per-tx and per-leg overhead). */
  maxBundleEncodedBytes: 320 * 1024,
  /** Bundles in one gossiped batch. */
  maxBundleBatch: 256,
  maxValidators: 256,
  /**
   * An auction-namespace transaction's payload. It travels as a transaction, so it is bounded by
   * maxTxBytes: a bid's bundle (inside its reveal) must fit in it.
   */
  maxAuctionTxBytes: 128 * 1024,
} as const;

/**
 * Bytes a transaction takes from a block's room beyond its payload (its envelope fields, a conservative
 * estimate): the one measure the builder packs by, the bundle pool selects by and the auction's top
 * budget counts in (ADR 0295), so what resolution lets win always fits what the builder places.
 */
export const TX_OVERHEAD_BYTES = 16;

/**
 * The reserved namespace of auction transactions (bids, reveals, deposits, withdrawals; proto AuctionTx).
 * No rollup may use it; it sorts last in a block, so the auction lane never shifts a rollup's slice.
 */
export const AUCTION_NAMESPACE = 0xffff_ffff;
