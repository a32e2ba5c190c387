/**
 * The block gas limit's reading of a raw transaction's gas (ADR 0285): it must return exactly the gas
 * limit ethereumjs decodes for every envelope the EVM rollups accept, and never throw on other bytes.
 */
import { createTx } from '@ethereumjs/tx';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_EVM_BLOCK_GAS_LIMIT,
  declaredEvmGas,
  evmBlockGasLimit,
  evmGasCharge,
} from '../../../src/codec/index.ts';
import { common, evmKeys } from '../exec/helpers.ts';

describe('declaredEvmGas', () => {
  it('reads the gas limit of random legacy, type-1 and type-2 transactions as ethereumjs decodes it', () => {
    const cm = common();
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1, 2),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
        fc.uint8Array({ maxLength: 300 }),
        fc.boolean(),
        (type, gasLimit, nonce, data, create) => {
          const base = {
            type,
            nonce,
            gasLimit,
            value: 1n,
            data,
            ...(create ? {} : { to: new Uint8Array(20).fill(7) }),
            ...(type === 1 ? { accessList: [] } : {}),
          };
          const fees = type === 2 ? { maxFeePerGas: 10n, maxPriorityFeePerGas: 1n } : { gasPrice: 10n };
          const raw = createTx({ ...base, ...fees }, { common: cm })
            .sign(evmKeys[0]!)
            .serialize();
          const want =
            gasLimit > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(gasLimit);
          expect(declaredEvmGas(raw)).toBe(want);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answers undefined (never throws) for bytes that are no accepted envelope', () => {
    expect(declaredEvmGas(new Uint8Array(0))).toBeUndefined();
    expect(declaredEvmGas(new Uint8Array([0x03, 0xc0]))).toBeUndefined(); // blob type
    expect(declaredEvmGas(new Uint8Array([0x02, 0xc0]))).toBeUndefined(); // empty list
    expect(declaredEvmGas(new Uint8Array([0x02, 0xc3, 0x01, 0x02]))).toBeUndefined(); // list runs past the end
    expect(declaredEvmGas(new Uint8Array([0xc2, 0xc0, 0x01]))).toBeUndefined(); // a list where an integer goes
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const g = declaredEvmGas(b);
        expect(g === undefined || g >= 0).toBe(true);
        expect(evmGasCharge(b)).toBe(g ?? 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives EVM rollups their genesis limit or the default, and the others none', () => {
    expect(evmBlockGasLimit({ kind: 'evm' })).toBe(DEFAULT_EVM_BLOCK_GAS_LIMIT);
    expect(evmBlockGasLimit({ kind: 'evm', evmGasLimit: 1_000_000 })).toBe(1_000_000);
    expect(evmBlockGasLimit({ kind: 'transfer' })).toBeUndefined();
    expect(evmBlockGasLimit({ kind: 'opaque' })).toBeUndefined();
  });
});
