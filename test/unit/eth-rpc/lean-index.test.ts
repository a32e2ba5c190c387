/**
 * The lean type-2 read shared by the mempool's classification and the block index (ADR 0339) answers
 * what ethereumjs answers: whenever `parse1559` reads a payload, ethereumjs' decode accepts it with the
 * same fields; `EvmVm.classify` (lean where it can) gives the sender, nonce or refusal that `prepare`
 * (ethereumjs' decode and recovery) gives; the index's memoised logs bloom is ethereumjs' bloom.
 */
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { RLP } from '@ethereumjs/rlp';
import {
  createFeeMarket1559Tx,
  createLegacyTx,
  createTxFromRLP,
  type FeeMarket1559Tx,
  type TypedTransaction,
} from '@ethereumjs/tx';
import { Bloom } from '@ethereumjs/vm';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { EvmChain, effectiveGasPrice, logsBloomOf } from '../../../src/eth-rpc/chain.ts';
import {
  EvmVm,
  evmCustomCrypto,
  type NamespaceResult,
  parse1559,
  txCommon,
  typedFields,
} from '../../../src/exec/index.ts';
import type { KvStore } from '../../../src/store/index.ts';
import type { Block } from '../../../src/types.ts';

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

  it('indexes lean-read and ethereumjs-decoded payloads into the same view ethereumjs gives', async () => {
    const k = new Uint8Array(32).fill(5);
    const to = new Uint8Array(20).fill(0x22);
    const call = sign({ ...base(k), to, data: new Uint8Array(68).fill(3) });
    const creation = sign({ ...base(k), nonce: 1n, to: undefined, data: new Uint8Array(10).fill(0x60) });
    const legacy = createLegacyTx({ nonce: 2n, gasPrice: 9n, gasLimit: 30_000n, to, value: 5n }, { common })
      .sign(k)
      .serialize();
    const hinted = sign({ ...base(k), nonce: 3n, to, tip: 4n });
    const payloads = [call, new Uint8Array([2, 0xc0]), creation, legacy, hinted];
    const log = {
      address: to,
      topics: [new Uint8Array(32).fill(1), new Uint8Array(32)],
      data: new Uint8Array(0),
    };
    const result: NamespaceResult = {
      namespace: 3,
      height: 1,
      receipts: payloads.map((_, i) => ({
        index: i,
        status: 'success',
        gasUsed: 21_000n + BigInt(i),
        logs: i % 2 === 0 ? [log] : [],
      })),
      stateRoot: new Uint8Array(32).fill(9),
      resultsHash: new Uint8Array(32).fill(8),
    };
    const block = {
      header: { height: 1, timeMs: 5_000 },
      txs: payloads.map((payload) => ({ namespace: 3, payload })),
      bundles: [],
    } as unknown as Block;
    const m = new Map<string, Uint8Array>();
    const kv = {
      get: async (key: Uint8Array) => m.get(hex(key)),
      put: async (key: Uint8Array, v: Uint8Array) => void m.set(hex(key), v),
      batch: async (ws: { key: Uint8Array; value: Uint8Array }[]) => {
        for (const w of ws) m.set(hex(w.key), w.value);
      },
    } as unknown as KvStore;
    const c = new EvmChain({
      namespace: 3,
      common,
      baseFee: 7n,
      genesisTimeMs: 0,
      kv,
      source: {
        getBlock: async (h) => (h === 1 ? block : undefined),
        getBlockHash: async (h) => (h === 1 ? new Uint8Array(32).fill(1) : undefined),
        getResult: async (_ns, h) => (h === 1 ? result : undefined),
        executedHeight: () => 1,
        baseHeight: () => 0,
      },
    });
    const ej = (raw: Uint8Array) => createTxFromRLP(raw, { common }) as TypedTransaction;
    // A hint carries admission's hash and sender (made up here, to see they are the ones used).
    const fakeFrom = new Uint8Array(20).fill(0xaa);
    c.hintSender(hinted, ej(hinted).hash(), fakeFrom);
    c.advance(1);
    await c.settled();
    const b = (await c.block(1))!;
    expect(b.txs.map((t) => t.index)).toEqual([0, 1, 2, 3]); // the non-transaction is not in the block
    const want = [call, creation, legacy, hinted];
    const blockBloom = new Bloom();
    for (const [i, t] of b.txs.entries()) {
      const e = ej(want[i]!);
      const receipt = result.receipts[payloads.indexOf(want[i]!)]!;
      expect(t.receipt).toBe(receipt);
      expect(hex(t.hash)).toBe(hex(e.hash()));
      expect(t.type).toBe(e.type);
      expect(t.to === undefined ? null : `0x${hex(t.to)}`).toBe(e.to === undefined ? null : e.to.toString());
      expect(t.effectiveGasPrice).toBe(effectiveGasPrice(e, 7n));
      expect(hex(t.tx.serialize())).toBe(hex(want[i]!));
      expect(hex(t.from)).toBe(want[i] === hinted ? hex(fakeFrom) : hex(e.getSenderAddress().bytes));
      const bloom = new Bloom();
      for (const l of receipt.logs) {
        bloom.add(l.address);
        for (const topic of l.topics) bloom.add(topic);
      }
      blockBloom.or(bloom);
      expect(hex(t.logsBloom)).toBe(hex(bloom.bitvector));
    }
    expect(hex(b.logsBloom)).toBe(hex(blockBloom.bitvector));
    expect(await c.txLocation(ej(hinted).hash())).toEqual({ height: 1, index: 3 });
    expect(c.hintStats()).toEqual({ count: 0, bytes: 0 }); // used once, then gone
  });

  it('holds hints of small payloads only, within a byte bound, oldest out first', () => {
    const c = new EvmChain({
      namespace: 3,
      common,
      baseFee: 7n,
      genesisTimeMs: 0,
      kv: {} as unknown as KvStore,
      source: {
        getBlock: async () => undefined,
        getBlockHash: async () => undefined,
        getResult: async () => undefined,
        executedHeight: () => 0,
        baseHeight: () => 0,
      },
    });
    const h = new Uint8Array(32);
    const from = new Uint8Array(20);
    c.hintSender(new Uint8Array(4_097), h, from); // large: hashed when indexed instead
    expect(c.hintStats()).toEqual({ count: 0, bytes: 0 });
    // 4,096-byte payloads that never commit: the keys stay within 32 MiB (8,192 of them).
    for (let i = 0; i < 10_000; i++) {
      const p = new Uint8Array(4_096);
      new DataView(p.buffer).setUint32(0, i);
      c.hintSender(p, h, from);
    }
    expect(c.hintStats()).toEqual({ count: 8_192, bytes: 32 * 1024 * 1024 });
    c.hintSender(new Uint8Array(4_096).fill(1), h, from);
    expect(c.hintStats().bytes).toBeLessThanOrEqual(32 * 1024 * 1024);
  });
});

function base(k: TxFields['key']): TxFields {
  return {
    key: k,
    nonce: 0n,
    tip: 1n,
    extra: 10n ** 9n,
    gasLimit: 100_000n,
    to: undefined,
    value: 0n,
    data: new Uint8Array(0),
    chainId: CHAIN,
  };
}
