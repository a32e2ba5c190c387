/**
 * Batched transaction gossip. The mempool hands admitted transactions to `push`; they are collected into
 * a `TxBatch` and published on the `txs` topic when the batch reaches `maxTxs` transactions or
 * `maxBytes` encoded bytes, or `flushMs` after its first transaction, whichever comes first: never one
 * gossip message per transaction. Sealed batches wait in a bounded outbound queue (drop-oldest, counted
 * in `ordo_p2p_queue_dropped_total{queue="tx_batches"}`) while earlier publishes are in flight. Received
 * batches are size-checked and decoded by the codec, each transaction is passed to `admit`, and the
 * batch verdict comes from verdict.ts (an invalid transaction rejects the batch and penalises the
 * forwarder; a batch with nothing new is not forwarded).
 *
 * Admission of a received batch runs in slices (ADR 0309): once a slice has taken `admitSliceMs`, the
 * rest waits for a `setImmediate`, so a consensus message, a timer or an fsync completion queued
 * behind a 1,024-transaction batch is not held for its whole admission. Batches are admitted one after
 * another, in arrival order, so the mempool sees the same transactions in the same order as without
 * slices; only other work (not other batches) runs between the slices.
 */
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import pino, { type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { decodeTxBatch, encodeTxBatch, txHash, txWireSize } from '../codec/index.ts';
import { latin1Key } from '../crypto/index.ts';
import { errorMessage } from '../errors.ts';
import type { AdmitResult, TxEnvelope } from '../types.ts';
import { createP2pMetrics, type P2pMetrics } from './metrics.ts';
import type { Network, PeerId, Verdict } from './network.ts';
import { verdictForBatch, verdictForError } from './verdict.ts';

export type AdmitFn = (tx: TxEnvelope, from: PeerId) => boolean | AdmitResult;

export interface TxGossipOptions {
  network: Network;
  /** Called for every transaction of a received batch. `true`/`{ok:true}` = new and admitted. */
  admit: AdmitFn;
  /** Flush when the batch holds this many transactions (default 512). */
  maxTxs?: number;
  /** Flush when the encoded batch would exceed this many bytes (default 256 KiB). */
  maxBytes?: number;
  /** Flush this long after the first transaction entered an empty batch (default 40 ms, ADR 0151). */
  flushMs?: number;
  /** Sealed batches waiting to be published; the oldest is dropped when full (default 64). */
  maxQueuedBatches?: number;
  /** Limits for decoding received batches (default: the codec's protocol limits). */
  decodeLimits?: { maxBatchBytes: number; maxBatchTxs: number; maxTxBytes: number };
  /**
   * Admit a received batch for at most this long before letting the event loop run (ms, default 8;
   * 0 = the whole batch at once, as before ADR 0309).
   */
  admitSliceMs?: number;
  logger?: Logger;
  registry?: Registry;
}

/** Default admission slice: short next to a consensus timeout, long enough that yields cost nothing. */
export const ADMIT_SLICE_MS = 8;
/**
 * Received batches waiting for admission at most; one more is answered `ignore` (not forwarded, not
 * penalised) and counted in `ordo_p2p_queue_dropped_total{queue="tx_admissions"}`. Before slices the
 * synchronous handler was its own back-pressure; this bounds what a slow node holds instead.
 */
export const MAX_QUEUED_ADMISSIONS = 256;

/** Queued, not yet admitted transactions `queuedTxs` looks through at most per call. */
const MAX_QUEUED_SCAN = 16_384;

/** A received batch being admitted: its transactions, how far admission got, and its results. */
interface Admission {
  readonly from: PeerId;
  readonly txs: TxEnvelope[];
  next: number;
  readonly results: AdmitResult[];
  resolve?: (v: Verdict) => void;
}

const ADMITTED: AdmitResult = { ok: true, hash: new Uint8Array(0) };
const NOT_NEW: AdmitResult = { ok: false, code: 'DUPLICATE', message: 'not admitted', retryable: false };

export class TxGossip {
  private readonly network: Network;
  private readonly admitFn: AdmitFn;
  private readonly maxTxs: number;
  private readonly maxBytes: number;
  private readonly flushMs: number;
  private readonly maxQueued: number;
  private readonly decodeLimits: TxGossipOptions['decodeLimits'];
  private readonly log: Logger;
  private readonly metrics: P2pMetrics;
  private batch: TxEnvelope[] = [];
  private batchBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly queue: Uint8Array[] = [];
  private publishing = false;
  /** Batches sealed / handed to the network (or dropped) so far, for `flush()`. */
  private sealedCount = 0;
  private handedCount = 0;
  private flushWaiters: { target: number; resolve: () => void }[] = [];
  private stopped = false;
  private readonly admitSliceMs: number;
  /** Batches whose admission has not finished, oldest first (the first is the one being admitted). */
  private readonly admissions: Admission[] = [];

  constructor(opts: TxGossipOptions) {
    this.network = opts.network;
    this.admitFn = opts.admit;
    this.maxTxs = opts.maxTxs ?? 512;
    this.maxBytes = opts.maxBytes ?? 256 * 1024;
    this.flushMs = opts.flushMs ?? 40;
    this.maxQueued = opts.maxQueuedBatches ?? 64;
    this.decodeLimits = opts.decodeLimits;
    this.admitSliceMs = opts.admitSliceMs ?? ADMIT_SLICE_MS;
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({ module: 'tx-gossip' });
    this.metrics = createP2pMetrics(opts.registry);
    this.network.subscribe('txs', (msg) => this.onBatch(msg.from, msg.data));
  }

  /**
   * Of `hashes`, the transactions this node received in gossip batches but has not admitted yet (their
   * batch waits in the admission queue): a compact proposal's rebuild takes them from here rather than
   * fetching them from a peer (ADR 0346). Scans at most MAX_QUEUED_SCAN queued transactions; their
   * hashes are memoised on the envelopes, so admission does not hash them again.
   */
  queuedTxs(hashes: readonly Uint8Array[]): TxEnvelope[] {
    if (this.admissions.length === 0 || hashes.length === 0) return [];
    const want = new Set(hashes.map(latin1Key));
    const out: TxEnvelope[] = [];
    let scanned = 0;
    for (const a of this.admissions) {
      for (let i = a.next; i < a.txs.length; i++) {
        if (++scanned > MAX_QUEUED_SCAN) return out;
        const tx = a.txs[i]!;
        if (want.delete(latin1Key(txHash(tx)))) {
          out.push(tx);
          if (want.size === 0) return out;
        }
      }
    }
    return out;
  }

  /** Queue one admitted transaction for gossip. */
  push(tx: TxEnvelope): void {
    if (this.stopped) return;
    const size = txWireSize(tx);
    if (this.batch.length > 0 && this.batchBytes + size > this.maxBytes) this.seal();
    this.batch.push(tx);
    this.batchBytes += size;
    if (this.batch.length >= this.maxTxs || this.batchBytes >= this.maxBytes) {
      this.seal();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.seal();
      }, this.flushMs);
    }
  }

  /**
   * Seal the open batch and resolve once every batch sealed so far has been handed to the network (or
   * dropped from a full queue). Batches sealed later are not waited for, so under a steady stream this
   * returns after the current backlog, not when the stream pauses. A proposer calls it before sending a
   * compact proposal, so the transactions it names left first.
   */
  async flush(): Promise<void> {
    this.seal();
    const target = this.sealedCount;
    if (this.handedCount >= target) return;
    await new Promise<void>((resolve) => this.flushWaiters.push({ target, resolve }));
  }

  /** One more sealed batch left the queue (published, failed, or dropped): wake `flush()` callers. */
  private handedOne(): void {
    this.handedCount++;
    if (this.flushWaiters.length === 0) return;
    const keep: { target: number; resolve: () => void }[] = [];
    for (const w of this.flushWaiters) {
      if (w.target <= this.handedCount) w.resolve();
      else keep.push(w);
    }
    this.flushWaiters = keep;
  }

  /** Stop batching; pending transactions are flushed first. */
  async stop(): Promise<void> {
    await this.flush();
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Transactions waiting in the open batch, and sealed batches waiting to be published. */
  depth(): { txs: number; batches: number } {
    return { txs: this.batch.length, batches: this.queue.length };
  }

  private seal(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.batch.length === 0) return;
    const bytes = encodeTxBatch(this.batch);
    this.batch = [];
    this.batchBytes = 0;
    this.queue.push(bytes);
    this.sealedCount++;
    if (this.queue.length > this.maxQueued) {
      this.queue.shift();
      this.metrics.queueDropped.inc({ queue: 'tx_batches' });
      this.handedOne();
    }
    this.metrics.queueDepth.set({ queue: 'tx_batches' }, this.queue.length);
    if (!this.publishing) void this.pump();
  }

  private async pump(): Promise<void> {
    this.publishing = true;
    try {
      for (;;) {
        const next = this.queue.shift();
        if (next === undefined) break;
        this.metrics.queueDepth.set({ queue: 'tx_batches' }, this.queue.length);
        try {
          await this.network.publish('txs', next);
        } catch (err) {
          this.log.warn({ err: errorMessage(err), bytes: next.byteLength }, 'tx batch publish failed');
        }
        this.handedOne();
      }
    } finally {
      this.publishing = false;
    }
  }

  private onBatch(from: PeerId, data: Uint8Array): Verdict | Promise<Verdict> {
    let txs: TxEnvelope[];
    try {
      txs = decodeTxBatch(data, this.decodeLimits);
    } catch (err) {
      return verdictForError(err);
    }
    const a: Admission = { from, txs, next: 0, results: [] };
    // Nothing queued: the first slice runs now, and a batch that fits in it answers at once.
    if (this.admissions.length === 0 && this.admitSlice(a)) return verdictForBatch(a.results);
    if (this.admissions.length >= MAX_QUEUED_ADMISSIONS) {
      this.metrics.queueDropped.inc({ queue: 'tx_admissions' });
      return 'ignore';
    }
    const verdict = new Promise<Verdict>((resolve) => {
      a.resolve = resolve;
    });
    this.admissions.push(a);
    this.metrics.queueDepth.set({ queue: 'tx_admissions' }, this.admissions.length);
    if (this.admissions.length === 1) void this.admitQueued();
    return verdict;
  }

  /** Admit queued batches in order, one slice per event-loop turn, until none is left. */
  private async admitQueued(): Promise<void> {
    for (;;) {
      await nextMacrotask();
      const a = this.admissions[0];
      if (a === undefined) return;
      if (!this.admitSlice(a)) continue;
      this.admissions.shift();
      this.metrics.queueDepth.set({ queue: 'tx_admissions' }, this.admissions.length);
      a.resolve?.(verdictForBatch(a.results));
    }
  }

  /** Admit from `a.next` until the batch is done (true) or the slice has run `admitSliceMs` (false). */
  private admitSlice(a: Admission): boolean {
    const slice = this.admitSliceMs;
    const start = slice > 0 ? performance.now() : 0;
    while (a.next < a.txs.length) {
      const tx = a.txs[a.next++]!;
      let r: boolean | AdmitResult;
      try {
        r = this.admitFn(tx, a.from);
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, 'admit threw');
        r = false;
      }
      a.results.push(r === true ? ADMITTED : r === false ? NOT_NEW : r);
      if (slice > 0 && a.next < a.txs.length && performance.now() - start >= slice) return false;
    }
    return true;
  }
}
