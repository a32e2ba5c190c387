/**
 * Commit certificates: the proof that a block was committed. A certificate carries precommit
 * signatures from MORE than 2/3 of the voting power over the canonical vote encoding
 * `voteSignBytes(chainId, 'precommit', height, round, blockHash)`. `verifyCertificate` is a pure
 * library function used by catch-up, rollup adapters and light clients; it throws a typed
 * `CertificateError` saying exactly what was wrong. `makeCertificate` builds one from precommits.
 */
import { voteSignBytes } from '../codec/index.ts';
import { bytesEqual, toHex } from '../crypto/index.ts';
import { OrdoError } from '../errors.ts';
import type { CommitCertificate, Vote } from '../types.ts';
import { ed25519Verify, type VerifyFn } from './signing.ts';
import type { ValidatorSet } from './types.ts';
import { isQuorum } from './validators.ts';

export type CertificateErrorCode =
  | 'CERT_MALFORMED'
  | 'CERT_WRONG_BLOCK'
  | 'CERT_UNKNOWN_VALIDATOR'
  | 'CERT_DUPLICATE_SIGNER'
  | 'CERT_BAD_SIGNATURE'
  | 'CERT_INSUFFICIENT_POWER';

export class CertificateError extends OrdoError<CertificateErrorCode> {
  constructor(code: CertificateErrorCode, message: string, data: Record<string, unknown> = {}) {
    super(code, message, data);
    this.name = 'CertificateError';
  }
}

export interface VerifyCertificateOptions {
  /** Signature check; ed25519 (strict RFC 8032) unless a simulator passes its own. */
  verify?: VerifyFn;
}

/**
 * Verify `cert` against `set` for `chainId`. When `expectedBlockHash` is given the certificate must be
 * for exactly that block. Returns the signed voting power. Throws `CertificateError` on: malformed
 * fields, wrong block, a validator index outside the set, a repeated signer, a bad signature, or signed
 * power not strictly above 2/3 of the total.
 */
export function verifyCertificate(
  cert: CommitCertificate,
  set: ValidatorSet,
  chainId: string,
  expectedBlockHash?: Uint8Array,
  opts: VerifyCertificateOptions = {},
): number {
  const verify = opts.verify ?? ed25519Verify;
  if (!Number.isSafeInteger(cert.height) || cert.height < 1) {
    throw new CertificateError(
      'CERT_MALFORMED',
      `certificate height ${cert.height} is not a positive integer`,
    );
  }
  if (!Number.isInteger(cert.round) || cert.round < 0) {
    throw new CertificateError(
      'CERT_MALFORMED',
      `certificate round ${cert.round} is not a non-negative integer`,
    );
  }
  if (!(cert.blockHash instanceof Uint8Array) || cert.blockHash.byteLength !== 32) {
    throw new CertificateError('CERT_MALFORMED', 'certificate block hash must be 32 bytes');
  }
  if (expectedBlockHash !== undefined && !bytesEqual(cert.blockHash, expectedBlockHash)) {
    throw new CertificateError(
      'CERT_WRONG_BLOCK',
      `certificate is for block ${toHex(cert.blockHash)}, expected ${toHex(expectedBlockHash)}`,
      { height: cert.height },
    );
  }
  const msg = voteSignBytes(chainId, 'precommit', cert.height, cert.round, cert.blockHash);
  const seen = new Set<number>();
  let power = 0;
  for (const s of cert.sigs) {
    const v = set.validators[s.validatorIndex];
    if (!Number.isInteger(s.validatorIndex) || v === undefined) {
      throw new CertificateError(
        'CERT_UNKNOWN_VALIDATOR',
        `certificate signer index ${s.validatorIndex} is not in the validator set of ${set.validators.length}`,
        { validatorIndex: s.validatorIndex, height: cert.height },
      );
    }
    if (seen.has(s.validatorIndex)) {
      throw new CertificateError(
        'CERT_DUPLICATE_SIGNER',
        `validator ${s.validatorIndex} signs the certificate more than once`,
        { validatorIndex: s.validatorIndex, height: cert.height },
      );
    }
    seen.add(s.validatorIndex);
    if (!verify(v.publicKey, msg, s.signature)) {
      throw new CertificateError(
        'CERT_BAD_SIGNATURE',
        `signature of validator ${s.validatorIndex} does not verify for height ${cert.height} round ${cert.round}`,
        { validatorIndex: s.validatorIndex, height: cert.height },
      );
    }
    power += v.votingPower;
  }
  if (!isQuorum(power, set.totalPower)) {
    throw new CertificateError(
      'CERT_INSUFFICIENT_POWER',
      `certificate carries ${power} of ${set.totalPower} voting power; more than 2/3 is required`,
      { power, totalPower: set.totalPower, height: cert.height },
    );
  }
  return power;
}

/**
 * Build a certificate from precommits for one block at one (height, round). Votes for other blocks,
 * heights, rounds or types are ignored; signers are sorted by index and deduplicated. The caller is
 * responsible for having verified the votes' signatures (the state machine does on receipt).
 */
export function makeCertificate(
  height: number,
  round: number,
  blockHash: Uint8Array,
  precommits: Iterable<Vote>,
): CommitCertificate {
  const byIndex = new Map<number, Uint8Array>();
  for (const v of precommits) {
    if (v.type !== 'precommit' || v.height !== height || v.round !== round) continue;
    if (v.blockHash === null || !bytesEqual(v.blockHash, blockHash)) continue;
    if (!byIndex.has(v.validatorIndex)) byIndex.set(v.validatorIndex, v.signature);
  }
  const sigs = [...byIndex.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([validatorIndex, signature]) => ({ validatorIndex, signature }));
  return { height, round, blockHash, sigs };
}
