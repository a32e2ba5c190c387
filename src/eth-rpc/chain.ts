/**
 * An EVM rollup seen as an Ethereum chain: one rollup block per executed Ordo height (empty or not),
 * derived only from what the node stores (the certified block and the executor's persisted results),
 * so every node and every restart shows the same numbers and hashes (docs/eth-rpc.md, "Blocks"):
 *
 *   number      = Ordo height h (block 0 is the rollup's genesis)
 *   hash        = keccak256("ordo/evm-block/v1" || namespace u32 || Ordo block hash of h)   (h = 0: zeros)
 *   parentHash  = hash of h − 1
 *   timestamp   = floor(header.timeMs / 1000)   (what the TIMESTAMP opcode saw; not strictly increasing)
 *   transactions= the rollup's slice of block h that decodes as an Ethereum transaction, in order
 *
 * A persistent index (the node database, `eth/<namespace>`) maps block hashes to heights and keccak
 * transaction hashes to (height, position); it is written one height at a time after the executor has
 * persisted that height, and caught up from the executor's head on start. `head()` is the last indexed
 * height: everything up to it has receipts. Listeners hear about each newly indexed block (filters,
 * subscriptions).
 *
 * Building a block's view decodes every transaction (RLP, hash): for a large block that is
 * hundreds of ms of main thread, so the loop waits for a `setImmediate` after every `BUILD_SLICE_MS`
 * (ADR 0312): consensus messages, timers and fsync completions are not held for a whole block. What
 * is built does not depend on where it paused (the block, its results and its hashes are read first).
 *
 * Indexing needs each transaction's hash and position, not its ethereumjs object nor its logs bloom
 * (ADR 0339): a well-formed type-2 call is read by lean-1559.ts (its type, recipient and fees), its
 * ethereumjs object is built when something renders it, and the blooms (per transaction and per block)
 * are computed when first read, through a memo of the short inputs (the token address and event topics
 * repeat). Other payloads are decoded by ethereumjs as before; the answers are the same bytes.
 */
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { Common } from '@ethereumjs/common';
import { createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx';
import { Bloom } from '@ethereumjs/vm';
import { keccak_256 } from '@noble/hashes/sha3.js';
import type { Logger } from 'pino';
import {
  type Fields1559,
  keccakMemo,
  type Log,
  type NamespaceResult,
  parse1559,
  type Receipt,
  typedFields,
} from '../exec/index.ts';
import type { KvStore } from '../store/index.ts';
import type { Block } from '../types.ts';
import { ZERO32 } from './params.ts';

/** What the chain view reads from the node. */
export interface ChainSource {
  getBlock(height: number): Promise<Block | undefined>;
  getBlockHash(height: number): Promise<Uint8Array | undefined>;
  getResult(namespace: number, height: number): Promise<NamespaceResult | undefined>;
  /** Last height the executor persisted for this rollup. */
  executedHeight(namespace: number): number;
  /** Lowest height the store still holds (blocks below it were pruned). */
  baseHeight(): number;
  /** The sender of a raw transaction if this node already recovered it (the executor's memo). */
  knownSender?(raw: Uint8Array): Uint8Array | undefined;
}

/** One transaction of a rollup block. */
export interface EthTx {
  hash: Uint8Array;
  /** ethereumjs' transaction object (built on first use for a lean-read type-2 call). */
  readonly tx: TypedTransaction;
  /** The transaction type (0, 1, 2). */
  type: number;
  /** The recipient; undefined for a contract creation. */
  to: Uint8Array | undefined;
  /** The sender (recovered on first use). */
  readonly from: Uint8Array;
  /** Position in the Ethereum block (transactionIndex). */
  index: number;
  receipt: Receipt;
  cumulativeGasUsed: bigint;
  effectiveGasPrice: bigint;
  /** logIndex of this transaction's first log within the block. */
  firstLogIndex: number;
  /** The receipt's logs bloom (computed on first read). */
  readonly logsBloom: Uint8Array;
}

export interface EthBlock {
  number: number;
  hash: Uint8Array;
  parentHash: Uint8Array;
  timestamp: number;
  txs: EthTx[];
  gasUsed: bigint;
  /** The OR of the transactions' blooms (computed on first read). */
  readonly logsBloom: Uint8Array;
  stateRoot: Uint8Array;
  /** keccak256 of the concatenated transaction hashes (empty-trie root when none): not a Merkle-Patricia root. */
  transactionsRoot: Uint8Array;
  /** The executor's results hash of this height (empty-trie root when none). */
  receiptsRoot: Uint8Array;
  /** Encoded size of the block's transactions. */
  size: number;
}

export type BlockListener = (block: EthBlock) => void;

export const EMPTY_TRIE_ROOT = new Uint8Array(
  Buffer.from('56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421', 'hex'),
);
const TAG = new TextEncoder().encode('ordo/evm-block/v1');
const INDEX_HEAD = new Uint8Array([0x68]); // "h"
const CACHE_BLOCKS = 128;
const MAX_SENDER_HINTS = 100_000;
/**
 * Hints are keyed by the whole payload (ADR 0339): only payloads up to this size are hinted (a larger one
 * is hashed when indexed, cheap beside its size), and the keys together stay under MAX_HINT_BYTES, so
 * admitted transactions that never commit cannot make the map large.
 */
const MAX_HINTED_PAYLOAD = 4_096;
const MAX_HINT_BYTES = 32 * 1024 * 1024;
/** Main-thread time a block's view is built for before the event loop gets a turn (ADR 0312). */
export const BUILD_SLICE_MS = 8;

export function ethBlockHash(namespace: number, ordoHash: Uint8Array): Uint8Array {
  const b = new Uint8Array(TAG.length + 4 + 32);
  b.set(TAG, 0);
  new DataView(b.buffer).setUint32(TAG.length, namespace);
  b.set(ordoHash, TAG.length + 4);
  return keccak_256(b);
}

function u64(n: number): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return new Uint8Array(b.buffer, b.byteOffset, 8);
}

