/**
 * The deposit ledger under random event sequences (fast-check): balances never negative, money
 * conserved (held + paid out = funded + deposited), a refused event changes nothing (no double spend),
 * plus the settle / penalize / forfeit / withdrawal-delay paths by hand.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuctionError, failPenaltyOf, Ledger, type LedgerEvent } from '../../src/auction/index.ts';

const acct = (i: number) => new Uint8Array(32).fill(i);
const SINK = acct(99);
const T1 = acct(50);
const T2 = acct(51);
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

  it('penalizes a failing bid once: the penalty to the treasuries, the rest of its lock and bond back', () => {
    const l = new Ledger(opts);
    l.apply({ kind: 'fund', account: acct(1), amount: 100n });
    l.apply({ kind: 'commit', account: acct(1), slot: 10, commitment: acct(7) });
    l.apply({ kind: 'lock', account: acct(1), slot: 10, commitment: acct(7), amount: 40n });
    const penalize: LedgerEvent = {
      kind: 'penalize',
      slot: 10,
      commitment: acct(7),
      penalty: 4n,
      proceeds: [
        { account: T1, amount: 2n },
        { account: T2, amount: 2n },
      ],
    };
    l.apply(penalize);
    expect(l.account(acct(1))).toEqual({ available: 96n, locked: 0n, pendingWithdrawal: 0n });
    expect(l.account(T1).available + l.account(T2).available).toBe(4n);
    // The lock is closed: a second penalty, a settlement or a release of the slot take nothing more.
    expect(() => l.apply(penalize)).toThrow(expect.objectContaining({ code: 'LEDGER_UNKNOWN_LOCK' }));
    expect(() => l.apply({ kind: 'settle', slot: 10, commitment: acct(7), price: 0n, proceeds: [] })).toThrow(
      AuctionError,
    );
    l.apply({ kind: 'release', slot: 10 });
    expect(l.account(acct(1))).toEqual({ available: 96n, locked: 0n, pendingWithdrawal: 0n });
    const t = l.totals();
    expect(t.held + t.paidOut).toBe(t.supplied);
  });

  it('never penalizes more than the locked bid, nor an unrevealed commit, nor with proceeds that do not add up', () => {
    const l = new Ledger(opts);
    l.apply({ kind: 'fund', account: acct(1), amount: 100n });
    l.apply({ kind: 'commit', account: acct(1), slot: 4, commitment: acct(7) });
    const pen = (penalty: bigint, paid = penalty): LedgerEvent => ({
      kind: 'penalize',
      slot: 4,
      commitment: acct(7),
      penalty,
      proceeds: [{ account: T1, amount: paid }],
    });
    expect(() => l.apply(pen(1n))).toThrow(expect.objectContaining({ code: 'LEDGER_UNKNOWN_LOCK' }));
    l.apply({ kind: 'lock', account: acct(1), slot: 4, commitment: acct(7), amount: 30n });
    const before = l.accounts();
    expect(() => l.apply(pen(31n))).toThrow(expect.objectContaining({ code: 'LEDGER_BAD_SETTLEMENT' }));
    expect(() => l.apply(pen(5n, 4n))).toThrow(expect.objectContaining({ code: 'LEDGER_BAD_SETTLEMENT' }));
    expect(() => l.apply(pen(-1n))).toThrow(expect.objectContaining({ code: 'LEDGER_BAD_AMOUNT' }));
    expect(l.accounts()).toEqual(before);
    l.apply(pen(30n)); // the whole bid (failPenaltyBps 10,000); the bond still returns
    expect(l.account(acct(1))).toEqual({ available: 70n, locked: 0n, pendingWithdrawal: 0n });
  });

  it('failPenaltyOf: rounded up, never above the amount, 0 at 0 bps', () => {
    expect(failPenaltyOf(1_000n, 1_000)).toBe(100n);
    expect(failPenaltyOf(1n, 1)).toBe(1n);
    expect(failPenaltyOf(10_001n, 1_000)).toBe(1_001n);
    expect(failPenaltyOf(777n, 10_000)).toBe(777n);
    expect(failPenaltyOf(777n, 0)).toBe(0n);
    expect(failPenaltyOf((1n << 64n) - 1n, 10_000)).toBe((1n << 64n) - 1n);
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
        fc.integer({ min: 1, max: 10_000 }),
        (a, b) => {
          const p = failPenaltyOf(a, b);
          expect(p >= 1n && p <= a).toBe(true);
          expect(p * 10_000n >= a * BigInt(b)).toBe(true);
          expect((p - 1n) * 10_000n < a * BigInt(b)).toBe(true);
        },
      ),
      { seed: 320, numRuns: 500 },
    );
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
      fc.record({ slot, commitment: c.map(acct), penalty: amt }).map((r) => ({
        kind: 'penalize' as const,
        ...r,
        proceeds: [
          { account: T1, amount: r.penalty / 2n },
          { account: T2, amount: r.penalty - r.penalty / 2n },
        ],
      })),
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
