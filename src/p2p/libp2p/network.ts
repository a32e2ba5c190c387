/**
 * The libp2p 3 implementation of `Network`: TCP + Noise + Yamux, identify, and @libp2p/gossipsub with
 * StrictNoSign and content-hash message ids. Topics and protocols are versioned per chain
 * (`/ordo/<chainId>/<topic>/1`). Every inbound gossip message goes through one validator per topic:
 * size check first (before the handler decodes anything), graylist check, then the caller's handler,
 * whose verdict (or thrown typed error, mapped in verdict.ts) drives forwarding and scoring. Rejected
 * messages cost the forwarder application score; the application score is gossipsub's P5, so low scores
 * lead to gossipsub graylisting, and below the disconnect threshold we hang up and ban the peer
 * (the connection gater refuses it until the ban expires). Request/response runs over length-prefixed
 * streams with size limits and AbortSignal deadlines on dial, write and read. Bootstrap peers are
 * redialled with exponential backoff while disconnected.
 */
import { createHash } from 'node:crypto';
import { yamux } from '@chainsafe/libp2p-yamux';
import {
  type GossipSub,
  type GossipsubOpts,
  gossipsub,
  type Message,
  StrictNoSign,
  type TopicValidatorResult,
} from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { Libp2p, PeerId as Libp2pPeerId, PrivateKey, Stream } from '@libp2p/interface';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { lpStream } from '@libp2p/utils';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import pino, { type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { errorMessage, OrdoError } from '../../errors.ts';
import {
  checkGossipSize,
  P2pConfigError,
  type P2pConfigInput,
  type P2pLimits,
  resolveLimits,
  resolveScoring,
  type ScoringConfig,
  TOPICS,
} from '../config.ts';
import { ContentDedupe, IdentityGate, ipOf, RateLimiter } from '../guards.ts';
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
import { coalescingTcp } from './coalesce.ts';
import { loadOrCreateIdentity } from './identity.ts';
import { batchingNoise } from './noise-batch.ts';
import { noiseCrypto } from './noise-crypto.ts';
import { installLazyWindowUpdates } from './yamux-window.ts';

export interface Libp2pNetworkOptions extends P2pConfigInput {
  chainId: string;
  /** e.g. `/ip4/127.0.0.1/tcp/26656` (port 0 picks a free port). */
  listen: string;
  /** Multiaddrs ending in `/p2p/<peerId>`. */
  bootstrap?: string[];
  /** Addresses announced to peers instead of the listen addresses (config p2p.announce); empty: those. */
  announce?: string[];
  /** Where the libp2p private key lives (created with mode 0600 when missing). */
  identityKeyPath: string;
  logger?: Logger;
  registry?: Registry;
  /** Bootstrap redial backoff. */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** Gossipsub heartbeat; tests shorten it. */
  heartbeatMs?: number;
  /**
   * Gossipsub mesh degree (defaults: the library's D=6, Dlo=4, Dhi=12). Our own messages are flood-published
   * to every connected subscriber, so in a small, fully connected validator set a lower D cuts duplicate
   * forwarding (each duplicate costs a full copy's transport and decrypt work).
   */
  mesh?: { D: number; Dlo: number; Dhi: number; Dout?: number; Dlazy?: number };
  /**
   * Hold the verdict of an accepted message large enough for IDONTWANT (>= 512 bytes) this long before
   * gossipsub forwards it (default 20 ms; 0 = at once). The message is handled at once; only the
   * forwarding waits, while the other receivers' IDONTWANTs arrive (docs/p2p.md, ADR 0064).
   */
  forwardDelayMs?: number;
  /**
   * Per-topic override of `forwardDelayMs`. Transaction batches default to
   * `DEFAULT_TX_FORWARD_DELAY_MS` (ADR 0190): under load a receiver's IDONTWANT can take longer than
   * 20 ms to be read, and every batch forwarded before it is a full duplicate copy for the peer.
   */
  topicForwardDelayMs?: Partial<Record<Topic, number>>;
}

export const DEFAULT_FORWARD_DELAY_MS = 20;
/** Transaction batches are held longer: only relays to peers the author is not connected to wait (ADR 0190). */
export const DEFAULT_TX_FORWARD_DELAY_MS = 100;

/** The forward delay of one topic: its override, else the transaction default for `txs`, else the common one. */
export function forwardDelayFor(
  topic: Topic,
  opts: Pick<Libp2pNetworkOptions, 'forwardDelayMs' | 'topicForwardDelayMs'>,
): number {
  const own = opts.topicForwardDelayMs?.[topic];
  if (own !== undefined) return own;
  if (topic === 'txs') return DEFAULT_TX_FORWARD_DELAY_MS;
  return opts.forwardDelayMs ?? DEFAULT_FORWARD_DELAY_MS;
}
/** gossipsub sends IDONTWANT only for messages of at least this many bytes (its default). */
const IDONTWANT_MIN_BYTES = 512;

export function topicName(chainId: string, topic: Topic): string {
  return `/ordo/${chainId}/${topic}/1`;
}

export function protocolName(chainId: string, protocol: Protocol): string {
  return `/ordo/${chainId}/${protocol}/1`;
}

/**
 * Every published message carries an 8-byte publish nonce after the payload. The message id is a hash
 * of the whole frame, so copies forwarded through the mesh deduplicate as usual, while a deliberate
 * re-publication of identical bytes (consensus re-broadcasting its votes to a peer that missed them,
 * e.g. because it was not connected yet) gets a fresh id instead of being dropped as already seen.
 */
export const PUBLISH_NONCE_BYTES = 8;
let publishCounter = BigInt(Math.floor(Math.random() * 2 ** 32)) << 32n;

function frame(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.byteLength + PUBLISH_NONCE_BYTES);
  out.set(data, 0);
  publishCounter = (publishCounter + 1n) & 0xffff_ffff_ffff_ffffn;
  new DataView(out.buffer).setBigUint64(data.byteLength, publishCounter);
  return out;
}

