/**
 * The mempool's records and their intrusive lists. Every pending transaction is one `Entry`, linked
 * into the pool-wide arrival list (`gPrev`/`gNext`, pending.ts) and into exactly one of its lane's two
 * queues (`lPrev`/`lNext`): `ready` (executable, FIFO, what selection walks) or `held` (nonce-gapped,
 * waiting, evicted first). A `Lane` is one registered rollup's share of the pool (lanes.ts); a
 * `SenderState` is one sender's nonces in one executed lane (nonces.ts). Unlinking is O(1).
 */
import { latin1Key } from '../crypto/index.ts';
import type { Namespace, TxEnvelope } from '../types.ts';
import type { LaneCounters } from './metrics.ts';
import type { FairLane } from './select.ts';

export interface Queue {
  head: Entry | null;
  tail: Entry | null;
  count: number;
}

export interface SenderState {
  key: string;
  lane: Lane;
  /** The committed next nonce (nonces below it are used up). */
  base: bigint;
  /** The first nonce not in the contiguous ready run that starts at `base`. */
  next: bigint;
  txs: Map<bigint, Entry>;
}

export interface Entry {
  /** The transaction id (32 bytes; the pending set's key). */
  hash: Uint8Array;
  tx: TxEnvelope;
  bytes: number;
  lane: Lane;
  arrivedMs: number;
  heldSinceMs: number;
  ready: boolean;
  live: boolean;
  sender: SenderState | null;
  nonce: bigint;
  gPrev: Entry | null;
  gNext: Entry | null;
  lPrev: Entry | null;
  lNext: Entry | null;
}

export interface Lane {
  namespace: Namespace;
  weight: number;
  classified: boolean;
  maxTxBytes: number;
  maxTxs: number;
  maxBytes: number;
  /** This lane's weighted share of the total capacity (cross-lane eviction). */
  shareTxs: number;
  shareBytes: number;
  txs: number;
  bytes: number;
  /** Sender states (senders with pending nonce-tracked transactions) in this lane. */
  senders: number;
  ready: Queue;
  held: Queue;
  fair: FairLane<Entry>;
  counters: LaneCounters;
}

export function keyOfHash(hash: Uint8Array): string | undefined {
  if (!(hash instanceof Uint8Array) || hash.byteLength !== 32) return undefined;
  return latin1Key(hash);
}

export function newQueue(): Queue {
  return { head: null, tail: null, count: 0 };
}

export function qAppend(q: Queue, e: Entry): void {
  e.lNext = null;
  e.lPrev = q.tail;
  if (q.tail) q.tail.lNext = e;
  else q.head = e;
  q.tail = e;
  q.count++;
}

export function qRemove(q: Queue, e: Entry): void {
  if (e.lPrev) e.lPrev.lNext = e.lNext;
  else q.head = e.lNext;
  if (e.lNext) e.lNext.lPrev = e.lPrev;
  else q.tail = e.lPrev;
  e.lPrev = null;
  e.lNext = null;
  q.count--;
}
