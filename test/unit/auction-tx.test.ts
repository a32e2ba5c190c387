/**
 * The auction-namespace transaction (proto AuctionTx): round trips of all four bodies, refusals of bad
 * bytes with a clear DecodeError, and deposit / withdrawal signatures (who may sign, what they cover).
 */
import { describe, expect, it } from 'vitest';
import {
  type AuctionError,
  signBid,
  signDeposit,
  signWithdraw,
  verifyDeposit,
  verifyWithdraw,
} from '../../src/auction/index.ts';
import { decodeAuctionTx, encodeAuctionTx, LIMITS, pb, unsignedBundle } from '../../src/codec/index.ts';
import { Ed25519Signer } from '../../src/crypto/index.ts';
import type { AuctionTx, Bundle } from '../../src/types.ts';

const chain = 'ordo-test';
const seed = (i: number) => new Uint8Array(32).fill(i);
const bundle: Bundle = unsignedBundle([
  { namespace: 2, txs: [Uint8Array.of(1, 2, 3)], revertingTxHashes: [] },
]);

describe('AuctionTx codec', () => {
  const { commit, reveal } = signBid(chain, seed(1), {
    slot: 10,
    amount: 500n,
    bundleHash: new Uint8Array(32).fill(9),
    salt: new Uint8Array(32).fill(7),
  });
  const txs: AuctionTx[] = [
    { kind: 'commit', commit },
    {
      kind: 'reveal',
      reveal: {
        slot: reveal.slot,
        bidder: reveal.bidder,
        amount: 500,
        bundle,
        salt: reveal.salt,
        signature: reveal.signature,
      },
    },
    {
      kind: 'deposit',
      deposit: signDeposit(chain, seed(2), { account: commit.bidder, amount: 10, nonce: 0 }),
    },
    { kind: 'withdraw', withdraw: signWithdraw(chain, seed(1), { amount: 3, nonce: 4 }) },
  ];
  it.each(txs.map((t) => [t.kind, t] as const))('round-trips a %s', (_k, tx) => {
    expect(decodeAuctionTx(encodeAuctionTx(tx))).toEqual(tx);
  });

  it('refuses no body, two bodies, oversize and zero amounts', () => {
    expect(() => decodeAuctionTx(new Uint8Array(0))).toThrow(/exactly one/);
    const two = pb.AuctionTx.encode({
      commit,
      deposit: txs[2]!.kind === 'deposit' ? txs[2]!.deposit : undefined,
    }).finish();
    // protobufjs keeps the last oneof member it reads; either way the decoder sees one body or refuses.
    expect(() => decodeAuctionTx(two)).not.toThrow(TypeError);
    expect(() => decodeAuctionTx(new Uint8Array(LIMITS.maxAuctionTxBytes + 1))).toThrow(/bytes/);
    const zero = pb.AuctionTx.encode({
      withdraw: { account: commit.bidder, amount: 0, nonce: 0, signature: new Uint8Array(64) },
    }).finish();
    expect(() => decodeAuctionTx(zero)).toThrow(/amount must be > 0/);
    const shortKey = pb.AuctionTx.encode({
      deposit: { account: new Uint8Array(31), amount: 1, nonce: 0, signature: new Uint8Array(64) },
    }).finish();
    expect(() => decodeAuctionTx(shortKey)).toThrow(/deposit.account/);
  });
});

describe('deposit and withdrawal signatures', () => {
  const authority = new Ed25519Signer(seed(2)).publicKey;
  const account = new Ed25519Signer(seed(1)).publicKey;
  it('a deposit verifies only under the deposit authority and only for what was signed', () => {
    const d = signDeposit(chain, seed(2), { account, amount: 10, nonce: 0 });
    expect(() => verifyDeposit(chain, d, authority)).not.toThrow();
    expect(() => verifyDeposit(chain, d, account)).toThrow(/deposit authority/);
    expect(() => verifyDeposit(chain, { ...d, amount: 11 }, authority)).toThrow(/deposit authority/);
    expect(() => verifyDeposit('other-chain', d, authority)).toThrow(/deposit authority/);
  });
  it('a withdrawal verifies only under its own account', () => {
    const w = signWithdraw(chain, seed(1), { amount: 5, nonce: 0 });
    expect(() => verifyWithdraw(chain, w)).not.toThrow();
    try {
      verifyWithdraw(chain, { ...w, nonce: 1 });
      expect.unreachable();
    } catch (err) {
      expect((err as AuctionError).code).toBe('AUCTION_BAD_SIGNATURE');
    }
    expect(() => verifyWithdraw(chain, { ...w, amount: -1 })).toThrow(/amount/);
  });
});
