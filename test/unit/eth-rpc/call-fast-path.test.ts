/**
 * eth_call's fast path (ADR 0155: template transactions, cached code arrays and jump analysis) gives the
 * same results as building every call transaction with `createTx` and analysing code afresh: return
 * data, gas used and errors, for an ERC-20 (reads, a transfer, a revert with its reason), value
 * transfers, GASPRICE/CALLVALUE/NONCE-dependent code, out of gas, state overrides, and a contract that
 * calls another (two codes in one run), each asked repeatedly so cached analyses are reused. Plain calls
 * run the EVM directly instead of through runTx (ADR 0225): refunds, the calldata floor, senders with
 * code and empty senders sending value are among the cases. Call headers (built on ADR 0342's preset
 * Common on the fast path) show calls the same block fields.
 */
import { encodeFunctionData, type Hex, parseEther } from 'viem';
import { describe, expect, it } from 'vitest';
import { DEFAULT_EVM_BLOCK_GAS_LIMIT } from '../../../src/codec/index.ts';
import type { CallRequest } from '../../../src/eth-rpc/params.ts';
import { parseStateOverrides } from '../../../src/eth-rpc/params.ts';
import { EvmStateReader } from '../../../src/eth-rpc/state.ts';
import { DEFAULT_EVM_FEE_RECIPIENT } from '../../../src/exec/index.ts';
import { abi, caller, common, hex, holder, other, probe, token, world } from './evm-world.ts';

describe('eth_call fast path', () => {
  it('answers exactly as the plain path, call after call', async () => {
    const state = await world();
    const fast = new EvmStateReader((k) => state.get(k), common);
    const plain = new EvmStateReader((k) => state.get(k), common, undefined, { fast: false });
    const call = (fn: string, args: unknown[]) => hex(encodeFunctionData({ abi, functionName: fn, args }));
    const holderHex = `0x${Buffer.from(holder).toString('hex')}` as Hex;
    const otherHex = `0x${Buffer.from(other).toString('hex')}` as Hex;
    const supplySlot = parseStateOverrides(
      { [`0x${'07'.repeat(20)}`]: { stateDiff: { [`0x${'00'.repeat(31)}02`]: `0x${'00'.repeat(31)}05` } } },
      1000,
    );
    const cases: [CallRequest, bigint, typeof supplySlot][] = [
      [{ to: token, data: call('balanceOf', [holderHex]) }, 50_000_000n, []],
      [{ to: token, data: call('totalSupply', []) }, 50_000_000n, []],
      [{ to: token, data: call('totalSupply', []) }, 50_000_000n, supplySlot],
      [{ from: holder, to: token, data: call('transfer', [otherHex, 1n]) }, 50_000_000n, []],
      [{ from: other, to: token, data: call('transfer', [holderHex, 1n]) }, 50_000_000n, []],
      [{ from: holder, to: token, data: call('transfer', [otherHex, 1n]) }, 30_000n, []], // out of gas
      [{ from: holder, to: token, data: call('transfer', [otherHex, 1n]) }, 22_000n, []], // below intrinsic
      [{ from: holder, to: other, value: 7n }, 21_000n, []],
      [{ from: holder, to: probe, value: 3n, gasPrice: 9n }, 100_000n, []],
      [{ from: holder, to: probe, maxFeePerGas: 4n, nonce: 5n }, 100_000n, []],
      [{ to: caller, data: call('balanceOf', [holderHex]) }, 1_000_000n, []],
      [{ to: caller, data: call('symbol', []) }, 1_000_000n, []],
      // ADR 0225's direct run against runTx: a storage refund (the holder's whole balance moves out),
      [{ from: holder, to: token, data: call('transfer', [otherHex, parseEther('1000')]) }, 200_000n, []],
      // the EIP-7623 calldata floor above the intrinsic + execution gas, and a limit between the two,
      [{ from: holder, to: other, data: new Uint8Array(1000) }, 100_000n, []],
      [{ from: holder, to: other, data: new Uint8Array(1000) }, 26_000n, []],
      // a sender with code (EIP-3607: runTx refuses), value from an empty account, a fresh recipient
      [{ from: token, to: other, value: 1n }, 100_000n, []],
      [
        { from: new Uint8Array(20).fill(0x33), to: new Uint8Array(20).fill(0x44), value: 5n, gasPrice: 2n },
        50_000n,
        [],
      ],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [req, gas, over] of cases) {
        const run = (r: EvmStateReader) =>
          r.simulate(req, over, gas, 12, 2000).catch((e: unknown) => ({ threw: (e as Error).message }));
        const a = await run(fast);
        const b = await run(plain);
        expect(a).toEqual(b);
      }
    }
    // and the answers are the expected ones, so the comparison is not between two wrong paths
    const bal = await fast.simulate(cases[0]![0], [], 50_000_000n, 12, 2000);
    expect(BigInt(`0x${Buffer.from(bal.returnValue).toString('hex')}`)).toBe(parseEther('1000'));
    const viaCaller = await fast.simulate(cases[10]![0], [], 1_000_000n, 12, 2000);
    expect(viaCaller.returnValue).toEqual(bal.returnValue);
    const poor = await fast.simulate(cases[4]![0], [], 50_000_000n, 12, 2000);
    expect(poor).toMatchObject({ ok: false, error: 'revert' });
    const oog = await fast.simulate(cases[5]![0], [], 30_000n, 12, 2000);
    expect(oog).toMatchObject({ ok: false, error: 'out of gas' });
    const p = await fast.simulate(cases[8]![0], [], 100_000n, 12, 2000);
    expect([...p.returnValue.subarray(31, 32), ...p.returnValue.subarray(63, 64)]).toEqual([9, 3]);
  });

  it('shows calls the same block fields on both paths (headers on the preset Common, ADR 0342)', async () => {
    const state = await world();
    const fast = new EvmStateReader((k) => state.get(k), common);
    const plain = new EvmStateReader((k) => state.get(k), common, undefined, { fast: false });
    // NUMBER TIMESTAMP GASLIMIT BASEFEE COINBASE CHAINID BLOBBASEFEE PREVRANDAO, one word each, returned.
    const ops = [0x43, 0x42, 0x45, 0x48, 0x41, 0x46, 0x4a, 0x44];
    const code = [...ops.flatMap((op, i) => [op, 0x60, i * 32, 0x52]), 0x61, 0x01, 0x00, 0x60, 0x00, 0xf3];
    const at = `0x${'5a'.repeat(20)}`;
    const over = parseStateOverrides({ [at]: { code: `0x${Buffer.from(code).toString('hex')}` } }, 1000);
    const req: CallRequest = { to: hex(at) };
    const words = (r: { returnValue: Uint8Array }) =>
      Array.from({ length: ops.length }, (_, i) =>
        BigInt(`0x${Buffer.from(r.returnValue.subarray(i * 32, i * 32 + 32)).toString('hex')}`),
      );
    for (const [height, time] of [
      [12, 2000],
      [12, 2000],
      [13, 2001],
    ] as const) {
      const a = await fast.simulate(req, over, 100_000n, height, time);
      const b = await plain.simulate(req, over, 100_000n, height, time);
      expect(a).toEqual(b);
      expect(a.ok).toBe(true);
      expect(words(a).slice(0, 6)).toEqual([
        BigInt(height),
        BigInt(time),
        BigInt(DEFAULT_EVM_BLOCK_GAS_LIMIT),
        0n,
        BigInt(DEFAULT_EVM_FEE_RECIPIENT),
        900_001n,
      ]);
    }
  });
});
