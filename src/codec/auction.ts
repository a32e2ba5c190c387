/**
 * The auction outcome of a height as committed by header.auction_hash (kind 1, "the auction ran"), byte
 * by byte; docs/wire.md "Auction" is the write-up, keep the two in step. Kind 0 ("no auction") is
 * `computeAuctionHash(h, NO_AUCTION)` in commitments.ts and stays unchanged.
 *
 *   auction_hash = sha256("ordo/auction/v1" || u64 h || u8 1 || u32 count || outcome_root)
 *   outcome_root = NMT root (src/crypto/nmt.ts) over one leaf per sold rollup, sorted by namespace:
 *                  { namespace, sha256("ordo/auction-leaf/v1" || encodeRollupOutcome(r)) }
 *
 * A rollup's leaf names its winner, the price, the rollup's share of the proceeds, the top two revealed
 * valid bids naming the rollup, and the bid that set the price (if any), each with the bidder's reveal
 * signature, so anyone can re-check them; the NMT gives the adapter a per-rollup proof.
 *
 * Lives in codec because the builder, catch-up, the adapter and the SDK all recompute it; src/auction
 * decides what goes in.
 */
import { NmtTree, sha256 } from '../crypto/index.ts';
import { DecodeError } from '../errors.ts';

const enc = new TextEncoder();
const AUCTION_TAG = enc.encode('ordo/auction/v1');
const LEAF_TAG = enc.encode('ordo/auction-leaf/v1');

/** At most this many rollups in one bid's bundle (bounds the encoding). */
export const MAX_BID_NAMESPACES = 64;
/** Largest encoded rollup outcome: checked before decoding. */
export const MAX_ROLLUP_OUTCOME_BYTES = 4 * 1024;

/** A revealed bid as published: the reveal body (bundle as its hash), its signature and its rollups. */
export interface OutcomeBid {
  slot: number;
  bidder: Uint8Array;
  amount: bigint;
  bundleHash: Uint8Array;
  salt: Uint8Array;
  /** The bidder's reveal signature (src/auction revealSignBytes). */
  signature: Uint8Array;
  /** The namespaces of the bundle's legs, ascending. */
  namespaces: number[];
}

/** One sold rollup's part of a height's auction outcome. */
export interface RollupAuctionOutcome {
  namespace: number;
  winner: OutcomeBid;
  /** The whole price the winner paid (for every rollup of its bundle). */
  price: bigint;
  /** This rollup's share of the price, credited to its treasury. */
  proceeds: bigint;
  /** The two highest-ranked valid bids naming this rollup (one when there was one), rank order. */
  topBids: OutcomeBid[];
  /** The highest bid the winner displaced (sets the price when above the reserve). */
  priceSetter: OutcomeBid | undefined;
}

const BID_FIXED = 8 + 32 + 8 + 32 + 32 + 64 + 1;

function bidBytes(b: OutcomeBid): number {
  return BID_FIXED + 4 * b.namespaces.length;
}

class Writer {
  readonly buf: Uint8Array;
  readonly view: DataView;
  at = 0;
  constructor(n: number) {
    this.buf = new Uint8Array(n);
    this.view = new DataView(this.buf.buffer);
  }
  u8(v: number) {
    this.view.setUint8(this.at, v);
    this.at += 1;
  }
  u32(v: number) {
    this.view.setUint32(this.at, v);
    this.at += 4;
  }
  u64(v: bigint | number) {
    this.view.setBigUint64(this.at, BigInt(v));
    this.at += 8;
  }
  bytes(b: Uint8Array, len: number, what: string) {
    if (b.byteLength !== len) invalid(`${what} must be ${len} bytes`);
    this.buf.set(b, this.at);
    this.at += len;
  }
  bid(b: OutcomeBid) {
    if (b.namespaces.length === 0 || b.namespaces.length > MAX_BID_NAMESPACES) {
      invalid(`a bid names 1..${MAX_BID_NAMESPACES} rollups`);
    }
    this.u64(b.slot);
    this.bytes(b.bidder, 32, 'bidder');
    this.u64(b.amount);
    this.bytes(b.bundleHash, 32, 'bundleHash');
    this.bytes(b.salt, 32, 'salt');
    this.bytes(b.signature, 64, 'signature');
    this.u8(b.namespaces.length);
    for (const ns of b.namespaces) this.u32(ns);
  }
}

function invalid(msg: string): never {
  throw new DecodeError('DECODE_INVALID_FIELD', `auction outcome: ${msg}`);
}

/**
 * encodeRollupOutcome(r) = u32 namespace || bid(winner) || u64 price || u64 proceeds
 *                          || u8 nTop (0..2) || bid(top)* || u8 hasSetter (0|1) || bid(setter)?
 * bid(b) = u64 slot || bidder(32) || u64 amount || bundleHash(32) || salt(32) || signature(64)
 *          || u8 n || u32 namespace * n
 */
