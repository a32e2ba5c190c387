/**
 * The deposit ledger under random event sequences (fast-check): balances never negative, money
 * conserved (held + paid out = funded + deposited), a refused event changes nothing (no double spend),
 * plus the settle / forfeit / withdrawal-delay paths by hand.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuctionError, Ledger, type LedgerEvent } from '../../src/auction/index.ts';

const acct = (i: number) => new Uint8Array(32).fill(i);
const SINK = acct(99);
const T1 = acct(50);
const opts = { forfeitFee: 3n, withdrawDelay: 2, forfeitSink: SINK };

describe('Ledger', () => {
  it('settles a winner: price to the treasury, the rest of its lock and its bond back', () => {
    const l = new Ledger(opts);
    l.apply({ kind: 'fund', account: acct(1), amount: 100n });
    l.apply({ kind: 'commit', account: acct(1), slot: 10, commitment: acct(7) });
    l.apply({ kind: 'lock', account: acct(1), slot: 10, commitment: acct(7), amount: 40n });
    expect(l.account(acct(1))).toEqual({ available: 57n, locked: 43n, pendingWithdrawal: 0n });
    l.apply({
      kind: 'settle',
      slot: 10,
      commitment: acct(7),
      price: 25n,
      proceeds: [{ account: T1, amount: 25n }],
    });
    expect(l.account(acct(1))).toEqual({ available: 75n, locked: 0n, pendingWithdrawal: 0n });
    expect(l.account(T1).available).toBe(25n);
  });

  it('forfeits an unrevealed bond to the sink; refuses a bid above available', () => {
    const l = new Ledger(opts);
    l.apply({ kind: 'fund', account: acct(1), amount: 10n });
    l.apply({ kind: 'commit', account: acct(1), slot: 5, commitment: acct(8) });
    expect(l.unrevealed(5)).toEqual([acct(8)]);
    expect(() =>
      l.apply({ kind: 'lock', account: acct(1), slot: 5, commitment: acct(8), amount: 8n }),
    ).toThrow(AuctionError);
    l.apply({ kind: 'forfeit', slot: 5, commitment: acct(8) });
    expect(l.account(acct(1))).toEqual({ available: 7n, locked: 0n, pendingWithdrawal: 0n });
    expect(l.account(SINK).available).toBe(3n);
  });

  it('pays a withdrawal out withdrawDelay blocks after the request, not before', () => {
    const l = new Ledger(opts);
    l.apply({ kind: 'deposit', account: acct(1), amount: 10n });
    l.apply({ kind: 'withdraw', account: acct(1), amount: 6n, height: 20 });
    l.apply({ kind: 'unlock', height: 21 });
    expect(l.account(acct(1))).toEqual({ available: 4n, locked: 0n, pendingWithdrawal: 6n });
    l.apply({ kind: 'unlock', height: 22 });
    expect(l.account(acct(1))).toEqual({ available: 4n, locked: 0n, pendingWithdrawal: 0n });
    expect(l.totals().paidOut).toBe(6n);
  });

  it('random event sequences: never negative, conserved, refused events change nothing', () => {
    const a = fc.integer({ min: 1, max: 4 });
    const amt = fc.bigInt({ min: 0n, max: 60n });
    const slot = fc.integer({ min: 1, max: 3 });
    const c = fc.integer({ min: 1, max: 6 });
    const ev: fc.Arbitrary<LedgerEvent> = fc.oneof(
      fc.record({ kind: fc.constant('deposit' as const), account: a.map(acct), amount: amt }),
      fc.record({ kind: fc.constant('withdraw' as const), account: a.map(acct), amount: amt, height: slot }),
      fc.record({ kind: fc.constant('unlock' as const), height: fc.integer({ min: 0, max: 8 }) }),
      fc.record({
        kind: fc.constant('commit' as const),
        account: a.map(acct),
        slot,
        commitment: c.map(acct),
      }),
      fc.record({
        kind: fc.constant('lock' as const),
        account: a.map(acct),
        slot,
        commitment: c.map(acct),
        amount: amt,
      }),
      fc
        .record({ slot, commitment: c.map(acct), price: amt })
        .map((r) => ({ kind: 'settle' as const, ...r, proceeds: [{ account: T1, amount: r.price }] })),
      fc.record({ kind: fc.constant('forfeit' as const), slot, commitment: c.map(acct) }),
      fc.record({ kind: fc.constant('release' as const), slot }),
    );
    fc.assert(
      fc.property(fc.array(ev, { maxLength: 60 }), (events) => {
        const l = new Ledger(opts);
        for (let i = 1; i <= 4; i++) l.apply({ kind: 'fund', account: acct(i), amount: 50n });
        for (const e of events) {
          const before = JSON.stringify([l.accounts(), l.totals()], (_k, v) =>
            typeof v === 'bigint' ? `${v}` : v,
          );
          try {
            l.apply(e);
          } catch (err) {
            expect(err).toBeInstanceOf(AuctionError);
            const after = JSON.stringify([l.accounts(), l.totals()], (_k, v) =>
              typeof v === 'bigint' ? `${v}` : v,
            );
            expect(after).toBe(before);
          }
          const t = l.totals();
          expect(t.held + t.paidOut).toBe(t.supplied);
          for (const { view } of l.accounts()) {
            expect(view.available >= 0n && view.locked >= 0n && view.pendingWithdrawal >= 0n).toBe(true);
          }
        }
      }),
      { seed: 22, numRuns: 300 },
    );
  });
});
