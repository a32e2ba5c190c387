/**
 * The auction part of a slice (issue #23): a rollup whose top was sold gets its outcome record with a
 * proof against header.auction_hash, a rollup whose top was not sold gets the proof of absence, heights
 * without an auction carry no part; the SDK verifies all of it from a node it does not trust (through
 * the gRPC wire form too) and refuses a tampered outcome, count or proof.
 */
import { describe, expect, it } from 'vitest';
import type { OutcomeBid, RollupAuctionOutcome } from '../../../src/codec/index.ts';
import { VerificationError } from '../../../src/rollup-adapter/errors.ts';
import { createInProcessAdapter } from '../../../src/rollup-adapter/in-process.ts';
import { verifyAuctionPart, verifyNamespaceBlock } from '../../../src/rollup-adapter/sdk/index.ts';
import { MemorySource, testRollup } from '../../../src/rollup-adapter/testing/memory-source.ts';
import type { NamespaceBlock } from '../../../src/rollup-adapter/types.ts';
import { namespaceBlockFromWire, namespaceBlockToWire } from '../../../src/rollup-adapter/wire.ts';

const enc = new TextEncoder();
const bidOf = (b: number, amount: bigint, namespaces: number[]): OutcomeBid => ({
  slot: 2,
  bidder: new Uint8Array(32).fill(b),
  amount,
  bundleHash: new Uint8Array(32).fill(b + 1),
  salt: new Uint8Array(32).fill(b + 2),
  signature: new Uint8Array(64).fill(b + 3),
  namespaces,
});

/** One bid bought the tops of rollups 1 and 3 at 70 (displacing a 70 bid on rollup 1). */
function outcome(): RollupAuctionOutcome[] {
  const winner = bidOf(1, 100n, [1, 3]);
  const setter = bidOf(2, 70n, [1]);
  return [
    { namespace: 1, winner, price: 70n, proceeds: 35n, topBids: [winner, setter], priceSetter: setter },
    { namespace: 3, winner, price: 70n, proceeds: 35n, topBids: [winner], priceSetter: setter },
  ];
}

async function slices(namespace: number): Promise<NamespaceBlock[]> {
  const src = new MemorySource({ rollups: [testRollup(1, 'a'), testRollup(2, 'b'), testRollup(3, 'c')] });
  src.produceBlock([{ namespace: 1, payload: enc.encode('x') }]);
  src.produceBlock([{ namespace: 1, payload: enc.encode('y') }], { auction: outcome() });
  src.produceBlock([{ namespace: 2, payload: enc.encode('z') }], { auction: [] });
  const ac = new AbortController();
  const out: NamespaceBlock[] = [];
  for await (const nb of createInProcessAdapter(src).streamBlocks(
    { namespace, fromHeight: 1 },
    { signal: ac.signal },
  )) {
    out.push(nb);
    if (out.length === 3) break;
  }
  ac.abort();
  const ctx = { chainId: src.chainId, namespace, validators: src.validators };
  for (const nb of out) verifyNamespaceBlock(namespaceBlockFromWire(namespaceBlockToWire(nb) as never), ctx);
  return out;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(VerificationError);
    return (err as VerificationError).code;
  }
}

describe('the auction part of a slice', () => {
  it('carries a sold rollup its outcome, provable against the header', async () => {
    const [none, sold, empty] = await slices(3);
    expect(none!.auction).toBeUndefined();
    expect(sold!.auction!.count).toBe(2);
    const o = verifyAuctionPart(sold!.auction!, sold!.header, 3);
    expect(o?.winner.bidder).toEqual(new Uint8Array(32).fill(1));
    expect(o?.price).toBe(70n);
    expect(o?.proceeds).toBe(35n);
    // An auction that sold nothing: kind 1 with count 0, absence provable.
    expect(empty!.auction!.count).toBe(0);
    expect(verifyAuctionPart(empty!.auction!, empty!.header, 3)).toBeUndefined();
  });

  it('proves to an unsold rollup that its top was not sold', async () => {
    const [, sold] = await slices(2);
    expect(sold!.auction!.outcome.byteLength).toBe(0);
    expect(verifyAuctionPart(sold!.auction!, sold!.header, 2)).toBeUndefined();
  });

  it('refuses a tampered outcome, count, root or a hidden sale', async () => {
    const [, sold] = await slices(1);
    const a = sold!.auction!;
    const h = sold!.header;
    const tampered = new Uint8Array(a.outcome);
    tampered[tampered.length - 20]! ^= 1;
    expect(codeOf(() => verifyAuctionPart({ ...a, outcome: tampered }, h, 1))).toBe('AUCTION_INVALID');
    expect(codeOf(() => verifyAuctionPart({ ...a, count: 3 }, h, 1))).toBe('AUCTION_INVALID');
    expect(codeOf(() => verifyAuctionPart({ ...a, outcomeRoot: new Uint8Array(32) }, h, 1))).toBe(
      'AUCTION_INVALID',
    );
    // A node hiding that rollup 1's top was sold: an empty outcome with the same proof does not verify.
    expect(codeOf(() => verifyAuctionPart({ ...a, outcome: new Uint8Array(0) }, h, 1))).toBe(
      'AUCTION_INVALID',
    );
    // Rollup 3's record shown to rollup 1.
    const [, sold3] = await slices(3);
    expect(codeOf(() => verifyAuctionPart(sold3!.auction!, h, 1))).toBe('AUCTION_INVALID');
    expect(
      codeOf(() =>
        verifyNamespaceBlock(
          { ...sold!, auction: { ...a, count: 1 } },
          {
            chainId: 'ordo-test',
            namespace: 1,
            validators: new MemorySource().validators,
          },
        ),
      ),
    ).toBe('AUCTION_INVALID');
  });
});
