/**
 * The type-2 signing hash read from a payload's bytes (ADR 0251) equals ethereumjs' own, for random
 * fields (long and short lists, access lists, calldata of every length class), and `prepare` recovers
 * the same sender and refuses the same bad signatures with the same message.
 */
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createFeeMarket1559Tx, createTxFromRLP } from '@ethereumjs/tx';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signingHash1559 } from '../../../src/exec/evm/signing-hash.ts';
import { EvmVm } from '../../../src/exec/evm/vm.ts';

const common = createCustomCommon({ chainId: 900001 }, Mainnet, { hardfork: Hardfork.Prague });
const key = new Uint8Array(32).fill(7);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const txArb = fc.record({
  nonce: fc.bigInt({ min: 0n, max: (1n << 64n) - 2n }),
  value: fc.bigInt({ min: 0n, max: 1n << 200n }),
  gasLimit: fc.bigInt({ min: 21_000n, max: 30_000_000n }),
  fee: fc.bigInt({ min: 1n, max: 1n << 70n }),
  data: fc.uint8Array({ maxLength: 300 }),
  to: fc.option(fc.uint8Array({ minLength: 20, maxLength: 20 }), { nil: undefined }),
  access: fc.array(
    fc.record({
      address: fc.uint8Array({ minLength: 20, maxLength: 20 }),
      keys: fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 3 }),
    }),
    { maxLength: 3 },
  ),
});

interface Fields {
  nonce: bigint;
  value: bigint;
  gasLimit: bigint;
  fee: bigint;
  data: Uint8Array;
  to: Uint8Array | undefined;
  access: { address: Uint8Array; keys: Uint8Array[] }[];
}

function build(f: Fields) {
  return createFeeMarket1559Tx(
    {
      nonce: f.nonce,
      value: f.value,
      gasLimit: f.gasLimit,
      maxFeePerGas: f.fee,
      maxPriorityFeePerGas: f.fee / 2n,
      data: f.data,
      ...(f.to !== undefined ? { to: f.to } : {}),
      accessList: f.access.map((a) => ({
        address: `0x${hex(a.address)}` as `0x${string}`,
        storageKeys: a.keys.map((k) => `0x${hex(k)}` as `0x${string}`),
      })),
    },
    { common },
  ).sign(key);
}

describe('type-2 signing hash from the payload (ADR 0251)', () => {
  it("equals ethereumjs' getHashedMessageToSign for random transactions", () => {
    fc.assert(
      fc.property(txArb, (f) => {
        const payload = build(f).serialize();
        const decoded = createTxFromRLP(payload, { common });
        expect(hex(signingHash1559(payload)!)).toBe(hex(decoded.getHashedMessageToSign()));
      }),
      { numRuns: 300 },
    );
  });

  it('answers undefined for other types and truncated lists', () => {
    const payload = build({
      nonce: 1n,
      value: 1n,
      gasLimit: 21_000n,
      fee: 10n,
      data: new Uint8Array(),
      to: undefined,
      access: [],
    }).serialize();
    expect(signingHash1559(Uint8Array.of(1, ...payload.subarray(1)))).toBeUndefined();
    expect(signingHash1559(payload.subarray(0, 10))).toBeUndefined();
    expect(signingHash1559(Uint8Array.of(2))).toBeUndefined();
  });

  it('prepare recovers the same sender, and refuses a bad signature as ethereumjs does', async () => {
    const vm = await EvmVm.create({
      namespace: 3,
      name: 'evm',
      kind: 'evm',
      maxTxBytes: 128 * 1024,
      evmChainId: 900001,
    } as never);
    const tx = build({
      nonce: 3n,
      value: 5n,
      gasLimit: 21_000n,
      fee: 10n,
      data: new Uint8Array(4),
      to: new Uint8Array(20).fill(1),
      access: [],
    });
    const p = vm.prepare(tx.serialize());
    expect(p.ok).toBe(true);
    if (p.ok) expect(p.tx.getSenderAddress().toString()).toBe(tx.getSenderAddress().toString());
    // Arbitrary signatures (some recover another key, some none): the same answer as ethereumjs.
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const sigArb = fc.record({
      r: fc.oneof(fc.bigInt({ min: 1n, max: n - 1n }), fc.constantFrom(1n, n - 1n)),
      s: fc.bigInt({ min: 1n, max: n / 2n }),
      v: fc.constantFrom(0n, 1n),
    });
    fc.assert(
      fc.property(sigArb, ({ r, s, v }) => {
        const other = createFeeMarket1559Tx({ ...tx.toJSON(), r, s, v } as never, { common }).serialize();
        let want: unknown;
        try {
          const pub = createTxFromRLP(other, { common }).getSenderPublicKey();
          want = { ok: true, pub: hex(pub) };
        } catch (err) {
          want = { ok: false, error: `invalid signature: ${(err as Error).message}` };
        }
        const got = vm.prepare(other);
        expect(got.ok ? { ok: true, pub: hex(got.tx.getSenderPublicKey()) } : got).toEqual(want);
      }),
      { numRuns: 60 },
    );
  });
});
