import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createTx, createTxFromRLP, type TypedTransaction, type TypedTxData } from '@ethereumjs/tx';
import { describe, expect, it } from 'vitest';
import { evmCustomCrypto } from '../../../src/exec/evm/ecrecover.ts';
import { txCommon } from '../../../src/exec/evm/tx-common.ts';

const CHAIN = 900_001;
const common = () =>
  createCustomCommon({ chainId: CHAIN }, Mainnet, {
    hardfork: Hardfork.Prague,
    customCrypto: evmCustomCrypto,
  });
const key = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const to = `0x${'ab'.repeat(20)}` as const;

/** One signed transaction of each supported type (and a creation), serialized. */
function raws(c: ReturnType<typeof common>): Uint8Array[] {
  const base = { nonce: 7n, gasLimit: 100_000n, value: 5n, data: '0xa9059cbb00ff00' as const };
  const list: TypedTxData[] = [
    { ...base, type: 0, gasPrice: 2_000_000_000n, to },
    {
      ...base,
      type: 1,
      gasPrice: 2_000_000_000n,
      to,
      accessList: [{ address: to, storageKeys: [`0x${'01'.repeat(32)}`] }],
    },
    { ...base, type: 2, maxFeePerGas: 3_000_000_000n, maxPriorityFeePerGas: 1n, to },
    {
      ...base,
      type: 2,
      maxFeePerGas: 3_000_000_000n,
      maxPriorityFeePerGas: 0n,
      data: '0x6000600055' as const,
    },
  ];
  return list.map((d) => (createTx(d, { common: c }) as TypedTransaction).sign(key).serialize());
}

/** Everything execution reads from a decoded transaction. */
function view(tx: TypedTransaction) {
  const cm = tx.common as unknown as { _paramsCache: object; _activatedEIPsCache: unknown };
  return {
    params: cm._paramsCache,
    eips: cm._activatedEIPsCache,
    hardfork: tx.common.hardfork(),
    chainId: tx.common.chainId(),
    intrinsic: tx.getIntrinsicGas(),
    dataGas: tx.getDataGas(),
    upfront: tx.getUpfrontCost(),
    hash: Buffer.from(tx.hash()).toString('hex'),
    sender: tx.getSenderAddress().toString(),
    json: tx.toJSON(),
    valid: tx.isValid(),
    errors: tx.getValidationErrors(),
  };
}

describe('txCommon: decoding without the per-transaction parameter rebuild (ADR 0180)', () => {
  it('decoded transactions read exactly what they read with the plain Common, again and again', () => {
    const c = common();
    const fast = txCommon(c);
    for (const raw of raws(c)) {
      const want = view(createTxFromRLP(raw, { common: c }) as TypedTransaction);
      for (let i = 0; i < 3; i++) {
        const got = view(createTxFromRLP(raw, { common: fast }) as TypedTransaction);
        expect(got).toEqual(want);
      }
    }
  });

  it('is one Common per Common, and copies do not share mutable state with it', () => {
    const c = common();
    expect(txCommon(c)).toBe(txCommon(c));
    const [raw] = raws(c);
    const a = createTxFromRLP(raw!, { common: txCommon(c) }) as TypedTransaction;
    const b = createTxFromRLP(raw!, { common: txCommon(c) }) as TypedTransaction;
    expect(a.common).not.toBe(b.common);
    expect(a.common).not.toBe(txCommon(c));
    a.common.setHardfork(Hardfork.Cancun);
    expect(b.common.hardfork()).toBe(Hardfork.Prague);
    expect(txCommon(c).hardfork()).toBe(Hardfork.Prague);
    expect(view(b)).toEqual(view(createTxFromRLP(raw!, { common: c }) as TypedTransaction));
  });

  it('other parameter sets still take the plain path', () => {
    const c = common();
    const fast = txCommon(c).copy();
    fast.updateParams({ 1: { txGas: 12_345 } });
    expect(fast.param('txGas')).toBe(12_345n);
    expect(txCommon(c).param('txGas')).toBe(21_000n);
  });
});
