/**
 * The "last signed" guard: a tiny file holding the highest (height, round) this validator key has
 * signed at and the block hash it signed for at each step there. Before every signature the engine
 * asks the guard; it refuses anything below that (height, round) and any step of it already signed
 * for a different block, and records the new state before allowing a signature.
 *
 * The file has two 512-byte slots written alternately in place (`[len u32][crc32 u32][seq u64][json]`);
 * the valid slot with the higher sequence number wins, so a torn write leaves the previous state. No
 * rename and no fsync on the hot path (a rename per signature cost ~15% of a 4-validator run's CPU):
 * the file survives a process crash (kill -9) through the page cache; against power loss the engine
 * relies on the WAL, whose own-message records are fsynced before any message leaves the node and
 * are checked before this guard (engine.ts). Set `durable` to fsync every update as well.
 * Positions are ordered by (height, round); within one round each step (proposal, prevote,
 * precommit) may be signed for one block hash only.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { toHex } from '../crypto/index.ts';
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

const SLOT = 512;

function encodeSlot(seq: number, v: LastSigned): Buffer {
  const json = Buffer.from(JSON.stringify(v));
  if (json.length > SLOT - 16) throw new OrdoError('SIGN_GUARD_TOO_LARGE', 'sign guard record too large');
  const b = Buffer.alloc(SLOT);
  b.writeUInt32BE(json.length, 0);
  b.writeBigUInt64BE(BigInt(seq), 8);
  json.copy(b, 16);
  b.writeUInt32BE(crc32(b.subarray(8, 16 + json.length)), 4);
  return b;
}

function decodeSlot(b: Buffer): { seq: number; v: unknown } | null {
  if (b.length < 16) return null;
  const len = b.readUInt32BE(0);
  if (len === 0 || len > SLOT - 16 || 16 + len > b.length) return null;
  if (crc32(b.subarray(8, 16 + len)) !== b.readUInt32BE(4)) return null;
  try {
    return { seq: Number(b.readBigUInt64BE(8)), v: JSON.parse(b.subarray(16, 16 + len).toString('utf8')) };
  } catch {
    return null;
  }
}

function checkShape(path: string, parsed: unknown): LastSigned {
  const p = parsed as Partial<LastSigned>;
  const steps = p.steps as Record<string, unknown> | undefined;
  if (
    !Number.isSafeInteger(p.height) ||
    !Number.isSafeInteger(p.round) ||
    typeof steps !== 'object' ||
    steps === null ||
    Object.entries(steps).some(([k, v]) => !KINDS.includes(k as SignKind) || typeof v !== 'string')
  ) {
    throw new OrdoError('SIGN_GUARD_CORRUPT', `sign guard ${path} has missing or invalid fields`, { path });
  }
  return p as LastSigned;
}

export class SignGuardFile {
  readonly path: string;
  readonly durable: boolean;
  #last: LastSigned | null = null;
  #seq = 0;
  #fd = -1;

  constructor(path: string, opts: { durable?: boolean } = {}) {
    this.path = path;
    this.durable = opts.durable ?? false;
    if (existsSync(path)) {
      const buf = readFileSync(path);
      if (buf.length > 0) {
        const slots = [decodeSlot(buf.subarray(0, SLOT)), decodeSlot(buf.subarray(SLOT, 2 * SLOT))];
        const valid = slots.filter((x): x is { seq: number; v: unknown } => x !== null);
        if (valid.length === 0) {
          throw new OrdoError(
            'SIGN_GUARD_CORRUPT',
            `sign guard ${path} has no valid record; refusing to start`,
            {
              path,
            },
          );
        }
        const best = valid.reduce((a, b) => (b.seq > a.seq ? b : a));
        this.#last = checkShape(path, best.v);
        this.#seq = best.seq;
      }
    }
  }

  get last(): LastSigned | null {
    return this.#last;
  }

  /** What `allow` would answer, without recording anything. */
  check(kind: SignKind, height: number, round: number, blockHash: Uint8Array | null): boolean {
    const last = this.#last;
    if (last === null) return true;
    if (height < last.height || (height === last.height && round < last.round)) return false;
    if (height !== last.height || round !== last.round) return true;
    const prev = last.steps[kind];
    return prev === undefined || prev === (blockHash === null ? '' : toHex(blockHash));
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
    if (this.#fd < 0) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.#fd = openSync(this.path, existsSync(this.path) ? 'r+' : 'w+');
    }
    const seq = this.#seq + 1;
    const slot = encodeSlot(seq, v);
    writeSync(this.#fd, slot, 0, SLOT, (seq % 2) * SLOT);
    if (this.durable) fsyncSync(this.#fd);
    this.#seq = seq;
  }

  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }
}
