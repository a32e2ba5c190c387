/**
 * The engine's storage seam for crash safety: the write-ahead log and the "last signed" guard behind
 * two small interfaces. Nodes use the files (`filePersistence`: `Wal` from wal.ts and `SignGuardFile`
 * from sign-guard.ts in the data directory); the seeded simulator uses `MemoryDisk`, whose WAL keeps
 * an unsynced tail that a simulated power loss drops or tears deterministically (a seeded prefix of
 * the unsynced records survives, the torn last record is discarded the way the file reader discards
 * it), and whose sign guard may lose its unsynced state too (the file is not fsynced by default).
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { toHex } from '../crypto/index.ts';
import { OrdoError } from '../errors.ts';
import { SignGuardFile, type SignKind } from './sign-guard.ts';
import { Wal, type WalEntry, type WalOptions } from './wal.ts';

/** The write-ahead log as the engine uses it (`Wal` is the file implementation). */
export interface ConsensusWal {
  /** Append a record (not yet durable). Throws when the write fails. */
  append(e: WalEntry, messageBytes?: Uint8Array): void;
  /** Make every appended record durable. Rejects when the flush fails. */
  sync(): Promise<void>;
  /** Replace the log with `entries` atomically; false when skipped (nothing changed). */
  compact(entries: WalEntry[]): Promise<boolean>;
  /**
   * After a failed append or fsync: make everything appended durable again, or reject while the disk
   * still fails. The engine probes with this, with backoff, and resumes signing once it resolves.
   */
  repair(): Promise<void>;
  /** Current size in bytes (compaction threshold). */
  readonly size: number;
  close(): void;
}

/**
 * The durable "last signed" position (`SignGuardFile` is the file implementation). The engine
 * `check`s before the core signs and `allow`s (records) once the message is durable in the WAL, just
 * before it is sent (ADR 0078).
 */
export interface SignGuardStore {
  /** True when signing is safe; records nothing. */
  check(kind: SignKind, height: number, round: number, blockHash: Uint8Array | null): boolean;
  /** True when signing is safe, recording it (see SignGuardFile.allow). Throws when the write fails. */
  allow(kind: SignKind, height: number, round: number, blockHash: Uint8Array | null): boolean;
  close(): void;
}

/** Opens the WAL (with its surviving records) and the sign guard of one engine. */
export interface ConsensusPersistence {
  openWal(): { wal: ConsensusWal; entries: WalEntry[] };
  /** Null for a node that never signs. */
  openSignGuard(): SignGuardStore | null;
}

/** Files in `dataDir`: `cs.wal` and `last-signed.json`. */
export function filePersistence(
  dataDir: string,
  opts: { logger?: Logger; durableSignGuard?: boolean; walIo?: WalOptions['io'] } = {},
): ConsensusPersistence {
  return {
    openWal: () =>
      Wal.open(join(dataDir, 'cs.wal'), {
        ...(opts.logger === undefined ? {} : { logger: opts.logger }),
        ...(opts.walIo === undefined ? {} : { io: opts.walIo }),
      }),
    openSignGuard: () =>
      new SignGuardFile(join(dataDir, 'last-signed.json'), { durable: opts.durableSignGuard === true }),
  };
}

/** What a simulated power loss does to the unsynced state of a `MemoryDisk`. */
export interface CrashOptions {
  /** Unsynced WAL records that reach the "platter" (a prefix; the rest is lost). */
  keepUnsynced: number;
  /** The last kept unsynced record is torn (half written): the reader drops it. */
  tornTail: boolean;
  /** The sign guard's last unsynced update is lost (it reverts to its synced state). */
  loseGuard: boolean;
}

interface GuardState {
  height: number;
  round: number;
  steps: Partial<Record<SignKind, string>>;
}

/**
 * SIMULATION AND TESTS: one node's disk in memory. It outlives engine instances (a restarted engine
 * opens it again and sees what survived). `crash()` applies a power loss and fences the handles
 * opened before it: the dead incarnation's late writes are ignored. `failWrites` makes appends,
 * syncs and guard updates fail (storage failure).
 */
