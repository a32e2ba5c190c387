/**
 * The auction world of the consensus simulator (issue #23): seeded bids (commit, then reveal) from a few
 * bidders for every slot, single- and multi-rollup bundles, some of which fail in the (deterministic, fake)
 * executor; per node the REAL auction state (src/auction/state.ts, in memory: ledger, commits, reveals,
 * settlement) fed by that node's decided blocks; the REAL auction source and the REAL block builder for
 * honest nodes; Byzantine proposers that place a loser at the top, hide a winner, carry a reveal or
 * commit outside its window, publish a wrong auction hash, or overfill the auction lane; and the
 * invariants checked over every decided block: every honest node resolves every slot to the auction hash
 * its certified header carries, every node's state (ledger, nonces, open slots) is the same after each
 * height, money is conserved, each failing bid pays its penalty, the winners sit at the tops of their rollups' slices, no auction
 * transaction is outside its window and no block carries more than the lane's cap.
 */
import { createHash } from 'node:crypto';
import {
  type AuctionSetup,
  AuctionState,
  auctionParams,
  commitInWindow,
  failPenaltyOf,
  outcomeOf,
  type RevealedBid,
  resolveSlot,
  revealInWindow,
  signBid,
  topBudgetOf,
  topSizeOf,
  validateBids,
} from '../../src/auction/index.ts';
import {
  type AuctionSourceService,
  assemble,
  createAuctionSource,
  createBlockBuilder,
  type SelectedBundle,
} from '../../src/builder/index.ts';
import {
  AUCTION_NAMESPACE,
  type AuctionOutcome,
  bundleHash,
  computeAuctionHash,
  computeDataHash,
  computeResultsHash,
  decodeAuctionTx,
  encodeAuctionTx,
  NO_AUCTION,
  resultsHeightFor,
  txHash,
} from '../../src/codec/index.ts';
import type { BlockSource, BuiltBlock } from '../../src/consensus/index.ts';
import type { SimTxPool } from '../../src/consensus/sim/block-source.ts';
import { Rng } from '../../src/consensus/sim/rng.ts';
import { bytesEqual, latin1Key, publicKeyFromSeed } from '../../src/crypto/index.ts';
import { checkBundle, rollupTxHasher } from '../../src/mempool/index.ts';
import type { Block, Bundle, RollupKind, TxEnvelope } from '../../src/types.ts';
import { countingSource } from './world-config.ts';

export const CHAIN_ID = 'sim-auction';
/**
 * A small bond, so bidders with several open commits keep bidding (the default is 1,000); tops of at most
 * two transactions, so the top budget decides some slots (a two-leg winner leaves no room for a third
 * rollup's bid; ADR 0295).
 */
export const PARAMS = auctionParams({ forfeitFee: 10n, maxTopTxs: 2 });
/** The auction lane's per-block cap: small, so the honest builder meets it and a Byzantine one can exceed it. */
export const LANE_CAP = 8;
export const ROLLUPS: { namespace: number; name: string; maxTxBytes: number; kind: RollupKind }[] = [
  { namespace: 1, name: 'opaque', maxTxBytes: 64, kind: 'opaque' },
  { namespace: 2, name: 'transfer', maxTxBytes: 64, kind: 'transfer' },
  { namespace: 3, name: 'evm', maxTxBytes: 64, kind: 'evm' },
];
const RESERVES = new Map([
  [1, 10n],
  [2, 20n],
  [3, 30n],
]);
const FUNDS = 5_000n;
const SLOTS = 40;
/** Bidders are ed25519 seeds filled with 1..BIDDERS; each is funded with FUNDS at genesis. */
const BIDDERS = 6;
const bidderSeed = (i: number) => new Uint8Array(32).fill(i);

export const SETUP: AuctionSetup = {
  chainId: CHAIN_ID,
  params: PARAMS,
  depositAuthority: publicKeyFromSeed(new Uint8Array(32).fill(200)),
  forfeitSink: publicKeyFromSeed(new Uint8Array(32).fill(201)),
  reserves: RESERVES,
  treasuries: new Map([1, 2, 3].map((ns) => [ns, publicKeyFromSeed(new Uint8Array(32).fill(210 + ns))])),
  accounts: Array.from({ length: BIDDERS }, (_, i) => ({
    account: publicKeyFromSeed(bidderSeed(i + 1)),
    balance: FUNDS,
  })),
  lane: { maxPendingTxs: 4096, maxPendingBytes: 8 << 20, maxTxsPerBlock: LANE_CAP },
};

