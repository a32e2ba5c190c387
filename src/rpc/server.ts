/**
 * JSON-RPC 2.0 over HTTP (POST /) and WebSocket (same port), plus GET /metrics (Prometheus),
 * GET /health (liveness) and GET /ready (readiness), and binary POST routes registered with `postBinary`
 * (the protobuf transaction batch, `POST /ordo/v1/tx-batch`). Transport only: methods are registered by the node
 * (src/rpc/methods.ts) and the health checks are handed in (src/node/health.ts).
 *
 * Every public resource is bounded, and a client past a bound gets a clear error or is disconnected
 * without affecting anyone else (limits in `RpcLimits`, config keys in docs/operating.md):
 * - per TCP connection: body size, header timeout (slowloris), whole-request timeout, idle timeout;
 * - per remote address: open connections (HTTP and WebSocket share the count);
 * - per answer: total response bytes of one request or batch. A batch runs entry by entry, yielding
 *   between entries, and each result is serialised once as it completes; when the running total passes
 *   the budget the rest of the batch is not executed and the whole answer is one -32005 error;
 * - per WebSocket: buffered (unread) bytes before disconnect, requests in flight, subscriptions.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { type WebSocket, WebSocketServer } from 'ws';
import { DEFAULT_CONFIG } from '../config/index.ts';
import { RPC, RpcError, toRpcError } from './errors.ts';

export type Params = unknown[];

/** A WebSocket connection's subscriptions, capped per connection. */
export interface Subscriptions {
  /** Register a subscription (its cancel function); returns its unique id. Throws RpcError at the cap. */
  add(cancel: () => void): string;
  /** Cancel one subscription of this connection; false when the id is unknown here. */
  remove(id: string): boolean;
}

export interface CallContext {
  /** Set for WebSocket calls: push a notification to this client (false once it is gone). */
  notify?: (method: string, params: unknown) => boolean;
  /** Called when the WebSocket closes. */
  onClose?: (fn: () => void) => void;
  /** Set for WebSocket calls: this connection's subscriptions. */
  subscriptions?: Subscriptions;
  /** True for an entry of a JSON-RPC batch (entries run one after another, see `concurrentInBatch`). */
  batch?: boolean;
}
/**
 * A method. `concurrentInBatch`: consecutive batch entries of such methods run together, up to
 * BATCH_WINDOW at a time (ADR 0287): reads with no order among them whose work is handed to another
 * thread (eth_call), so that a batch waits for one hand-over per window instead of one per entry.
 */
export type Handler = ((params: Params, ctx: CallContext) => unknown | Promise<unknown>) & {
  readonly concurrentInBatch?: boolean;
};

/** Mark a handler whose batch entries may run together (see `Handler`). */
export function concurrentInBatch(h: (params: Params, ctx: CallContext) => unknown): Handler {
  return Object.assign(h, { concurrentInBatch: true as const });
}

/** Batch entries of `concurrentInBatch` methods started together at most. */
export const BATCH_WINDOW = 16;
/** A binary POST route: the raw body (size-checked) in, an HTTP status and a JSON answer out. */
export type BinaryHandler = (body: Buffer) => { status: number; body: unknown };
/** Content types a binary POST route accepts. */
const BINARY_TYPES = new Set(['application/x-protobuf', 'application/protobuf', 'application/octet-stream']);

/** The answer of a health check: 200 when ok, 503 otherwise; the body says which check failed. */
export interface HealthReport {
  ok: boolean;
  [key: string]: unknown;
}

export interface RpcLimits {
  maxBodyBytes: number;
  /** Open connections in total (HTTP and WebSocket). */
  maxConnections: number;
  /** Open connections from one remote address; more are closed at once. */
  maxConnectionsPerAddress: number;
  maxBatchRequests: number;
  /** Whole request, first byte to last. */
  requestTimeoutMs: number;
  /** Until the request headers are complete (slowloris). */
  headersTimeoutMs: number;
  /** A WebSocket with no message from the client (and no subscription) for this long is closed. */
  idleTimeoutMs: number;
  /** Serialised bytes of one answer (one request, one batch, one WebSocket message). */
  maxResponseBytes: number;
  /** Bytes queued for a WebSocket that the client has not read; past it the socket is closed. */
  maxWsBufferedBytes: number;
  /** Requests of one WebSocket being handled at once; more are answered with -32005. */
  maxWsRequestsInFlight: number;
  /** Subscriptions on one WebSocket. */
  maxSubscriptionsPerConnection: number;
}

