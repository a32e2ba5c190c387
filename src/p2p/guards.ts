/**
 * Per-peer and per-address guards of the p2p layer, transport-independent and clocked by an injected
 * `now` (unit-testable without sockets):
 *
 * - `RateLimiter`: a token bucket per peer (gossip messages, requests, duplicate gossip). A peer over
 *   its rate gets its message ignored and is reported for spam, so a flood ends in a disconnect.
 * - `ContentDedupe`: remembers the content hash (sha256 of the payload, without the publish nonce) of
 *   every accepted gossip message for `windowMs`. gossipsub deduplicates by message id only, and the id
 *   covers a per-publication nonce, so a valid message replayed under a fresh id would otherwise be
 *   verified, delivered and forwarded again. A replay is ignored (not delivered, not forwarded); honest
 *   peers send few such copies (their authors' periodic re-broadcasts), an attacker many, which the
 *   duplicate rate limit turns into penalties.
 * - `IdentityGate`: new peer identities accepted per remote IP address per minute. A banned peer that
 *   comes back under a fresh peer id from the same address is refused: a ban uses up its address's
 *   budget for the current minute. Identities already seen from an address are always let back in,
 *   and whitelisted addresses (loopback by default, for local testnets) are exempt.
 *
 * Every map is bounded (oldest entries are dropped first), so an attacker cannot grow them.
 */
import { createHash } from 'node:crypto';

interface Bucket {
  tokens: number;
  atMs: number;
}

export class RateLimiter {
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #max: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(perSecond: number, burst: number, now: () => number = Date.now, maxKeys = 4096) {
    this.#perSecond = perSecond;
    this.#burst = burst;
    this.#now = now;
    this.#max = maxKeys;
  }

  /** Take one token for `key`; false when the key is over its rate. */
  take(key: string): boolean {
    const now = this.#now();
    let b = this.#buckets.get(key);
    if (b === undefined) {
      if (this.#buckets.size >= this.#max) this.#buckets.delete(this.#buckets.keys().next().value!);
      b = { tokens: this.#burst, atMs: now };
      this.#buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.#burst, b.tokens + ((now - b.atMs) / 1000) * this.#perSecond);
      b.atMs = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  forget(key: string): void {
    this.#buckets.delete(key);
  }
}

export class ContentDedupe {
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #max: number;
  /** content key → time accepted; insertion order is time order. */
  readonly #seen = new Map<string, number>();

  constructor(windowMs: number, now: () => number = Date.now, maxEntries = 100_000) {
    this.#windowMs = windowMs;
    this.#now = now;
    this.#max = maxEntries;
  }

  /**
   * sha256 of topic then payload, base64. The libp2p network passes the full topic name and computes
   * the same digest as a by-product of the message id (network.ts `msgId`), so it rarely calls this.
   */
  static key(topic: string, payload: Uint8Array): string {
    return createHash('sha256').update(topic).update(payload).digest('base64');
  }

  /** True when this content was accepted within the window. */
  has(key: string): boolean {
    const at = this.#seen.get(key);
    return at !== undefined && this.#now() - at < this.#windowMs;
  }

  add(key: string): void {
    const now = this.#now();
    this.#seen.delete(key);
    this.#seen.set(key, now);
    // Expire from the oldest end; cap the size.
    for (const [k, at] of this.#seen) {
      if (this.#seen.size <= this.#max && now - at < this.#windowMs) break;
      this.#seen.delete(k);
    }
  }

  get size(): number {
    return this.#seen.size;
  }
}

export class IdentityGate {
  readonly #perMinute: number;
  readonly #exempt: ReadonlySet<string>;
  readonly #now: () => number;
  readonly #maxAddresses: number;
  /** address → identities seen (ever, bounded) and new ones admitted in the current window. */
  readonly #byAddress = new Map<string, { known: Set<string>; windowStart: number; admitted: number }>();

  constructor(
    perMinute: number,
    exempt: Iterable<string>,
    now: () => number = Date.now,
    maxAddresses = 4096,
  ) {
    this.#perMinute = perMinute;
    this.#exempt = new Set(exempt);
    this.#now = now;
    this.#maxAddresses = maxAddresses;
  }

  #entry(address: string) {
    let e = this.#byAddress.get(address);
    const now = this.#now();
    if (e === undefined) {
      if (this.#byAddress.size >= this.#maxAddresses)
        this.#byAddress.delete(this.#byAddress.keys().next().value!);
      e = { known: new Set(), windowStart: now, admitted: 0 };
      this.#byAddress.set(address, e);
    }
    if (now - e.windowStart >= 60_000) {
      e.windowStart = now;
      e.admitted = 0;
    }
    return e;
  }

  /** May `peer` connect from `address`? Records it when admitted. */
  admit(address: string | undefined, peer: string): boolean {
    if (address === undefined || this.#exempt.has(address)) return true;
    const e = this.#entry(address);
    if (e.known.has(peer)) return true;
    if (e.admitted >= this.#perMinute) return false;
    e.admitted++;
    if (e.known.size >= 1024) e.known.delete(e.known.values().next().value!);
    e.known.add(peer);
    return true;
  }

  /** A peer from `address` was banned: no new identity from there until the window rolls over. */
  banned(address: string | undefined, peer: string): void {
    if (address === undefined || this.#exempt.has(address)) return;
    const e = this.#entry(address);
    e.known.delete(peer);
    e.admitted = this.#perMinute;
  }
}

/** The IP address of a multiaddr's first ip4/ip6 component. */
export function ipOf(components: readonly { name: string; value?: string }[]): string | undefined {
  return components.find((c) => c.name === 'ip4' || c.name === 'ip6')?.value;
}
