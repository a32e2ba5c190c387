/**
 * JSON-RPC 2.0 over HTTP (POST /) and WebSocket (same port), plus GET /metrics (Prometheus) and
 * GET /health. Transport only: methods are registered by the node (src/rpc/methods.ts). Every request is
 * bounded (body size, batch length, connection count, timeout) and every failure answers with a
 * JSON-RPC error that says what was wrong; a bad request never affects other clients.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import { type WebSocket, WebSocketServer } from 'ws';
import { RPC, RpcError, toRpcError } from './errors.ts';

export type Params = unknown[];
export interface CallContext {
  /** Set for WebSocket calls: push a notification to this client. */
  notify?: (method: string, params: unknown) => boolean;
  /** Called when the WebSocket closes. */
  onClose?: (fn: () => void) => void;
}
export type Handler = (params: Params, ctx: CallContext) => unknown | Promise<unknown>;

export interface RpcServerOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  maxConnections: number;
  maxBatchRequests: number;
  requestTimeoutMs: number;
  registry?: Registry;
  logger?: Logger;
  /** Extra GET routes (e.g. the dashboard), path → handler. */
  routes?: Record<string, (req: IncomingMessage, res: ServerResponse) => void>;
}

interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: string | number | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export class RpcServer {
  readonly #opts: RpcServerOptions;
  readonly #methods = new Map<string, Handler>();
  /** Method tables served at other paths (POST and WebSocket upgrade), e.g. `/evm/3` (src/eth-rpc). */
  readonly #mounts = new Map<string, ReadonlyMap<string, Handler>>();
  readonly #log: Logger;
  #http: Server | undefined;
  #wss: WebSocketServer | undefined;

  constructor(opts: RpcServerOptions) {
    this.#opts = opts;
    this.#log = opts.logger ?? pino({ level: 'silent' });
  }

  register(method: string, handler: Handler): void {
    this.#methods.set(method, handler);
  }

  /**
   * Serve another method table at `path` (exact match, HTTP POST and WebSocket): a component with its
   * own JSON-RPC dialect (the Ethereum RPC of an EVM rollup) gets its own door on the same port.
   */
  mount(path: string, methods: ReadonlyMap<string, Handler>): void {
    if (!path.startsWith('/') || path === '/') throw new RangeError(`cannot mount at ${path}`);
    this.#mounts.set(path, methods);
  }

  /** The mounted table at `path` (a trailing slash is ignored). */
  #mountAt(path: string): ReadonlyMap<string, Handler> | undefined {
    return this.#mounts.size === 0 ? undefined : this.#mounts.get(path.replace(/\/+$/, ''));
  }

  get port(): number {
    return (this.#http?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    const http = createServer((req, res) => void this.#onHttp(req, res));
    http.maxConnections = this.#opts.maxConnections;
    http.requestTimeout = this.#opts.requestTimeoutMs;
    http.headersTimeout = Math.min(this.#opts.requestTimeoutMs, 60_000);
    http.keepAliveTimeout = 5_000;
    const wss = new WebSocketServer({ noServer: true, maxPayload: this.#opts.maxBodyBytes });
    http.on('upgrade', (req, socket, head) => {
      const table = this.#mountAt((req.url ?? '/').split('?')[0] ?? '/') ?? this.#methods;
      wss.handleUpgrade(req, socket, head, (ws) => this.#onWs(ws, table));
    });
    this.#http = http;
    this.#wss = wss;
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(this.#opts.port, this.#opts.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    this.#log.info({ host: this.#opts.host, port: this.port }, 'rpc listening');
  }

  async stop(): Promise<void> {
    for (const c of this.#wss?.clients ?? []) c.terminate();
    this.#wss?.close();
    const http = this.#http;
    if (http === undefined) return;
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    this.#http = undefined;
  }

  async #onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (req.method === 'GET' || req.method === 'HEAD') {
        if (path === '/metrics' && this.#opts.registry !== undefined) {
          const body = await this.#opts.registry.metrics();
          res.writeHead(200, { 'content-type': this.#opts.registry.contentType });
          res.end(body);
          return;
        }
        if (path === '/health') return sendJson(res, 200, { ok: true });
        const route = this.#opts.routes?.[path];
        if (route !== undefined) return route(req, res);
        return sendJson(res, 404, { error: `no route GET ${path}; JSON-RPC is served by POST /` });
      }
      if (req.method === 'OPTIONS') {
        res.writeHead(204, corsHeaders());
        res.end();
        return;
      }
      if (req.method !== 'POST') return sendJson(res, 405, { error: 'use POST for JSON-RPC' });
      const body = await readBody(req, this.#opts.maxBodyBytes);
      if (body === undefined) {
        return sendJson(
          res,
          413,
          errorResponse(null, RPC.INVALID_REQUEST, `request body exceeds ${this.#opts.maxBodyBytes} bytes`),
        );
      }
      const out = await this.handleText(body, {}, this.#mountAt(path));
      if (out === undefined) {
        res.writeHead(204, corsHeaders());
        res.end();
        return;
      }
      sendJson(res, 200, out);
    } catch (err) {
      this.#log.warn({ err }, 'rpc http request failed');
      if (!res.headersSent) sendJson(res, 500, errorResponse(null, RPC.INTERNAL, 'internal error'));
      else res.destroy();
    }
  }

  #onWs(ws: WebSocket, table: ReadonlyMap<string, Handler>): void {
    const closers: (() => void)[] = [];
    const ctx: CallContext = {
      notify: (method, params) => {
        if (ws.readyState !== ws.OPEN) return false;
        if (ws.bufferedAmount > this.#opts.maxBodyBytes * 4) return false; // slow client: drop, never buffer without bound
        ws.send(JSON.stringify({ jsonrpc: '2.0', method, params }));
        return true;
      },
      onClose: (fn) => closers.push(fn),
    };
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        ws.send(
          JSON.stringify(
            errorResponse(null, RPC.INVALID_REQUEST, 'binary frames are not supported; send JSON text'),
          ),
        );
        return;
      }
      void this.handleText(data.toString(), ctx, table).then((out) => {
        if (out !== undefined && ws.readyState === ws.OPEN) ws.send(JSON.stringify(out));
      });
    });
    ws.on('close', () => {
      for (const fn of closers) fn();
    });
    ws.on('error', (err) => this.#log.debug({ err }, 'websocket error'));
  }

  /** Handle one JSON-RPC payload (single or batch); undefined when only notifications were sent. */
  async handleText(
    text: string,
    ctx: CallContext,
    table: ReadonlyMap<string, Handler> = this.#methods,
  ): Promise<JsonRpcResponse | JsonRpcResponse[] | undefined> {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch (err) {
      return errorResponse(null, RPC.PARSE_ERROR, `parse error: ${(err as Error).message}`);
    }
    if (Array.isArray(msg)) {
      if (msg.length === 0) return errorResponse(null, RPC.INVALID_REQUEST, 'invalid request: empty batch');
      if (msg.length > this.#opts.maxBatchRequests) {
        return errorResponse(
          null,
          RPC.INVALID_REQUEST,
          `invalid request: batch of ${msg.length} exceeds ${this.#opts.maxBatchRequests}`,
        );
      }
      const outs = await Promise.all(msg.map((m) => this.#call(m, ctx, table)));
      const present = outs.filter((o): o is JsonRpcResponse => o !== undefined);
      return present.length > 0 ? present : undefined;
    }
    return this.#call(msg, ctx, table);
  }

  async #call(
    msg: unknown,
    ctx: CallContext,
    table: ReadonlyMap<string, Handler>,
  ): Promise<JsonRpcResponse | undefined> {
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      return errorResponse(null, RPC.INVALID_REQUEST, 'invalid request: expected a JSON-RPC object');
    }
    const m = msg as Record<string, unknown>;
    const rawId = m.id;
    const idOk =
      rawId === undefined || rawId === null || typeof rawId === 'string' || typeof rawId === 'number';
    const id = idOk ? ((rawId ?? null) as string | number | null) : null;
    if (!idOk)
      return errorResponse(
        null,
        RPC.INVALID_REQUEST,
        'invalid request: "id" must be a string, number or null',
      );
    if (m.jsonrpc !== '2.0')
      return errorResponse(id, RPC.INVALID_REQUEST, 'invalid request: "jsonrpc" must be "2.0"');
    if (typeof m.method !== 'string')
      return errorResponse(id, RPC.INVALID_REQUEST, 'invalid request: "method" must be a string');
    const isNotification = !('id' in m);
    const handler = table.get(m.method);
    if (handler === undefined) {
      return isNotification
        ? undefined
        : errorResponse(id, RPC.METHOD_NOT_FOUND, `method not found: ${m.method.slice(0, 100)}`);
    }
    const params = m.params ?? [];
    if (!Array.isArray(params)) {
      return isNotification
        ? undefined
        : errorResponse(id, RPC.INVALID_PARAMS, 'invalid params: "params" must be an array (positional)');
    }
    try {
      const result = await handler(params, ctx);
      return isNotification ? undefined : { jsonrpc: '2.0', id, result: result ?? null };
    } catch (err) {
      const e = toRpcError(err);
      if (e.code === RPC.INTERNAL) this.#log.error({ err, method: m.method }, 'rpc handler failed');
      return isNotification ? undefined : { jsonrpc: '2.0', id, error: e };
    }
  }
}

function errorResponse(id: string | number | null, code: number, message: string): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

function corsHeaders(): Record<string, string> {
  return {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'POST, GET, OPTIONS',
    'access-control-allow-headers': 'content-type',
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...corsHeaders() });
  res.end(text);
}

/** Read the body up to `max` bytes; undefined when it is larger (the rest is discarded). */
function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) {
      req.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > max) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export { RpcError };
