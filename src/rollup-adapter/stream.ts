/**
 * The one stream algorithm behind both the in-process adapter and the gRPC service. It is driven by a
 * single cursor `next`: while `next` is at or below the head it reads that height from the source and
 * yields its slice; otherwise it sleeps until a commit notification moves the head. Backfill and live
 * are therefore the same loop, and a height is yielded exactly once, in order, with no gap, whatever
 * the timing of commits. Nothing is read before the consumer asks for it (pull), so a slow consumer
 * costs no memory here; the gRPC layer bounds what sits in the transport (server.ts).
 */
import type { Namespace } from '../types.ts';
import { AuctionCache, auctionPartFor } from './auction.ts';
import { AdapterError } from './errors.ts';
import { certifiedResultsFor, ResultsCache } from './results.ts';
import { SliceCache, sliceBlock } from './slice.ts';
import type { AdapterSource } from './source.ts';
import { DEFAULT_STREAM_LIMITS, type NamespaceBlock, type StreamLimits } from './types.ts';

export interface StreamRequest {
  namespace: Namespace;
  /** First height wanted; 0 means 1. */
  fromHeight: number;
}

export interface BlockStreamOptions {
  signal?: AbortSignal;
  limits?: Partial<StreamLimits>;
  cache?: SliceCache;
  /** Results trees of recent heights (certified results), shareable between streams. */
  results?: ResultsCache;
  /** Auction outcome trees of recent heights, shareable between streams. */
  auction?: AuctionCache;
}

/** Check a request against the source; returns the first height to send. Throws AdapterError. */
export function checkStreamRequest(
  source: AdapterSource,
  req: StreamRequest,
  maxFutureBlocks: number = DEFAULT_STREAM_LIMITS.maxFutureBlocks,
): number {
  if (!Number.isInteger(req.namespace) || req.namespace < 1 || req.namespace > 0xffff_ffff)
    throw new AdapterError('INVALID_ARGUMENT', `namespace must be an integer in 1..4294967295`);
  if (!Number.isSafeInteger(req.fromHeight) || req.fromHeight < 0)
    throw new AdapterError('INVALID_ARGUMENT', 'fromHeight must be a non-negative integer');
  if (!source.rollups.some((r) => r.namespace === req.namespace)) {
    throw new AdapterError('UNKNOWN_NAMESPACE', `namespace ${req.namespace} is not in the rollup registry`, {
      namespace: req.namespace,
    });
  }
  const from = Math.max(1, req.fromHeight);
  const base = source.baseHeight?.() ?? 1;
  if (from < base) {
    throw new AdapterError(
      'HEIGHT_PRUNED',
      `height ${from} is pruned on this node; its lowest stored height is ${base}`,
      { fromHeight: from, baseHeight: base },
    );
  }
  const head = source.height();
  if (from > head + maxFutureBlocks) {
    throw new AdapterError(
      'FROM_HEIGHT_TOO_FAR',
      `fromHeight ${from} is more than ${maxFutureBlocks} blocks ahead of the head ${head}`,
      { fromHeight: from, head, maxFutureBlocks },
    );
  }
  return from;
}

/** Slices of `req.namespace` from `req.fromHeight` on, forever (until aborted or the consumer stops). */
export async function* namespaceBlockStream(
  source: AdapterSource,
  req: StreamRequest,
  opts: BlockStreamOptions = {},
): AsyncGenerator<NamespaceBlock, void, undefined> {
  const limits = { ...DEFAULT_STREAM_LIMITS, ...opts.limits };
  let next = checkStreamRequest(source, req, limits.maxFutureBlocks);
  const cache = opts.cache ?? new SliceCache(2);
  const resultsCache = opts.results ?? new ResultsCache();
  const auctionCache = opts.auction ?? new AuctionCache();
  const kind = source.rollups.find((r) => r.namespace === req.namespace)?.kind;
  const signal = opts.signal;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const unsubscribe = source.onCommit(poke);
  const unsubscribeExec = source.onExecuted?.(poke);
  /**
   * Rule 6: an executed rollup's height goes out only with its execution results, once the node has
   * executed and pre-confirmed it. Waits for execution notifications, at most `execWaitMs`.
   */
  const waitExecuted = async (height: number): Promise<boolean> => {
    const executedHeight = source.executedHeight;
    if (executedHeight === undefined) return true;
    const deadline = Date.now() + limits.execWaitMs;
    // Bounded: each round waits for a notification or at most 1 s, until the deadline.
    for (let round = 0; round <= Math.ceil(limits.execWaitMs / 1000) * 4 + 4; round++) {
      if (signal?.aborted === true) return false;
      if (executedHeight.call(source) >= height) return true;
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(remaining, 1000));
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    throw new AdapterError(
      'UNAVAILABLE',
      `execution results of height ${height} are not ready after ${limits.execWaitMs} ms; resume from height ${height}`,
      { resumeHeight: height },
    );
  };
  signal?.addEventListener('abort', poke);
  try {
    while (signal?.aborted !== true) {
      if (next > source.height()) {
        // Checked and armed in the same tick: a commit cannot slip in between.
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      const cb = await source.getCertifiedBlock(next);
      if (cb === undefined) {
        const base = source.baseHeight?.() ?? 1;
        if (next < base) {
          throw new AdapterError('HEIGHT_PRUNED', `height ${next} was pruned while streaming`, {
            resumeHeight: next,
            baseHeight: base,
          });
        }
        throw new AdapterError('BLOCK_MISSING', `block ${next} is missing from the store`, {
          resumeHeight: next,
        });
      }
      const executed = kind !== undefined && kind !== 'opaque' && source.getExecResults !== undefined;
      if (executed && !(await waitExecuted(next))) break;
      const exec = executed ? await source.getExecResults!(next, req.namespace) : undefined;
      if (executed && exec === undefined && source.executedHeight !== undefined) {
        throw new AdapterError(
          'UNAVAILABLE',
          `execution results of height ${next} are missing on this node`,
          {
            resumeHeight: next,
          },
        );
      }
      const certified = executed
        ? await certifiedResultsFor(source, cb.block.header, req.namespace, resultsCache)
        : undefined;
      const auction = await auctionPartFor(source, cb.block.header, req.namespace, auctionCache);
      yield sliceBlock(cb, req.namespace, cache, exec, certified, auction);
      next++;
    }
  } finally {
    unsubscribe();
    unsubscribeExec?.();
    signal?.removeEventListener('abort', poke);
  }
}
