/**
 * A `BlockSource` for tests of the engine alone: blocks from a callback, no commitments to results or
 * an auction (empty), and a verify that accepts every block (or the given one).
 */
import { computeDataHash } from '../../codec/index.ts';
import type { TxEnvelope } from '../../types.ts';
import type { BlockSource, BuiltBlock } from '../types.ts';

export function builtOf(txs: TxEnvelope[]): BuiltBlock {
  return {
    txs,
    bundles: [],
    dataHash: computeDataHash(txs),
    resultsHash: new Uint8Array(0),
    auctionHash: new Uint8Array(0),
  };
}

export function simpleSource(
  next: (height: number) => TxEnvelope[],
  extra: Partial<Pick<BlockSource, 'pendingTxs' | 'findTx' | 'verify'>> = {},
): BlockSource {
  return {
    build: (height) => Promise.resolve(builtOf(next(height))),
    verify: () => Promise.resolve({ ok: true }),
    ...extra,
  };
}
