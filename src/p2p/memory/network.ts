/**
 * The in-memory implementation of `Network`, for simulations and tests. A hub connects every started
 * network to every other (a full mesh) and carries gossip and requests through one event queue ordered
 * by (due time, sequence number); latency and message drops come from a seeded PRNG, so a given seed and
 * call sequence always produce the same deliveries in the same order. Fault controls: partitions (nodes
 * in different groups cannot reach each other), heal, a drop rate, latency ranges. Validation and
 * scoring follow the libp2p implementation: per-topic size check before the handler, content-hash
 * de-duplication, verdict mapping from verdict.ts, application score with graylisting and
 * disconnect+ban past thresholds. `runUntilIdle()` drains the queue immediately (no waiting), which
 * makes simulations fast and independent of wall-clock timing.
 */
import { createHash } from 'node:crypto';
import pino, { type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { errorMessage, OrdoError } from '../../errors.ts';
import {
  checkGossipSize,
  type P2pConfigInput,
  type P2pLimits,
  resolveLimits,
  resolveScoring,
  type ScoringConfig,
  TOPICS,
} from '../config.ts';
import { ContentDedupe, RateLimiter } from '../guards.ts';
import { createP2pMetrics, type P2pMetrics } from '../metrics.ts';
import type {
  GossipHandler,
  NetworkEvents,
  P2pNetwork,
  PeerId,
  PeerOffence,
  Protocol,
  RequestHandler,
  RequestOptions,
  Topic,
  Verdict,
} from '../network.ts';
import { AppScoreBook } from '../scoring.ts';
import { verdictForError } from '../verdict.ts';

export interface MemoryHubOptions extends P2pConfigInput {
  seed: number;
  /** Fixed latency, or a [min, max] range drawn from the seeded PRNG. Default 0. */
  latencyMs?: number | [number, number];
  /** Probability in [0, 1) that a gossip message or request leg is lost. Default 0. */
  dropRate?: number;
  logger?: Logger;
  /** Shared by every network of the hub (metrics carry no node label); omit for a private registry. */
  registry?: Registry;
  /** Size of the per-node seen-message cache used for de-duplication. */
  seenCacheSize?: number;
}

export interface MemoryNetworkHub {
  /** A new (unstarted) network; `config` overrides the hub's limits and scoring for this node only. */
  createNetwork(id: PeerId, config?: P2pConfigInput): P2pNetwork;
  /** Cut the network into groups; nodes in different groups cannot reach each other. Unlisted nodes form one more group. */
  partition(groups: PeerId[][]): void;
  heal(): void;
  setDropRate(rate: number): void;
  setLatency(latencyMs: number | [number, number]): void;
  /** Deliver everything queued (including messages queued while draining), in order, without waiting. */
  runUntilIdle(maxEvents?: number): Promise<void>;
  /** Events waiting in the queue. */
  pending(): number;
  networks(): P2pNetwork[];
}

/** mulberry32: small, fast, seedable; good enough for fault injection. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface QueuedEvent {
  due: number;
  seq: number;
  run: () => Promise<void> | void;
}

export function createMemoryNetworkHub(opts: MemoryHubOptions): MemoryNetworkHub {
  return new Hub(opts);
}

class Hub implements MemoryNetworkHub {
  readonly limits: P2pLimits;
  readonly scoring: ScoringConfig;
  readonly metrics: P2pMetrics;
  readonly log: Logger;
  readonly seenCacheSize: number;
  private readonly rand: () => number;
  private latency: [number, number];
  private dropRate: number;
  private readonly nodes = new Map<PeerId, MemoryNetwork>();
  private groups: Map<PeerId, number> | undefined;
  private queue: QueuedEvent[] = [];
  private seq = 0;
  /** Virtual time (ms) of the last event run; due times are relative to it, so order never depends on wall-clock. */
  private clock = 0;
  /** Virtual now, for the per-peer guards (rates, replay window). */
  readonly now = (): number => this.clock;
  private timer: NodeJS.Timeout | undefined;
  private draining = false;

  constructor(opts: MemoryHubOptions) {
    this.limits = resolveLimits(opts.limits);
    this.scoring = resolveScoring(opts.scoring);
    this.metrics = createP2pMetrics(opts.registry);
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({ module: 'p2p-memory' });
    this.seenCacheSize = opts.seenCacheSize ?? 100_000;
    this.rand = prng(opts.seed);
    this.latency = normLatency(opts.latencyMs ?? 0);
    this.dropRate = checkRate(opts.dropRate ?? 0);
  }

  createNetwork(id: PeerId, config?: P2pConfigInput): P2pNetwork {
    if (this.nodes.has(id)) throw new OrdoError('P2P_DUPLICATE_PEER', `memory network ${id} already exists`);
    const n = new MemoryNetwork(
      id,
      this,
      config?.limits !== undefined ? resolveLimits(config.limits) : this.limits,
      config?.scoring !== undefined ? resolveScoring(config.scoring) : this.scoring,
    );
    this.nodes.set(id, n);
    return n;
  }

  networks(): P2pNetwork[] {
    return [...this.nodes.values()];
  }

  partition(groups: PeerId[][]): void {
    const before = this.linkSnapshot();
    this.groups = new Map();
    groups.forEach((g, i) => {
      for (const id of g) this.groups!.set(id, i);
    });
    this.emitLinkChanges(before);
  }

  heal(): void {
    const before = this.linkSnapshot();
    this.groups = undefined;
    this.emitLinkChanges(before);
  }

  setDropRate(rate: number): void {
    this.dropRate = checkRate(rate);
  }

  setLatency(latencyMs: number | [number, number]): void {
    this.latency = normLatency(latencyMs);
  }

  pending(): number {
    return this.queue.length;
  }

  async runUntilIdle(maxEvents = 1_000_000): Promise<void> {
    for (let i = 0; i < maxEvents; i++) {
      const ev = this.queue.shift();
      if (ev === undefined) return;
      this.clock = Math.max(this.clock, ev.due);
      await ev.run();
    }
    throw new OrdoError('P2P_SIM_NOT_IDLE', `memory network still busy after ${maxEvents} events`);
  }

  // ---------------------------------------------------------------- used by MemoryNetwork

  /** Can `a` send to `b` right now (both started, same partition group, neither bans the other)? */
  linked(a: MemoryNetwork, b: MemoryNetwork): boolean {
    if (a === b || !a.running || !b.running) return false;
    if (this.groups !== undefined) {
      const ga = this.groups.get(a.peerId) ?? -1;
      const gb = this.groups.get(b.peerId) ?? -1;
      if (ga !== gb) return false;
    }
    return !a.book.isBanned(b.peerId) && !b.book.isBanned(a.peerId);
  }

  others(a: MemoryNetwork): MemoryNetwork[] {
    return [...this.nodes.values()].filter((b) => b !== a);
  }

  node(id: PeerId): MemoryNetwork | undefined {
    return this.nodes.get(id);
  }

  /** Draw whether a message leg is lost (consumes PRNG state deterministically). */
  dropped(): boolean {
    return this.dropRate > 0 && this.rand() < this.dropRate;
  }

  schedule(run: () => Promise<void> | void): void {
    const [min, max] = this.latency;
    const delay = max > min ? min + Math.floor(this.rand() * (max - min + 1)) : min;
    this.queue.push({ due: this.clock + delay, seq: this.seq++, run });
    // Keep the queue ordered by (due, seq); insertion is usually at the end.
    for (let i = this.queue.length - 1; i > 0; i--) {
      const a = this.queue[i - 1]!;
      const b = this.queue[i]!;
      if (a.due < b.due || (a.due === b.due && a.seq < b.seq)) break;
      this.queue[i - 1] = b;
      this.queue[i] = a;
    }
    this.arm();
  }

  linkChanged(changed: MemoryNetwork, up: boolean): void {
    for (const other of this.others(changed)) {
      if (!other.running) continue;
      if (up && !this.linked(changed, other)) continue;
      changed.emit(up ? 'peer:connect' : 'peer:disconnect', other.peerId);
      other.emit(up ? 'peer:connect' : 'peer:disconnect', changed.peerId);
    }
  }

  private arm(): void {
    if (this.timer !== undefined || this.draining) return;
    const first = this.queue[0];
    if (first === undefined) return;
    const wait = Math.max(0, first.due - this.clock);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drainDue();
    }, wait);
  }

  private async drainDue(): Promise<void> {
    this.draining = true;
    try {
      const due = this.queue[0]?.due ?? this.clock;
      for (;;) {
        const first = this.queue[0];
        if (first === undefined || first.due > due) break;
        this.queue.shift();
        this.clock = Math.max(this.clock, first.due);
        try {
          await first.run();
        } catch (err) {
          this.log.error({ err: errorMessage(err) }, 'memory network event failed');
        }
      }
    } finally {
      this.draining = false;
      this.arm();
    }
  }

  private linkSnapshot(): Set<string> {
    const s = new Set<string>();
    for (const a of this.nodes.values()) {
      for (const b of this.nodes.values()) if (this.linked(a, b)) s.add(`${a.peerId}\u0000${b.peerId}`);
    }
    return s;
  }

  private emitLinkChanges(before: Set<string>): void {
    for (const a of this.nodes.values()) {
      for (const b of this.nodes.values()) {
        const was = before.has(`${a.peerId}\u0000${b.peerId}`);
        const is = this.linked(a, b);
        if (was !== is) a.emit(is ? 'peer:connect' : 'peer:disconnect', b.peerId);
      }
    }
  }
}

