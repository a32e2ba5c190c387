/**
 * The Ethereum index builds a block's view in slices (src/eth-rpc/chain.ts, ADR 0312): a timer armed
 * before a large block is indexed fires before the index is done, and the view (hashes, senders, gas,
 * blooms, log indexes) is the same as built in one piece. Nothing here asserts a duration.
 */
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createFeeMarket1559Tx } from '@ethereumjs/tx';
import { describe, expect, it } from 'vitest';
import { type ChainSource, type EthBlock, EvmChain } from '../../../src/eth-rpc/chain.ts';
import { evmCustomCrypto, type NamespaceResult, txCommon } from '../../../src/exec/index.ts';
import type { KvStore } from '../../../src/store/index.ts';
import type { Block, TxEnvelope } from '../../../src/types.ts';

const NS = 3;
const CHAIN = 424242n;
const common = txCommon(
  createCustomCommon({ chainId: Number(CHAIN) }, Mainnet, {
    hardfork: Hardfork.Prague,
    customCrypto: evmCustomCrypto,
  }),
);
const TXS = 200;
const key = new Uint8Array(32).fill(7);
const payloads = Array.from({ length: TXS }, (_, i) =>
  createFeeMarket1559Tx(
    {
      chainId: CHAIN,
      nonce: BigInt(i),
      maxPriorityFeePerGas: 1n,
      maxFeePerGas: 10n ** 9n,
      gasLimit: 50_000n,
      to: `0x${'11'.repeat(20)}`,
      value: BigInt(i),
    },
    { common },
  )
    .sign(key)
    .serialize(),
);
const txs: TxEnvelope[] = [
  { namespace: 1, payload: new Uint8Array([1, 2, 3]) },
  ...payloads.map((payload) => ({ namespace: NS, payload })),
];
const block = {
  header: { height: 1, timeMs: 5_000 },
  txs,
  bundles: [],
} as unknown as Block;
const result: NamespaceResult = {
  namespace: NS,
  height: 1,
  receipts: payloads.map((_, i) => ({
    index: i,
    status: 'success',
    gasUsed: 21_000n + BigInt(i),
    logs:
      i % 3 === 0
        ? [
            {
              address: new Uint8Array(20).fill(i & 0xff),
              topics: [new Uint8Array(32).fill(1)],
              data: new Uint8Array(0),
            },
          ]
        : [],
  })),
  stateRoot: new Uint8Array(32).fill(9),
  resultsHash: new Uint8Array(32).fill(8),
};

const source: ChainSource = {
  getBlock: async (h) => (h === 1 ? block : undefined),
  getBlockHash: async (h) => (h === 1 ? new Uint8Array(32).fill(1) : undefined),
  getResult: async (_ns, h) => (h === 1 ? result : undefined),
  executedHeight: () => 1,
  baseHeight: () => 0,
};

function memoryKv(): KvStore {
  const m = new Map<string, Uint8Array>();
  const k = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  return {
    get: async (key) => m.get(k(key)),
    put: async (key, v) => {
      m.set(k(key), v);
    },
    del: async (key) => {
      m.delete(k(key));
    },
    batch: async (writes) => {
      for (const w of writes)
        if (w.value === undefined) m.delete(k(w.key));
        else m.set(k(w.key), w.value);
    },
  } as KvStore;
}

function chain(buildSliceMs: number): EvmChain {
  return new EvmChain({
    namespace: NS,
    common,
    baseFee: 7n,
    genesisTimeMs: 0,
    source,
    kv: memoryKv(),
    buildSliceMs,
  });
}

/** Index block 1 with a timer armed first: whether the timer fired before the index was done. */
async function timerFiredFirst(c: EvmChain): Promise<boolean> {
  let fired = false;
  const t = setTimeout(() => {
    fired = true;
  }, 0);
  c.advance(1);
  await c.settled();
  const before = fired;
  clearTimeout(t);
  return before;
}

const view = (b: EthBlock | undefined) => ({
  ...b,
  txs: b?.txs.map((t) => ({ ...t, tx: Buffer.from(t.tx.serialize()).toString('hex'), from: t.from })),
});

describe('EvmChain builds a block view in slices', () => {
  it('a timer armed before a large block is indexed fires before the index is done', async () => {
    const c = chain(0);
    expect(await timerFiredFirst(c)).toBe(true);
    expect(c.head()).toBe(1);
  });

  it('built in one piece (no slices) nothing else runs meanwhile, and the view is the same', async () => {
    const whole = chain(Number.POSITIVE_INFINITY);
    expect(await timerFiredFirst(whole)).toBe(false);
    const sliced = chain(0);
    await timerFiredFirst(sliced);
    const a = view(await whole.block(1));
    const b = view(await sliced.block(1));
    expect(a.txs).toHaveLength(TXS);
    expect(b).toEqual(a);
    const fifth = (await whole.block(1))!.txs[5]!.hash;
    expect(await sliced.txLocation(fifth)).toEqual({ height: 1, index: 5 });
  });
});
