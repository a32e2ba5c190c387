/**
 * The executor as the builder sees it (`ExecutorView`), for the integration tests: one executed rollup
 * (namespace 2) whose head the test moves with `advance(h)`; results of a height are an empty slice with
 * a per-height state root, handed to subscribers as each height "executes".
 */
import type { ExecutorView } from '../../../src/builder/index.ts';
import type { NamespaceResult } from '../../../src/exec/index.ts';

export function fakeExecutorView(): ExecutorView & { readonly height: number; advance(h: number): void } {
  let head = 0;
  const listeners = new Set<(h: number, r: Map<number, NamespaceResult>) => void>();
  return {
    get height() {
      return head;
    },
    executedNamespaces: () => [2],
    head: () => ({ height: head }),
    getResult: (ns, h) =>
      Promise.resolve(
        h <= head
          ? {
              namespace: ns,
              height: h,
              receipts: [],
              stateRoot: new Uint8Array(32).fill(h & 255),
              resultsHash: new Uint8Array(32),
            }
          : undefined,
      ),
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    advance(h) {
      head = h;
      for (const l of [...listeners]) l(h, new Map());
    },
  };
}
