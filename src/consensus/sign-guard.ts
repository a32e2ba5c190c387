/**
 * The "last signed" guard: a tiny file holding the highest (height, round) this validator key has
 * signed at and the block hash it signed for at each step there. Before every signature the engine
 * asks the guard; it refuses anything below that (height, round) and any step of it already signed
 * for a different block,
 * and records a new position (write temp file, rename) before allowing it. The file survives a process
 * crash (kill -9) through the page cache without an fsync on the hot path; against power loss the
 * engine relies on the WAL, whose own-message records are fsynced before any message leaves the node
 * and are checked before this guard (engine.ts). Set `durable` to fsync every update as well.
 * Positions are ordered by (height, round); within one round each step (proposal, prevote,
 * precommit) may be signed for one block hash only.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { toHex } from '../crypto/hash.ts';
import { OrdoError } from '../errors.ts';
import type { VoteType } from '../types.ts';

export type SignKind = 'proposal' | VoteType;

/** The latest (height, round) signed at, and the block hash ('' = nil) signed for each step there. */
export interface LastSigned {
  height: number;
  round: number;
  steps: Partial<Record<SignKind, string>>;
}

const KINDS: SignKind[] = ['proposal', 'prevote', 'precommit'];

export class SignGuardFile {
  readonly path: string;
  readonly durable: boolean;
  #last: LastSigned | null;

  constructor(path: string, opts: { durable?: boolean } = {}) {
    this.path = path;
    this.durable = opts.durable ?? false;
    this.#last = null;
    if (existsSync(path)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(path, 'utf8'));
      } catch (err) {
        throw new OrdoError('SIGN_GUARD_CORRUPT', `sign guard ${path} is not valid JSON; refusing to start`, {
          path,
          cause: (err as Error).message,
        });
      }
      const p = parsed as Partial<LastSigned>;
      const steps = p.steps as Record<string, unknown> | undefined;
      if (
        !Number.isSafeInteger(p.height) ||
        !Number.isSafeInteger(p.round) ||
        typeof steps !== 'object' ||
        steps === null ||
        Object.entries(steps).some(([k, v]) => !KINDS.includes(k as SignKind) || typeof v !== 'string')
      ) {
        throw new OrdoError('SIGN_GUARD_CORRUPT', `sign guard ${path} has missing or invalid fields`, {
          path,
        });
      }
      this.#last = p as LastSigned;
    }
  }

  get last(): LastSigned | null {
    return this.#last;
  }

  /**
   * True when signing (kind, height, round, hash) is safe, recording it first: never below the last
   * (height, round); at the same (height, round) each step may carry only one block hash (signing the
   * same one again is allowed, so a replay can re-derive a signature it made before a crash).
   */
  allow(kind: SignKind, height: number, round: number, blockHash: Uint8Array | null): boolean {
    const hash = blockHash === null ? '' : toHex(blockHash);
    const last = this.#last;
    let next: LastSigned;
    if (last !== null && (height < last.height || (height === last.height && round < last.round)))
      return false;
    if (last !== null && height === last.height && round === last.round) {
      const prev = last.steps[kind];
      if (prev !== undefined) return prev === hash;
      next = { height, round, steps: { ...last.steps, [kind]: hash } };
    } else {
      next = { height, round, steps: { [kind]: hash } };
    }
    this.#write(next);
    this.#last = next;
    return true;
  }

  #write(v: LastSigned): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(v));
      if (this.durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }
}
