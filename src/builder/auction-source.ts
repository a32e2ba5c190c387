/**
 * The auction's side of the builder (issue #23, docs/auction.md "Resolution in the builder"): for slot h
 * it reads the revealed bids from the book (as of height h - 1), checks each bid's bundle the way the
 * bundle pool would (structure, rollup sizes, atomicity against rollup kinds, payloads, bundle window,
 * reverting hashes), asks the embedded executor whether the bundles that matter to the outcome would
 * apply on the state after h - 1 at the parent header's time, resolves the slot, and hands the builder
 * the outcome (auction_hash kind 1) and the winners' bundles for the tops of their rollups' slices.
 *
 * Determinism: every input is consensus data (the book after h - 1, the parent header's time) or the
 * executor's verdict on the state after h - 1, which is the same on every honest node. Simulation is
 * lazy but deterministic: the slot is resolved assuming every bundle applies; the bundles of the
 * winners, of the bids that set their prices and of the published top two bids per sold rollup are then
 * simulated, failures are marked BUNDLE_FAILS and the slot is resolved again, until every bid the
 * outcome names has applied. Bids the outcome never names are not simulated.
 *
 * Validators call the same `outcome(h)`; the builder refuses a proposal whose auction_hash differs or
 * whose sold rollups do not open with their winner's bundle. On commit, `resolved(block)` gives the book
 * the slot's resolution to settle (computed once per height and cached).
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import {
  type AuctionBook,
  type BidInvalidReason,
  type InvalidBid,
  outcomeOf,
  type Resolution,
  type ResolvedSlot,
  type RevealedBid,
  resolveSlot,
  revealBodyOf,
  revealCommitment,
  SimBudget,
  topBudgetOf,
  topSizeOf,
  validateBids,
  verifyCommit,
  verifyDeposit,
  verifyReveal,
  verifyWithdraw,
} from '../auction/index.ts';
import { type AuctionOutcome, bundleEvmGas, computeAuctionHash, decodeAuctionTx } from '../codec/index.ts';
import { bytesEqual, latin1Key, toHex } from '../crypto/index.ts';
import { errorMessage, OrdoError } from '../errors.ts';
import { type BundleRollup, checkBundle, rollupTxHasher } from '../mempool/index.ts';
import type { Block, Bundle, RollupKind } from '../types.ts';
import type { PayloadCheck } from './builder.ts';
import type { AuctionSource, SelectedBundle } from './types.ts';

export interface AuctionSourceOptions {
  chainId: string;
  book: AuctionBook;
  /** The genesis registry (kind decides what the executor simulates; maxTxBytes bounds bid bundles). */
  rollups: readonly { namespace: number; kind?: RollupKind; maxTxBytes: number; evmGasLimit?: number }[];
  /**
   * Simulates `bundle` on the executed state right after height `stateHeight` with block time `timeMs`;
   * waits (bounded) until the executor has executed stateHeight. Rejects when it cannot.
   */
  simulate(
    stateHeight: number,
    bundle: Bundle,
    timeMs: number,
  ): Promise<{ applies: boolean; reason?: string; legs?: SimLeg[] }>;
  /** header.timeMs of a committed height (the slot's parent); undefined when unknown (height 0). */
  blockTimeMs(height: number): Promise<number | undefined>;
  /** Executed rollups' payload check (the builder's). */
  checkPayload?: PayloadCheck;
  /** Bound for waiting on the book (default 250 ms, like the builder's resultsWaitMs). */
  waitMs?: number;
  /** The auction lane's per-block cap (genesis `auction.lane.maxTxsPerBlock`); validators enforce it. */
  maxTxsPerBlock?: number;
  /** Called when a committed block's auction_hash differs from this node's resolution. */
  onMismatch?: (height: number, mine: Uint8Array, committed: Uint8Array) => void;
  registry?: Registry;
}

/** One simulated leg's transactions (src/exec SimResult's shape, repeated so the builder stays below exec). */
interface SimLeg {
  namespace: number;
  executed: boolean;
  txs: { hash: Uint8Array; status: 'success' | 'revert' | 'invalid' }[];
}

