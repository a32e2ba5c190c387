/**
 * The auction's account ledger: a deterministic state machine over consensus-ordered events
 * (docs/auction.md, "Deposits, withdrawals and settlement"). Every validator applies the same events in
 * the same order and holds the same balances; nothing here reads a clock, a disk or the network.
 *
 * An account (an ed25519 public key) has `available` funds, `locked` funds (commit bonds and revealed
 * bids of open slots) and `pendingWithdrawal` (requested, paid out `withdrawDelay` blocks later). Money
 * enters by genesis funding or a deposit and leaves only by a paid-out withdrawal; a settlement moves a
 * winner's price to the rollups' treasury accounts, a penalty moves part of a failing bid's locked amount
 * to the same treasuries (ADR 0320) and a forfeit moves an unrevealed commit's bond to the forfeit sink,
 * so at every step  Σ(available + locked + pending) + paidOut = funded + deposited.
 *
 * `apply` checks an event completely before it changes anything: an event it refuses (AuctionError with
 * a LEDGER_* code) leaves the ledger as it was.
 */
import { fromHex, latin1Key, toHex } from '../crypto/index.ts';
import { AuctionError } from './errors.ts';
import { MAX_AMOUNT } from './params.ts';

export type LedgerEvent =
  /** Genesis funding. */
  | { kind: 'fund'; account: Uint8Array; amount: bigint }
  /** A deposit transaction credited (docs/auction.md: where deposits come from). */
  | { kind: 'deposit'; account: Uint8Array; amount: bigint }
  /** A withdrawal requested in the block at `height`: available → pending until height + withdrawDelay. */
  | { kind: 'withdraw'; account: Uint8Array; amount: bigint; height: number }
  /** The block at `height` is final: withdrawals whose unlock height is <= height are paid out. */
  | { kind: 'unlock'; height: number }
  /** A commit included: its bond (forfeitFee) moves from available to locked. */
  | { kind: 'commit'; account: Uint8Array; slot: number; commitment: Uint8Array }
  /** A valid reveal: the bid's amount is locked as well, until its slot settles. */
  | { kind: 'lock'; account: Uint8Array; slot: number; commitment: Uint8Array; amount: bigint }
  /** A winner of `slot` pays `price` to the rollups' treasuries; the rest of its lock and bond return. */
  | {
      kind: 'settle';
      slot: number;
      commitment: Uint8Array;
      price: bigint;
      proceeds: { account: Uint8Array; amount: bigint }[];
    }
  /**
   * A revealed bid whose bundle fails (BUNDLE_FAILS) pays `penalty` (at most its locked amount) to the
   * rollups' treasuries; the rest of its lock and its bond return. Its lock is closed: at most once.
   */
  | {
      kind: 'penalize';
      slot: number;
      commitment: Uint8Array;
      penalty: bigint;
      proceeds: { account: Uint8Array; amount: bigint }[];
    }
  /** A commit never revealed in its window: its bond goes to the forfeit sink. */
  | { kind: 'forfeit'; slot: number; commitment: Uint8Array }
  /** Slot resolved: every lock of it still open (losers' bids and bonds) returns to available. */
  | { kind: 'release'; slot: number };

export interface AccountView {
  available: bigint;
  locked: bigint;
  pendingWithdrawal: bigint;
}

export interface LedgerOptions {
  /** Bond locked per commit. */
  forfeitFee: bigint;
  /** Blocks between a withdrawal request and its payout. */
  withdrawDelay: number;
  /** The account credited with forfeited bonds. */
  forfeitSink: Uint8Array;
}

/**
 * The whole ledger as plain JSON (amounts as decimal strings, keys as hex), for the book's per-height
 * persistence; `Ledger.restore` rebuilds an identical ledger from it.
 */
