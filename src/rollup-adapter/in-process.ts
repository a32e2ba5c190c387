/**
 * The adapter for rollups embedded in a node: the same calls and semantics as the gRPC service, as
 * plain async functions and async iterators over domain objects (no serialization). The demo rollups
 * use it. Streams are pull-based: a block is read only when the consumer asks for the next one.
 */
import { txHash } from '../codec/index.ts';
import { ZERO_HASH } from '../crypto/index.ts';
import type { TxStatus } from '../mempool/index.ts';
import type { TxEnvelope } from '../types.ts';
import { AuctionCache } from './auction.ts';
import { ResultsCache } from './results.ts';
import { SliceCache } from './slice.ts';
import type { AdapterSource, SubmitOrigin } from './source.ts';
import { type BlockStreamOptions, namespaceBlockStream, type StreamRequest } from './stream.ts';
import {
  type CommitmentState,
  DEFAULT_STREAM_LIMITS,
  type NamespaceBlock,
  type StreamLimits,
} from './types.ts';

export interface SubmitResult {
  accepted: boolean;
  txHash: Uint8Array;
  rejectCode?: string;
  message?: string;
  retryable: boolean;
}

export interface RollupAdapterApi {
  streamBlocks(req: StreamRequest, opts?: { signal?: AbortSignal }): AsyncIterable<NamespaceBlock>;
  submitTransaction(tx: TxEnvelope): Promise<SubmitResult>;
  getTransactionStatus(hash: Uint8Array): Promise<TxStatus>;
  getCommitmentState(): Promise<CommitmentState>;
}

/**
 * Submit through the node's ingress (the source's `submit`), and translate its result into the
 * adapter's `SubmitResult`; `rejectCode` is the ingress's error code (docs/adapter.md).
 */
export async function submitToSource(
  source: AdapterSource,
  tx: TxEnvelope,
  origin: SubmitOrigin,
): Promise<SubmitResult> {
  const r = await source.submit(tx, origin);
  if (r.ok) return { accepted: true, txHash: r.hash, retryable: false };
  return {
    accepted: false,
    txHash: r.hash ?? hashOrZero(tx),
    rejectCode: r.code,
    message: r.message,
    retryable: r.retryable,
  };
}

/** The hash of a refused transaction, or 32 zero bytes when it has no hash (not a u32 namespace, no bytes). */
function hashOrZero(tx: TxEnvelope): Uint8Array {
  try {
    return txHash(tx);
  } catch {
    return ZERO_HASH;
  }
}

export async function commitmentStateOf(source: AdapterSource): Promise<CommitmentState> {
  const head = source.height();
  const none = { height: 0, blockHash: ZERO_HASH, timeMs: 0 };
  const cb = head > 0 ? await source.getCertifiedBlock(head) : undefined;
  return {
    chainId: source.chainId,
    soft:
      cb === undefined
        ? none
        : { height: head, blockHash: cb.certificate.blockHash, timeMs: cb.block.header.timeMs },
    firm: none,
  };
}

export function createInProcessAdapter(
  source: AdapterSource,
  limits: Partial<StreamLimits> = {},
): RollupAdapterApi {
  const cache = new SliceCache(16);
  const results = new ResultsCache();
  const auction = new AuctionCache();
  const lim = { ...DEFAULT_STREAM_LIMITS, ...limits };
  return {
    streamBlocks(req, opts = {}) {
      const o: BlockStreamOptions = { limits: lim, cache, results, auction };
      if (opts.signal !== undefined) o.signal = opts.signal;
      return namespaceBlockStream(source, req, o);
    },
    submitTransaction: (tx) => submitToSource(source, tx, 'in_process'),
    getTransactionStatus: async (hash) => source.status(hash),
    getCommitmentState: () => commitmentStateOf(source),
  };
}
