/**
 * The three body commitments of a block header, byte by byte (docs/wire.md is the write-up a client in
 * another language follows; keep the two in step):
 *   - data_hash    = sha256("ordo/data/v1"    || txs_root || u32 span_count   || spans_root)
 *   - results_hash = sha256("ordo/results/v1" || u64 results_height || u32 result_count || results_root)
 *   - auction_hash = sha256("ordo/auction/v1" || u64 height || u8 0)   ("no auction")
 * `txs_root`, `spans_root` and `results_root` are namespaced Merkle tree (src/crypto/nmt.ts) root
 * commitments, so each has a per-namespace proof: a rollup is shown its transactions, its bundle spans
 * and its execution results, and that nothing of its namespace was left out. Counts sit in the
 * preimages because an NMT proof needs the leaf count from a signed source.
 *
 * Lives in codec (not in the builder) because the consensus core, catch-up, the adapter and the SDK all
 * recompute these hashes; the builder decides what goes in, this module only says how it is hashed.
 */
import { hash as oneShotHash } from 'node:crypto';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import {
  commitNode,
  EMPTY_NODE,
  innerNode,
  leafNode,
  type NmtLeaf,
  type NmtNode,
  NmtTree,
  nmtRoot,
  sha256,
} from '../crypto/index.ts';
import type { BundleSpan, Namespace, TxEnvelope } from '../types.ts';
import { computeAuctionOutcomeHash, type RollupAuctionOutcome } from './auction.ts';
import { u32be, u64be } from './be-bytes.ts';
import { txHash } from './hashing.ts';

const enc = new TextEncoder();
const DATA_TAG = enc.encode('ordo/data/v1');
const RESULTS_TAG = enc.encode('ordo/results/v1');
const AUCTION_TAG = enc.encode('ordo/auction/v1');
const SPAN_TAG = enc.encode('ordo/span/v2');
const RESULT_TAG = enc.encode('ordo/result/v1');
const RECEIPT_TAG = enc.encode('ordo/receipt/v1');

// ---------------------------------------------------------------- data: transactions and bundle spans

/** NMT leaves of a block's transactions (sorted by namespace). */
export function txLeaves(txs: TxEnvelope[]): NmtLeaf[] {
  return txs.map((tx) => ({ namespace: tx.namespace, hash: txHash(tx) }));
}

/** Root commitment of the transactions' NMT (what data_hash was in 0.1.0). */
export function txsRoot(txs: TxEnvelope[]): Uint8Array {
  return nmtRoot(txLeaves(txs));
}

/**
 * Leaf hash of one bundle span: sha256("ordo/span/v2" || bundleHash || u32 ns || u32 start || u32 count ||
 * u8 atomicity || u32 reverting_count || u32 index*).
 */
export function spanLeafHash(s: BundleSpan): Uint8Array {
  const rev = new Uint8Array(4 * s.reverting.length);
  const dv = new DataView(rev.buffer);
  for (const [i, r] of s.reverting.entries()) dv.setUint32(4 * i, r);
  return sha256(
    SPAN_TAG,
    s.bundleHash,
    u32be(s.namespace),
    u32be(s.start),
    u32be(s.count),
    Uint8Array.of(s.atomicity),
    u32be(s.reverting.length),
    rev,
  );
}

/** NMT leaves of a block's bundle spans (must be sorted by namespace, then start). */
export function spanLeaves(spans: BundleSpan[]): NmtLeaf[] {
  return spans.map((s) => ({ namespace: s.namespace, hash: spanLeafHash(s) }));
}

export function spansRoot(spans: BundleSpan[]): Uint8Array {
  return nmtRoot(spanLeaves(spans));
}

/** data_hash from its parts (the SDK recomputes it from the roots a slice carries). */
export function dataHashFromRoots(txs: Uint8Array, spanCount: number, spans: Uint8Array): Uint8Array {
  return sha256(DATA_TAG, txs, u32be(spanCount), spans);
}

const blockDataHashes = new WeakMap<object, Uint8Array>();

/**
 * computeDataHash of a block's body, memoised per block object (blocks are immutable once built): the
 * consensus core and the builder's verify both check it, and hashing a large body twice costs.
 */
export function blockDataHash(block: { txs: TxEnvelope[]; bundles: BundleSpan[] }): Uint8Array {
  let h = blockDataHashes.get(block);
  if (h === undefined) {
    h = computeDataHash(block.txs, block.bundles);
    blockDataHashes.set(block, h);
  }
  return h;
}

/**
 * `blockDataHash`, computed in slices (ADR 0312): after every `sliceMs` of hashing it waits for a
 * `setImmediate`, so timers, socket reads and fsync completions run in between. The result is the
 * same hash (the same NMT, built bottom-up: pairing each level's nodes left to right and carrying a
 * lone last node up gives the RFC 6962 shape nmtRoot builds top-down), and it is memoised on the
 * block, so the consensus core's check afterwards costs a lookup. The block must not change while
 * this runs. Unsorted transactions throw as computeDataHash does.
 */
