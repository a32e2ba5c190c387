/**
 * The block builder: PrepareProposal and ProcessProposal for the consensus engine (it implements the
 * engine's `BlockSource`).
 *
 * Proposer (`build`): assembles a block in a fixed order — per rollup slice, first the auction's
 * winning bundles (none until the auction lands), then bundles from the bundle source (none until the
 * bundle pool lands), then the mempool's fair selection — and returns the body with every header
 * commitment: data hash (transactions and bundle spans), results hash (results of height
 * h - RESULTS_LAG) and auction hash. A bundle goes in whole or not at all.
 *
 * Validator (`verify`): re-derives and checks all of it before the core prevotes — namespaces, sizes,
 * payloads, span layout, bundle membership, data hash, auction hash and, last because it may wait
 * (bounded) for the executor, the results hash — and answers a typed verdict. The byte layouts are in
 * src/codec/commitments.ts and docs/wire.md; the decisions in docs/decisions/0073-0075.
 */

import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { Counter, Histogram, type Registry } from 'prom-client';
import {
  AUCTION_NAMESPACE,
  type AuctionOutcome,
  blockDataHash,
  computeAuctionHash,
  computeDataHash,
  computeResultsHash,
  evmBlockGasLimit,
  evmGasCharge,
  resultsHeightFor,
  TX_OVERHEAD_BYTES,
  txHash,
} from '../codec/index.ts';
import type { BlockSource, BuiltBlock, ProposalVerdict, SourceBudget } from '../consensus/index.ts';
import { bytesEqual, latin1Key } from '../crypto/index.ts';
import { errorMessage } from '../errors.ts';
import type { Block, BundleSpan, Namespace, RollupKind, TxEnvelope } from '../types.ts';
import { checkBundleSpans, checkSpanLayout, sliceBounds } from './layout.ts';
import { emptyBundleSource, noAuction } from './sources.ts';
import {
  type AuctionSource,
  BuilderError,
  type BundleSource,
  type MempoolView,
  type ProposalRejectCode,
  type ResultsSource,
  type SelectedBundle,
} from './types.ts';

/** Returns why a payload is invalid for its rollup, or undefined (e.g. an executed rollup's decoder). */
export type PayloadCheck = (namespace: number, payload: Uint8Array) => string | undefined;

export interface BlockBuilderOptions {
  /**
   * The genesis registry's rollups (namespace, size limit and kind). Without a kind a namespace's spans
   * are not checked for execution atomicity on an opaque rollup (ATOMICITY_UNSUPPORTED).
   */
  rollups: readonly {
    namespace: number;
    name: string;
    maxTxBytes: number;
    kind?: RollupKind;
    /** evm: the block gas limit (ADR 0285; default 30,000,000). */
    evmGasLimit?: number;
  }[];
  mempool: MempoolView;
  results: ResultsSource;
  bundles?: BundleSource;
  auction?: AuctionSource;
  checkPayload?: PayloadCheck;
  /**
   * How long build and verify wait at least for the executor to finish the results height. Default
   * 250 ms. The engine passes a longer budget derived from its propose timeout (ADR 0291): half of the
   * round's propose timeout for a build, one propose timeout for a verify, one more of each when it may
   * defer propose timeouts (`whenReady`, ADR 0292); the longer one applies.
   */
  resultsWaitMs?: number;
  /**
   * The node's last decided height: a refusal of a proposal whose height was decided before the check
   * ended is counted `stale` in `ordo_builder_verify_total` (the engine ignores it). Default: none is.
   */
  decidedHeight?: () => number;
  /** `verify`'s per-transaction checks yield after this long, ms (default CHECK_SLICE_MS; Infinity: never). */
  checkSliceMs?: number;
  /** Where `ordo_builder_*` metrics go (none when absent). */
  registry?: Registry;
}

export type BuilderVerdict = ProposalVerdict<ProposalRejectCode>;

export interface BlockBuilder extends BlockSource {
  verify(block: Block, budget?: SourceBudget): Promise<BuilderVerdict>;
}