export interface LedgerSnapshot {
  /** [account, available, locked, pendingWithdrawal], in first-seen order. */
  accounts: [string, string, string, string][];
  /** [slot, commitment, account, bond, bid], in creation order. */
  locks: [number, string, string, string, string][];
  /** [account, amount, unlockAt], in request order. */
  pending: [string, string, number][];
  supplied: string;
  paidOut: string;
}

interface Account extends AccountView {
  key: Uint8Array;
}

interface Lock {
  account: string;
  slot: number;
  bond: bigint;
  /** 0 until revealed. */
  bid: bigint;
}

interface Pending {
  account: string;
  amount: bigint;
  unlockAt: number;
}

export class Ledger {
  readonly #opts: LedgerOptions;
  readonly #accounts = new Map<string, Account>();
  readonly #locks = new Map<string, Lock>();
  #pending: Pending[] = [];
  #supplied = 0n;
  #paidOut = 0n;

  constructor(opts: LedgerOptions) {
    if (opts.forfeitFee < 0n || opts.forfeitFee > MAX_AMOUNT) bad('forfeitFee', opts.forfeitFee);
    this.#opts = opts;
  }

  /** Balances of an account (zeros for one never seen). */
  account(key: Uint8Array): AccountView {
    const a = this.#accounts.get(latin1Key(key));
    return a === undefined
      ? { available: 0n, locked: 0n, pendingWithdrawal: 0n }
      : { available: a.available, locked: a.locked, pendingWithdrawal: a.pendingWithdrawal };
  }

  /** True when a withdrawal is paid out by `unlock` at `height` (an unlock that changes something). */
  hasDue(height: number): boolean {
    return this.#pending.some((p) => p.unlockAt <= height);
  }

  /** True once the ledger has seen the account (funded, credited or debited). */
  known(key: Uint8Array): boolean {
    return this.#accounts.has(latin1Key(key));
  }