const latin1 = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

const key = (prefix: number, h: Uint8Array): Uint8Array => {
  const k = new Uint8Array(1 + h.byteLength);
  k[0] = prefix;
  k.set(h, 1);
  return k;
};

export function effectiveGasPrice(
  tx: TypedTransaction | Pick<Fields1559, 'maxFeePerGas' | 'maxPriorityFeePerGas'>,
  baseFee: bigint,
): bigint {
  if ('maxFeePerGas' in tx) {
    const t = tx as unknown as { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };
    const room = t.maxFeePerGas - baseFee;
    let tip = t.maxPriorityFeePerGas;
    if (room < tip) tip = room;
    return tip > 0n ? baseFee + tip : baseFee;
  }
  return (tx as unknown as { gasPrice: bigint }).gasPrice;
}

/** keccak256 of the blooms' entries (addresses, topics): a token's address and topics repeat. */
const bloomKeccak = keccakMemo(4096, 32);
const BLOOM_CRYPTO = { customCrypto: { keccak256: bloomKeccak } } as unknown as Common;

/** A receipt's logs bloom, as ethereumjs computes it. */
export function logsBloomOf(logs: readonly Log[]): Uint8Array {
  const b = new Bloom(undefined, BLOOM_CRYPTO);
  for (const l of logs) {
    b.add(l.address);
    for (const t of l.topics) b.add(t);
  }
  return b.bitvector;
}

export interface ChainOptions {
  namespace: number;
  common: Common;
  baseFee: bigint;
  genesisTimeMs: number;
  source: ChainSource;
  /** The persistent index (`store.sub('eth/<ns>')`). */
  kv: KvStore;
  logger?: Logger;
  /** Build slice before the event loop gets a turn, ms (default BUILD_SLICE_MS; Infinity: never). */
  buildSliceMs?: number;
}