/**
 * The content key (guards.ts `ContentDedupe`) of each message whose id was computed, for its validator.
 * The id hashes topic, payload and nonce; the key is the same hash stopped before the nonce, so one
 * pass over the payload gives both (`Hash.copy`), where the validator used to hash it a second time.
 * gossipsub calls the id function and then the validator with the same message object.
 */
const contentKeys = new WeakMap<Message, string>();

/** The content key of `msg`: the one its id computation left, or hashed now. */
export function contentKeyOf(msg: Message): string {
  return (
    contentKeys.get(msg) ??
    ContentDedupe.key(msg.topic, plain(msg.data).subarray(0, msg.data.byteLength - PUBLISH_NONCE_BYTES))
  );
}

export function msgId(msg: Message): Uint8Array {
  const size = msg.data.byteLength - PUBLISH_NONCE_BYTES;
  if (size < 0) return createHash('sha256').update(msg.topic).update(msg.data).digest();
  const h = createHash('sha256').update(msg.topic).update(msg.data.subarray(0, size));
  contentKeys.set(msg, h.copy().digest('base64'));
  return h.update(msg.data.subarray(size)).digest();
}

class RequestError extends OrdoError<
  'P2P_REQUEST_FAILED' | 'P2P_REQUEST_TIMEOUT' | 'P2P_RESPONSE_TOO_LARGE'
> {}

type Services = { identify: unknown; pubsub: GossipSub };

/** What gossipsub's `decodeRpc` returns (its RPC type is not exported); only what we count. */
interface RPC {
  subscriptions: unknown[];
  messages: { topic: string }[];
  control?: {
    ihave: { messageIDs: Uint8Array[] }[];
    iwant: { messageIDs: Uint8Array[] }[];
    idontwant: { messageIDs: Uint8Array[] }[];
    graft: unknown[];
    prune: unknown[];
  };
}

/** The gossipsub instance also has `reportMessageValidationResult` and `getScore`; declare what we use. */
interface GossipSubInternals {
  getScore(peerId: string): number;
}

export async function createLibp2pNetwork(opts: Libp2pNetworkOptions): Promise<P2pNetwork> {
  if (typeof opts.chainId !== 'string' || opts.chainId.length === 0 || opts.chainId.length > 64) {
    throw new P2pConfigError('chainId', 'must be a non-empty string of at most 64 characters');
  }
  const limits = resolveLimits(opts.limits);
  const scoring = resolveScoring(opts.scoring);
  const bootstrap = (opts.bootstrap ?? []).map((a, i) => parseBootstrap(a, i));
  let listen: Multiaddr;
  try {
    listen = multiaddr(opts.listen);
  } catch (err) {
    throw new P2pConfigError('listen', `not a multiaddr: ${errorMessage(err)}`);
  }
  for (const [i, a] of (opts.announce ?? []).entries()) {
    try {
      multiaddr(a);
    } catch (err) {
      throw new P2pConfigError(`announce[${i}]`, `not a multiaddr: ${errorMessage(err)}`);
    }
    if (a.includes('/p2p/'))
      throw new P2pConfigError(`announce[${i}]`, 'give the address without /p2p/<peer id>');
  }
  if (opts.mesh !== undefined) meshOpts(opts.mesh);
  for (const [t, v] of Object.entries(opts.topicForwardDelayMs ?? {})) {
    if (!TOPICS.includes(t as Topic)) throw new P2pConfigError(`topicForwardDelayMs.${t}`, 'unknown topic');
    if (!(Number.isInteger(v) && v >= 0 && v <= 10_000)) {
      throw new P2pConfigError(`topicForwardDelayMs.${t}`, `must be an integer from 0 to 10000, got ${v}`);
    }
  }
  const privateKey = await loadOrCreateIdentity(opts.identityKeyPath);
  return new Libp2pNetwork(opts, limits, scoring, bootstrap, listen, privateKey);
}

