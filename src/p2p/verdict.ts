/**
 * The one place where typed error codes become gossip verdicts (accept / ignore / reject) and where
 * mempool admission results become batch verdicts. Topic validators throw or return typed errors; the
 * networks call `verdictForError` so that a decoding failure (the sender's fault) is rejected and
 * penalised, while a local condition (our mempool is full, we already have it) is ignored without
 * penalty. Unknown errors are treated as ours, not the peer's: ignore, never reject.
 */
import { type DecodeErrorCode, isOrdoError } from '../errors.ts';
import type { AdmitResult, RejectCode } from '../types.ts';
import type { Verdict } from './network.ts';

/** Codes the p2p layer itself produces for a gossiped message (libp2p/network.ts, memory/network.ts). */
export const GOSSIP_ERROR_CODES = ['GOSSIP_TOO_LARGE'] as const;
export type GossipErrorCode = (typeof GOSSIP_ERROR_CODES)[number];

/**
 * Every code a gossip handler can produce: decoding (src/errors.ts), mempool admission (src/types.ts)
 * and the p2p layer's own. To add a penalty, add its code to one of these unions (or a new one here)
 * and give it a verdict below: the table must name every member and nothing else.
 */
export type VerdictCode = DecodeErrorCode | RejectCode | GossipErrorCode;

const VERDICTS = {
  // the message itself is bad (the sender should have known): reject and penalise
  DECODE_TOO_LARGE: 'reject',
  DECODE_MALFORMED: 'reject',
  DECODE_INVALID_FIELD: 'reject',
  DECODE_EMPTY: 'reject',
  GOSSIP_TOO_LARGE: 'reject',
  INVALID_TX: 'reject',
  TX_TOO_LARGE: 'reject',
  UNKNOWN_NAMESPACE: 'reject',
  // local state or timing: drop quietly, do not forward, do not penalise
  DECODE_UNEXPECTED: 'ignore',
  DUPLICATE: 'ignore',
  ALREADY_COMMITTED: 'ignore',
  MEMPOOL_FULL: 'ignore',
  LANE_FULL: 'ignore',
  OVERLOADED: 'ignore',
  NONCE_TOO_LOW: 'ignore',
  NONCE_GAP_TOO_LARGE: 'ignore',
} as const satisfies Record<VerdictCode, Verdict>;

const VERDICT_OF: ReadonlyMap<string, Verdict> = new Map(Object.entries(VERDICTS));

/** The verdict for a typed code; a code outside `VerdictCode` is ours, not the peer's: ignore. */
export function verdictForCode(code: string): Verdict {
  return VERDICT_OF.get(code) ?? 'ignore';
}

/** Map anything a gossip handler threw to a verdict. */
export function verdictForError(err: unknown): Verdict {
  if (isOrdoError(err)) return verdictForCode(err.code);
  return 'ignore';
}

/** Is this admission rejection the sender's fault (the transaction is invalid for every node)? */
export function isSenderFault(code: RejectCode): boolean {
  return verdictForCode(code) === 'reject';
}

/**
 * Verdict for a whole gossiped batch from its per-transaction admission results: any transaction that is
 * invalid for every node rejects the batch; a batch that added nothing new is ignored (not forwarded);
 * otherwise accept (forward it so the rest of the network gets the new transactions).
 */
export function verdictForBatch(results: readonly AdmitResult[]): Verdict {
  let added = 0;
  for (const r of results) {
    if (r.ok) added++;
    else if (isSenderFault(r.code)) return 'reject';
  }
  return added > 0 ? 'accept' : 'ignore';
}
