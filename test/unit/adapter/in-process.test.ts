import { describe, expect, it } from 'vitest';
import { AdapterError } from '../../../src/rollup-adapter/errors.ts';
import { createInProcessAdapter } from '../../../src/rollup-adapter/in-process.ts';
import { MemorySource } from '../../../src/rollup-adapter/testing/memory-source.ts';
import { verifyNamespaceBlock } from '../../../src/rollup-adapter/verify.ts';

const enc = new TextEncoder();

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AdapterError);
  expect((err as AdapterError).code).toBe(code);
}

describe('in-process adapter', () => {
  it('backfills, then goes live, with no gaps and no duplicates; empty blocks arrive', async () => {
    const src = new MemorySource();
    for (let h = 1; h <= 5; h++)
      src.produceBlock(h % 2 === 0 ? [{ namespace: 1, payload: enc.encode(`t${h}`) }] : []);
    const ad = createInProcessAdapter(src);
    const ac = new AbortController();
    const it = ad
      .streamBlocks({ namespace: 1, fromHeight: 2 }, { signal: ac.signal })
      [Symbol.asyncIterator]();
    const seen: number[] = [];
    const ctx = { chainId: src.chainId, validators: src.validators, namespace: 1 };
    for (let i = 0; i < 4; i++) {
      const r = await it.next();
      verifyNamespaceBlock(r.value!, ctx);
      seen.push(r.value!.height);
    }
    // Live: the next pull waits for a commit.
    const pending = it.next();
    setTimeout(() => {
      src.produceBlock([{ namespace: 1, payload: enc.encode('live') }]);
      src.produceBlock([]);
    }, 10);
    const live = await pending;
    seen.push(live.value!.height);
    expect(live.value!.transactions.map((t: Uint8Array) => new TextDecoder().decode(t))).toEqual(['live']);
    seen.push((await it.next()).value!.height);
    expect(seen).toEqual([2, 3, 4, 5, 6, 7]);
    const waiting = it.next();
    ac.abort();
    expect((await waiting).done).toBe(true);
    expect(src.listenerCount()).toBe(0);
  });

  it('waits for a future fromHeight within the bound, refuses beyond it', async () => {
    const src = new MemorySource();
    src.produceBlock([]);
    const ad = createInProcessAdapter(src, { maxFutureBlocks: 3 });
    const it = ad.streamBlocks({ namespace: 2, fromHeight: 4 })[Symbol.asyncIterator]();
    const p = it.next();
    for (let i = 0; i < 3; i++) src.produceBlock([]);
    expect((await p).value!.height).toBe(4);
    await it.return?.();
    await expectCode(
      ad.streamBlocks({ namespace: 2, fromHeight: 20 })[Symbol.asyncIterator]().next(),
      'FROM_HEIGHT_TOO_FAR',
    );
    await expectCode(
      ad.streamBlocks({ namespace: 99, fromHeight: 1 })[Symbol.asyncIterator]().next(),
      'UNKNOWN_NAMESPACE',
    );
    src.prune(3);
    await expectCode(
      ad.streamBlocks({ namespace: 2, fromHeight: 1 })[Symbol.asyncIterator]().next(),
      'HEIGHT_PRUNED',
    );
  });

  it('submits, reports status and commitment state', async () => {
    const src = new MemorySource();
    const ad = createInProcessAdapter(src);
    expect((await ad.getCommitmentState()).soft.height).toBe(0);
    const r = await ad.submitTransaction({ namespace: 1, payload: enc.encode('hello') });
    expect(r.accepted).toBe(true);
    expect(await ad.getTransactionStatus(r.txHash)).toEqual({ status: 'pending' });
    const bad = await ad.submitTransaction({ namespace: 42, payload: enc.encode('x') });
    expect(bad).toMatchObject({ accepted: false, rejectCode: 'UNKNOWN_NAMESPACE', retryable: false });
    const cb = src.produceBlock();
    expect(await ad.getTransactionStatus(r.txHash)).toEqual({ status: 'committed', height: 1, index: 0 });
    const cs = await ad.getCommitmentState();
    expect(cs.soft).toEqual({
      height: 1,
      blockHash: cb.certificate.blockHash,
      timeMs: cb.block.header.timeMs,
    });
    expect(cs.firm.height).toBe(0);
  });

  it('reads a block only when the consumer pulls it (a slow consumer costs no memory)', async () => {
    const src = new MemorySource();
    for (let h = 1; h <= 100; h++) src.produceBlock([{ namespace: 1, payload: enc.encode(`p${h}`) }]);
    const ad = createInProcessAdapter(src);
    const it = ad.streamBlocks({ namespace: 1, fromHeight: 1 })[Symbol.asyncIterator]();
    const before = src.reads;
    for (let i = 0; i < 3; i++) await it.next();
    await new Promise((r) => setTimeout(r, 20));
    expect(src.reads - before).toBe(3);
    await it.return?.();
    expect(src.listenerCount()).toBe(0);
  });
});
