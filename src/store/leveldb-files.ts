/**
 * Which LevelDB file holds a key: read the live table files' key ranges from the MANIFEST (LevelDB's
 * own record of its tables), so a damaged height can be reported with the file it lives in (issue #25
 * item 9: "naming the file"). classic-level does not expose this, and its read errors do not name the
 * file. Read-only and best effort: any surprise in the MANIFEST gives `undefined` (the caller then
 * names only the directory). Format: LevelDB's log format (32 KiB blocks of CRC-framed fragments)
 * carrying VersionEdit records (doc/impl.md and db/version_edit.cc in the LevelDB sources).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareBytes } from './keys.ts';

const BLOCK = 32 * 1024;
const HEADER = 7;

interface TableFile {
  level: number;
  number: number;
  smallest: Uint8Array;
  largest: Uint8Array;
}

class Reader {
  o = 0;
  readonly b: Uint8Array;
  constructor(b: Uint8Array) {
    this.b = b;
  }
  varint(): number {
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.o >= this.b.length) throw new Error('truncated varint');
      const c = this.b[this.o++]!;
      n += (c & 0x7f) * mul;
      if ((c & 0x80) === 0) return n;
      mul *= 128;
    }
    throw new Error('varint too long');
  }
  slice(): Uint8Array {
    const len = this.varint();
    if (this.o + len > this.b.length) throw new Error('truncated slice');
    const s = this.b.subarray(this.o, this.o + len);
    this.o += len;
    return s;
  }
}

/** The records of a LevelDB log-format file (fragments reassembled; CRCs not checked). */
function logRecords(buf: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pending: Uint8Array[] | undefined;
  for (let block = 0; block < buf.length; block += BLOCK) {
    let o = block;
    const end = Math.min(block + BLOCK, buf.length);
    while (end - o >= HEADER) {
      const len = buf[o + 4]! | (buf[o + 5]! << 8);
      const type = buf[o + 6]!;
      if (type === 0 && len === 0) break; // zero padding (preallocated space)
      if (o + HEADER + len > end) throw new Error('fragment crosses a block');
      const data = buf.subarray(o + HEADER, o + HEADER + len);
      o += HEADER + len;
      if (type === 1) out.push(data);
      else if (type === 2) pending = [data];
      else if (type === 3 && pending !== undefined) pending.push(data);
      else if (type === 4 && pending !== undefined) {
        pending.push(data);
        out.push(Buffer.concat(pending));
        pending = undefined;
      } else throw new Error(`unexpected fragment type ${type}`);
    }
  }
  return out;
}

/** The live table files of the LevelDB database at `dir`, with their user-key ranges. */
export function liveTables(dir: string): TableFile[] | undefined {
  try {
    const current = readFileSync(join(dir, 'CURRENT'), 'utf8').trim();
    if (!/^MANIFEST-\d+$/.test(current)) return undefined;
    const files = new Map<string, TableFile>();
    for (const rec of logRecords(readFileSync(join(dir, current)))) {
      const r = new Reader(rec);
      while (r.o < rec.length) {
        const tag = r.varint();
        switch (tag) {
          case 1:
            r.slice();
            break;
          case 2:
          case 3:
          case 4:
          case 9:
            r.varint();
            break;
          case 5:
            r.varint();
            r.slice();
            break;
          case 6: {
            const level = r.varint();
            files.delete(`${level}/${r.varint()}`);
            break;
          }
          case 7: {
            const level = r.varint();
            const number = r.varint();
            r.varint(); // size
            const smallest = r.slice();
            const largest = r.slice();
            if (smallest.length < 8 || largest.length < 8) return undefined;
            files.set(`${level}/${number}`, {
              level,
              number,
              // internal key = user key + 8 bytes (sequence, type)
              smallest: smallest.subarray(0, smallest.length - 8),
              largest: largest.subarray(0, largest.length - 8),
            });
            break;
          }
          default:
            return undefined;
        }
      }
    }
    return [...files.values()];
  } catch {
    return undefined;
  }
}

/** The table file name for a file number (`.ldb`, or `.sst` from older LevelDB versions). */
function tableName(dir: string, n: number): string {
  const base = String(n).padStart(6, '0');
  return existsSync(join(dir, `${base}.sst`)) && !existsSync(join(dir, `${base}.ldb`))
    ? `${base}.sst`
    : `${base}.ldb`;
}

/**
 * For each key, the table files whose key range covers it (several when levels overlap; none when the
 * key is only in LevelDB's write-ahead log). Undefined when the MANIFEST cannot be read.
 */
export function tablesForKeys(dir: string, keys: Uint8Array[]): string[][] | undefined {
  const tables = liveTables(dir);
  if (tables === undefined) return undefined;
  return keys.map((k) =>
    tables
      .filter((t) => compareBytes(t.smallest, k) <= 0 && compareBytes(k, t.largest) <= 0)
      .sort((a, b) => a.level - b.level || a.number - b.number)
      .map((t) => join(dir, tableName(dir, t.number))),
  );
}