/**
 * The server's limits when not given: config.json's `rpc` defaults (src/config/config.ts), set in that one
 * place, without the keys that are not the server's own.
 */
const {
  listen: _listen,
  ethCallWorkers: _ethCallWorkers,
  bundleSimulationGasPerSec: _bundleSimulationGasPerSec,
  ethCallTimeoutMs: _ethCallTimeoutMs,
  ...configLimits
} = DEFAULT_CONFIG.rpc;
/** Fails to compile when config's `rpc` section gains a key that is neither a limit here nor left out above. */
const exactLimits: Exclude<keyof typeof configLimits, keyof RpcLimits> extends never ? true : never = true;
void exactLimits;
export const DEFAULT_RPC_LIMITS: RpcLimits = configLimits;

export interface RpcServerOptions extends Partial<RpcLimits> {
  host: string;
  port: number;
  registry?: Registry;
  logger?: Logger;
  /** Liveness (GET /health) and readiness (GET /ready, or /health?ready); absent: always ok. */
  health?: { live: () => HealthReport; ready: () => HealthReport };
  /** Extra GET routes (e.g. the dashboard), path → handler. */
  routes?: Record<string, (req: IncomingMessage, res: ServerResponse) => void>;
}

interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: string | number | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

type Refusal =
  | 'per_address'
  | 'response_too_large'
  | 'ws_buffered'
  | 'ws_idle'
  | 'ws_in_flight'
  | 'subscriptions';

/** Thrown inside a batch when the answer would pass `maxResponseBytes`. */
class BudgetSpent extends Error {}

export class RpcServer {
  readonly #opts: RpcServerOptions;
  readonly #limits: RpcLimits;
  readonly #methods = new Map<string, Handler>();
  /** Method tables served at other paths (POST and WebSocket upgrade), e.g. `/evm/3` (src/eth-rpc). */
  readonly #mounts = new Map<string, ReadonlyMap<string, Handler>>();
  /** Binary POST routes (e.g. `/ordo/v1/tx-batch`), exact path → handler. */
  readonly #binary = new Map<string, BinaryHandler>();
  readonly #log: Logger;
  readonly #perAddress = new Map<string, number>();
  readonly #refused: Counter<'reason'> | undefined;
  #http: Server | undefined;
  #wss: WebSocketServer | undefined;

  constructor(opts: RpcServerOptions) {
    this.#opts = opts;
    const limits = { ...DEFAULT_RPC_LIMITS };
    for (const k of Object.keys(DEFAULT_RPC_LIMITS) as (keyof RpcLimits)[]) {
      const v = opts[k];
      if (v !== undefined) limits[k] = v;
    }
    this.#limits = limits;
    this.#log = opts.logger ?? pino({ level: 'silent' });
    this.#refused =
      opts.registry === undefined
        ? undefined
        : new Counter({
            name: 'ordo_rpc_refused_total',
            help: 'JSON-RPC requests refused or connections closed at a limit, by reason',
            labelNames: ['reason'],
            registers: [opts.registry],
          });
  }

  get limits(): Readonly<RpcLimits> {
    return this.#limits;
  }

  register(method: string, handler: Handler): void {
    this.#methods.set(method, handler);
  }

  /**
   * Serve another method table at `path` (exact match, HTTP POST and WebSocket): a component with its
   * own JSON-RPC dialect (the Ethereum RPC of an EVM rollup) gets its own door on the same port, with
   * the same limits.
   */
  mount(path: string, methods: ReadonlyMap<string, Handler>): void {
    if (!path.startsWith('/') || path === '/') throw new RangeError(`cannot mount at ${path}`);
    this.#mounts.set(path, methods);
  }

  /**
   * Serve a binary POST route at `path` (exact match): the body, under the same `maxBodyBytes` limit and
   * timeouts as JSON-RPC, with a protobuf or octet-stream content type, goes to `handler` undecoded.
   */
  postBinary(path: string, handler: BinaryHandler): void {
    if (!path.startsWith('/') || path === '/') throw new RangeError(`cannot serve binary POST at ${path}`);
    this.#binary.set(path, handler);
  }

