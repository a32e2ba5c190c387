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
 * `[type u8][nowMs u64 BE][body]`. On open, a bad record (cut short, an impossible length, a failed
 * CRC, undecodable) with NO intact record after it is a torn tail: it is truncated with a warning. A
 * bad record followed by intact ones is corruption in the middle: start-up stops with a `WAL_CORRUPT`
 * error naming the file, the byte offset and the recovery commands (`ordo wal inspect|repair`).
 *
 * Write faults (ADR 0088): a failed append (ENOSPC, EIO, a short write) truncates the file back to the
 * last good record and throws `WAL_WRITE_FAILED`; a failed fsync throws `WAL_SYNC_FAILED` and leaves the
 * log "failed" (the kernel may have dropped the dirty pages: a later fsync proves nothing) until
 * `repair()` rewrites everything appended since the last good fsync and syncs it again. All file calls
 * go through `WalIo`, so tests inject faults.
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
import { decodeBlock, decodeConsensusMessage, encodeBlock, encodeConsensusMessage } from '../codec/index.ts';
import { ZERO_HASH } from '../crypto/index.ts';
import { OrdoError } from '../errors.ts';
import type { ConsensusMessage } from '../types.ts';
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
  | {
      type: 'input';
      input: Exclude<
        CoreInput,
        { kind: 'start' } | { kind: 'synced' } | { kind: 'own' } | { kind: 'verified' }
      >;
    }
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

/**
 * A whole framed record (`frame(encodeWalEntry(e, messageBytes))`, byte for byte) built in one buffer:
 * a message record is its few header bytes and the message's encoding, which for a proposal is the
 * whole block (hundreds of KiB at thousands of tx/s), and framing it with two concatenations copied
 * that block twice per received proposal on every node.
 */
export function encodeWalRecord(e: WalEntry, messageBytes?: Uint8Array): Buffer {
  let head: number;
  let msg: Uint8Array;
  if (e.type === 'own') {
    head = 9;
    msg = messageBytes ?? encodeConsensusMessage(e.message);
  } else if (e.input.kind === 'proposal' || e.input.kind === 'vote') {
    const i = e.input;
    head = 10;
    msg =
      messageBytes ??
      encodeConsensusMessage(
        i.kind === 'proposal' ? { kind: 'proposal', proposal: i.proposal } : { kind: 'vote', vote: i.vote },
      );
  } else {
    return frame(encodeWalEntry(e, messageBytes));
  }
  const len = head + msg.byteLength;
  if (len > MAX_WAL_RECORD_BYTES) {
    throw new OrdoError('WAL_RECORD_TOO_LARGE', `WAL record of ${len} bytes exceeds the limit`);
  }
  const rec = Buffer.allocUnsafe(8 + len);
  if (e.type === 'own') {
    rec[8] = T_OWN;
    rec.writeBigUInt64BE(BigInt(e.nowMs), 9);
  } else {
    const i = e.input as Extract<CoreInput, { kind: 'proposal' | 'vote' }>;
    rec[8] = T_MSG;
    rec.writeBigUInt64BE(BigInt(i.nowMs), 9);
    rec[17] = i.verified === true ? 1 : 0;
  }
  rec.set(msg, 8 + head);
  rec.writeUInt32BE(len, 0);
  rec.writeUInt32BE(crc32(rec.subarray(8)), 4);
  return rec;
}

/** The consensus height a record belongs to (the same rule as the core's inputs). */
export function walEntryHeight(e: WalEntry): number {
  return inputHeight(e.type === 'own' ? { kind: 'own', message: e.message, nowMs: e.nowMs } : e.input);
}

/**
 * The file calls the log makes after it is open (appends, fsyncs, truncations): node:fs by default,
 * replaced by tests to inject ENOSPC, EIO and short writes.
 */
export interface WalIo {
  write(fd: number, buf: Buffer, offset: number, length: number, position: number): number;
  fdatasync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void;
  ftruncate(fd: number, length: number): void;
  read(fd: number, buf: Buffer, offset: number, length: number, position: number): number;
}

