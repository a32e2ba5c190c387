/**
 * Typed errors for every component. An error carries a stable `code` (used to map verdicts, RPC error
 * codes and log fields in one place) plus a structured `data` payload, in the style of Lodestar's
 * LodestarError. Throw `OrdoError` (or a subclass) instead of bare `Error` wherever a caller may want
 * to react to what went wrong.
 */
export type ErrorData = Record<string, unknown>;

export class OrdoError<C extends string = string> extends Error {
  readonly code: C;
  readonly data: ErrorData;

  constructor(code: C, message: string, data: ErrorData = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OrdoError';
    this.code = code;
    this.data = data;
  }

  toJSON(): { code: C; message: string; data: ErrorData } {
    return { code: this.code, message: this.message, data: this.data };
  }
}

/** Codes for malformed or oversized input, shared by every decoder (each is produced by src/codec). */
export const DECODE_ERROR_CODES = [
  'DECODE_TOO_LARGE',
  'DECODE_MALFORMED',
  'DECODE_INVALID_FIELD',
  'DECODE_EMPTY',
  'DECODE_UNEXPECTED',
] as const;
export type DecodeErrorCode = (typeof DECODE_ERROR_CODES)[number];

export class DecodeError extends OrdoError<DecodeErrorCode> {
  constructor(code: DecodeErrorCode, message: string, data: ErrorData = {}, options?: { cause?: unknown }) {
    super(code, message, data, options);
    this.name = 'DecodeError';
  }
}

export function isOrdoError(err: unknown): err is OrdoError {
  return err instanceof OrdoError;
}

/** Render any thrown value as a one-line message for logs and CLI output. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
