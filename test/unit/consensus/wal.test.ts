import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SignGuardFile } from '../../../src/consensus/sign-guard.ts';
import { encodeWalEntry, encodeWalRecord, Wal, type WalEntry } from '../../../src/consensus/wal.ts';
import { toHex as toHexStr } from '../../../src/crypto/hash.ts';
import { OrdoError } from '../../../src/errors.ts';

let dir = '';
afterEach(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  dir = '';
});

function tmp(): string {
  dir = mkdtempSync(join(tmpdir(), 'ordo-wal-'));
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

const entries: WalEntry[] = [
  vote(0),
  {
    type: 'input',
    input: { kind: 'timeout', timeout: { step: 'prevote', height: 3, round: 0 }, nowMs: 1200 },
  },
  {
    type: 'input',
    input: {
      kind: 'contents',
      height: 3,
      round: 1,
      txs: [{ namespace: 2, payload: new Uint8Array([1, 2]) }],
      bundles: [],
      nowMs: 1300,
    },
  },
  vote(1),
];

function write(path: string): void {
  const { wal } = Wal.open(path);
  for (const e of entries) wal.append(e);
  wal.close();
}

function warnings(): { logger: pino.Logger; seen: string[] } {
  const seen: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (s: string) => seen.push(s) });
  return { logger, seen };
}

describe('consensus WAL', () => {
  it('round-trips every record type', () => {
    const path = join(tmp(), 'cs.wal');
    write(path);
    const { wal, entries: back } = Wal.open(path);
    wal.close();
    expect(back).toEqual(entries);
  });

  it('builds each framed record in one buffer, byte for byte the framed encoding', () => {
    const framed = (payload: Buffer): Buffer => {
      const head = Buffer.alloc(8);
      head.writeUInt32BE(payload.length, 0);
      head.writeUInt32BE(crc32(payload), 4);
      return Buffer.concat([head, payload]);
    };
    const v = vote(2);
    if (v.type !== 'input' || v.input.kind !== 'vote') throw new Error('a vote input');
    const own: WalEntry = { type: 'own', nowMs: 77, message: { kind: 'vote', vote: v.input.vote } };
    const unverified: WalEntry = { type: 'input', input: { ...v.input, verified: false } };
    for (const e of [...entries, own, unverified]) {
      expect(encodeWalRecord(e).equals(framed(encodeWalEntry(e))), JSON.stringify(e.type)).toBe(true);
    }
    // With the message's bytes at hand they are taken as they are (not encoded again).
    const bytes = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);
    expect(encodeWalRecord(own, bytes).equals(framed(encodeWalEntry(own, bytes)))).toBe(true);
    expect(encodeWalRecord(v, bytes).equals(framed(encodeWalEntry(v, bytes)))).toBe(true);
  });

  it('truncates a torn tail with a warning and keeps the records before it', () => {
    const path = join(tmp(), 'cs.wal');
    write(path);
    const size = statSync(path).size;
    truncateSync(path, size - 5);
    const { logger, seen } = warnings();
    const { wal, entries: back } = Wal.open(path, { logger });
    expect(back).toEqual(entries.slice(0, 3));
    expect(seen.join('')).toMatch(/torn tail/);
    wal.append(vote(7));
    wal.close();
    const again = Wal.open(path);
    again.wal.close();
    expect(again.entries).toHaveLength(4);
  });

  it('treats a bad checksum in the very last record as a torn tail', () => {
    const path = join(tmp(), 'cs.wal');
    write(path);
    const b = readFileSync(path);
    b[b.length - 1] = b[b.length - 1]! ^ 0xff;
    writeFileSync(path, b);
    const { wal, entries: back } = Wal.open(path, { logger: warnings().logger });
    wal.close();
    expect(back).toHaveLength(3);
  });

  it('refuses to start on a corrupted middle record, naming the file and offset', () => {
    const path = join(tmp(), 'cs.wal');
    write(path);
    const b = readFileSync(path);
    b[8 + 8 + 3] = b[8 + 8 + 3]! ^ 0xff; // inside the first record's payload
    writeFileSync(path, b);
    let err: unknown;
    try {
      Wal.open(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OrdoError);
    expect((err as OrdoError).code).toBe('WAL_CORRUPT');
    expect((err as OrdoError).message).toContain(path);
    expect((err as OrdoError).message).toContain('offset 8');
  });

  it('refuses a file that is not a WAL', () => {
    const path = join(tmp(), 'cs.wal');
    writeFileSync(path, 'hello world, not a wal');
    expect(() => Wal.open(path)).toThrow(/bad magic/);
  });

  it('compact replaces the log without blocking, keeping what is appended and synced meanwhile', async () => {
    const path = join(tmp(), 'cs.wal');
    write(path);
    const { wal } = Wal.open(path);
    const done = wal.compact(entries.slice(2));
    // While the new file is being synced: more appends, a sync, and a second compaction (refused).
    wal.append(vote(5));
    const synced = wal.sync();
    wal.append(vote(6));
    expect(await wal.compact([])).toBe(false);
    expect(await done).toBe(true);
    await synced;
    wal.append(vote(7));
    await wal.sync();
    wal.close();
    expect(existsSync(`${path}.tmp`)).toBe(false);
    const back = Wal.open(path);
    back.wal.close();
    expect(back.entries).toEqual([...entries.slice(2), vote(5), vote(6), vote(7)]);
  });

  it('compact gives up, leaving the log as it was, when the log is closed or reset meanwhile', async () => {
    for (const interrupt of ['close', 'reset'] as const) {
      const path = join(tmp(), 'cs.wal');
      write(path);
      const { wal } = Wal.open(path);
      const done = wal.compact(entries.slice(2));
      if (interrupt === 'close') wal.close();
      else wal.reset();
      expect(await done).toBe(false);
      if (interrupt === 'reset') wal.close();
      expect(existsSync(`${path}.tmp`)).toBe(false);
      const back = Wal.open(path);
      back.wal.close();
      expect(back.entries).toEqual(interrupt === 'close' ? entries : []);
    }
  });

  it('reset leaves an empty, valid log', () => {
    const path = join(tmp(), 'cs.wal');
    write(path);
    const { wal } = Wal.open(path);
    wal.reset();
    wal.close();
    expect(Wal.open(path).entries).toEqual([]);
  });
});