export const nodeWalIo: WalIo = {
  write: (fd, buf, offset, length, position) => writeSync(fd, buf, offset, length, position),
  fdatasync: (fd, cb) => fdatasync(fd, cb),
  ftruncate: (fd, length) => ftruncateSync(fd, length),
  read: (fd, buf, offset, length, position) => readSync(fd, buf, offset, length, position),
};

export interface WalOptions {
  logger?: Logger;
  /** File calls after open (default node:fs); tests inject faults here. */
  io?: WalIo;
}

/** Error codes of the log. */
export type WalErrorCode = 'WAL_CORRUPT' | 'WAL_WRITE_FAILED' | 'WAL_SYNC_FAILED' | 'WAL_RECORD_TOO_LARGE';

/** The operator's way out of a refused log, named in every WAL_CORRUPT error (docs/operating.md). */
export const WAL_RECOVERY_HINT =
  'inspect it with `ordo wal inspect --home <node home>`, then `ordo wal repair --home <node home>` ' +
  '(truncates at the bad record, keeps a backup copy); see docs/operating.md "Storage faults"';

/** Most CRC work spent looking for an intact record after a bad one, before calling the damage corruption. */
const MAX_LOOKAHEAD_CRC_BYTES = 256 * 1024 * 1024;

/**
 * The first offset after `from` where an intact record (length in bounds, CRC matching, decodes)
 * starts; undefined when none does. `exhausted` when the search gave up (treated as corruption: when in
 * doubt the log is refused, not cut).
 */
export function findIntactRecord(buf: Buffer, from: number): { offset?: number; exhausted: boolean } {
  let budget = MAX_LOOKAHEAD_CRC_BYTES;
  for (let o = from; o + 8 <= buf.length; o++) {
    const len = buf.readUInt32BE(o);
    if (len < 9 || len > MAX_WAL_RECORD_BYTES || o + 8 + len > buf.length) continue;
    budget -= len;
    if (budget < 0) return { exhausted: true };
    const payload = buf.subarray(o + 8, o + 8 + len);
    if (crc32(payload) !== buf.readUInt32BE(o + 4)) continue;
    try {
      decodeWalEntry(payload);
      return { offset: o, exhausted: false };
    } catch {
      // a CRC collision on garbage: keep looking
    }
  }
  return { exhausted: false };
}

/** One record of a scan, for `ordo wal inspect`. */
export interface WalRecordInfo {
  offset: number;
  bytes: number;
  type: WalEntry['type'];
  kind: string;
  height: number;
}

/** What `inspectWal` finds: intact records, then the first bad one (if any) and whether it is a torn tail. */
export interface WalInspection {
  size: number;
  records: WalRecordInfo[];
  /** End of the last intact record before any damage. */
  validEnd: number;
  damage?: { offset: number; reason: string; torn: boolean; nextIntactOffset?: number };
}

