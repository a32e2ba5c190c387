/**
 * The node's `BlockSource` for consensus: the proposer fills blocks from the mempool's fair selection,
 * and validators check a proposal's contents against the rollup registry (known namespace, size limit
 * per rollup, and for executed rollups a payload the VM can decode) before voting for it.
 */
import type { Genesis } from '../config/index.ts';
import type { BlockSource } from '../consensus/index.ts';
import { OrdoError } from '../errors.ts';
import type { LaneMempool } from '../mempool/index.ts';
import type { Block } from '../types.ts';

export type PayloadCheck = (namespace: number, payload: Uint8Array) => string | undefined;

export function createBlockSource(
  genesis: Genesis,
  mempool: LaneMempool,
  checkPayload?: PayloadCheck,
): BlockSource {
  const rollups = new Map(genesis.rollups.map((r) => [r.namespace, r]));
  return {
    pendingTxs: () => mempool.stats().txs,
    findTx: (hash) => mempool.get(hash),
    buildContents(_height, maxBytes, maxTxs) {
      return { txs: mempool.reap({ maxBytes, maxTxs }), bundles: [] };
    },
    validateContents(block: Block) {
      for (const [i, tx] of block.txs.entries()) {
        const r = rollups.get(tx.namespace);
        if (r === undefined) {
          throw new OrdoError(
            'PROPOSAL_UNKNOWN_NAMESPACE',
            `transaction ${i} names unknown namespace ${tx.namespace}`,
          );
        }
        if (tx.payload.byteLength > r.maxTxBytes) {
          throw new OrdoError(
            'PROPOSAL_TX_TOO_LARGE',
            `transaction ${i} is ${tx.payload.byteLength} bytes; ${r.name} allows ${r.maxTxBytes}`,
          );
        }
        const problem = checkPayload?.(tx.namespace, tx.payload);
        if (problem !== undefined) {
          throw new OrdoError(
            'PROPOSAL_INVALID_TX',
            `transaction ${i} (namespace ${tx.namespace}) is invalid: ${problem}`,
          );
        }
      }
    },
  };
}