export interface AuctionSourceService extends AuctionSource {
  /** The resolution of the slot of a committed block (cached from build/verify). */
  resolved(block: Block): Promise<ResolvedSlot>;
}

export type AuctionSourceErrorCode = 'AUCTION_NOT_READY' | 'AUCTION_SIM_FAILED';

export class AuctionSourceError extends OrdoError<AuctionSourceErrorCode> {
  constructor(code: AuctionSourceErrorCode, message: string, data: Record<string, unknown> = {}) {
    super(code, message, data);
    this.name = 'AuctionSourceError';
  }
}

interface Computed {
  outcome: AuctionOutcome;
  winners: SelectedBundle[];
  resolved: ResolvedSlot;
}

/** Heights whose resolution stays cached (proposals of a few rounds, the commit). */
const CACHE_HEIGHTS = 8;
/** Resolution rounds at most (each marks at least one more bundle as failing). */
const MAX_ROUNDS = 64;

export function createAuctionSource(opts: AuctionSourceOptions): AuctionSourceService {
  const { book, chainId } = opts;
  const waitMs = opts.waitMs ?? 250;
  const registry: readonly BundleRollup[] = opts.rollups.map((r) => ({
    namespace: r.namespace,
    kind: r.kind ?? 'opaque',
    maxTxBytes: r.maxTxBytes,
    ...(r.evmGasLimit !== undefined ? { evmGasLimit: r.evmGasLimit } : {}),
  }));
  const byNs = new Map(registry.map((r) => [r.namespace, r]));
  const hasher = rollupTxHasher(registry);
  const metrics = makeMetrics(opts.registry);
  /** What simulating a bundle costs the slot's budget: the gas its EVM legs' transactions declare. */
  const simGasOf = (bundle: Bundle): number =>
    bundleEvmGas(bundle.legs, (ns) => byNs.get(ns)?.kind === 'evm');
  const cache = new Map<number, Promise<Computed>>();

  function reserveOf(ns: number): bigint | undefined {
    if (!byNs.has(ns)) return undefined;
    return book.info().reserves.get(ns) ?? 0n;
  }

  async function compute(height: number): Promise<Computed> {
    const t0 = performance.now();
    try {
      await book.whenApplied(height - 1, waitMs);
    } catch (err) {
      throw new AuctionSourceError(
        'AUCTION_NOT_READY',
        `the auction state of height ${height - 1} is not applied yet: ${errorMessage(err)}`,
        { height },
      );
    }
    const inputs = book.inputs(height);
    const timeMs = (await opts.blockTimeMs(height - 1)) ?? 0;

    // Static bundle checks (no executor): what makes a bundle unplaceable at the top of slot h.
    const selected = new Map<string, SelectedBundle>();
    const verdicts = new Map<string, boolean>();
    const needsSim = new Set<string>();
    for (const bid of inputs.candidates) {
      const k = latin1Key(bid.commitment);
      const sel = staticCheck(bid, height);
      if (sel === undefined) {
        verdicts.set(k, false);
        continue;
      }
      selected.set(k, sel);
      if (bid.bundle.legs.some((l) => byNs.get(l.namespace)?.kind !== 'opaque')) needsSim.add(k);
      else verdicts.set(k, true);
    }

    const ctx = {
      params: book.info().params,
      reserve: reserveOf,
      available: (bidder: Uint8Array) => inputs.available(bidder),
    };
    // What each bundle takes of the block's room: the winners together stay within the top budget, so
    // every proposer has room for all of them (ADR 0295).
    const sized = inputs.candidates.map((b) => ({ ...b, size: topSizeOf(b.bundle) }));
    const budget = topBudgetOf(ctx.params);
    const skipped = new Set<string>();
    const simBudget = new SimBudget(ctx.params);
    let round = 0;
    let simulations = 0;
    for (;;) {
      const candidates = sized.map((b) => {
        const k = latin1Key(b.commitment);
        if (skipped.has(k)) return { ...b, simSkipped: true };
        const v = verdicts.get(k);
        return v === undefined ? b : { ...b, bundleApplies: v };
      });
      const { valid, invalid } = validateBids(height, candidates, ctx);
      const resolution = resolveSlot(height, valid, (ns) => reserveOf(ns) ?? 0n, budget);
      const named = namedBids(resolution);
      const pending = named.filter((b) => needsSim.has(latin1Key(b.commitment)));
      if (pending.length === 0 || round >= MAX_ROUNDS) {
        const rollups = outcomeOf(resolution);
        const outcome: AuctionOutcome = { kind: 'auction', rollups };
        const auctionHash = computeAuctionHash(height, outcome);
        const winners = resolution.winners.map((w) => selected.get(latin1Key(w.bid.commitment))!);
        const resolved: ResolvedSlot = {
          slot: height,
          invalid: invalid as InvalidBid<RevealedBid>[],
          resolution,
          auctionHash,
          simulations,
        };
        metrics.resolve.observe((performance.now() - t0) / 1000);
        return { outcome, winners, resolved };
      }
      round++;
      // In rank order, within the slot's simulation budget and its bidder's share of it: a bid whose EVM
      // gas no longer fits either is not simulated and takes no part (SIM_BUDGET_EXHAUSTED), the same on
      // every node (ADRs 0296, 0321). The share keeps one bidder ranked above the others from spending
      // the whole budget on bundles that fail.
      const rank = new Map(resolution.ranked.map((b, i) => [latin1Key(b.commitment), i]));
      pending.sort((a, b) => rank.get(latin1Key(a.commitment))! - rank.get(latin1Key(b.commitment))!);
      for (const bid of pending) {
        const k = latin1Key(bid.commitment);
        needsSim.delete(k);
        const refused = simBudget.spend(bid.bidder, simGasOf(bid.bundle));
        if (refused !== undefined) {
          skipped.add(k);
          metrics.simulations.inc({ verdict: refused === 'slot' ? 'over-budget' : 'over-share' });
          continue;
        }
        const ok = await applies(height - 1, bid.bundle, timeMs);
        simulations++;
        verdicts.set(k, ok);
        metrics.simulations.inc({ verdict: ok ? 'applies' : 'fails' });
      }
    }
  }

  /** The bids the outcome names: winners, the bids that set their prices, the top two per sold rollup. */
  function namedBids(res: Resolution<RevealedBid>): RevealedBid[] {
    const out = new Map<string, RevealedBid>();
    const add = (b: RevealedBid | undefined) => {
      if (b !== undefined) out.set(latin1Key(b.commitment), b);
    };
    const sold = new Set<number>();
    for (const w of res.winners) {
      add(w.bid);
      add(w.displaced);
      for (const ns of w.bid.namespaces) sold.add(ns);
    }
    const top = new Map<number, number>();
    for (const b of res.ranked) {
      for (const ns of b.namespaces) {
        if (!sold.has(ns)) continue;
        const n = top.get(ns) ?? 0;
        if (n < 2) {
          top.set(ns, n + 1);
          add(b);
        }
      }
    }
    return [...out.values()];
  }

  async function applies(stateHeight: number, bundle: Bundle, timeMs: number): Promise<boolean> {
    let r: Awaited<ReturnType<AuctionSourceOptions['simulate']>>;
    try {
      r = await opts.simulate(stateHeight, bundle, timeMs);
    } catch (err) {
      throw new AuctionSourceError(
        'AUCTION_SIM_FAILED',
        `cannot simulate a bid's bundle on the state after height ${stateHeight}: ${errorMessage(err)}`,
        { stateHeight },
      );
    }
    if (!r.applies) return false;
    // An inclusion bundle "applies" in the executor's sense whatever its txs do; a top-of-block bid must
    // not waste the top: every transaction not listed as allowed to revert must succeed.
    if (r.legs === undefined) return true;
    for (const leg of r.legs) {
      if (!leg.executed) continue;
      const allowed = bundle.legs.find((l) => l.namespace === leg.namespace)?.revertingTxHashes ?? [];
      for (const tx of leg.txs)
        if (tx.status !== 'success' && !allowed.some((h) => bytesEqual(h, tx.hash))) return false;
    }
    return true;
  }

  /** The bundle as the builder would place it, or undefined when it cannot go at the top of slot h. */
  function staticCheck(bid: RevealedBid, height: number): SelectedBundle | undefined {
    const b = bid.bundle;
    if (b.minHeight !== 0 && height < b.minHeight) return undefined;
    if (b.maxHeight !== 0 && height > b.maxHeight) return undefined;
    const r = checkBundle(chainId, b, byNs, hasher, opts.checkPayload);
    if (!r.ok || !bytesEqual(r.checked.hash, bid.bundleHash)) return undefined;
    return {
      bundleHash: r.checked.hash,
      txs: r.checked.txs,
      atomicity: r.checked.atomicity,
      reverting: r.checked.reverting,
    };
  }

  function computed(height: number): Promise<Computed> {
    let p = cache.get(height);
    if (p === undefined) {
      p = compute(height);
      cache.set(height, p);
      // A failed computation (not ready, simulation failed) is retried by the next caller.
      p.catch(() => {
        if (cache.get(height) === p) cache.delete(height);
      });
      for (const h of cache.keys()) if (h < height - CACHE_HEIGHTS) cache.delete(h);
    }
    return p;
  }

  function checkTx(payload: Uint8Array, height: number): string | undefined {
    try {
      const tx = decodeAuctionTx(payload);
      const info = book.info();
      switch (tx.kind) {
        case 'commit':
          verifyCommit(chainId, tx.commit, height, info.params);
          return undefined;
        case 'reveal': {
          const r = tx.reveal;
          const body = revealBodyOf(chainId, r);
          const commitment = revealCommitment(chainId, body);
          verifyReveal(
            chainId,
            { ...body, signature: r.signature },
            { ...body, commitment },
            height,
            info.params,
          );
          return undefined;
        }
        case 'deposit':
          verifyDeposit(chainId, tx.deposit, info.depositAuthority);
          return undefined;
        case 'withdraw':
          verifyWithdraw(chainId, tx.withdraw);
          return undefined;
      }
    } catch (err) {
      return errorMessage(err);
    }
  }

  return {
    checkTx,
    ...(opts.maxTxsPerBlock !== undefined ? { maxTxsPerBlock: opts.maxTxsPerBlock } : {}),
    async outcome(height) {
      const c = await computed(height);
      return { outcome: c.outcome, winners: c.winners };
    },
    async resolved(block) {
      const h = block.header.height;
      const c = await computed(h);
      if (!bytesEqual(c.resolved.auctionHash, block.header.auctionHash)) {
        metrics.mismatch.inc();
        opts.onMismatch?.(h, c.resolved.auctionHash, block.header.auctionHash);
      }
      return c.resolved;
    },
  };
}

/** Why a bid took no part (for logs and the RPC): the validity reason, or BUNDLE_FAILS. */
export function describeInvalid(i: InvalidBid<RevealedBid>): { bidder: string; reason: BidInvalidReason } {
  return { bidder: toHex(i.bid.bidder), reason: i.reason };
}

function makeMetrics(registry?: Registry) {
  const registers = registry === undefined ? [] : [registry];
  return {
    resolve: new Histogram({
      name: 'ordo_auction_resolve_seconds',
      help: 'Time to resolve one slot of the auction (validity, executor verdicts, pricing, outcome hash)',
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5],
      registers,
    }),
    simulations: new Counter({
      name: 'ordo_auction_simulations_total',
      help: "Bid bundles the auction asked the embedded executor about, by verdict (applies, fails; over-budget: not simulated, the slot budget maxSimGas was spent; over-share: not simulated, its bidder's share bidderSimShareBps was spent)",
      labelNames: ['verdict'],
      registers,
    }),
    mismatch: new Counter({
      name: 'ordo_auction_outcome_mismatch_total',
      help: "Committed blocks whose auction_hash differs from this node's own resolution of the slot",
      registers,
    }),
  };
}