function meshOpts(m: NonNullable<Libp2pNetworkOptions['mesh']>): Partial<GossipsubOpts> {
  if (!(Number.isInteger(m.Dlo) && m.Dlo >= 1 && m.Dlo <= m.D && m.D <= m.Dhi)) {
    throw new P2pConfigError('mesh', `need integers 1 <= Dlo <= D <= Dhi, got ${JSON.stringify(m)}`);
  }
  const Dout = m.Dout ?? Math.min(Math.floor(m.D / 2), m.Dlo - 1);
  return { D: m.D, Dlo: m.Dlo, Dhi: m.Dhi, Dout, Dlazy: m.Dlazy ?? m.D };
}

function parseBootstrap(addr: string, i: number): { addr: Multiaddr; peer: string } {
  let ma: Multiaddr;
  try {
    ma = multiaddr(addr);
  } catch (err) {
    throw new P2pConfigError(`bootstrap[${i}]`, `not a multiaddr: ${errorMessage(err)}`);
  }
  const peer = ma.getComponents().findLast((c) => c.name === 'p2p')?.value;
  if (peer === undefined) throw new P2pConfigError(`bootstrap[${i}]`, 'must end in /p2p/<peerId>');
  try {
    peerIdFromString(peer);
  } catch {
    throw new P2pConfigError(`bootstrap[${i}]`, `invalid peer id ${peer}`);
  }
  return { addr: ma, peer };
}

class Libp2pNetwork implements P2pNetwork {
  private readonly opts: Libp2pNetworkOptions;
  private readonly limits: P2pLimits;
  private readonly scoring: ScoringConfig;
  private readonly bootstrap: { addr: Multiaddr; peer: string }[];
  private readonly listenAddr: Multiaddr;
  private readonly privateKey: PrivateKey;
  private readonly log: Logger;
  private readonly metrics: P2pMetrics;
  private readonly book: AppScoreBook;
  private readonly gossipRate: RateLimiter;
  private readonly requestRate: RateLimiter;
  private readonly duplicateRate: RateLimiter;
  private readonly dedupe: ContentDedupe;
  private readonly gate: IdentityGate;
  private blocked = new Set<string>();
  private readonly handlers = new Map<Topic, GossipHandler>();
  private readonly reqHandlers = new Map<Protocol, RequestHandler>();
  private readonly listeners: { [E in keyof NetworkEvents]: ((arg: NetworkEvents[E]) => void)[] } = {
    'peer:connect': [],
    'peer:disconnect': [],
  };
  private readonly reconnectTimers = new Map<string, { timer?: NodeJS.Timeout; delay: number }>();
  private readonly openStreams = new Set<Stream>();
  private node: Libp2p<Services> | undefined;
  private maintenance: NodeJS.Timeout | undefined;
  private stopping = false;
  /**
   * The connected peers as strings, rebuilt on the next `peers()` after a connect or disconnect event
   * and at least once a second by `maintain()`: libp2p's getPeers() parses every connection's peer id
   * from its string form and `toString()` encodes it again, and status, sync and maintenance ask often.
   */
  private peerCache: PeerId[] | undefined;
  readonly peerId: PeerId;

  constructor(
    opts: Libp2pNetworkOptions,
    limits: P2pLimits,
    scoring: ScoringConfig,
    bootstrap: { addr: Multiaddr; peer: string }[],
    listen: Multiaddr,
    privateKey: PrivateKey,
  ) {
    this.opts = opts;
    this.limits = limits;
    this.scoring = scoring;
    this.bootstrap = bootstrap;
    this.listenAddr = listen;
    this.privateKey = privateKey;
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({ module: 'p2p' });
    this.metrics = createP2pMetrics(opts.registry);
    this.book = new AppScoreBook(scoring);
    this.gossipRate = new RateLimiter(limits.gossipPerPeerPerSecond, 2 * limits.gossipPerPeerPerSecond);
    this.requestRate = new RateLimiter(limits.requestsPerPeerPerSecond, 2 * limits.requestsPerPeerPerSecond);
    this.duplicateRate = new RateLimiter(
      limits.duplicatesPerPeerPerSecond,
      2 * limits.duplicatesPerPeerPerSecond,
    );
    this.dedupe = new ContentDedupe(limits.dedupeWindowMs);
    this.gate = new IdentityGate(limits.newIdentitiesPerAddressPerMinute, scoring.ipColocationWhitelist);
    this.peerId = peerIdFromPrivateKey(privateKey).toString();
  }

