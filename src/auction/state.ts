/**
 * The auction's state machine (the "book", docs/auction.md "State and persistence"): built from committed
 * blocks in consensus order, identical on every validator. For block h it applies the block's
 * auction-namespace transactions in order — commit (locks the bond), reveal (opens an included commit of
 * the same slot and bidder, locks the amount), deposit (deposit authority's signature and sequence),
 * withdraw (the account's signature and sequence) — then settles slot h from the resolution the builder's
 * auction source computed (winners pay, proceeds to the treasuries, failing bids pay their penalty to
 * the same treasuries, unrevealed commits forfeit, every other lock of the slot released, due
 * withdrawals paid out), then writes the whole state in one record
 * (one atomic put), so a kill -9 leaves either height h applied or height h - 1.
 *
 * An auction transaction that is invalid when its block is applied (bad signature, out of window, no
 * matching commit, stale nonce, no funds) is ignored — counted and logged, never fatal — because a block
 * is final whatever it carries. `check` is the same rule at admission, as far as the state knows.
 */
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { AUCTION_NAMESPACE, computeAuctionHash, decodeAuctionTx, txHash } from '../codec/index.ts';
import { fromHex, latin1Key, toHex } from '../crypto/index.ts';
import type { AuctionTx, BidCommit, BidReveal, Block } from '../types.ts';
import { verifyDeposit, verifyWithdraw } from './accounts.ts';
import type { AuctionBook, ResolvedSlot, RevealedBid, SlotInputs } from './book.ts';
import {
  COMMITMENT_LEN,
  commitSignBytes,
  commitWindow,
  revealBodyOf,
  revealCommitment,
  revealSignBytes,
  verifyCommit,
  verifyReveal,
} from './commit-reveal.ts';
import { AuctionError, type AuctionErrorCode } from './errors.ts';
import { Ledger, type LedgerSnapshot } from './ledger.ts';
import { encodeOutcomeRecords, outcomeOf } from './outcome.ts';
import { failPenaltyOf } from './params.ts';
import { splitProceeds } from './resolve.ts';
import type { AuctionSetup } from './setup.ts';
import { verifyAuctionSignature } from './verified.ts';
import type { AccountInfo, AuctionInfo, AuctionSlotView, SlotBidView, SlotWinnerView } from './view.ts';

/** Where the book persists itself (a store sub-view; structurally the store's KvStore). */
export interface AuctionKv {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Atomic writes (value undefined = delete). */
  batch(writes: { key: Uint8Array; value: Uint8Array | undefined }[]): Promise<void>;
  range(opts: { gte?: Uint8Array; lt?: Uint8Array }): AsyncIterable<[Uint8Array, Uint8Array]>;
}

export interface AuctionBookOptions {
  setup: AuctionSetup;
  /** Absent: in memory only (tests). */
  kv?: AuctionKv;
  /**
   * The same records through a view that fsyncs each batch, used for a height whose slot was resolved
   * with executor verdicts (`ResolvedSlot.simulations`); absent: `kv` for every height.
   */
  durableKv?: AuctionKv;
  /**
   * Puts a height's records in the atomic batch that commits that height's block (the store's
   * `attachToCommit`, keys as `kv` sees them): resolves once written; undefined when that block's commit
   * is already under way (the book then writes through `kv` / `durableKv`). Absent: always on its own.
   */
  attach?: (
    height: number,
    writes: { key: Uint8Array; value: Uint8Array | undefined }[],
  ) => Promise<void> | undefined;
  registry?: Registry;
  logger?: Logger;
  /** Resolved slots kept for ordo_getAuction beyond commitHorizon (default 64). */
  keepSlots?: number;
}

/** Deposits may run at most this far ahead of the authority's next nonce at admission. */
const MAX_NONCE_AHEAD = 1024;
const STATE_KEY = new TextEncoder().encode('state');
/** Settled slots' views: 'v' || u64be(height), written once at settlement, deleted when pruned. */
const VIEW_PREFIX = 0x76;
function viewKey(height: number): Uint8Array {
  const k = new Uint8Array(9);
  k[0] = VIEW_PREFIX;
  new DataView(k.buffer).setBigUint64(1, BigInt(height));
  return k;
}
/** A sold slot's outcome records for the adapter: 'o' || u64be(height), written with the height's state. */
const OUTCOME_PREFIX = 0x6f;
function outcomeKey(height: number): Uint8Array {
  const k = new Uint8Array(9);
  k[0] = OUTCOME_PREFIX;
  new DataView(k.buffer).setBigUint64(1, BigInt(height));
  return k;
}
/**
 * A height whose block carries no auction transaction, whose slot saw no commit and at which no
 * withdrawal is due changes nothing but the applied height: its record is not rewritten (a restart
 * re-applies it from the stored block, with no executor verdict to ask for), except every this many
 * heights, which bounds that replay.
 */
const WRITE_EVERY = 256;
/** Heights applied in memory ahead of the last persisted one at most (a write being retried holds them). */
const MAX_UNPERSISTED = 8;
const STATE_VERSION = 1;
/** Settled slots whose inputs stay readable (a late verify of a slot already applied). */
const KEEP_INPUTS = 8;

interface CommitRec {
  bidder: Uint8Array;
  commitment: Uint8Array;
  height: number;
  revealed: boolean;
}

interface OpenSlot {
  /** By latin1 commitment, in inclusion order. */
  commits: Map<string, CommitRec>;
  /** Commits per bidder (latin1 key). */
  perBidder: Map<string, number>;
  /** Reveals that locked their amount: the slot's candidates, in consensus order. */
  reveals: RevealedBid[];
  /** Reveals that opened a commit but could not lock their amount (set aside as ABOVE_DEPOSIT). */
  refused: SlotBidView[];
}

