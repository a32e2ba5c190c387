/**
 * A minimal JSON-RPC 2.0 client over HTTP (fetch) with a timeout, for the CLI, the load generator and
 * tests. JSON-RPC errors become `RpcCallError` with the server's code, message and data.
 */
import { OrdoError } from '../errors.ts';

export class RpcCallError extends OrdoError<'RPC_ERROR' | 'RPC_UNREACHABLE'> {
  readonly rpcCode: number;
  constructor(
    code: 'RPC_ERROR' | 'RPC_UNREACHABLE',
    rpcCode: number,
    message: string,
    data: Record<string, unknown> = {},
  ) {
    super(code, message, data);
    this.name = 'RpcCallError';
    this.rpcCode = rpcCode;
  }
}

let nextId = 1;

export async function rpcCall(
  url: string,
  method: string,
  params: unknown[],
  timeoutMs = 10_000,
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new RpcCallError('RPC_UNREACHABLE', 0, `cannot reach ${url}: ${(err as Error).message}`, { url });
  }
  const text = await res.text();
  let body: { result?: unknown; error?: { code: number; message: string; data?: unknown } };
  try {
    body = JSON.parse(text);
  } catch {
    throw new RpcCallError(
      'RPC_ERROR',
      0,
      `${url} answered HTTP ${res.status} with non-JSON: ${text.slice(0, 200)}`,
    );
  }
  if (body.error !== undefined) {
    throw new RpcCallError('RPC_ERROR', body.error.code, body.error.message, { rpcData: body.error.data });
  }
  return body.result;
}