  async start(): Promise<void> {
    if (this.node !== undefined) return;
    this.stopping = false;
    const { limits, scoring, opts } = this;
    const maxGossip = Math.max(...TOPICS.map((t) => limits.maxGossipBytes[t]));
    const topicParams: NonNullable<GossipsubOpts['scoreParams']>['topics'] = {};
    for (const t of TOPICS) {
      topicParams[topicName(opts.chainId, t)] = {
        topicWeight: 1,
        timeInMeshWeight: 0.01,
        timeInMeshQuantum: 1000,
        timeInMeshCap: 100,
        firstMessageDeliveriesWeight: 0.5,
        firstMessageDeliveriesDecay: 0.9,
        firstMessageDeliveriesCap: 20,
        // P3 (mesh delivery deficit) is off: traffic is bursty and a quiet topic must not punish peers.
        meshMessageDeliveriesWeight: 0,
        meshMessageDeliveriesDecay: 0.9,
        meshMessageDeliveriesCap: 1,
        meshMessageDeliveriesThreshold: 1,
        meshMessageDeliveriesWindow: 10,
        meshMessageDeliveriesActivation: 5000,
        meshFailurePenaltyWeight: 0,
        meshFailurePenaltyDecay: 0.9,
        invalidMessageDeliveriesWeight: -1,
        invalidMessageDeliveriesDecay: 0.9,
      };
    }
    const gossipOpts: Partial<GossipsubOpts> = {
      globalSignaturePolicy: StrictNoSign,
      msgIdFn: msgId,
      emitSelf: false,
      allowPublishToZeroTopicPeers: true,
      ignoreDuplicatePublishError: true,
      allowedTopics: TOPICS.map((t) => topicName(opts.chainId, t)),
      maxInboundDataLength: maxGossip + 64 * 1024,
      maxOutboundBufferSize: limits.maxOutboundBufferBytes,
      decodeRpcLimits: {
        maxSubscriptions: 64,
        maxMessages: 512,
        maxIhaveMessageIDs: 5000,
        maxIwantMessageIDs: 5000,
        maxIdontwantMessageIDs: 512,
        maxControlMessages: 512,
        maxPeerInfos: 16,
      },
      maxInboundStreams: 4,
      maxOutboundStreams: 4,
      scoreParams: {
        topics: topicParams,
        topicScoreCap: 50,
        appSpecificScore: (p: string) => this.book.score(p),
        appSpecificWeight: 1,
        IPColocationFactorWhitelist: new Set(scoring.ipColocationWhitelist),
        decayInterval: 1000,
        decayToZero: 0.01,
        retainScore: scoring.banMs,
      },
      scoreThresholds: {
        gossipThreshold: scoring.gossipThreshold,
        publishThreshold: scoring.publishThreshold,
        graylistThreshold: scoring.graylistThreshold,
        acceptPXThreshold: 10,
        opportunisticGraftThreshold: 1,
      },
      ...(opts.heartbeatMs !== undefined ? { heartbeatInterval: opts.heartbeatMs } : {}),
      ...(opts.mesh !== undefined ? meshOpts(opts.mesh) : {}),
    };
    // Window updates only once half a stream's receive window is consumed (ADR 0240).
    if (!installLazyWindowUpdates()) {
      this.log.warn('yamux changed shape: window updates stay one per received data frame (ADR 0240)');
    }
    const node = await createLibp2p({
      privateKey: this.privateKey,
      addresses: {
        listen: [this.listenAddr.toString()],
        ...(opts.announce !== undefined && opts.announce.length > 0 ? { announce: opts.announce } : {}),
      },
      transports: [coalescingTcp()],
      connectionEncrypters: [batchingNoise({ crypto: noiseCrypto })],
      streamMuxers: [yamux()],
      connectionManager: {
        maxConnections: limits.maxConnections,
        maxIncomingPendingConnections: limits.maxIncomingPendingConnections,
        dialTimeout: limits.dialTimeoutMs,
      },
      connectionGater: {
        denyDialPeer: async (p) => this.refused(p.toString()),
        denyInboundEncryptedConnection: async (p, maConn) => {
          const peer = p.toString();
          if (this.refused(peer)) return true;
          const addr = ipOf(maConn.remoteAddr.getComponents());
          if (this.gate.admit(addr, peer)) return false;
          this.metrics.disconnects.inc({ reason: 'new-identity-rate' });
          this.log.info({ peer, addr }, 'refused a new peer identity: too many from this address');
          return true;
        },
        denyOutboundEncryptedConnection: async (p) => this.refused(p.toString()),
      },
      services: { identify: identify(), pubsub: gossipsub(gossipOpts) },
      start: false,
    });
    this.node = node as unknown as Libp2p<Services>;
    this.peerCache = undefined;
    this.countReceivedRpcs();
    node.addEventListener('peer:connect', (evt) => this.onConnect(evt.detail.toString()));
    node.addEventListener('peer:disconnect', (evt) => this.onDisconnect(evt.detail.toString()));

    for (const [topic, handler] of this.handlers) this.installValidator(topic, handler);
    for (const [protocol, handler] of this.reqHandlers) await this.installHandler(protocol, handler);
    try {
      await node.start();
    } catch (err) {
      this.node = undefined;
      await Promise.resolve(node.stop()).catch(() => {});
      throw new OrdoError(
        'P2P_START_FAILED',
        `p2p could not start listening on ${this.listenAddr.toString()}: ${errorMessage(err)}`,
        { listen: this.listenAddr.toString() },
        { cause: err },
      );
    }
    for (const topic of this.handlers.keys()) this.pubsub().subscribe(topicName(opts.chainId, topic));
    this.maintenance = setInterval(() => this.maintain(), 1000);
    this.maintenance.unref();
    for (const b of this.bootstrap) this.dialBootstrap(b);
    this.log.info({ peerId: this.peerId, addrs: this.addresses() }, 'p2p started');
  }

