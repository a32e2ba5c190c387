/**
 * TEST DOUBLE: a tiny in-process `Network` hub for consensus engine tests (the real in-memory and
 * libp2p networks live in src/p2p/, owned elsewhere). Publish delivers asynchronously to every other
 * subscribed node; requests call the target's handler directly. `disconnect` cuts a node off.
 */
import type {
  GossipHandler,
  Network,
  NetworkEvents,
  PeerId,
  PeerOffence,
  Protocol,
  RequestHandler,
  RequestOptions,
  Topic,
} from '../../p2p/index.ts';

export class MemoryHub {
  readonly nodes = new Map<PeerId, MemoryNetwork>();
  readonly down = new Set<PeerId>();

  create(peerId: PeerId): MemoryNetwork {
    const n = new MemoryNetwork(this, peerId);
    this.nodes.set(peerId, n);
    return n;
  }
}

export class MemoryNetwork implements Network {
  readonly peerId: PeerId;
  readonly reports: { peer: PeerId; offence: PeerOffence }[] = [];
  readonly #hub: MemoryHub;
  readonly subs = new Map<Topic, GossipHandler>();
  readonly handlers = new Map<Protocol, RequestHandler>();
  #started = false;

  constructor(hub: MemoryHub, peerId: PeerId) {
    this.#hub = hub;
    this.peerId = peerId;
  }
  async start(): Promise<void> {
    this.#started = true;
  }
  async stop(): Promise<void> {
    this.#started = false;
  }
  async publish(topic: Topic, data: Uint8Array): Promise<void> {
    if (this.#hub.down.has(this.peerId)) return;
    for (const [id, n] of this.#hub.nodes) {
      if (id === this.peerId || !n.#started || this.#hub.down.has(id)) continue;
      const h = n.subs.get(topic);
      if (h !== undefined) {
        const copy = new Uint8Array(data);
        setImmediate(() => {
          if (n.#started) void h({ topic, from: this.peerId, data: copy });
        });
      }
    }
  }
  subscribe(topic: Topic, handler: GossipHandler): void {
    this.subs.set(topic, handler);
  }
  handle(protocol: Protocol, handler: RequestHandler): void {
    this.handlers.set(protocol, handler);
  }
  async request(
    peer: PeerId,
    protocol: Protocol,
    data: Uint8Array,
    _opts?: RequestOptions,
  ): Promise<Uint8Array> {
    const n = this.#hub.nodes.get(peer);
    if (n === undefined || !n.#started || this.#hub.down.has(peer) || this.#hub.down.has(this.peerId)) {
      throw new Error(`peer ${peer} unreachable`);
    }
    const h = n.handlers.get(protocol);
    if (h === undefined) throw new Error(`peer ${peer} does not serve ${protocol}`);
    return h(this.peerId, data, new AbortController().signal);
  }
  peers(): PeerId[] {
    if (this.#hub.down.has(this.peerId)) return [];
    return [...this.#hub.nodes.keys()].filter(
      (id) => id !== this.peerId && !this.#hub.down.has(id) && this.#hub.nodes.get(id)!.#started,
    );
  }
  reportPeer(peer: PeerId, offence: PeerOffence): void {
    this.reports.push({ peer, offence });
  }
  on<E extends keyof NetworkEvents>(_event: E, _listener: (arg: NetworkEvents[E]) => void): void {}
}
