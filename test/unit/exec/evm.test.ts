import { keccak_256 } from '@noble/hashes/sha3.js';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNTER_RUNTIME, deployCode, word } from '../../../src/exec/evm/contracts.ts';
import { createExecutor, type Executor, memoryKvFactory } from '../../../src/exec/index.ts';
import { CHAIN_ID, EVM_NS, evmAddr, evmAddrHex, evmKeys, evmTx, rollups } from './helpers.ts';

let ex: Executor;
let height = 0;
beforeAll(async () => {
  ex = createExecutor({ rollups: rollups(), kv: memoryKvFactory().kv, workers: 0 });
  await ex.start();
});
afterAll(async () => {
  await ex.stop();
});

async function block(txs: Uint8Array[]) {
  height++;
  return (await ex.executeBlock(height, new Map([[EVM_NS, txs]]), 1_700_000_000_000)).get(EVM_NS)!;
}

describe('EVM (ethereumjs, Prague)', () => {
  it('executes a value transfer of each transaction type', async () => {
    const r = await block([
      evmTx(0, { to: evmAddr(10), value: 5n, nonce: 0n, gasLimit: 21_000n }),
      evmTx(0, { to: evmAddr(10), value: 5n, nonce: 1n, gasLimit: 21_000n, type: 1 }),
      evmTx(0, { to: evmAddr(10), value: 5n, nonce: 2n, gasLimit: 21_000n, type: 0 }),
    ]);
    expect(r.receipts.map((x) => [x.status, x.gasUsed])).toEqual([
      ['success', 21_000n],
      ['success', 21_000n],
      ['success', 21_000n],
    ]);
    expect(ex.accountNonce(EVM_NS, evmAddrHex(0))).toBe(3n);
  });

  it('deploys a contract, calls it (log + storage) and reverts', async () => {
    const d = await block([evmTx(1, { data: deployCode(COUNTER_RUNTIME), nonce: 0n, gasLimit: 200_000n })]);
    expect(d.receipts[0]!.status).toBe('success');
    const addr = d.receipts[0]!.contractAddress!;
    expect(addr.byteLength).toBe(20);
    const r = await block([
      evmTx(2, { to: addr, data: word(7n), nonce: 0n }),
      evmTx(2, { to: addr, data: word(0n), nonce: 1n }),
      evmTx(2, { to: addr, data: word(9n), nonce: 2n }),
    ]);
    expect(r.receipts.map((x) => x.status)).toEqual(['success', 'revert', 'success']);
    expect(r.receipts[0]!.logs).toHaveLength(1);
    expect(r.receipts[0]!.logs[0]!.address).toEqual(addr);
    expect(r.receipts[0]!.logs[0]!.topics[0]).toEqual(word(7n));
    expect(r.receipts[1]!.logs).toHaveLength(0);
    // A revert still charges gas and bumps the nonce.
    expect(r.receipts[1]!.gasUsed).toBeGreaterThan(21_000n);
    expect(ex.accountNonce(EVM_NS, evmAddrHex(2))).toBe(3n);
    // First SSTORE 0→1 costs 20k more than the second 1→2 (cold/warm + original-value rules).
    expect(r.receipts[0]!.gasUsed - r.receipts[2]!.gasUsed).toBeGreaterThan(10_000n);
  });

  it('rejects a wrong chain id, a bad nonce and insufficient funds as invalid', async () => {
    const r = await block([
      evmTx(3, { to: evmAddr(10), value: 1n, nonce: 0n, chainId: CHAIN_ID + 1 }),
      evmTx(3, { to: evmAddr(10), value: 1n, nonce: 5n }),
      evmTx(3, { to: evmAddr(10), value: 10n ** 19n, nonce: 0n }),
      evmTx(11, { to: evmAddr(10), value: 1n, nonce: 0n }),
      new Uint8Array([0x02, 0xc0]),
    ]);
    expect(r.receipts.map((x) => x.status)).toEqual(['invalid', 'invalid', 'invalid', 'invalid', 'invalid']);
    expect(r.receipts[0]!.error).toMatch(/chain/i);
    expect(r.receipts[1]!.error).toMatch(/nonce/i);
    expect(r.receipts[2]!.error).toMatch(/balance|funds/i);
    expect(ex.accountNonce(EVM_NS, evmAddrHex(3))).toBe(0n);
  });

  it('executes a transaction signed by viem as a real chain would', async () => {
    const account = privateKeyToAccount(`0x${Buffer.from(evmKeys[4]!).toString('hex')}`);
    expect(account.address.toLowerCase()).toBe(evmAddrHex(4));
    const raw = await account.signTransaction({
      chainId: CHAIN_ID,
      type: 'eip1559',
      to: evmAddrHex(10) as `0x${string}`,
      value: 123n,
      gas: 21_000n,
      maxFeePerGas: 3_000_000_000n,
      maxPriorityFeePerGas: 2n,
      nonce: 0,
    });
    const payload = new Uint8Array(Buffer.from(raw.slice(2), 'hex'));
    expect(ex.classify(EVM_NS, payload)).toEqual({ sender: evmAddrHex(4), nonce: 0n });
    const r = await block([payload]);
    expect(r.receipts[0]).toMatchObject({ status: 'success', gasUsed: 21_000n });
    // The tx hash viem would report is keccak of the raw bytes.
    expect(keccak_256(payload).byteLength).toBe(32);
  });

  it('followState: the state and its height, then the diff of every committed height, in order', async () => {
    const copy = new Map<string, string>();
    const seen: number[] = [];
    const f = ex.followState(EVM_NS, (h, diff) => {
      seen.push(h);
      for (const [k, v] of diff) {
        if (v === null) copy.delete(k);
        else copy.set(k, v);
      }
    });
    for (const [k, v] of f.state) copy.set(k, v);
    expect(f.height).toBe(ex.head(EVM_NS).height);
    await block([evmTx(5, { to: evmAddr(11), value: 9n, nonce: 0n, gasLimit: 21_000n })]);
    await block([evmTx(5, { to: evmAddr(11), value: 9n, nonce: 1n, gasLimit: 21_000n })]);
    expect(seen).toEqual([f.height + 1, f.height + 2]);
    const live = ex.stateGetter(EVM_NS);
    expect(copy.size).toBe(f.state.size);
    for (const [k, v] of copy) expect(live(k)).toBe(v);
    f.stop();
    await block([evmTx(5, { to: evmAddr(11), value: 9n, nonce: 2n, gasLimit: 21_000n })]);
    expect(seen).toHaveLength(2);
  });
});
