/**
 * The one place where typed error codes become gossip verdicts (accept / ignore / reject) and where
 * mempool admission results become batch verdicts. Topic validators throw or return typed errors; the
 * networks call `verdictForError` so that a decoding failure (the sender's fault) is rejected and
 * penalised, while a local condition (our mempool is full, we already have it) is ignored without
 * penalty. Unknown errors are treated as ours, not the peer's: ignore, never reject.
 */
import { isOrdoError } from '../errors.ts';
import type { AdmitResult, RejectCode } from '../types.ts';
import type { Verdict } from './network.ts';

/** Error codes whose presence proves the message itself is bad (the sender should have known). */
const REJECT_CODES: ReadonlySet<string> = new Set([
  'DECODE_TOO_LARGE',
  'DECODE_MALFORMED',
  'DECODE_INVALID_FIELD',
  'DECODE_EMPTY',
  'GOSSIP_TOO_LARGE',
  'INVALID_SIGNATURE',
  'WRONG_CHAIN',
  'INVALID_TX',
  'TX_TOO_LARGE',
  'UNKNOWN_NAMESPACE',
  'INVALID_PROPOSAL',
  'INVALID_VOTE',
  'INVALID_BID',
]);

/** Codes that describe local state or timing: drop quietly, do not forward, do not penalise. */
const IGNORE_CODES: ReadonlySet<string> = new Set([
  'DUPLICATE',
  'ALREADY_COMMITTED',
  'MEMPOOL_FULL',
  'LANE_FULL',
  'OVERLOADED',
  'NONCE_TOO_LOW',
  'NONCE_GAP_TOO_LARGE',
  'FUTURE_HEIGHT',
  'PAST_HEIGHT',
  'UNKNOWN_VALIDATOR',
]);

export function verdictForCode(code: string): Verdict {
  if (REJECT_CODES.has(code)) return 'reject';
  if (IGNORE_CODES.has(code)) return 'ignore';
  return 'ignore';
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
