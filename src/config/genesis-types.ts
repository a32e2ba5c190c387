/**
 * The genesis document's shape (JSON file `genesis.json`): chain id, validator set and the rollup
 * registry. Validation lives in src/config/genesis.ts; this file is types only so that every component
 * can refer to the registry without importing the loader.
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
  /** transfer / evm: initial balances. */
  alloc?: GenesisAccount[];
}

export interface Genesis {
  chainId: string;
  genesisTimeMs: number;
  validators: GenesisValidator[];
  rollups: RollupConfig[];
}
