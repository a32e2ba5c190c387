/**
 * A bounded map of recent insertions, for the mempool's memories (final statuses, committed hashes,
 * sender nonces). It keeps two generations of plain Maps: inserts go to the current one; when that
 * holds half the capacity it becomes the old one and the previous old generation is dropped whole.
 *
 * Why not one Map evicting its first key: V8's ordered hash tables leave a hole for every deleted
 * entry and only compact on rehash, so `map.keys().next()` after k front deletions walks k holes. At
 * thousands of insertions per second against a 200,000 bound that was quadratic: seconds of main
 * thread per minute, enough to stall consensus on every node at once.
 *
 * Guarantees: at most `capacity` entries; an entry survives at least `capacity / 2` later insertions
 * of other keys; `expire(cutoff)` drops a generation only once its newest entry is at or before
 * `cutoff`. A generation also closes once it spans `maxGenerationMs`; with maxGenerationMs = R and
 * `expire(now - R)`, an entry is kept at least R (count bound permitting) and at most 2R.
 */
export class RecentMap<K, V> {
  readonly #half: number;
  #cur = new Map<K, V>();
  #old = new Map<K, V>();
  readonly #maxGenerationMs: number;
  #curOldestAt = Number.POSITIVE_INFINITY;
  #curNewestAt = Number.NEGATIVE_INFINITY;
  #oldNewestAt = Number.NEGATIVE_INFINITY;

  constructor(capacity: number, maxGenerationMs = Number.POSITIVE_INFINITY) {
    this.#half = Math.max(1, Math.floor(capacity / 2));
    this.#maxGenerationMs = maxGenerationMs;
  }

  get size(): number {
    return this.#cur.size + this.#old.size;
  }

  get(key: K): V | undefined {
    const v = this.#cur.get(key);
    return v !== undefined ? v : this.#old.get(key);
  }

  has(key: K): boolean {
    return this.#cur.has(key) || this.#old.has(key);
  }

  /**
   * Insert or refresh. A refreshed key is written to the current generation, which `get` reads first;
   * a stale copy in the old generation is not deleted (that would cost a second lookup on every insert,
   * and almost every insert is a fresh key) and leaves with its generation.
   */
  set(key: K, value: V, now = 0): void {
    if (this.#cur.size > 0 && now - this.#curOldestAt >= this.#maxGenerationMs) this.#rotate();
    this.#cur.set(key, value);
    if (now < this.#curOldestAt) this.#curOldestAt = now;
    if (now > this.#curNewestAt) this.#curNewestAt = now;
    if (this.#cur.size >= this.#half) this.#rotate();
  }

  #rotate(): void {
    this.#old = this.#cur;
    this.#oldNewestAt = this.#curNewestAt;
    this.#cur = new Map();
    this.#curOldestAt = Number.POSITIVE_INFINITY;
    this.#curNewestAt = Number.NEGATIVE_INFINITY;
  }

  delete(key: K): boolean {
    const a = this.#cur.delete(key);
    const b = this.#old.delete(key);
    return a || b;
  }

  /** Drop every generation whose newest entry was set at or before `cutoff`. */
  expire(cutoff: number): void {
    if (this.#old.size > 0 && this.#oldNewestAt <= cutoff) this.#old = new Map();
    if (this.#cur.size > 0 && this.#curNewestAt <= cutoff) {
      this.#cur = new Map();
      this.#curOldestAt = Number.POSITIVE_INFINITY;
      this.#curNewestAt = Number.NEGATIVE_INFINITY;
    }
  }

  /** When the oldest generation that `expire` could drop becomes droppable (Infinity when empty). */
  nextExpiry(retention: number): number {
    if (this.#old.size > 0) return this.#oldNewestAt + retention;
    if (this.#cur.size > 0) return this.#curNewestAt + retention;
    return Number.POSITIVE_INFINITY;
  }
}
