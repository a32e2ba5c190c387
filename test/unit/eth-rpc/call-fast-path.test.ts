/**
 * eth_call's fast path (ADR 0155: template transactions, cached code arrays and jump analysis) gives the
 * same results as building every call transaction with `createTx` and analysing code afresh: return
 * data, gas used and errors, for an ERC-20 (reads, a transfer, a revert with its reason), value
 * transfers, GASPRICE/CALLVALUE/NONCE-dependent code, out of gas, state overrides, and a contract that
 * calls another (two codes in one run), each asked repeatedly so cached analyses are reused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { type Abi, encodeDeployData, encodeFunctionData, type Hex, parseEther } from 'viem';
import { describe, expect, it } from 'vitest';
import type { CallRequest } from '../../../src/eth-rpc/params.ts';
import { parseStateOverrides } from '../../../src/eth-rpc/params.ts';
import { EvmStateReader } from '../../../src/eth-rpc/state.ts';
import { encodeEvmAccount, evmAccountKey, evmCustomCrypto, evmStorageKey } from '../../../src/exec/index.ts';

const artifact = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'evm', 'OrdoToken.json'), 'utf8'),
) as { abi: Abi; bytecode: Hex };
const abi = artifact.abi;
const common = createCustomCommon({ chainId: 900_001 }, Mainnet, {
  hardfork: Hardfork.Prague,
  customCrypto: evmCustomCrypto,
});
const lat = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const hex = (h: string) => new Uint8Array(Buffer.from(h.replace(/^0x/, ''), 'hex'));

const holder = new Uint8Array(20).fill(0x11);
const other = new Uint8Array(20).fill(0x22);
const token = new Uint8Array(20).fill(0x07);
const probe = new Uint8Array(20).fill(0x08);
const caller = new Uint8Array(20).fill(0x09);

/** A state with the token deployed (holder owns the supply), a probe and a contract calling the token. */
async function world(): Promise<Map<string, string>> {
  const state = new Map<string, string>();
  const reader = new EvmStateReader((k) => state.get(k), common);
  // The deploy's return is the runtime code; the constructor's storage writes are redone as overrides
  // would be: run the constructor "from" the holder and keep only the code (balances come from a call).
  const put = (addr: Uint8Array, code: Uint8Array, nonce = 1n, balance = 0n) => {
    const h = lat(keccak_256(code));
    state.set(evmAccountKey(addr), encodeEvmAccount({ nonce, balance, codeHash: h }));
    state.set(`C${h}`, lat(code));
  };
  const deploy = await reader.simulate(
    {
      from: holder,
      data: hex(encodeDeployData({ abi, bytecode: artifact.bytecode, args: ['T', 'T', parseEther('1000')] })),
    },
    [],
    5_000_000n,
    10,
    1000,
  );
  expect(deploy.ok).toBe(true);
  put(token, deploy.returnValue);
  // probe: return GASPRICE + CALLVALUE + SELFBALANCE in three words
  put(probe, hex('0x3a600052346020524760405260606000f3'));
  // caller: STATICCALL(gas, token, 0, calldatasize) forwarding calldata; return what it returned
  put(
    caller,
    hex('0x366000600037600060003660007307070707070707070707070707070707070707075afa3d6000803e3d6000f3'),
  );
  // The constructor's storage (the deploy above ran as a simulation and kept nothing): name and symbol
  // "T" (short strings: bytes then 2 × length), totalSupply (slot 2), balanceOf[holder] (mapping, slot 3).
  const word = (v: bigint) => hex(v.toString(16).padStart(64, '0'));
  const slot = (n: bigint) => word(n);
  const stripped = (w: Uint8Array) => lat(w.subarray(w.findIndex((x) => x !== 0)));
  const shortString = hex(`54${'00'.repeat(30)}02`);
  state.set(evmStorageKey(token, slot(0n)), lat(shortString));
  state.set(evmStorageKey(token, slot(1n)), lat(shortString));
  state.set(evmStorageKey(token, slot(2n)), stripped(word(parseEther('1000'))));
  const balSlot = keccak_256(new Uint8Array([...new Uint8Array(12), ...holder, ...slot(3n)]));
  state.set(evmStorageKey(token, balSlot), stripped(word(parseEther('1000'))));
  state.set(
    evmAccountKey(holder),
    encodeEvmAccount({ nonce: 5n, balance: parseEther('10'), codeHash: lat(keccak_256(new Uint8Array(0))) }),
  );
  return state;
}

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
});
