/**
 * The lean type-2 read shared by the mempool's classification and the block index (ADR 0339) answers
 * what ethereumjs answers: whenever `parse1559` reads a payload, ethereumjs' decode accepts it with the
 * same fields; `EvmVm.classify` (lean where it can) gives the sender, nonce or refusal that `prepare`
 * (ethereumjs' decode and recovery) gives; the index's memoised logs bloom is ethereumjs' bloom.
 */
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { RLP } from '@ethereumjs/rlp';
import { createFeeMarket1559Tx, createTxFromRLP, type FeeMarket1559Tx } from '@ethereumjs/tx';
import { Bloom } from '@ethereumjs/vm';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { logsBloomOf } from '../../../src/eth-rpc/chain.ts';
import { EvmVm, evmCustomCrypto, parse1559, txCommon, typedFields } from '../../../src/exec/index.ts';

const CHAIN = 424242n;
const common = txCommon(
  createCustomCommon({ chainId: Number(CHAIN) }, Mainnet, {
    hardfork: Hardfork.Prague,
    customCrypto: evmCustomCrypto,
  }),
);
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const key = bytes(32, 32).filter((k) => {
  const n = BigInt(`0x${Buffer.from(k).toString('hex')}`);
  return n > 0n && n < N;
});
const txArb = fc.record({
  key,
  nonce: fc.oneof(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 2n })),
  tip: fc.bigInt({ min: 0n, max: 10n ** 12n }),
  extra: fc.bigInt({ min: 0n, max: 10n ** 12n }),
  gasLimit: fc.oneof(fc.bigInt({ min: 0n, max: 60_000n }), fc.bigInt({ min: 21_000n, max: 40_000_000n })),
  to: fc.option(bytes(20, 20), { nil: undefined, freq: 8 }),
  value: fc.bigInt({ min: 0n, max: 10n ** 20n }),
  data: fc.oneof(bytes(0, 0), bytes(1, 80)),
  chainId: fc.constantFrom<bigint>(CHAIN, CHAIN, CHAIN, 1n),
});
type TxFields = typeof txArb extends fc.Arbitrary<infer R> ? R : never;

function sign(t: TxFields): Uint8Array {
  return createFeeMarket1559Tx(
    {
      chainId: t.chainId,
      nonce: t.nonce,
      maxPriorityFeePerGas: t.tip,
      maxFeePerGas: t.tip + t.extra,
      gasLimit: t.gasLimit,
      to: t.to,
      value: t.value,
      data: t.data,
    },
    { common: t.chainId === CHAIN ? common : undefined, freeze: false },
  )
    .sign(t.key)
    .serialize();
}

type Mutation =
  | { kind: 'none' }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'field'; index: number; value: Uint8Array };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    kind: fc.constant('field' as const),
    index: fc.integer({ min: 0, max: 11 }),
    value: bytes(0, 33),
  }),
);

function mutate(raw: Uint8Array, m: Mutation): Uint8Array {
  if (m.kind === 'none') return raw;
  if (m.kind === 'flip') {
    const out = raw.slice();
    const at = m.at % out.byteLength;
    out[at] = out[at]! ^ (1 << m.bit);
    return out;
  }
  const fields = RLP.decode(raw.subarray(1)) as (Uint8Array | unknown[])[];
  fields[m.index] = m.value;
  const body = RLP.encode(fields as never);
  const out = new Uint8Array(1 + body.byteLength);
  out[0] = 2;
  out.set(body, 1);
  return out;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const rollup = {
  namespace: 9,
  name: 'evm',
  kind: 'evm' as const,
  weight: 1,
  maxTxBytes: 100_000,
  maxPendingTxs: 100,
  maxPendingBytes: 1_000_000,
  evmChainId: Number(CHAIN),
};

/** classify as it was before ADR 0339: ethereumjs' decode and recovery through `prepare`. */
function slowClassify(vm: EvmVm, raw: Uint8Array): { sender: string; nonce: bigint } | { error: string } {
  const p = vm.prepare(raw);
  return p.ok ? { sender: p.tx.getSenderAddress().toString(), nonce: p.tx.nonce } : { error: p.error };
}

describe('lean type-2 read for classification and the block index (ADR 0339)', () => {
  let lean: EvmVm;
  let slow: EvmVm;
  beforeAll(async () => {
    lean = await EvmVm.create(rollup);
    slow = await EvmVm.create(rollup);
  });

  it('reads only what ethereumjs accepts, with the same fields; classify answers as prepare does', () => {
    let read = 0;
    fc.assert(
      fc.property(txArb, mutation, (t, m) => {
        const raw = mutate(sign(t), m);
        const f = parse1559(raw, typedFields(raw), common, CHAIN);
        if (f !== undefined) {
          read++;
          const tx = createTxFromRLP(raw, { common }) as FeeMarket1559Tx;
          expect(tx.type).toBe(2);
          expect([f.nonce, f.maxFeePerGas, f.maxPriorityFeePerGas, f.gasLimit, f.value]).toEqual([
            tx.nonce,
            tx.maxFeePerGas,
            tx.maxPriorityFeePerGas,
            tx.gasLimit,
            tx.value,
          ]);
          expect(hex(f.to)).toBe(hex(tx.to!.bytes));
          expect(hex(f.data)).toBe(hex(tx.data));
        }
        expect(lean.classify(raw)).toEqual(slowClassify(slow, raw));
      }),
      { numRuns: 300 },
    );
    expect(read).toBeGreaterThan(40); // the property must have exercised the lean read
  });

  it('classifies from the sender admission reported, and remembers a recovered one for execution', async () => {
    const t: TxFields = {
      key: new Uint8Array(32).fill(7),
      nonce: 3n,
      tip: 1n,
      extra: 10n ** 9n,
      gasLimit: 60_000n,
      to: new Uint8Array(20).fill(9),
      value: 0n,
      data: new Uint8Array(68).fill(1),
      chainId: CHAIN,
    };
    const raw = sign(t);
    const want = slowClassify(slow, raw);
    const vm = await EvmVm.create(rollup);
    expect(vm.classify(raw)).toEqual(want);
    expect(vm.knownProof(raw)).toBe(slow.knownProof(raw));
    const told = await EvmVm.create(rollup);
    told.noteSender(raw, Buffer.from(slow.knownProof(raw)!, 'latin1'));
    expect(told.classify(raw)).toEqual(want);
  });

  it('computes the logs bloom ethereumjs computes, memo or not', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            address: fc.constantFrom(new Uint8Array(20).fill(1), new Uint8Array(20).fill(2)),
            topics: fc.array(fc.constantFrom(new Uint8Array(32).fill(3), new Uint8Array(32)), {
              maxLength: 4,
            }),
            data: bytes(0, 8),
          }),
          { maxLength: 4 },
        ),
        (logs) => {
          const b = new Bloom();
          for (const l of logs) {
            b.add(l.address);
            for (const t of l.topics) b.add(t);
          }
          expect(hex(logsBloomOf(logs))).toBe(hex(b.bitvector));
        },
      ),
      { numRuns: 100 },
    );
  });
});