function normLatency(l: number | [number, number]): [number, number] {
  const r: [number, number] = typeof l === 'number' ? [l, l] : [l[0], l[1]];
  if (!(r[0] >= 0 && r[1] >= r[0] && Number.isFinite(r[1]))) {
    throw new OrdoError('P2P_CONFIG_INVALID', `latencyMs must be >= 0 (and min <= max), got ${String(l)}`);
  }
  return r;
}

function checkRate(r: number): number {
  if (!(r >= 0 && r < 1)) throw new OrdoError('P2P_CONFIG_INVALID', `dropRate must be in [0, 1), got ${r}`);
  return r;
}

class MemoryNetwork implements P2pNetwork {
  readonly peerId: PeerId;
  readonly book: AppScoreBook;
  running = false;
  private readonly hub: Hub;
  private readonly limits: P2pLimits;
  private readonly handlers = new Map<Topic, GossipHandler>();
  private readonly reqHandlers = new Map<Protocol, RequestHandler>();
  private readonly seen = new Set<string>();
  private readonly listeners: { [E in keyof NetworkEvents]: ((arg: NetworkEvents[E]) => void)[] } = {
    'peer:connect': [],
    'peer:disconnect': [],
  };
  private inFlight = 0;
  private readonly gossipRate: RateLimiter;
  private readonly duplicateRate: RateLimiter;
  private readonly dedupe: ContentDedupe;

