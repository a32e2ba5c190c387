/**
 * The searcher load (src/loadgen/searcher.ts) against a fake chain whose height advances on every
 * `ordo_status` poll: each bidder commits once per new head, reveals only in the slot's reveal window
 * (again after a refusal while the window is open), and each bid is classified once its slot resolves.
 */
import { describe, expect, it } from 'vitest';
import { auctionParams, revealWindow } from '../../../src/auction/index.ts';
import { bidOutcome, runSearchers } from '../../../src/loadgen/index.ts';

const P = auctionParams();

describe('searcher load', () => {
  it('classifies bids from ordo_getAuction', () => {
    const c = `0x${'ab'.repeat(32)}`;
    const slot = {
      height: 5,
      enabled: true,
      resolved: true,
      bids: [
        { commitment: c, amount: '9', valid: true },
        { commitment: `0x${'cd'.repeat(32)}`, amount: '9', valid: false, reason: 'ABOVE_DEPOSIT' },
        { commitment: `0x${'ef'.repeat(32)}`, amount: '1', valid: true },
        {
          commitment: `0x${'ba'.repeat(32)}`,
          amount: '50',
          valid: false,
          reason: 'BUNDLE_FAILS',
          penalty: '5',
        },
      ],
      winners: [{ namespace: 1, commitment: c, price: '4', proceeds: '4' }],
    };
    expect(bidOutcome(slot, c)).toEqual({
      result: 'won',
      price: 4n,
      proceeds: [{ namespace: 1, amount: 4n }],
    });
    expect(bidOutcome(slot, `0x${'CD'.repeat(32)}`)).toEqual({ result: 'invalid', reason: 'ABOVE_DEPOSIT' });
    expect(bidOutcome(slot, `0x${'ef'.repeat(32)}`)).toEqual({ result: 'lost' });
    expect(bidOutcome(slot, `0x${'ba'.repeat(32)}`)).toEqual({
      result: 'invalid',
      reason: 'BUNDLE_FAILS',
      penalty: 5n,
    });
    expect(bidOutcome(slot, `0x${'00'.repeat(32)}`)).toEqual({ result: 'unrevealed' });
  });

  it('commits every slot, reveals in the window with a retry, and reports outcomes', async () => {
    // One block every four polls, so a refused reveal can be sent again inside its one-block window.
    let polls = 0;
    const head = () => 3 + Math.floor(polls / 4);
    const commits = new Map<number, string[]>();
    const reveals = new Map<number, string[]>();
    let refusedOnce = false;
    const badWindow: number[] = [];
    const rep = await runSearchers({
      urls: [],
      searchers: 2,
      durationSec: 0.2,
      pollMs: 1,
      legs: 'opaque',
      random: () => 0.5,
      call: async (m, p) => {
        const q = p[0] as { slot: number; commitment?: string; bidder: string };
        switch (m) {
          case 'ordo_status':
            polls++;
            return { chainId: 'c', height: head(), rollups: [{ namespace: 1, kind: 'opaque' }] };
          case 'ordo_getAuctionInfo':
            return {
              enabled: true,
              params: { ...P, forfeitFee: '1000' },
              rollups: [{ namespace: 1, reservePrice: '100' }],
            };
          case 'ordo_sendBidCommit':
            commits.set(q.slot, [...(commits.get(q.slot) ?? []), q.commitment as string]);
            return { txHash: '0x01' };
          case 'ordo_sendBidReveal': {
            const w = revealWindow(q.slot, P);
            if (head() + 1 < w.first || head() + 1 > w.last) badWindow.push(q.slot);
            if (!refusedOnce) {
              refusedOnce = true;
              throw Object.assign(new Error('not applied yet'), {
                data: { rpcData: { code: 'AUCTION_COMMITMENT_MISMATCH' } },
              });
            }
            reveals.set(q.slot, [...(reveals.get(q.slot) ?? []), q.bidder]);
            return { txHash: '0x02' };
          }
          case 'ordo_getAuction': {
            const slot = p[0] as number;
            const cs = commits.get(slot) ?? [];
            return {
              height: slot,
              enabled: true,
              resolved: true,
              bids: cs.map((c) => ({ commitment: c, amount: '5', valid: true })),
              winners:
                cs.length > 0 ? [{ namespace: 1, commitment: cs[0], price: '100', proceeds: '100' }] : [],
            };
          }
          default:
            throw new Error(m);
        }
      },
    });
    expect(rep.slotsBid).toBeGreaterThan(0);
    expect(badWindow).toEqual([]);
    expect(rep.commits.admitted).toBe(rep.slotsBid * 2);
    expect(rep.reveals.retries).toBeGreaterThanOrEqual(1);
    expect(rep.outcomes.won).toBe(rep.slotsResolved);
    expect(rep.outcomes.won + rep.outcomes.lost + rep.outcomes.unrevealed).toBe(rep.slotsResolved * 2);
    expect(rep.prices.median).toBe('100');
  });
});
