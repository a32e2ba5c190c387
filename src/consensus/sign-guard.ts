/**
 * The "last signed" guard: a tiny file holding the highest (height, round, step) this validator key
 * has signed and the block hash it signed for. Before every signature the engine asks the guard; it
 * refuses anything below the last position and anything at the same position for a different block,
 * and records a new position (write temp file, rename) before allowing it. The file survives a process
 * crash (kill -9) through the page cache without an fsync on the hot path; against power loss the
 * engine relies on the WAL, whose own-message records are fsynced before any message leaves the node
 * and are checked before this guard (engine.ts). Set `durable` to fsync every update as well.
 * Step order: proposal < prevote < precommit.
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

const STEP: Record<SignKind, number> = { proposal: 0, prevote: 1, precommit: 2 };

export interface LastSigned {
  height: number;
  round: number;
  step: number;
  /** hex block hash, '' for nil */
  hash: string;
}

function cmp(a: LastSigned, h: number, r: number, s: number): number {
  if (a.height !== h) return a.height < h ? -1 : 1;
  if (a.round !== r) return a.round < r ? -1 : 1;
  if (a.step !== s) return a.step < s ? -1 : 1;
  return 0;
}

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
      if (
        !Number.isSafeInteger(p.height) ||
        !Number.isSafeInteger(p.round) ||
        !Number.isSafeInteger(p.step) ||
        typeof p.hash !== 'string'
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

  /** True when signing (kind, height, round, hash) is safe; records it durably first. */
  allow(kind: SignKind, height: number, round: number, blockHash: Uint8Array | null): boolean {
    const step = STEP[kind];
    const hash = blockHash === null ? '' : toHex(blockHash);
    const last = this.#last;
    if (last !== null) {
      const c = cmp(last, height, round, step);
      if (c > 0) return false;
      if (c === 0) return last.hash === hash;
    }
    const next: LastSigned = { height, round, step, hash };
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
