/**
 * P2P configuration: explicit limits (gossip message sizes per topic, transaction size, outbound queue
 * bounds, connection limits, request/response sizes and timeouts) and the peer-scoring policy. Library
 * defaults live here; `resolveP2pConfig` merges a partial config over them and validates every field,
 * naming the field in the error. Both Network implementations (libp2p and memory) read the same values,
 * so the behavioural test suite exercises one policy.
 */
import { LIMITS } from '../codec/index.ts';
import { OrdoError } from '../errors.ts';
import type { PeerOffence, Protocol, Topic } from './network.ts';

export interface P2pLimits {
  /** Largest gossip message accepted or published, per topic (checked before any decoding). */
  maxGossipBytes: Record<Topic, number>;
  /** One transaction's payload inside a gossiped batch. */
  maxTxBytes: number;
  /** Transactions in one gossiped batch. */
  maxBatchTxs: number;
  /** Bytes buffered for one peer's outbound gossip stream before sends are refused. */
  maxOutboundBufferBytes: number;
  /** Request and response sizes for request/response protocols. */
  maxRequestBytes: number;
  maxResponseBytes: number;
  /** Concurrent inbound request streams per connection, per protocol. */
  maxInboundStreams: number;
  /** Connection limits. */
  maxConnections: number;
  maxIncomingPendingConnections: number;
  /** Default whole-request timeout (dial + write + read). */
  requestTimeoutMs: number;
  dialTimeoutMs: number;
  /** Gossip messages accepted from one peer per second (burst: two seconds' worth); more are ignored and penalised. */
  gossipPerPeerPerSecond: number;
  /** Requests served to one peer per second (burst: two seconds' worth); more are refused and penalised. */
  requestsPerPeerPerSecond: number;
  /** Replayed gossip content (already accepted, fresh message id) tolerated from one peer per second. */
  duplicatesPerPeerPerSecond: number;
  /** How long accepted gossip content is remembered to catch replays under a fresh message id. */
  dedupeWindowMs: number;
  /** New peer identities accepted from one IP address per minute (whitelisted addresses exempt). */
  newIdentitiesPerAddressPerMinute: number;
}

export interface ScoringConfig {
  /** Application score delta per offence (negative). */
  penalties: Record<PeerOffence, number>;
  /** Score is multiplied by this factor every `decayIntervalMs` (moves back towards 0). */
  decayFactor: number;
  decayIntervalMs: number;
  /** Below this score the peer's gossip is ignored (gossipsub graylist). */
  graylistThreshold: number;
  /** Below this score we stop gossiping to the peer. */
  gossipThreshold: number;
  /** Below this score we do not publish our own messages to the peer. */
  publishThreshold: number;
  /** Below this score the peer is disconnected and banned for `banMs`. */
  disconnectThreshold: number;
  banMs: number;
  /**
   * IPs exempt from gossipsub's IP-colocation penalty (P6: more than 10 peers behind one IP). Loopback is
   * exempt by default so local multi-node testnets do not score themselves into disconnection.
   */
  ipColocationWhitelist: string[];
}

export const DEFAULT_LIMITS: P2pLimits = {
  maxGossipBytes: {
    txs: LIMITS.maxBatchBytes,
    consensus: LIMITS.maxConsensusMessageBytes,
    auction: 256 * 1024,
    // the envelope byte and a bundle batch (src/p2p/bundle-gossip.ts)
    bundles: 1 + LIMITS.maxBatchBytes,
  },
  maxTxBytes: LIMITS.maxTxBytes,
  maxBatchTxs: LIMITS.maxBatchTxs,
  maxOutboundBufferBytes: 32 * 1024 * 1024,
  maxRequestBytes: LIMITS.maxSyncRequestBytes,
  maxResponseBytes: LIMITS.maxSyncResponseBytes,
  maxInboundStreams: 16,
  maxConnections: 64,
  maxIncomingPendingConnections: 16,
  requestTimeoutMs: 10_000,
  dialTimeoutMs: 5_000,
  gossipPerPeerPerSecond: 2_000,
  requestsPerPeerPerSecond: 50,
  duplicatesPerPeerPerSecond: 50,
  dedupeWindowMs: 2_000,
  newIdentitiesPerAddressPerMinute: 8,
};

export const DEFAULT_SCORING: ScoringConfig = {
  penalties: {
    'invalid-message': -10,
    spam: -5,
    'failed-request': -2,
    'bad-response': -10,
  },
  decayFactor: 0.9,
  decayIntervalMs: 10_000,
  gossipThreshold: -20,
  publishThreshold: -40,
  graylistThreshold: -50,
  disconnectThreshold: -80,
  banMs: 60_000,
  ipColocationWhitelist: ['127.0.0.1', '::1'],
};

