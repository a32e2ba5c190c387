/** The id table under the pending set and the committed-id memory: 32-byte ids -> slots, against a Map. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IdTable, loadId } from '../../../src/mempool/id-table.ts';
import { rng } from './helpers.ts';

const id = (n: number): Uint8Array => new Uint8Array(createHash('sha256').update(`tx ${n}`).digest());

/** A table with a value column, kept the way its owners keep theirs (moves applied, cleared holes). */
class Owned {
  ids: IdTable;
  values: (number | undefined)[];
  readonly move = (from: number, to: number): void => {
    this.values[to] = this.values[from];
  };
  constructor(slots: number) {
    this.ids = new IdTable(slots);
    this.values = new Array<number | undefined>(this.ids.slots).fill(undefined);
  }
  get(n: number): number | undefined {
    const s = this.ids.find(loadId(id(n)));
    return s >= 0 ? this.values[s] : undefined;
  }
  set(n: number, v: number): void {
    if (2 * (this.ids.size + 1) > this.ids.slots) {
      const old = this.values;
      const values = new Array<number | undefined>(2 * this.ids.slots).fill(undefined);
      this.ids.grow((from, to) => {
        values[to] = old[from];
      });
      this.values = values;
    }
    const t = loadId(id(n));
    let s = this.ids.find(t);
    if (s < 0) {
      s = -1 - s;
      this.ids.insertAt(t, s);
    }
    this.values[s] = v;
  }
  delete(n: number): boolean {
    const s = this.ids.find(loadId(id(n)));
    if (s < 0) return false;
    this.values[this.ids.deleteAt(s, this.move)] = undefined;
    return true;
  }
}

describe('IdTable', () => {
  it('rounds its slots up to a power of two and starts empty', () => {
    expect(new IdTable(1).slots).toBe(2);
    expect(new IdTable(1000).slots).toBe(1024);
    const t = new IdTable(16);
    expect(t.size).toBe(0);
    expect(t.find(loadId(id(1)))).toBeLessThan(0);
  });

  it('tags are odd (never the empty mark) and the same for the same bytes at any offset', () => {
    for (let n = 0; n < 100; n++) expect(loadId(id(n)) & 1).toBe(1);
    const buf = new Uint8Array(37);
    buf.set(id(5), 5);
    expect(loadId(buf.subarray(5, 37))).toBe(loadId(id(5)));
  });

  it('finds an inserted id in the slot it was put in, and no id differing in one byte', () => {
    const t = new IdTable(64);
    const a = id(1);
    const ta = loadId(a);
    const free = t.find(ta);
    expect(free).toBeLessThan(0);
    t.insertAt(ta, -1 - free);
    expect(t.size).toBe(1);
    expect(t.find(loadId(a))).toBe(-1 - free);
    expect(t.holds(-1 - free)).toBe(true);
    expect([...Array(t.slots).keys()].filter((s) => t.holds(s))).toEqual([-1 - free]);
    const near = a.slice();
    near[31] = near[31]! ^ 1;
    expect(t.find(loadId(near))).toBeLessThan(0);
  });

  it('keeps every entry and its value across growth (every entry moved once)', () => {
    const o = new Owned(4);
    for (let n = 0; n < 2_000; n++) o.set(n, n * 3);
    expect(o.ids.size).toBe(2_000);
    expect(o.ids.slots).toBeGreaterThanOrEqual(4_000);
    for (let n = 0; n < 2_000; n++) expect(o.get(n)).toBe(n * 3);
    for (let n = 2_000; n < 2_500; n++) expect(o.get(n)).toBeUndefined();
  });

  it('matches a Map under random inserts and deletes in a crowded table (moves keep values with ids)', () => {
    const o = new Owned(8);
    const model = new Map<number, number>();
    const next = rng(11);
    for (let step = 0; step < 30_000; step++) {
      const n = Math.floor(next() * 500);
      if (next() < 0.55) {
        o.set(n, step);
        model.set(n, step);
      } else {
        expect(o.delete(n)).toBe(model.delete(n));
      }
      if (step % 1_000 === 0) for (let k = 0; k < 500; k++) expect(o.get(k)).toBe(model.get(k));
    }
    expect(o.ids.size).toBe(model.size);
    for (let k = 0; k < 500; k++) expect(o.get(k)).toBe(model.get(k));
  });

  it('stays exact when half full with wrap-around, and forgets everything on clear', () => {
    const t = new IdTable(16);
    for (let round = 0; round < 10; round++) {
      t.clear();
      expect(t.size).toBe(0);
      for (let n = round * 8; n < round * 8 + 8; n++) {
        const tag = loadId(id(n));
        t.insertAt(tag, -1 - t.find(tag));
      }
      for (let n = round * 8; n < round * 8 + 8; n++) expect(t.find(loadId(id(n)))).toBeGreaterThanOrEqual(0);
      for (let n = 0; n < round * 8; n++) expect(t.find(loadId(id(n)))).toBeLessThan(0);
    }
  });
});