export function encodeRollupOutcome(r: RollupAuctionOutcome): Uint8Array {
  if (r.topBids.length > 2) invalid('at most two top bids');
  let n = 4 + bidBytes(r.winner) + 16 + 1 + 1;
  for (const b of r.topBids) n += bidBytes(b);
  if (r.priceSetter !== undefined) n += bidBytes(r.priceSetter);
  const w = new Writer(n);
  w.u32(r.namespace);
  w.bid(r.winner);
  w.u64(r.price);
  w.u64(r.proceeds);
  w.u8(r.topBids.length);
  for (const b of r.topBids) w.bid(b);
  w.u8(r.priceSetter === undefined ? 0 : 1);
  if (r.priceSetter !== undefined) w.bid(r.priceSetter);
  return w.buf;
}

/** Decodes one rollup's outcome; size-checked first, throws DecodeError on any malformed byte. */
export function decodeRollupOutcome(bytes: Uint8Array): RollupAuctionOutcome {
  if (bytes.byteLength > MAX_ROLLUP_OUTCOME_BYTES) {
    throw new DecodeError(
      'DECODE_TOO_LARGE',
      `auction outcome: ${bytes.byteLength} bytes > ${MAX_ROLLUP_OUTCOME_BYTES}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number) => {
    if (at + n > bytes.byteLength) throw new DecodeError('DECODE_MALFORMED', 'auction outcome: truncated');
  };
  const u8 = () => {
    need(1);
    return view.getUint8(at++);
  };
  const u32 = () => {
    need(4);
    const v = view.getUint32(at);
    at += 4;
    return v;
  };
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(at);
    at += 8;
    return v;
  };
  const raw = (n: number) => {
    need(n);
    const b = bytes.slice(at, at + n);
    at += n;
    return b;
  };
  const bid = (): OutcomeBid => {
    const slot = u64();
    if (slot > BigInt(Number.MAX_SAFE_INTEGER)) invalid('slot out of range');
    const out = {
      slot: Number(slot),
      bidder: raw(32),
      amount: u64(),
      bundleHash: raw(32),
      salt: raw(32),
      signature: raw(64),
      namespaces: [] as number[],
    };
    const n = u8();
    if (n === 0 || n > MAX_BID_NAMESPACES) invalid(`a bid names 1..${MAX_BID_NAMESPACES} rollups`);
    for (let i = 0; i < n; i++) out.namespaces.push(u32());
    return out;
  };
  const namespace = u32();
  const winner = bid();
  const price = u64();
  const proceeds = u64();
  const nTop = u8();
  if (nTop > 2) invalid('at most two top bids');
  const topBids: OutcomeBid[] = [];
  for (let i = 0; i < nTop; i++) topBids.push(bid());
  const has = u8();
  if (has > 1) invalid('price setter flag must be 0 or 1');
  const priceSetter = has === 1 ? bid() : undefined;
  if (at !== bytes.byteLength) throw new DecodeError('DECODE_MALFORMED', 'auction outcome: trailing bytes');
  return { namespace, winner, price, proceeds, topBids, priceSetter };
}

/** Leaf hash of one rollup's outcome: sha256("ordo/auction-leaf/v1" || encodeRollupOutcome(r)). */
export function rollupOutcomeLeafHash(r: RollupAuctionOutcome): Uint8Array {
  return sha256(LEAF_TAG, encodeRollupOutcome(r));
}

/** The NMT over a height's sold rollups (must be sorted by namespace, one each): per-rollup proofs. */
export function auctionOutcomeTree(rollups: readonly RollupAuctionOutcome[]): NmtTree {
  for (let i = 1; i < rollups.length; i++) {
    if (
      (rollups[i] as RollupAuctionOutcome).namespace <= (rollups[i - 1] as RollupAuctionOutcome).namespace
    ) {
      invalid('rollups must be sorted by namespace, one each');
    }
  }
  return new NmtTree(rollups.map((r) => ({ namespace: r.namespace, hash: rollupOutcomeLeafHash(r) })));
}

/** auction_hash from its parts (the SDK recomputes it from the root a slice carries). */
export function auctionHashFromRoot(height: number, count: number, root: Uint8Array): Uint8Array {
  const b = new Uint8Array(8 + 1 + 4);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(height));
  v.setUint8(8, 1);
  v.setUint32(9, count);
  return sha256(AUCTION_TAG, b, root);
}

/** header.auctionHash of a height whose auction ran (kind 1), sold rollups sorted by namespace. */
export function computeAuctionOutcomeHash(
  height: number,
  rollups: readonly RollupAuctionOutcome[],
): Uint8Array {
  return auctionHashFromRoot(height, rollups.length, auctionOutcomeTree(rollups).commitment());
}
