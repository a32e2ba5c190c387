/**
 * The auction part of a slice (issue #23, docs/adapter.md "Auction outcome"): the rollup's share of the
 * height's auction outcome — its winner, price, proceeds, top two bids and price setter, encoded as in
 * docs/wire.md "Auction" — with the namespace proof that header.auction_hash (kind 1) commits to it, or
 * the proof that its top was not sold. Served only when the node's outcome rebuilds the certified
 * header's auction_hash, so a node never hands out an outcome its validators did not certify. Trees of
 * recent heights are cached (one per height, shared by every subscribed rollup).
 */
import {
  auctionHashFromRoot,
  auctionOutcomeTree,
  computeAuctionHash,
  encodeRollupOutcome,
  NO_AUCTION,
  type RollupAuctionOutcome,
} from '../codec/index.ts';
import { bytesEqual, type NmtTree } from '../crypto/index.ts';
import type { BlockHeader, Namespace } from '../types.ts';
import { HeightCache } from './height-cache.ts';
import type { AdapterSource } from './source.ts';
import type { AuctionPart } from './types.ts';

interface AuctionEntry {
  rollups: readonly RollupAuctionOutcome[];
  tree: NmtTree;
  hash: Uint8Array;
}

export class AuctionCache {
  readonly #cache = new HeightCache<AuctionEntry>(4);

  get(source: AdapterSource, height: number): Promise<AuctionEntry | undefined> {
    return this.#cache.get(height, () => load(source, height));
  }
}

async function load(source: AdapterSource, height: number): Promise<AuctionEntry | undefined> {
  const rollups = await source.getAuctionOutcome?.(height);
  if (rollups === undefined) return undefined;
  const tree = auctionOutcomeTree(rollups);
  return { rollups, tree, hash: auctionHashFromRoot(height, rollups.length, tree.commitment()) };
}

/**
 * The rollup's part of the auction outcome in the block of `header`, or undefined: the auction did not
 * run (kind 0), the node has no outcome for the height, or its outcome does not make the header's hash.
 */
export async function auctionPartFor(
  source: AdapterSource,
  header: BlockHeader,
  namespace: Namespace,
  cache: AuctionCache,
): Promise<AuctionPart | undefined> {
  if (source.getAuctionOutcome === undefined) return undefined;
  if (header.auctionHash.byteLength === 0) return undefined;
  if (bytesEqual(header.auctionHash, computeAuctionHash(header.height, NO_AUCTION))) return undefined;
  const e = await cache.get(source, header.height);
  if (e === undefined || !bytesEqual(e.hash, header.auctionHash)) return undefined;
  const mine = e.rollups.find((r) => r.namespace === namespace);
  return {
    count: e.rollups.length,
    outcomeRoot: e.tree.commitment(),
    outcome: mine === undefined ? new Uint8Array(0) : encodeRollupOutcome(mine),
    proof: e.tree.prove(namespace),
  };
}
