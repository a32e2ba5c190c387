/**
 * A lean JSON-RPC (and binary batch) transport for the load generator: POST over node:http with a keep-alive agent per
 * target (bounded sockets), a timeout on every request, and the raw response text returned so large
 * batch answers are parsed once by the caller.
 */
import { Agent, request } from 'node:http';
import { OrdoError } from '../errors.ts';

const STALE = Symbol('stale keep-alive socket');
type StaleSocket = { [STALE]?: boolean };

export class HttpTarget {
  readonly url: URL;
  readonly agent: Agent;
  /** Requests sent again after a stale keep-alive socket was reset (see `post`). */
  retries = 0;

  constructor(url: string, maxSockets = 32) {
    this.url = new URL(url);
    if (this.url.protocol !== 'http:') {
      throw new OrdoError('LOADGEN_BAD_URL', `only http:// RPC URLs are supported, got ${url}`);
    }
    this.agent = new Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 1000 });
  }

  /**
   * POST `body`. A request that fails with ECONNRESET on a reused keep-alive socket is sent once more
   * on a fresh one: the server closed that idle socket as the request went out (the race every
   * keep-alive client has), so the request never reached it. Submissions are idempotent (a resent
   * transaction is a duplicate), so the retry cannot double-count.
   */
  async post(body: string, timeoutMs: number): Promise<{ status: number; text: string }> {
    return this.#retrying(() => this.#send(this.url.pathname, 'application/json', body, timeoutMs));
  }

  /** POST binary `body` (a protobuf message) to `path` on the same origin; same retry and timeout. */
  async postBytes(
    path: string,
    body: Uint8Array,
    timeoutMs: number,
  ): Promise<{ status: number; text: string }> {
    return this.#retrying(() => this.#send(path, 'application/x-protobuf', body, timeoutMs));
  }

  async #retrying(
    send: () => Promise<{ status: number; text: string }>,
  ): Promise<{ status: number; text: string }> {
    try {
      return await send();
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ECONNRESET' || !(err as StaleSocket)[STALE]) throw err;
      this.retries++;
      return send();
    }
  }

  #send(
    path: string,
    type: string,
    body: string | Uint8Array,
    timeoutMs: number,
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      let gotResponse = false;
      const req = request(
        {
          host: this.url.hostname,
          port: this.url.port,
          path,
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': type,
            'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
          },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new OrdoError('LOADGEN_TIMEOUT', `request timed out after ${timeoutMs} ms`)),
      );
      req.on('error', (err) => {
        // No response byte arrived on a socket that had served earlier requests: a stale keep-alive.
        if (req.reusedSocket && !gotResponse) (err as StaleSocket)[STALE] = true;
        reject(err);
      });
      req.once('response', () => {
        gotResponse = true;
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
