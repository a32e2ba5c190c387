/**
 * The mempool's limits (counts, bytes, times) with their defaults, and their validation at start:
 * a bad value is a typed MEMPOOL_CONFIG_INVALID error naming the field.
 */
import { OrdoError } from '../errors.ts';

export interface MempoolLimits {
  /** Pending transactions over all lanes. */
  maxTotalTxs: number;
  /** Pending payload bytes over all lanes. */
  maxTotalBytes: number;
  /** A pending transaction older than this is dropped `expired`. */
  ttlMs: number;
  /** A nonce-gapped (held) transaction whose gap has not filled within this is dropped `expired`. */
  heldTtlMs: number;
  /** Final statuses (committed / dropped) are served for this long after the transaction left... */
  statusRetentionMs: number;
  /** ...and at most this many of them are kept (oldest forgotten first). */
  maxStatusEntries: number;
  /** Executed lanes: a transaction may be at most this many nonces ahead of the sender's next one. */
  maxNonceGap: number;
  /** RPC admissions are refused with OVERLOADED above this fraction of any capacity (lane or total). */
  highWaterFraction: number;
  /**
   * Admission control sized to what the network commits: RPC admissions are refused with OVERLOADED
   * while the pool holds more than this many seconds of the recent commit rate (0 turns it off). A
   * pool that only ever grows under overload turns every accepted transaction into a long wait and
   * spends the CPU that consensus needs on admitting transactions that cannot commit soon.
   */
  maxBacklogSeconds: number;
  /** ...but never refuses below this many pending transactions (the rate is unknown at start-up). */
  minBacklogTxs: number;
  /** Recently committed hashes remembered to reject re-submissions (count-bounded). */
  maxCommittedHashes: number;
  /** Next-nonce memory for senders with nothing pending (count-bounded). */
  maxSenderCache: number;
}

export const DEFAULT_MEMPOOL_LIMITS: MempoolLimits = {
  maxTotalTxs: 100_000,
  maxTotalBytes: 128 * 1024 * 1024,
  ttlMs: 240_000,
  heldTtlMs: 60_000,
  statusRetentionMs: 600_000,
  maxStatusEntries: 200_000,
  maxNonceGap: 16,
  highWaterFraction: 0.9,
  maxBacklogSeconds: 1,
  minBacklogTxs: 5_000,
  maxCommittedHashes: 200_000,
  maxSenderCache: 100_000,
};

export function positiveInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v <= 0) {
    throw new OrdoError(
      'MEMPOOL_CONFIG_INVALID',
      `mempool limit ${name} must be a positive integer, got ${v}`,
      {
        field: name,
        value: v,
      },
    );
  }
}

/** The defaults overlaid with `partial`, validated. */
export function resolveLimits(partial: Partial<MempoolLimits> | undefined): MempoolLimits {
  const l: MempoolLimits = { ...DEFAULT_MEMPOOL_LIMITS, ...partial };
  for (const k of [
    'maxTotalTxs',
    'maxTotalBytes',
    'ttlMs',
    'heldTtlMs',
    'statusRetentionMs',
    'maxStatusEntries',
    'maxCommittedHashes',
    'maxSenderCache',
    'minBacklogTxs',
  ] as const) {
    positiveInt(k, l[k]);
  }
  if (!Number.isSafeInteger(l.maxNonceGap) || l.maxNonceGap < 0) {
    throw new OrdoError('MEMPOOL_CONFIG_INVALID', `mempool limit maxNonceGap must be an integer >= 0`, {
      field: 'maxNonceGap',
      value: l.maxNonceGap,
    });
  }
  if (!(Number.isFinite(l.maxBacklogSeconds) && l.maxBacklogSeconds >= 0)) {
    throw new OrdoError('MEMPOOL_CONFIG_INVALID', `mempool limit maxBacklogSeconds must be a number >= 0`, {
      field: 'maxBacklogSeconds',
      value: l.maxBacklogSeconds,
    });
  }
  if (!(l.highWaterFraction > 0 && l.highWaterFraction <= 1)) {
    throw new OrdoError('MEMPOOL_CONFIG_INVALID', `mempool limit highWaterFraction must be in (0, 1]`, {
      field: 'highWaterFraction',
      value: l.highWaterFraction,
    });
  }
  return l;
}
