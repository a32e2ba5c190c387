/**
 * `verify` runs its per-transaction checks in slices (ADR 0312): a timer armed before a large block is
 * verified fires before the verdict, and the verdicts (accept, and the first invalid transaction's
 * refusal) are the ones a check in one piece gives. `checkPayload` busy-waits so the block is known
 * to outlast a slice; nothing here asserts a duration.
 */
import { describe, expect, it } from 'vitest';
import { createBlockBuilder } from '../../../src/builder/index.ts';
import type { TxEnvelope } from '../../../src/types.ts';
import { blockOf } from './fixtures.ts';

const rollups = [{ namespace: 1, name: 'one', maxTxBytes: 64 }];
const TXS = 60;
const txs: TxEnvelope[] = Array.from({ length: TXS }, (_, i) => ({
  namespace: 1,
  payload: new Uint8Array([i, 1]),
}));

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // the main thread is taken, as by a sender recovery
  }
}

function builder(checkSliceMs: number, bad = -1) {
  let checked = 0;
  const b = createBlockBuilder({
    rollups,
    mempool: { reap: () => txs, stats: () => ({ txs: TXS }), get: () => undefined },
    results: { results: () => Promise.resolve([]) },
    checkPayload: (_ns, p) => {
      busy(1);
      checked++;
      return p[0] === bad ? 'bad payload' : undefined;
    },
    checkSliceMs,
  });
  return { b, checked: () => checked };
}

describe('verify checks transactions in slices', () => {
  it('a timer armed before a large block is verified fires before the verdict', async () => {
    const { b, checked } = builder(2);
    const block = blockOf(5, await b.build(5, 1 << 20, 1000));
    expect(block.txs).toHaveLength(TXS);
    let atTimer: number | undefined;
    const t = setTimeout(() => {
      atTimer = checked();
    }, 0);
    const v = await b.verify(block);
    clearTimeout(t);
    expect(v).toEqual({ ok: true });
    expect(atTimer).toBeDefined();
    expect(atTimer!).toBeLessThan(TXS);
  });

  it('the verdicts equal those of a check in one piece', async () => {
    for (const bad of [-1, 0, 37, TXS - 1]) {
      const sliced = builder(1, bad);
      const whole = builder(Number.POSITIVE_INFINITY, bad);
      const block = blockOf(5, await whole.b.build(5, 1 << 20, 1000));
      expect(await sliced.b.verify(block)).toEqual(await whole.b.verify(block));
    }
  });
});