export const DEFAULT_RESULTS_WAIT_MS = 250;
/** Main-thread time `verify`'s per-transaction checks run before the event loop gets a turn (ADR 0312). */
export const CHECK_SLICE_MS = 8;
/** Upper bound on any results wait, whatever budget the engine offers (a misconfigured timeout). */
const MAX_RESULTS_WAIT_MS = 60_000;

const reject = (code: ProposalRejectCode, message: string): BuilderVerdict => ({ ok: false, code, message });
/** This node could not check the block yet (its results or its auction book lag): asked again later. */
const notYet = (code: 'RESULTS_NOT_READY' | 'AUCTION_NOT_READY', message: string): BuilderVerdict => ({
  ok: false,
  code,
  message,
  notYet: true,
});

export function createBlockBuilder(opts: BlockBuilderOptions): BlockBuilder {
  const rollups = new Map(opts.rollups.map((r) => [r.namespace, r]));
  // The EVM rollups' block gas limits (ADR 0285): the builder packs by them, validators refuse more.
  const gasLimits = new Map<number, number>();
  for (const r of opts.rollups) {
    const limit =
      r.kind === undefined ? undefined : evmBlockGasLimit({ kind: r.kind, evmGasLimit: r.evmGasLimit });
    if (limit !== undefined) gasLimits.set(r.namespace, limit);
  }
  const gasCharge = (tx: TxEnvelope): number => (gasLimits.has(tx.namespace) ? evmGasCharge(tx.payload) : 0);
  const bundles = opts.bundles ?? emptyBundleSource;
  const auction = opts.auction ?? noAuction;
  const waitMs = opts.resultsWaitMs ?? DEFAULT_RESULTS_WAIT_MS;
  const checkSliceMs = opts.checkSliceMs ?? CHECK_SLICE_MS;
  const metrics = makeMetrics(opts.registry);

  /** The engine's budget when it gives one (ADR 0291), never less than `resultsWaitMs`. */
  const waitFor = (budget: SourceBudget | undefined): number =>
    budget === undefined || !(budget.waitMs > waitMs) ? waitMs : Math.min(budget.waitMs, MAX_RESULTS_WAIT_MS);

  async function resultsHashFor(height: number, wait: number): Promise<Uint8Array> {
    const rh = resultsHeightFor(height);
    const t0 = performance.now();
    try {
      const results = await opts.results.results(rh, wait);
      return computeResultsHash({ height: rh, results });
    } finally {
      metrics.resultsWait.observe((performance.now() - t0) / 1000);
    }
  }

  async function build(
    height: number,
    maxBytes: number,
    maxTxs: number,
    budget?: SourceBudget,
  ): Promise<BuiltBlock> {
    // Commitments first: if the results are not ready there is no block to build (the round times out).
    const resultsHash = await resultsHashFor(height, waitFor(budget));
    const { outcome, winners } = await auction.outcome(height);
    const auctionHash = computeAuctionHash(height, outcome);
    let bytesLeft = maxBytes;
    let txsLeft = maxTxs;
    const gasLeft = new Map(gasLimits);
    const chosen: SelectedBundle[] = [];
    const seen = new Set<string>();
    // Transactions of the bundles chosen so far: no two chosen bundles share one (BUNDLE_TX_DUPLICATE).
    const taken = new Set<string>();
    const take = (list: SelectedBundle[]): void => {
      for (const b of list) {
        const k = latin1Key(b.bundleHash);
        let size = 0;
        for (const tx of b.txs) size += tx.payload.byteLength + TX_OVERHEAD_BYTES;
        if (seen.has(k) || b.txs.length === 0 || b.txs.length > txsLeft || size > bytesLeft) continue;
        if (b.atomicity === 1 && b.txs.some((tx) => rollups.get(tx.namespace)?.kind === 'opaque')) continue;
        const keys = b.txs.map((tx) => latin1Key(txHash(tx)));
        if (new Set(keys).size !== keys.length || keys.some((t) => taken.has(t))) continue;
        const gas = gasLeft.size === 0 ? undefined : gasByNamespace(b.txs, gasCharge);
        if (gas !== undefined && [...gas].some(([ns, g]) => g > gasLeft.get(ns)!)) continue;
        for (const [ns, g] of gas ?? []) gasLeft.set(ns, gasLeft.get(ns)! - g);
        for (const t of keys) taken.add(t);
        seen.add(k);
        chosen.push(b);
        bytesLeft -= size;
        txsLeft -= b.txs.length;
      }
    };
    take(winners);
    if (txsLeft > 0) take(await bundles.select(height, { maxBytes: bytesLeft, maxTxs: txsLeft }));
    let reaped =
      txsLeft > 0
        ? opts.mempool.reap({
            maxBytes: bytesLeft,
            maxTxs: txsLeft,
            ...(gasLeft.size > 0 ? { budgets: { left: gasLeft, costOf: gasCharge } } : {}),
          })
        : [];
    const checkTx = auction.checkTx;
    if (checkTx !== undefined) {
      // Auction transactions whose window has passed (or not opened) stay out; validators refuse them,
      // and a block with more than the lane's cap.
      let room = auction.maxTxsPerBlock ?? Number.POSITIVE_INFINITY;
      reaped = reaped.filter(
        (tx) =>
          tx.namespace !== AUCTION_NAMESPACE ||
          (room > 0 && checkTx(tx.payload, height) === undefined && room-- > 0),
      );
    }
    if (chosen.length === 0) {
      // The common case: the fair selection alone (already sorted by namespace).
      return { txs: reaped, bundles: [], dataHash: computeDataHash(reaped), resultsHash, auctionHash };
    }
    const { txs, spans } = assemble(chosen, reaped);
    return { txs, bundles: spans, dataHash: computeDataHash(txs, spans), resultsHash, auctionHash };
  }

  async function verify(block: Block, budget?: SourceBudget): Promise<BuilderVerdict> {
    const v = await check(block, waitFor(budget));
    // A check that ended after this node had decided the height (the others' precommits arrived while it
    // waited, e.g. for the auction's outcome) is moot: the engine drops it. Its refusal is only what the
    // node knows since, typically BUNDLE_ALREADY_INCLUDED for the very block decided (ADR 0250), and
    // is counted as `stale`, not as a refused proposal.
    const stale = !v.ok && (opts.decidedHeight?.() ?? 0) >= block.header.height;
    metrics.verdicts.inc({ verdict: v.ok ? 'ok' : stale ? 'stale' : v.code });
    return v;
  }

  async function check(block: Block, wait: number): Promise<BuilderVerdict> {
    const h = block.header;
    const cap = auction.maxTxsPerBlock;
    if (cap !== undefined) {
      let n = 0;
      for (const tx of block.txs) if (tx.namespace === AUCTION_NAMESPACE) n++;
      if (n > cap)
        return reject(
          'AUCTION_LANE_FULL',
          `block ${h.height} carries ${n} auction transactions; the auction lane allows ${cap} per block`,
        );
    }
    // ADR 0312: the per-transaction checks (an EVM payload is decoded and its sender recovered) take
    // hundreds of ms for a large block on a loaded host; the event loop gets a turn every slice. The
    // verdict does not depend on where it paused (each check reads only the payload and the height).
    let since = performance.now();
    for (const [i, tx] of block.txs.entries()) {
      if (performance.now() - since >= checkSliceMs) {
        await nextMacrotask();
        since = performance.now();
      }
      if (tx.namespace === AUCTION_NAMESPACE && auction.checkTx !== undefined) {
        const problem = auction.checkTx(tx.payload, h.height);
        if (problem !== undefined)
          return reject(
            'AUCTION_TX_INVALID',
            `auction transaction ${i} may not go in block ${h.height}: ${problem}`,
          );
        continue;
      }
      const r = rollups.get(tx.namespace);
      if (r === undefined)
        return reject('UNKNOWN_NAMESPACE', `transaction ${i} names unknown namespace ${tx.namespace}`);
      if (tx.payload.byteLength > r.maxTxBytes) {
        return reject(
          'TX_TOO_LARGE',
          `transaction ${i} is ${tx.payload.byteLength} bytes; ${r.name} allows ${r.maxTxBytes}`,
        );
      }
      const problem = opts.checkPayload?.(tx.namespace, tx.payload);
      if (problem !== undefined)
        return reject('INVALID_TX', `transaction ${i} (namespace ${tx.namespace}) is invalid: ${problem}`);
    }
    if (gasLimits.size > 0) {
      for (const [ns, gas] of gasByNamespace(block.txs, gasCharge)) {
        const limit = gasLimits.get(ns)!;
        if (gas > limit)
          return reject(
            'BLOCK_GAS_LIMIT_EXCEEDED',
            `the transactions of namespace ${ns} declare ${gas} gas; its block gas limit is ${limit}`,
          );
      }
    }
    const layout = checkSpanLayout(block.txs, block.bundles);
    if (layout !== null) return reject(layout.code, layout.message);
    const together = checkBundleSpans(block.txs, block.bundles, (ns) => rollups.get(ns)?.kind, txHash);
    if (together !== null) return reject(together.code, together.message);
    let sold: { outcome: AuctionOutcome; winners: SelectedBundle[] };
    try {
      sold = await auction.outcome(h.height);
    } catch (err) {
      return notYet(
        'AUCTION_NOT_READY',
        `cannot resolve the auction of height ${h.height}: ${errorMessage(err)}`,
      );
    }
    const tops = checkTops(block, sold.winners);
    if (tops !== null) return tops;
    const membership = checkMembership(block, withWinners(bundles, sold.winners));
    if (membership !== null) return membership;
    let dataHash: Uint8Array;
    try {
      dataHash = blockDataHash(block);
    } catch (err) {
      return reject('DATA_HASH_MISMATCH', `body cannot be hashed: ${errorMessage(err)}`);
    }
    if (!bytesEqual(dataHash, h.dataHash))
      return reject('DATA_HASH_MISMATCH', 'header.dataHash does not cover these transactions and spans');
    const { outcome } = sold;
    if (!bytesEqual(computeAuctionHash(h.height, outcome), h.auctionHash))
      return reject(
        'AUCTION_HASH_MISMATCH',
        `header.auctionHash is not the ${outcome.kind} outcome of height ${h.height}`,
      );
    let resultsHash: Uint8Array;
    try {
      resultsHash = await resultsHashFor(h.height, wait);
    } catch (err) {
      if (err instanceof BuilderError) return notYet('RESULTS_NOT_READY', err.message);
      throw err;
    }
    if (!bytesEqual(resultsHash, h.resultsHash)) {
      return reject(
        'RESULTS_HASH_MISMATCH',
        `header.resultsHash is not the commitment to the results of height ${resultsHeightFor(h.height)}`,
      );
    }
    return { ok: true };
  }

  /** ADR 0292: the results of h - 2 are what every block at `height` depends on. */
  function whenReady(height: number, wait: number): true | Promise<boolean> {
    const rh = resultsHeightFor(height);
    if (rh <= 0 || opts.results.ready?.(rh) === true) return true;
    return opts.results.results(rh, Math.min(Math.max(0, wait), MAX_RESULTS_WAIT_MS)).then(
      () => true,
      () => false,
    );
  }

  return {
    build,
    verify,
    whenReady,
    // Pending bundles count too: an otherwise idle chain places a new bundle at once, not after the
    // heartbeat's empty block (docs/bundles.md "Where the time goes").
    pendingTxs: () => opts.mempool.stats().txs + (opts.bundles?.pendingTxs?.() ?? 0),
    // Bundle legs live in the bundle pool. Without it a proposer never found a bundled block's legs, so
    // the engine sent every block holding a bundle whole instead of compact (ADR 0275).
    findTx: (hash) => opts.mempool.get(hash) ?? bundles.tx?.(hash),
  };
}

