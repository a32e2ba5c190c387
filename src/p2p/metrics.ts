/**
 * P2P metrics (prom-client): connected peers, gossip messages and bytes in/out per topic, validation
 * results by verdict, outbound queue depths and drops, request/response latencies, and what gossipsub
 * receives on the wire (RPC frames, bytes, messages including duplicates, control ids): the transport
 * cost per committed transaction that docs/performance.md reports. Both Network
 * implementations and TxGossip take an optional `Registry`; without one the metrics are registered in a
 * private registry (so tests and multiple in-process nodes never collide on the global one).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface P2pMetrics {
  registry: Registry;
  peers: Gauge<'kind'>;
  gossipMessages: Counter<'topic' | 'direction'>;
  gossipBytes: Counter<'topic' | 'direction'>;
  validation: Counter<'topic' | 'verdict'>;
  queueDepth: Gauge<'queue'>;
  queueDropped: Counter<'queue'>;
  requestSeconds: Histogram<'protocol' | 'outcome'>;
  requestsServed: Counter<'protocol' | 'outcome'>;
  offences: Counter<'offence'>;
  disconnects: Counter<'reason'>;
  rpcReceived: Counter;
  rpcReceivedBytes: Counter;
  rpcReceivedItems: Counter<'kind' | 'topic'>;
}

const cache = new WeakMap<Registry, P2pMetrics>();

export function createP2pMetrics(registry: Registry = new Registry()): P2pMetrics {
  const existing = cache.get(registry);
  if (existing !== undefined) return existing;
  const m: P2pMetrics = {
    registry,
    peers: new Gauge({
      name: 'ordo_p2p_peers',
      help: 'Connected peers',
      labelNames: ['kind'],
      registers: [registry],
    }),
    gossipMessages: new Counter({
      name: 'ordo_p2p_gossip_messages_total',
      help: 'Gossip messages by topic and direction (in = received from a peer, out = published by us)',
      labelNames: ['topic', 'direction'],
      registers: [registry],
    }),
    gossipBytes: new Counter({
      name: 'ordo_p2p_gossip_bytes_total',
      help: 'Gossip payload bytes by topic and direction',
      labelNames: ['topic', 'direction'],
      registers: [registry],
    }),
    validation: new Counter({
      name: 'ordo_p2p_validation_total',
      help: 'Gossip validation results by topic and verdict',
      labelNames: ['topic', 'verdict'],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'ordo_p2p_queue_depth',
      help: 'Items waiting in bounded p2p queues',
      labelNames: ['queue'],
      registers: [registry],
    }),
    queueDropped: new Counter({
      name: 'ordo_p2p_queue_dropped_total',
      help: 'Items dropped from full bounded p2p queues (drop-oldest)',
      labelNames: ['queue'],
      registers: [registry],
    }),
    requestSeconds: new Histogram({
      name: 'ordo_p2p_request_seconds',
      help: 'Outbound request/response latency',
      labelNames: ['protocol', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
      registers: [registry],
    }),
    requestsServed: new Counter({
      name: 'ordo_p2p_requests_served_total',
      help: 'Inbound requests served by protocol and outcome',
      labelNames: ['protocol', 'outcome'],
      registers: [registry],
    }),
    offences: new Counter({
      name: 'ordo_p2p_peer_offences_total',
      help: 'Application-level peer offences reported',
      labelNames: ['offence'],
      registers: [registry],
    }),
    disconnects: new Counter({
      name: 'ordo_p2p_disconnects_total',
      help: 'Peers we disconnected, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    rpcReceived: new Counter({
      name: 'ordo_p2p_rpc_received_total',
      help: 'Gossipsub RPC frames received from peers (each one decrypted and decoded), duplicates included',
      registers: [registry],
    }),
    rpcReceivedBytes: new Counter({
      name: 'ordo_p2p_rpc_received_bytes_total',
      help: 'Bytes of the gossipsub RPC frames received from peers',
      registers: [registry],
    }),
    rpcReceivedItems: new Counter({
      name: 'ordo_p2p_rpc_received_items_total',
      help: 'What received gossipsub RPC frames carried: message (published messages per topic, duplicates included), idontwant, ihave and iwant (message ids), graft, prune, subscription',
      labelNames: ['kind', 'topic'],
      registers: [registry],
    }),
  };
  cache.set(registry, m);
  return m;
}
