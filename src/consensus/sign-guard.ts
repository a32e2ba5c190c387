/**
 * The "last signed" guard: a tiny file holding the highest (height, round, step) this validator key
 * has signed and the block hash it signed for. Before every signature the engine asks the guard; it
 * refuses anything below the last position and anything at the same position for a different block,
 * and durably records a new position (write temp file, fsync, rename) before allowing it. This holds
 * even if the WAL were lost, so a restarted node can never sign two different votes for one height,
 * round and type. Step order: proposal < prevote < precommit.
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
  #last: LastSigned | null;

  constructor(path: string) {
    this.path = path;
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
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }
}