export class MemoryDisk implements ConsensusPersistence {
  #records: WalEntry[] = [];
  #durable = 0;
  #guard: GuardState | null = null;
  #guardSynced: GuardState | null = null;
  #generation = 0;
  /** Make every write fail from now on (with an I/O-like error). */
  failWrites = false;
  /** Make only WAL fsyncs fail (appends still succeed). */
  failSyncs = false;
  /** Make only sign-guard writes fail. */
  failGuardWrites = false;
  /** How long an fsync takes (the simulator's timers); absent, it completes at once. */
  syncDelay: (() => Promise<void>) | undefined;
  /** Records dropped by crashes so far (torn ones included). */
  lostRecords = 0;
  tornTails = 0;

  /** Records currently in the log (durable or not). */
  get length(): number {
    return this.#records.length;
  }

  get durable(): number {
    return this.#durable;
  }

  crash(o: CrashOptions): void {
    this.#generation++;
    const unsynced = this.#records.length - this.#durable;
    let keep = Math.max(0, Math.min(unsynced, o.keepUnsynced));
    if (o.tornTail && keep > 0) {
      keep--;
      this.tornTails++;
    }
    this.lostRecords += unsynced - keep;
    this.#records.length = this.#durable + keep;
    this.#durable = this.#records.length;
    if (o.loseGuard) this.#guard = this.#guardSynced;
  }

  /** Lose everything (a replaced disk): TEST ONLY, shows the double-sign oracle has teeth. */
  wipe(): void {
    this.#generation++;
    this.#records = [];
    this.#durable = 0;
    this.#guard = null;
    this.#guardSynced = null;
  }

  openWal(): { wal: ConsensusWal; entries: WalEntry[] } {
    const gen = this.#generation;
    const live = (): boolean => gen === this.#generation;
    const fail = (what: string): never => {
      throw new OrdoError('WAL_IO', `simulated ${what} failure`);
    };
    // Every open is a restart: only what reached the disk is read back.
    this.#durable = this.#records.length;
    const entries = [...this.#records];
    const wal: ConsensusWal = {
      append: (e) => {
        if (!live()) return;
        if (this.failWrites) fail('WAL write');
        this.#records.push(e);
      },
      sync: async () => {
        if (!live()) return;
        if (this.failWrites || this.failSyncs) fail('WAL fsync');
        const upto = this.#records.length;
        const guard = this.#guard;
        if (this.syncDelay !== undefined) {
          await this.syncDelay();
          // Power lost during the fsync: the dead process never learns the outcome.
          if (!live()) return new Promise<void>(() => {});
          if (this.failWrites || this.failSyncs) fail('WAL fsync');
        }
        this.#durable = Math.max(this.#durable, Math.min(upto, this.#records.length));
        // fsync also flushes the guard file's page-cache state in this model.
        this.#guardSynced = guard;
      },
      repair: async () => {
        if (!live()) return;
        if (this.failWrites || this.failSyncs) fail('WAL repair');
        this.#durable = this.#records.length;
      },
      compact: async (keep) => {
        if (!live()) return false;
        if (this.failWrites) fail('WAL compaction');
        this.#records = [...keep];
        this.#durable = this.#records.length;
        return true;
      },
      get size() {
        return 0;
      },
      close: () => {},
    };
    return { wal, entries };
  }

  openSignGuard(): SignGuardStore {
    const gen = this.#generation;
    const decide = (
      kind: SignKind,
      height: number,
      round: number,
      blockHash: Uint8Array | null,
    ): { ok: boolean; next: GuardState | null } => {
      const hash = blockHash === null ? '' : toHex(blockHash);
      const last = this.#guard;
      if (last !== null && (height < last.height || (height === last.height && round < last.round)))
        return { ok: false, next: null };
      if (last !== null && height === last.height && round === last.round) {
        const prev = last.steps[kind];
        if (prev !== undefined) return { ok: prev === hash, next: null };
        return { ok: true, next: { height, round, steps: { ...last.steps, [kind]: hash } } };
      }
      return { ok: true, next: { height, round, steps: { [kind]: hash } } };
    };
    return {
      check: (kind, height, round, blockHash) =>
        gen === this.#generation && decide(kind, height, round, blockHash).ok,
      allow: (kind, height, round, blockHash) => {
        if (gen !== this.#generation) return false;
        const d = decide(kind, height, round, blockHash);
        if (d.ok && d.next !== null) {
          if (this.failWrites || this.failGuardWrites)
            throw new OrdoError('SIGN_GUARD_IO', 'simulated sign guard write failure');
          this.#guard = d.next;
        }
        return d.ok;
      },
      close: () => {},
    };
  }
}
