/**
 * Canonical hashes and sign bytes. Every node must derive the same bytes from the same domain object:
 * hashes are taken over our own deterministic encoding (never over bytes a peer sent), and signatures
 * cover fixed-layout byte strings with a domain-separation tag so a vote can never be replayed as a
 * proposal, a bid or a vote of another chain.
 */
import { hash as oneShotHash } from 'node:crypto';
import { sha256 } from '../crypto/index.ts';
import type { BidReveal, Block, BlockHeader, CommitCertificate, TxEnvelope, VoteType } from '../types.ts';
import { u32be, u64be } from './be-bytes.ts';
import { bundleHash } from './bundle.ts';
import { encodeCertificate, encodeHeader } from './codec.ts';
import { LIMITS } from './limits.ts';

const enc = new TextEncoder();

function lp(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + b.byteLength);
  new DataView(out.buffer).setUint32(0, b.byteLength);
  out.set(b, 4);
  return out;
}

/**
 * Transaction ids are needed several times per transaction on a node (admission, the block's data
 * root, the tx index, the mempool's commit bookkeeping); the id is memoised on the envelope object,
 * which is immutable once built, as a non-enumerable symbol property (invisible to equality checks,
 * encoders and structured clone). A WeakMap did the same at ~3 % of a loaded node's CPU plus
 * ephemeron work in every GC; it remains the fallback for frozen envelopes.
 */
const TX_HASH = Symbol('ordo.txHash');
const frozenCache = new WeakMap<TxEnvelope, Uint8Array>();
type Memo = TxEnvelope & { [TX_HASH]?: Uint8Array };

/** namespace || payload is assembled here so one native one-shot sha256 call hashes it. */
const scratch = Buffer.allocUnsafe(LIMITS.maxTxBytes + 4);

/** Transaction id: sha256(namespace u32 BE || payload). */
export function txHash(tx: TxEnvelope): Uint8Array {
  let h = (tx as Memo)[TX_HASH];
  if (h === undefined && !Object.isExtensible(tx)) h = frozenCache.get(tx);
  if (h === undefined) {
    const p = tx.payload;
    if (p.byteLength + 4 <= scratch.byteLength) {
      scratch.writeUInt32BE(tx.namespace >>> 0, 0);
      scratch.set(p, 4);
      const d = oneShotHash('sha256', scratch.subarray(0, p.byteLength + 4), 'buffer');
      h = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    } else {
      h = sha256(u32be(tx.namespace), p);
    }
    if (Object.isExtensible(tx)) Object.defineProperty(tx, TX_HASH, { value: h });
    else frozenCache.set(tx, h);
  }
  return h;
}

export function headerHash(h: BlockHeader): Uint8Array {
  return sha256(encodeHeader(h));
}

export function blockHash(b: Block): Uint8Array {
  return headerHash(b.header);
}

export function certificateHash(c: CommitCertificate): Uint8Array {
  return sha256(encodeCertificate(c));
}

const VOTE_TAG = enc.encode('ordo/vote/v1');
const PROPOSAL_TAG = enc.encode('ordo/proposal/v1');
const BID_TAG = enc.encode('ordo/bid/v1');

/** Canonical vote encoding signed by validators (and checked inside commit certificates). */
export function voteSignBytes(
  chainId: string,
  type: VoteType,
  height: number,
  round: number,
  blockHash: Uint8Array | null,
): Uint8Array {
  return sha256(
    VOTE_TAG,
    lp(enc.encode(chainId)),
    new Uint8Array([type === 'prevote' ? 1 : 2]),
    u64be(height),
    u32be(round),
    lp(blockHash ?? new Uint8Array(0)),
  );
}

export function proposalSignBytes(
  chainId: string,
  height: number,
  round: number,
  polRound: number,
  blockHash: Uint8Array,
): Uint8Array {
  return sha256(
    PROPOSAL_TAG,
    lp(enc.encode(chainId)),
    u64be(height),
    u32be(round),
    u32be(polRound + 1),
    blockHash,
  );
}

/** The commitment a bidder publishes before revealing: hash of everything in the reveal but the signature. */
export function bidCommitment(chainId: string, r: Omit<BidReveal, 'signature'>): Uint8Array {
  return sha256(
    BID_TAG,
    lp(enc.encode(chainId)),
    u64be(r.slot),
    r.bidder,
    u64be(r.amount),
    bundleHash(chainId, r.bundle),
    r.salt,
  );
}
