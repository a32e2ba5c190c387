/** Shared fixtures for the builder unit tests: the block a proposer would make of what `build` assembled. */
import type { BuiltBlock } from '../../../src/consensus/index.ts';
import type { Block } from '../../../src/types.ts';

/** The block of `built` at `height` (round 0, time 1000 + height, zero parent, proposer and commit hashes). */
export function blockOf(height: number, built: BuiltBlock): Block {
  return {
    header: {
      chainId: 'test',
      height,
      round: 0,
      timeMs: 1000 + height,
      parentHash: new Uint8Array(32),
      dataHash: built.dataHash,
      proposer: new Uint8Array(32),
      txCount: built.txs.length,
      lastCommitHash: new Uint8Array(32),
      resultsHash: built.resultsHash,
      auctionHash: built.auctionHash,
    },
    txs: built.txs,
    bundles: built.bundles,
  };
}
