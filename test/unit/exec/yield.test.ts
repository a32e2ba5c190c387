/**
 * The executor's coordinator loops yield to the event loop during a long block (src/exec/yield.ts,
 * ADR 0310): a timer armed before the block starts fires before the block finishes. A fake VM busy-waits
 * a few ms per transaction, so the block is known to outlast a slice; nothing here asserts a duration.
 */
import { describe, expect, it } from 'vitest';
import { LaneCursor, runBundled } from '../../../src/exec/bundles.ts';
import { type AnyVm, executeSequential } from '../../../src/exec/engine.ts';
import type { TxOutcome } from '../../../src/exec/types.ts';
import { EXEC_SLICE_MS, Slicer } from '../../../src/exec/yield.ts';

const TXS = 40;
const TX_MS = 2; // TXS * TX_MS is several slices

function busyVm(onExecute: () => void): AnyVm {
  const vm = {
    kind: 'transfer',
    speculate: false,
    classify: () => ({ sender: 'x', nonce: 0n }),
    prepare: (p: Uint8Array) => ({ ok: true, tx: p, proof: '' }),
    restore: (p: Uint8Array) => p,
    execute: async (tx: Uint8Array, view: { set(k: string, v: string): void }): Promise<TxOutcome> => {
      const until = performance.now() + TX_MS;
      while (performance.now() < until) {
        // busy: the main thread is taken, as by a real VM
      }
      view.set(`k${tx[0]}`, 'v');
      onExecute();
      return { status: 'success', gasUsed: 1n, logs: [] };
    },
    applyCredit: () => undefined,
    genesis: () => new Map(),
  };
  return vm as unknown as AnyVm;
}

const payloads = Array.from({ length: TXS }, (_, i) => new Uint8Array([i]));
const ctx = { height: 1, timeMs: 0 };

/** Run `block` with a timer armed first: how many transactions had executed when the timer fired. */
async function executedWhenTimerFired(block: (vm: AnyVm) => Promise<unknown>): Promise<number | undefined> {
  let executed = 0;
  let atTimer: number | undefined;
  const vm = busyVm(() => executed++);
  const t = setTimeout(() => {
    atTimer = executed;
  }, 0);
  await block(vm);
  clearTimeout(t);
  return atTimer;
}

describe('executor yields during long blocks', () => {
  it('the sequential executor lets a due timer fire before the block ends', async () => {
    const at = await executedWhenTimerFired((vm) => executeSequential(vm, new Map(), payloads, ctx));
    expect(at).toBeDefined();
    expect(at!).toBeLessThan(TXS);
  });

  it('a bundled block (every transaction on the coordinator) lets a due timer fire before it ends', async () => {
    const at = await executedWhenTimerFired(async (vm) => {
      const cursor = new LaneCursor(vm, new Map(), TXS, ctx, async (i) => ({ ok: true, tx: payloads[i]! }));
      await runBundled([], new Map([[1, cursor]]));
      expect(cursor.receipts).toHaveLength(TXS);
    });
    expect(at).toBeDefined();
    expect(at!).toBeLessThan(TXS);
  });

  it('yielding does not change results', async () => {
    const vm = busyVm(() => {});
    const a = await executeSequential(vm, new Map(), payloads, ctx);
    expect(a.receipts.map((r) => r.status)).toEqual(payloads.map(() => 'success'));
    expect([...a.writes.keys()]).toHaveLength(TXS);
  });

  it('Slicer is due only after a slice has run', async () => {
    expect(new Slicer(60_000).due()).toBe(false);
    const s = new Slicer(EXEC_SLICE_MS);
    const until = performance.now() + EXEC_SLICE_MS;
    while (performance.now() < until) {
      // run a whole slice
    }
    expect(s.due()).toBe(true);
    await s.yield(); // a new slice starts
  });
});