/**
 * The block body in the documented order: per namespace, the chosen bundles' transactions (auction
 * winners first, in the order given), then the fair selection's, minus any transaction a bundle already
 * carries. Spans index each namespace's slice.
 */
export function assemble(
  chosen: SelectedBundle[],
  reaped: TxEnvelope[],
): { txs: TxEnvelope[]; spans: BundleSpan[] } {
  const perNs = new Map<Namespace, { txs: TxEnvelope[]; spans: BundleSpan[] }>();
  const slot = (ns: Namespace): { txs: TxEnvelope[]; spans: BundleSpan[] } => {
    let s = perNs.get(ns);
    if (s === undefined) {
      s = { txs: [], spans: [] };
      perNs.set(ns, s);
    }
    return s;
  };
  const inBundles = new Set<string>();
  for (const b of chosen) {
    // Per namespace, the indices into b.txs of that leg's transactions (in bundle order).
    const byNs = new Map<Namespace, number[]>();
    for (const [i, tx] of b.txs.entries()) {
      inBundles.add(latin1Key(txHash(tx)));
      const l = byNs.get(tx.namespace);
      if (l === undefined) byNs.set(tx.namespace, [i]);
      else l.push(i);
    }
    for (const [ns, legTxs] of byNs) {
      const s = slot(ns);
      const reverting: number[] = [];
      for (const [j, i] of legTxs.entries()) if (b.reverting.has(i)) reverting.push(j);
      s.spans.push({
        bundleHash: b.bundleHash,
        namespace: ns,
        start: s.txs.length,
        count: legTxs.length,
        atomicity: b.atomicity,
        reverting,
      });
      for (const i of legTxs) s.txs.push(b.txs[i]!);
    }
  }
  for (const tx of reaped) if (!inBundles.has(latin1Key(txHash(tx)))) slot(tx.namespace).txs.push(tx);
  const txs: TxEnvelope[] = [];
  const spans: BundleSpan[] = [];
  for (const ns of [...perNs.keys()].sort((a, b) => a - b)) {
    const s = perNs.get(ns)!;
    txs.push(...s.txs);
    spans.push(...s.spans);
  }
  return { txs, spans };
}

