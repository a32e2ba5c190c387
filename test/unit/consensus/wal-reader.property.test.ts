/**
 * Property tests of the WAL reader's torn-tail rule: any cut or any garbage appended after intact
 * records is a torn tail (the intact prefix is kept); damage inside one record followed by intact
 * records is refused; arbitrary bytes never throw anything but a typed error. Seeded, bounded runs.
 */
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeWalEntry, inspectWalBuffer, type WalEntry } from '../../../src/consensus/wal.ts';
import { OrdoError } from '../../../src/errors.ts';

const MAGIC = Buffer.from('ORDOWAL1');

function frame(payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(payload.length, 0);
  head.writeUInt32BE(crc32(payload), 4);
  return Buffer.concat([head, payload]);
}

const timeout = (round: number, height: number): WalEntry => ({
  type: 'input',
  input: { kind: 'timeout', timeout: { step: 'precommit', height, round }, nowMs: 5 + round },
});

function log(n: number): { buf: Buffer; ends: number[] } {
  const parts: Buffer[] = [MAGIC];
  const ends: number[] = [];
  let size = MAGIC.length;
  for (let i = 0; i < n; i++) {
    const rec = frame(encodeWalEntry(timeout(i, 9)));
    parts.push(rec);
    size += rec.length;
    ends.push(size);
  }
  return { buf: Buffer.concat(parts), ends };
}

describe('WAL reader properties', () => {
  it('a log cut anywhere, or followed by garbage, keeps every whole record before the cut and calls the rest torn', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.nat(),
        fc.uint8Array({ maxLength: 600 }),
        (n, cutSeed, junk) => {
          const { buf, ends } = log(n);
          const cut = MAGIC.length + (cutSeed % (buf.length - MAGIC.length + 1));
          const img = Buffer.concat([buf.subarray(0, cut), Buffer.from(junk)]);
          const r = inspectWalBuffer(img);
          const whole = ends.filter((e) => e <= cut).length;
          expect(r.records.length).toBeGreaterThanOrEqual(whole);
          if (r.damage !== undefined) {
            // Garbage may, with negligible probability, contain an intact record; otherwise torn.
            if (!r.damage.torn) expect(r.damage.nextIntactOffset).toBeGreaterThan(r.damage.offset);
            else expect(r.validEnd).toBeLessThanOrEqual(img.length);
          }
        },
      ),
      { seed: 2505, numRuns: 300 },
    );
  });

  it('one damaged record followed by intact ones is never taken for a torn tail', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 10 }),
        fc.nat(),
        fc.integer({ min: 0, max: 26 }),
        fc.integer({ min: 1, max: 255 }),
        (n, which, byte, xor) => {
          const { buf, ends } = log(n);
          const i = which % (n - 1); // never the last record
          const start = i === 0 ? MAGIC.length : ends[i - 1]!;
          const at = start + Math.min(byte, ends[i]! - start - 1);
          const img = Buffer.from(buf);
          img[at] = img[at]! ^ xor;
          const r = inspectWalBuffer(img);
          expect(r.damage).toBeDefined();
          expect(r.damage!.torn).toBe(false);
          expect(r.damage!.offset).toBe(start);
        },
      ),
      { seed: 2506, numRuns: 300 },
    );
  });

  it('arbitrary bytes after the magic never throw from the scan', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        try {
          inspectWalBuffer(Buffer.concat([MAGIC, Buffer.from(bytes)]));
        } catch (err) {
          expect(err).toBeInstanceOf(OrdoError);
        }
      }),
      { seed: 2507, numRuns: 500 },
    );
  });
});
