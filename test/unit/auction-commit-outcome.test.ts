/**
 * Commit–reveal checks (windows, signatures, commitment match, same bytes as the codec's bidCommitment
 * layout) and the published outcome: encode/decode round trip, size and layout refusals, auction_hash
 * kind 1 differs from "no auction", and a per-rollup NMT proof verifies against the committed root.
 */
import { describe, expect, it } from 'vitest';
import {
  type AuctionError,
  auctionParams,
  outcomeOf,
  resolveSlot,
  signBid,
  verifyCommit,
  verifyReveal,
} from '../../src/auction/index.ts';
import {
  auctionOutcomeTree,
  computeAuctionHash,
  computeAuctionOutcomeHash,
  decodeRollupOutcome,
  encodeRollupOutcome,
  MAX_ROLLUP_OUTCOME_BYTES,
  NO_AUCTION,
  rollupOutcomeLeafHash,
} from '../../src/codec/index.ts';
import { verifyNamespaceProof } from '../../src/crypto/index.ts';

const p = auctionParams();
const seed = (i: number) => new Uint8Array(32).fill(i);
const body = (amount: bigint, slot = 100) => ({
  slot,
  amount,
  bundleHash: new Uint8Array(32).fill(7),
  salt: new Uint8Array(32).fill(9),
});

describe('commit-reveal', () => {
  const { commit, reveal } = signBid('test', seed(1), body(50n));

  it('accepts a commit in its window and the matching reveal in its window', () => {
    expect(() => verifyCommit('test', commit, 98, p)).not.toThrow();
    expect(verifyReveal('test', reveal, commit, 99, p)).toEqual(commit.commitment);
  });

  it('refuses out-of-window, other-chain, tampered and mismatched bids with a code', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as AuctionError).code;
      }
      return 'ok';
    };
    expect(code(() => verifyCommit('test', commit, 99, p))).toBe('AUCTION_OUT_OF_WINDOW');
    expect(code(() => verifyCommit('other', commit, 98, p))).toBe('AUCTION_BAD_SIGNATURE');
    expect(code(() => verifyReveal('test', reveal, commit, 100, p))).toBe('AUCTION_OUT_OF_WINDOW');
    expect(code(() => verifyReveal('test', { ...reveal, amount: 51n }, commit, 99, p))).toBe(
      'AUCTION_COMMITMENT_MISMATCH',
    );
    const sig = new Uint8Array(reveal.signature);
    sig[0] = (sig[0] as number) ^ 1;
    expect(code(() => verifyReveal('test', { ...reveal, signature: sig }, commit, 99, p))).toBe(
      'AUCTION_BAD_SIGNATURE',
    );
    expect(code(() => verifyReveal('test', { ...reveal, salt: new Uint8Array(3) }, commit, 99, p))).toBe(
      'AUCTION_MALFORMED',
    );
  });
});

describe('published outcome', () => {
  const bids = [
    { ns: [1, 2], amount: 100n },
    { ns: [1], amount: 60n },
    { ns: [3], amount: 30n },
  ].map((b, i) => {
    const { commit, reveal } = signBid('test', seed(i + 1), body(b.amount));
    return { ...reveal, namespaces: b.ns, commitment: commit.commitment };
  });
  const rollups = outcomeOf(resolveSlot(100, bids, () => 1n));

  it('names winner, price, proceeds, top two and the price setter per sold rollup', () => {
    expect(rollups.map((r) => [r.namespace, r.price, r.proceeds, r.topBids.length])).toEqual([
      [1, 60n, 30n, 2],
      [2, 60n, 30n, 1],
      [3, 1n, 1n, 1],
    ]);
    expect(rollups[0]?.priceSetter?.amount).toBe(60n);
  });

  it('round-trips and refuses oversized, truncated and trailing bytes', () => {
    for (const r of rollups) expect(decodeRollupOutcome(encodeRollupOutcome(r))).toEqual(r);
    const bytes = encodeRollupOutcome(rollups[0] as (typeof rollups)[0]);
    expect(() => decodeRollupOutcome(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated/);
    expect(() => decodeRollupOutcome(new Uint8Array([...bytes, 0]))).toThrow(/trailing/);
    expect(() => decodeRollupOutcome(new Uint8Array(MAX_ROLLUP_OUTCOME_BYTES + 1))).toThrow(/bytes >/);
  });

  it('auction_hash kind 1 commits to the outcome; a rollup proves its part', () => {
    const h = computeAuctionOutcomeHash(100, rollups);
    expect(h).not.toEqual(computeAuctionHash(100, NO_AUCTION));
    expect(computeAuctionOutcomeHash(100, [])).not.toEqual(computeAuctionHash(100, NO_AUCTION));
    const changed = rollups.map((r, i) => (i === 2 ? { ...r, price: 2n } : r));
    expect(computeAuctionOutcomeHash(100, changed)).not.toEqual(h);
    const tree = auctionOutcomeTree(rollups);
    const r2 = rollups[1] as (typeof rollups)[0];
    expect(
      verifyNamespaceProof(tree.commitment(), rollups.length, 2, [rollupOutcomeLeafHash(r2)], tree.prove(2)),
    ).toEqual({ ok: true });
  });
});
