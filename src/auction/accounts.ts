/**
 * Deposits and withdrawals of the auction ledger as signed transactions (proto Deposit / Withdraw,
 * docs/auction.md "Deposits and withdrawals"): the bytes each signature covers, signing, and the
 * stateless checks (sizes, signature). Nonces and balances are the ledger's to check, in consensus order.
 *
 *   deposit  signs sha256("ordo/auction-deposit/v1"  || lp(chainId) || account || u64 amount || u64 nonce)
 *            with the genesis deposit authority's key (auction.depositAuthority);
 *   withdraw signs sha256("ordo/auction-withdraw/v1" || lp(chainId) || account || u64 amount || u64 nonce)
 *            with the account's own key.
 */
import { Ed25519Signer, PUBLIC_KEY_LEN, SIGNATURE_LEN, sha256 } from '../crypto/index.ts';
import type { AuctionDeposit, AuctionWithdraw } from '../types.ts';
import { lp, u64be } from './commit-reveal.ts';
import { AuctionError } from './errors.ts';
import { verifyAuctionSignature } from './verified.ts';

const enc = new TextEncoder();
const DEPOSIT_TAG = enc.encode('ordo/auction-deposit/v1');
const WITHDRAW_TAG = enc.encode('ordo/auction-withdraw/v1');

type Move = { account: Uint8Array; amount: number; nonce: number };

function check(what: string, m: Move & { signature?: Uint8Array }): void {
  const bad = (field: string, want: string): never => {
    throw new AuctionError('AUCTION_MALFORMED', `${what} ${field} must be ${want}`, { field });
  };
  if (m.account.byteLength !== PUBLIC_KEY_LEN) bad('account', `${PUBLIC_KEY_LEN} bytes`);
  if (!Number.isSafeInteger(m.amount) || m.amount <= 0) bad('amount', 'a positive safe integer');
  if (!Number.isSafeInteger(m.nonce) || m.nonce < 0) bad('nonce', 'a non-negative safe integer');
  if (m.signature !== undefined && m.signature.byteLength !== SIGNATURE_LEN) bad('signature', '64 bytes');
}

export function depositSignBytes(chainId: string, d: Move): Uint8Array {
  check('deposit', d);
  return sha256(DEPOSIT_TAG, lp(enc.encode(chainId)), d.account, u64be(d.amount), u64be(d.nonce));
}

export function withdrawSignBytes(chainId: string, w: Move): Uint8Array {
  check('withdraw', w);
  return sha256(WITHDRAW_TAG, lp(enc.encode(chainId)), w.account, u64be(w.amount), u64be(w.nonce));
}

/** The deposit authority's side: signs a deposit with its 32-byte ed25519 seed. */
export function signDeposit(chainId: string, authoritySeed: Uint8Array, d: Move): AuctionDeposit {
  return { ...d, signature: new Ed25519Signer(authoritySeed).sign(depositSignBytes(chainId, d)) };
}

/** An account's side: signs a withdrawal of its own funds with its 32-byte ed25519 seed. */
export function signWithdraw(chainId: string, seed: Uint8Array, w: Omit<Move, 'account'>): AuctionWithdraw {
  const signer = new Ed25519Signer(seed);
  const move = { ...w, account: signer.publicKey };
  return { ...move, signature: signer.sign(withdrawSignBytes(chainId, move)) };
}

/** Throws AUCTION_MALFORMED or AUCTION_BAD_SIGNATURE. */
export function verifyDeposit(chainId: string, d: AuctionDeposit, authority: Uint8Array): void {
  check('deposit', d);
  if (!verifyAuctionSignature(authority, depositSignBytes(chainId, d), d.signature)) {
    throw new AuctionError('AUCTION_BAD_SIGNATURE', 'deposit is not signed by the deposit authority', {
      nonce: d.nonce,
    });
  }
}

/** Throws AUCTION_MALFORMED or AUCTION_BAD_SIGNATURE. */
export function verifyWithdraw(chainId: string, w: AuctionWithdraw): void {
  check('withdraw', w);
  if (!verifyAuctionSignature(w.account, withdrawSignBytes(chainId, w), w.signature)) {
    throw new AuctionError('AUCTION_BAD_SIGNATURE', 'withdrawal is not signed by its account', {
      nonce: w.nonce,
    });
  }
}
