/**
 * A lean JSON-RPC transport for the load generator: POST over node:http with a keep-alive agent per
 * target (bounded sockets), a timeout on every request, and the raw response text returned so large
 * batch answers are parsed once by the caller.
 */
import { Agent, request } from 'node:http';
import { OrdoError } from '../errors.ts';

export class HttpTarget {
  readonly url: URL;
  readonly agent: Agent;

  constructor(url: string, maxSockets = 32) {
    this.url = new URL(url);
    if (this.url.protocol !== 'http:') {
      throw new OrdoError('LOADGEN_BAD_URL', `only http:// RPC URLs are supported, got ${url}`);
    }
    this.agent = new Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 1000 });
  }

  post(body: string, timeoutMs: number): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.url.hostname,
          port: this.url.port,
          path: this.url.pathname,
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
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
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