export type AuctionMutation =
  | 'loser-top'
  | 'hide-winner'
  | 'late-reveal'
  | 'early-commit'
  | 'no-auction-hash'
  | 'wrong-price'
  | 'lane-flood'
  | 'honest';
const MUTATIONS: AuctionMutation[] = [
  'loser-top',
  'hide-winner',
  'late-reveal',
  'early-commit',
  'no-auction-hash',
  'wrong-price',
  'lane-flood',
  'honest',
];

interface WorldBid {
  slot: number;
  commitTx: TxEnvelope;
  revealTx: TxEnvelope;
  commitment: Uint8Array;
}

const key = latin1Key;
const hasher = rollupTxHasher(ROLLUPS);
const registry = new Map(ROLLUPS.map((r) => [r.namespace, r]));

/** The fake executor: a bundle with an executed leg fails when its first transaction starts with 0xff. */
export function fakeApplies(bundle: Bundle): boolean {
  return !bundle.legs.some((l) => registry.get(l.namespace)?.kind !== 'opaque' && l.txs[0]![0] === 0xff);
}

export class AuctionWorld {
  readonly rng: Rng;
  readonly bids: WorldBid[] = [];
  readonly #books = new Map<number, AuctionState>();
  /** sha256 of the state record after each height, as the first node to apply it left it. */
  readonly #digests = new Map<number, string>();
  readonly #sources = new Map<number, AuctionSourceService>();
  /** The apply chain per node (decided blocks are applied in order). */
  readonly #chains = new Map<number, Promise<void>>();
  readonly #times = new Map<number, Map<number, number>>();
  readonly verdicts = new Map<string, number>();
  readonly mutations = new Map<AuctionMutation, number>();
  readonly violations: string[] = [];
  /** Heights decided by some honest node with at least one sold rollup. */
  readonly soldHeights = new Set<number>();
  blocksChecked = 0;
  /** Auction txs the real state ignored when applying them (summed over nodes). */
  ignoredTxs = 0;
  settledHeights = 0;
  /** Heights whose settlement charged a winner in some node's real ledger. */
  readonly paidHeights = new Set<number>();
  /** Heights whose settlement charged a failing bid its penalty (ADR 0320) in some node's real ledger. */
  readonly penalizedHeights = new Set<number>();
  /** Heights whose winners the top budget (maxTopTxs) changed. */
  readonly budgetBound = new Set<number>();

  constructor(seed: number) {
    this.rng = new Rng(seed ^ 0xa0c710);
    let n = 0;
    for (let slot = 3; slot <= SLOTS; slot++) {
      for (let i = 0, c = this.rng.int(0, 4); i < c; i++) {
        const nss = this.rng.pick([[1], [2], [3], [2, 3], [1, 2], [1, 3]]);
        const fail = this.rng.chance(0.2);
        const bundle: Bundle = {
          legs: nss.map((ns, j) => {
            n++;
            const first = fail && j === 0 ? 0xff : 0xcc;
            return {
              namespace: ns,
              txs: [Uint8Array.of(first, n & 255, (n >> 8) & 255, ns)],
              revertingTxHashes: [],
            };
          }),
          atomicity: nss.includes(1) ? 'inclusion' : 'execution',
          minHeight: 0,
          maxHeight: 0,
          replacementUuid: new Uint8Array(0),
          signer: new Uint8Array(0),
          signature: new Uint8Array(0),
        };
        const seed32 = bidderSeed(this.rng.int(1, BIDDERS));
        const amount = BigInt(this.rng.int(5, 1500));
        const { commit, reveal } = signBid(CHAIN_ID, seed32, {
          slot,
          amount,
          bundleHash: bundleHash(CHAIN_ID, bundle),
          salt: this.rng.bytes(32),
        });
        this.bids.push({
          slot,
          commitment: commit.commitment,
          commitTx: { namespace: AUCTION_NAMESPACE, payload: encodeAuctionTx({ kind: 'commit', commit }) },
          revealTx: {
            namespace: AUCTION_NAMESPACE,
            payload: encodeAuctionTx({
              kind: 'reveal',
              reveal: {
                slot,
                bidder: reveal.bidder,
                amount: Number(amount),
                bundle,
                salt: reveal.salt,
                signature: reveal.signature,
              },
            }),
          },
        });
      }
    }
  }

