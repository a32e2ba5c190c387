/**
 * Rule 6 of issue #22: an executed rollup's block is handed out only with its execution results, once
 * the node has executed (and pre-confirmed) that height; the wait is bounded and ends with UNAVAILABLE
 * and the height to resume from. Opaque rollups are not held back.
 */
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../../src/crypto/hash.ts';
import { AdapterError } from '../../../src/rollup-adapter/errors.ts';
import { namespaceBlockStream } from '../../../src/rollup-adapter/stream.ts';
import { MemorySource, testRollup } from '../../../src/rollup-adapter/testing/memory-source.ts';

const enc = new TextEncoder();

/** A memory source whose execution lags its commits until the test says so. */
class LaggingSource extends MemorySource {
  executed = 0;
  readonly #listeners = new Set<(h: number) => void>();
  executedHeight(): number {
    return this.executed;
  }
  onExecuted(l: (h: number) => void): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }
  markExecuted(h: number): void {
    this.executed = h;
    for (const l of this.#listeners) l(h);
  }
}

function source(): LaggingSource {
  const src = new LaggingSource({
    rollups: [testRollup(1, 'pay', 'transfer'), testRollup(2, 'opaque')],
    execute: (h, ns, txs) => ({
      receipts: txs.map((t) => t.subarray(0, 1)),
      stateRoot: sha256(enc.encode(`${ns}/${h}`)),
    }),
  });
  src.produceBlock([
    { namespace: 1, payload: enc.encode('a1') },
    { namespace: 2, payload: enc.encode('b1') },
  ]);
  return src;
}

describe('adapter hand-off of executed rollups', () => {
  it('waits for execution, then hands the block with its results', async () => {
    const src = source();
    const ac = new AbortController();
    const it = namespaceBlockStream(src, { namespace: 1, fromHeight: 1 }, { signal: ac.signal });
    const first = it.next();
    let got = false;
    void first.then(() => {
      got = true;
    });
    // Give the stream every chance to run: it must still be waiting for execution.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(got).toBe(false);
    src.markExecuted(1);
    const r = await first;
    expect(r.done).toBe(false);
    expect(r.value!.height).toBe(1);
    expect(r.value!.execution).toBeDefined();
    expect(r.value!.execution!.receipts).toHaveLength(1);
    ac.abort();
    await it.return(undefined);
  });

  it('opaque rollups are not held back', async () => {
    const src = source();
    const ac = new AbortController();
    const it = namespaceBlockStream(src, { namespace: 2, fromHeight: 1 }, { signal: ac.signal });
    const r = await it.next();
    expect(r.value!.height).toBe(1);
    expect(r.value!.execution).toBeUndefined();
    ac.abort();
    await it.return(undefined);
  });

  it('ends with UNAVAILABLE and the resume height when execution does not come in time', async () => {
    const src = source();
    const it = namespaceBlockStream(src, { namespace: 1, fromHeight: 1 }, { limits: { execWaitMs: 20 } });
    const err = await it.next().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AdapterError);
    expect((err as AdapterError).code).toBe('UNAVAILABLE');
    expect((err as AdapterError).resumeHeight).toBe(1);
  });
});
