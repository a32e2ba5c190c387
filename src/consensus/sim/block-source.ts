/**
 * The simulator's `BlockSource` (the one place the simulator meets the block-building interface): a
 * proposer fills a block with 0..2 small seeded transactions (an empty source exercises the engine's
 * wait-for-transactions loop), validates nothing, and looks transactions up in `SimTxPool`, a model of
 * mempool gossip: each transaction is known to its builder and to a seeded subset of the other nodes,
 * so compact proposals sometimes rebuild from the pool and sometimes fetch the rest through sync.
 */

import { txHash } from '../../codec/index.ts';
import { latin1Key } from '../../crypto/index.ts';
import type { Block, TxEnvelope } from '../../types.ts';
import { builtOf } from '../testing/simple-source.ts';
import type { BlockSource } from '../types.ts';
import type { Rng } from './rng.ts';

export class SimTxPool {
  readonly #txs = new Map<string, { tx: TxEnvelope; knownBy: Set<number> }>();
  readonly #rng: Rng;
  readonly #nodes: number;
  readonly #gossipRate: number;

  constructor(rng: Rng, nodes: number, gossipRate: number) {
    this.#rng = rng;
    this.#nodes = nodes;
    this.#gossipRate = gossipRate;
  }

  /** A new transaction built by `node`; the seeded gossip model decides who else holds it. */
  add(node: number, tx: TxEnvelope): void {
    const knownBy = new Set([node]);
    for (let i = 0; i < this.#nodes; i++)
      if (i !== node && this.#rng.chance(this.#gossipRate)) knownBy.add(i);
    this.#txs.set(latin1Key(txHash(tx)), { tx, knownBy });
  }

  /** The transaction if `node` holds it (or anyone does, for node -1: the omniscient adversary). */
  find(node: number, hash: Uint8Array): TxEnvelope | undefined {
    const e = this.#txs.get(latin1Key(hash));
    if (e === undefined || (node >= 0 && !e.knownBy.has(node))) return undefined;
    return e.tx;
  }

  /** `node` now holds every transaction of a block it decided (as a node's decided-tx cache does). */
  learn(node: number, block: Block): void {
    for (const tx of block.txs) this.#txs.get(latin1Key(txHash(tx)))?.knownBy.add(node);
  }
}

export interface SimSourceOptions {
  /** Saturated load: this many transactions of `txBytes` bytes in every block (bench/scaling.ts). */
  workload?: { txsPerBlock: number; txBytes: number };
  /** Told of every block built (the simulator charges its tx gossip to the uplinks). */
  onBuilt?: (height: number, txs: TxEnvelope[]) => void;
}

let workloadSeq = 0;

export function simBlockSource(
  node: number,
  rng: Rng,
  pool: SimTxPool,
  emptyRate: number,
  opts: SimSourceOptions = {},
): BlockSource {
  const w = opts.workload;
  return {
    build(height) {
      const txs: TxEnvelope[] = [];
      if (w !== undefined) {
        for (let k = 0; k < w.txsPerBlock; k++) {
          const payload = new Uint8Array(Math.max(8, w.txBytes));
          new DataView(payload.buffer).setFloat64(0, workloadSeq++);
          const tx = { namespace: 1, payload };
          pool.add(node, tx);
          txs.push(tx);
        }
        opts.onBuilt?.(height, txs);
        return Promise.resolve(builtOf(txs));
      }
      if (!rng.chance(emptyRate)) {
        for (let k = 1, count = rng.int(1, 2); k <= count; k++) {
          const tx = { namespace: 1 + k, payload: new Uint8Array([height & 255, node, k, rng.int(0, 255)]) };
          pool.add(node, tx);
          txs.push(tx);
        }
      }
      opts.onBuilt?.(height, txs);
      return Promise.resolve(builtOf(txs));
    },
    verify: () => Promise.resolve({ ok: true }),
    findTx: (hash) => pool.find(node, hash),
  };
}