export const PROTOCOLS: readonly Protocol[] = ['sync'];
export const TOPICS: readonly Topic[] = ['txs', 'consensus', 'auction', 'bundles'];

/** Refuses (GOSSIP_TOO_LARGE) a message to publish above its topic's limit: both networks' `publish`. */
export function checkGossipSize(limits: P2pLimits, topic: Topic, data: Uint8Array): void {
  const max = limits.maxGossipBytes[topic];
  if (data.byteLength > max)
    throw new OrdoError(
      'GOSSIP_TOO_LARGE',
      `${topic} message is ${data.byteLength} bytes; the limit is ${max}`,
      {
        topic,
        size: data.byteLength,
        max,
      },
    );
}

export interface P2pConfigInput {
  limits?: Partial<Omit<P2pLimits, 'maxGossipBytes'>> & { maxGossipBytes?: Partial<Record<Topic, number>> };
  scoring?: Partial<Omit<ScoringConfig, 'penalties'>> & { penalties?: Partial<Record<PeerOffence, number>> };
}

export class P2pConfigError extends OrdoError<'P2P_CONFIG_INVALID'> {
  constructor(field: string, message: string) {
    super('P2P_CONFIG_INVALID', `p2p config ${field}: ${message}`, { field });
    this.name = 'P2pConfigError';
  }
}

function positiveInt(field: string, v: number): void {
  if (!Number.isSafeInteger(v) || v <= 0)
    throw new P2pConfigError(field, `must be a positive integer, got ${v}`);
}

function nonPositive(field: string, v: number): void {
  if (!Number.isFinite(v) || v > 0) throw new P2pConfigError(field, `must be a number <= 0, got ${v}`);
}

export function resolveLimits(input: P2pConfigInput['limits'] = {}): P2pLimits {
  const l: P2pLimits = {
    ...DEFAULT_LIMITS,
    ...input,
    maxGossipBytes: { ...DEFAULT_LIMITS.maxGossipBytes, ...input.maxGossipBytes },
  };
  for (const t of TOPICS) positiveInt(`limits.maxGossipBytes.${t}`, l.maxGossipBytes[t]);
  for (const k of [
    'maxTxBytes',
    'maxBatchTxs',
    'maxOutboundBufferBytes',
    'maxRequestBytes',
    'maxResponseBytes',
    'maxInboundStreams',
    'maxConnections',
    'maxIncomingPendingConnections',
    'requestTimeoutMs',
    'dialTimeoutMs',
    'gossipPerPeerPerSecond',
    'requestsPerPeerPerSecond',
    'duplicatesPerPeerPerSecond',
    'dedupeWindowMs',
    'newIdentitiesPerAddressPerMinute',
  ] as const) {
    positiveInt(`limits.${k}`, l[k]);
  }
  if (l.maxTxBytes > LIMITS.maxTxBytes) {
    throw new P2pConfigError('limits.maxTxBytes', `must not exceed the protocol limit ${LIMITS.maxTxBytes}`);
  }
  return l;
}

export function resolveScoring(input: P2pConfigInput['scoring'] = {}): ScoringConfig {
  const s: ScoringConfig = {
    ...DEFAULT_SCORING,
    ...input,
    penalties: { ...DEFAULT_SCORING.penalties, ...input.penalties },
  };
  for (const [k, v] of Object.entries(s.penalties)) nonPositive(`scoring.penalties.${k}`, v);
  if (!(s.decayFactor > 0 && s.decayFactor < 1)) {
    throw new P2pConfigError('scoring.decayFactor', `must be in (0, 1), got ${s.decayFactor}`);
  }
  positiveInt('scoring.decayIntervalMs', s.decayIntervalMs);
  positiveInt('scoring.banMs', s.banMs);
  nonPositive('scoring.gossipThreshold', s.gossipThreshold);
  if (!(s.publishThreshold <= s.gossipThreshold)) {
    throw new P2pConfigError('scoring.publishThreshold', 'must be <= gossipThreshold');
  }
  if (!(s.graylistThreshold < s.publishThreshold)) {
    throw new P2pConfigError('scoring.graylistThreshold', 'must be < publishThreshold');
  }
  if (!(s.disconnectThreshold <= s.graylistThreshold)) {
    throw new P2pConfigError('scoring.disconnectThreshold', 'must be <= graylistThreshold');
  }
  return s;
}
