/**
 * Pluggable signature schemes for consensus. The state machine signs and verifies through these two
 * small function types so that the engine can use ed25519 (the one protocol rule, node:crypto strict
 * RFC 8032) while the deterministic simulator can use a fast keyed-hash scheme. The fake scheme is for
 * simulation only: anyone who knows a public key can forge it, which the simulator's adversary never
 * does (Byzantine nodes sign only with their own keys).
 */
import { Ed25519Signer, verifySignature } from '../crypto/index.ts';

/** Signs 32-byte sign bytes (from src/codec/hashing.ts) with one validator key. */
export interface ConsensusSigner {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** Verifies a signature; returns false (never throws) on malformed input. */
export type VerifyFn = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;

export const ed25519Verify: VerifyFn = verifySignature;

export function ed25519Signer(seed: Uint8Array): ConsensusSigner {
  return new Ed25519Signer(seed);
}

/** Sign bytes are already 32-byte hashes, so a keyed mix of them is enough for a simulation tag. */
function fakeSig(publicKey: Uint8Array, message: Uint8Array): Uint8Array {
  const sig = new Uint8Array(64);
  for (let i = 0; i < 64; i++) {
    sig[i] = (message[i % message.length]! ^ publicKey[(i * 7) % publicKey.length]! ^ (i * 31)) & 255;
  }
  return sig;
}

/** SIMULATION ONLY: a 64-byte deterministic tag over (public key, message); trivially forgeable. */
export function fakeSigner(publicKey: Uint8Array): ConsensusSigner {
  return { publicKey, sign: (m) => fakeSig(publicKey, m) };
}

/** SIMULATION ONLY: verifies `fakeSigner` tags. */
export const fakeVerify: VerifyFn = (publicKey, message, signature) => {
  if (signature.byteLength !== 64) return false;
  const want = fakeSig(publicKey, message);
  for (let i = 0; i < 64; i++) if (want[i] !== signature[i]) return false;
  return true;
};
