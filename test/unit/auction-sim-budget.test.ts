/**
 * The slot's simulation budget with each bidder's share (src/auction/sim-budget.ts, ADR 0321): the share
 * in gas from its basis points (0 = none), what `spend` takes and refuses, and the parameter's range.
 */
import { describe, expect, it } from 'vitest';
import { AuctionError, auctionParams, bidderSimGasOf, SimBudget } from '../../src/auction/index.ts';

const who = (i: number) => new Uint8Array(32).fill(i);

describe('bidderSimGasOf', () => {
  it('is the share of maxSimGas rounded down; 0 and 10,000 give the whole budget', () => {
    expect(bidderSimGasOf({ maxSimGas: 10_000_000, bidderSimShareBps: 1_000 })).toBe(1_000_000);
    expect(bidderSimGasOf({ maxSimGas: 999, bidderSimShareBps: 3_333 })).toBe(332);
    expect(bidderSimGasOf({ maxSimGas: 10_000_000, bidderSimShareBps: 0 })).toBe(10_000_000);
    expect(bidderSimGasOf({ maxSimGas: 10_000_000, bidderSimShareBps: 10_000 })).toBe(10_000_000);
    expect(bidderSimGasOf({ maxSimGas: 300_000_000, bidderSimShareBps: 9_999 })).toBe(299_970_000);
  });

  it('the default is 1,000 bps; a value outside 0 ... 10,000 or not an integer is refused, naming it', () => {
    expect(auctionParams().bidderSimShareBps).toBe(1_000);
    for (const bad of [-1, 10_001, 2.5, Number.NaN]) {
      const err = (() => {
        try {
          auctionParams({ bidderSimShareBps: bad });
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(AuctionError);
      expect((err as AuctionError).code).toBe('AUCTION_BAD_PARAMS');
      expect((err as AuctionError).message).toMatch(/auction\.bidderSimShareBps/);
    }
  });
});

describe('SimBudget', () => {
  it("takes a simulation's gas from the slot and from its bidder's share; refuses what does not fit either", () => {
    const b = new SimBudget({ maxSimGas: 1_000, bidderSimShareBps: 4_000 }); // 400 per bidder
    expect(b.share).toBe(400);
    expect(b.spend(who(1), 300)).toBeUndefined();
    expect(b.spend(who(1), 101)).toBe('bidder'); // 401 > 400: nothing taken
    expect(b.spentBy(who(1))).toBe(300);
    expect(b.spend(who(1), 100)).toBeUndefined(); // exactly the share
    expect(b.spend(who(1), 0)).toBeUndefined(); // gas-free legs always fit
    expect(b.spend(who(2), 400)).toBeUndefined();
    expect(b.left).toBe(200);
    expect(b.spend(who(3), 201)).toBe('slot'); // the slot's bound first
    expect(b.spend(who(3), 200)).toBeUndefined();
    expect(b.left).toBe(0);
    expect(b.spend(who(4), 1)).toBe('slot');
  });

  it('0 bps: the slot budget alone (the rule of ADR 0296)', () => {
    const b = new SimBudget({ maxSimGas: 1_000, bidderSimShareBps: 0 });
    expect(b.spend(who(1), 1_000)).toBeUndefined();
    expect(b.spend(who(2), 1)).toBe('slot');
  });

  it('refuses gas that is not a number instead of taking it', () => {
    const b = new SimBudget({ maxSimGas: 1_000, bidderSimShareBps: 0 });
    expect(b.spend(who(1), Number.NaN)).toBe('slot');
    expect(b.left).toBe(1_000);
  });
});
