/**
 * Deterministic demo accounts for the demo rollups: `ordo init` funds them in genesis and the load
 * generator signs transfer and EVM transactions with them. Seeds derive from a public label, so they
 * are for local devnets only and never hold value.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import type { GenesisAccount } from '../config/genesis-types.ts';
import { publicKeyFromSeed, sha256, toHex } from '../crypto/index.ts';

export const DEMO_ACCOUNTS = 64;
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

export function demoAlloc(n = DEMO_ACCOUNTS): { transfer: GenesisAccount[]; evm: GenesisAccount[] } {
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
