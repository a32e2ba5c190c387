/**
 * A bounded memo of ed25519 signatures that verified, for the auction's transactions. One auction
 * transaction's signature is checked at admission (ingress or gossip), again when a proposer builds and
 * a validator verifies the block (`checkTx`), and again when the committed block is applied to the book:
 * the last two are on the path from one block to the next. Verification is a pure function of
 * (public key, message, signature) — the same rule (RFC 8032 strict, node:crypto) everywhere — so a
 * triple that verified once verifies again, and remembering it changes no outcome, only the cost.
 * Only successes are remembered; a miss just verifies. Bounded: the oldest entries go first.
 */
import { verifySignature } from '../crypto/index.ts';

/** Entries kept: several blocks' worth of auction transactions (the lane allows 512 per block). */
const MAX_ENTRIES = 16_384;
const seen = new Set<string>();

function keyOf(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): string {
  return (
    Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('latin1') +
    Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength).toString('latin1') +
    Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString('latin1')
  );
}

/** `verifySignature`, remembering successes (see the module comment). */
export function verifyAuctionSignature(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const k = keyOf(publicKey, message, signature);
  if (seen.has(k)) return true;
  if (!verifySignature(publicKey, message, signature)) return false;
  if (seen.size >= MAX_ENTRIES) {
    const oldest = seen.values().next().value;
    if (oldest !== undefined) seen.delete(oldest);
  }
  seen.add(k);
  return true;
}