  constructor(id: PeerId, hub: Hub, limits: P2pLimits, scoring: ScoringConfig) {
    this.peerId = id;
    this.hub = hub;
    this.limits = limits;
    this.book = new AppScoreBook(scoring);
    this.gossipRate = new RateLimiter(
      limits.gossipPerPeerPerSecond,
      2 * limits.gossipPerPeerPerSecond,
      hub.now,
    );
    this.duplicateRate = new RateLimiter(
      limits.duplicatesPerPeerPerSecond,
      2 * limits.duplicatesPerPeerPerSecond,
      hub.now,
    );
    this.dedupe = new ContentDedupe(limits.dedupeWindowMs, hub.now);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.hub.linkChanged(this, true);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.hub.linkChanged(this, false);
    this.running = false;
  }

  async publish(topic: Topic, data: Uint8Array): Promise<void> {
    if (!this.running) throw new OrdoError('P2P_NOT_STARTED', 'p2p network is not started');
    checkGossipSize(this.limits, topic, data);
    const id = messageId(topic, data);
    if (!this.markSeen(id)) return;
    this.hub.metrics.gossipMessages.inc({ topic, direction: 'out' });
    this.hub.metrics.gossipBytes.inc({ topic, direction: 'out' }, data.byteLength);
    const copy = data.slice();
    for (const other of this.hub.others(this)) {
      if (!this.hub.linked(this, other) || this.hub.dropped()) continue;
      this.hub.schedule(() => other.receive(this.peerId, topic, copy, id));
    }
  }

  subscribe(topic: Topic, handler: GossipHandler): void {
    if (!TOPICS.includes(topic)) throw new OrdoError('P2P_UNKNOWN_TOPIC', `unknown topic ${String(topic)}`);
    this.handlers.set(topic, handler);
  }

  handle(protocol: Protocol, handler: RequestHandler): void {
    this.reqHandlers.set(protocol, handler);
  }

