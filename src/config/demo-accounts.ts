/**
 * Deterministic demo accounts for the demo rollups: `ordo init` funds them in genesis and the load
 * generator signs transfer and EVM transactions with them. Seeds derive from a public label, so they
 * are for local devnets only and never hold value.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import type { GenesisAccount } from '../config/genesis-types.ts';
import { publicKeyFromSeed, sha256, toHex } from '../crypto/index.ts';

/** Demo accounts the background load signs with: indices 0 … DEMO_ACCOUNTS − 1. */
export const DEMO_ACCOUNTS = 64;
/**
 * Demo accounts reserved for bundle senders: indices DEMO_ACCOUNTS … DEMO_ACCOUNTS + this − 1, funded on
 * every executed demo rollup like the others. A sender has at most one bundle in flight per rollup, so
 * 200 bundles/s (1.5 legs each over 3 rollups) at a second of latency needs about 100 of them (ADR 0175).
 */
export const DEMO_BUNDLE_ACCOUNTS = 256;
export const DEMO_BALANCE = '1000000000000000000000000';

export function demoTransferSeed(i: number): Uint8Array {
  return sha256(new TextEncoder().encode(`ordo-demo-transfer-${i}`));
}

export function demoEvmKey(i: number): Uint8Array {
  return sha256(new TextEncoder().encode(`ordo-demo-evm-${i}`));
}

export function evmAddress(privateKey: Uint8Array): string {
  const pub = secp256k1.getPublicKey(privateKey, false);
  return `0x${toHex(keccak_256(pub.subarray(1)).subarray(12))}`;
}

/** Genesis balances of the first `n` demo accounts (default: the background's and the bundle senders'). */
export function demoAlloc(n = DEMO_ACCOUNTS + DEMO_BUNDLE_ACCOUNTS): {
  transfer: GenesisAccount[];
  evm: GenesisAccount[];
} {
  const transfer: GenesisAccount[] = [];
  const evm: GenesisAccount[] = [];
  for (let i = 0; i < n; i++) {
    transfer.push({ address: toHex(publicKeyFromSeed(demoTransferSeed(i))), balance: DEMO_BALANCE });
    evm.push({ address: evmAddress(demoEvmKey(i)), balance: DEMO_BALANCE });
  }
  return { transfer, evm };
}

/** Demo auction bidders funded in the testnet genesis (`auction.accounts`); local devnets only. */
export const DEMO_AUCTION_BIDDERS = 16;

/** ed25519 seed of demo auction bidder i (its public key is the ledger account). */
export function demoAuctionSeed(i: number): Uint8Array {
  return sha256(new TextEncoder().encode(`ordo-demo-auction-bidder-${i}`));
}

/** ed25519 seed of the testnet's auction deposit authority (`auction.depositAuthority`). */
export function demoDepositAuthoritySeed(): Uint8Array {
  return sha256(new TextEncoder().encode('ordo-demo-auction-deposit-authority'));
}

/** ed25519 seed of the testnet's auction forfeit sink (`auction.forfeitSink`); local devnets only. */
export function demoForfeitSinkSeed(): Uint8Array {
  return sha256(new TextEncoder().encode('ordo-demo-auction-forfeit-sink'));
}

/** ed25519 seed of the testnet treasury of rollup `namespace` (`auction.rollups[].treasury`). */
export function demoTreasurySeed(namespace: number): Uint8Array {
  return sha256(new TextEncoder().encode(`ordo-demo-auction-treasury-${namespace}`));
}