export class EvmChain {
  readonly namespace: number;
  readonly #o: ChainOptions;
  readonly #chainId: bigint;
  #indexed = 0;
  #queue: Promise<void> = Promise.resolve();
  #stopped = false;
  #stuckAt = -1;
  readonly #listeners = new Set<BlockListener>();
  readonly #cache = new Map<number, EthBlock>();
  /**
   * Hashes and senders admission computed, by the payload's bytes (latin1): indexing then skips the
   * hash and the recovery (ADR 0339).
   */
  readonly #hints = new Map<string, { hash: Uint8Array; from: Uint8Array }>();
  #hintBytes = 0;

  constructor(o: ChainOptions) {
    this.#o = o;
    this.namespace = o.namespace;
    this.#chainId = o.common.chainId();
  }

  /** Load the index head and catch up to the executor (in the background: `advance` is queued). */
  async open(): Promise<void> {
    const h = await this.#o.kv.get(INDEX_HEAD);
    this.#indexed = h === undefined ? 0 : Number(Buffer.from(h).readBigUInt64BE(0));
    this.advance(this.#o.source.executedHeight(this.namespace));
  }

  stop(): Promise<void> {
    this.#stopped = true;
    return this.#queue;
  }

  /** A payload's hash and sender computed elsewhere (admission); used once when its block is built. */
  hintSender(payload: Uint8Array, txHash: Uint8Array, from: Uint8Array): void {
    if (payload.length > MAX_HINTED_PAYLOAD) return;
    const key = latin1(payload);
    if (this.#hints.has(key)) return;
    while (
      this.#hints.size > 0 &&
      (this.#hints.size >= MAX_SENDER_HINTS || this.#hintBytes + key.length > MAX_HINT_BYTES)
    ) {
      const oldest = this.#hints.keys().next().value;
      if (oldest === undefined) break;
      this.#hints.delete(oldest);
      this.#hintBytes -= oldest.length;
    }
    this.#hints.set(key, { hash: txHash, from });
    this.#hintBytes += key.length;
  }

  /** Hints held and their keys' bytes (tests). */
  hintStats(): { count: number; bytes: number } {
    return { count: this.#hints.size, bytes: this.#hintBytes };
  }

  /** The last indexed height (eth_blockNumber). */
  head(): number {
    return this.#indexed;
  }

  onBlock(l: BlockListener): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }

  /** The executor persisted `height`: index every height up to it, in order, then tell listeners. */
  advance(height: number): void {
    this.#queue = this.#queue
      .then(async () => {
        let last = Date.now();
        while (!this.#stopped && this.#indexed < height) {
          const h = this.#indexed + 1;
          if (h < this.#o.source.baseHeight()) {
            // Pruned before it was indexed: nothing to serve for it; move on (docs/eth-rpc.md).
            await this.#o.kv.put(INDEX_HEAD, u64(h));
            this.#indexed = h;
            continue;
          }
          const block = await this.#build(h);
          if (block === undefined) {
            // Executed but not readable: say so once per height; the next executed block retries.
            if (this.#o.source.executedHeight(this.namespace) >= h && this.#stuckAt !== h) {
              this.#stuckAt = h;
              this.#o.logger?.warn(
                { namespace: this.namespace, height: h },
                'eth index cannot read an executed height (block or results missing); waiting',
              );
            }
            return;
          }
          const writes = [
            { key: key(0x42, block.hash), value: u64(h) },
            { key: INDEX_HEAD, value: u64(h) },
          ];
          for (const t of block.txs) {
            const v = new Uint8Array(12);
            v.set(u64(h), 0);
            new DataView(v.buffer).setUint32(8, t.index);
            writes.push({ key: key(0x54, t.hash), value: v });
          }
          await this.#o.kv.batch(writes);
          this.#indexed = h;
          this.#remember(block);
          for (const l of this.#listeners) {
            try {
              l(block);
            } catch (err) {
              this.#o.logger?.warn({ err }, 'eth-rpc block listener failed');
            }
          }
          if (Date.now() - last > 2000) {
            this.#o.logger?.info(
              { namespace: this.namespace, height: h, to: height },
              'eth index catching up',
            );
            last = Date.now();
          }
        }
      })
      .catch((err) => {
        this.#o.logger?.error(
          { err, namespace: this.namespace },
          'eth index failed; retried on the next block',
        );
      });
  }