  /**
   * The method table served at `path`: the `ordo_*` table at `/`, a mounted one at its path (a trailing
   * slash is ignored), undefined for any other path (answered 404, never silently the root table: a
   * client with a wrong path, e.g. `/evm/<a namespace that is not an EVM rollup>`, learns it at once).
   */
  #tableAt(path: string): ReadonlyMap<string, Handler> | undefined {
    const p = path.replace(/\/+$/, '');
    return p === '' ? this.#methods : this.#mounts.get(p);
  }

  /** What a request to a path without a method table is told (HTTP 404, WebSocket upgrade refused). */
  #noRoute(verb: string, path: string): string {
    const evm = [...this.#mounts.keys()];
    return `no route ${verb} ${path.slice(0, 200)}; JSON-RPC is served at / (POST or WebSocket)${
      evm.length > 0 ? ` and at ${evm.join(', ')}` : ''
    }${this.#binary.size > 0 ? `; binary POST at ${[...this.#binary.keys()].join(', ')}` : ''}`;
  }

  get port(): number {
    return (this.#http?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    const l = this.#limits;
    const http = createServer(
      {
        headersTimeout: Math.min(l.headersTimeoutMs, l.requestTimeoutMs),
        requestTimeout: l.requestTimeoutMs,
        keepAliveTimeout: 5_000,
        // How often expired header/request timers are checked (Node's default, 30 s, lets a
        // slowloris hold its sockets far past headersTimeout).
        connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(l.headersTimeoutMs / 4))),
      },
      (req, res) => void this.#onHttp(req, res),
    );
    http.maxConnections = l.maxConnections;
    http.on('connection', (socket: Socket) => this.#onConnection(socket));
    const wss = new WebSocketServer({ noServer: true, maxPayload: l.maxBodyBytes });
    http.on('upgrade', (req, socket, head) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const table = this.#tableAt(path);
      if (table === undefined) {
        const body = JSON.stringify({ error: this.#noRoute('WebSocket', path) });
        socket.end(
          `HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
        );
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => this.#onWs(ws, socket as Socket, table));
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

  #refuse(reason: Refusal): void {
    this.#refused?.inc({ reason });
  }

  /** Per-address connection cap: counted on the TCP socket, so HTTP and WebSocket share it. */
  #onConnection(socket: Socket): void {
    const addr = socket.remoteAddress ?? '?';
    const n = (this.#perAddress.get(addr) ?? 0) + 1;
    if (n > this.#limits.maxConnectionsPerAddress) {
      this.#refuse('per_address');
      this.#log.debug(
        { addr, max: this.#limits.maxConnectionsPerAddress },
        'connection refused: per-address cap',
      );
      socket.destroy();
      return;
    }
    this.#perAddress.set(addr, n);
    // A connection that sends nothing at all is not covered by Node's header timeout.
    const silent = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, this.#limits.headersTimeoutMs);
    silent.unref();
    socket.once('close', () => {
      clearTimeout(silent);
      const left = (this.#perAddress.get(addr) ?? 1) - 1;
      if (left <= 0) this.#perAddress.delete(addr);
      else this.#perAddress.set(addr, left);
    });
  }

  async #onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const [path = '/', query = ''] = (req.url ?? '/').split('?');
      if (req.method === 'GET' || req.method === 'HEAD') {
        if (path === '/metrics' && this.#opts.registry !== undefined) {
          const body = await this.#opts.registry.metrics();
          res.writeHead(200, { 'content-type': this.#opts.registry.contentType });
          res.end(body);
          return;
        }
        if (path === '/health' || path === '/ready') {
          const ready = path === '/ready' || new URLSearchParams(query).has('ready');
          const check = ready ? this.#opts.health?.ready : this.#opts.health?.live;
          const report = check?.() ?? { ok: true };
          return sendJson(res, report.ok ? 200 : 503, report);
        }
        const route = this.#opts.routes?.[path];
        if (route !== undefined) return route(req, res);
        return sendJson(res, 404, { error: this.#noRoute('GET', path) });
      }
      if (req.method === 'OPTIONS') {
        res.writeHead(204, corsHeaders());
        res.end();
        return;
      }
      if (req.method !== 'POST') return sendJson(res, 405, { error: 'use POST for JSON-RPC' });
      const binary = this.#binary.get(path);
      if (binary !== undefined) return await this.#onBinary(req, res, binary);
      const table = this.#tableAt(path);
      if (table === undefined) {
        req.resume();
        return sendJson(res, 404, { error: this.#noRoute('POST', path) });
      }
      const raw = await readBody(req, this.#limits.maxBodyBytes);
      const body = raw?.toString('utf8');
      if (body === undefined) {
        return sendJson(
          res,
          413,
          errorResponse(
            null,
            RPC.INVALID_REQUEST,
            `request body exceeds ${this.#limits.maxBodyBytes} bytes (rpc.maxBodyBytes)`,
          ),
        );
      }
      const out = await this.#handle(body, {}, table);
      if (out === undefined) {
        res.writeHead(204, corsHeaders());
        res.end();
        return;
      }
      // A content-length lets Node send status line, headers and body in one write; without it the
      // answer went out chunked (size line, body, terminator: one writev of several buffers) and the
      // client had to undo the chunking.
      res.writeHead(200, jsonHeaders(Buffer.byteLength(out)));
      res.end(out);
    } catch (err) {
      this.#log.warn({ err }, 'rpc http request failed');
      if (!res.headersSent) sendJson(res, 500, errorResponse(null, RPC.INTERNAL, 'internal error'));
      else res.destroy();
    }
  }

  async #onBinary(req: IncomingMessage, res: ServerResponse, handler: BinaryHandler): Promise<void> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!BINARY_TYPES.has(type)) {
      req.resume();
      return sendJson(res, 415, {
        error: {
          code: 'UNSUPPORTED_MEDIA_TYPE',
          message: `content-type must be application/x-protobuf, got "${type}"`,
        },
      });
    }
    const body = await readBody(req, this.#limits.maxBodyBytes);
    if (body === undefined) {
      return sendJson(res, 413, {
        error: {
          code: 'BODY_TOO_LARGE',
          message: `request body exceeds ${this.#limits.maxBodyBytes} bytes (rpc.maxBodyBytes)`,
        },
      });
    }
    const out = handler(body);
    sendJson(res, out.status, out.body);
  }

  #onWs(ws: WebSocket, socket: Socket, table: ReadonlyMap<string, Handler>): void {
    const l = this.#limits;
    const subs = new Map<string, () => void>();
    const closers: (() => void)[] = [];
    let inFlight = 0;
    let lastMessage = Date.now();
    let alive = true;
    /** Send one text frame, or close the socket when the client has left too much unread. */
    const send = (text: string): boolean => {
      if (ws.readyState !== ws.OPEN) return false;
      if (ws.bufferedAmount + text.length > l.maxWsBufferedBytes) {
        this.#refuse('ws_buffered');
        this.#log.debug(
          { addr: socket.remoteAddress, buffered: ws.bufferedAmount, max: l.maxWsBufferedBytes },
          'websocket closed: client does not read (rpc.maxWsBufferedBytes)',
        );
        ws.terminate(); // a close frame would queue behind the unread bytes
        return false;
      }
      ws.send(text);
      return true;
    };
    const ctx: CallContext = {
      notify: (method, params) => send(JSON.stringify({ jsonrpc: '2.0', method, params })),
      onClose: (fn) => closers.push(fn),
      subscriptions: {
        add: (cancel) => {
          if (subs.size >= l.maxSubscriptionsPerConnection) {
            this.#refuse('subscriptions');
            cancel();
            throw new RpcError(
              RPC.LIMIT_EXCEEDED,
              `this connection already has ${subs.size} subscriptions (rpc.maxSubscriptionsPerConnection); unsubscribe first`,
              { code: 'TOO_MANY_SUBSCRIPTIONS', max: l.maxSubscriptionsPerConnection },
            );
          }
          const id = `0x${randomBytes(16).toString('hex')}`;
          subs.set(id, cancel);
          return id;
        },
        remove: (id) => {
          const cancel = subs.get(id);
          if (cancel === undefined) return false;
          subs.delete(id);
          cancel();
          return true;
        },
      },
    };
    // Idle: no message for idleTimeoutMs and no subscription, or a subscriber that stopped answering pings.
    const idleCheck = setInterval(
      () => {
        if (!alive) {
          this.#refuse('ws_idle');
          ws.terminate();
          return;
        }
        if (subs.size === 0 && Date.now() - lastMessage >= l.idleTimeoutMs) {
          this.#refuse('ws_idle');
          ws.close(1000, 'idle (rpc.idleTimeoutMs)');
          setTimeout(() => ws.terminate(), 1_000).unref();
          return;
        }
        if (subs.size > 0) {
          alive = false;
          ws.ping();
        }
      },
      Math.max(50, Math.floor(l.idleTimeoutMs / 2)),
    );
    idleCheck.unref();
    ws.on('pong', () => {
      alive = true;
    });
    ws.on('message', (data, isBinary) => {
      lastMessage = Date.now();
      alive = true;
      if (isBinary) {
        send(
          JSON.stringify(
            errorResponse(null, RPC.INVALID_REQUEST, 'binary frames are not supported; send JSON text'),
          ),
        );
        return;
      }
      if (inFlight >= l.maxWsRequestsInFlight) {
        this.#refuse('ws_in_flight');
        const out = inFlightRefusal(
          data.toString(),
          `${inFlight} requests in flight on this connection (rpc.maxWsRequestsInFlight); wait for answers`,
          l.maxWsRequestsInFlight,
        );
        if (out !== undefined) send(out);
        return;
      }
      inFlight++;
      void this.#handle(data.toString(), ctx, table)
        .then((out) => {
          if (out !== undefined) send(out);
        })
        .catch((err: unknown) => this.#log.warn({ err }, 'websocket request failed'))
        .finally(() => {
          inFlight--;
        });
    });
    ws.on('close', () => {
      clearInterval(idleCheck);
      for (const cancel of subs.values()) cancel();
      subs.clear();
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
    const out = await this.#handle(text, ctx, table);
    return out === undefined ? undefined : (JSON.parse(out) as JsonRpcResponse | JsonRpcResponse[]);
  }

  /** Handle one payload and serialise the answer within `maxResponseBytes`. */
  async #handle(
    text: string,
    ctx: CallContext,
    table: ReadonlyMap<string, Handler>,
  ): Promise<string | undefined> {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch (err) {
      return JSON.stringify(errorResponse(null, RPC.PARSE_ERROR, `parse error: ${(err as Error).message}`));
    }
    const max = this.#limits.maxResponseBytes;
    if (!Array.isArray(msg)) {
      const out = await this.#call(msg, ctx, table);
      if (out === undefined) return undefined;
      const s = JSON.stringify(out);
      if (s.length <= max) return s;
      this.#refuse('response_too_large');
      return JSON.stringify(this.#tooLarge(out.id, s.length, 1, 1));
    }
    if (msg.length === 0)
      return JSON.stringify(errorResponse(null, RPC.INVALID_REQUEST, 'invalid request: empty batch'));
    if (msg.length > this.#limits.maxBatchRequests) {
      return JSON.stringify(
        errorResponse(
          null,
          RPC.INVALID_REQUEST,
          `invalid request: batch of ${msg.length} exceeds ${this.#limits.maxBatchRequests} (rpc.maxBatchRequests)`,
        ),
      );
    }
    // One entry at a time (or one window of consecutive `concurrentInBatch` entries): work stops as soon
    // as the answer is over budget, and other clients get the event loop every 8 entries.
    const parts: string[] = [];
    let bytes = 2;
    const entryCtx: CallContext = { ...ctx, batch: true };
    const together = (e: unknown): boolean => {
      const method = (e as { method?: unknown } | null)?.method;
      return typeof method === 'string' && table.get(method)?.concurrentInBatch === true;
    };
    try {
      let sinceYield = 0;
      for (let i = 0; i < msg.length; ) {
        let j = i + 1;
        if (together(msg[i])) while (j < msg.length && j - i < BATCH_WINDOW && together(msg[j])) j++;
        const outs =
          j === i + 1
            ? [await this.#call(msg[i], entryCtx, table)]
            : await Promise.all(msg.slice(i, j).map((e) => this.#call(e, entryCtx, table)));
        for (const [k, out] of outs.entries()) {
          if (out === undefined) continue;
          const s = JSON.stringify(out);
          bytes += s.length + 1;
          if (bytes > max) {
            this.#refuse('response_too_large');
            throw new BudgetSpent(`${i + k + 1}`);
          }
          parts.push(s);
        }
        sinceYield += j - i;
        i = j;
        if (sinceYield >= 8) {
          sinceYield = 0;
          await new Promise<void>((r) => setImmediate(r));
        }
      }
    } catch (err) {
      if (!(err instanceof BudgetSpent)) throw err;
      return JSON.stringify(this.#tooLarge(null, bytes, Number(err.message), msg.length));
    }
    return parts.length > 0 ? `[${parts.join(',')}]` : undefined;
  }

  #tooLarge(id: string | number | null, bytes: number, done: number, total: number): JsonRpcResponse {
    const max = this.#limits.maxResponseBytes;
    return {
      jsonrpc: '2.0',
      id,
      error: {
        code: RPC.LIMIT_EXCEEDED,
        message:
          total > 1
            ? `response too large: the answer passed ${max} bytes (rpc.maxResponseBytes) at entry ${done} of ${total}; the rest of the batch was not run: ask for less per request`
            : `response too large: ${bytes} bytes; the limit is ${max} (rpc.maxResponseBytes)`,
        data: { code: 'RESPONSE_TOO_LARGE', maxResponseBytes: max },
      },
    };
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

/**
 * The answer to a WebSocket frame refused because too many requests are in flight on its socket: -32005
 * `TOO_MANY_IN_FLIGHT` carrying the request's own id (one error per request of a batch), so a client
 * that matches answers by id (viem, ethers, any JSON-RPC library) sees its request fail instead of
 * waiting forever. Notifications get no answer, as JSON-RPC 2.0 says; a frame that is not JSON gets one
 * with id null. Parsing the frame is bounded by `rpc.maxBodyBytes`; nothing is run.
 */
export function inFlightRefusal(text: string, message: string, max: number): string | undefined {
  const refuse = (id: unknown): JsonRpcResponse => ({
    jsonrpc: '2.0',
    id: typeof id === 'string' || typeof id === 'number' ? id : null,
    error: { code: RPC.LIMIT_EXCEEDED, message, data: { code: 'TOO_MANY_IN_FLIGHT', max } },
  });
  let req: unknown;
  try {
    req = JSON.parse(text);
  } catch {
    return JSON.stringify(refuse(null));
  }
  const idOf = (r: unknown): { has: boolean; id?: unknown } =>
    r !== null && typeof r === 'object' && !Array.isArray(r) && 'id' in r
      ? { has: true, id: (r as { id: unknown }).id }
      : { has: false };
  if (Array.isArray(req)) {
    const out = req
      .map(idOf)
      .filter((r) => r.has)
      .map((r) => refuse(r.id));
    return out.length === 0 ? undefined : JSON.stringify(out);
  }
  const one = idOf(req);
  return one.has ? JSON.stringify(refuse(one.id)) : undefined;
}

const CORS: readonly [string, string][] = [
  ['access-control-allow-origin', '*'],
  ['access-control-allow-methods', 'POST, GET, OPTIONS'],
  ['access-control-allow-headers', 'content-type'],
];

function corsHeaders(): Record<string, string> {
  return Object.fromEntries(CORS);
}

/** The headers of every JSON answer as Node's flat raw list (no per-answer header object to walk). */
const JSON_HEADERS: readonly string[] = [
  'content-type',
  'application/json',
  ...CORS.flat(),
  'content-length',
];

/** The JSON answer headers with this body's byte length. */
function jsonHeaders(bytes: number): string[] {
  const h = JSON_HEADERS.slice();
  h.push(String(bytes));
  return h;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, jsonHeaders(Buffer.byteLength(text)));
  res.end(text);
}

/** Read the raw body up to `max` bytes; undefined when it is larger (the rest is discarded). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
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
    req.on('end', () => resolve(over ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export { RpcError };
