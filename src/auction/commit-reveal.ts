/**
 * Commit–reveal rules as pure functions (docs/auction.md, "Commit and reveal"; docs/wire.md, "Auction").
 *
 * A bidder first publishes a signed `BidCommit` for slot h holding only a commitment — a hash over the
 * reveal body (chain, slot, bidder, amount, bundle hash, 32-byte salt) — so until the reveal no one, the
 * proposer included, learns the amount or the bundle. The commit is valid in blocks up to h - commitOffset;
 * the signed `BidReveal` opens it in the window h - commitOffset + 1 ..= h - revealOffset. Both travel
 * like transactions and are ordered by consensus, so every validator resolves slot h from the same data.
 *
 * The bundle enters the commitment only through its hash (the bundles issue owns the Bundle type); the
 * byte layout is the one `bidCommitment` in src/codec/hashing.ts computes from a whole reveal.
 */

import { bundleHash } from '../codec/index.ts';
import { bytesEqual, Ed25519Signer, PUBLIC_KEY_LEN, SIGNATURE_LEN, sha256 } from '../crypto/index.ts';
import type { BidReveal } from '../types.ts';
import { AuctionError } from './errors.ts';
import { type AuctionParams, MAX_AMOUNT } from './params.ts';
import { verifyAuctionSignature } from './verified.ts';

const enc = new TextEncoder();
const BID_TAG = enc.encode('ordo/bid/v1');
const COMMIT_SIGN_TAG = enc.encode('ordo/bid-commit/v1');
const REVEAL_SIGN_TAG = enc.encode('ordo/bid-reveal/v1');

export const SALT_LEN = 32;
export const COMMITMENT_LEN = 32;

/** Everything a reveal opens, with the bundle as its hash. */
export interface RevealBody {
  slot: number;
  bidder: Uint8Array;
  amount: bigint;
  bundleHash: Uint8Array;
  salt: Uint8Array;
}

/** A commit as the auction sees it (the wire BidCommit). */
export interface SignedCommit {
  slot: number;
  bidder: Uint8Array;
  commitment: Uint8Array;
  signature: Uint8Array;
}

/** A reveal as the auction sees it: the body plus the bidder's signature over its commitment. */
export interface SignedReveal extends RevealBody {
  signature: Uint8Array;
}

/** Big-endian u64 (shared by the auction's sign-byte layouts). */
export function u64be(n: number | bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

/** u32 length prefix then the bytes. */
export function lp(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + b.byteLength);
  new DataView(out.buffer).setUint32(0, b.byteLength);
  out.set(b, 4);
  return out;
}

function checkBody(b: RevealBody): void {
  if (!Number.isSafeInteger(b.slot) || b.slot < 0) malformed('slot', 'a non-negative integer');
  if (b.bidder.byteLength !== PUBLIC_KEY_LEN) malformed('bidder', `${PUBLIC_KEY_LEN} bytes`);
  if (typeof b.amount !== 'bigint' || b.amount < 0n || b.amount > MAX_AMOUNT) malformed('amount', 'a u64');
  if (b.bundleHash.byteLength !== 32) malformed('bundleHash', '32 bytes');
  if (b.salt.byteLength !== SALT_LEN) malformed('salt', `${SALT_LEN} bytes`);
}

function malformed(field: string, want: string): never {
  throw new AuctionError('AUCTION_MALFORMED', `bid ${field} must be ${want}`, { field });
}

/**
 * commitment = sha256("ordo/bid/v1" || u32 len(chainId) || chainId || u64 slot || bidder(32)
 *                     || u64 amount || bundleHash(32) || salt(32))
 */
export function revealCommitment(chainId: string, b: RevealBody): Uint8Array {
  checkBody(b);
  return sha256(
    BID_TAG,
    lp(enc.encode(chainId)),
    u64be(b.slot),
    b.bidder,
    u64be(b.amount),
    b.bundleHash,
    b.salt,
  );
}

/** What a commit's signature covers: sha256("ordo/bid-commit/v1" || lp(chainId) || u64 slot || bidder || commitment). */
export function commitSignBytes(
  chainId: string,
  c: { slot: number; bidder: Uint8Array; commitment: Uint8Array },
) {
  return sha256(COMMIT_SIGN_TAG, lp(enc.encode(chainId)), u64be(c.slot), c.bidder, c.commitment);
}

/**
 * What a reveal's signature covers: sha256("ordo/bid-reveal/v1" || lp(chainId) || commitment). The
 * commitment already binds chain, slot, bidder, amount, bundle and salt, so the signature can be checked
 * by anyone holding the body without the bundle itself (the published outcome carries exactly that).
 */
export function revealSignBytes(chainId: string, commitment: Uint8Array): Uint8Array {
  return sha256(REVEAL_SIGN_TAG, lp(enc.encode(chainId)), commitment);
}

/** The body a wire reveal opens (its bundle as the bundle hash, its amount as bigint). */
export function revealBodyOf(chainId: string, r: BidReveal): RevealBody {
  return {
    slot: r.slot,
    bidder: r.bidder,
    amount: BigInt(r.amount),
    bundleHash: bundleHash(chainId, r.bundle),
    salt: r.salt,
  };
}

