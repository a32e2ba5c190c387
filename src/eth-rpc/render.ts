/**
 * Ethereum JSON renderings of rollup blocks, transactions, receipts and logs: every field viem and
 * ethers v6 read, hex quantities, `null` for what a pending transaction does not have yet.
 */
import type { TypedTransaction } from '@ethereumjs/tx';
import type { Log } from '../exec/index.ts';
import { EMPTY_TRIE_ROOT, type EthBlock, type EthTx } from './chain.ts';
import { data, qty, ZERO32 } from './params.ts';

/** keccak256(rlp([])): the ommers hash of a block without ommers. */
const EMPTY_UNCLES = '0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347';

export interface RenderContext {
  chainId: bigint;
  baseFee: bigint;
  /** 0x address of the block's fee recipient. */
  miner: string;
  /** The rollup's block gas limit (genesis `evmGasLimit`, ADR 0285). */
  gasLimit: bigint;
}

export function blockJson(b: EthBlock, full: boolean, c: RenderContext): Record<string, unknown> {
  return {
    number: qty(b.number),
    hash: data(b.hash),
    parentHash: data(b.parentHash),
    nonce: '0x0000000000000000',
    sha3Uncles: EMPTY_UNCLES,
    logsBloom: data(b.logsBloom),
    transactionsRoot: data(b.transactionsRoot),
    stateRoot: data(b.stateRoot),
    receiptsRoot: data(b.receiptsRoot),
    miner: c.miner,
    difficulty: '0x0',
    totalDifficulty: '0x0',
    extraData: '0x',
    size: qty(b.size + 512),
    gasLimit: qty(c.gasLimit),
    gasUsed: qty(b.gasUsed),
    timestamp: qty(b.timestamp),
    transactions: full
      ? b.txs.map((t) => txJson(t.tx, t.hash, t.from, c, { block: b, tx: t }))
      : b.txs.map((t) => data(t.hash)),
    uncles: [],
    baseFeePerGas: qty(c.baseFee),
    mixHash: data(ZERO32),
    withdrawals: [],
    withdrawalsRoot: data(EMPTY_TRIE_ROOT),
  };
}

/** A transaction object; `at` is absent while it is pending. */
export function txJson(
  tx: TypedTransaction,
  hash: Uint8Array,
  from: Uint8Array,
  c: RenderContext,
  at?: { block: EthBlock; tx: EthTx },
): Record<string, unknown> {
  const j = tx.toJSON();
  const out: Record<string, unknown> = {
    blockHash: at === undefined ? null : data(at.block.hash),
    blockNumber: at === undefined ? null : qty(at.block.number),
    transactionIndex: at === undefined ? null : qty(at.tx.index),
    hash: data(hash),
    from: data(from),
    to: j.to ?? null,
    nonce: j.nonce ?? '0x0',
    gas: j.gasLimit ?? '0x0',
    value: j.value ?? '0x0',
    input: j.data ?? '0x',
    type: qty(tx.type),
    chainId: qty(c.chainId),
    v: j.v ?? '0x0',
    r: j.r ?? '0x0',
    s: j.s ?? '0x0',
  };
  if (tx.type >= 1) {
    out.accessList = j.accessList ?? [];
    out.yParity = j.v ?? '0x0';
  }
  if (tx.type === 2) {
    out.maxFeePerGas = j.maxFeePerGas ?? '0x0';
    out.maxPriorityFeePerGas = j.maxPriorityFeePerGas ?? '0x0';
    out.gasPrice = qty(at === undefined ? BigInt(j.maxFeePerGas ?? '0x0') : at.tx.effectiveGasPrice);
  } else {
    out.gasPrice = j.gasPrice ?? '0x0';
  }
  return out;
}

export function logJson(l: Log, b: EthBlock, t: EthTx, logIndex: number): Record<string, unknown> {
  return {
    address: data(l.address),
    topics: l.topics.map(data),
    data: data(l.data),
    blockNumber: qty(b.number),
    blockHash: data(b.hash),
    transactionHash: data(t.hash),
    transactionIndex: qty(t.index),
    logIndex: qty(logIndex),
    removed: false,
  };
}

export function receiptJson(b: EthBlock, t: EthTx): Record<string, unknown> {
  const r = t.receipt;
  return {
    transactionHash: data(t.hash),
    transactionIndex: qty(t.index),
    blockHash: data(b.hash),
    blockNumber: qty(b.number),
    from: data(t.from),
    to: t.to === undefined ? null : data(t.to),
    cumulativeGasUsed: qty(t.cumulativeGasUsed),
    gasUsed: qty(r.gasUsed),
    effectiveGasPrice: qty(t.effectiveGasPrice),
    contractAddress: r.contractAddress === undefined ? null : data(r.contractAddress),
    logs: r.logs.map((l, i) => logJson(l, b, t, t.firstLogIndex + i)),
    logsBloom: data(t.logsBloom),
    status: r.status === 'success' ? '0x1' : '0x0',
    type: qty(t.type),
  };
}
