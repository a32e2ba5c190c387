/**
 * A small EVM world for the eth_call tests: the ERC-20 fixture deployed at 0x0707…, its supply held by
 * 0x1111…, a probe returning GASPRICE/CALLVALUE/SELFBALANCE at 0x0808…, and a contract at 0x0909… that
 * STATICCALLs the token with its own calldata. Plain committed-state entries (key → latin1 value).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { type Abi, encodeDeployData, type Hex, parseEther } from 'viem';
import { expect } from 'vitest';
import { EvmStateReader } from '../../../src/eth-rpc/state.ts';
import { encodeEvmAccount, evmAccountKey, evmCustomCrypto, evmStorageKey } from '../../../src/exec/index.ts';

export const artifact = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'evm', 'OrdoToken.json'), 'utf8'),
) as { abi: Abi; bytecode: Hex };
export const abi = artifact.abi;
export const common = createCustomCommon({ chainId: 900_001 }, Mainnet, {
  hardfork: Hardfork.Prague,
  customCrypto: evmCustomCrypto,
});
export const lat = (b: Uint8Array) => Buffer.from(b).toString('latin1');
export const hex = (h: string) => new Uint8Array(Buffer.from(h.replace(/^0x/, ''), 'hex'));

export const holder = new Uint8Array(20).fill(0x11);
export const other = new Uint8Array(20).fill(0x22);
export const token = new Uint8Array(20).fill(0x07);
export const probe = new Uint8Array(20).fill(0x08);
export const caller = new Uint8Array(20).fill(0x09);
export const holderHex = `0x${Buffer.from(holder).toString('hex')}` as Hex;
/** A 32-byte big-endian word. */
export const word = (v: bigint) => hex(v.toString(16).padStart(64, '0'));
/** A storage value as the state keeps it: leading zero bytes stripped, latin1. */
export const stripped = (w: Uint8Array) => lat(w.subarray(w.findIndex((x) => x !== 0)));
export const asBig = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString('hex')}`);
/** The state key of the token's balanceOf[holder] (mapping at slot 3). */
export const balanceKey = evmStorageKey(
  token,
  keccak_256(new Uint8Array([...new Uint8Array(12), ...holder, ...word(3n)])),
);

/** A state with the token deployed (holder owns the supply), a probe and a contract calling the token. */
export async function world(): Promise<Map<string, string>> {
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
  const slot = (n: bigint) => word(n);
  const shortString = hex(`54${'00'.repeat(30)}02`);
  state.set(evmStorageKey(token, slot(0n)), lat(shortString));
  state.set(evmStorageKey(token, slot(1n)), lat(shortString));
  state.set(evmStorageKey(token, slot(2n)), stripped(word(parseEther('1000'))));
  state.set(balanceKey, stripped(word(parseEther('1000'))));
  state.set(
    evmAccountKey(holder),
    encodeEvmAccount({ nonce: 5n, balance: parseEther('10'), codeHash: lat(keccak_256(new Uint8Array(0))) }),
  );
  return state;
}
