/**
 * The load generator's entry point: `runLoad` resolves the namespaces to load (the opaque rollups of
 * the target's registry unless told otherwise), builds payload sources, a block follower and the
 * open-loop generator, reports progress once a second and returns the report. Used by `ordo bench`
 * and by `ordo testnet up --load` (which passes its own shared follower).
 */
import type { Logger } from 'pino';
import { OrdoError } from '../errors.ts';
import { rpcCall } from '../rpc/index.ts';
import type { RollupKind } from '../types.ts';
import { BlockFollower } from './follower.ts';
import { type LiveLoad, LoadGenerator, type LoadReport } from './generator.ts';
import { payloadSourceFor, type RollupInfo } from './payloads.ts';

export { type Ack, AckLog, DEFAULT_MAX_ACKS } from './acks.ts';
export {
  type BundleStatusFeed,
  type BundleStatusJson,
  type BundleStatusListener,
  WsBundleFeed,
} from './bundle-feed.ts';
export {
  type BundleEffectsCheck,
  type BundleLoadOptions,
  type BundleLoadSummary,
  checkBundleEffects,
  runBundleLoad,
  summarizeBundleLoad,
} from './bundle-load.ts';
export {
  type BundleSendOptions,
  type BundleSendReport,
  type BundleStages,
  emptyBundleSendReport,
  type RpcCall,
  sendBundles,
} from './bundle-sender.ts';
export {
  type AtomicityReport,
  BundlePlanner,
  type BundlePlannerOptions,
  type BundleRollup,
  checkAtomicity,
  type PlannedBundle,
  type PlannedLeg,
  sendBundleParams,
} from './bundles.ts';
export { BlockFollower, type FollowedBlock } from './follower.ts';
export {
  type CommitEvent,
  type LiveLoad,
  LoadGenerator,
  type LoadReport,
  type SourceReport,
} from './generator.ts';
export {
  type Erc20PayloadOptions,
  Erc20Payloads,
  OpaquePayloads,
  type PayloadSource,
  payloadSourceFor,
  type RollupInfo,
  TransferPayloads,
} from './payloads.ts';
export { type LatencySummary, summarize } from './stats.ts';

/** The demo EVM rollup's chain id (src/config/genesis.ts demoRollups). */
export const DEMO_EVM_CHAIN_ID = 900_001;

export interface RunLoadOptions {
  urls: string[];
  rate: number;
  durationSec: number;
  warmupSec?: number;
  sizeBytes: number;
  /** Namespaces to load; default: every opaque rollup of the first reachable target. */
  namespaces?: number[];
  /** Rollup kinds when already known (the testnet passes its genesis); else asked via ordo_status. */
  rollups?: RollupInfo[];
  evmChainId?: number;
  follower?: BlockFollower;
  tickMs?: number;
  maxInFlight?: number;
  drainMs?: number;
  onProgress?: (live: LiveLoad) => void;
  progressMs?: number;
  logger?: Logger;
  /** Lets the caller stop the offered window early (e.g. Ctrl-C). */
  signal?: AbortSignal;
  /** Submit protobuf batches (`POST /ordo/v1/tx-batch`) instead of JSON-RPC. */
  binary?: boolean;
}

async function registryOf(urls: string[]): Promise<RollupInfo[]> {
  let last: unknown;
  for (const url of urls) {
    try {
      const s = (await rpcCall(url, 'ordo_status', [], 5000)) as {
        rollups: { namespace: number; kind: RollupKind }[];
      };
      return s.rollups.map((r) => ({ namespace: r.namespace, kind: r.kind }));
    } catch (err) {
      last = err;
    }
  }
  throw new OrdoError('LOADGEN_NO_TARGET', `no target answered ordo_status: ${(last as Error)?.message}`);
}

export function chooseRollups(
  registry: RollupInfo[],
  namespaces: number[] | undefined,
  evmChainId: number,
): RollupInfo[] {
  if (namespaces === undefined || namespaces.length === 0) {
    const opaque = registry.filter((r) => r.kind === 'opaque');
    if (opaque.length === 0)
      throw new OrdoError('LOADGEN_NO_NAMESPACE', 'the network has no opaque rollup; pass --namespaces');
    return opaque;
  }
  return namespaces.map((ns) => {
    const r = registry.find((x) => x.namespace === ns);
    if (r === undefined) {
      throw new OrdoError(
        'LOADGEN_NO_NAMESPACE',
        `namespace ${ns} is not in the network's registry (${registry.map((x) => x.namespace).join(', ')})`,
      );
    }
    return r.kind === 'evm' ? { ...r, evmChainId: r.evmChainId ?? evmChainId } : r;
  });
}

export async function runLoad(o: RunLoadOptions): Promise<LoadReport> {
  const registry = o.rollups ?? (await registryOf(o.urls));
  const chosen = chooseRollups(registry, o.namespaces, o.evmChainId ?? DEMO_EVM_CHAIN_ID);
  const sources = chosen.map((r) => payloadSourceFor(r, o.sizeBytes));
  const ownFollower = o.follower === undefined;
  const follower =
    o.follower ?? new BlockFollower({ urls: o.urls, ...(o.logger ? { logger: o.logger } : {}) });
  const gen = new LoadGenerator({
    urls: o.urls,
    rate: o.rate,
    durationSec: o.durationSec,
    ...(o.warmupSec !== undefined ? { warmupSec: o.warmupSec } : {}),
    sources,
    follower,
    ...(o.tickMs !== undefined ? { tickMs: o.tickMs } : {}),
    ...(o.maxInFlight !== undefined ? { maxInFlight: o.maxInFlight } : {}),
    ...(o.drainMs !== undefined ? { drainMs: o.drainMs } : {}),
    ...(o.logger ? { logger: o.logger } : {}),
    ...(o.binary === true ? { binary: true } : {}),
  });
  if (ownFollower) await follower.start();
  const progress =
    o.onProgress === undefined
      ? undefined
      : setInterval(() => o.onProgress?.(gen.live()), o.progressMs ?? 1000);
  const onAbort = (): void => gen.stop();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await gen.run();
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    if (progress !== undefined) clearInterval(progress);
    if (ownFollower) follower.stop();
  }
}
export {
  type AuctionInfoJson,
  type AuctionSlotJson,
  type BidOutcome,
  type BundleJson,
  bidOutcome,
  bundleJson,
  bundleOf,
  commitParams,
  revealParams,
  runSearchers,
  type SearcherLive,
  type SearcherOptions,
  type SearcherReport,
} from './searcher.ts';