  async stop(): Promise<void> {
    const node = this.node;
    if (node === undefined) return;
    this.stopping = true;
    clearInterval(this.maintenance);
    for (const r of this.reconnectTimers.values()) clearTimeout(r.timer);
    this.reconnectTimers.clear();
    for (const s of this.openStreams) s.abort(new Error('network stopping'));
    this.openStreams.clear();
    await node.stop();
    this.node = undefined;
    this.peerCache = undefined;
    this.log.info('p2p stopped');
  }

  async publish(topic: Topic, data: Uint8Array): Promise<void> {
    checkGossipSize(this.limits, topic, data);
    await this.pubsub().publish(topicName(this.opts.chainId, topic), frame(data));
    this.metrics.gossipMessages.inc({ topic, direction: 'out' });
    this.metrics.gossipBytes.inc({ topic, direction: 'out' }, data.byteLength);
  }

  subscribe(topic: Topic, handler: GossipHandler): void {
    if (!TOPICS.includes(topic)) throw new OrdoError('P2P_UNKNOWN_TOPIC', `unknown topic ${String(topic)}`);
    this.handlers.set(topic, handler);
    if (this.node !== undefined) {
      this.installValidator(topic, handler);
      this.pubsub().subscribe(topicName(this.opts.chainId, topic));
    }
  }

  handle(protocol: Protocol, handler: RequestHandler): void {
    this.reqHandlers.set(protocol, handler);
    if (this.node !== undefined) {
      this.installHandler(protocol, handler).catch((err) => this.log.error({ err }, 'handle failed'));
    }
  }

  async request(
    peer: PeerId,
    protocol: Protocol,
    data: Uint8Array,
    ro: RequestOptions = {},
  ): Promise<Uint8Array> {
    const node = this.requireNode();
    if (data.byteLength > this.limits.maxRequestBytes) {
      throw new OrdoError(
        'P2P_REQUEST_TOO_LARGE',
        `request is ${data.byteLength} bytes; limit ${this.limits.maxRequestBytes}`,
      );
    }
    const timeoutMs = ro.timeoutMs ?? this.limits.requestTimeoutMs;
    const signals = [AbortSignal.timeout(timeoutMs)];
    if (ro.signal !== undefined) signals.push(ro.signal);
    const signal = AbortSignal.any(signals);
    const started = performance.now();
    let stream: Stream | undefined;
    const end = (outcome: string) =>
      this.metrics.requestSeconds.observe({ protocol, outcome }, (performance.now() - started) / 1000);
    try {
      stream = await node.dialProtocol(peerIdFromString(peer), protocolName(this.opts.chainId, protocol), {
        signal,
      });
      this.track(stream);
      const lp = lpStream(stream, { maxDataLength: this.limits.maxResponseBytes });
      await lp.write(data, { signal });
      await stream.close({ signal });
      const resp = await lp.read({ signal });
      end('ok');
      return plain(resp.subarray());
    } catch (err) {
      stream?.abort(err instanceof Error ? err : new Error(String(err)));
      const timedOut = signal.aborted && ro.signal?.aborted !== true;
      end(timedOut ? 'timeout' : 'error');
      const name = (err as Error)?.name;
      if (name === 'InvalidDataLengthError') {
        throw new RequestError(
          'P2P_RESPONSE_TOO_LARGE',
          `response from ${peer} exceeds ${this.limits.maxResponseBytes} bytes`,
          { peer, protocol },
          { cause: err },
        );
      }
      if (timedOut) {
        throw new RequestError(
          'P2P_REQUEST_TIMEOUT',
          `${protocol} request to ${peer} timed out after ${timeoutMs} ms`,
          { peer, protocol, timeoutMs },
          { cause: err },
        );
      }
      throw new RequestError(
        'P2P_REQUEST_FAILED',
        `${protocol} request to ${peer} failed: ${errorMessage(err)}`,
        { peer, protocol },
        { cause: err },
      );
    }
  }

