import { createBlock } from '@ethereumjs/block';
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { Address } from '@ethereumjs/util';
import { describe, expect, it } from 'vitest';
import { evmCustomCrypto } from '../../../src/exec/evm/ecrecover.ts';
import { blockCommon, txCommon } from '../../../src/exec/evm/tx-common.ts';

const common = () =>
  createCustomCommon({ chainId: 900_002 }, Mainnet, {
    hardfork: Hardfork.Prague,
    customCrypto: evmCustomCrypto,
  });
const coinbase = new Address(Uint8Array.from({ length: 20 }, (_, i) => i + 1));

/** The header EvmVm builds for a height (vm.ts `#blockFor`), with the given Common. */
function block(c: ReturnType<typeof common>, height: number) {
  return createBlock(
    {
      header: {
        number: BigInt(height),
        timestamp: BigInt(1_700_000_000 + height),
        gasLimit: 30_000_000n,
        baseFeePerGas: 1_000_000_000n,
        coinbase,
      },
    },
    { common: c },
  );
}

/** Everything runTx reads from a block: its header's bytes and its Common's parameters. */
function view(b: ReturnType<typeof block>) {
  const cm = b.common as unknown as { _paramsCache: object; _activatedEIPsCache: unknown };
  return {
    header: Buffer.from(b.header.serialize()).toString('hex'),
    hash: Buffer.from(b.hash()).toString('hex'),
    params: cm._paramsCache,
    eips: cm._activatedEIPsCache,
    hardfork: b.common.hardfork(),
    chainId: b.common.chainId(),
    baseFee: b.header.baseFeePerGas,
    blobGasPrice: b.header.getBlobGasPrice(),
  };
}

describe('blockCommon: block headers without the per-height parameter rebuild (ADR 0342)', () => {
  it('headers are byte-identical to those built with the plain Common, height after height', () => {
    const plain = common();
    const fast = common();
    for (let h = 1; h <= 5; h++) expect(view(block(blockCommon(fast), h))).toEqual(view(block(plain, h)));
  });

  it('is one Common per Common, separate from txCommon, and headers do not share mutable state with it', () => {
    const c = common();
    expect(blockCommon(c)).toBe(blockCommon(c));
    expect(blockCommon(c)).not.toBe(txCommon(c));
    const a = block(blockCommon(c), 1);
    const b = block(blockCommon(c), 2);
    expect(a.common).not.toBe(b.common);
    expect(a.common).not.toBe(blockCommon(c));
    a.common.setHardfork(Hardfork.Cancun);
    expect(b.common.hardfork()).toBe(Hardfork.Prague);
    expect(blockCommon(c).hardfork()).toBe(Hardfork.Prague);
    expect(view(b)).toEqual(view(block(common(), 2)));
  });

  it('other parameter sets still take the plain path', () => {
    const c = common();
    const copy = blockCommon(c).copy();
    copy.updateParams({ 1559: { elasticityMultiplier: 7 } });
    expect(copy.param('elasticityMultiplier')).toBe(7n);
    expect(blockCommon(c).param('elasticityMultiplier')).toBe(2n);
  });
});
