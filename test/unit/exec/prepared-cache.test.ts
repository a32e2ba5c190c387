/**
 * The prepared-transaction cache (ADR 0175): computes once per payload's bytes, bounded by entries
 * (oldest out first) and by payload size, and forgets a payload on request.
 */
import { describe, expect, it } from 'vitest';
import { PreparedCache } from '../../../src/exec/prepared-cache.ts';
import type { Prepared } from '../../../src/exec/types.ts';

const counting = () => {
  let calls = 0;
  const prepare = (p: Uint8Array): Prepared<unknown> => {
    calls++;
    return p[0] === 0 ? { ok: false, error: 'bad' } : { ok: true, tx: { first: p[0] }, proof: '' };
  };
  return { prepare, calls: () => calls };
};

describe('prepared-transaction cache', () => {
  it('prepares a payload once, by its bytes (a copy hits too), failures included', () => {
    const c = new PreparedCache(8, 64);
    const f = counting();
    const a = c.prepare(new Uint8Array([1, 2, 3]), f.prepare);
    expect(c.prepare(new Uint8Array([1, 2, 3]), f.prepare)).toBe(a);
    expect(c.prepare(new Uint8Array([0, 1]), f.prepare)).toEqual({ ok: false, error: 'bad' });
    c.prepare(new Uint8Array([0, 1]), f.prepare);
    expect(f.calls()).toBe(2);
    expect(c.peek(new Uint8Array([1, 2, 3]))).toBe(a);
    c.delete(new Uint8Array([1, 2, 3]));
    expect(c.peek(new Uint8Array([1, 2, 3]))).toBeUndefined();
    expect(c.size).toBe(1);
  });

  it('keeps at most maxEntries (oldest out) and never caches payloads above the size bound', () => {
    const c = new PreparedCache(3, 4);
    const f = counting();
    for (let i = 1; i <= 5; i++) c.prepare(new Uint8Array([i]), f.prepare);
    expect(c.size).toBe(3);
    expect(c.peek(new Uint8Array([1]))).toBeUndefined();
    expect(c.peek(new Uint8Array([5]))).toBeDefined();
    const big = new Uint8Array(5).fill(7);
    c.prepare(big, f.prepare);
    c.prepare(big, f.prepare);
    expect(f.calls()).toBe(7);
    expect(c.peek(big)).toBeUndefined();
  });
});