/** Gas the transactions declare, per namespace that charges any (the EVM rollups, ADR 0285). */
function gasByNamespace(txs: readonly TxEnvelope[], charge: (tx: TxEnvelope) => number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tx of txs) {
    const g = charge(tx);
    if (g > 0) out.set(tx.namespace, (out.get(tx.namespace) ?? 0) + g);
  }
  return out;
}

/**
 * Every rollup the auction sold opens with its winner's bundle: a span of the winner's bundle starting at
 * index 0 of the rollup's slice in every namespace the bundle touches (checkMembership then checks that
 * the span holds exactly the bundle's transactions).
 */
function checkTops(block: Block, winners: readonly SelectedBundle[]): BuilderVerdict | null {
  for (const w of winners) {
    const namespaces = new Set(w.txs.map((tx) => tx.namespace));
    for (const ns of namespaces) {
      const span = block.bundles.find((s) => s.namespace === ns && bytesEqual(s.bundleHash, w.bundleHash));
      if (span === undefined)
        return reject(
          'AUCTION_TOP_MISMATCH',
          `the auction winner's bundle 0x${Buffer.from(w.bundleHash).toString('hex')} is missing from namespace ${ns}`,
        );
      if (span.start !== 0)
        return reject(
          'AUCTION_TOP_MISMATCH',
          `the auction winner's bundle starts at index ${span.start} of namespace ${ns}, not at its top`,
        );
    }
  }
  return null;
}

