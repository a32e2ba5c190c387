/**
 * The executor tells the node when it executed each block and ran each simulation (`onTrace`, ADR 0307),
 * for the height timeline; a failing hook never fails execution. Asserts order of the reported times,
 * never a duration.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { unsignedBundle } from '../../../src/codec/index.ts';
import {
  createExecutor,
  type ExecTraceEvent,
  type Executor,
  memoryKvFactory,
} from '../../../src/exec/index.ts';
import { EVM_NS, evmAddr, evmTx, rollups } from './helpers.ts';

const execs: Executor[] = [];
afterEach(async () => {
  await Promise.all(execs.splice(0).map((e) => e.stop()));
});

async function executor(onTrace: (e: ExecTraceEvent) => void): Promise<Executor> {
  const e = createExecutor({
    rollups: rollups({ evmBalance: '3000000000000000' }),
    kv: memoryKvFactory().kv,
    workers: 0,
    onTrace,
  });
  await e.start();
  execs.push(e);
  return e;
}

const pay = (from: number) => evmTx(from, { to: evmAddr(11), value: 5n, nonce: 0n, gasLimit: 21_000n });

describe('executor trace', () => {
  it('reports every executed height in order with queued <= start <= end, and each simulation', async () => {
    const events: ExecTraceEvent[] = [];
    const e = await executor((x) => events.push(x));
    await Promise.all([
      e.executeBlock(1, new Map([[EVM_NS, [pay(1)]]])),
      e.executeBlock(2, new Map([[EVM_NS, [pay(2)]]])),
    ]);
    const sim = await e.simulate(
      unsignedBundle([{ namespace: EVM_NS, txs: [pay(3)], revertingTxHashes: [] }]),
    );
    expect(sim.applies).toBe(true);
    const executed = events.filter((x) => x.kind === 'execute');
    expect(executed.map((x) => x.height)).toEqual([1, 2]);
    for (const x of executed) {
      expect(x.queuedMs).toBeLessThanOrEqual(x.startMs);
      expect(x.startMs).toBeLessThanOrEqual(x.endMs);
    }
    // Height 2 was queued behind height 1: it started once height 1 had ended.
    expect(executed[1]!.startMs).toBeGreaterThanOrEqual(executed[0]!.endMs);
    const sims = events.filter((x) => x.kind === 'simulate');
    expect(sims).toHaveLength(1);
    expect(sims[0]!.startMs).toBeLessThanOrEqual(sims[0]!.endMs);
  });

  it('a throwing hook does not fail execution or simulation', async () => {
    const e = await executor(() => {
      throw new Error('hook failed');
    });
    const r = await e.executeBlock(1, new Map([[EVM_NS, [pay(1)]]]));
    expect(r.get(EVM_NS)!.receipts[0]!.status).toBe('success');
    const sim = await e.simulate(
      unsignedBundle([{ namespace: EVM_NS, txs: [pay(2)], revertingTxHashes: [] }]),
    );
    expect(sim.applies).toBe(true);
    expect(e.head(EVM_NS).height).toBe(1);
  });
});
