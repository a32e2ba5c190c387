import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { inspectWalBuffer, nodeWalIo, Wal, type WalEntry, type WalIo } from '../../../src/consensus/wal.ts';
import { OrdoError } from '../../../src/errors.ts';

let dir = '';
afterEach(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  dir = '';
});

function tmp(): string {
  dir = mkdtempSync(join(tmpdir(), 'ordo-walf-'));
  return dir;
}

const vote = (round: number): WalEntry => ({
  type: 'input',
  input: {
    kind: 'vote',
    verified: true,
    nowMs: 1000 + round,
    vote: {
      type: 'prevote',
      height: 3,
      round,
      blockHash: new Uint8Array(32).fill(round + 1),
      validatorIndex: 1,
      signature: new Uint8Array(64).fill(9),
    },
  },
});

function enospc(): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error('ENOSPC: no space left on device, write');
  e.code = 'ENOSPC';
  return e;
}

/** node:fs with switchable faults: writes that stop after `writeBudget` bytes, failing fsyncs. */
class FaultyIo implements WalIo {
  /** Bytes the next writes may still put on disk before ENOSPC (Infinity: no fault). */
  writeBudget = Number.POSITIVE_INFINITY;
  /** Return a short count (0) instead of throwing when the budget runs out. */
  shortWrites = false;
  failSync = false;
  write(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
    if (this.writeBudget <= 0) {
      if (this.shortWrites) return 0;
      throw enospc();
    }
    const n = Math.min(length, this.writeBudget);
    this.writeBudget -= n;
    return nodeWalIo.write(fd, buf, offset, n, position);
  }
  fdatasync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void {
    if (this.failSync) {
      const e: NodeJS.ErrnoException = new Error('EIO: i/o error, fdatasync');
      e.code = 'EIO';
      queueMicrotask(() => cb(e));
      return;
    }
    nodeWalIo.fdatasync(fd, cb);
  }
  ftruncate(fd: number, length: number): void {
    nodeWalIo.ftruncate(fd, length);
  }
  read(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
    return nodeWalIo.read(fd, buf, offset, length, position);
  }
}

function warnings(): { logger: pino.Logger; seen: string[] } {
  const seen: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (s: string) => seen.push(s) });
  return { logger, seen };
}

function caught(fn: () => unknown): OrdoError {
  try {
    fn();
  } catch (e) {
    return e as OrdoError;
  }
  throw new Error('expected an error');
}

describe('WAL write faults', () => {
  for (const short of [false, true]) {
    it(`a failed append (${short ? 'short write' : 'ENOSPC'} mid-record) truncates back and throws WAL_WRITE_FAILED`, async () => {
      const path = join(tmp(), 'cs.wal');
      const io = new FaultyIo();
      const { wal } = Wal.open(path, { io });
      wal.append(vote(0));
      await wal.sync();
      const good = statSync(path).size;
      io.writeBudget = 20; // the next record is torn after 20 bytes
      io.shortWrites = short;
      const err = caught(() => wal.append(vote(1)));
      expect(err).toBeInstanceOf(OrdoError);
      expect(err.code).toBe('WAL_WRITE_FAILED');
      expect(statSync(path).size).toBe(good);
      expect(wal.size).toBe(good);
      // The probe (repair) proves the failed record's size is writable: not while the disk is full.
      await expect(wal.repair()).rejects.toMatchObject({ code: 'WAL_WRITE_FAILED' });
      expect(statSync(path).size).toBe(good);
      // Space comes back: the log goes on where it was, and a restart reads every record.
      io.writeBudget = Number.POSITIVE_INFINITY;
      await wal.repair();
      expect(statSync(path).size).toBe(good);
      wal.append(vote(2));
      await wal.sync();
      wal.close();
      const back = Wal.open(path);
      back.wal.close();
      expect(back.entries).toEqual([vote(0), vote(2)]);
    });
  }

  it('a failed fsync fails the log until repair() rewrites the unsynced records', async () => {
    const path = join(tmp(), 'cs.wal');
    const io = new FaultyIo();
    const { wal } = Wal.open(path, { io });
    wal.append(vote(0));
    await wal.sync();
    wal.append(vote(1));
    io.failSync = true;
    await expect(wal.sync()).rejects.toMatchObject({ code: 'WAL_SYNC_FAILED' });
    expect(wal.failure).toBeDefined();
    expect(() => wal.append(vote(2))).toThrow(/failed until repaired/);
    await expect(wal.repair()).rejects.toMatchObject({ code: 'WAL_WRITE_FAILED' });
    io.failSync = false;
    await wal.repair();
    expect(wal.failure).toBeUndefined();
    wal.append(vote(2));
    await wal.sync();
    wal.close();
    const back = Wal.open(path);
    back.wal.close();
    expect(back.entries).toEqual([vote(0), vote(1), vote(2)]);
  });

  it('repair while the disk is still full keeps the log failed and valid', async () => {
    const path = join(tmp(), 'cs.wal');
    const io = new FaultyIo();
    const { wal } = Wal.open(path, { io });
    wal.append(vote(0));
    io.failSync = true;
    await expect(wal.sync()).rejects.toThrow();
    io.failSync = false;
    io.writeBudget = 0;
    await expect(wal.repair()).rejects.toMatchObject({ code: 'WAL_WRITE_FAILED' });
    expect(wal.failure).toBeDefined();
    io.writeBudget = Number.POSITIVE_INFINITY;
    await wal.repair();
    wal.close();
    expect(Wal.open(path).entries).toEqual([vote(0)]);
  });
});

