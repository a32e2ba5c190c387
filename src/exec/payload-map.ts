/**
 * A bounded map keyed by a transaction payload's bytes (the same bytes are the same transaction), shared
 * by the executor's per-payload memories: prepared transactions (prepared-cache.ts, ADR 0175) and the
 * proposer's simulated runs (sim-runs.ts, ADR 0220). At most `maxEntries` payloads of at most
 * `maxPayloadBytes` each (bigger ones are never kept), evicted oldest first; the executor forgets a
 * block's payloads once it executed it.
 */
export class PayloadMap<V> {
  readonly #m = new Map<string, V>();
  readonly #maxEntries: number;
  readonly #maxPayloadBytes: number;

  constructor(maxEntries: number, maxPayloadBytes: number) {
    this.#maxEntries = maxEntries;
    this.#maxPayloadBytes = maxPayloadBytes;
  }

  get size(): number {
    return this.#m.size;
  }

  get(payload: Uint8Array): V | undefined {
    const k = this.#key(payload);
    return k === undefined ? undefined : this.#m.get(k);
  }

  has(payload: Uint8Array): boolean {
    const k = this.#key(payload);
    return k !== undefined && this.#m.has(k);
  }

  /** Remember `value` for `payload` as the newest entry (replacing an older one); no-op when too big. */
  set(payload: Uint8Array, value: V): void {
    const k = this.#key(payload);
    if (k === undefined) return;
    this.#m.delete(k);
    this.#m.set(k, value);
    if (this.#m.size > this.#maxEntries) this.#m.delete(this.#m.keys().next().value!);
  }

  /** Forget a payload (its block was executed). */
  delete(payload: Uint8Array): void {
    const k = this.#key(payload);
    if (k !== undefined) this.#m.delete(k);
  }

  #key(payload: Uint8Array): string | undefined {
    if (payload.byteLength > this.#maxPayloadBytes) return undefined;
    return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('latin1');
  }
}
