/**
 * Every executed rollup's height in one store write (ADR 0344) and recent results from memory
 * (ADR 0343): the results (state roots, results hashes, receipts) are those of an executor writing
 * each rollup on its own (in-memory stores), they survive a restart, and `getResult` of a recent height
 * decodes the bytes that were stored.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createExecutor, type Executor, memoryKvFactory } from '../../../src/exec/index.ts';
import { RECENT_RESULTS } from '../../../src/exec/state.ts';
import { type EngineBlockStore, openStore } from '../../../src/store/index.ts';
import { EVM_NS, evmAddr, evmTx, rollups, TRANSFER_NS, transfer } from './helpers.ts';

const dirs: string[] = [];
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function storeAt(path: string): Promise<EngineBlockStore> {
  const s = await openStore({ path, sync: false });
  cleanup.push(() => s.close());
  return s;
}

async function executorOn(kv: Parameters<typeof createExecutor>[0]['kv']): Promise<Executor> {
  const e = createExecutor({ rollups: rollups(), kv, workers: 0 });
  await e.start();
  cleanup.push(() => e.stop());
  return e;
}

/** Heights 1..n: transfers and EVM payments on some, empty slices on the others. */
function blocks(n: number): Map<number, Uint8Array[]>[] {
  const out: Map<number, Uint8Array[]>[] = [];
  let tNonce = 0n;
  let eNonce = 0n;
  for (let h = 1; h <= n; h++) {
    const m = new Map<number, Uint8Array[]>();
    if (h % 3 === 1) m.set(TRANSFER_NS, [transfer(1, 2, 5n, tNonce++)]);
    if (h % 4 === 2)
      m.set(EVM_NS, [evmTx(1, { to: evmAddr(9), value: 7n, nonce: eNonce++, gasLimit: 21_000n })]);
    out.push(m);
  }
  return out;
}

const summary = (r: Awaited<ReturnType<Executor['executeBlock']>>) =>
  [...r.values()].map((x) => ({
    ns: x.namespace,
    root: Buffer.from(x.stateRoot).toString('hex'),
    hash: Buffer.from(x.resultsHash).toString('hex'),
    receipts: x.receipts.map((y) => `${y.index}:${y.status}:${y.gasUsed}`),
  }));

describe('executor: one write per height', () => {
  it('persists all executed rollups of a height in one store write, with the same results', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ordo-exec-hw-'));
    dirs.push(dir);
    const store = await storeAt(join(dir, 'db'));
    const onStore = await executorOn((ns) => store.sub(`exec/${ns}`, { sync: false }));
    const inMemory = await executorOn(memoryKvFactory().kv);
    const spy = vi.spyOn(store, 'writeBatch');
    const bs = blocks(RECENT_RESULTS + 6);
    for (const [i, txs] of bs.entries()) {
      const h = i + 1;
      const before = spy.mock.calls.length;
      const a = await onStore.executeBlock(h, txs, { timeMs: 1_000 * h });
      expect(spy.mock.calls.length - before).toBe(1);
      const b = await inMemory.executeBlock(h, txs, { timeMs: 1_000 * h });
      expect(summary(a)).toEqual(summary(b));
      expect([...a.keys()]).toEqual([TRANSFER_NS, EVM_NS]);
    }
    // Recent heights from memory, older ones from the store: the same answers as the other executor.
    spy.mockClear();
    const read = vi.spyOn(store, 'readKey');
    for (let h = 1; h <= bs.length; h++) {
      for (const ns of [TRANSFER_NS, EVM_NS]) {
        const x = await onStore.getResult(ns, h);
        const y = await inMemory.getResult(ns, h);
        expect(x).toEqual(y);
      }
    }
    // Only the heights older than the kept ones were read, once per rollup.
    expect(read.mock.calls.length).toBe(2 * (bs.length - RECENT_RESULTS));
    // A fresh object each time: changing one answer does not change the next.
    const r1 = await onStore.getResult(EVM_NS, bs.length);
    r1!.receipts.length = 0;
    expect((await onStore.getResult(EVM_NS, bs.length))!.receipts).toHaveLength(
      bs.at(-1)!.get(EVM_NS)?.length ?? 0,
    );
  });

  it('restarts at the last executed height with the same heads and results', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ordo-exec-hw-'));
    dirs.push(dir);
    const path = join(dir, 'db');
    const bs = blocks(7);
    let heads: string[];
    let last: unknown;
    {
      const store = await openStore({ path, sync: false });
      const e = createExecutor({
        rollups: rollups(),
        kv: (ns) => store.sub(`exec/${ns}`, { sync: false }),
        workers: 0,
      });
      await e.start();
      for (const [i, txs] of bs.entries()) await e.executeBlock(i + 1, txs, { timeMs: 1_000 * (i + 1) });
      heads = [TRANSFER_NS, EVM_NS].map((ns) => Buffer.from(e.head(ns).stateRoot).toString('hex'));
      last = summary(await e.executeBlock(7, bs[6]!));
      await e.stop();
      await store.close();
    }
    const store = await storeAt(path);
    const e = await executorOn((ns) => store.sub(`exec/${ns}`, { sync: false }));
    expect([TRANSFER_NS, EVM_NS].map((ns) => e.head(ns).height)).toEqual([7, 7]);
    expect([TRANSFER_NS, EVM_NS].map((ns) => Buffer.from(e.head(ns).stateRoot).toString('hex'))).toEqual(
      heads,
    );
    // Asking for a persisted height answers from the store.
    expect(summary(await e.executeBlock(7, bs[6]!))).toEqual(last);
  });
});