  request(peer: PeerId, protocol: Protocol, data: Uint8Array, ro: RequestOptions = {}): Promise<Uint8Array> {
    const limits = this.limits;
    if (!this.running) return Promise.reject(new OrdoError('P2P_NOT_STARTED', 'p2p network is not started'));
    if (data.byteLength > limits.maxRequestBytes) {
      return Promise.reject(
        new OrdoError(
          'P2P_REQUEST_TOO_LARGE',
          `request is ${data.byteLength} bytes; limit ${limits.maxRequestBytes}`,
        ),
      );
    }
    const timeoutMs = ro.timeoutMs ?? limits.requestTimeoutMs;
    const started = performance.now();
    const metrics = this.hub.metrics;
    return new Promise<Uint8Array>((resolve, reject) => {
      let settled = false;
      const serverAc = new AbortController();
      this.inFlight++;
      const finish = (outcome: string, err?: Error, resp?: Uint8Array) => {
        if (settled) return;
        settled = true;
        this.inFlight--;
        clearTimeout(timer);
        ro.signal?.removeEventListener('abort', onAbort);
        serverAc.abort(err ?? new Error('request finished'));
        metrics.requestSeconds.observe({ protocol, outcome }, (performance.now() - started) / 1000);
        if (err !== undefined) reject(err);
        else resolve(resp!);
      };
      const timer = setTimeout(
        () =>
          finish(
            'timeout',
            new OrdoError(
              'P2P_REQUEST_TIMEOUT',
              `${protocol} request to ${peer} timed out after ${timeoutMs} ms`,
              {
                peer,
                protocol,
                timeoutMs,
              },
            ),
          ),
        timeoutMs,
      );
      const onAbort = () =>
        finish(
          'error',
          new OrdoError('P2P_REQUEST_FAILED', `${protocol} request to ${peer} aborted`, { peer, protocol }),
        );
      if (ro.signal?.aborted) return onAbort();
      ro.signal?.addEventListener('abort', onAbort, { once: true });

      const target = this.hub.node(peer);
      if (target === undefined || !this.hub.linked(this, target) || !target.reqHandlers.has(protocol)) {
        const why =
          target === undefined || !this.hub.linked(this, target)
            ? 'peer unreachable'
            : 'protocol not supported';
        return finish(
          'error',
          new OrdoError('P2P_REQUEST_FAILED', `${protocol} request to ${peer} failed: ${why}`, {
            peer,
            protocol,
          }),
        );
      }
      if (this.hub.dropped()) return; // lost: the requester times out
      const req = data.slice();
      this.hub.schedule(() => {
        if (settled || !this.hub.linked(this, target)) return;
        void target.serve(this.peerId, protocol, req, serverAc.signal).then((result) => {
          if (result === undefined || this.hub.dropped()) return;
          if ('error' in result) {
            this.hub.schedule(() =>
              finish(
                'error',
                new OrdoError(
                  'P2P_REQUEST_FAILED',
                  `${protocol} request to ${peer} failed: ${result.error}`,
                  { peer, protocol },
                ),
              ),
            );
            return;
          }
          const resp = result.resp;
          if (resp.byteLength > limits.maxResponseBytes) {
            return finish(
              'error',
              new OrdoError(
                'P2P_RESPONSE_TOO_LARGE',
                `response from ${peer} exceeds ${limits.maxResponseBytes} bytes`,
                { peer, protocol },
              ),
            );
          }
          this.hub.schedule(() => {
            if (this.hub.linked(this, target)) finish('ok', undefined, resp);
          });
        });
      });
    });
  }

  peers(): PeerId[] {
    return this.hub
      .others(this)
      .filter((o) => this.hub.linked(this, o))
      .map((o) => o.peerId);
  }

  reportPeer(peer: PeerId, offence: PeerOffence): void {
    const score = this.book.penalise(peer, offence);
    this.hub.metrics.offences.inc({ offence });
    if (this.book.shouldDisconnect(peer) && !this.book.isBanned(peer)) {
      const other = this.hub.node(peer);
      const wasLinked = other !== undefined && this.hub.linked(this, other);
      this.book.ban(peer);
      this.hub.metrics.disconnects.inc({ reason: 'score' });
      this.hub.log.info({ node: this.peerId, peer, score }, 'disconnecting peer');
      if (wasLinked && other !== undefined) {
        this.emit('peer:disconnect', peer);
        other.emit('peer:disconnect', this.peerId);
      }
    }
  }

  on<E extends keyof NetworkEvents>(event: E, listener: (arg: NetworkEvents[E]) => void): void {
    this.listeners[event].push(listener);
  }

  score(peer: PeerId): number {
    return this.book.score(peer);
  }

  appScore(peer: PeerId): number {
    return this.book.score(peer);
  }

  isGraylisted(peer: PeerId): boolean {
    return this.book.isGraylisted(peer);
  }