export async function blockDataHashInSlices(
  block: { txs: TxEnvelope[]; bundles: BundleSpan[] },
  sliceMs = 8,
): Promise<Uint8Array> {
  const memo = blockDataHashes.get(block);
  if (memo !== undefined) return memo;
  const { txs } = block;
  for (let i = 1; i < txs.length; i++) {
    if (txs[i]!.namespace < txs[i - 1]!.namespace) return blockDataHash(block); // throws, as before
  }
  let since = performance.now();
  const pause = async (): Promise<void> => {
    if (performance.now() - since < sliceMs) return;
    await nextMacrotask();
    since = performance.now();
  };
  let level: NmtNode[] = new Array(txs.length);
  for (let i = 0; i < txs.length; i++) {
    const tx = txs[i]!;
    level[i] = leafNode({ namespace: tx.namespace, hash: txHash(tx) });
    if ((i & 63) === 63) await pause();
  }
  let n = 0;
  while (level.length > 1) {
    const up: NmtNode[] = new Array(Math.ceil(level.length / 2));
    for (let i = 0; i + 1 < level.length; i += 2) {
      up[i >> 1] = innerNode(level[i]!, level[i + 1]!);
      if ((++n & 63) === 0) await pause();
    }
    if (level.length % 2 === 1) up[up.length - 1] = level[level.length - 1]!;
    level = up;
  }
  const root = commitNode(level[0] ?? EMPTY_NODE);
  const h = dataHashFromRoots(root, block.bundles.length, spansRoot(block.bundles));
  blockDataHashes.set(block, h);
  return h;
}

/**
 * header.dataHash of a body: transactions sorted by namespace, spans sorted by (namespace, start).
 * Throws when either is not sorted by namespace (the NMT refuses unsorted leaves).
 */
export function computeDataHash(txs: TxEnvelope[], spans: BundleSpan[] = []): Uint8Array {
  return dataHashFromRoots(txsRoot(txs), spans.length, spansRoot(spans));
}

// ---------------------------------------------------------------- results of an earlier height

/** How many heights back the results a header commits to lie: header h commits to results of h - 2. */
export const RESULTS_LAG = 2;

/** One executed rollup's results at one height, as committed. */
export interface ResultLeaf {
  namespace: Namespace;
  stateRoot: Uint8Array;
  receiptsRoot: Uint8Array;
}

/** The results a header commits to: those of `height` (0 = none: the first RESULTS_LAG blocks). */
export interface ResultsCommitmentInput {
  height: number;
  /** Sorted by namespace, one per executed rollup. */
  results: ResultLeaf[];
}

/**
 * Root of one rollup's receipts at one height: an NMT (all leaves under the rollup's namespace) over
 * sha256("ordo/receipt/v1" || encoded receipt), in transaction order. Empty block: the empty root.
 */
export function receiptsRoot(namespace: Namespace, encodedReceipts: Uint8Array[]): Uint8Array {
  return nmtRoot(
    encodedReceipts.map((r) => {
      const d = oneShotHash('sha256', Buffer.concat([RECEIPT_TAG, r]), 'buffer');
      return { namespace, hash: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) };
    }),
  );
}

/** Leaf hash of one rollup's results: sha256("ordo/result/v1" || u64 height || stateRoot || receiptsRoot). */
export function resultLeafHash(height: number, r: ResultLeaf): Uint8Array {
  return sha256(RESULT_TAG, u64be(height), r.stateRoot, r.receiptsRoot);
}

/** The NMT of a height's results (for per-namespace proofs; `commitment()` is results_root). */
export function resultsTree(input: ResultsCommitmentInput): NmtTree {
  return new NmtTree(
    input.results.map((r) => ({ namespace: r.namespace, hash: resultLeafHash(input.height, r) })),
  );
}

export function resultsHashFromRoot(height: number, count: number, root: Uint8Array): Uint8Array {
  return sha256(RESULTS_TAG, u64be(height), u32be(count), root);
}

/** header.resultsHash for a block whose results height is `input.height`. */
export function computeResultsHash(input: ResultsCommitmentInput): Uint8Array {
  return resultsHashFromRoot(input.height, input.results.length, resultsTree(input).commitment());
}

/** The height whose results the header at `blockHeight` commits to (0: none yet). */
export function resultsHeightFor(blockHeight: number): number {
  return Math.max(0, blockHeight - RESULTS_LAG);
}

// ---------------------------------------------------------------- auction outcome

/**
 * The auction outcome of a height: "no auction" (kind 0: the auction is disabled) or the outcome of a
 * slot whose auction ran (kind 1: one record per sold rollup, possibly none; src/codec/auction.ts).
 */
export type AuctionOutcome = { kind: 'none' } | { kind: 'auction'; rollups: readonly RollupAuctionOutcome[] };

export const NO_AUCTION: AuctionOutcome = { kind: 'none' };

/**
 * header.auctionHash. Kind 0: sha256("ordo/auction/v1" || u64 height || u8 0). Kind 1:
 * computeAuctionOutcomeHash (sha256("ordo/auction/v1" || u64 h || u8 1 || u32 count || outcome_root)).
 */
export function computeAuctionHash(height: number, outcome: AuctionOutcome): Uint8Array {
  if (outcome.kind === 'auction') return computeAuctionOutcomeHash(height, outcome.rollups);
  return sha256(AUCTION_TAG, u64be(height), new Uint8Array([0]));
}
