/**
 * The load generator's acknowledgement log: every transaction it saw committed (its hash and the height
 * of the block the follower found it in), for the fault matrix's history checker
 * (testnet/history.ts), which compares these acknowledgements with every node's final chain. Only the
 * generator writes it, through `record`; it is bounded: beyond `maxEntries` further acknowledgements
 * are counted in `dropped` and not kept, so a long run cannot exhaust memory (a checker reports the
 * dropped count, it never silently checks less).
 */

export interface Ack {
  /** 0x-prefixed hex transaction hash (sha256(namespace u32 BE || payload), the node's tx id). */
  hash: string;
  /** Height of the committed block the generator's follower saw it in. */
  height: number;
}

/** Default cap: ~100 bytes per entry, so about 100 MB at most. */
export const DEFAULT_MAX_ACKS = 1_000_000;

export class AckLog {
  readonly maxEntries: number;
  readonly #acks = new Map<string, number>();
  #dropped = 0;
  #repeated = 0;
  #maxHeight = 0;

  constructor(maxEntries = DEFAULT_MAX_ACKS) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new RangeError('maxEntries must be >= 0');
    this.maxEntries = maxEntries;
  }

  /** One committed acknowledgement. A hash acknowledged twice keeps its first height and counts in `repeated`. */
  record(hash: string, height: number): void {
    if (this.#acks.has(hash)) {
      this.#repeated++;
      return;
    }
    if (this.#acks.size >= this.maxEntries) {
      this.#dropped++;
      return;
    }
    this.#acks.set(hash, height);
    if (height > this.#maxHeight) this.#maxHeight = height;
  }

  /** The highest height of any acknowledgement kept (0 when none). */
  get maxHeight(): number {
    return this.#maxHeight;
  }

  get size(): number {
    return this.#acks.size;
  }

  /** Acknowledgements not kept because the log was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Hashes acknowledged more than once (the follower handing the same transaction over again). */
  get repeated(): number {
    return this.#repeated;
  }

  height(hash: string): number | undefined {
    return this.#acks.get(hash);
  }

  *entries(): IterableIterator<Ack> {
    for (const [hash, height] of this.#acks) yield { hash, height };
  }
}
