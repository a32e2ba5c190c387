/**
 * From a slot's resolution to its published outcome (docs/auction.md, "Published outcome"): one record
 * per sold rollup — winner, price, the rollup's share of the proceeds, the top two revealed valid bids
 * naming the rollup and the bid that set the price, each with its reveal signature — and the header's
 * auction_hash over them (the encoding and hash live in src/codec/auction.ts).
 */
import {
  computeAuctionOutcomeHash,
  decodeRollupOutcome,
  encodeRollupOutcome,
  MAX_ROLLUP_OUTCOME_BYTES,
  type OutcomeBid,
  type RollupAuctionOutcome,
} from '../codec/index.ts';
import { AuctionError } from './errors.ts';
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

/**
 * u32 count || (u32 len || encodeRollupOutcome)*: the stored outcome records of one height (the book
 * writes them with the height's state, the node serves them to the adapter).
 */
export function encodeOutcomeRecords(rollups: readonly RollupAuctionOutcome[]): Uint8Array {
  const parts = rollups.map(encodeRollupOutcome);
  const out = new Uint8Array(4 + parts.reduce((n, p) => n + 4 + p.byteLength, 0));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, parts.length);
  let at = 4;
  for (const p of parts) {
    dv.setUint32(at, p.byteLength);
    out.set(p, at + 4);
    at += 4 + p.byteLength;
  }
  return out;
}

/** The inverse of encodeOutcomeRecords; sizes checked before each decode (OUTCOME_MALFORMED). */
export function decodeOutcomeRecords(raw: Uint8Array): RollupAuctionOutcome[] {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (raw.byteLength < 4) throw new AuctionError('OUTCOME_MALFORMED', 'outcome record is truncated');
  const n = dv.getUint32(0);
  if (n > 1 << 16) throw new AuctionError('OUTCOME_MALFORMED', `outcome record claims ${n} rollups`);
  const out: RollupAuctionOutcome[] = [];
  let at = 4;
  for (let i = 0; i < n; i++) {
    if (at + 4 > raw.byteLength) throw new AuctionError('OUTCOME_MALFORMED', 'outcome record is truncated');
    const len = dv.getUint32(at);
    if (len > MAX_ROLLUP_OUTCOME_BYTES || at + 4 + len > raw.byteLength)
      throw new AuctionError('OUTCOME_MALFORMED', 'outcome record entry is out of bounds');
    out.push(decodeRollupOutcome(raw.subarray(at + 4, at + 4 + len)));
    at += 4 + len;
  }
  return out;
}
