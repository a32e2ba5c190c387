/**
 * The EVM block gas limit in the executor (ADR 0285): no transaction may declare more gas than its
 * rollup's block gas limit. Before it, one transaction with a huge gas limit running an endless loop held
 * every executor, and with it block production, for hours.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor, type Executor, memoryKvFactory } from '../../../src/exec/index.ts';
import { EVM_NS, evmAddr, evmTx, rollups } from './helpers.ts';

const LIMIT = 1_000_000;
// JUMPDEST PUSH1 0 JUMP: init code that loops until its gas is gone.
const LOOP = new Uint8Array([0x5b, 0x60, 0x00, 0x56]);

let ex: Executor;
let height = 0;
beforeAll(async () => {
  const rs = rollups().map((r) => (r.namespace === EVM_NS ? { ...r, evmGasLimit: LIMIT } : r));
  ex = createExecutor({ rollups: rs, kv: memoryKvFactory().kv, workers: 0 });
  await ex.start();
});
afterAll(async () => {
  await ex.stop();
});

async function block(txs: Uint8Array[]) {
  height++;
  return (await ex.executeBlock(height, new Map([[EVM_NS, txs]]), 1_700_000_000_000)).get(EVM_NS)!;
}

describe('the EVM block gas limit in the executor', () => {
  it('refuses a transaction that declares more gas than the limit, at admission and in a block', async () => {
    const over = evmTx(0, { to: evmAddr(9), value: 1n, nonce: 0n, gasLimit: BigInt(LIMIT + 1) });
    expect(ex.checkPayload(EVM_NS, over)).toMatch(/exceeds block gas limit: gas 1000001, limit 1000000/);
    expect(ex.classify(EVM_NS, over)).toEqual({ error: expect.stringMatching(/exceeds block gas limit/) });
    const r = await block([over]);
    expect(r.receipts[0]!.status).toBe('invalid');
    expect(r.receipts[0]!.error).toMatch(/exceeds block gas limit/);
  });

  it('runs an endless loop declaring exactly the limit out of gas, charging the whole limit', async () => {
    const r = await block([
      evmTx(1, { data: LOOP, nonce: 0n, gasLimit: BigInt(LIMIT) }),
      evmTx(1, { to: evmAddr(9), value: 1n, nonce: 1n, gasLimit: 21_000n }),
    ]);
    expect(r.receipts.map((x) => x.status)).toEqual(['revert', 'success']);
    expect(r.receipts[0]!.gasUsed).toBe(BigInt(LIMIT));
  });
});
