/**
 * Typed errors of the rollup adapter. `AdapterError` covers stream and request failures (each maps to
 * one gRPC status in server.ts and back in the SDK); `VerificationError` is what the SDK throws when a
 * node serves a block slice that does not check out against the validator set and the header.
 */
import { type ErrorData, OrdoError } from '../errors.ts';

export type AdapterErrorCode =
  | 'UNKNOWN_NAMESPACE'
  | 'FROM_HEIGHT_TOO_FAR'
  | 'HEIGHT_PRUNED'
  | 'CONSUMER_TOO_SLOW'
  | 'TOO_MANY_STREAMS'
  | 'INVALID_ARGUMENT'
  | 'BLOCK_MISSING'
  | 'UNAVAILABLE'
  | 'CLOSED';

export class AdapterError extends OrdoError<AdapterErrorCode> {
  constructor(code: AdapterErrorCode, message: string, data: ErrorData = {}, options?: { cause?: unknown }) {
    super(code, message, data, options);
    this.name = 'AdapterError';
  }

  /** For CONSUMER_TOO_SLOW: the first height the server did not send. */
  get resumeHeight(): number | undefined {
    const h = this.data.resumeHeight;
    return typeof h === 'number' ? h : undefined;
  }
}

export type VerificationErrorCode =
  | 'CERT_INVALID'
  | 'CERT_INSUFFICIENT_POWER'
  | 'CERT_BAD_SIGNATURE'
  | 'HEADER_MISMATCH'
  | 'PROOF_INVALID'
  /** Certified results do not lead to the header's results_hash. */
  | 'RESULTS_INVALID'
  /** The auction part does not lead to the header's auction_hash (or does not decode). */
  | 'AUCTION_INVALID'
  | 'UNEXPECTED_HEIGHT'
  | 'MALFORMED';

export class VerificationError extends OrdoError<VerificationErrorCode> {
  constructor(
    code: VerificationErrorCode,
    message: string,
    data: ErrorData = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, data, options);
    this.name = 'VerificationError';
  }
}
