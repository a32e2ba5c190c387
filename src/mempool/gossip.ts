/**
 * Wiring between the mempool and batched transaction gossip. The batching, bounded outbound queue and
 * the batch verdict live in p2p (`TxGossip`, `verdictForBatch`); this module connects the two without
 * the mempool importing p2p: every transaction of a received batch goes through admission with source
 * `gossip`, whose result drives the batch verdict. The outbound side (client admissions pushed into
 * gossip batches) is the ingress's (src/ingress): one door, one push.
 */
import type { TxEnvelope } from '../types.ts';
import type { AdmitResult, LaneMempool } from './types.ts';

/** The `admit` callback for the gossip batcher: admission with source `gossip`. */
export function gossipAdmit(mempool: LaneMempool): (tx: TxEnvelope) => AdmitResult {
  return (tx) => mempool.add(tx, 'gossip');
}