  /** Money in (funded + deposited), money out (paid withdrawals), and what the accounts hold. */
  totals(): { supplied: bigint; paidOut: bigint; held: bigint; locks: number; pending: number } {
    let held = 0n;
    for (const a of this.#accounts.values()) held += a.available + a.locked + a.pendingWithdrawal;
    return {
      supplied: this.#supplied,
      paidOut: this.#paidOut,
      held,
      locks: this.#locks.size,
      pending: this.#pending.length,
    };
  }

  /** Every account's balances, sorted by key (for snapshots and tests). */
  accounts(): { key: string; view: AccountView }[] {
    return [...this.#accounts.values()]
      .map((a) => ({
        key: toHex(a.key),
        view: { available: a.available, locked: a.locked, pendingWithdrawal: a.pendingWithdrawal },
      }))
      .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  }

  /** The ledger as JSON-safe data (see LedgerSnapshot). */
  snapshot(): LedgerSnapshot {
    const hexOf = (k: string) => toHex(Buffer.from(k, 'latin1'));
    return {
      accounts: [...this.#accounts.values()].map((a) => [
        toHex(a.key),
        String(a.available),
        String(a.locked),
        String(a.pendingWithdrawal),
      ]),
      locks: [...this.#locks.entries()].map(([k, l]) => [
        l.slot,
        hexOf(k.slice(k.indexOf(':') + 1)),
        hexOf(l.account),
        String(l.bond),
        String(l.bid),
      ]),
      pending: this.#pending.map((p) => [hexOf(p.account), String(p.amount), p.unlockAt]),
      supplied: String(this.#supplied),
      paidOut: String(this.#paidOut),
    };
  }

  /** A ledger equal to the one `snap` was taken from. */
  static restore(opts: LedgerOptions, snap: LedgerSnapshot): Ledger {
    const l = new Ledger(opts);
    for (const [key, available, locked, pending] of snap.accounts) {
      const k = fromHex(key);
      l.#accounts.set(latin1Key(k), {
        key: k,
        available: BigInt(available),
        locked: BigInt(locked),
        pendingWithdrawal: BigInt(pending),
      });
    }
    for (const [slot, commitment, account, bond, bid] of snap.locks) {
      l.#locks.set(lockKey(slot, fromHex(commitment)), {
        account: latin1Key(fromHex(account)),
        slot,
        bond: BigInt(bond),
        bid: BigInt(bid),
      });
    }
    l.#pending = snap.pending.map(([account, amount, unlockAt]) => ({
      account: latin1Key(fromHex(account)),
      amount: BigInt(amount),
      unlockAt,
    }));
    l.#supplied = BigInt(snap.supplied);
    l.#paidOut = BigInt(snap.paidOut);
    return l;
  }

  /** Applies one event, or throws AuctionError (LEDGER_*) and changes nothing. */
  apply(e: LedgerEvent): void {
    switch (e.kind) {
      case 'fund':
      case 'deposit': {
        amount(e.amount, false);
        const a = this.#acct(e.account);
        if (a.available + e.amount > MAX_AMOUNT) bad('amount', e.amount, 'would overflow the account');
        a.available += e.amount;
        this.#supplied += e.amount;
        return;
      }
      case 'withdraw': {
        amount(e.amount, false);
        height(e.height);
        const a = this.#need(e.account, e.amount);
        a.available -= e.amount;
        a.pendingWithdrawal += e.amount;
        this.#pending.push({
          account: latin1Key(e.account),
          amount: e.amount,
          unlockAt: e.height + this.#opts.withdrawDelay,
        });
        return;
      }
      case 'unlock': {
        height(e.height);
        const keep: Pending[] = [];
        for (const p of this.#pending) {
          if (p.unlockAt > e.height) {
            keep.push(p);
            continue;
          }
          const a = this.#accounts.get(p.account) as Account;
          a.pendingWithdrawal -= p.amount;
          this.#paidOut += p.amount;
        }
        this.#pending = keep;
        return;
      }
      case 'commit': {
        height(e.slot);
        const k = lockKey(e.slot, e.commitment);
        if (this.#locks.has(k)) dup(e.slot);
        const a = this.#need(e.account, this.#opts.forfeitFee);
        a.available -= this.#opts.forfeitFee;
        a.locked += this.#opts.forfeitFee;
        this.#locks.set(k, {
          account: latin1Key(e.account),
          slot: e.slot,
          bond: this.#opts.forfeitFee,
          bid: 0n,
        });
        return;
      }
      case 'lock': {
        amount(e.amount, false);
        const l = this.#lock(e.slot, e.commitment);
        if (l.account !== latin1Key(e.account)) unknown(e.slot, 'the lock belongs to another account');
        if (l.bid !== 0n) dup(e.slot);
        const a = this.#need(e.account, e.amount);
        a.available -= e.amount;
        a.locked += e.amount;
        l.bid = e.amount;
        return;
      }
      case 'settle':
        this.#payFromLock(e.slot, e.commitment, e.price, e.proceeds, 'price');
        return;
      case 'penalize':
        this.#payFromLock(e.slot, e.commitment, e.penalty, e.proceeds, 'penalty');
        return;
      case 'forfeit': {
        const l = this.#lock(e.slot, e.commitment);
        if (l.bid !== 0n) unknown(e.slot, 'a revealed bid is not forfeited');
        const a = this.#accounts.get(l.account) as Account;
        a.locked -= l.bond;
        this.#acct(this.#opts.forfeitSink).available += l.bond;
        this.#locks.delete(lockKey(e.slot, e.commitment));
        return;
      }
      case 'release': {
        height(e.slot);
        for (const [k, l] of this.#locks) {
          if (l.slot !== e.slot) continue;
          const a = this.#accounts.get(l.account) as Account;
          a.locked -= l.bond + l.bid;
          a.available += l.bond + l.bid;
          this.#locks.delete(k);
        }
        return;
      }
    }
  }

  /** Commitments of `slot` committed but never revealed (the forfeit candidates), sorted. */
  unrevealed(slot: number): Uint8Array[] {
    const out: string[] = [];
    for (const [k, l] of this.#locks) if (l.slot === slot && l.bid === 0n) out.push(k);
    return out.sort().map((k) => new Uint8Array(Buffer.from(k.slice(k.indexOf(':') + 1), 'latin1')));
  }

  /**
   * Closes the revealed lock (slot, commitment): `due` (≤ the locked bid) goes to `proceeds` (which must
   * add up to it), the rest of the bid and the bond return to the bidder. Checks everything first.
   */
  #payFromLock(
    slot: number,
    commitment: Uint8Array,
    due: bigint,
    proceeds: { account: Uint8Array; amount: bigint }[],
    what: 'price' | 'penalty',
  ): void {
    amount(due, true);
    const l = this.#lock(slot, commitment);
    if (l.bid === 0n) unknown(slot, 'the bid was never revealed');
    if (due > l.bid) {
      throw new AuctionError('LEDGER_BAD_SETTLEMENT', `${what} above the locked bid`, {
        slot,
        [what]: String(due),
        bid: String(l.bid),
      });
    }
    let sum = 0n;
    for (const p of proceeds) {
      amount(p.amount, true);
      sum += p.amount;
    }
    if (sum !== due || (due > 0n && proceeds.length === 0)) {
      throw new AuctionError('LEDGER_BAD_SETTLEMENT', `proceeds do not add up to the ${what}`, {
        slot,
        [what]: String(due),
        proceeds: String(sum),
      });
    }
    for (const p of proceeds) {
      const t = this.#accounts.get(latin1Key(p.account));
      if ((t?.available ?? 0n) + p.amount > MAX_AMOUNT) bad('amount', p.amount, 'would overflow a treasury');
    }
    const a = this.#accounts.get(l.account) as Account;
    a.locked -= l.bond + l.bid;
    a.available += l.bond + l.bid - due;
    for (const p of proceeds) this.#acct(p.account).available += p.amount;
    this.#locks.delete(lockKey(slot, commitment));
  }

  #acct(key: Uint8Array): Account {
    const k = latin1Key(key);
    let a = this.#accounts.get(k);
    if (a === undefined) {
      a = { key: new Uint8Array(key), available: 0n, locked: 0n, pendingWithdrawal: 0n };
      this.#accounts.set(k, a);
    }
    return a;
  }

  #need(key: Uint8Array, amt: bigint): Account {
    const a = this.#accounts.get(latin1Key(key));
    const have = a?.available ?? 0n;
    if (a === undefined || have < amt) {
      throw new AuctionError('LEDGER_INSUFFICIENT_FUNDS', `account has ${have} available, needs ${amt}`, {
        account: toHex(key),
        available: String(have),
        needed: String(amt),
      });
    }
    return a;
  }

  #lock(slot: number, commitment: Uint8Array): Lock {
    const l = this.#locks.get(lockKey(slot, commitment));
    if (l === undefined) unknown(slot, 'no commit with this commitment for the slot');
    return l;
  }
}

function lockKey(slot: number, commitment: Uint8Array): string {
  return `${slot}:${latin1Key(commitment)}`;
}

function amount(v: bigint, zeroOk: boolean): void {
  if (typeof v !== 'bigint' || v < 0n || v > MAX_AMOUNT || (!zeroOk && v === 0n)) bad('amount', v);
}

function height(v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new AuctionError('LEDGER_BAD_AMOUNT', 'height/slot must be a non-negative integer', { value: v });
  }
}

function bad(field: string, v: unknown, why = 'must be a u64 (and > 0 here)'): never {
  throw new AuctionError('LEDGER_BAD_AMOUNT', `${field} ${why}`, { field, value: String(v) });
}

function dup(slot: number): never {
  throw new AuctionError('LEDGER_DUPLICATE_LOCK', 'this bid is already locked', { slot });
}

function unknown(slot: number, why: string): never {
  throw new AuctionError('LEDGER_UNKNOWN_LOCK', why, { slot });
}
