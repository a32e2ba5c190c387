/**
 * The lane mempool: one FIFO lane per registered rollup, bounded admission, weighted fair reaping and a
 * status for every transaction hash. See docs/mempool.md for the full specification. This module
 * builds the parts and exposes them as one `LaneMempool`; each part owns one thing:
 *
 * | module        | owns                                                                          |
 * |---------------|-------------------------------------------------------------------------------|
 * | limits.ts     | the limits, their defaults and validation                                     |
 * | lanes.ts      | one lane per rollup: its limits, weighted share, queues, counters             |
 * | entry.ts      | the pending-transaction record and the intrusive queues                       |
 * | id-table.ts   | the open-addressing table of 32-byte ids that pending.ts and status.ts use    |
 * | pending.ts    | the pending set: by hash, in arrival order, counts and bytes                  |
 * | nonces.ts     | senders' nonces in executed lanes: ready runs, held gaps, next-nonce memory   |
 * | status.ts     | final statuses (committed / dropped) and the recently committed hashes        |
 * | capacity.ts   | backlog by commit rate, high water, eviction                                  |
 * | admission.ts  | the checks a transaction passes to get in                                     |
 * | block.ts      | reap (fair selection, select.ts) and commit                                   |
 * | pool.ts       | the parts together, drop and expiry                                           |
 */
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import type { RollupConfig } from '../config/index.ts';
import type { Namespace } from '../types.ts';
import { admit } from './admission.ts';
import { commit, reap } from './block.ts';
import { keyOfHash } from './entry.ts';
import { createLanes, type Lanes } from './lanes.ts';
import { type MempoolLimits, resolveLimits } from './limits.ts';
import { createMempoolMetrics } from './metrics.ts';
import { NonceBook } from './nonces.ts';
import { Pool } from './pool.ts';
import type { Classifier, LaneMempool, TxStatus } from './types.ts';

export { DEFAULT_MEMPOOL_LIMITS, type MempoolLimits } from './limits.ts';

export interface MempoolOptions {
  rollups: RollupConfig[];
  limits?: Partial<MempoolLimits>;
  /** Milliseconds; defaults to Date.now. */
  clock?: () => number;
  /** Sender + nonce for executed lanes (`transfer`, `evm`); never called for opaque lanes. */
  classify?: Classifier;
  /** The committed next nonce of an account; asked when a sender first appears. Default 0n. */
  accountNonce?: (namespace: Namespace, sender: string) => bigint;
  registry?: Registry;
  logger?: Logger;
}

export function createMempool(opts: MempoolOptions): LaneMempool {
  const limits = resolveLimits(opts.limits);
  const log = (opts.logger ?? pino({ level: 'silent' })).child({ module: 'mempool' });
  const lanes: Lanes = { byNamespace: new Map(), sorted: [] };
  const metrics = createMempoolMetrics(opts.registry ?? new Registry(), () =>
    lanes.sorted.map((l) => ({ namespace: l.namespace, txs: l.txs, bytes: l.bytes })),
  );
  createLanes(opts.rollups, limits, opts.classify !== undefined, metrics, lanes);
  const pool = new Pool({
    limits,
    lanes,
    nonces: new NonceBook(limits, opts.accountNonce ?? (() => 0n), log),
    clock: opts.clock ?? Date.now,
    classify: opts.classify,
    log,
    unknownCounters: metrics.lane('unknown'),
  });
  const { pending } = pool;

  return {
    add: (tx, source) => admit(pool, tx, source),
    reap: (l) => reap(pool, l),
    update: (height, committed) => commit(pool, height, committed),
    status(hash): TxStatus {
      const now = pool.clock();
      pool.sweep(now);
      const key = keyOfHash(hash);
      if (key === undefined) return { status: 'unknown' };
      if (pending.has(hash)) return { status: 'pending' };
      return pool.status.final(hash, key, now);
    },
    reinject(txs) {
      return txs.map((tx) => admit(pool, tx, 'reinject'));
    },
    get(hash) {
      return hash instanceof Uint8Array ? pending.get(hash)?.tx : undefined;
    },
    has(hash) {
      return hash instanceof Uint8Array && pending.has(hash);
    },
    pendingHashes: () => pending.hashes(),
    invalidate(hash, message) {
      const e = hash instanceof Uint8Array ? pending.get(hash) : undefined;
      if (!e) return false;
      pool.drop(e, 'invalid', message, pool.clock());
      return true;
    },
    prune() {
      pool.sweep(pool.clock());
    },
    nextNonce(namespace, sender) {
      const lane = lanes.byNamespace.get(namespace);
      if (lane === undefined || !lane.classified) return undefined;
      return pool.nonces.nextFor(lane, sender);
    },
    onAdmit(listener) {
      pool.listeners.push(listener);
    },
    stats() {
      const backlogLimit = pool.backlog.limit;
      return {
        txs: pending.txs,
        bytes: pending.bytes,
        ...(Number.isFinite(backlogLimit) ? { backlogLimit } : {}),
        lanes: lanes.sorted.map((l) => ({ namespace: l.namespace, txs: l.txs, bytes: l.bytes })),
      };
    },
  };
}
