/**
 * The application layer of peer scoring (the second layer, next to gossipsub's own v1.1 score). The
 * application reports offences (invalid messages, spam, failed requests, bad responses); each maps to a
 * negative delta in config, scores decay back towards zero over time, and two thresholds act on them:
 * below `graylistThreshold` the peer's gossip is ignored, below `disconnectThreshold` the peer is
 * disconnected and banned for `banMs`. The libp2p network feeds this score to gossipsub as its
 * application-specific score (P5); the memory network uses it directly.
 */
import type { ScoringConfig } from './config.ts';
import type { PeerId, PeerOffence } from './network.ts';

interface Entry {
  score: number;
  updatedMs: number;
}

export class AppScoreBook {
  private readonly cfg: ScoringConfig;
  private readonly now: () => number;
  private readonly scores = new Map<PeerId, Entry>();
  private readonly bans = new Map<PeerId, number>();

  constructor(cfg: ScoringConfig, now: () => number = Date.now) {
    this.cfg = cfg;
    this.now = now;
  }

  /** Current application score (decayed lazily to now). */
  score(peer: PeerId): number {
    const e = this.scores.get(peer);
    if (e === undefined) return 0;
    this.decay(e);
    if (Math.abs(e.score) < 0.01) {
      this.scores.delete(peer);
      return 0;
    }
    return e.score;
  }

  /** Apply an offence; returns the new score. */
  penalise(peer: PeerId, offence: PeerOffence, times = 1): number {
    const e = this.scores.get(peer) ?? { score: 0, updatedMs: this.now() };
    this.decay(e);
    e.score += this.cfg.penalties[offence] * times;
    this.scores.set(peer, e);
    return e.score;
  }

  isGraylisted(peer: PeerId): boolean {
    return this.score(peer) < this.cfg.graylistThreshold || this.isBanned(peer);
  }

  shouldDisconnect(peer: PeerId): boolean {
    return this.score(peer) < this.cfg.disconnectThreshold;
  }

  ban(peer: PeerId): void {
    this.bans.set(peer, this.now() + this.cfg.banMs);
  }

  isBanned(peer: PeerId): boolean {
    const until = this.bans.get(peer);
    if (until === undefined) return false;
    if (until <= this.now()) {
      this.bans.delete(peer);
      return false;
    }
    return true;
  }

  /** Forget peers whose score has decayed to ~0 and expired bans (bounded memory). */
  prune(): void {
    for (const peer of [...this.scores.keys()]) this.score(peer);
    for (const peer of [...this.bans.keys()]) this.isBanned(peer);
  }

  private decay(e: Entry): void {
    const now = this.now();
    const intervals = Math.floor((now - e.updatedMs) / this.cfg.decayIntervalMs);
    if (intervals > 0) {
      e.score *= this.cfg.decayFactor ** intervals;
      e.updatedMs += intervals * this.cfg.decayIntervalMs;
    }
  }
}
