/**
 * Bundle statuses (docs/bundles.md "Statuses"): pending → committed (height, spans) → + execution and
 * pre-confirmation → certified; or dropped with a reason. Pending statuses are derived from the pool's
 * pending set; finished ones (committed or dropped) are kept in a bounded memory of `capacity` entries
 * (the oldest half is forgotten as a whole, src/mempool/recent.ts), after which `status` answers
 * undefined. Subscribers are called on every change; a subscriber that throws is ignored.
 *
 * It also implements the executor side's `BundleStatusSink`: `executed` folds the execution outcome and
 * this node's pre-confirmation into a committed status, `certified(h)` marks the bundles committed at h.
 */

import type { Preconfirmation } from '../codec/index.ts';
import { latin1Key } from '../crypto/index.ts';
import type { BundleExecution, BundleStatus, BundleStatusSink, BundleStatusView } from './bundle-types.ts';
import { RecentMap } from './recent.ts';

/** Heights whose committed bundles still wait for `certified` (older ones are forgotten). */
const CERTIFY_WINDOW = 256;

export class BundleStatusBook implements BundleStatusView, BundleStatusSink {
  readonly #finished: RecentMap<string, BundleStatus>;
  readonly #listeners = new Map<string, Set<(s: BundleStatus) => void>>();
  /** Committed bundle keys by height, for `certified`. */
  readonly #byHeight = new Map<number, string[]>();
  readonly #isPending: (key: string) => boolean;
  readonly #onError: (err: unknown) => void;

  constructor(capacity: number, isPending: (key: string) => boolean, onError: (err: unknown) => void) {
    this.#finished = new RecentMap(capacity);
    this.#isPending = isPending;
    this.#onError = onError;
  }

  status(bundleHash: Uint8Array): BundleStatus | undefined {
    return this.get(latin1Key(bundleHash));
  }

  get(key: string): BundleStatus | undefined {
    if (this.#isPending(key)) return { status: 'pending' };
    const s = this.#finished.get(key);
    return s === undefined ? undefined : { ...s };
  }

  /** The finished status only (committed or dropped), for duplicate and inclusion checks. */
  finished(key: string): BundleStatus | undefined {
    return this.#finished.get(key);
  }

  subscribe(bundleHash: Uint8Array, listener: (s: BundleStatus) => void): () => void {
    const key = latin1Key(bundleHash);
    let set = this.#listeners.get(key);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(key, set);
    }
    set.add(listener);
    return () => {
      const s = this.#listeners.get(key);
      if (s === undefined) return;
      s.delete(listener);
      if (s.size === 0) this.#listeners.delete(key);
    };
  }

  /** Subscriptions open now (for tests and leak checks). */
  subscriptions(): number {
    let n = 0;
    for (const s of this.#listeners.values()) n += s.size;
    return n;
  }

  /** Tell subscribers a bundle is pending (admitted). */
  pending(key: string): void {
    this.#notify(key, { status: 'pending' });
  }

  /** Record a finished status and tell subscribers. */
  finish(key: string, s: BundleStatus): void {
    this.#finished.set(key, s);
    if (s.status === 'committed' && s.height !== undefined) {
      const list = this.#byHeight.get(s.height);
      if (list === undefined) this.#byHeight.set(s.height, [key]);
      else list.push(key);
      for (const h of this.#byHeight.keys()) {
        if (h > s.height - CERTIFY_WINDOW) break;
        this.#byHeight.delete(h);
      }
    }
    this.#notify(key, s);
  }

  executed(
    bundleHash: Uint8Array,
    height: number,
    execution: BundleExecution,
    preconfirmation: Preconfirmation | undefined,
  ): void {
    const key = latin1Key(bundleHash);
    const s = this.#finished.get(key);
    if (s === undefined || s.status !== 'committed' || s.height !== height) return;
    const next: BundleStatus = { ...s, execution };
    if (preconfirmation !== undefined) next.preconfirmation = preconfirmation;
    this.#finished.set(key, next);
    this.#notify(key, next);
  }

  certified(height: number): void {
    const keys = this.#byHeight.get(height);
    if (keys === undefined) return;
    this.#byHeight.delete(height);
    for (const key of keys) {
      const s = this.#finished.get(key);
      if (s === undefined || s.status !== 'committed' || s.height !== height || s.certified === true)
        continue;
      const next: BundleStatus = { ...s, certified: true };
      this.#finished.set(key, next);
      this.#notify(key, next);
    }
  }

  #notify(key: string, s: BundleStatus): void {
    const set = this.#listeners.get(key);
    if (set === undefined) return;
    for (const l of [...set]) {
      try {
        l({ ...s });
      } catch (err) {
        this.#onError(err);
      }
    }
  }
}
