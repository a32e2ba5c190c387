/**
 * Follows committed blocks of a running network: one node at a time (rotating to the next URL on
 * failure), told of new heights by the WebSocket `newHeads` subscription and, as a fallback, by polling
 * `ordo_status`. Every block is fetched in height order with `ordo_getBlock` (hashes and sizes only, no
 * transaction data: a 4,000-transaction block is 1.6 MB of hex with it) and handed to listeners with
 * the time its height was first observed, which is the commit time the load generator measures
 * latency against. The testnet's dashboard and report share one follower with the load generator.
 */
import type { Logger } from 'pino';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { errorMessage } from '../errors.ts';
import { rpcCall } from '../rpc/index.ts';

export interface FollowedTx {
  namespace: number;
  hash: string;
}

export interface FollowedBlock {
  height: number;
  hash: string;
  timeMs: number;
  round: number;
  proposer: string;
  txs: FollowedTx[];
  bundles: { bundleHash: string; namespace: number; start: number; count: number }[];
  /** Validator indexes (genesis order) whose signatures the block's commit certificate carries. */
  signers?: number[];
  /** When the follower first learned this height was committed (ms since epoch). */
  observedAt: number;
}

export type BlockListener = (b: FollowedBlock) => void;

/** Heights fetched concurrently (answers are delivered in height order). */
const FETCH_AHEAD = 8;

export interface FollowerOptions {
  urls: string[];
  pollMs?: number;
  logger?: Logger;
  /** Start after this height (default: the node's height when `start` runs). */
  fromHeight?: number;
}

interface BlockJson {
  height: number;
  hash: string;
  header: { timeMs: number; round: number; proposer: string };
  txs: { namespace: number; hash: string }[];
  bundles?: FollowedBlock['bundles'];
  certificate?: { sigs?: { validatorIndex: number }[] } | null;
}

export class BlockFollower {
  readonly #urls: string[];
  readonly #pollMs: number;
  readonly #log: Logger;
  readonly #listeners: BlockListener[] = [];
  readonly #observed = new Map<number, number>();
  #urlIndex = 0;
  #next = 1;
  #known = 0;
  #running = false;
  #fetching = false;
  #ws: WebSocket | undefined;
  #wsUrl = '';
  #timer: NodeJS.Timeout | undefined;
  #fromHeight: number | undefined;

  constructor(o: FollowerOptions) {
    if (o.urls.length === 0) throw new RangeError('BlockFollower needs at least one RPC URL');
    this.#urls = o.urls;
    this.#pollMs = o.pollMs ?? 250;
    this.#log = o.logger ?? pino({ level: 'silent' });
    this.#fromHeight = o.fromHeight;
  }

  onBlock(l: BlockListener): void {
    this.#listeners.push(l);
  }

  /** Height of the last block handed to listeners. */
  get height(): number {
    return this.#next - 1;
  }

  get url(): string {
    return this.#urls[this.#urlIndex % this.#urls.length] ?? '';
  }

  async start(): Promise<void> {
    this.#running = true;
    if (this.#fromHeight === undefined) {
      for (let i = 0; i < this.#urls.length && this.#fromHeight === undefined; i++) {
        try {
          const s = (await rpcCall(this.url, 'ordo_status', [], 3000)) as { height: number };
          this.#fromHeight = s.height;
        } catch {
          this.#rotate();
        }
      }
    }
    this.#next = (this.#fromHeight ?? 0) + 1;
    this.#known = this.#next - 1;
    this.#connectWs();
    this.#schedulePoll();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#ws?.terminate();
    this.#ws = undefined;
  }

  #rotate(): void {
    this.#urlIndex = (this.#urlIndex + 1) % this.#urls.length;
  }

  #connectWs(): void {
    if (!this.#running) return;
    const url = this.url.replace(/^http/, 'ws');
    if (this.#ws !== undefined && this.#wsUrl === url) return;
    this.#ws?.terminate();
    this.#wsUrl = url;
    const ws = new WebSocket(url, { handshakeTimeout: 3000 });
    this.#ws = ws;
    ws.on('open', () =>
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ordo_subscribe', params: ['newHeads'] })),
    );
    ws.on('message', (data) => {
      try {
        const m = JSON.parse(data.toString()) as {
          method?: string;
          params?: { result?: { height?: unknown } };
        };
        const h = m.params?.result?.height;
        if (m.method === 'ordo_subscription' && typeof h === 'number') this.#learn(h);
      } catch {
        // ignore malformed notifications; polling covers us
      }
    });
    const drop = (): void => {
      if (this.#ws === ws) this.#ws = undefined;
    };
    ws.on('close', drop);
    ws.on('error', (err) => {
      this.#log.debug({ err: errorMessage(err), url }, 'follower websocket error');
      drop();
    });
  }

  #learn(height: number): void {
    const now = Date.now();
    for (let h = this.#known + 1; h <= height; h++) if (!this.#observed.has(h)) this.#observed.set(h, now);
    if (height > this.#known) this.#known = height;
    void this.#fetchLoop();
  }

  #schedulePoll(): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => void this.#poll(), this.#pollMs);
  }

  async #poll(): Promise<void> {
    try {
      const s = (await rpcCall(this.url, 'ordo_status', [], 2000)) as { height: number };
      this.#learn(s.height);
      if (this.#ws === undefined) this.#connectWs();
    } catch (err) {
      this.#log.debug({ err: errorMessage(err), url: this.url }, 'follower poll failed; rotating');
      this.#rotate();
      this.#connectWs();
    }
    this.#schedulePoll();
  }

  async #fetchLoop(): Promise<void> {
    if (this.#fetching) return;
    this.#fetching = true;
    try {
      while (this.#running && this.#next <= this.#known) {
        // Up to FETCH_AHEAD heights in flight at once, delivered in height order: one request at a
        // time fell behind a busy network (a 4,000-transaction block takes a few hundred ms to
        // serve), which made the report count late-seen transactions as uncommitted.
        const url = this.url;
        const heights: number[] = [];
        for (let h = this.#next; h <= this.#known && heights.length < FETCH_AHEAD; h++) heights.push(h);
        let blocks: (BlockJson | null)[];
        try {
          blocks = (await Promise.all(
            heights.map((h) => rpcCall(url, 'ordo_getBlock', [h, false], 10_000)),
          )) as (BlockJson | null)[];
        } catch (err) {
          this.#log.debug({ err: errorMessage(err), from: heights[0] }, 'follower getBlock failed; rotating');
          this.#rotate();
          this.#connectWs();
          return;
        }
        for (let i = 0; i < heights.length; i++) {
          const b = blocks[i];
          if (b == null) return; // this node is behind; the next poll retries
          this.#deliver(heights[i]!, b);
        }
      }
    } finally {
      this.#fetching = false;
    }
  }

  #deliver(h: number, b: BlockJson): void {
    const observedAt = this.#observed.get(h) ?? Date.now();
    this.#observed.delete(h);
    this.#next = h + 1;
    const fb: FollowedBlock = {
      height: b.height,
      hash: b.hash,
      timeMs: b.header.timeMs,
      round: b.header.round,
      proposer: b.header.proposer,
      txs: b.txs.map((t) => ({ namespace: t.namespace, hash: t.hash })),
      bundles: b.bundles ?? [],
      signers: (b.certificate?.sigs ?? []).map((x) => x.validatorIndex),
      observedAt,
    };
    for (const l of this.#listeners) {
      try {
        l(fb);
      } catch (err) {
        this.#log.warn({ err: errorMessage(err) }, 'block listener failed');
      }
    }
  }
}