  peers(): PeerId[] {
    if (this.node === undefined) return [];
    this.peerCache ??= this.node.getPeers().map((p) => p.toString());
    return this.peerCache.slice();
  }

  reportPeer(peer: PeerId, offence: PeerOffence): void {
    const score = this.book.penalise(peer, offence);
    this.metrics.offences.inc({ offence });
    this.log.debug({ peer, offence, score }, 'peer offence');
    if (this.book.shouldDisconnect(peer)) this.disconnect(peer, 'score');
  }

  on<E extends keyof NetworkEvents>(event: E, listener: (arg: NetworkEvents[E]) => void): void {
    this.listeners[event].push(listener);
  }

  score(peer: PeerId): number {
    if (this.node === undefined) return this.book.score(peer);
    return (this.pubsub() as unknown as GossipSubInternals).getScore(peer);
  }

  appScore(peer: PeerId): number {
    return this.book.score(peer);
  }

  isGraylisted(peer: PeerId): boolean {
    return this.book.isGraylisted(peer) || this.score(peer) < this.scoring.graylistThreshold;
  }

  addresses(): string[] {
    if (this.node === undefined) return [];
    return this.node.getMultiaddrs().map((a) => a.toString());
  }

  topicPeers(topic: Topic): PeerId[] {
    if (this.node === undefined) return [];
    return this.pubsub()
      .getSubscribers(topicName(this.opts.chainId, topic))
      .map((p) => p.toString());
  }

  openRequestStreams(): number {
    if (this.node === undefined) return 0;
    const prefix = `/ordo/${this.opts.chainId}/`;
    let n = 0;
    for (const conn of this.node.getConnections()) {
      for (const s of conn.streams) if (s.protocol?.startsWith(prefix)) n++;
    }
    return n;
  }

  // ------------------------------------------------------------------ internals

  private requireNode(): Libp2p<Services> {
    if (this.node === undefined) throw new OrdoError('P2P_NOT_STARTED', 'p2p network is not started');
    return this.node;
  }

  private pubsub(): GossipSub {
    return this.requireNode().services.pubsub;
  }

  private track(stream: Stream): void {
    this.openStreams.add(stream);
    stream.addEventListener('close', () => this.openStreams.delete(stream), { once: true });
  }

  /**
   * Count what gossipsub receives on the wire (docs/performance.md, "Transaction dissemination"): every
   * RPC frame from a peer passes through the instance's `decodeRpc`, duplicates and control messages
   * included, which the topic validators never see. Wrapped once per started libp2p node.
   */
  private countReceivedRpcs(): void {
    const ps = this.pubsub() as unknown as { decodeRpc?: (bytes: Uint8Array) => RPC };
    if (typeof ps.decodeRpc !== 'function') {
      // A gossipsub without it (another version): the node runs, the wire counters stay at 0.
      this.log.warn('gossipsub has no decodeRpc: ordo_p2p_rpc_received_* are not counted');
      return;
    }
    const decode = ps.decodeRpc.bind(ps);
    const m = this.metrics;
    const prefixLen = `/ordo/${this.opts.chainId}/`.length;
    ps.decodeRpc = (bytes: Uint8Array): RPC => {
      const rpc = decode(bytes);
      m.rpcReceived.inc();
      m.rpcReceivedBytes.inc(bytes.byteLength);
      for (const msg of rpc.messages) {
        const topic = msg.topic.slice(prefixLen, msg.topic.lastIndexOf('/'));
        m.rpcReceivedItems.inc({ kind: 'message', topic: TOPICS.includes(topic as Topic) ? topic : 'other' });
      }
      if (rpc.subscriptions.length > 0)
        m.rpcReceivedItems.inc({ kind: 'subscription', topic: '' }, rpc.subscriptions.length);
      const c = rpc.control;
      if (c !== undefined) {
        const ids = (kind: string, list: { messageIDs: Uint8Array[] }[]): void => {
          let n = 0;
          for (const x of list) n += x.messageIDs.length;
          if (n > 0) m.rpcReceivedItems.inc({ kind, topic: '' }, n);
        };
        ids('idontwant', c.idontwant);
        ids('ihave', c.ihave);
        ids('iwant', c.iwant);
        if (c.graft.length > 0) m.rpcReceivedItems.inc({ kind: 'graft', topic: '' }, c.graft.length);
        if (c.prune.length > 0) m.rpcReceivedItems.inc({ kind: 'prune', topic: '' }, c.prune.length);
      }
      return rpc;
    };
  }

