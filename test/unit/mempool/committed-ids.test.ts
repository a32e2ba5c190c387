/** The committed-id memory (ADR 0300): typed-array tables keyed by the 32-byte transaction id. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type CommittedBlockRecord, CommittedIds } from '../../../src/mempool/committed-ids.ts';

const id = (n: number): Uint8Array => new Uint8Array(createHash('sha256').update(`tx ${n}`).digest());
const block = (height: number): CommittedBlockRecord => ({ height, at: height * 10, seq: 0 });

describe('CommittedIds', () => {
  it('answers every id it holds with its block and index, and nothing it was not given', () => {
    const m = new CommittedIds(1_000);
    const b1 = block(1);
    const b2 = block(2);
    for (let i = 0; i < 200; i++) m.set(id(i), i < 100 ? b1 : b2, i % 100);
    for (let i = 0; i < 200; i++) {
      expect(m.has(id(i))).toBe(true);
      expect(m.get(id(i))).toEqual({ block: i < 100 ? b1 : b2, index: i % 100 });
    }
    for (let i = 200; i < 400; i++) {
      expect(m.has(id(i))).toBe(false);
      expect(m.get(id(i))).toBeUndefined();
    }
    expect(m.size).toBe(200);
  });

  it('holds at most capacity ids and keeps at least the last capacity/2', () => {
    const m = new CommittedIds(100);
    const b = block(1);
    for (let i = 0; i < 5_000; i++) {
      m.set(id(i), b, i);
      expect(m.size).toBeLessThanOrEqual(100);
    }
    for (let i = 5_000 - 50; i < 5_000; i++) expect(m.get(id(i))?.index).toBe(i);
    expect(m.has(id(0))).toBe(false);
  });

  it('a refreshed id answers with its newest block, also across a rotation', () => {
    const m = new CommittedIds(4);
    m.set(id(1), block(1), 0);
    m.set(id(2), block(1), 1); // the current generation is full: the next new id rotates
    m.set(id(1), block(5), 3); // refresh in the current generation
    expect(m.get(id(1))).toEqual({ block: block(5), index: 3 });
    m.set(id(3), block(6), 0); // rotates: old = {1, 2}
    m.set(id(1), block(7), 2); // refresh: written to the current generation, read first
    expect(m.get(id(1))).toEqual({ block: block(7), index: 2 });
    expect(m.get(id(2))).toEqual({ block: block(1), index: 1 });
    m.set(id(4), block(8), 0); // rotates: old = {3, 1}; 2 is dropped
    expect(m.has(id(2))).toBe(false);
    expect(m.get(id(1))?.block.height).toBe(7);
  });

  it('compares all 32 bytes, whatever the id buffer offset', () => {
    const m = new CommittedIds(64);
    const a = id(1);
    const near = a.slice();
    near[31] = near[31]! ^ 1; // differs in the last byte only
    m.set(a, block(1), 0);
    expect(m.has(near)).toBe(false);
    // An unaligned view of the same bytes is the same id.
    const buf = new Uint8Array(33);
    buf.set(a, 1);
    expect(m.get(buf.subarray(1))).toEqual({ block: block(1), index: 0 });
    // A wrong-length id is never held, and is refused on insert.
    expect(m.has(new Uint8Array(31))).toBe(false);
    expect(() => m.set(new Uint8Array(31), block(1), 0)).toThrow(RangeError);
  });

  it('stays exact when the table is as full as it gets (long probe runs, wrap-around)', () => {
    const m = new CommittedIds(16); // 8 per generation, tables of 16 slots
    const b = block(3);
    for (let round = 0; round < 20; round++) {
      for (let i = round * 8; i < round * 8 + 8; i++) m.set(id(i), b, i);
      for (let i = round * 8; i < round * 8 + 8; i++) expect(m.get(id(i))?.index).toBe(i);
      if (round > 1) for (let i = 0; i < (round - 1) * 8; i++) expect(m.has(id(i))).toBe(false);
    }
  });
});
