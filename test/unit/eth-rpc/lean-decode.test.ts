/**
 * The lean type-2 decode (ADR 0280) answers exactly what ethereumjs' path answers: for random signed
 * transactions, and for the same transactions with a byte flipped, a field replaced or the signature
 * made high-s, `decodeRaw` with and without the lean path gives the same refusal message or the same
 * hash, sender, nonce, fee cap, maximum cost, public key and (when asked for) transaction.
 */
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { RLP } from '@ethereumjs/rlp';
import { createFeeMarket1559Tx } from '@ethereumjs/tx';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRaw } from '../../../src/eth-rpc/index.ts';
import { leanDecode1559 } from '../../../src/eth-rpc/lean-decode.ts';
import { evmCustomCrypto, txCommon } from '../../../src/exec/index.ts';

const CHAIN = 424242n;
const common = txCommon(
  createCustomCommon({ chainId: Number(CHAIN) }, Mainnet, {
    hardfork: Hardfork.Prague,
    customCrypto: evmCustomCrypto,
  }),
);
const MAX = 131_072;
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

type Outcome =
  | { error: string }
  | { hash: string; from: string; nonce: bigint; feeCap: bigint; maxCost: bigint; pub: string; tx: string };

function outcome(raw: Uint8Array, lean: boolean): Outcome {
  try {
    const d = decodeRaw(raw, common, CHAIN, MAX, { lean });
    return {
      hash: Buffer.from(d.hash).toString('hex'),
      from: d.fromHex,
      nonce: d.nonce,
      feeCap: d.feeCap,
      maxCost: d.maxCost,
      pub: Buffer.from(d.senderPubKey).toString('hex'),
      tx: Buffer.from(d.tx.serialize()).toString('hex'),
    };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

const big = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
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
  data: fc.oneof(bytes(0, 0), bytes(1, 80), bytes(100, 700)),
  access: fc.array(fc.record({ address: bytes(20, 20), keys: fc.array(bytes(32, 32), { maxLength: 3 }) }), {
    maxLength: 2,
  }),
  chainId: fc.constantFrom<bigint>(CHAIN, CHAIN, CHAIN, 1n),
});

type TxFields = typeof txArb extends fc.Arbitrary<infer R> ? R : never;

function sign(t: TxFields): Uint8Array {
  const tx = createFeeMarket1559Tx(
    {
      chainId: t.chainId,
      nonce: t.nonce,
      maxPriorityFeePerGas: t.tip,
      maxFeePerGas: t.tip + t.extra,
      gasLimit: t.gasLimit,
      to: t.to,
      value: t.value,
      data: t.data,
      accessList: t.access.map((a) => ({
        address: `0x${Buffer.from(a.address).toString('hex')}` as `0x${string}`,
        storageKeys: a.keys.map((k) => `0x${Buffer.from(k).toString('hex')}` as `0x${string}`),
      })),
    },
    { common: t.chainId === CHAIN ? common : undefined, freeze: false },
  );
  return tx.sign(t.key).serialize();
}

/** Variants of a signed payload the lean path must judge as ethereumjs does. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('highS' as const) }),
  fc.record({
    kind: fc.constant('field' as const),
    index: fc.integer({ min: 0, max: 11 }),
    value: bytes(0, 33),
  }),
);

type Mutation =
  | { kind: 'none' }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'highS' }
  | { kind: 'field'; index: number; value: Uint8Array };

function mutate(raw: Uint8Array, m: Mutation): Uint8Array {
  if (m.kind === 'flip') {
    const out = raw.slice();
    const at = m.at % out.byteLength;
    out[at] = out[at]! ^ (1 << m.bit);
    return out;
  }
  const fields = RLP.decode(raw.subarray(1)) as (Uint8Array | unknown[])[];
  if (m.kind === 'highS') {
    const s = BigInt(`0x${Buffer.from(fields[11] as Uint8Array).toString('hex')}`);
    const hs = (N - s).toString(16);
    fields[11] = Buffer.from(hs.length % 2 ? `0${hs}` : hs, 'hex');
    fields[9] = (fields[9] as Uint8Array).byteLength === 0 ? Uint8Array.of(1) : new Uint8Array(0);
  } else if (m.kind === 'field') fields[m.index] = m.value;
  const body = RLP.encode(fields as never);
  const out = new Uint8Array(1 + body.byteLength);
  out[0] = 2;
  out.set(body, 1);
  return out;
}

describe('lean type-2 decode (ADR 0280)', () => {
  it('answers as ethereumjs does for random signed transactions and their mutations', () => {
    let leanTaken = 0;
    fc.assert(
      fc.property(txArb, mutation, (t, m) => {
        const raw = mutate(sign(t), m);
        const slow = outcome(raw, false);
        const fast = outcome(raw, true);
        if (JSON.stringify(fast, big) !== JSON.stringify(slow, big))
          throw new Error(`lean ${JSON.stringify(fast, big)} != ethereumjs ${JSON.stringify(slow, big)}`);
        if (!('error' in slow)) {
          try {
            const fields = RLP.decode(raw.subarray(1));
            if (leanDecode1559(raw, fields, common, CHAIN) !== undefined) leanTaken++;
          } catch {}
        }
      }),
      { numRuns: 400 },
    );
    // The property is only worth something if the lean path decided a good share of the cases.
    expect(leanTaken).toBeGreaterThan(40);
  });

  it('takes the lean path for an ordinary ERC-20-shaped call and builds the transaction only on demand', () => {
    const raw = sign({
      key: new Uint8Array(32).fill(7),
      nonce: 3n,
      tip: 1n,
      extra: 10n ** 9n,
      gasLimit: 60_000n,
      to: new Uint8Array(20).fill(9),
      value: 0n,
      data: new Uint8Array(68).fill(1),
      access: [],
      chainId: CHAIN,
    });
    const fields = RLP.decode(raw.subarray(1));
    const lean = leanDecode1559(raw, fields, common, CHAIN);
    expect(lean).toBeDefined();
    const slow = decodeRaw(raw, common, CHAIN, MAX, { lean: false });
    expect(lean!.fromHex).toBe(slow.fromHex);
    expect(lean!.tx.getSenderAddress().toString()).toBe(slow.fromHex);
    expect(Buffer.from(lean!.tx.hash()).equals(Buffer.from(slow.hash))).toBe(true);
  });

  it('leaves a contract creation, a gas limit near the intrinsic gas and a high s to ethereumjs', () => {
    const base = {
      key: new Uint8Array(32).fill(5),
      nonce: 0n,
      tip: 1n,
      extra: 10n ** 9n,
      gasLimit: 100_000n,
      to: new Uint8Array(20).fill(1) as Uint8Array<ArrayBuffer> | undefined,
      value: 0n,
      data: new Uint8Array(0),
      access: [],
      chainId: CHAIN,
    };
    const creation = sign({ ...base, to: undefined });
    expect(leanDecode1559(creation, RLP.decode(creation.subarray(1)), common, CHAIN)).toBeUndefined();
    const tight = sign({ ...base, gasLimit: 21_000n, data: new Uint8Array(1) });
    expect(leanDecode1559(tight, RLP.decode(tight.subarray(1)), common, CHAIN)).toBeUndefined();
    const high = mutate(sign(base), { kind: 'highS' });
    expect(leanDecode1559(high, RLP.decode(high.subarray(1)), common, CHAIN)).toBeUndefined();
    expect(() => decodeRaw(high, common, CHAIN, MAX)).toThrow(/s-values greater than secp256k1n\/2/);
  });
});
