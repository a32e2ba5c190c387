/**
 * From a slot's resolution to its published outcome (docs/auction.md, "Published outcome"): one record
 * per sold rollup — winner, price, the rollup's share of the proceeds, the top two revealed valid bids
 * naming the rollup and the bid that set the price, each with its reveal signature — and the header's
 * auction_hash over them (the encoding and hash live in src/codec/auction.ts).
 */
import { computeAuctionOutcomeHash, type OutcomeBid, type RollupAuctionOutcome } from '../codec/index.ts';
import type { Bid, Resolution } from './resolve.ts';
import { splitProceeds } from './resolve.ts';

/** A resolved bid with what publishing needs from its reveal. */
export interface PublishableBid extends Bid {
  slot: number;
  salt: Uint8Array;
  signature: Uint8Array;
}

function published(b: PublishableBid): OutcomeBid {
  return {
    slot: b.slot,
    bidder: b.bidder,
    amount: b.amount,
    bundleHash: b.bundleHash,
    salt: b.salt,
    signature: b.signature,
    namespaces: [...b.namespaces].sort((x, y) => x - y),
  };
}

/** The per-rollup outcome records of a resolution, sorted by namespace. */
export function outcomeOf<B extends PublishableBid>(res: Resolution<B>): RollupAuctionOutcome[] {
  const sold = new Map<number, RollupAuctionOutcome>();
  const top = new Map<number, OutcomeBid[]>();
  for (const w of res.winners) {
    for (const ns of w.bid.namespaces) top.set(ns, []);
  }
  for (const b of res.ranked) {
    for (const ns of b.namespaces) {
      const t = top.get(ns);
      if (t !== undefined && t.length < 2) t.push(published(b));
    }
  }
  for (const w of res.winners) {
    const winner = published(w.bid);
    const setter = w.displaced === undefined ? undefined : published(w.displaced);
    for (const { namespace, share } of splitProceeds(w.price, w.bid.namespaces)) {
      sold.set(namespace, {
        namespace,
        winner,
        price: w.price,
        proceeds: share,
        topBids: top.get(namespace) ?? [],
        priceSetter: setter,
      });
    }
  }
  return [...sold.values()].sort((a, b) => a.namespace - b.namespace);
}

/** header.auctionHash of a height whose auction ran, from its resolution. */
export function outcomeHash<B extends PublishableBid>(height: number, res: Resolution<B>): Uint8Array {
  return computeAuctionOutcomeHash(height, outcomeOf(res));
}
