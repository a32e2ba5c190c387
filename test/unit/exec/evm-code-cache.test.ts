/**
 * The EVM's per-transaction shortcuts of session 15 change no result: the account codec (ADR 0328)
 * against the byte-by-byte reference, code arrays and jump analyses cached for block execution
 * (ADR 0328) against an uncached VM over the same blocks, and code reads left out of read sets
 * (ADR 0329) while the account that names the code stays in them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COUNTER_RUNTIME,
  deployCode,
  TOKEN_RUNTIME,
  tokenAirdropData,
  tokenTransferData,
  word,
} from '../../../src/exec/evm/contracts.ts';
import { decodeEvmAccount, EvmVm, encodeEvmAccount, evmAccountKey } from '../../../src/exec/evm/vm.ts';
import { executeSequential } from '../../../src/exec/index.ts';
import type { Bytes } from '../../../src/exec/types.ts';
import { TxView } from '../../../src/exec/view.ts';
import { EVM_NS, evmAddr, evmTx, rollups } from './helpers.ts';

/** The layout as documented in vm.ts, written one byte at a time. */
function reference(nonce: bigint, balance: bigint, codeHash: string): string {
  const b = Buffer.alloc(72);
  b.writeBigUInt64BE(nonce, 0);
  let v = balance;
  for (let i = 39; i >= 8; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  b.write(codeHash, 40, 'latin1');
  return b.toString('latin1');
}

const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((u) => Buffer.from(u).toString('latin1'));

describe('EVM account codec', () => {
  it('encodes and decodes every nonce, balance and code hash as the byte-by-byte layout', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.oneof(fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), fc.constant((1n << 256n) - 1n)),
        hash32,
        (nonce, balance, codeHash) => {
          const enc = encodeEvmAccount({ nonce, balance, codeHash });
          expect(enc).toBe(reference(nonce, balance, codeHash));
          expect(decodeEvmAccount(enc)).toEqual({ nonce, balance, codeHash });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps the low 256 bits of a balance out of range, refuses a nonce out of u64 and a short value', () => {
    const h = 'h'.repeat(32);
    expect(encodeEvmAccount({ nonce: 1n, balance: (1n << 256n) + 5n, codeHash: h })).toBe(
      reference(1n, 5n, h),
    );
    expect(() => encodeEvmAccount({ nonce: 1n << 64n, balance: 0n, codeHash: h })).toThrow(RangeError);
    expect(() => decodeEvmAccount('short')).toThrow(RangeError);
  });
});

describe('code cache and jump analysis in block execution', () => {
  const rollup = rollups().find((r) => r.namespace === EVM_NS)!;

  async function run(cacheCode: boolean) {
    const vm = await EvmVm.create(rollup, { cacheCode });
    const state = vm.genesis();
    const apply = (w: Map<Bytes, Bytes | null>) => {
      for (const [k, v] of w) {
        if (v === null) state.delete(k);
        else state.set(k, v);
      }
    };
    const deployed = await executeSequential(
      vm,
      state,
      [
        evmTx(0, { data: deployCode(COUNTER_RUNTIME), nonce: 0n, gasLimit: 200_000n }),
        evmTx(0, { data: deployCode(TOKEN_RUNTIME), nonce: 1n, gasLimit: 1_000_000n }),
      ],
      { height: 1, timeMs: 1_700_000_000_000 },
    );
    apply(deployed.writes);
    const counter = deployed.receipts[0]!.contractAddress!;
    const token = deployed.receipts[1]!.contractAddress!;
    const holders = [0, 1, 2, 3].map(evmAddr);
    const txs = [evmTx(0, { to: token, data: tokenAirdropData(holders), nonce: 2n, gasLimit: 1_000_000n })];
    for (let i = 0; i < 4; i++) {
      txs.push(evmTx(i, { to: token, data: tokenTransferData(evmAddr(7), 5n), nonce: i === 0 ? 3n : 0n }));
      txs.push(evmTx(i, { to: counter, data: word(BigInt(i + 1)), nonce: i === 0 ? 4n : 1n }));
      txs.push(evmTx(i, { to: counter, data: word(0n), nonce: i === 0 ? 5n : 2n })); // reverts
      // More than the holder has: the token's own revert path.
      txs.push(
        evmTx(i, { to: token, data: tokenTransferData(evmAddr(6), 10n ** 30n), nonce: i === 0 ? 6n : 3n }),
      );
    }
    const block = await executeSequential(vm, state, txs, { height: 2, timeMs: 1_700_000_001_000 });
    apply(block.writes);
    return { receipts: [...deployed.receipts, ...block.receipts], state: [...state].sort() };
  }

  it('gives the same receipts and state as an uncached VM', async () => {
    const [cached, plain] = await Promise.all([run(true), run(false)]);
    expect(cached.receipts.map((r) => r.status)).toContain('revert');
    expect(cached.receipts.map((r) => r.status)).not.toContain('invalid');
    expect(cached.receipts).toEqual(plain.receipts);
    expect(cached.state).toEqual(plain.state);
  });

  it('leaves the code out of a call’s read set and keeps the account that names it', async () => {
    const vm = await EvmVm.create(rollup);
    const state = vm.genesis();
    const d = await executeSequential(
      vm,
      state,
      [evmTx(0, { data: deployCode(COUNTER_RUNTIME), nonce: 0n, gasLimit: 200_000n })],
      { height: 1, timeMs: 0 },
    );
    for (const [k, v] of d.writes) if (v !== null) state.set(k, v);
    const counter = d.receipts[0]!.contractAddress!;
    const p = vm.prepare(evmTx(1, { to: counter, data: word(3n), nonce: 0n }));
    if (!p.ok) throw new Error(p.error);
    const view = new TxView((k) => state.get(k));
    const out = await vm.execute(p.tx, view, { height: 2, timeMs: 0 });
    expect(out.status).toBe('success');
    const keys = [...view.reads.keys()];
    expect(keys).toContain(evmAccountKey(counter));
    expect(keys.filter((k) => k.startsWith('C'))).toEqual([]);
  });
});