interface SettledInputs {
  candidates: RevealedBid[];
  available: Map<string, bigint>;
}

/** Why an auction transaction was ignored when its block was applied. */
export interface IgnoredAuctionTx {
  height: number;
  txHash: string;
  code: AuctionErrorCode | 'DECODE';
  message: string;
}

function createMetrics(registry: Registry | undefined) {
  const registers = registry === undefined ? [] : [registry];
  return {
    txs: new Counter({
      name: 'ordo_auction_txs_total',
      help: 'Auction transactions applied from committed blocks, by kind (commit, reveal, deposit, withdraw)',
      labelNames: ['kind'] as const,
      registers,
    }),
    ignored: new Counter({
      name: 'ordo_auction_ignored_txs_total',
      help: 'Auction transactions in committed blocks ignored when applied, by error code',
      labelNames: ['code'] as const,
      registers,
    }),
    winners: new Counter({
      name: 'ordo_auction_winners_total',
      help: 'Winning bids settled (one per winner, whatever the number of rollups it bought)',
      registers,
    }),
    proceeds: new Counter({
      name: 'ordo_auction_proceeds_total',
      help: 'Sum of the prices winners paid to rollup treasuries (ledger units)',
      registers,
    }),
    penalties: new Counter({
      name: 'ordo_auction_penalties_total',
      help: 'Bids whose bundle failed (BUNDLE_FAILS) that paid the failure penalty at settlement (auction.failPenaltyBps)',
      registers,
    }),
    penaltyAmount: new Counter({
      name: 'ordo_auction_penalty_amount_total',
      help: 'Sum of the failure penalties paid to rollup treasuries (ledger units)',
      registers,
    }),
    forfeits: new Counter({
      name: 'ordo_auction_forfeits_total',
      help: 'Commits never revealed whose bond went to the forfeit sink',
      registers,
    }),
    applied: new Gauge({
      name: 'ordo_auction_applied_height',
      help: 'Last height whose auction transactions and settlement the auction state applied',
      registers,
    }),
    applySeconds: new Histogram({
      name: 'ordo_auction_apply_seconds',
      help: 'Time to apply one committed block to the auction state, persistence included',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
  };
}

/** Stateless checks of an auction transaction (sizes and signatures; no windows, nonces or funds). */
export function verifyAuctionTxSignatures(
  chainId: string,
  tx: AuctionTx,
  depositAuthority: Uint8Array,
): void {
  switch (tx.kind) {
    case 'commit': {
      const c = tx.commit;
      if (c.commitment.byteLength !== COMMITMENT_LEN)
        throw new AuctionError('AUCTION_MALFORMED', 'bid commitment must be 32 bytes');
      if (!verifyAuctionSignature(c.bidder, commitSignBytes(chainId, c), c.signature))
        throw new AuctionError('AUCTION_BAD_SIGNATURE', 'bid commit signature does not verify', {
          slot: c.slot,
        });
      return;
    }
    case 'reveal': {
      const commitment = revealCommitmentOf(chainId, tx.reveal);
      if (
        !verifyAuctionSignature(tx.reveal.bidder, revealSignBytes(chainId, commitment), tx.reveal.signature)
      )
        throw new AuctionError('AUCTION_BAD_SIGNATURE', 'bid reveal signature does not verify', {
          slot: tx.reveal.slot,
        });
      return;
    }
    case 'deposit':
      verifyDeposit(chainId, tx.deposit, depositAuthority);
      return;
    case 'withdraw':
      verifyWithdraw(chainId, tx.withdraw);
      return;
  }
}

function revealCommitmentOf(chainId: string, r: BidReveal): Uint8Array {
  return revealCommitment(chainId, revealBodyOf(chainId, r));
}

/** Creates the book: from its persisted state when `kv` holds one, else from genesis funding. */
export async function openAuctionBook(opts: AuctionBookOptions): Promise<AuctionState> {
  const raw = await opts.kv?.get(STATE_KEY);
  const views: Uint8Array[] = [];
  if (raw !== undefined && opts.kv !== undefined)
    for await (const [, v] of opts.kv.range({ gte: viewKey(0), lt: Uint8Array.of(VIEW_PREFIX + 1) }))
      views.push(v);
  return new AuctionState(opts, raw, views);
}

export class AuctionState implements AuctionBook {
  readonly #setup: AuctionSetup;
  readonly #kv: AuctionKv | undefined;
  readonly #durableKv: AuctionKv | undefined;
  readonly #attach: AuctionBookOptions['attach'];
  /** Persistence of applied heights, in height order (the in-memory applies do not wait for it). */
  #persistChain: Promise<void> = Promise.resolve();
  /** A write of the book's own still in flight: later heights write after it, never into a block batch. */
  #ownWrite: Promise<void> | undefined;
  readonly #log: Logger | undefined;
  readonly #metrics: ReturnType<typeof createMetrics>;
  readonly #keepSlots: number;
  #ledger: Ledger;
  #applied = 0;
  #depositNonce = 0;
  #withdrawNonces = new Map<string, number>();
  #open = new Map<number, OpenSlot>();
  #settled = new Map<number, AuctionSlotView>();
  #settledInputs = new Map<number, SettledInputs>();
  /** Settled views dropped from memory whose records the next write deletes. */
  #pruned: number[] = [];
  #ignored: IgnoredAuctionTx[] = [];
  #persisted = 0;
  /** The height of the last record written (quiet heights in between are not written). */
  #written = 0;
  #waiters = new Set<{ kind: 'applied' | 'persisted'; height: number; done: () => void }>();
  #listeners = new Set<(height: number) => void>();
  #chain: Promise<void> = Promise.resolve();
  /** A record write that failed (disk full, EIO) and is being retried; undefined when writes succeed. */
  #writeFault: { code: string; reason: string; sinceMs: number } | undefined;
  /** Set by `stopRetrying`: a write retry loop gives up (the node is stopping). */
  #stopping = false;

  constructor(opts: AuctionBookOptions, persisted?: Uint8Array, views: readonly Uint8Array[] = []) {
    this.#setup = opts.setup;
    this.#kv = opts.kv;
    this.#durableKv = opts.durableKv ?? opts.kv;
    this.#attach = opts.attach;
    this.#log = opts.logger?.child({ module: 'auction' });
    this.#metrics = createMetrics(opts.registry);
    this.#keepSlots = opts.keepSlots ?? 64;
    this.#ledger = new Ledger(this.#ledgerOptions());
    if (persisted !== undefined) {
      this.#restore(persisted, views);
    } else {
      for (const a of opts.setup.accounts)
        this.#ledger.apply({ kind: 'fund', account: a.account, amount: a.balance });
    }
    this.#metrics.applied.set(this.#applied);
  }

  // ------------------------------------------------------------------ AuctionReadView

  info(): AuctionInfo {
    const s = this.#setup;
    return {
      enabled: true,
      params: s.params,
      reserves: s.reserves,
      treasuries: s.treasuries,
      depositAuthority: s.depositAuthority,
      forfeitSink: s.forfeitSink,
      nextDepositNonce: this.#depositNonce,
      appliedHeight: this.#applied,
    };
  }

  slot(height: number): AuctionSlotView | undefined {
    if (!Number.isSafeInteger(height) || height < 1) return undefined;
    const done = this.#settled.get(height);
    if (done !== undefined) return done;
    if (height <= this.#applied)
      // A quiet slot (nothing committed for it) whose view was not written before a restart.
      return height >= this.#keepFrom(this.#applied) ? emptyView(height) : undefined;
    const p = this.#setup.params;
    if (height > this.#applied + 1 + p.commitOffset + p.commitHorizon) return undefined;
    const open = this.#open.get(height);
    const bids = [...(open?.reveals ?? []).map((b) => bidView(b)), ...(open?.refused ?? [])];
    bids.sort((a, b) => a.revealHeight - b.revealHeight);
    return {
      height,
      resolved: false,
      commits: open?.commits.size ?? 0,
      reveals: bids.length,
      bids,
      winners: [],
      forfeited: 0,
    };
  }

  account(account: Uint8Array): AccountInfo {
    return {
      ...this.#ledger.account(account),
      account,
      withdrawNonce: this.#withdrawNonces.get(latin1Key(account)) ?? 0,
      known: this.#ledger.known(account),
    };
  }

  check(tx: AuctionTx): void {
    const { chainId, params } = this.#setup;
    const next = this.#applied + 1;
    switch (tx.kind) {
      case 'commit': {
        const c = tx.commit;
        const w = commitWindow(c.slot, params);
        if (next < w.first || next > w.last)
          throw new AuctionError(
            'AUCTION_OUT_OF_WINDOW',
            `a commit for slot ${c.slot} is valid only in blocks ${w.first}..${w.last}; the next block is ${next}`,
            { slot: c.slot, height: next, ...w },
          );
        verifyCommit(chainId, c, next, params);
        const open = this.#open.get(c.slot);
        if (open?.commits.has(latin1Key(c.commitment)))
          throw new AuctionError('AUCTION_DUPLICATE', 'this commitment is already included', {
            slot: c.slot,
          });
        this.#checkBidCount(open, c);
        this.#checkFunds(c.bidder, params.forfeitFee);
        return;
      }
      case 'reveal': {
        const r = tx.reveal;
        const commitment = revealCommitmentOf(chainId, r);
        const rec = this.#open.get(r.slot)?.commits.get(latin1Key(commitment));
        if (rec === undefined)
          throw new AuctionError(
            'AUCTION_COMMITMENT_MISMATCH',
            `no included commit for slot ${r.slot} matches this reveal (commit first, then reveal once it is in a block)`,
            { slot: r.slot },
          );
        if (rec.revealed)
          throw new AuctionError('AUCTION_DUPLICATE', 'this commit is already revealed', { slot: r.slot });
        verifyReveal(chainId, signedReveal(chainId, r), { slot: r.slot, ...rec }, next, params);
        this.#checkFunds(r.bidder, BigInt(r.amount));
        return;
      }
      case 'deposit': {
        verifyDeposit(chainId, tx.deposit, this.#setup.depositAuthority);
        const n = tx.deposit.nonce;
        if (n < this.#depositNonce || n > this.#depositNonce + MAX_NONCE_AHEAD)
          throw new AuctionError(
            'AUCTION_BAD_NONCE',
            `deposit nonce ${n} is not usable: the next deposit nonce is ${this.#depositNonce}`,
            { nonce: n, next: this.#depositNonce },
          );
        return;
      }
      case 'withdraw': {
        const w = tx.withdraw;
        verifyWithdraw(chainId, w);
        const want = this.#withdrawNonces.get(latin1Key(w.account)) ?? 0;
        if (w.nonce < want || w.nonce > want + MAX_NONCE_AHEAD)
          throw new AuctionError(
            'AUCTION_BAD_NONCE',
            `withdraw nonce ${w.nonce} is not usable: the account's next withdraw nonce is ${want}`,
            { nonce: w.nonce, next: want },
          );
        this.#checkFunds(w.account, BigInt(w.amount));
        return;
      }
    }
  }

  onApplied(listener: (height: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The stored outcome records (encodeOutcomeRecords) of a slot that sold something; undefined when it
   * sold nothing or the book keeps no store.
   */
  async outcomeRecords(height: number): Promise<Uint8Array | undefined> {
    if (this.#kv === undefined || !Number.isSafeInteger(height) || height < 1) return undefined;
    return this.#kv.get(outcomeKey(height));
  }

  // ------------------------------------------------------------------ AuctionBook

  appliedHeight(): number {
    return this.#applied;
  }

  /** Resolves once `height` is applied in memory (readers and the source may go on from there). */
  whenApplied(height: number, timeoutMs: number): Promise<void> {
    return this.#wait('applied', height, timeoutMs);
  }

  /**
   * Resolves once `height` is applied AND persisted: what the node's execution gate waits for, so the
   * executor is never ahead of the book on disk (after a crash the book re-applies from the store and
   * its source must still find the executor at the slot's parent height).
   */
  whenPersisted(height: number, timeoutMs: number): Promise<void> {
    return this.#wait('persisted', height, timeoutMs);
  }

  /** The last height persisted (equal to appliedHeight() except while a write is in flight). */
  persistedHeight(): number {
    return this.#persisted;
  }

  #wait(kind: 'applied' | 'persisted', height: number, timeoutMs: number): Promise<void> {
    const at = () => (kind === 'applied' ? this.#applied : this.#persisted);
    if (at() >= height) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = {
        kind,
        height,
        done: () => {
          clearTimeout(timer);
          this.#waiters.delete(w);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(w);
        reject(
          new AuctionError(
            'AUCTION_NOT_APPLIED',
            `the auction state has not ${kind} height ${height} within ${timeoutMs} ms (at ${at()})`,
            { height, [kind]: at(), timeoutMs },
          ),
        );
      }, timeoutMs);
      this.#waiters.add(w);
    });
  }

  #wake(kind: 'applied' | 'persisted', h: number): void {
    for (const w of [...this.#waiters]) if (w.kind === kind && w.height <= h) w.done();
  }

  inputs(slot: number): SlotInputs {
    if (this.#applied < slot - 1) {
      throw new AuctionError(
        'AUCTION_NOT_APPLIED',
        `slot ${slot}'s inputs need height ${slot - 1} applied; the auction state is at ${this.#applied}`,
        { slot, applied: this.#applied },
      );
    }
    if (this.#applied >= slot) {
      const s = this.#settledInputs.get(slot);
      if (s === undefined)
        throw new AuctionError('AUCTION_NOT_APPLIED', `slot ${slot} is settled and its inputs are gone`, {
          slot,
          applied: this.#applied,
        });
      return {
        slot,
        candidates: s.candidates,
        available: (b) => s.available.get(latin1Key(b)) ?? 0n,
      };
    }
    const candidates = this.#open.get(slot)?.reveals ?? [];
    return { slot, candidates: [...candidates], available: (b) => this.#availableFor(slot, b) };
  }

  /** Applies `block` (in order) and resolves once its records are persisted (`applyInOrder`'s persisted). */
  apply(block: Block, resolved: ResolvedSlot): Promise<void> {
    return this.applyInOrder(block, resolved).persisted;
  }

  /**
   * Applies `block` after the blocks given before it: `applied` resolves once it is applied in memory
   * (readers and the next block may go on), `persisted` once its records are written (ADR 0215). The
   * next block's apply does not wait for this one's write; at most MAX_UNPERSISTED heights run ahead.
   */
  applyInOrder(block: Block, resolved: ResolvedSlot): { applied: Promise<void>; persisted: Promise<void> } {
    const mem = this.#chain.then(() => this.#apply(block, resolved));
    this.#chain = mem.then(
      () => {},
      () => {},
    );
    return { applied: mem.then(() => {}), persisted: mem.then((r) => r.persisted) };
  }

  /**
   * Writes the state record if quiet heights left it behind the applied height (a graceful stop: the
   * next start then needs no re-application). Durable; runs after any apply in flight.
   */
  flush(): Promise<void> {
    const p = this.#chain.then(async () => {
      // Writes in flight first (bounded: an attached one waits for its block's commit).
      await Promise.race([this.#persistChain, new Promise((r) => setTimeout(r, 2_000).unref())]);
      // A record that did not land (its block was never committed: the store closed first) leaves the
      // book's record where it was; the restart re-applies from there, so nothing is claimed unwritten.
      if (this.#kv === undefined || this.#written >= this.#applied || this.#persisted < this.#applied) return;
      const writes: { key: Uint8Array; value: Uint8Array | undefined }[] = [
        { key: STATE_KEY, value: this.serialize() },
        ...this.#pruned.map((s) => ({ key: viewKey(s), value: undefined })),
      ];
      this.#pruned = [];
      await (this.#durableKv ?? this.#kv).batch(writes);
      this.#written = this.#applied;
    });
    this.#chain = p.catch(() => {});
    return p;
  }

  /**
   * The book's own storage health for /health: a failed record write (disk full, EIO) is retried in
   * place (100 ms doubling to 5 s) while nothing after it applies, like the consensus engine's halt
   * (ADR 0088): the node is reported unhealthy with the reason and resumes by itself.
   */
  writeHealth(): { ok: true } | { ok: false; code: string; reason: string; sinceMs: number } {
    return this.#writeFault === undefined ? { ok: true } : { ok: false, ...this.#writeFault };
  }

  /** The node is stopping: a write being retried gives up (the record is re-applied after restart). */
  stopRetrying(): void {
    this.#stopping = true;
  }

  async #writeRetrying(
    kv: AuctionKv,
    writes: { key: Uint8Array; value: Uint8Array | undefined }[],
    h: number,
  ) {
    for (let delayMs = 100; ; delayMs = Math.min(5_000, delayMs * 2)) {
      try {
        await kv.batch(writes);
        if (this.#writeFault !== undefined) {
          this.#log?.warn({ height: h, after: this.#writeFault.reason }, 'auction state writes resume');
          this.#writeFault = undefined;
        }
        return;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code !== 'STORE_WRITE_FAILED' || this.#stopping) throw err;
        const reason = `the auction state record of height ${h} could not be written: ${err instanceof Error ? err.message : String(err)}`;
        if (this.#writeFault === undefined) {
          this.#writeFault = { code: 'AUCTION_WRITE_FAILED', reason, sinceMs: Date.now() };
          this.#log?.error({ err, height: h }, 'auction state write failed; retrying (execution waits)');
        } else this.#writeFault.reason = reason;
        await new Promise((r) => setTimeout(r, delayMs));
      }
    }
  }

  // ------------------------------------------------------------------ extras (tests, node, RPC)

  /** The ledger's totals (Σ balances + paidOut = supplied). */
  totals(): ReturnType<Ledger['totals']> {
    return this.#ledger.totals();
  }

  /** Auction transactions ignored at apply time, most recent last (bounded). */
  ignored(): readonly IgnoredAuctionTx[] {
    return this.#ignored;
  }

  /**
   * The persisted form of the state (what `apply` writes after each height), settled slots' views apart
   * (each is written once, under its own key, when its slot settles).
   */
  serialize(): Uint8Array {
    const open = [...this.#open.entries()].map(([slot, o]) => ({
      slot,
      commits: [...o.commits.values()].map((c) => [
        toHex(c.bidder),
        toHex(c.commitment),
        c.height,
        c.revealed,
      ]),
      reveals: o.reveals,
      refused: o.refused,
    }));
    const state = {
      v: STATE_VERSION,
      chainId: this.#setup.chainId,
      applied: this.#applied,
      depositNonce: this.#depositNonce,
      withdrawNonces: [...this.#withdrawNonces.entries()].map(([k, n]) => [
        toHex(Buffer.from(k, 'latin1')),
        n,
      ]),
      ledger: this.#ledger.snapshot(),
      open,
    };
    return encodeJson(state);
  }

  // ------------------------------------------------------------------ internals

  async #apply(block: Block, resolved: ResolvedSlot): Promise<{ persisted: Promise<void> }> {
    const h = block.header.height;
    if (h <= this.#applied) return { persisted: Promise.resolve() }; // already applied (a replay after restart)
    if (h - this.#persisted > MAX_UNPERSISTED) await this.#persistChain;
    if (h !== this.#applied + 1) {
      throw new AuctionError(
        'AUCTION_STATE_INVALID',
        `blocks must be applied in order: height ${this.#applied + 1} is next, got ${h}`,
        { height: h, applied: this.#applied },
      );
    }
    if (resolved.slot !== h) {
      throw new AuctionError(
        'AUCTION_STATE_INVALID',
        `the resolution given for block ${h} is slot ${resolved.slot}'s`,
        { height: h, slot: resolved.slot },
      );
    }
    const started = performance.now();
    // Quiet: nothing for this height but the applied height itself (see WRITE_EVERY).
    const quiet =
      !this.#open.has(h) &&
      !this.#ledger.hasDue(h) &&
      !block.txs.some((tx) => tx.namespace === AUCTION_NAMESPACE) &&
      resolved.resolution.winners.length === 0;
    for (const tx of block.txs) {
      if (tx.namespace !== AUCTION_NAMESPACE) continue;
      try {
        this.#applyTx(decodeAuctionTx(tx.payload), h);
      } catch (err) {
        const code = err instanceof AuctionError ? err.code : 'DECODE';
        const message = err instanceof Error ? err.message : String(err);
        this.#metrics.ignored.inc({ code });
        this.#ignored.push({ height: h, txHash: toHex(txHash(tx)), code, message });
        if (this.#ignored.length > 256) this.#ignored.splice(0, this.#ignored.length - 256);
        this.#log?.debug({ height: h, code, message }, 'auction transaction ignored');
      }
    }
    this.#settle(h, resolved);
    this.#ledger.apply({ kind: 'unlock', height: h });
    this.#applied = h;
    // Readers (the source resolving slot h + 1, the RPC) may go on from the in-memory state now.
    this.#wake('applied', h);
    // Subscribers (ordo_subscribe ["auction"]) hear of h now: searchers reveal for slot h + 2 in block
    // h + 1, so waiting for the write would cost them the window.
    for (const l of this.#listeners) {
      try {
        l(h);
      } catch (err) {
        this.#log?.warn({ err }, 'auction applied-listener failed');
      }
    }
    let write: Promise<void> | undefined;
    if (this.#kv !== undefined && (!quiet || h - this.#written >= WRITE_EVERY)) {
      // One batch: state, the slot's view and outcome records, pruned views. Preferably in the batch that
      // commits block h (as durable as the block, no write of its own, ADR 0215); when that commit is
      // already under way, a batch of its own, durable (fsynced) only when the slot was resolved with
      // executor verdicts: re-applying it after a power loss would need the executor at h - 1, and
      // execution of h starts once it is written. Any other height a restart re-applies from the stored
      // block alone (docs/auction.md "State and persistence", ADR 0170).
      const writes: { key: Uint8Array; value: Uint8Array | undefined }[] = [
        { key: STATE_KEY, value: this.serialize() },
      ];
      const view = this.#settled.get(h);
      if (view !== undefined && !isEmptyView(view)) writes.push({ key: viewKey(h), value: encodeJson(view) });
      const rollups = outcomeOf(resolved.resolution);
      if (rollups.length > 0) writes.push({ key: outcomeKey(h), value: encodeOutcomeRecords(rollups) });
      for (const s of this.#pruned) writes.push({ key: viewKey(s), value: undefined });
      this.#pruned = [];
      this.#written = h;
      // Records land in height order: into block batches (the store commits in order) while no own
      // write is in flight; after an own write, own writes chained until it is done.
      const own = this.#ownWrite;
      const attached = own === undefined ? this.#attach?.(h, writes) : undefined;
      if (attached !== undefined) write = attached;
      else {
        const kv = (resolved.simulations ?? 0) > 0 ? (this.#durableKv ?? this.#kv) : this.#kv;
        const w = (own ?? Promise.resolve()).then(() => this.#writeRetrying(kv, writes, h));
        this.#ownWrite = w;
        w.then(
          () => {
            if (this.#ownWrite === w) this.#ownWrite = undefined;
          },
          () => {},
        );
        write = w;
      }
    }
    const persisted = this.#persistChain.then(async () => {
      await write;
      this.#persisted = h;
      this.#wake('persisted', h);
      this.#metrics.applied.set(h);
      this.#metrics.applySeconds.observe((performance.now() - started) / 1000);
    });
    this.#persistChain = persisted.catch(() => {});
    return { persisted };
  }

  #applyTx(tx: AuctionTx, h: number): void {
    const { chainId, params } = this.#setup;
    switch (tx.kind) {
      case 'commit': {
        const c = tx.commit;
        verifyCommit(chainId, c, h, params);
        const open = this.#openSlot(c.slot);
        const key = latin1Key(c.commitment);
        if (open.commits.has(key))
          throw new AuctionError('AUCTION_DUPLICATE', 'this commitment is already included', {
            slot: c.slot,
          });
        this.#checkBidCount(open, c);
        this.#ledger.apply({ kind: 'commit', account: c.bidder, slot: c.slot, commitment: c.commitment });
        open.commits.set(key, { bidder: c.bidder, commitment: c.commitment, height: h, revealed: false });
        const who = latin1Key(c.bidder);
        open.perBidder.set(who, (open.perBidder.get(who) ?? 0) + 1);
        this.#metrics.txs.inc({ kind: 'commit' });
        return;
      }
      case 'reveal': {
        const r = tx.reveal;
        const commitment = revealCommitmentOf(chainId, r);
        const open = this.#open.get(r.slot);
        const rec = open?.commits.get(latin1Key(commitment));
        if (open === undefined || rec === undefined)
          throw new AuctionError('AUCTION_COMMITMENT_MISMATCH', 'no included commit matches this reveal', {
            slot: r.slot,
          });
        if (rec.revealed)
          throw new AuctionError('AUCTION_DUPLICATE', 'this commit is already revealed', { slot: r.slot });
        const signed = signedReveal(chainId, r);
        verifyReveal(chainId, signed, { slot: r.slot, ...rec }, h, params);
        const bid: RevealedBid = {
          slot: r.slot,
          bidder: r.bidder,
          amount: BigInt(r.amount),
          namespaces: r.bundle.legs.map((l) => l.namespace),
          commitment,
          bundleHash: signed.bundleHash,
          salt: r.salt,
          signature: r.signature,
          commitHeight: rec.height,
          revealHeight: h,
          bundle: r.bundle,
        };
        rec.revealed = true;
        try {
          this.#ledger.apply({
            kind: 'lock',
            account: r.bidder,
            slot: r.slot,
            commitment,
            amount: bid.amount,
          });
        } catch (err) {
          // Opened but not covered by the deposit: the bond is not forfeited; the bid takes no part.
          open.refused.push({ ...bidView(bid), invalid: 'ABOVE_DEPOSIT' });
          throw err;
        }
        open.reveals.push(bid);
        this.#metrics.txs.inc({ kind: 'reveal' });
        return;
      }
      case 'deposit': {
        const d = tx.deposit;
        verifyDeposit(chainId, d, this.#setup.depositAuthority);
        if (d.nonce !== this.#depositNonce)
          throw new AuctionError(
            'AUCTION_BAD_NONCE',
            `deposit nonce ${d.nonce}, expected ${this.#depositNonce}`,
            { nonce: d.nonce, next: this.#depositNonce },
          );
        this.#ledger.apply({ kind: 'deposit', account: d.account, amount: BigInt(d.amount) });
        this.#depositNonce++;
        this.#metrics.txs.inc({ kind: 'deposit' });
        return;
      }
      case 'withdraw': {
        const w = tx.withdraw;
        verifyWithdraw(chainId, w);
        const k = latin1Key(w.account);
        const want = this.#withdrawNonces.get(k) ?? 0;
        if (w.nonce !== want)
          throw new AuctionError('AUCTION_BAD_NONCE', `withdraw nonce ${w.nonce}, expected ${want}`, {
            nonce: w.nonce,
            next: want,
          });
        this.#ledger.apply({ kind: 'withdraw', account: w.account, amount: BigInt(w.amount), height: h });
        this.#withdrawNonces.set(k, want + 1);
        this.#metrics.txs.inc({ kind: 'withdraw' });
        return;
      }
    }
  }

  #settle(h: number, resolved: ResolvedSlot): void {
    const open = this.#open.get(h);
    // What a late `inputs(h)` must still answer: the candidates and the funds before settlement.
    const available = new Map<string, bigint>();
    for (const b of open?.reveals ?? []) {
      const k = latin1Key(b.bidder);
      if (!available.has(k)) available.set(k, this.#availableFor(h, b.bidder));
    }
    this.#settledInputs.set(h, { candidates: [...(open?.reveals ?? [])], available });
    this.#settledInputs.delete(h - KEEP_INPUTS);

    const winners: SlotWinnerView[] = [];
    let total = 0n;
    for (const w of resolved.resolution.winners) {
      const shares = splitProceeds(w.price, w.bid.namespaces).map((s) => ({
        ...s,
        treasury: this.#setup.treasuries.get(s.namespace) ?? this.#setup.forfeitSink,
      }));
      try {
        this.#ledger.apply({
          kind: 'settle',
          slot: h,
          commitment: w.bid.commitment,
          price: w.price,
          proceeds: shares.map((s) => ({ account: s.treasury, amount: s.share })),
        });
      } catch (err) {
        // The source resolved from this book's own candidates: a refusal here is a bug, not an input.
        this.#log?.error({ err, height: h }, 'auction settlement refused by the ledger; winner not charged');
        continue;
      }
      total += w.price;
      this.#metrics.winners.inc();
      for (const s of shares)
        winners.push({
          namespace: s.namespace,
          bidder: w.bid.bidder,
          commitment: w.bid.commitment,
          bundleHash: w.bid.bundleHash,
          price: w.price,
          proceeds: s.share,
          treasury: s.treasury,
        });
    }
    if (total > 0n) this.#metrics.proceeds.inc(Number(total));
    const penalties = this.#penalize(h, resolved);
    let forfeited = 0;
    for (const c of open?.commits.values() ?? []) {
      if (c.revealed) continue;
      this.#ledger.apply({ kind: 'forfeit', slot: h, commitment: c.commitment });
      forfeited++;
    }
    this.#metrics.forfeits.inc(forfeited);
    this.#ledger.apply({ kind: 'release', slot: h });

    const verdicts = new Map(resolved.invalid.map((i) => [latin1Key(i.bid.commitment), i.reason]));
    const bids = [
      ...(open?.reveals ?? []).map((b) => {
        const ck = latin1Key(b.commitment);
        const reason = verdicts.get(ck);
        if (reason === undefined) return bidView(b);
        const penalty = penalties.get(ck);
        return penalty === undefined
          ? { ...bidView(b), invalid: reason }
          : { ...bidView(b), invalid: reason, penalty };
      }),
      ...(open?.refused ?? []),
    ].sort((a, b) => a.revealHeight - b.revealHeight);
    winners.sort((a, b) => a.namespace - b.namespace);
    this.#settled.set(h, {
      height: h,
      resolved: true,
      commits: open?.commits.size ?? 0,
      reveals: bids.length,
      bids,
      winners,
      forfeited,
      auctionHash: resolved.auctionHash,
    });
    this.#open.delete(h);
    const keepFrom = this.#keepFrom(h);
    for (const [s, v] of this.#settled)
      if (s < keepFrom) {
        this.#settled.delete(s);
        if (!isEmptyView(v)) this.#pruned.push(s);
      }
  }

  /**
   * The penalty of every BUNDLE_FAILS bid of slot h (ADR 0320): ceil(amount × failPenaltyBps / 10,000)
   * of its locked amount to the treasuries of the rollups it bid for, split as a winner's price is. The
   * verdicts are the resolution's, the same on every node; each lock is closed by its penalty, so a bid
   * pays at most once. Answers the penalty per commitment (latin1 key).
   */
  #penalize(h: number, resolved: ResolvedSlot): Map<string, bigint> {
    const out = new Map<string, bigint>();
    const bps = this.#setup.params.failPenaltyBps;
    if (bps <= 0) return out;
    let total = 0n;
    for (const { bid, reason } of resolved.invalid) {
      if (reason !== 'BUNDLE_FAILS') continue;
      const ck = latin1Key(bid.commitment);
      if (out.has(ck)) continue;
      const penalty = failPenaltyOf(bid.amount, bps);
      if (penalty === 0n) continue;
      const proceeds = splitProceeds(penalty, bid.namespaces).map((s) => ({
        account: this.#setup.treasuries.get(s.namespace) ?? this.#setup.forfeitSink,
        amount: s.share,
      }));
      try {
        this.#ledger.apply({ kind: 'penalize', slot: h, commitment: bid.commitment, penalty, proceeds });
      } catch (err) {
        // The source resolved from this book's own candidates: a refusal here is a bug, not an input.
        this.#log?.error({ err, height: h }, 'auction penalty refused by the ledger; bid not charged');
        continue;
      }
      out.set(ck, penalty);
      total += penalty;
    }
    if (out.size > 0) {
      this.#metrics.penalties.inc(out.size);
      this.#metrics.penaltyAmount.inc(Number(total));
    }
    return out;
  }

  /** The oldest settled slot whose view is kept when `applied` is applied. */
  #keepFrom(applied: number): number {
    return applied - (this.#setup.params.commitHorizon + this.#keepSlots);
  }

  /** Funds the bidder may lock for slot's bids: available now plus what its candidates locked. */
  #availableFor(slot: number, bidder: Uint8Array): bigint {
    let v = this.#ledger.account(bidder).available;
    for (const b of this.#open.get(slot)?.reveals ?? [])
      if (latin1Key(b.bidder) === latin1Key(bidder)) v += b.amount;
    return v;
  }

  #openSlot(slot: number): OpenSlot {
    let o = this.#open.get(slot);
    if (o === undefined) {
      o = { commits: new Map(), perBidder: new Map(), reveals: [], refused: [] };
      this.#open.set(slot, o);
    }
    return o;
  }

  #checkBidCount(open: OpenSlot | undefined, c: BidCommit): void {
    const n = open?.perBidder.get(latin1Key(c.bidder)) ?? 0;
    if (n >= this.#setup.params.maxBidsPerBidder)
      throw new AuctionError(
        'AUCTION_TOO_MANY_BIDS',
        `the bidder already has ${n} commits for slot ${c.slot} (at most ${this.#setup.params.maxBidsPerBidder})`,
        { slot: c.slot },
      );
  }

  #checkFunds(account: Uint8Array, need: bigint): void {
    const have = this.#ledger.account(account).available;
    if (have < need)
      throw new AuctionError('LEDGER_INSUFFICIENT_FUNDS', `account has ${have} available, needs ${need}`, {
        account: toHex(account),
        available: String(have),
        needed: String(need),
      });
  }

  #ledgerOptions() {
    return {
      forfeitFee: this.#setup.params.forfeitFee,
      withdrawDelay: this.#setup.params.withdrawDelay,
      forfeitSink: this.#setup.forfeitSink,
    };
  }

  #restore(raw: Uint8Array, views: readonly Uint8Array[]): void {
    let s: PersistedState;
    let settled: AuctionSlotView[];
    try {
      s = JSON.parse(new TextDecoder().decode(raw), reviver) as PersistedState;
      settled = views.map((v) => JSON.parse(new TextDecoder().decode(v), reviver) as AuctionSlotView);
    } catch (err) {
      throw new AuctionError('AUCTION_STATE_INVALID', `persisted auction state does not parse: ${err}`);
    }
    if (s.v !== STATE_VERSION || s.chainId !== this.#setup.chainId)
      throw new AuctionError(
        'AUCTION_STATE_INVALID',
        `persisted auction state is version ${s.v} of chain ${s.chainId}; this node runs version ${STATE_VERSION} of ${this.#setup.chainId}`,
      );
    this.#applied = s.applied;
    this.#persisted = s.applied;
    this.#written = s.applied;
    this.#depositNonce = s.depositNonce;
    this.#withdrawNonces = new Map(s.withdrawNonces.map(([k, n]) => [latin1Key(fromHex(k)), n]));
    this.#ledger = Ledger.restore(this.#ledgerOptions(), s.ledger);
    for (const o of s.open) {
      const slot = this.#openSlot(o.slot);
      for (const [bidder, commitment, height, revealed] of o.commits) {
        const rec = { bidder: fromHex(bidder), commitment: fromHex(commitment), height, revealed };
        slot.commits.set(latin1Key(rec.commitment), rec);
        slot.perBidder.set(latin1Key(rec.bidder), (slot.perBidder.get(latin1Key(rec.bidder)) ?? 0) + 1);
      }
      slot.reveals = o.reveals;
      slot.refused = o.refused;
    }
    // Views written at settlement; one a crash left behind above the state's height is not applied yet.
    for (const v of settled) if (v.height <= this.#applied) this.#settled.set(v.height, v);
  }
}

interface PersistedState {
  v: number;
  chainId: string;
  applied: number;
  depositNonce: number;
  withdrawNonces: [string, number][];
  ledger: LedgerSnapshot;
  open: {
    slot: number;
    commits: [string, string, number, boolean][];
    reveals: RevealedBid[];
    refused: SlotBidView[];
  }[];
}

function encodeJson(v: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v, replacer));
}

/** A settled slot nothing happened in: not written to the store, answered from this after a restart. */
function isEmptyView(v: AuctionSlotView): boolean {
  return v.commits === 0 && v.reveals === 0 && v.winners.length === 0 && v.forfeited === 0;
}

function emptyView(height: number): AuctionSlotView {
  return {
    height,
    resolved: true,
    commits: 0,
    reveals: 0,
    bids: [],
    winners: [],
    forfeited: 0,
    auctionHash: computeAuctionHash(height, { kind: 'auction', rollups: [] }),
  };
}

function signedReveal(chainId: string, r: BidReveal) {
  return { ...revealBodyOf(chainId, r), signature: r.signature };
}

function bidView(b: RevealedBid): SlotBidView {
  return {
    bidder: b.bidder,
    amount: b.amount,
    namespaces: b.namespaces,
    bundleHash: b.bundleHash,
    commitment: b.commitment,
    commitHeight: b.commitHeight,
    revealHeight: b.revealHeight,
  };
}

/** JSON with bigint ({"$n": "decimal"}) and bytes ({"$x": "hex"}). */
function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key]; // before toJSON (a Buffer would otherwise arrive as {type, data})
  if (typeof raw === 'bigint') return { $n: raw.toString() };
  if (raw instanceof Uint8Array) return { $x: toHex(raw) };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    if (typeof o.$n === 'string' && Object.keys(o).length === 1) return BigInt(o.$n);
    if (typeof o.$x === 'string' && Object.keys(o).length === 1) return fromHex(o.$x);
  }
  return value;
}
