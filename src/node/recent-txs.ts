/**
 * Transactions of the last few decided blocks, for peers rebuilding a compact proposal. A validator
 * that is a moment behind fetches the transactions it lacks from its peers; if those peers have
 * decided that height meanwhile, the transactions have already left their pools (the pool drops a
 * block's transactions at decision, before the block is stored). Without this the fetch came back
 * empty, the rebuild failed, and the lagging node needed a catch-up (seconds, at times a round) to
 * rejoin. Lookups are rare (only missed transactions), so a block's hash index is built on the first
 * lookup that reaches it, not on every decision.
 */
import { txHash } from '../codec/index.ts';
import { latin1Key } from '../crypto/index.ts';
import type { Block, TxEnvelope } from '../types.ts';

export class RecentlyDecided {
  readonly #max: number;
  readonly #blocks: { block: Block; index?: Map<string, TxEnvelope> }[] = [];

  constructor(maxBlocks = 8) {
    this.#max = Math.max(1, maxBlocks);
  }

  add(block: Block): void {
    this.#blocks.push({ block });
    if (this.#blocks.length > this.#max) this.#blocks.shift();
  }

  /** The decided transaction with this id, newest block first; undefined when none holds it. */
  find(hash: Uint8Array): TxEnvelope | undefined {
    const key = latin1Key(hash);
    for (let i = this.#blocks.length - 1; i >= 0; i--) {
      const b = this.#blocks[i]!;
      if (b.index === undefined) {
        b.index = new Map();
        for (const tx of b.block.txs) b.index.set(latin1Key(txHash(tx)), tx);
      }
      const tx = b.index.get(key);
      if (tx !== undefined) return tx;
    }
    return undefined;
  }
}
