/**
 * Prepared transactions remembered between a bundle's admission, its simulation by the proposer and the
 * execution of the block that holds it (issue #22, ADR 0175).
 *
 * `prepare` (decode, signature check, sender recovery for EVM) is a pure function of the payload, and a
 * bundle leg's payload is prepared up to four times on one node: admission, the proposer's simulation,
 * a worker's preparation for the block, and the coordinator's `restore` (decoding again). This cache
 * keys the VM's `Prepared` result by the payload's bytes, so each of them is computed once per node.
 * The cached object is only read afterwards (ethereumjs transactions are immutable; their own caches
 * hold values derived from the payload), so the simulator's VM and the lane's VM can both run it.
 *
 * Bounded: at most `maxEntries` payloads of at most `maxPayloadBytes` each (bigger ones are never
 * cached), evicted oldest first; the executor forgets the transactions of a block once it executed it.
 * A prepared EVM transaction holds ~14 KB (ethereumjs gives each its own copy of the chain parameters),
 * so the default bound keeps a rollup's cache under ~30 MB.
 */
import { PayloadMap } from './payload-map.ts';
import type { Prepared } from './types.ts';

export const DEFAULT_PREPARED_CACHE_ENTRIES = 2048;
export const DEFAULT_PREPARED_MAX_PAYLOAD_BYTES = 4096;

export class PreparedCache {
  readonly #m: PayloadMap<Prepared<unknown>>;

  constructor(
    maxEntries = DEFAULT_PREPARED_CACHE_ENTRIES,
    maxPayloadBytes = DEFAULT_PREPARED_MAX_PAYLOAD_BYTES,
  ) {
    this.#m = new PayloadMap(maxEntries, maxPayloadBytes);
  }

  get size(): number {
    return this.#m.size;
  }

  /** The cached result for this payload, or `prepare(payload)` computed now (and cached when small). */
  prepare(payload: Uint8Array, prepare: (p: Uint8Array) => Prepared<unknown>): Prepared<unknown> {
    const hit = this.#m.get(payload);
    if (hit !== undefined) return hit;
    const p = prepare(payload);
    this.#m.set(payload, p);
    return p;
  }

  /** The cached result, without computing one. */
  peek(payload: Uint8Array): Prepared<unknown> | undefined {
    return this.#m.get(payload);
  }

  /** Forget a payload (its block was executed). */
  delete(payload: Uint8Array): void {
    this.#m.delete(payload);
  }
}