  addresses(): string[] {
    return [`/memory/${this.peerId}`];
  }

  topicPeers(topic: Topic): PeerId[] {
    return this.hub
      .others(this)
      .filter((o) => this.hub.linked(this, o) && o.subscribed(topic))
      .map((o) => o.peerId);
  }

  subscribed(topic: Topic): boolean {
    return this.handlers.has(topic);
  }

  openRequestStreams(): number {
    return this.inFlight;
  }

  // ---------------------------------------------------------------- hub-facing

  emit<E extends keyof NetworkEvents>(event: E, arg: NetworkEvents[E]): void {
    for (const l of this.listeners[event]) {
      try {
        l(arg);
      } catch (err) {
        this.hub.log.error({ err: errorMessage(err), event }, 'network listener threw');
      }
    }
  }

  async receive(from: PeerId, topic: Topic, data: Uint8Array, id: string): Promise<void> {
    const sender = this.hub.node(from);
    if (!this.running || sender === undefined || !this.hub.linked(sender, this)) return;
    const handler = this.handlers.get(topic);
    if (handler === undefined) return;
    const metrics = this.hub.metrics;
    metrics.gossipMessages.inc({ topic, direction: 'in' });
    metrics.gossipBytes.inc({ topic, direction: 'in' }, data.byteLength);
    let verdict: Verdict;
    if (data.byteLength > this.limits.maxGossipBytes[topic]) {
      verdict = 'reject';
    } else if (this.book.isGraylisted(from)) {
      // Still sending while graylisted: keep counting, so the peer reaches the disconnect threshold.
      verdict = 'ignore';
      this.reportPeer(from, 'spam');
    } else if (!this.markSeen(id)) {
      return;
    } else if (!this.gossipRate.take(from)) {
      verdict = 'ignore';
      this.reportPeer(from, 'spam');
    } else {
      // Same replay rule as the libp2p network (src/p2p/guards.ts).
      const key = ContentDedupe.key(topic, data);
      if (this.dedupe.has(key)) {
        verdict = 'ignore';
        if (!this.duplicateRate.take(from)) this.reportPeer(from, 'spam');
      } else {
        try {
          verdict = await handler({ topic, from, data });
        } catch (err) {
          verdict = verdictForError(err);
        }
        // Remembered unless rejected: ignored content (an old height, say) replayed is still a replay.
        if (verdict !== 'reject') this.dedupe.add(key);
      }
    }
    metrics.validation.inc({ topic, verdict });
    if (verdict === 'reject') this.reportPeer(from, 'invalid-message');
  }

  /** Serve one request; resolves undefined when the requester went away (nothing to send back). */
  async serve(
    from: PeerId,
    protocol: Protocol,
    req: Uint8Array,
    signal: AbortSignal,
  ): Promise<{ resp: Uint8Array } | { error: string } | undefined> {
    const handler = this.reqHandlers.get(protocol);
    if (!this.running || handler === undefined || signal.aborted) return undefined;
    if (req.byteLength > this.limits.maxRequestBytes) {
      this.reportPeer(from, 'spam');
      return { error: 'request too large' };
    }
    this.inFlight++;
    const metrics = this.hub.metrics;
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      this.inFlight--;
    };
    // The stream is gone when the requester times out or aborts, even if the handler ignores the signal.
    signal.addEventListener('abort', release, { once: true });
    try {
      const resp = await handler(from, req, signal);
      metrics.requestsServed.inc({ protocol, outcome: 'ok' });
      return signal.aborted ? undefined : { resp: resp.slice() };
    } catch (err) {
      metrics.requestsServed.inc({ protocol, outcome: 'error' });
      this.hub.log.debug({ node: this.peerId, from, err: errorMessage(err) }, 'request not served');
      return signal.aborted ? undefined : { error: 'stream reset by peer' };
    } finally {
      signal.removeEventListener('abort', release);
      release();
    }
  }

  private markSeen(id: string): boolean {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > this.hub.seenCacheSize) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return true;
  }
}

/**
 * Like the libp2p implementation's framed message ids: copies of one publication share an id, while a
 * deliberate re-publication of identical bytes is a new message (see PUBLISH_NONCE_BYTES there).
 */
let publishSeq = 0;
function messageId(topic: Topic, data: Uint8Array): string {
  publishSeq++;
  return `${createHash('sha256').update(topic).update(data).digest('base64')}:${publishSeq}`;
}