/** Scan a WAL image without changing anything (the reader's rules; used by the CLI and `Wal.open`). */
export function inspectWalBuffer(buf: Buffer, entries?: WalEntry[]): WalInspection {
  const records: WalRecordInfo[] = [];
  const out = (validEnd: number, offset: number, reason: string, magicBad = false): WalInspection => {
    if (magicBad) return { size: buf.length, records, validEnd, damage: { offset, reason, torn: false } };
    const next = findIntactRecord(buf, offset + 1);
    const torn = next.offset === undefined && !next.exhausted;
    return {
      size: buf.length,
      records,
      validEnd,
      damage: {
        offset,
        reason: next.exhausted ? `${reason} (search for later intact records gave up)` : reason,
        torn,
        ...(next.offset === undefined ? {} : { nextIntactOffset: next.offset }),
      },
    };
  };
  if (buf.length < MAGIC.length) {
    if (buf.length > 0 && !MAGIC.subarray(0, buf.length).equals(buf)) return out(0, 0, 'bad magic', true);
    if (buf.length > 0)
      return {
        size: buf.length,
        records,
        validEnd: 0,
        damage: { offset: 0, reason: 'header is torn', torn: true },
      };
    return { size: 0, records, validEnd: 0 };
  }
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) return out(0, 0, 'not an Ordo WAL (bad magic)', true);
  let o = MAGIC.length;
  while (o < buf.length) {
    if (buf.length - o < 8) return out(o, o, 'partial record header');
    const len = buf.readUInt32BE(o);
    const crc = buf.readUInt32BE(o + 4);
    if (len > MAX_WAL_RECORD_BYTES) return out(o, o, `record length ${len} exceeds ${MAX_WAL_RECORD_BYTES}`);
    const end = o + 8 + len;
    if (end > buf.length) return out(o, o, 'record cut short');
    const payload = buf.subarray(o + 8, end);
    if (crc32(payload) !== crc) return out(o, o, 'record fails its checksum');
    let e: WalEntry;
    try {
      e = decodeWalEntry(payload);
    } catch (err) {
      return out(o, o, `record does not decode: ${(err as Error).message}`);
    }
    entries?.push(e);
    records.push({
      offset: o,
      bytes: 8 + len,
      type: e.type,
      kind: e.type === 'own' ? e.message.kind : e.input.kind,
      height: walEntryHeight(e),
    });
    o = end;
  }
  return { size: buf.length, records, validEnd: o };
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
/** The file implementation of `ConsensusWal` (persistence.ts; structural, so the two files do not import each other). */
export class Wal {
  readonly path: string;
  readonly #log: Logger;
  readonly #io: WalIo;
  #fd: number;
  #size: number;
  #dirty = false;
  /** End of the records the last successful fsync made durable. */
  #syncedSize: number;
  /** Set when an fsync failed (or a failed append could not be undone): appends refused until `repair()`. */
  #failed: Error | undefined;
  /** Size of the last append that failed: `repair()` proves that much space is writable again. */
  #probeBytes = 0;
  /** While `compact` runs: records appended since it started (they go to the new file too). */
  #carry: Buffer[] | undefined;
  /** fsyncs in flight on the current fd: a fd replaced by `compact` is closed after they finish. */
  #syncs = new Set<Promise<void>>();
  /** The directory fsync that makes a compaction's rename durable; `sync()` waits for it. */
  #dirSync: Promise<void> | undefined;
  /** Bumped by `reset` and `close`: a compaction that started before gives up. */
  #generation = 0;

  private constructor(path: string, fd: number, size: number, log: Logger, io: WalIo) {
    this.path = path;
    this.#fd = fd;
    this.#size = size;
    this.#syncedSize = size;
    this.#log = log;
    this.#io = io;
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
      readInto(fd, buf);
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
      return {
        wal: new Wal(path, fd, Math.max(validEnd, MAGIC.length), log, opts.io ?? nodeWalIo),
        entries,
      };
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
    const entries: WalEntry[] = [];
    const r = inspectWalBuffer(buf, entries);
    const d = r.damage;
    if (d === undefined) return { entries, validEnd: r.validEnd };
    if (d.torn) {
      log.warn(
        { path, offset: d.offset, size: buf.length, dropped: buf.length - r.validEnd, reason: d.reason },
        'WAL has a torn tail (an interrupted or failed write); truncating it',
      );
      return { entries, validEnd: r.validEnd };
    }
    const after =
      d.nextIntactOffset === undefined ? '' : `; an intact record follows at offset ${d.nextIntactOffset}`;
    throw new OrdoError<WalErrorCode>(
      'WAL_CORRUPT',
      `WAL ${path} is corrupt at byte offset ${d.offset}: ${d.reason}${after}, so this is damage in the middle of the log, not a torn write; ${WAL_RECOVERY_HINT}`,
      {
        path,
        offset: d.offset,
        ...(d.nextIntactOffset === undefined ? {} : { nextIntactOffset: d.nextIntactOffset }),
      },
    );
  }