  #book(node: number): AuctionState {
    let b = this.#books.get(node);
    if (b === undefined) {
      b = new AuctionState({ setup: SETUP });
      this.#books.set(node, b);
    }
    return b;
  }

  #timeOf(node: number): Map<number, number> {
    let m = this.#times.get(node);
    if (m === undefined) {
      m = new Map();
      this.#times.set(node, m);
    }
    return m;
  }

  #source(node: number): AuctionSourceService {
    let s = this.#sources.get(node);
    if (s === undefined) {
      const times = this.#timeOf(node);
      s = createAuctionSource({
        chainId: CHAIN_ID,
        book: this.#book(node),
        rollups: ROLLUPS,
        simulate: (_h, bundle) => Promise.resolve({ applies: fakeApplies(bundle) }),
        maxTxsPerBlock: LANE_CAP,
        blockTimeMs: (h) => Promise.resolve(times.get(h)),
        onMismatch: (h) =>
          this.violations.push(`node ${node}: its resolution of slot ${h} differs from the certified header`),
      });
      this.#sources.set(node, s);
    }
    return s;
  }

  /** Auction txs a node's mempool offers at `height`: commits still in window, reveals whose commit it saw. */
  #offered(node: number, height: number): TxEnvelope[] {
    const seen = (tx: TxEnvelope) => this.#included(node).has(key(txHash(tx)));
    const out: TxEnvelope[] = [];
    for (const b of this.bids) {
      if (
        b.slot >= height + PARAMS.commitOffset &&
        b.slot <= height + PARAMS.commitOffset + 3 &&
        !seen(b.commitTx)
      )
        out.push(b.commitTx);
      if (
        b.slot === height + PARAMS.revealOffset &&
        this.#included(node).has(key(txHash(b.commitTx))) &&
        !seen(b.revealTx)
      )
        out.push(b.revealTx);
    }
    return out;
  }

  readonly #includedTxs = new Map<number, Set<string>>();
  #included(node: number): Set<string> {
    let s = this.#includedTxs.get(node);
    if (s === undefined) {
      s = new Set();
      this.#includedTxs.set(node, s);
    }
    return s;
  }

  /** The honest node's block source: the real builder with the real auction source over its model book. */
  blockSource(node: number, rng: Rng, pool: SimTxPool): BlockSource {
    let n = 0;
    const builder = createBlockBuilder({
      rollups: ROLLUPS,
      auction: this.#source(node),
      results: { results: () => Promise.resolve([]) },
      mempool: {
        reap: () => {
          const out: TxEnvelope[] = [];
          for (let k = 0, c = rng.int(0, 2); k < c; k++) {
            n++;
            out.push({
              namespace: rng.int(1, 3),
              payload: new Uint8Array([0xaa, node, n & 255, rng.int(0, 255)]),
            });
          }
          const height = this.#book(node).appliedHeight() + 1;
          // Reveals first (the node's capReap): the builder keeps the first LANE_CAP auction txs.
          const offered = this.#offered(node, height);
          const lane = [
            ...offered.filter((t) => decodeAuctionTx(t.payload).kind === 'reveal'),
            ...offered.filter((t) => decodeAuctionTx(t.payload).kind !== 'reveal'),
          ];
          for (const tx of [...out, ...lane]) pool.add(node, tx);
          return [...out.sort((a, b) => a.namespace - b.namespace), ...lane];
        },
        stats: () => ({ txs: 1 }),
        get: (hash) => pool.find(node, hash),
      },
    });
    return countingSource(builder, node, pool, this.verdicts);
  }

  /** Synchronous honest resolution of `height` from the most advanced honest book (the adversary's view). */
  #honest(
    height: number,
  ): { outcome: AuctionOutcome; winners: SelectedBundle[]; losers: SelectedBundle[] } | undefined {
    const book = [...this.#books.values()].find(
      (b) => b.appliedHeight() >= height - 1 && b.appliedHeight() < height + 4,
    );
    if (book === undefined) return undefined;
    const { candidates, available } = book.inputs(height);
    const marked = candidates.map((c) => {
      const sel = selectedOf(c);
      return { ...c, bundleApplies: sel !== undefined && fakeApplies(c.bundle) };
    });
    const { valid } = validateBids(height, marked, {
      params: PARAMS,
      reserve: (ns) => RESERVES.get(ns),
      available,
    });
    const sized = valid.map((b) => ({ ...b, size: topSizeOf(b.bundle) }));
    const res = resolveSlot(height, sized, (ns) => RESERVES.get(ns) ?? 0n, topBudgetOf(PARAMS));
    const winners = res.winners.map((w) => selectedOf(w.bid)!);
    const wk = new Set(res.winners.map((w) => key(w.bid.commitment)));
    const losers = candidates
      .filter((c) => !wk.has(key(c.commitment)))
      .map(selectedOf)
      .filter((s) => s !== undefined);
    return { outcome: { kind: 'auction', rollups: outcomeOf(res) }, winners, losers };
  }

  /** A Byzantine proposer's block: the honest auction result, then one seeded mutation. */
  byzantineBuild(node: number, height: number, _round: number, rng: Rng): BuiltBlock {
    const honest = this.#honest(height);
    const pub: TxEnvelope[] = [
      { namespace: 2, payload: new Uint8Array([0xdd, node, height & 255, rng.int(0, 255)]) },
    ];
    let outcome: AuctionOutcome = honest?.outcome ?? NO_AUCTION;
    let tops = honest?.winners ?? [];
    const extra: TxEnvelope[] = [];
    const m = rng.pick(MUTATIONS);
    let did = false;
    if (m === 'loser-top' && honest !== undefined && honest.losers.length > 0) {
      tops = [rng.pick(honest.losers)];
      did = true;
    } else if (m === 'hide-winner' && tops.length > 0) {
      tops = [];
      did = true;
    } else if (m === 'late-reveal') {
      const b = this.bids.find((x) => x.slot === height);
      if (b !== undefined) {
        extra.push(b.revealTx);
        did = true;
      }
    } else if (m === 'early-commit') {
      const b = this.bids.find((x) => x.slot === height + 1);
      if (b !== undefined) {
        extra.push(b.commitTx);
        did = true;
      }
    } else if (m === 'no-auction-hash') {
      outcome = NO_AUCTION;
      did = true;
    } else if (m === 'lane-flood') {
      // More in-window commits than the lane allows (each one valid on its own).
      const flood = this.bids
        .filter((x) => commitInWindow(x.slot, height, PARAMS))
        .slice(0, LANE_CAP + 1)
        .map((x) => x.commitTx);
      if (flood.length > LANE_CAP) {
        extra.push(...flood);
        did = true;
      }
    } else if (m === 'wrong-price' && outcome.kind === 'auction' && outcome.rollups.length > 0) {
      outcome = { kind: 'auction', rollups: outcome.rollups.map((r) => ({ ...r, price: r.price + 1n })) };
      did = true;
    }
    if (did) this.mutations.set(m, (this.mutations.get(m) ?? 0) + 1);
    const { txs, spans } = assemble(
      tops,
      [...pub, ...extra].sort((a, b) => a.namespace - b.namespace),
    );
    return {
      txs,
      bundles: spans,
      dataHash: computeDataHash(txs, spans),
      resultsHash: computeResultsHash({ height: resultsHeightFor(height), results: [] }),
      auctionHash: computeAuctionHash(height, outcome),
    };
  }

  /** Called for every block a node decides: apply it to the node's book (in order) and check the invariants. */
  decided(node: number, block: Block): void {
    const h = block.header.height;
    this.#timeOf(node).set(h, block.header.timeMs);
    const inc = this.#included(node);
    for (const tx of block.txs) inc.add(key(txHash(tx)));
    this.blocksChecked++;
    const laneTxs = block.txs.filter((t) => t.namespace === AUCTION_NAMESPACE).length;
    if (laneTxs > LANE_CAP)
      this.violations.push(`node ${node} h${h}: ${laneTxs} auction txs, above the lane's cap ${LANE_CAP}`);
    for (const tx of block.txs) {
      if (tx.namespace !== AUCTION_NAMESPACE) continue;
      const a = decodeAuctionTx(tx.payload);
      const slot = a.kind === 'commit' ? a.commit.slot : a.kind === 'reveal' ? a.reveal.slot : undefined;
      if (a.kind === 'commit' && !commitInWindow(slot!, h, PARAMS))
        this.violations.push(`node ${node} h${h}: a commit for slot ${slot} outside its window`);
      if (a.kind === 'reveal' && !revealInWindow(slot!, h, PARAMS))
        this.violations.push(`node ${node} h${h}: a reveal for slot ${slot} outside its window`);
    }
    const source = this.#source(node);
    const book = this.#book(node);
    const prev = this.#chains.get(node) ?? Promise.resolve();
    const next = prev.then(async () => {
      const resolved = await source.resolved(block);
      if (!bytesEqual(resolved.auctionHash, block.header.auctionHash))
        this.violations.push(`node ${node} h${h}: auction hash differs from the certified header`);
      const topTxs = resolved.resolution.winners.reduce((n, w) => n + (w.bid.size?.txs ?? 0), 0);
      if (topTxs > PARAMS.maxTopTxs)
        this.violations.push(`node ${node} h${h}: winners take ${topTxs} txs, above maxTopTxs`);
      // Where the budget bound, the winners differ from those of the same bids without it.
      const unsized = resolved.resolution.ranked.map(({ size: _size, ...b }) => b);
      const free = resolveSlot(h, unsized, (ns) => RESERVES.get(ns) ?? 0n).winners;
      const winnerKeys = (ws: { bid: { commitment: Uint8Array } }[]) =>
        ws.map((w) => key(w.bid.commitment)).join();
      if (winnerKeys(free) !== winnerKeys(resolved.resolution.winners)) this.budgetBound.add(h);
      for (const w of resolved.resolution.winners) {
        this.soldHeights.add(h);
        const sel = selectedOf(w.bid);
        if (sel === undefined) {
          this.violations.push(`node ${node} h${h}: a winner's bundle does not check`);
          continue;
        }
        for (const ns of new Set(sel.txs.map((t) => t.namespace))) {
          const span = block.bundles.find(
            (s) => s.namespace === ns && bytesEqual(s.bundleHash, sel.bundleHash),
          );
          if (span === undefined || span.start !== 0)
            this.violations.push(`node ${node} h${h}: the winner is not at the top of namespace ${ns}`);
        }
      }
      await book.apply(block, resolved);
      // Every node's real state is the same after each height, and money is conserved.
      const digest = createHash('sha256').update(book.serialize()).digest('hex');
      const first = this.#digests.get(h);
      if (first === undefined) this.#digests.set(h, digest);
      else if (first !== digest)
        this.violations.push(`node ${node} h${h}: its auction state differs from another node's`);
      const t = book.totals();
      if (t.held + t.paidOut !== t.supplied)
        this.violations.push(`node ${node} h${h}: the ledger does not conserve money`);
      this.ignoredTxs += book.ignored().filter((i) => i.height === h).length;
      this.settledHeights = Math.max(this.settledHeights, h);
      if ((book.slot(h)?.winners.length ?? 0) > 0) this.paidHeights.add(h);
      // Every BUNDLE_FAILS bid paid ceil(amount × failPenaltyBps / 10,000), and no other bid paid one.
      const failing = new Map(
        resolved.invalid
          .filter((i) => i.reason === 'BUNDLE_FAILS')
          .map((i) => [key(i.bid.commitment), i.bid]),
      );
      for (const b of book.slot(h)?.bids ?? []) {
        const f = failing.get(key(b.commitment));
        const want = f === undefined ? undefined : failPenaltyOf(f.amount, PARAMS.failPenaltyBps);
        if ((b.penalty ?? 0n) !== (want ?? 0n))
          this.violations.push(`node ${node} h${h}: a bid paid penalty ${b.penalty}, not ${want}`);
        if (b.penalty !== undefined) this.penalizedHeights.add(h);
      }
    });
    this.#chains.set(
      node,
      next.catch((err) => {
        this.violations.push(`node ${node} h${h}: ${String(err)}`);
      }),
    );
  }

  /** Waits until every node's decided blocks are applied. */
  async settle(): Promise<void> {
    await Promise.all(this.#chains.values());
  }
}

function selectedOf(bid: RevealedBid): SelectedBundle | undefined {
  const r = checkBundle(CHAIN_ID, bid.bundle, registry, hasher, undefined);
  if (!r.ok) return undefined;
  return {
    bundleHash: r.checked.hash,
    txs: r.checked.txs,
    atomicity: r.checked.atomicity,
    reverting: r.checked.reverting,
  };
}
