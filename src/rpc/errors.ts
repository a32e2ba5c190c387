/**
 * JSON-RPC error codes, and the one place where typed component errors become RPC errors.
 * Standard codes: -32700 parse error, -32600 invalid request (also oversized body), -32601 method not
 * found, -32602 invalid params, -32603 internal error. Application codes (documented in docs/rpc.md):
 *   -32001 transaction rejected (data.code says why, e.g. DUPLICATE, TX_TOO_LARGE, INVALID_TX)
 *   -32002 mempool full (retryable: data.retryable = true)
 *   -32003 node overloaded (retryable: back off and retry; data.retryAfterMs)
 *   -32005 limit exceeded (data.code: RESPONSE_TOO_LARGE, TOO_MANY_SUBSCRIPTIONS, …; docs/operating.md "Limits")
 */
import { type DecodeErrorCode, isOrdoError } from '../errors.ts';
import type { RejectCode } from '../types.ts';

export const RPC = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
  TX_REJECTED: -32001,
  MEMPOOL_FULL: -32002,
  OVERLOADED: -32003,
  LIMIT_EXCEEDED: -32005,
} as const;
export type RpcCode = (typeof RPC)[keyof typeof RPC];

/**
 * An error answered to the caller. It carries no stack trace: it is an answer, not a bug report, and
 * under overload thousands per second are made (a captured stack cost more than the rejection itself).
 */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'RpcError';
    this.code = code;
    this.data = data;
  }
}

export function invalidParams(message: string, data?: unknown): RpcError {
  return new RpcError(RPC.INVALID_PARAMS, `invalid params: ${message}`, data);
}

/** Typed codes with a JSON-RPC code of their own; any other OrdoError is INTERNAL. */
const CODE_MAP: ReadonlyMap<string, RpcCode> = new Map<DecodeErrorCode | RejectCode, RpcCode>([
  ['UNKNOWN_NAMESPACE', RPC.INVALID_PARAMS],
  ['DECODE_TOO_LARGE', RPC.INVALID_PARAMS],
  ['DECODE_INVALID_FIELD', RPC.INVALID_PARAMS],
  ['DECODE_MALFORMED', RPC.INVALID_PARAMS],
  ['DECODE_EMPTY', RPC.INVALID_PARAMS],
  ['TX_TOO_LARGE', RPC.INVALID_PARAMS],
  ['MEMPOOL_FULL', RPC.MEMPOOL_FULL],
  ['LANE_FULL', RPC.MEMPOOL_FULL],
  ['OVERLOADED', RPC.OVERLOADED],
]);

/** Map anything thrown by a handler to a JSON-RPC error object. Internal details are not leaked. */
export function toRpcError(err: unknown): { code: number; message: string; data?: unknown } {
  if (err instanceof RpcError)
    return { code: err.code, message: err.message, ...(err.data !== undefined ? { data: err.data } : {}) };
  if (isOrdoError(err)) {
    return {
      code: CODE_MAP.get(err.code) ?? RPC.INTERNAL,
      message: err.message,
      data: { code: err.code, ...err.data },
    };
  }
  return { code: RPC.INTERNAL, message: 'internal error' };
}