  /** Wait until everything queued so far is indexed (tests). */
  settled(): Promise<void> {
    return this.#queue;
  }

  async heightOfHash(hash: Uint8Array): Promise<number | undefined> {
    if (hash.byteLength !== 32) return undefined;
    if (Buffer.from(hash).equals(Buffer.from(this.#genesisHash()))) return 0;
    const v = await this.#o.kv.get(key(0x42, hash));
    return v === undefined ? undefined : Number(Buffer.from(v).readBigUInt64BE(0));
  }

  async txLocation(hash: Uint8Array): Promise<{ height: number; index: number } | undefined> {
    const v = await this.#o.kv.get(key(0x54, hash));
    if (v === undefined || v.byteLength !== 12) return undefined;
    const b = Buffer.from(v);
    return { height: Number(b.readBigUInt64BE(0)), index: b.readUInt32BE(8) };
  }

  /** Block `height` if it is indexed (0 ≤ height ≤ head()). */
  async block(height: number): Promise<EthBlock | undefined> {
    if (!Number.isSafeInteger(height) || height < 0 || height > this.#indexed) return undefined;
    const c = this.#cache.get(height);
    if (c !== undefined) return c;
    const b = await this.#build(height);
    if (b !== undefined) this.#remember(b);
    return b;
  }

  /**
   * Whether block `height` has a log `match` accepts, from the executor's receipts alone (no
   * transaction decoding): eth_getLogs skips the blocks that answer false. True when unsure.
   */
  async mayHaveLogs(
    height: number,
    match: (address: Uint8Array, topics: Uint8Array[]) => boolean,
  ): Promise<boolean> {
    if (height < 1 || height > this.#indexed) return false;
    const cached = this.#cache.get(height);
    const receipts =
      cached?.txs.map((t) => t.receipt) ?? (await this.#o.source.getResult(this.namespace, height))?.receipts;
    if (receipts === undefined) return true;
    return receipts.some((r) => r.logs.some((l) => match(l.address, l.topics)));
  }

  #remember(b: EthBlock): void {
    this.#cache.set(b.number, b);
    if (this.#cache.size > CACHE_BLOCKS) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
  }

  #genesisHash(): Uint8Array {
    return ethBlockHash(this.namespace, ZERO32);
  }

  async #hashOf(height: number): Promise<Uint8Array | undefined> {
    if (height === 0) return this.#genesisHash();
    const oh = await this.#o.source.getBlockHash(height);
    return oh === undefined ? undefined : ethBlockHash(this.namespace, oh);
  }

  async #build(height: number): Promise<EthBlock | undefined> {
    const { source, namespace, baseFee } = { ...this.#o, namespace: this.namespace };
    if (height === 0) {
      return {
        number: 0,
        hash: this.#genesisHash(),
        parentHash: ZERO32,
        timestamp: Math.floor(this.#o.genesisTimeMs / 1000),
        txs: [],
        gasUsed: 0n,
        logsBloom: new Uint8Array(256),
        stateRoot: ZERO32,
        transactionsRoot: EMPTY_TRIE_ROOT,
        receiptsRoot: EMPTY_TRIE_ROOT,
        size: 0,
      };
    }
    if (source.executedHeight(namespace) < height) return undefined;
    const [block, result, hash, parentHash] = await Promise.all([
      source.getBlock(height),
      source.getResult(namespace, height),
      this.#hashOf(height),
      this.#hashOf(height - 1),
    ]);
    if (block === undefined || result === undefined || hash === undefined || parentHash === undefined)
      return undefined;
    const payloads = block.txs.filter((t) => t.namespace === namespace).map((t) => t.payload);
    const txs: EthTx[] = [];
    const common = this.#o.common;
    let cumulative = 0n;
    let logIndex = 0;
    let size = 0;
    const sliceMs = this.#o.buildSliceMs ?? BUILD_SLICE_MS;
    let since = performance.now();
    for (let i = 0; i < payloads.length; i++) {
      if (performance.now() - since >= sliceMs) {
        await nextMacrotask();
        since = performance.now();
      }
      const raw = payloads[i]!;
      const receipt = result.receipts[i];
      if (receipt === undefined) continue;
      // A well-formed type-2 call: its fields without ethereumjs (ADR 0339); the object when rendered.
      const f = raw[0] === 2 ? parse1559(raw, typedFields(raw), common, this.#chainId) : undefined;
      let tx: TypedTransaction | undefined;
      if (f === undefined) {
        try {
          tx = createTxFromRLP(raw, { common }) as TypedTransaction;
        } catch {
          continue; // not an Ethereum transaction (submitted raw through ordo_*): not part of the EVM block
        }
      }
      const txOf = (): TypedTransaction => {
        tx ??= createTxFromRLP(raw, { common }) as TypedTransaction;
        return tx;
      };
      // The sender is recovered only when a block is rendered (indexing needs hashes, not signatures),
      // and not at all when admission here already recovered it.
      const hintKey = latin1(raw);
      const hint = this.#hints.get(hintKey);
      if (hint !== undefined) {
        this.#hints.delete(hintKey);
        this.#hintBytes -= hintKey.length;
      }
      const hash = hint?.hash ?? keccak_256(raw);
      let sender: Uint8Array | undefined = hint?.from;
      const senderOf = (): Uint8Array => {
        // Gossiped transactions: mempool classification recovered it on this node (ADR 0180).
        if (sender === undefined) sender = source.knownSender?.(raw);
        if (sender === undefined) {
          try {
            sender = txOf().getSenderAddress().bytes;
          } catch {
            sender = new Uint8Array(20); // the executor found it invalid; its receipt says so
          }
        }
        return sender;
      };
      cumulative += receipt.gasUsed;
      let txBloom: Uint8Array | undefined;
      txs.push({
        hash,
        get tx() {
          return txOf();
        },
        type: f !== undefined ? 2 : tx!.type,
        to: f !== undefined ? f.to : tx!.to?.bytes,
        get from() {
          return senderOf();
        },
        index: txs.length,
        receipt,
        cumulativeGasUsed: cumulative,
        effectiveGasPrice: effectiveGasPrice(f ?? tx!, baseFee),
        firstLogIndex: logIndex,
        get logsBloom() {
          txBloom ??= logsBloomOf(receipt.logs);
          return txBloom;
        },
      });
      logIndex += receipt.logs.length;
      size += raw.byteLength;
    }
    let blockBloom: Uint8Array | undefined;
    const concat = Buffer.concat(txs.map((t) => t.hash));
    return {
      number: height,
      hash,
      parentHash,
      timestamp: Math.floor(block.header.timeMs / 1000),
      txs,
      gasUsed: cumulative,
      get logsBloom() {
        if (blockBloom === undefined) {
          blockBloom = new Uint8Array(256);
          for (const t of txs) {
            const b = t.logsBloom;
            for (let j = 0; j < 256; j++) blockBloom[j]! |= b[j]!;
          }
        }
        return blockBloom;
      },
      stateRoot: result.stateRoot,
      transactionsRoot: txs.length === 0 ? EMPTY_TRIE_ROOT : keccak_256(concat),
      receiptsRoot: txs.length === 0 ? EMPTY_TRIE_ROOT : result.resultsHash,
      size,
    };
  }
}
