/**
 * Cuts one rollup's slice out of a certified block: its transactions, bundle boundaries, the header in
 * canonical bytes, the certificate, the parts of data_hash (txs root, span count, spans root) and the
 * namespace proofs of its transactions and its bundle spans (docs/wire.md). Trees are cached per block
 * (a few recent heights), since every subscribed rollup needs proofs over the same block.
 */
import { encodeHeader, spanLeaves, txLeaves } from '../codec/index.ts';
import { NmtTree, sha256 } from '../crypto/index.ts';
import type { Block, CertifiedBlock, Namespace } from '../types.ts';
import type { AuctionPart, CertifiedResults, ExecutionResult, NamespaceBlock } from './types.ts';

interface CachedBlock {
  hash: Uint8Array;
  headerBytes: Uint8Array;
  tree: NmtTree;
  spans: NmtTree;
}

/**
 * A small LRU of per-block trees and header bytes, shared by all streams of one adapter. Bounded by
 * entries and by total leaves (a tree keeps ~2 nodes per leaf, ~150 bytes each), so a few maximal
 * blocks cannot pin hundreds of MiB.
 */
export class SliceCache {
  readonly #max: number;
  readonly #maxLeaves: number;
  #leaves = 0;
  readonly #entries = new Map<string, CachedBlock>();

  constructor(max = 16, maxLeaves = 200_000) {
    this.#max = max;
    this.#maxLeaves = maxLeaves;
  }

  get(block: Block): CachedBlock {
    const headerBytes = encodeHeader(block.header);
    const hash = sha256(headerBytes);
    const key = Buffer.from(hash).toString('hex');
    let e = this.#entries.get(key);
    if (e !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, e);
      return e;
    }
    const tree = new NmtTree(txLeaves(block.txs));
    e = { hash, headerBytes, tree, spans: new NmtTree(spanLeaves(block.bundles)) };
    this.#entries.set(key, e);
    this.#leaves += tree.leaves.length;
    while (this.#entries.size > 1 && (this.#entries.size > this.#max || this.#leaves > this.#maxLeaves)) {
      const [oldKey, old] = this.#entries.entries().next().value!;
      this.#entries.delete(oldKey);
      this.#leaves -= old.tree.leaves.length;
    }
    return e;
  }
}

export function sliceBlock(
  cb: CertifiedBlock,
  namespace: Namespace,
  cache: SliceCache = new SliceCache(1),
  execution?: ExecutionResult,
  certifiedResults?: CertifiedResults,
  auction?: AuctionPart,
): NamespaceBlock {
  const { block, certificate } = cb;
  const c = cache.get(block);
  const proof = c.tree.prove(namespace);
  const transactions: Uint8Array[] = [];
  for (let i = proof.start; i < proof.end; i++) transactions.push(block.txs[i]!.payload);
  const nb: NamespaceBlock = {
    namespace,
    height: block.header.height,
    blockHash: c.hash,
    timeMs: block.header.timeMs,
    header: block.header,
    headerBytes: c.headerBytes,
    transactions,
    bundles: block.bundles.filter((s) => s.namespace === namespace),
    certificate,
    proof,
    txsRoot: c.tree.commitment(),
    spanCount: block.bundles.length,
    spansRoot: c.spans.commitment(),
    spansProof: c.spans.prove(namespace),
  };
  if (execution !== undefined) nb.execution = execution;
  if (certifiedResults !== undefined) nb.certifiedResults = certifiedResults;
  if (auction !== undefined) nb.auction = auction;
  return nb;
}
