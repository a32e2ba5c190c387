/**
 * A slot's simulation budget (docs/auction.md "Resolution in the builder"; ADRs 0296, 0321): the EVM gas
 * resolution may simulate for one slot (maxSimGas), of which each bidder's simulations may declare at
 * most its share (bidderSimShareBps of it). Resolution asks `spend` before each simulation, in the same
 * order on every node; the answer depends only on the bids asked about before, so every node simulates
 * the same bids.
 */
import { latin1Key } from '../crypto/index.ts';
import { type AuctionParams, bidderSimGasOf } from './params.ts';

/** Why a simulation was refused: the slot's budget, or its bidder's share of it. */
export type SimRefusal = 'slot' | 'bidder';

export class SimBudget {
  #left: number;
  readonly #share: number;
  readonly #spent = new Map<string, number>();

  constructor(params: Pick<AuctionParams, 'maxSimGas' | 'bidderSimShareBps'>) {
    this.#left = params.maxSimGas;
    this.#share = bidderSimGasOf(params);
  }

  /** What is left of the slot's budget. */
  get left(): number {
    return this.#left;
  }

  /** What one bidder's simulations may declare in this slot. */
  get share(): number {
    return this.#share;
  }

  /** What `bidder`'s simulations have declared so far. */
  spentBy(bidder: Uint8Array): number {
    return this.#spent.get(latin1Key(bidder)) ?? 0;
  }

  /**
   * Takes `gas` for a simulation of `bidder`'s bundle when it fits both what is left of the slot's budget
   * and what is left of the bidder's share; answers undefined when it did, or which bound refused it
   * (nothing is taken then).
   */
  spend(bidder: Uint8Array, gas: number): SimRefusal | undefined {
    if (!(gas >= 0)) return 'slot';
    if (gas > this.#left) return 'slot';
    const k = latin1Key(bidder);
    const spent = this.#spent.get(k) ?? 0;
    if (spent + gas > this.#share) return 'bidder';
    this.#left -= gas;
    this.#spent.set(k, spent + gas);
    return undefined;
  }
}
