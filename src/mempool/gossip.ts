/**
 * Transaction gossip for the mempool, over the `Network` contract (topic `txs`): transactions admitted
 * from RPC are batched (many per message: per-message cost dominates gossip throughput) and published;
 * inbound batches are size-checked and decoded, each transaction goes through admission with source
 * `gossip`, and the batch's verdict is mapped from the admission results in one place
 * (`batchVerdict`), so a batch carrying a transaction we rejected is never forwarded by us.
 */
import pino, { type Logger } from 'pino';
import { decodeTxBatch, encodeTxBatch } from '../codec/codec.ts';
import { LIMITS } from '../codec/limits.ts';
import { errorMessage } from '../errors.ts';
import type { GossipMessage, Network, Verdict } from '../p2p/network.ts';
import type { TxEnvelope } from '../types.ts';
import type { AdmitResult, LaneMempool, RejectCode } from './types.ts';

/** Codes that mean the sending peer forwarded something no honest node would have admitted. */
const PEER_FAULT: ReadonlySet<RejectCode> = new Set(['UNKNOWN_NAMESPACE', 'TX_TOO_LARGE', 'INVALID_TX']);
/** Codes that mean "we already have it": harmless, the batch may still be forwarded. */
const ALREADY_KNOWN: ReadonlySet<RejectCode> = new Set(['DUPLICATE', 'ALREADY_COMMITTED']);

/**
 * accept: at least one new transaction and every other one already known (forward the batch);
 * reject: some transaction is invalid by deterministic rules (drop, penalise the peer);
 * ignore: anything else (all known, or refused for local reasons such as capacity or nonce state).
 */
export function batchVerdict(results: readonly AdmitResult[]): Verdict {
  let admitted = 0;
  let localRefusal = false;
  for (const r of results) {
    if (r.ok) admitted++;
    else if (PEER_FAULT.has(r.code)) return 'reject';
    else if (!ALREADY_KNOWN.has(r.code)) localRefusal = true;
  }
  return admitted > 0 && !localRefusal ? 'accept' : 'ignore';
}

export interface TxGossipOptions {
  mempool: LaneMempool;
  network: Pick<Network, 'publish' | 'subscribe'>;
  logger?: Logger;
  /** Publish a batch at least this often while transactions wait (ms). */
  flushMs?: number;
  maxBatchTxs?: number;
  maxBatchBytes?: number;
  /** Outbound transactions waiting for a batch beyond this are not gossiped (they stay pending here). */
  maxQueuedTxs?: number;
}

export interface TxGossip {
  start(): void;
  /** Flush what is queued and stop the timer. */
  stop(): Promise<void>;
  /** The inbound handler (exposed for tests; `start` subscribes it). */
  handle(msg: GossipMessage): Verdict;
  flush(): Promise<void>;
}

export function createTxGossip(opts: TxGossipOptions): TxGossip {
  const log = (opts.logger ?? pino({ level: 'silent' })).child({ module: 'mempool-gossip' });
  const flushMs = opts.flushMs ?? 20;
  const maxBatchTxs = Math.min(opts.maxBatchTxs ?? 1000, LIMITS.maxBatchTxs);
  const maxBatchBytes = Math.min(opts.maxBatchBytes ?? 256 * 1024, LIMITS.maxBatchBytes - 64 * 1024);
  const maxQueued = opts.maxQueuedTxs ?? 10 * maxBatchTxs;
  let queue: TxEnvelope[] = [];
  let queuedBytes = 0;
  let timer: NodeJS.Timeout | null = null;
  let running = false;
  let dropped = 0;
  const inflight = new Set<Promise<void>>();

  function publish(batch: TxEnvelope[]): void {
    const p = opts.network
      .publish('txs', encodeTxBatch(batch))
      .catch((err: unknown) =>
        log.debug({ err: errorMessage(err), txs: batch.length }, 'tx batch publish failed'),
      )
      .finally(() => inflight.delete(p));
    inflight.add(p);
  }

  function cut(): void {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    while (queue.length > 0) {
      let bytes = 0;
      let n = 0;
      while (n < queue.length && n < maxBatchTxs) {
        const b = queue[n]!.payload.byteLength + 16;
        if (n > 0 && bytes + b > maxBatchBytes) break;
        bytes += b;
        n++;
      }
      publish(queue.slice(0, n));
      queue = queue.slice(n);
    }
    queuedBytes = 0;
  }

  opts.mempool.onAdmit((tx, source) => {
    if (!running || source !== 'rpc') return;
    if (queue.length >= maxQueued) {
      dropped++;
      if (dropped % 1000 === 1) log.warn({ dropped }, 'gossip queue full; transactions stay local');
      return;
    }
    queue.push(tx);
    queuedBytes += tx.payload.byteLength + 16;
    if (queue.length >= maxBatchTxs || queuedBytes >= maxBatchBytes) cut();
    else if (timer === null) timer = setTimeout(cut, flushMs);
  });

  function handle(msg: GossipMessage): Verdict {
    let txs: TxEnvelope[];
    try {
      txs = decodeTxBatch(msg.data);
    } catch (err) {
      log.debug({ from: msg.from, err: errorMessage(err) }, 'undecodable tx batch');
      return 'reject';
    }
    const results = txs.map((tx) => opts.mempool.add(tx, 'gossip'));
    const verdict = batchVerdict(results);
    if (verdict === 'reject') log.debug({ from: msg.from, txs: txs.length }, 'tx batch rejected');
    return verdict;
  }

  return {
    handle,
    start() {
      if (running) return;
      running = true;
      opts.network.subscribe('txs', handle);
    },
    async flush() {
      cut();
      await Promise.all([...inflight]);
    },
    async stop() {
      cut();
      running = false;
      await Promise.all([...inflight]);
    },
  };
}