  private installValidator(topic: Topic, handler: GossipHandler): void {
    const max = this.limits.maxGossipBytes[topic];
    const delay = forwardDelayFor(topic, this.opts);
    const validate = async (peerId: Libp2pPeerId, msg: Message): Promise<TopicValidatorResult> => {
      const from = peerId.toString();
      const size = msg.data.byteLength - PUBLISH_NONCE_BYTES;
      this.metrics.gossipMessages.inc({ topic, direction: 'in' });
      this.metrics.gossipBytes.inc({ topic, direction: 'in' }, Math.max(size, 0));
      let verdict: Verdict;
      if (size > max || size < 0) {
        verdict = 'reject';
      } else if (this.book.isGraylisted(from)) {
        // Still sending while graylisted: keep counting, so the peer reaches the disconnect threshold.
        verdict = 'ignore';
        this.reportPeer(from, 'spam');
      } else if (!this.gossipRate.take(from)) {
        verdict = 'ignore';
        this.reportPeer(from, 'spam');
      } else {
        const payload = plain(msg.data).subarray(0, size);
        const key = contentKeyOf(msg);
        if (this.dedupe.has(key)) {
          // Accepted content under a fresh message id: a replay (or an author's re-broadcast).
          verdict = 'ignore';
          if (!this.duplicateRate.take(from)) this.reportPeer(from, 'spam');
        } else {
          try {
            verdict = await handler({ topic, from, data: payload });
          } catch (err) {
            verdict = verdictForError(err);
            if (verdict === 'ignore')
              this.log.debug({ topic, from, err: errorMessage(err) }, 'gossip ignored');
          }
          // Remembered unless rejected: ignored content (an old height, say) replayed is still a replay.
          if (verdict !== 'reject') this.dedupe.add(key);
        }
      }
      this.metrics.validation.inc({ topic, verdict });
      if (verdict === 'reject') {
        this.log.debug({ topic, from, size }, 'gossip rejected');
        this.reportPeer(from, 'invalid-message');
      }
      if (verdict === 'accept' && delay > 0 && msg.data.byteLength >= IDONTWANT_MIN_BYTES) {
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
      return verdict as TopicValidatorResult;
    };
    this.pubsub().topicValidators.set(topicName(this.opts.chainId, topic), validate);
  }

  private async installHandler(protocol: Protocol, handler: RequestHandler): Promise<void> {
    const node = this.requireNode();
    const name = protocolName(this.opts.chainId, protocol);
    await node.unhandle(name).catch(() => {});
    await node.handle(
      name,
      async (stream, connection) => {
        this.track(stream);
        const from = connection.remotePeer.toString();
        const ac = new AbortController();
        const timer = setTimeout(() => ac.abort(new Error('request deadline')), this.limits.requestTimeoutMs);
        const onClose = () => ac.abort(new Error('stream closed'));
        stream.addEventListener('close', onClose, { once: true });
        const signal = ac.signal;
        try {
          if (this.book.isBanned(from)) throw new OrdoError('P2P_PEER_BANNED', 'peer is banned');
          if (!this.requestRate.take(from)) {
            this.reportPeer(from, 'spam');
            throw new OrdoError('P2P_RATE_LIMITED', 'too many requests from this peer');
          }
          const lp = lpStream(stream, { maxDataLength: this.limits.maxRequestBytes });
          const req = await lp.read({ signal });
          const resp = await handler(from, plain(req.subarray()), signal);
          if (resp.byteLength > this.limits.maxResponseBytes) {
            throw new OrdoError('P2P_RESPONSE_TOO_LARGE', `response is ${resp.byteLength} bytes`);
          }
          await lp.write(resp, { signal });
          await stream.close({ signal });
          this.metrics.requestsServed.inc({ protocol, outcome: 'ok' });
        } catch (err) {
          this.metrics.requestsServed.inc({ protocol, outcome: 'error' });
          this.log.debug({ protocol, from, err: errorMessage(err) }, 'request not served');
          if ((err as Error)?.name === 'InvalidDataLengthError') this.reportPeer(from, 'spam');
          stream.abort(err instanceof Error ? err : new Error(String(err)));
        } finally {
          clearTimeout(timer);
          stream.removeEventListener('close', onClose);
        }
      },
      { maxInboundStreams: this.limits.maxInboundStreams, maxOutboundStreams: this.limits.maxInboundStreams },
    );
  }

  private onConnect(peer: string): void {
    this.peerCache = undefined;
    if (this.book.isBanned(peer)) {
      this.disconnect(peer, 'banned');
      return;
    }
    const r = this.reconnectTimers.get(peer);
    if (r !== undefined) {
      clearTimeout(r.timer);
      r.timer = undefined;
      r.delay = this.opts.reconnect?.initialMs ?? 500;
    }
    this.metrics.peers.set({ kind: 'connected' }, this.peers().length);
    this.log.debug({ peer }, 'peer connected');
    for (const l of this.listeners['peer:connect']) l(peer);
  }

  private onDisconnect(peer: string): void {
    this.peerCache = undefined;
    this.metrics.peers.set({ kind: 'connected' }, this.peers().length);
    this.log.debug({ peer }, 'peer disconnected');
    for (const l of this.listeners['peer:disconnect']) l(peer);
    const b = this.bootstrap.find((x) => x.peer === peer);
    if (b !== undefined && !this.stopping) this.scheduleRedial(b);
  }

  private dialBootstrap(b: { addr: Multiaddr; peer: string }): void {
    const node = this.node;
    if (node === undefined || this.stopping || b.peer === this.peerId) return;
    if (node.getConnections(peerIdFromString(b.peer)).length > 0) return;
    node.dial(b.addr, { signal: AbortSignal.timeout(this.limits.dialTimeoutMs) }).then(
      () => {},
      (err) => {
        this.log.debug({ addr: b.addr.toString(), err: errorMessage(err) }, 'bootstrap dial failed');
        this.scheduleRedial(b);
      },
    );
  }

  private scheduleRedial(b: { addr: Multiaddr; peer: string }): void {
    if (this.stopping || this.node === undefined) return;
    const initial = this.opts.reconnect?.initialMs ?? 500;
    const maxMs = this.opts.reconnect?.maxMs ?? 30_000;
    const r = this.reconnectTimers.get(b.peer) ?? { delay: initial };
    if (r.timer !== undefined) return;
    const until = this.book.isBanned(b.peer) ? this.scoring.banMs : 0;
    const delay = Math.max(r.delay, until);
    r.timer = setTimeout(() => {
      r.timer = undefined;
      this.dialBootstrap(b);
    }, delay);
    r.timer.unref();
    r.delay = Math.min(r.delay * 2, maxMs);
    this.reconnectTimers.set(b.peer, r);
  }

  /** Banned by scoring, or blocked by the operator (testnet partitions). */
  private refused(peer: string): boolean {
    return this.book.isBanned(peer) || this.blocked.has(peer);
  }

  /**
   * Refuse and drop connections to exactly these peers (local testnets use it to cut partitions);
   * peers no longer listed are let back in and bootstrap peers among them are redialled at once.
   */
  async setBlockedPeers(ids: string[]): Promise<void> {
    const before = this.blocked;
    this.blocked = new Set(ids);
    const node = this.node;
    if (node === undefined) return;
    for (const peer of this.blocked) {
      if (before.has(peer)) continue;
      try {
        await node.hangUp(peerIdFromString(peer));
      } catch {
        // not connected, or not a peer id: the gater still refuses it
      }
    }
    for (const b of this.bootstrap) {
      if (before.has(b.peer) && !this.blocked.has(b.peer)) {
        const r = this.reconnectTimers.get(b.peer);
        if (r !== undefined) {
          clearTimeout(r.timer);
          this.reconnectTimers.delete(b.peer);
        }
        this.dialBootstrap(b);
      }
    }
    this.log.info({ blocked: [...this.blocked] }, 'blocked peers set');
  }

  private disconnect(peer: string, reason: string): void {
    const node = this.node;
    if (node === undefined) return;
    this.book.ban(peer);
    this.metrics.disconnects.inc({ reason });
    this.log.info({ peer, reason, score: this.book.score(peer) }, 'disconnecting peer');
    let id: Libp2pPeerId;
    try {
      id = peerIdFromString(peer);
    } catch {
      return; // not a libp2p peer id: nothing to hang up (the ban still applies to the string)
    }
    // A fresh identity from the same address must not walk straight back in.
    for (const conn of node.getConnections(id)) this.gate.banned(ipOf(conn.remoteAddr.getComponents()), peer);
    node.hangUp(id).catch(() => {});
  }

  /** Periodic: drop peers whose combined score fell below the disconnect threshold; prune the book. */
  private maintain(): void {
    if (this.node === undefined) return;
    this.peerCache = undefined; // bounds the cache's age to one maintenance period, whatever the events
    const peers = this.peers();
    for (const peer of peers) {
      if (this.score(peer) < this.scoring.disconnectThreshold) this.disconnect(peer, 'gossip-score');
    }
    this.book.prune();
    this.metrics.queueDepth.set({ queue: 'request_streams' }, this.openStreams.size);
    // Bytes waiting in outbound stream buffers (gossip and requests), bounded by maxOutboundBufferBytes per stream.
    let buffered = 0;
    for (const conn of this.node.getConnections()) {
      for (const s of conn.streams) buffered += s.writeBufferLength ?? 0;
    }
    this.metrics.queueDepth.set({ queue: 'outbound_stream_bytes' }, buffered);
    this.metrics.peers.set({ kind: 'connected' }, this.peers().length);
  }
}

/** A plain Uint8Array view (libp2p hands out Buffers; callers compare and hash plain byte arrays). */
function plain(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
