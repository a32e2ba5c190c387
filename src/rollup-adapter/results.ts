/**
 * Certified results for a slice: the rollup's execution results of height H - RESULTS_LAG with the
 * proof that header H's results_hash commits to them. Rebuilds the results tree from the executor's
 * results of every executed rollup at that height (what the builder committed to, src/builder) and
 * serves them only when the rebuilt commitment equals the certified header's, so a node never hands
 * out results its validators did not certify. Trees of recent heights are cached (one per height,
 * shared by every subscribed rollup).
 */
import {
  RESULTS_LAG,
  type ResultLeaf,
  receiptsRoot,
  resultsHashFromRoot,
  resultsTree,
} from '../codec/index.ts';
import type { NmtTree } from '../crypto/index.ts';
import { bytesEqual } from '../crypto/index.ts';
import type { BlockHeader, Namespace } from '../types.ts';
import { HeightCache } from './height-cache.ts';
import type { AdapterSource } from './source.ts';
import type { CertifiedResults } from './types.ts';

interface ResultsEntry {
  height: number;
  leaves: ResultLeaf[];
  tree: NmtTree;
  hash: Uint8Array;
}

export class ResultsCache {
  readonly #cache = new HeightCache<ResultsEntry>(4);

  get(source: AdapterSource, height: number): Promise<ResultsEntry | undefined> {
    return this.#cache.get(height, () => load(source, height));
  }
}

async function load(source: AdapterSource, height: number): Promise<ResultsEntry | undefined> {
  if (source.getExecResults === undefined) return undefined;
  const executed = source.rollups
    .filter((r) => r.kind !== 'opaque')
    .map((r) => r.namespace)
    .sort((a, b) => a - b);
  const leaves: ResultLeaf[] = [];
  for (const ns of executed) {
    const r = await source.getExecResults(height, ns);
    if (r === undefined) return undefined;
    leaves.push({ namespace: ns, stateRoot: r.stateRoot, receiptsRoot: receiptsRoot(ns, r.receipts) });
  }
  const tree = resultsTree({ height, results: leaves });
  return { height, leaves, tree, hash: resultsHashFromRoot(height, leaves.length, tree.commitment()) };
}

/** The rollup's certified results in the block of `header`, or undefined (none yet, or not matching). */
export async function certifiedResultsFor(
  source: AdapterSource,
  header: BlockHeader,
  namespace: Namespace,
  cache: ResultsCache,
): Promise<CertifiedResults | undefined> {
  const height = header.height - RESULTS_LAG;
  if (height < 1) return undefined;
  const e = await cache.get(source, height);
  if (e === undefined || !bytesEqual(e.hash, header.resultsHash)) return undefined;
  const leaf = e.leaves.find((l) => l.namespace === namespace);
  if (leaf === undefined) return undefined;
  return {
    height,
    stateRoot: leaf.stateRoot,
    receiptsRoot: leaf.receiptsRoot,
    resultCount: e.leaves.length,
    resultsRoot: e.tree.commitment(),
    proof: e.tree.prove(namespace),
  };
}
