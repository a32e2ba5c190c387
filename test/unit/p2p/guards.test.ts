/** The p2p guards on an injected clock: token buckets, the replay window, the identity gate. */
import { describe, expect, it } from 'vitest';
import { ContentDedupe, IdentityGate, ipOf, RateLimiter } from '../../../src/p2p/guards.ts';

describe('p2p guards', () => {
  it('RateLimiter allows the burst, then the rate, per key', () => {
    let now = 0;
    const r = new RateLimiter(10, 20, () => now);
    let ok = 0;
    for (let i = 0; i < 100; i++) if (r.take('a')) ok++;
    expect(ok).toBe(20);
    expect(r.take('b')).toBe(true);
    now += 500; // +5 tokens
    ok = 0;
    for (let i = 0; i < 100; i++) if (r.take('a')) ok++;
    expect(ok).toBe(5);
  });

  it('ContentDedupe remembers content for the window, bounded in size', () => {
    let now = 0;
    const d = new ContentDedupe(1000, () => now, 3);
    const k = ContentDedupe.key('consensus', new Uint8Array([1, 2]));
    expect(ContentDedupe.key('txs', new Uint8Array([1, 2]))).not.toBe(k);
    expect(d.has(k)).toBe(false);
    d.add(k);
    expect(d.has(k)).toBe(true);
    now = 999;
    expect(d.has(k)).toBe(true);
    now = 1000;
    expect(d.has(k)).toBe(false);
    for (let i = 0; i < 10; i++) d.add(ContentDedupe.key('txs', new Uint8Array([i])));
    expect(d.size).toBeLessThanOrEqual(3);
  });

  it('IdentityGate admits known identities, a few new ones per minute, none right after a ban', () => {
    let now = 0;
    const g = new IdentityGate(2, ['127.0.0.1'], () => now);
    expect(g.admit('10.0.0.1', 'p1')).toBe(true);
    expect(g.admit('10.0.0.1', 'p2')).toBe(true);
    expect(g.admit('10.0.0.1', 'p3')).toBe(false);
    expect(g.admit('10.0.0.1', 'p1')).toBe(true);
    expect(g.admit('10.0.0.2', 'p3')).toBe(true);
    expect(g.admit('127.0.0.1', 'x')).toBe(true);
    now = 60_000;
    expect(g.admit('10.0.0.1', 'p3')).toBe(true);
    g.banned('10.0.0.1', 'p3');
    expect(g.admit('10.0.0.1', 'p4')).toBe(false);
    expect(g.admit('10.0.0.1', 'p3')).toBe(false); // the banned identity is forgotten
    expect(g.admit('10.0.0.1', 'p1')).toBe(true);
    now = 120_000;
    expect(g.admit('10.0.0.1', 'p4')).toBe(true);
    expect(
      ipOf([
        { name: 'ip4', value: '1.2.3.4' },
        { name: 'tcp', value: '1' },
      ]),
    ).toBe('1.2.3.4');
  });
});
