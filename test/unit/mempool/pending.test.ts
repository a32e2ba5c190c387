/** The pending set's by-id table (ADR 0317): open addressing keyed by the 32-byte id, against a Map model. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/mempool/entry.ts';
import { PendingIds } from '../../../src/mempool/pending.ts';
import { rng } from './helpers.ts';

const id = (n: number): Uint8Array => new Uint8Array(createHash('sha256').update(`tx ${n}`).digest());
/** Only identity matters to the table: a stand-in entry per id. */
const entry = (n: number): Entry => ({ n }) as unknown as Entry;

describe('PendingIds', () => {
  it('answers every id it holds and nothing else, across growth', () => {
    const t = new PendingIds(4);
    const es = Array.from({ length: 3_000 }, (_, i) => entry(i));
    for (let i = 0; i < 3_000; i++) t.set(id(i), es[i]!);
    expect(t.size).toBe(3_000);
    expect(t.slots).toBeGreaterThanOrEqual(6_000);
    for (let i = 0; i < 3_000; i++) expect(t.get(id(i))).toBe(es[i]);
    for (let i = 3_000; i < 4_000; i++) expect(t.has(id(i))).toBe(false);
  });

  it('finds an id whatever the byte offset of the array holding it', () => {
    const t = new PendingIds();
    const e = entry(1);
    t.set(id(1), e);
    const shifted = new Uint8Array(40);
    shifted.set(id(1), 3);
    expect(t.get(shifted.subarray(3, 35))).toBe(e);
  });

  it('replaces the entry of an id already held without counting it twice', () => {
    const t = new PendingIds();
    t.set(id(7), entry(1));
    const e2 = entry(2);
    t.set(id(7), e2);
    expect(t.size).toBe(1);
    expect(t.get(id(7))).toBe(e2);
  });

  it('answers a wrong-sized id with nothing, and refuses to store one', () => {
    const t = new PendingIds();
    t.set(id(1), entry(1));
    expect(t.get(new Uint8Array(31))).toBeUndefined();
    expect(t.delete(new Uint8Array(33))).toBe(false);
    expect(() => t.set(new Uint8Array(16), entry(2))).toThrow(RangeError);
    expect(t.size).toBe(1);
  });

  it('matches a Map under random inserts and deletes in a crowded table (deletion keeps runs reachable)', () => {
    const t = new PendingIds(8);
    const model = new Map<number, Entry>();
    const next = rng(26);
    for (let step = 0; step < 40_000; step++) {
      const n = Math.floor(next() * 600);
      if (next() < 0.55) {
        const e = entry(n);
        t.set(id(n), e);
        model.set(n, e);
      } else {
        expect(t.delete(id(n))).toBe(model.delete(n));
      }
      if (step % 1_000 === 0) {
        for (let k = 0; k < 600; k++) expect(t.get(id(k))).toBe(model.get(k));
      }
    }
    expect(t.size).toBe(model.size);
    for (let k = 0; k < 600; k++) expect(t.get(id(k))).toBe(model.get(k));
    for (const k of [...model.keys()]) expect(t.delete(id(k))).toBe(true);
    expect(t.size).toBe(0);
    for (let k = 0; k < 600; k++) expect(t.has(id(k))).toBe(false);
  });
});
