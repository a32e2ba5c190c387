/**
 * Wiring between the mempool and batched transaction gossip. The batching, bounded outbound queue and
 * the batch verdict live in p2p (`TxGossip`, `verdictForBatch`); this module connects the two without
 * the mempool importing p2p: RPC admissions are pushed into gossip batches (transactions that came
 * from gossip are forwarded by the gossip layer itself, and re-injected ones were already in a
 * proposal every validator saw), and every transaction of a received batch goes through admission
 * with source `gossip`, whose result drives the batch verdict.
 */
import type { TxEnvelope } from '../types.ts';
import type { AdmitResult, LaneMempool } from './types.ts';

/** What the mempool needs from a gossip batcher (p2p's `TxGossip` fits). */
export interface TxGossipSink {
  push(tx: TxEnvelope): void;
}

/** Push every RPC admission into the gossip batcher. */
export function connectTxGossip(mempool: LaneMempool, sink: TxGossipSink): void {
  mempool.onAdmit((tx, source) => {
    if (source === 'rpc') sink.push(tx);
  });
}

/** The `admit` callback for the gossip batcher: admission with source `gossip`. */
export function gossipAdmit(mempool: LaneMempool): (tx: TxEnvelope) => AdmitResult {
  return (tx) => mempool.add(tx, 'gossip');
}
