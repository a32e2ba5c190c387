/**
 * Fail-stop on storage write faults (ADR 0088). When the WAL (append, fsync) or the block store (commit)
 * cannot write, the engine must stop signing at once: a signature that is not durably logged can be
 * forgotten by a crash and contradicted after it. This module holds the engine's "halted" state: which
 * writes are failing since when (the engine's `health()`), and the bounded exponential backoff between
 * probes. The engine keeps the failed work and retries it (the retry is the probe); when every failing
 * write has succeeded again, the halt is lifted and consensus goes on where it stopped. Reads (RPC, the
 * rollup adapter, peers syncing from us) are never blocked by a halt.
 */
import type { Logger } from 'pino';
import { errorMessage, isOrdoError } from '../errors.ts';

/** The engine's health (the `ConsensusEngine.health()` contract). */
export type EngineHealth = { ok: true } | { ok: false; code: string; reason: string; sinceMs: number };

/** Where a write failed: the consensus WAL or the block store. */
export type WriteSite = 'wal' | 'store';

export interface StorageHaltOptions {
  logger: Logger;
  clock: () => number;
  /** First wait between probes (default 100 ms), doubled after each failed probe up to `maxDelayMs`. */
  minDelayMs?: number;
  /** Longest wait between probes (default 5000 ms). */
  maxDelayMs?: number;
  /** Timer source (default setTimeout); returns a cancel function. */
  setTimer?: (fn: () => void, ms: number) => () => void;
  /** Called when the first fault starts a halt and when the last one clears. */
  onChange?: (halted: boolean) => void;
}

interface Fault {
  code: string;
  reason: string;
  sinceMs: number;
  attempts: number;
}

const defaultTimer = (fn: () => void, ms: number): (() => void) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

export class StorageHalt {
  readonly #o: StorageHaltOptions;
  readonly #faults = new Map<WriteSite, Fault>();
  /** Pending backoff waits (resolved early by `stop`). */
  readonly #waits = new Set<() => void>();

  constructor(opts: StorageHaltOptions) {
    this.#o = opts;
  }

  /** True while any write site is failing: nothing may be signed. */
  get halted(): boolean {
    return this.#faults.size > 0;
  }

  isFailing(site: WriteSite): boolean {
    return this.#faults.has(site);
  }

  health(): EngineHealth {
    let first: Fault | undefined;
    for (const f of this.#faults.values()) if (first === undefined || f.sinceMs < first.sinceMs) first = f;
    if (first === undefined) return { ok: true };
    return { ok: false, code: first.code, reason: first.reason, sinceMs: first.sinceMs };
  }

  /** A write at `site` failed: halt (logged once per fault at error, then at debug per probe). */
  fail(site: WriteSite, err: unknown): void {
    const code = isOrdoError(err) ? err.code : 'STORAGE_WRITE_FAILED';
    const reason = errorMessage(err);
    const f = this.#faults.get(site);
    if (f !== undefined) {
      f.attempts++;
      f.reason = reason;
      f.code = code;
      this.#o.logger.debug({ site, code, attempts: f.attempts, err: reason }, 'storage still failing');
      return;
    }
    const wasHalted = this.halted;
    this.#faults.set(site, { code, reason, sinceMs: this.#o.clock(), attempts: 1 });
    this.#o.logger.error(
      { site, code, err: reason },
      'storage write failed: consensus halted (no signing) until writes succeed again; reads still served',
    );
    if (!wasHalted) this.#o.onChange?.(true);
  }

  /** The write at `site` succeeded again. */
  clear(site: WriteSite): void {
    const f = this.#faults.get(site);
    if (f === undefined) return;
    this.#faults.delete(site);
    this.#o.logger.warn(
      { site, code: f.code, haltedMs: this.#o.clock() - f.sinceMs, probes: f.attempts },
      'storage writes succeed again',
    );
    if (!this.halted) this.#o.onChange?.(false);
  }

  /** The wait before the next probe at `site`: min * 2^(attempts-1), capped at max. */
  delayMs(site: WriteSite): number {
    const min = this.#o.minDelayMs ?? 100;
    const max = this.#o.maxDelayMs ?? 5000;
    const n = Math.min(this.#faults.get(site)?.attempts ?? 1, 30);
    return Math.min(max, min * 2 ** (n - 1));
  }

  /** Wait out the backoff for `site` (ends early on `stop`). */
  backoff(site: WriteSite): Promise<void> {
    return new Promise((resolve) => {
      let cancel: () => void = () => {};
      const done = (): void => {
        this.#waits.delete(done);
        cancel();
        resolve();
      };
      this.#waits.add(done);
      cancel = (this.#o.setTimer ?? defaultTimer)(done, this.delayMs(site));
    });
  }

  /** End every pending backoff (the engine is stopping). */
  stop(): void {
    for (const w of [...this.#waits]) w();
  }
}

/** Thrown inside the engine's action loop to stop it; carries the actions not yet applied. */
export class HaltSignal<A> extends Error {
  readonly remaining: A[];
  constructor(remaining: A[]) {
    super('consensus halted on a storage write fault');
    this.name = 'HaltSignal';
    this.remaining = remaining;
  }
}