describe('WAL reader: torn tail versus corruption in the middle', () => {
  function build(path: string, n: number): number[] {
    const { wal } = Wal.open(path);
    const offsets: number[] = [];
    for (let i = 0; i < n; i++) {
      offsets.push(wal.size);
      wal.append(vote(i));
    }
    wal.close();
    return offsets;
  }

  it('an oversized length in the last record header is a torn tail (the 0.1.0 disk-full restart)', () => {
    const path = join(tmp(), 'cs.wal');
    const offsets = build(path, 3);
    const b = readFileSync(path);
    b.writeUInt32BE(0xfffffff0, offsets[2]!); // the torn record's length field is garbage
    writeFileSync(path, b);
    const { logger, seen } = warnings();
    const { wal, entries } = Wal.open(path, { logger });
    wal.close();
    expect(entries).toEqual([vote(0), vote(1)]);
    expect(seen.join('')).toMatch(/torn tail/);
    expect(statSync(path).size).toBe(offsets[2]);
  });

  it('a partly overwritten torn record followed by garbage (no intact record) is a torn tail', () => {
    const path = join(tmp(), 'cs.wal');
    build(path, 2);
    const junk = Buffer.alloc(300);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 131 + 7) & 0xff;
    writeFileSync(path, Buffer.concat([readFileSync(path), junk]));
    const { wal, entries } = Wal.open(path, { logger: warnings().logger });
    wal.close();
    expect(entries).toEqual([vote(0), vote(1)]);
  });

  it('a zero-filled tail (size extended, data never written) is a torn tail', () => {
    const path = join(tmp(), 'cs.wal');
    build(path, 2);
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.alloc(4096)]));
    const { wal, entries } = Wal.open(path, { logger: warnings().logger });
    wal.close();
    expect(entries).toHaveLength(2);
  });

  it('an oversized length followed by intact records is refused with the offset and the recovery command', () => {
    const path = join(tmp(), 'cs.wal');
    const offsets = build(path, 4);
    const b = readFileSync(path);
    b.writeUInt32BE(0xfffffff0, offsets[1]!);
    writeFileSync(path, b);
    const err = caught(() => Wal.open(path));
    expect(err.code).toBe('WAL_CORRUPT');
    expect(err.message).toContain(path);
    expect(err.message).toContain(`offset ${offsets[1]}`);
    expect(err.message).toContain('ordo wal repair --home');
    expect(err.data.nextIntactOffset).toBe(offsets[2]);
    // The file is left untouched for the operator.
    expect(readFileSync(path).equals(b)).toBe(true);
  });

  it('inspectWalBuffer reports the records and where the damage is', () => {
    const path = join(tmp(), 'cs.wal');
    const offsets = build(path, 3);
    const b = readFileSync(path);
    b[offsets[1]! + 12] = b[offsets[1]! + 12]! ^ 0xff;
    const r = inspectWalBuffer(b);
    expect(r.records.map((x) => x.offset)).toEqual([offsets[0]]);
    expect(r.damage).toMatchObject({ offset: offsets[1], torn: false, nextIntactOffset: offsets[2] });
    expect(r.records[0]).toMatchObject({ type: 'input', kind: 'vote', height: 3 });
  });
});
