/**
 * The consensus write-ahead log: the inputs the state machine consumes (received proposals and votes,
 * fired timeouts; block contents are supported by the format but the engine relies on its own
 * proposal record instead) and every own message it signs, appended in order to one file. The
 * engine appends an input BEFORE feeding it to the core and fsyncs BEFORE any own message leaves the
 * node, so after `kill -9` replaying the log through a fresh core rebuilds the same state and re-signs
 * exactly the same votes. The log holds one height: it is reset after each block is committed to the
 * store (the store is the durable record of everything older).
 *
 * File format: 8-byte magic `ORDOWAL1`, then records `[len u32 BE][crc32 u32 BE][payload]`, payload
 * `[type u8][nowMs u64 BE][body]`. On open, a torn tail (a record cut short by a crash, or the very
 * last record failing its CRC) is truncated with a warning; anything wrong before the tail stops
 * start-up with a `WAL_CORRUPT` error naming the file and the byte offset.
 */
import {
  closeSync,
  existsSync,
  fdatasync,
  fstatSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import pino, { type Logger } from 'pino';
import { decodeBlock, decodeConsensusMessage, encodeBlock, encodeConsensusMessage } from '../codec/codec.ts';
import { ZERO_HASH } from '../crypto/hash.ts';
import { OrdoError } from '../errors.ts';
import type { ConsensusMessage } from '../types.ts';
import type { ConsensusWal } from './persistence.ts';
import { type CoreInput, inputHeight, type TimeoutStep } from './state-machine.ts';

const MAGIC = Buffer.from('ORDOWAL1');
/** Largest record accepted (a proposal carries a whole block). */
export const MAX_WAL_RECORD_BYTES = 8 * 1024 * 1024;

const T_MSG = 1;
const T_TIMEOUT = 2;
const T_CONTENTS = 3;
const T_OWN = 4;

const STEPS: TimeoutStep[] = ['propose', 'prevote', 'precommit', 'rebroadcast'];

/** A record: an input fed to the core, or an own message it signed. */
export type WalEntry =
  | { type: 'input'; input: Exclude<CoreInput, { kind: 'start' } | { kind: 'synced' } | { kind: 'own' }> }
  | { type: 'own'; message: ConsensusMessage; nowMs: number };

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/**
 * Encode a record. `messageBytes`, when given, is the message's encoding already at hand (received
 * bytes that decoded and verified, or the bytes about to be published), so a large proposal is not
 * encoded again for the log.
 */
export function encodeWalEntry(e: WalEntry, messageBytes?: Uint8Array): Buffer {
  if (e.type === 'own') {
    return Buffer.concat([
      Buffer.from([T_OWN]),
      u64(e.nowMs),
      messageBytes ?? encodeConsensusMessage(e.message),
    ]);
  }
  const i = e.input;
  switch (i.kind) {
    case 'proposal':
    case 'vote': {
      const m: ConsensusMessage =
        i.kind === 'proposal' ? { kind: 'proposal', proposal: i.proposal } : { kind: 'vote', vote: i.vote };
      return Buffer.concat([
        Buffer.from([T_MSG]),
        u64(i.nowMs),
        Buffer.from([i.verified === true ? 1 : 0]),
        messageBytes ?? encodeConsensusMessage(m),
      ]);
    }
    case 'timeout':
      return Buffer.concat([
        Buffer.from([T_TIMEOUT]),
        u64(i.nowMs),
        Buffer.from([STEPS.indexOf(i.timeout.step)]),
        u64(i.timeout.height),
        u32(i.timeout.round),
      ]);
    case 'contents': {
      // Contents travel as a block with a placeholder header (only txs and bundles are read back).
      const body = encodeBlock({
        header: {
          chainId: 'wal',
          height: Math.max(1, i.height),
          round: i.round,
          timeMs: 0,
          parentHash: ZERO_HASH,
          dataHash: ZERO_HASH,
          proposer: ZERO_HASH,
          txCount: i.txs.length,
          lastCommitHash: new Uint8Array(0),
          resultsHash: new Uint8Array(0),
          auctionHash: new Uint8Array(0),
        },
        txs: i.txs,
        bundles: i.bundles,
      });
      return Buffer.concat([Buffer.from([T_CONTENTS]), u64(i.nowMs), u64(i.height), u32(i.round), body]);
    }
  }
}

export function decodeWalEntry(p: Buffer): WalEntry {
  if (p.length < 9) throw new Error('record shorter than its header');
  const type = p[0];
  const nowMs = Number(p.readBigUInt64BE(1));
  const body = p.subarray(9);
  switch (type) {
    case T_OWN:
      return { type: 'own', nowMs, message: decodeConsensusMessage(new Uint8Array(body)) };
    case T_MSG: {
      const verified = body[0] === 1;
      const m = decodeConsensusMessage(new Uint8Array(body.subarray(1)));
      return {
        type: 'input',
        input:
          m.kind === 'proposal'
            ? { kind: 'proposal', proposal: m.proposal, verified, nowMs }
            : { kind: 'vote', vote: m.vote, verified, nowMs },
      };
    }
    case T_TIMEOUT: {
      const step = STEPS[body[0] ?? 255];
      if (step === undefined || body.length !== 13) throw new Error('bad timeout record');
      return {
        type: 'input',
        input: {
          kind: 'timeout',
          timeout: { step, height: Number(body.readBigUInt64BE(1)), round: body.readUInt32BE(9) },
          nowMs,
        },
      };
    }
    case T_CONTENTS: {
      if (body.length < 12) throw new Error('bad contents record');
      const height = Number(body.readBigUInt64BE(0));
      const round = body.readUInt32BE(8);
      const b = decodeBlock(new Uint8Array(body.subarray(12)));
      return {
        type: 'input',
        input: { kind: 'contents', height, round, txs: b.txs, bundles: b.bundles, nowMs },
      };
    }
    default:
      throw new Error(`unknown record type ${String(type)}`);
  }
}

function frame(payload: Buffer): Buffer {
  if (payload.length > MAX_WAL_RECORD_BYTES) {
    throw new OrdoError('WAL_RECORD_TOO_LARGE', `WAL record of ${payload.length} bytes exceeds the limit`);
  }
  const head = Buffer.alloc(8);
  head.writeUInt32BE(payload.length, 0);
  head.writeUInt32BE(crc32(payload), 4);
  return Buffer.concat([head, payload]);
}

/** The consensus height a record belongs to (the same rule as the core's inputs). */
export function walEntryHeight(e: WalEntry): number {
  return inputHeight(e.type === 'own' ? { kind: 'own', message: e.message, nowMs: e.nowMs } : e.input);
}

export interface WalOptions {
  logger?: Logger;
}

function fsyncDir(path: string): void {
  try {
    const fd = openSync(dirname(path), 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some platforms cannot fsync directories; the rename is still atomic.
  }
}

/** fsync on the thread pool (the event loop keeps running). */
function fsyncAsync(fd: number, dataOnly: boolean): Promise<void> {
  return new Promise((resolve, reject) =>
    (dataOnly ? fdatasync : fsync)(fd, (err) => (err ? reject(err) : resolve())),
  );
}

/** fsyncDir on the thread pool; never rejects (see fsyncDir). */
async function fsyncDirAsync(path: string): Promise<void> {
  let fd = -1;
  try {
    fd = openSync(dirname(path), 'r');
    await fsyncAsync(fd, false);
  } catch {
    // Some platforms cannot fsync directories; the rename is still atomic.
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** Most passes `compact` makes over records appended while its copy was being synced. */
const COMPACT_MAX_PASSES = 8;

/** The write-ahead log file. Appends are synchronous writes; `sync()` is an fsync. */
export class Wal implements ConsensusWal {
  readonly path: string;
  readonly #log: Logger;
  #fd: number;
  #size: number;
  #dirty = false;
  /** While `compact` runs: records appended since it started (they go to the new file too). */
  #carry: Buffer[] | undefined;
  /** fsyncs in flight on the current fd: a fd replaced by `compact` is closed after they finish. */
  #syncs = new Set<Promise<void>>();
  /** The directory fsync that makes a compaction's rename durable; `sync()` waits for it. */
  #dirSync: Promise<void> | undefined;
  /** Bumped by `reset` and `close`: a compaction that started before gives up. */
  #generation = 0;

  private constructor(path: string, fd: number, size: number, log: Logger) {
    this.path = path;
    this.#fd = fd;
    this.#size = size;
    this.#log = log;
  }

  /** Open (creating if absent), validate and return the log with its records. */
  static open(path: string, opts: WalOptions = {}): { wal: Wal; entries: WalEntry[] } {
    const log = opts.logger ?? pino({ level: 'silent' });
    mkdirSync(dirname(path), { recursive: true });
    if (!existsSync(path)) Wal.#createEmpty(path);
    const fd = openSync(path, 'r+');
    try {
      const size = fstatSync(fd).size;
      const buf = Buffer.alloc(size);
      let read = 0;
      while (read < size) {
        const n = readSync(fd, buf, read, size - read, read);
        if (n === 0) break;
        read += n;
      }
      const { entries, validEnd } = Wal.#scan(path, buf, log);
      if (validEnd < size) {
        ftruncateSync(fd, validEnd);
        fsyncSync(fd);
      }
      if (validEnd < MAGIC.length) {
        ftruncateSync(fd, 0);
        writeSync(fd, MAGIC, 0, MAGIC.length, 0);
        fsyncSync(fd);
      }
      return { wal: new Wal(path, fd, Math.max(validEnd, MAGIC.length), log), entries };
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  static #createEmpty(path: string): void {
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, MAGIC);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    fsyncDir(path);
  }

  static #scan(path: string, buf: Buffer, log: Logger): { entries: WalEntry[]; validEnd: number } {
    const corrupt = (offset: number, what: string): never => {
      throw new OrdoError('WAL_CORRUPT', `WAL ${path} is corrupt at byte offset ${offset}: ${what}`, {
        path,
        offset,
      });
    };
    const torn = (offset: number, what: string): { entries: WalEntry[]; validEnd: number } => {
      log.warn({ path, offset, size: buf.length, reason: what }, 'WAL has a torn tail; truncating it');
      return { entries, validEnd: offset };
    };
    const entries: WalEntry[] = [];
    if (buf.length < MAGIC.length) {
      if (buf.length > 0 && !MAGIC.subarray(0, buf.length).equals(buf)) corrupt(0, 'bad magic');
      if (buf.length > 0) log.warn({ path }, 'WAL header is torn; starting an empty log');
      return { entries, validEnd: 0 };
    }
    if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) corrupt(0, 'not an Ordo WAL (bad magic)');
    let o = MAGIC.length;
    while (o < buf.length) {
      if (buf.length - o < 8) return torn(o, 'partial record header');
      const len = buf.readUInt32BE(o);
      const crc = buf.readUInt32BE(o + 4);
      if (len > MAX_WAL_RECORD_BYTES) corrupt(o, `record length ${len} exceeds ${MAX_WAL_RECORD_BYTES}`);
      const end = o + 8 + len;
      if (end > buf.length) return torn(o, 'record cut short');
      const payload = buf.subarray(o + 8, end);
      if (crc32(payload) !== crc) {
        if (end === buf.length) return torn(o, 'last record fails its checksum');
        corrupt(o, 'record fails its checksum');
      }
      try {
        entries.push(decodeWalEntry(payload));
      } catch (err) {
        corrupt(o, `record does not decode: ${(err as Error).message}`);
      }
      o = end;
    }
    return { entries, validEnd: o };
  }

  /** Append a record (written to the OS, not yet durable); see encodeWalEntry for `messageBytes`. */
  append(e: WalEntry, messageBytes?: Uint8Array): void {
    const rec = frame(encodeWalEntry(e, messageBytes));
    let off = 0;
    while (off < rec.length) off += writeSync(this.#fd, rec, off, rec.length - off, this.#size + off);
    this.#size += rec.length;
    this.#dirty = true;
    this.#carry?.push(rec);
  }

  /** Make every appended record durable. */
  async sync(): Promise<void> {
    if (this.#dirSync !== undefined) await this.#dirSync;
    if (!this.#dirty) return;
    this.#dirty = false;
    const fd = this.#fd;
    // fdatasync: the data and the file size, without unrelated metadata such as timestamps.
    const p = fsyncAsync(fd, true);
    const syncs = this.#syncs;
    syncs.add(p);
    try {
      await p;
    } finally {
      syncs.delete(p);
    }
  }

  /**
   * Atomically replace the log with `entries` (after a block is committed to the store: the records
   * of later heights are kept), without blocking the event loop (the fsyncs run on the thread pool; a
   * synchronous rewrite measured 50-190 ms on a busy disk). Appends go on to the current file meanwhile and are copied
   * to the new one too; the new file replaces the old one only once everything appended so far is
   * durable in it, so a record `sync()` reported durable is never lost, and `sync()` waits for the
   * directory fsync that makes the replacement durable. Returns false (the log left as it was) when a
   * compaction is already running or the log was closed meanwhile; throws on I/O errors, also with
   * the log left as it was.
   */
  async compact(entries: WalEntry[]): Promise<boolean> {
    if (this.#carry !== undefined || this.#fd < 0) return false;
    const tmp = `${this.path}.tmp`;
    const generation = this.#generation;
    this.#carry = [];
    let fd = -1;
    try {
      fd = openSync(tmp, 'w');
      const buf = Buffer.concat([MAGIC, ...entries.map((e) => frame(encodeWalEntry(e)))]);
      let size = 0;
      const put = (b: Buffer): void => {
        let off = 0;
        while (off < b.length) off += writeSync(fd, b, off, b.length - off, size + off);
        size += b.length;
      };
      put(buf);
      for (let pass = 0; ; pass++) {
        if (pass < COMPACT_MAX_PASSES) await fsyncAsync(fd, true);
        else fsyncSync(fd); // appends keep coming: finish synchronously rather than chase them
        if (this.#generation !== generation) return false; // closed or reset meanwhile
        const more = this.#carry.splice(0);
        if (more.length === 0) break;
        for (const rec of more) put(rec);
      }
      // Everything appended so far is durable in the new file, and nothing runs between here and the
      // swap: replace the old file.
      renameSync(tmp, this.path);
      const old = this.#fd;
      this.#fd = fd;
      fd = -1;
      this.#size = size;
      this.#dirty = false;
      const pending = [...this.#syncs];
      this.#syncs = new Set();
      void Promise.allSettled(pending).then(() => closeSync(old));
      const dirSync = fsyncDirAsync(this.path).finally(() => {
        if (this.#dirSync === dirSync) this.#dirSync = undefined;
      });
      this.#dirSync = dirSync;
      return true;
    } finally {
      this.#carry = undefined;
      if (fd >= 0) {
        closeSync(fd);
        try {
          unlinkSync(tmp);
        } catch {
          // already gone
        }
      }
    }
  }

  /** Start an empty log. */
  reset(): void {
    this.#generation++;
    ftruncateSync(this.#fd, MAGIC.length);
    fsyncSync(this.#fd);
    this.#size = MAGIC.length;
    this.#dirty = false;
  }

  get size(): number {
    return this.#size;
  }

  close(): void {
    this.#generation++;
    if (this.#fd >= 0) {
      closeSync(this.#fd);
      this.#fd = -1;
    }
    this.#log.debug({ path: this.path }, 'WAL closed');
  }
}