/** The bundle source as a validator of block h sees it: the auction's winners first, then the pool. */
function withWinners(source: BundleSource, winners: readonly SelectedBundle[]): BundleSource {
  if (winners.length === 0) return source;
  const byHash = new Map(winners.map((w) => [latin1Key(w.bundleHash), w]));
  return {
    select: (h, budget) => source.select(h, budget),
    lookup: (hash, height) => {
      const w = byHash.get(latin1Key(hash));
      if (w === undefined) return source.lookup(hash, height);
      return {
        kind: 'known',
        txs: w.txs,
        minHeight: 0,
        maxHeight: 0,
        atomicity: w.atomicity,
        reverting: w.reverting,
      };
    },
  };
}

/** Every span names a known bundle, not included before, in its window, present whole. */
function checkMembership(block: Block, source: BundleSource): BuilderVerdict | null {
  if (block.bundles.length === 0) return null;
  const height = block.header.height;
  const slices = sliceBounds(block.txs);
  const byBundle = new Map<string, BundleSpan[]>();
  for (const s of block.bundles) {
    const k = latin1Key(s.bundleHash);
    const l = byBundle.get(k);
    if (l === undefined) byBundle.set(k, [s]);
    else l.push(s);
  }
  for (const spans of byBundle.values()) {
    const hash = spans[0]!.bundleHash;
    const found = source.lookup(hash, height);
    if (found.kind === 'unknown')
      return reject('BUNDLE_UNKNOWN', 'a span names a bundle this node does not know');
    if (found.kind === 'included')
      return reject('BUNDLE_ALREADY_INCLUDED', `a span names a bundle included at height ${found.height}`);
    if (height < found.minHeight || (found.maxHeight !== 0 && height > found.maxHeight))
      return reject(
        'BUNDLE_OUT_OF_WINDOW',
        `bundle window [${found.minHeight}, ${found.maxHeight}] excludes ${height}`,
      );
    const want = new Map<Namespace, TxEnvelope[]>();
    // Per namespace, the reverting indices within that leg (what its span must carry).
    const wantReverting = new Map<Namespace, number[]>();
    for (const [i, tx] of found.txs.entries()) {
      let l = want.get(tx.namespace);
      if (l === undefined) {
        l = [];
        want.set(tx.namespace, l);
        wantReverting.set(tx.namespace, []);
      }
      if (found.reverting.has(i)) wantReverting.get(tx.namespace)!.push(l.length);
      l.push(tx);
    }
    if (want.size !== spans.length)
      return reject(
        'BUNDLE_PARTIAL',
        `bundle touches ${want.size} rollups; the block has ${spans.length} of its spans`,
      );
    for (const s of spans) {
      const txs = want.get(s.namespace);
      const first = slices.get(s.namespace)?.first ?? 0;
      if (txs === undefined || txs.length !== s.count)
        return reject(
          'BUNDLE_PARTIAL',
          `span in namespace ${s.namespace} does not hold the bundle's transactions`,
        );
      for (let i = 0; i < s.count; i++) {
        if (!bytesEqual(txHash(block.txs[first + s.start + i]!), txHash(txs[i]!)))
          return reject(
            'BUNDLE_PARTIAL',
            `span in namespace ${s.namespace} holds a transaction not of the bundle`,
          );
      }
      if (s.atomicity !== found.atomicity)
        return reject(
          'BUNDLE_MISMATCH',
          `span in namespace ${s.namespace} has atomicity ${s.atomicity}; the bundle has ${found.atomicity}`,
        );
      const rev = wantReverting.get(s.namespace) ?? [];
      if (rev.length !== s.reverting.length || rev.some((r, j) => r !== s.reverting[j]))
        return reject(
          'BUNDLE_MISMATCH',
          `span in namespace ${s.namespace} lists reverting [${s.reverting.join(', ')}]; the bundle has [${rev.join(', ')}]`,
        );
    }
  }
  return null;
}

function makeMetrics(registry?: Registry) {
  const registers = registry === undefined ? [] : [registry];
  return {
    resultsWait: new Histogram({
      name: 'ordo_builder_results_wait_seconds',
      help: 'Time build and verify waited for the results of height h - 2 (0 when already executed)',
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    verdicts: new Counter({
      name: 'ordo_builder_verify_total',
      help: 'Proposals verified, by verdict (ok, the rejection code, or stale: refused after this node had decided the height)',
      labelNames: ['verdict'],
      registers,
    }),
  };
}