  #error(code: WalErrorCode, what: string, cause: unknown): OrdoError<WalErrorCode> {
    const errno = (cause as NodeJS.ErrnoException | undefined)?.code;
    return new OrdoError<WalErrorCode>(
      code,
      `WAL ${this.path}: ${what}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { path: this.path, ...(errno === undefined ? {} : { errno }) },
      { cause },
    );
  }

  /**
   * Append a record (written to the OS, not yet durable); see encodeWalEntry for `messageBytes`. On a
   * failed or short write the file is truncated back to the last good record and `WAL_WRITE_FAILED` is
   * thrown: the log stays valid and the record is not in it.
   */
  append(e: WalEntry, messageBytes?: Uint8Array): void {
    if (this.#failed !== undefined) {
      throw this.#error('WAL_WRITE_FAILED', 'the log is failed until repaired', this.#failed);
    }
    const rec = encodeWalRecord(e, messageBytes);
    let off = 0;
    try {
      while (off < rec.length) {
        const n = this.#io.write(this.#fd, rec, off, rec.length - off, this.#size + off);
        if (n <= 0) throw new Error(`short write: ${off} of ${rec.length} bytes written`);
        off += n;
      }
    } catch (err) {
      try {
        this.#io.ftruncate(this.#fd, this.#size);
      } catch (undo) {
        // The torn bytes stay on disk: nothing more may be appended behind them until repair().
        this.#failed = undo instanceof Error ? undo : new Error(String(undo));
      }
      this.#probeBytes = rec.length;
      throw this.#error('WAL_WRITE_FAILED', `append of ${rec.length} bytes failed after ${off}`, err);
    }
    this.#probeBytes = 0;
    this.#size += rec.length;
    this.#dirty = true;
    this.#carry?.push(rec);
  }

  /**
   * Make every appended record durable. A failed fsync throws `WAL_SYNC_FAILED` and fails the log (the
   * kernel may have dropped the unwritten pages, so a second fsync proves nothing) until `repair()`.
   */
  async sync(): Promise<void> {
    if (this.#failed !== undefined) {
      throw this.#error('WAL_SYNC_FAILED', 'the log is failed until repaired', this.#failed);
    }
    if (this.#dirSync !== undefined) await this.#dirSync;
    if (!this.#dirty) return;
    this.#dirty = false;
    const fd = this.#fd;
    const upTo = this.#size;
    // fdatasync: the data and the file size, without unrelated metadata such as timestamps.
    const p = new Promise<void>((resolve, reject) =>
      this.#io.fdatasync(fd, (err) => (err ? reject(err) : resolve())),
    );
    const syncs = this.#syncs;
    syncs.add(p);
    try {
      await p;
    } catch (err) {
      if (fd === this.#fd) {
        this.#failed = err instanceof Error ? err : new Error(String(err));
        this.#dirty = true;
      }
      throw this.#error('WAL_SYNC_FAILED', 'fsync failed', err);
    } finally {
      syncs.delete(p);
    }
    if (fd === this.#fd && upTo > this.#syncedSize) this.#syncedSize = upTo;
  }

  /** Why the log refuses appends (a failed fsync not yet repaired), or undefined. */
  get failure(): Error | undefined {
    return this.#failed;
  }

  /**
   * Bring a failed log back: the bytes appended since the last good fsync are read back, cut at the
   * first record that does not check out (a record never synced may be lost; one that was reported
   * durable never is), written again and fsynced. Throws (the log stays failed) while the disk still
   * refuses; on success appends are accepted again. Also fine to call on a healthy log (a cheap probe).
   */
  async repair(): Promise<void> {
    if (this.#fd < 0) throw this.#error('WAL_WRITE_FAILED', 'repair of a closed log', new Error('closed'));
    const from = this.#syncedSize;
    const len = this.#size - from;
    const buf = Buffer.alloc(len);
    let got = 0;
    try {
      while (got < len) {
        const n = this.#io.read(this.#fd, buf, got, len - got, from + got);
        if (n <= 0) break;
        got += n;
      }
      // Keep the whole records among the bytes read back.
      let keep = 0;
      while (keep + 8 <= got) {
        const rl = buf.readUInt32BE(keep);
        if (rl > MAX_WAL_RECORD_BYTES || keep + 8 + rl > got) break;
        if (crc32(buf.subarray(keep + 8, keep + 8 + rl)) !== buf.readUInt32BE(keep + 4)) break;
        keep += 8 + rl;
      }
      // Written over themselves (already allocated: no new space needed), which makes the pages dirty
      // again; then everything behind them (torn bytes of a failed append) is cut.
      let off = 0;
      while (off < keep) {
        const n = this.#io.write(this.#fd, buf, off, keep - off, from + off);
        if (n <= 0) throw new Error(`short write: ${off} of ${keep} bytes written`);
        off += n;
      }
      this.#io.ftruncate(this.#fd, from + keep);
      // After a failed append: prove the space for it is there again (write it as zeros past the end,
      // then cut them), so the retry does not just fail again.
      if (this.#probeBytes > 0) {
        const probe = Buffer.alloc(this.#probeBytes);
        try {
          let p = 0;
          while (p < probe.length) {
            const n = this.#io.write(this.#fd, probe, p, probe.length - p, from + keep + p);
            if (n <= 0) throw new Error(`short write: ${p} of ${probe.length} probe bytes written`);
            p += n;
          }
        } finally {
          this.#io.ftruncate(this.#fd, from + keep);
        }
      }
      await new Promise<void>((resolve, reject) =>
        this.#io.fdatasync(this.#fd, (err) => (err ? reject(err) : resolve())),
      );
      if (keep < len) {
        this.#log.warn(
          { path: this.path, lost: len - keep },
          'WAL repair dropped records that never became durable',
        );
      }
      this.#probeBytes = 0;
      this.#size = from + keep;
      this.#syncedSize = this.#size;
      this.#dirty = false;
      if (this.#failed !== undefined) this.#log.info({ path: this.path, size: this.#size }, 'WAL repaired');
      this.#failed = undefined;
    } catch (err) {
      // The bytes are still in place (written over themselves at most): the next repair reads them again.
      this.#failed = err instanceof Error ? err : new Error(String(err));
      throw this.#error('WAL_WRITE_FAILED', 'repair failed', err);
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
    if (this.#carry !== undefined || this.#fd < 0 || this.#failed !== undefined) return false;
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
      this.#syncedSize = size;
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
    this.#syncedSize = MAGIC.length;
    this.#dirty = false;
    this.#failed = undefined;
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

function readWholeFile(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(fstatSync(fd).size);
    return buf.subarray(0, readInto(fd, buf));
  } finally {
    closeSync(fd);
  }
}

/** Fills `buf` from the start of `fd` until it is full or the file ends; returns the bytes read. */
function readInto(fd: number, buf: Buffer): number {
  let read = 0;
  while (read < buf.length) {
    const n = readSync(fd, buf, read, buf.length - read, read);
    if (n === 0) break;
    read += n;
  }
  return read;
}

/** Scan a WAL file without changing it (`ordo wal inspect`). */
export function inspectWalFile(path: string): WalInspection {
  return inspectWalBuffer(readWholeFile(path));
}

/**
 * `ordo wal repair`: keep a byte-for-byte backup of the log next to it, then cut the log at its first
 * bad record (everything after it is dropped, intact or not). Records lost this way are inputs and own
 * votes of the height in progress: the sign guard (last-signed.json) still refuses to sign anything
 * that conflicts with what this node signed, and peers resend what it missed. Returns what it did;
 * does nothing (no backup) when the log has no damage.
 */
export function repairWalFile(
  path: string,
  nowMs: number = Date.now(),
): { inspection: WalInspection; backup?: string; truncatedTo?: number } {
  const buf = readWholeFile(path);
  const inspection = inspectWalBuffer(buf);
  if (inspection.damage === undefined) return { inspection };
  const backup = `${path}.corrupt-${nowMs}`;
  const b = openSync(backup, 'wx');
  try {
    let off = 0;
    while (off < buf.length) off += writeSync(b, buf, off, buf.length - off, off);
    fsyncSync(b);
  } finally {
    closeSync(b);
  }
  const keep = inspection.validEnd < MAGIC.length ? 0 : inspection.validEnd;
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, keep);
    if (keep === 0) writeSync(fd, MAGIC, 0, MAGIC.length, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  fsyncDir(path);
  return { inspection, backup, truncatedTo: Math.max(keep, MAGIC.length) };
}
