/**
 * The genesis document's shape (JSON file `genesis.json`): chain id, validator set and the rollup
 * registry, and the MEV auction's section (docs/auction.md "Genesis"). Validation lives in
 * src/config/genesis.ts; this file is types only so that every component can refer to the registry
 * without importing the loader.
 */
import type { RollupKind } from '../types.ts';

export interface GenesisValidator {
  name: string;
  /** ed25519 public key, hex (64 chars). */
  publicKey: string;
  votingPower: number;
}

export interface GenesisAccount {
  /** transfer: hex ed25519 public key (64 chars); evm: 0x-prefixed 20-byte address. */
  address: string;
  /** Decimal string (may exceed 2^53). */
  balance: string;
}

export interface RollupConfig {
  namespace: number;
  name: string;
  kind: RollupKind;
  /** Share of block space under contention (work-conserving weighted fair queuing). */
  weight: number;
  /** Largest transaction payload accepted for this rollup, bytes. */
  maxTxBytes: number;
  /** Pending transactions / bytes the mempool keeps for this rollup. */
  maxPendingTxs: number;
  maxPendingBytes: number;
  /** evm only: the EIP-155 chain id transactions must be signed for. */
  evmChainId?: number;
  /**
   * evm only: the most gas this rollup's transactions may declare in one Ordo block (ADR 0285); default
   * 30,000,000 (src/codec DEFAULT_EVM_BLOCK_GAS_LIMIT).
   */
  evmGasLimit?: number;
  /** transfer / evm: initial balances. */
  alloc?: GenesisAccount[];
}

/** One rollup's auction settings: the least a winning bid pays and who receives the proceeds. */
export interface GenesisAuctionRollup {
  namespace: number;
  /** Decimal string (u64). */
  reservePrice: string;
  /** ed25519 public key, hex (64 chars): the ledger account credited with this rollup's proceeds. */
  treasury: string;
}

/** An auction ledger account funded at genesis. */
export interface GenesisAuctionAccount {
  /** ed25519 public key, hex (64 chars). */
  account: string;
  /** Decimal string (u64). */
  balance: string;
}

/** The auction lane of the mempool (its own caps). */
export interface GenesisAuctionLane {
  maxPendingTxs?: number;
  maxPendingBytes?: number;
  /** Auction transactions a proposer puts in one block at most. */
  maxTxsPerBlock?: number;
}

/**
 * The MEV auction (issue #23, docs/auction.md): absent or `enabled: false` = no auction (header
 * auctionHash kind 0, the auction namespace refused). Parameters left out take DEFAULT_AUCTION_PARAMS.
 */
export interface GenesisAuction {
  enabled: boolean;
  commitOffset?: number;
  commitHorizon?: number;
  revealOffset?: number;
  maxBidsPerBidder?: number;
  withdrawDelay?: number;
  /** Decimal string (u64). */
  forfeitFee?: string;
  /** What the winners' bundles of one slot take of a block together, bytes (ADR 0295). */
  maxTopBytes?: number;
  /** ... and transactions. */
  maxTopTxs?: number;
  /** EVM gas resolution may simulate per slot (ADR 0296). */
  maxSimGas?: number;
  /** Basis points of a BUNDLE_FAILS bid's amount it forfeits to its rollups' treasuries (ADR 0320). */
  failPenaltyBps?: number;
  /** Basis points of maxSimGas one bidder's simulations may declare per slot; 0 = no bound (ADR 0321). */
  bidderSimShareBps?: number;
  /** ed25519 public key, hex: the only key whose deposits the ledger credits. */
  depositAuthority: string;
  /** ed25519 public key, hex: the account credited with forfeited commit bonds. */
  forfeitSink: string;
  rollups?: GenesisAuctionRollup[];
  accounts?: GenesisAuctionAccount[];
  lane?: GenesisAuctionLane;
}

export interface Genesis {
  chainId: string;
  genesisTimeMs: number;
  validators: GenesisValidator[];
  rollups: RollupConfig[];
  auction?: GenesisAuction;
}