/** The parameters that place a slot's commit and reveal windows (what a client needs of AuctionParams). */
export type WindowParams = Pick<AuctionParams, 'commitOffset' | 'commitHorizon' | 'revealOffset'>;

/** Blocks whose commits for `slot` are valid: [first, last] (empty when last < first or last < 1). */
export function commitWindow(slot: number, p: WindowParams): { first: number; last: number } {
  return { first: Math.max(1, slot - p.commitOffset - p.commitHorizon), last: slot - p.commitOffset };
}

/** Blocks whose reveals for `slot` are valid: [first, last]. */
export function revealWindow(slot: number, p: WindowParams): { first: number; last: number } {
  return { first: slot - p.commitOffset + 1, last: slot - p.revealOffset };
}

export function commitInWindow(slot: number, height: number, p: WindowParams): boolean {
  const w = commitWindow(slot, p);
  return height >= w.first && height <= w.last;
}

export function revealInWindow(slot: number, height: number, p: WindowParams): boolean {
  const w = revealWindow(slot, p);
  return height >= Math.max(1, w.first) && height <= w.last;
}

/** The slots whose reveals a block at `height` may carry (and whose unrevealed commits expire after it). */
export function slotsRevealableAt(height: number, p: AuctionParams): { first: number; last: number } {
  return { first: height + p.revealOffset, last: height + p.commitOffset - 1 };
}

/**
 * Checks a commit about to be included in the block at `height`: field sizes, window, signature.
 * Throws AuctionError (AUCTION_MALFORMED, AUCTION_OUT_OF_WINDOW, AUCTION_BAD_SIGNATURE).
 */
export function verifyCommit(chainId: string, c: SignedCommit, height: number, p: AuctionParams): void {
  if (!Number.isSafeInteger(c.slot) || c.slot < 0) malformed('slot', 'a non-negative integer');
  if (c.bidder.byteLength !== PUBLIC_KEY_LEN) malformed('bidder', `${PUBLIC_KEY_LEN} bytes`);
  if (c.commitment.byteLength !== COMMITMENT_LEN) malformed('commitment', `${COMMITMENT_LEN} bytes`);
  if (c.signature.byteLength !== SIGNATURE_LEN) malformed('signature', `${SIGNATURE_LEN} bytes`);
  if (!commitInWindow(c.slot, height, p)) {
    const w = commitWindow(c.slot, p);
    throw new AuctionError(
      'AUCTION_OUT_OF_WINDOW',
      `a commit for slot ${c.slot} is valid only in blocks ${w.first}..${w.last}, not ${height}`,
      { slot: c.slot, height, ...w },
    );
  }
  if (!verifyAuctionSignature(c.bidder, commitSignBytes(chainId, c), c.signature)) {
    throw new AuctionError('AUCTION_BAD_SIGNATURE', 'bid commit signature does not verify', { slot: c.slot });
  }
}

/**
 * Checks a reveal about to be included in the block at `height` against the commit it opens: same slot
 * and bidder, body hashes to the commitment, reveal window, signature. Returns the commitment.
 */
export function verifyReveal(
  chainId: string,
  r: SignedReveal,
  commit: { slot: number; bidder: Uint8Array; commitment: Uint8Array },
  height: number,
  p: AuctionParams,
): Uint8Array {
  if (r.signature.byteLength !== SIGNATURE_LEN) malformed('signature', `${SIGNATURE_LEN} bytes`);
  const commitment = revealCommitment(chainId, r);
  if (
    r.slot !== commit.slot ||
    !bytesEqual(r.bidder, commit.bidder) ||
    !bytesEqual(commitment, commit.commitment)
  ) {
    throw new AuctionError('AUCTION_COMMITMENT_MISMATCH', 'reveal does not match its commitment', {
      slot: r.slot,
    });
  }
  if (!revealInWindow(r.slot, height, p)) {
    const w = revealWindow(r.slot, p);
    throw new AuctionError(
      'AUCTION_OUT_OF_WINDOW',
      `a reveal for slot ${r.slot} is valid only in blocks ${w.first}..${w.last}, not ${height}`,
      { slot: r.slot, height, ...w },
    );
  }
  if (!verifyAuctionSignature(r.bidder, revealSignBytes(chainId, commitment), r.signature)) {
    throw new AuctionError('AUCTION_BAD_SIGNATURE', 'bid reveal signature does not verify', { slot: r.slot });
  }
  return commitment;
}

/** A bidder's side: the commit and the matching reveal for one body, both signed. */
export function signBid(
  chainId: string,
  seed: Uint8Array,
  body: Omit<RevealBody, 'bidder'>,
): { commit: SignedCommit; reveal: SignedReveal } {
  const signer = new Ed25519Signer(seed);
  const full: RevealBody = { ...body, bidder: signer.publicKey };
  const commitment = revealCommitment(chainId, full);
  const c = { slot: body.slot, bidder: signer.publicKey, commitment };
  return {
    commit: { ...c, signature: signer.sign(commitSignBytes(chainId, c)) },
    reveal: { ...full, signature: signer.sign(revealSignBytes(chainId, commitment)) },
  };
}
