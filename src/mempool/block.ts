/**
 * What a block takes from the pool and gives back. `reap`: the weighted fair selection (select.ts)
 * over the lanes' ready queues, without removing anything. `commit`: a block's transactions leave the
 * pool with status committed (one shared record per block, status.ts); nonces they used up drop the
 * pending transactions that competed for them (`replaced`) and release the ones waiting behind them.
 */
import { txHash } from '../codec/index.ts';
import type { TxEnvelope } from '../types.ts';
import type { SenderState } from './entry.ts';
import { NonceBook } from './nonces.ts';
import type { Pool } from './pool.ts';
import { selectFair } from './select.ts';
import type { Classifier, ReapLimits } from './types.ts';

export function reap(pool: Pool, l: ReapLimits): TxEnvelope[] {
  pool.sweep(pool.clock());
  const lanes = pool.lanes.sorted;
  const budgets = l.budgets;
  for (const lane of lanes) {
    lane.fair.head = lane.ready.head;
    lane.fair.maxCost = budgets?.left.get(lane.namespace);
  }
  const picked = selectFair(
    pool.fairLanes,
    l,
    (e) => e.bytes,
    (e) => e.lNext,
    budgets === undefined ? undefined : (e) => budgets.costOf(e.tx),
  );
  const out: TxEnvelope[] = [];
  for (const lanePicks of picked) {
    for (const e of lanePicks) {
      out.push(e.tx);
      pool.byObject.set(e.tx, e);
    }
  }
  return out;
}

export function commit(pool: Pool, height: number, committed: TxEnvelope[]): void {
  const now = pool.clock();
  const { pending, nonces } = pool;
  const touched = new Map<SenderState, bigint>();
  const block = pool.status.committedBlock(height, now, committed.length);
  for (let i = 0; i < committed.length; i++) {
    const tx = committed[i]!;
    let e = pool.byObject.get(tx);
    if (e !== undefined && !e.live) e = undefined;
    let id: Uint8Array;
    if (e !== undefined) {
      id = e.hash;
    } else {
      if (!Number.isInteger(tx?.namespace) || !(tx.payload instanceof Uint8Array)) continue;
      id = txHash(tx);
      e = pending.get(id);
    }
    if (e !== undefined) {
      pending.remove(e);
      e.lane.counters.waitSeconds.observe(Math.max(0, now - e.arrivedMs) / 1000);
      if (e.sender) NonceBook.noteCommitted(touched, e.sender, e.nonce);
    } else {
      const lane = pool.lanes.byNamespace.get(tx.namespace);
      // Classifying costs (an EVM signature recovery is ~1 ms): only when this lane has senders
      // with pending transactions whose nonces the commit may use up. Idle senders' nonces come
      // from `accountNonce` (the executor's committed state) when they next appear.
      if (lane?.classified && lane.senders > 0) {
        let c: ReturnType<Classifier>;
        try {
          c = pool.classify!(tx);
        } catch {
          c = undefined;
        }
        if (c !== undefined && !('error' in c)) {
          const skey = NonceBook.senderKey(lane, c.sender);
          const st = nonces.get(skey);
          if (st) NonceBook.noteCommitted(touched, st, c.nonce);
          else nonces.noteCommittedIdle(skey, c.nonce);
        }
      }
    }
    pool.status.committed(id, block, i);
  }
  for (const [st, maxNonce] of touched) pool.settle(st, maxNonce, height, now);
  pool.sweep(now);
  pool.backlog.noteCommit(now, committed.length);
  pool.log.debug({ height, committed: committed.length, pending: pending.txs }, 'mempool updated');
}
