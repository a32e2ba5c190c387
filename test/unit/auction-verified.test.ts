/**
 * The auction's memo of verified signatures (src/auction/verified.ts): it answers exactly what
 * `verifySignature` answers — a good triple is true (again, from the memo), a bad signature, another
 * message or another key is false every time — so remembering successes changes no verdict.
 */
import { describe, expect, it } from 'vitest';
import { verifyAuctionSignature } from '../../src/auction/verified.ts';
import { Ed25519Signer, sha256 } from '../../src/crypto/index.ts';

describe('verified-signature memo', () => {
  it('answers as verifySignature does, before and after a success is remembered', () => {
    const signer = new Ed25519Signer(new Uint8Array(32).fill(7));
    const other = new Ed25519Signer(new Uint8Array(32).fill(8));
    const msg = sha256(new TextEncoder().encode('bid'));
    const sig = signer.sign(msg);
    const bad = Uint8Array.from(sig);
    bad[0] = (bad[0] ?? 0) ^ 1;
    expect(verifyAuctionSignature(signer.publicKey, msg, bad)).toBe(false);
    expect(verifyAuctionSignature(signer.publicKey, msg, sig)).toBe(true);
    expect(verifyAuctionSignature(signer.publicKey, msg, sig)).toBe(true);
    expect(verifyAuctionSignature(signer.publicKey, msg, bad)).toBe(false);
    expect(verifyAuctionSignature(other.publicKey, msg, sig)).toBe(false);
    expect(verifyAuctionSignature(signer.publicKey, sha256(msg), sig)).toBe(false);
    expect(verifyAuctionSignature(signer.publicKey.subarray(1), msg, sig)).toBe(false);
  });
});