describe('sign guard', () => {
  it('refuses to go backwards or to sign a different block at the same position, across restarts', () => {
    const path = join(tmp(), 'last-signed.json');
    const a = new Uint8Array(32).fill(1);
    const b = new Uint8Array(32).fill(2);
    const g = new SignGuardFile(path);
    expect(g.allow('proposal', 5, 0, a)).toBe(true);
    expect(g.allow('prevote', 5, 0, a)).toBe(true);
    expect(g.allow('prevote', 5, 0, a)).toBe(true); // same vote again: fine
    expect(g.allow('prevote', 5, 0, b)).toBe(false);
    expect(g.allow('prevote', 5, 0, null)).toBe(false);
    const g2 = new SignGuardFile(path);
    expect(g2.allow('prevote', 5, 0, b)).toBe(false);
    expect(g2.allow('proposal', 5, 0, a)).toBe(true); // re-deriving the same proposal after a crash
    expect(g2.allow('proposal', 5, 0, b)).toBe(false);
    expect(g2.allow('precommit', 5, 0, null)).toBe(true);
    expect(g2.allow('prevote', 5, 1, b)).toBe(true);
    expect(g2.allow('precommit', 5, 0, null)).toBe(false); // an earlier round
    expect(g2.allow('prevote', 4, 9, b)).toBe(false);
  });

  it('a torn newer slot falls back to the previous state', () => {
    const path = join(tmp(), 'last-signed.json');
    const a = new Uint8Array(32).fill(1);
    const g = new SignGuardFile(path);
    expect(g.allow('prevote', 7, 2, a)).toBe(true); // slot 1
    expect(g.allow('precommit', 7, 2, a)).toBe(true); // slot 0
    g.close();
    const b = readFileSync(path);
    b[20] = b[20]! ^ 0xff; // tear slot 0 (the newer one)
    writeFileSync(path, b);
    const g2 = new SignGuardFile(path);
    expect(g2.last).toEqual({ height: 7, round: 2, steps: { prevote: toHexStr(a) } });
    g2.close();
  });

  it('stops start-up on a corrupt guard file', () => {
    const path = join(tmp(), 'last-signed.json');
    writeFileSync(path, '{"height": "x"');
    expect(() => new SignGuardFile(path)).toThrow(/sign guard/);
  });
});
