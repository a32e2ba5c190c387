/**
 * The executor-backed `ResultsSource`: the leaves a header commits to (per executed rollup its state
 * root and receipts root at one height), waiting — bounded — for that height to be executed. The
 * executor runs committed blocks in order behind the commit pipeline (node.ts), so a node that decided
 * height h may still be executing h - 1 or h - 2; `results(h, timeoutMs)` resolves as soon as every
 * executed rollup's head reaches h, or rejects with RESULTS_NOT_READY at the bound. Leaves of recent
 * heights are cached, taken from the executor's notification as each height is executed (read back from
 * the store only for heights executed before this node started listening): the proposer and every
 * verify of the same height share them.
 */
import { type ResultLeaf, receiptsRoot } from '../codec/index.ts';
import type { NamespaceResult, Receipt } from '../exec/index.ts';
import { encodeReceipt } from '../exec/index.ts';
import { BuilderError, type ResultsSource } from './types.ts';

/** What the builder needs of the executor (structurally satisfied by src/exec's Executor). */
export interface ExecutorView {
  executedNamespaces(): number[];
  head(namespace: number): { height: number };
  getResult(namespace: number, height: number): Promise<NamespaceResult | undefined>;
  subscribe(listener: (height: number, results: Map<number, NamespaceResult>) => void): () => void;
}

const CACHE_HEIGHTS = 8;

export function resultLeafOf(namespace: number, stateRoot: Uint8Array, receipts: Receipt[]): ResultLeaf {
  return { namespace, stateRoot, receiptsRoot: receiptsRoot(namespace, receipts.map(encodeReceipt)) };
}

/** Arms a one-shot timer; returns its cancel. Injectable so a simulated clock can drive the wait. */
export type ScheduleFn = (fn: () => void, ms: number) => () => void;

const realTimer: ScheduleFn = (fn, ms) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

export function executorResults(executor: ExecutorView, schedule: ScheduleFn = realTimer): ResultsSource {
  const cache = new Map<number, Promise<ResultLeaf[]>>();
  const namespaces = (): number[] => [...executor.executedNamespaces()].sort((a, b) => a - b);
  const executed = (height: number): boolean =>
    namespaces().every((ns) => executor.head(ns).height >= height);

  const waitExecuted = (height: number, timeoutMs: number): Promise<void> => {
    if (executed(height)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (err?: Error): void => {
        cancel();
        unsubscribe();
        if (err === undefined) resolve();
        else reject(err);
      };
      const unsubscribe = executor.subscribe(() => {
        if (executed(height)) done();
      });
      const cancel = schedule(() => {
        done(
          new BuilderError(
            'RESULTS_NOT_READY',
            `results of height ${height} not executed within ${timeoutMs} ms`,
            { height, timeoutMs },
          ),
        );
      }, timeoutMs);
      // A head may have moved between the first check and the subscription.
      if (executed(height)) done();
    });
  };

  const load = async (height: number): Promise<ResultLeaf[]> => {
    const leaves: ResultLeaf[] = [];
    for (const ns of namespaces()) {
      const r = await executor.getResult(ns, height);
      if (r === undefined) {
        throw new BuilderError('RESULTS_NOT_READY', `no results of namespace ${ns} at height ${height}`, {
          height,
          namespace: ns,
        });
      }
      leaves.push(resultLeafOf(ns, r.stateRoot, r.receipts));
    }
    return leaves;
  };

  // Leaves straight from the executor as it finishes a height (no store read on the proposal path,
  // where every await on the database is another turn of a busy event loop). A listener that is not
  // given every executed rollup's results (a partial view) leaves the height to `load`.
  executor.subscribe((height, results) => {
    const ns = namespaces();
    if (ns.length === 0 || cache.has(height) || !ns.every((n) => results.has(n))) return;
    const leaves = ns.map((n) => {
      const r = results.get(n)!;
      return resultLeafOf(n, r.stateRoot, r.receipts);
    });
    cache.set(height, Promise.resolve(leaves));
    for (const h of cache.keys()) if (cache.size > CACHE_HEIGHTS && h !== height) cache.delete(h);
  });

  return {
    ready: (height) => height <= 0 || cache.has(height) || executed(height),
    async results(height, timeoutMs) {
      if (height <= 0) return [];
      const hit = cache.get(height);
      if (hit !== undefined) return hit;
      await waitExecuted(height, timeoutMs);
      let p = cache.get(height);
      if (p === undefined) {
        p = load(height);
        cache.set(height, p);
        p.catch(() => cache.delete(height));
        for (const h of cache.keys()) if (cache.size > CACHE_HEIGHTS && h !== height) cache.delete(h);
      }
      return p;
    },
  };
}
