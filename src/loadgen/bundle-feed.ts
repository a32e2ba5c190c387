/**
 * Bundle status feed for the bundle load (issue #22): follows bundles through the WebSocket
 * subscription `ordo_subscribe ["bundleStatus", bundleHash]` instead of polling `ordo_getBundleStatus`,
 * so a client hears of a pre-confirmation the moment the node signs it. One feed keeps, per node URL, a
 * few WebSocket connections, each holding fewer subscriptions than the server's per-connection cap
 * (`rpc.maxSubscriptionsPerConnection`, 64 by default); a connection is opened when every open one is
 * full. Plain requests (sends, reads) have a connection of their own per node, so subscribes and
 * unsubscribes never add to the requests the sender bounds: neither kind passes the node's per-connection
 * in-flight cap (`rpc.maxWsRequestsInFlight`, 64), past which it refuses `TOO_MANY_IN_FLIGHT`. A
 * subscription's slot is freed when its unsubscribe is answered, so subscribes and unsubscribes in
 * flight on one connection stay below `perConnection` too. Requests time out; a closed connection fails
 * its pending requests and drops its listeners (the sender's slow fallback poll then follows those
 * bundles).
 */
import { WebSocket } from 'ws';
import { OrdoError } from '../errors.ts';

/** What the sender reads from a bundle status (the JSON of docs/rpc.md `ordo_getBundleStatus`). */
export interface BundleStatusJson {
  status?: string;
  reason?: string;
  height?: number;
  execution?: { outcome?: string };
  preconfirmation?: unknown;
  certified?: boolean;
}

export type BundleStatusListener = (s: BundleStatusJson) => void;

/** Subscribes to one bundle's status changes; resolves to the unsubscribe function once subscribed. */
export interface BundleStatusFeed {
  subscribe(url: string, bundleHash: string, listener: BundleStatusListener): Promise<() => void>;
  /** One JSON-RPC call over the feed's connections (sends then share them: no HTTP connection churn). */
  request?(url: string, method: string, params: unknown[], timeoutMs: number): Promise<unknown>;
  close(): void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

class FeedConnection {
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly listeners = new Map<string, BundleStatusListener>();
  /** Subscriptions opened or being opened on this connection. */
  used = 0;
  closed = false;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  constructor(url: string, timeoutMs: number) {
    this.ws = new WebSocket(url, { handshakeTimeout: timeoutMs });
    this.opened = new Promise<void>((res, rej) => {
      this.ws.once('open', () => res());
      this.ws.once('error', (err) => rej(err));
    });
    this.opened.catch(() => undefined);
    this.ws.on('message', (data) => this.#onMessage(String(data)));
    const fail = (): void => {
      this.closed = true;
      for (const p of this.#pending.values()) {
        clearTimeout(p.timer);
        p.reject(new OrdoError('LOADGEN_FEED_CLOSED', `bundle status feed to ${url} closed`));
      }
      this.#pending.clear();
      this.listeners.clear();
    };
    this.ws.on('close', fail);
    this.ws.on('error', fail);
  }

  request(method: string, params: unknown[], timeoutMs: number): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new OrdoError('LOADGEN_FEED_TIMEOUT', `${method} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }), (err) => {
        if (err === undefined || err === null) return;
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(err);
      });
    });
  }

  #onMessage(text: string): void {
    let m: {
      id?: number;
      result?: unknown;
      error?: { message?: string; data?: { code?: unknown } };
      method?: string;
      params?: { subscription?: string; result?: BundleStatusJson };
    };
    try {
      m = JSON.parse(text);
    } catch {
      return;
    }
    if (m.method === 'ordo_subscription') {
      const sub = m.params?.subscription;
      const l = sub === undefined ? undefined : this.listeners.get(sub);
      if (l !== undefined && m.params?.result !== undefined) l(m.params.result);
      return;
    }
    if (typeof m.id !== 'number') return;
    const p = this.#pending.get(m.id);
    if (p === undefined) return;
    this.#pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.error !== undefined)
      p.reject(
        new OrdoError('LOADGEN_FEED_ERROR', m.error.message ?? 'rpc error', {
          rpcData: { code: m.error.data?.code },
        }),
      );
    else p.resolve(m.result);
  }
}

export class WsBundleFeed implements BundleStatusFeed {
  /** Subscription connections by ws url. */
  readonly #conns = new Map<string, FeedConnection[]>();
  /** The one request connection by ws url (sends and reads). */
  readonly #requestConns = new Map<string, FeedConnection>();
  readonly #perConnection: number;
  readonly #timeoutMs: number;

  /** `perConnection` stays below the server's rpc.maxSubscriptionsPerConnection (default 64). */
  constructor(o: { perConnection?: number; timeoutMs?: number } = {}) {
    this.#perConnection = o.perConnection ?? 60;
    this.#timeoutMs = o.timeoutMs ?? 5000;
  }

  #connections(url: string): FeedConnection[] {
    const wsUrl = url.replace(/^http/, 'ws');
    let list = this.#conns.get(wsUrl);
    if (list === undefined) {
      list = [];
      this.#conns.set(wsUrl, list);
    }
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.closed) list.splice(i, 1);
    return list;
  }

  async request(url: string, method: string, params: unknown[], timeoutMs: number): Promise<unknown> {
    const wsUrl = url.replace(/^http/, 'ws');
    let c = this.#requestConns.get(wsUrl);
    if (c === undefined || c.closed) {
      c = new FeedConnection(wsUrl, this.#timeoutMs);
      this.#requestConns.set(wsUrl, c);
    }
    await c.opened;
    return c.request(method, params, timeoutMs);
  }

  async subscribe(url: string, bundleHash: string, listener: BundleStatusListener): Promise<() => void> {
    const list = this.#connections(url);
    let c = list.find((x) => x.used < this.#perConnection);
    if (c === undefined) {
      c = new FeedConnection(url.replace(/^http/, 'ws'), this.#timeoutMs);
      list.push(c);
    }
    c.used++;
    const conn = c;
    try {
      await conn.opened;
      const id = (await conn.request(
        'ordo_subscribe',
        ['bundleStatus', bundleHash],
        this.#timeoutMs,
      )) as string;
      conn.listeners.set(id, listener);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        conn.listeners.delete(id);
        if (conn.closed) {
          conn.used--;
          return;
        }
        // The slot is free once the node answered: until then the unsubscribe is in flight here.
        conn
          .request('ordo_unsubscribe', [id], this.#timeoutMs)
          .catch(() => undefined)
          .finally(() => conn.used--);
      };
    } catch (err) {
      conn.used--;
      throw err;
    }
  }

  close(): void {
    for (const list of this.#conns.values()) for (const c of list) c.ws.terminate();
    for (const c of this.#requestConns.values()) c.ws.terminate();
    this.#conns.clear();
    this.#requestConns.clear();
  }
}
