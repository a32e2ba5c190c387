/**
 * The transport contract every other component depends on. Consensus, mempool gossip and sync talk to
 * a `Network`, never to libp2p: `src/p2p/libp2p/` implements it over libp2p 3 + gossipsub, and
 * `src/p2p/memory/` implements it in memory (seeded, deterministic) for simulations. Payloads are
 * opaque bytes here; each caller owns its encoding and validation.
 */

export type PeerId = string;

/** Broadcast channels; the libp2p implementation maps them to `/ordo/<chainId>/<topic>/1`. */
export type Topic = 'txs' | 'consensus' | 'auction' | 'bundles';

/** Gossip verdicts: accept = deliver and forward; ignore = drop quietly; reject = drop and penalise. */
export type Verdict = 'accept' | 'ignore' | 'reject';

export interface GossipMessage {
  topic: Topic;
  /** The peer that forwarded the message to us (not necessarily its author). */
  from: PeerId;
  data: Uint8Array;
}

export type GossipHandler = (msg: GossipMessage) => Verdict | Promise<Verdict>;

/** Request/response protocols; the libp2p implementation maps them to `/ordo/<chainId>/<name>/1`. */
export type Protocol = 'sync';

export type RequestHandler = (from: PeerId, request: Uint8Array, signal: AbortSignal) => Promise<Uint8Array>;

export interface RequestOptions {
  /** Whole-request deadline (dial + write + read). Implementations apply a default when absent. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Why the application penalises a peer; each maps to a score delta in one place. */
export type PeerOffence = 'invalid-message' | 'spam' | 'failed-request' | 'bad-response';

export interface NetworkEvents {
  'peer:connect': PeerId;
  'peer:disconnect': PeerId;
}

export interface Network {
  readonly peerId: PeerId;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Broadcast to every subscribed peer (not delivered back to ourselves). */
  publish(topic: Topic, data: Uint8Array): Promise<void>;
  /** One handler per topic; its verdict drives forwarding and scoring. */
  subscribe(topic: Topic, handler: GossipHandler): void;
  /** Serve a request/response protocol. */
  handle(protocol: Protocol, handler: RequestHandler): void;
  /** Send one request and wait for the response, bounded by a timeout. */
  request(peer: PeerId, protocol: Protocol, data: Uint8Array, opts?: RequestOptions): Promise<Uint8Array>;
  /** Currently connected peers. */
  peers(): PeerId[];
  /** Application-level score: penalise a peer (leads to graylisting and disconnection past thresholds). */
  reportPeer(peer: PeerId, offence: PeerOffence): void;
  on<E extends keyof NetworkEvents>(event: E, listener: (arg: NetworkEvents[E]) => void): void;
}

/**
 * What the p2p implementations return: the `Network` contract plus read-only introspection for the
 * node (status/metrics endpoints) and tests. Consumers that only need transport keep depending on
 * `Network`.
 */
export interface P2pNetwork extends Network {
  /** Combined peer score (gossipsub v1.1 score including the application score); 0 for unknown peers. */
  score(peer: PeerId): number;
  /** Application-level score alone (what `reportPeer` and rejected gossip move). */
  appScore(peer: PeerId): number;
  /** True while the peer's gossip is being ignored (graylisted or banned). */
  isGraylisted(peer: PeerId): boolean;
  /** Addresses other nodes can dial, each ending in `/p2p/<peerId>`. */
  addresses(): string[];
  /** Connected peers subscribed to `topic` (gossip to them is possible). */
  topicPeers(topic: Topic): PeerId[];
  /** Open request/response streams (all peers, all our protocols): for leak checks and metrics. */
  openRequestStreams(): number;
}
