/**
 * The rollup adapter's stream limits from config `grpc.*` (docs/config.md, docs/operating.md "Limits"):
 * the one mapping the composition root hands to `startAdapterServer`, kept apart so a unit test can check
 * that every configured limit reaches the adapter.
 */
import type { NodeConfig } from '../config/index.ts';
import type { StreamLimits } from '../rollup-adapter/index.ts';

export function adapterStreamLimits(grpc: NodeConfig['grpc']): Partial<StreamLimits> {
  return {
    maxStreams: grpc.maxStreams,
    maxStreamsPerClient: grpc.maxStreamsPerClient,
    maxInFlightMessages: grpc.maxInFlightMessages,
    stallTimeoutMs: grpc.stallTimeoutMs,
    maxFutureBlocks: grpc.maxFutureBlocks,
  };
}
