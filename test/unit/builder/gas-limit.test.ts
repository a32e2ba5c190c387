/**
 * The EVM block gas limit in the builder (ADR 0285): the proposer packs an EVM rollup's transactions and
 * bundle legs by the gas they declare, within the rollup's limit, leaving the rest for the next block in
 * FIFO order; validators refuse a proposal whose EVM transactions declare more; a bundle whose leg alone
 * declares more is refused at admission.
 */
import { createTx } from '@ethereumjs/tx';
import { describe, expect, it } from 'vitest';
import { createBlockBuilder, type SelectedBundle } from '../../../src/builder/index.ts';
import { computeDataHash, unsignedBundle } from '../../../src/codec/index.ts';
import { checkBundle, createMempool, rollupTxHasher } from '../../../src/mempool/index.ts';
import { selectFair } from '../../../src/mempool/select.ts';
import type { Block, TxEnvelope } from '../../../src/types.ts';
import { common, evmKeys } from '../exec/helpers.ts';
import { rollup } from '../mempool/helpers.ts';

const EVM = 5;
const LIMIT = 30_000_000;
const registry = [rollup(1), rollup(EVM, { kind: 'evm', evmChainId: 4242, maxTxBytes: 10_000 })];

let nonce = 0n;
/** A signed type-2 transaction declaring `gas`. */
function evm(gas: number): TxEnvelope {
  const t = createTx(
    {
      type: 2,
      nonce: nonce++,
      gasLimit: BigInt(gas),
      maxFeePerGas: 10n,
      maxPriorityFeePerGas: 1n,
      to: new Uint8Array(20),
    },
    { common: common() },
  );
  return { namespace: EVM, payload: t.sign(evmKeys[0]!).serialize() };
}

const results = { results: () => Promise.resolve([]) };

function builderWith(txs: TxEnvelope[], bundles: SelectedBundle[] = []) {
  const pool = createMempool({ rollups: registry, limits: { maxTotalTxs: 1000, maxTotalBytes: 1 << 20 } });
  for (const t of txs) expect(pool.add(t, 'rpc')).toMatchObject({ ok: true });
  return createBlockBuilder({
    rollups: registry,
    mempool: pool,
    results,
    bundles: {
      select: () => Promise.resolve(bundles),
      lookup: (hash) => {
        const b = bundles.find((x) => Buffer.from(x.bundleHash).equals(Buffer.from(hash)));
        return b === undefined
          ? { kind: 'unknown' }
          : {
              kind: 'known',
              txs: b.txs,
              minHeight: 0,
              maxHeight: 0,
              atomicity: b.atomicity,
              reverting: b.reverting,
            };
      },
    },
  });
}

function blockOf(height: number, txs: TxEnvelope[], bundles: Block['bundles'] = []): Block {
  return {
    header: {
      chainId: 'test',
      height,
      round: 0,
      timeMs: 1000,
      parentHash: new Uint8Array(32),
      dataHash: computeDataHash(txs, bundles),
      proposer: new Uint8Array(32),
      txCount: txs.length,
      lastCommitHash: new Uint8Array(32),
      resultsHash: new Uint8Array(32),
      auctionHash: new Uint8Array(32),
    },
    txs,
    bundles,
  };
}

describe('the EVM block gas limit in the builder', () => {
  it('packs an EVM rollup by declared gas in FIFO order and leaves the other rollups alone', async () => {
    const heavy = [evm(12_000_000), evm(12_000_000), evm(12_000_000), evm(21_000)];
    const opaque = Array.from({ length: 5 }, (_, i) => ({ namespace: 1, payload: new Uint8Array([i + 1]) }));
    const b = builderWith([...heavy, ...opaque]);
    const built = await b.build(1, 1 << 20, 1000);
    const evmTxs = built.txs.filter((t) => t.namespace === EVM);
    // Two fit (24M of 30M); the third does not, and the 21,000-gas one behind it waits (strict FIFO).
    expect(evmTxs.map((t) => t.payload)).toEqual(heavy.slice(0, 2).map((t) => t.payload));
    expect(built.txs.filter((t) => t.namespace === 1)).toHaveLength(5);
    const block = blockOf(1, built.txs);
    block.header.resultsHash = built.resultsHash;
    block.header.auctionHash = built.auctionHash;
    expect(await b.verify(block)).toEqual({ ok: true });
  });

  it('refuses a proposal whose EVM transactions declare more than the limit', async () => {
    const txs = [evm(15_000_000), evm(15_000_000), evm(21_000)];
    const b = builderWith([]);
    const v = await b.verify(blockOf(1, txs));
    expect(v).toEqual({
      ok: false,
      code: 'BLOCK_GAS_LIMIT_EXCEEDED',
      message: `the transactions of namespace ${EVM} declare 30021000 gas; its block gas limit is ${LIMIT}`,
    });
  });

  it('counts bundle legs against the limit before the mempool fills the rest', async () => {
    const legs = [evm(20_000_000), evm(5_000_000)];
    const bundle: SelectedBundle = {
      bundleHash: new Uint8Array(32).fill(9),
      txs: legs,
      atomicity: 1,
      reverting: new Set(),
    };
    const b = builderWith([evm(6_000_000), evm(4_000_000)], [bundle]);
    const built = await b.build(1, 1 << 20, 1000);
    // 25M in the bundle; of the pool's, 6M does not fit the 5M left and stops the lane (FIFO).
    expect(built.txs.map((t) => t.payload)).toEqual(legs.map((t) => t.payload));
    expect(built.bundles).toHaveLength(1);
  });

  it('refuses at admission a bundle whose leg declares more than its rollup allows', () => {
    const b = unsignedBundle([
      { namespace: EVM, txs: [evm(20_000_000).payload, evm(20_000_000).payload], revertingTxHashes: [] },
    ]);
    const r = checkBundle(
      'test',
      b,
      new Map(registry.map((x) => [x.namespace, x])),
      rollupTxHasher(registry),
      undefined,
    );
    expect(r).toMatchObject({
      ok: false,
      code: 'BUNDLE_TOO_LARGE',
      message: `namespace ${EVM}'s transactions declare 40000000 gas; the rollup's block gas limit is ${LIMIT}`,
    });
  });

  it('selects a lane with its own budget as a strict FIFO prefix within the budget', () => {
    type It = { cost: number; next: It | null };
    const items: It[] = [5, 4, 3, 1].map((cost) => ({ cost, next: null }));
    for (let i = 0; i < items.length - 1; i++) items[i]!.next = items[i + 1]!;
    const lane = { namespace: 1, weight: 1, head: items[0]!, maxCost: 10 };
    const picked = selectFair(
      [lane],
      { maxBytes: 1000, maxTxs: 1000 },
      () => 1,
      (t) => t.next,
      (t) => t.cost,
    );
    expect(picked[0]!.map((t) => t.cost)).toEqual([5, 4]);
    const unlimited = selectFair(
      [{ ...lane, maxCost: undefined }],
      { maxBytes: 1000, maxTxs: 1000 },
      () => 1,
      (t) => t.next,
      (t) => t.cost,
    );
    expect(unlimited[0]!).toHaveLength(4);
  });
});
