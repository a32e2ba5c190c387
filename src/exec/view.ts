/**
 * A transaction's view of rollup state, recording its read set and write set.
 *
 * Reads fall through the transaction's own journal frames to a `base` lookup (committed state plus the
 * writes of earlier transactions, whichever the executor provides). The first value seen below the
 * transaction's own writes is recorded as a read; the validator later re-checks exactly these values.
 * Frames support the EVM's nested checkpoints (checkpoint / commit / revert). Credits are commutative
 * balance additions kept apart from reads and writes.
 */
import type { Bytes, StateView } from './types.ts';

/** Absent values are null in read/write sets so they survive structured clone. */
export type Val = Bytes | null;

export interface TxEffects {
  reads: Map<Bytes, Val>;
  writes: Map<Bytes, Val>;
  credits: Map<Bytes, bigint>;
}

export class TxView implements StateView {
  readonly reads = new Map<Bytes, Val>();
  readonly credits = new Map<Bytes, bigint>();
  #frames: Map<Bytes, Val>[] = [new Map()];
  readonly #base: (key: Bytes) => Bytes | undefined;

  constructor(base: (key: Bytes) => Bytes | undefined) {
    this.#base = base;
  }

  /** The value from the transaction's own frames; `undefined` when the transaction has not written it. */
  own(key: Bytes): Val | undefined {
    for (let i = this.#frames.length - 1; i >= 0; i--) {
      const v = this.#frames[i]!.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  get(key: Bytes): Bytes | undefined {
    const o = this.own(key);
    if (o !== undefined) return o ?? undefined;
    const r = this.reads.get(key);
    if (r !== undefined) return r ?? undefined;
    const v = this.#base(key);
    this.reads.set(key, v ?? null);
    return v;
  }

  /** Read the base value without recording it (the caller records it later or proves it unneeded). */
  peekBase(key: Bytes): Val {
    const r = this.reads.get(key);
    if (r !== undefined) return r;
    return this.#base(key) ?? null;
  }

  recordRead(key: Bytes, value: Val): void {
    if (!this.reads.has(key)) this.reads.set(key, value);
  }

  set(key: Bytes, value: Bytes | undefined): void {
    this.#frames[this.#frames.length - 1]!.set(key, value ?? null);
  }

  /** Drop a write from every frame (used when a write is re-expressed as a credit). */
  unset(key: Bytes): void {
    for (const f of this.#frames) f.delete(key);
  }

  credit(key: Bytes, amount: bigint): void {
    if (amount === 0n) return;
    this.credits.set(key, (this.credits.get(key) ?? 0n) + amount);
  }

  checkpoint(): void {
    this.#frames.push(new Map());
  }

  commit(): void {
    if (this.#frames.length < 2) return;
    const top = this.#frames.pop()!;
    const below = this.#frames[this.#frames.length - 1]!;
    for (const [k, v] of top) below.set(k, v);
  }

  revert(): void {
    if (this.#frames.length < 2) {
      this.#frames[0] = new Map();
      return;
    }
    this.#frames.pop();
  }

  /** Keys this transaction wrote under `prefix` (evm: storage of a cleared account). */
  ownKeysWithPrefix(prefix: Bytes): Bytes[] {
    const out = new Set<Bytes>();
    for (const f of this.#frames) for (const k of f.keys()) if (k.startsWith(prefix)) out.add(k);
    return [...out];
  }

  /** Collapse the frames into the final write set. */
  effects(): TxEffects {
    while (this.#frames.length > 1) this.commit();
    return { reads: this.reads, writes: this.#frames[0]!, credits: this.credits };
  }
}
