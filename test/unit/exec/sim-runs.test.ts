/**
 * The proposer's simulated runs reused by execution (ADR 0220): a run is reused only when every value
 * it read still holds at its place in the block and its block context is the block's or did not matter
 * (`contextFree`: no EVM code ran); the block's results equal those of an executor that never simulated.
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { unsignedBundle } from '../../../src/codec/index.ts';
import { COUNTER_RUNTIME, deployCode, word } from '../../../src/exec/evm/contracts.ts';
import { createExecutor, type Executor, encodeResult, memoryKvFactory } from '../../../src/exec/index.ts';
import { type SimRun, SimRuns } from '../../../src/exec/sim-runs.ts';
import type { Bundle, BundleSpan } from '../../../src/types.ts';
import { EVM_NS, evmAddr, evmTx, rollups } from './helpers.ts';

const run = (reads: [string, string | null][], contextFree: boolean): SimRun => ({
  outcome: { status: 'success', gasUsed: 1n, logs: [] },
  effects: { reads: new Map(reads), writes: new Map([['w', 'x']]), credits: new Map() },
  ctx: { height: 5, timeMs: 5000 },
  contextFree,
});

describe('SimRuns', () => {
  it('answers a run only when its reads hold and its context matches or did not matter', () => {
    const c = new SimRuns(8, 64);
    const p = new Uint8Array([1, 2]);
    const q = new Uint8Array([3]);
    c.set(
      p,
      run(
        [
          ['a', '1'],
          ['b', null],
        ],
        false,
      ),
    );
    c.set(q, run([['a', '1']], true));
    const state = new Map([['a', '1']]);
    const get = (k: string) => state.get(k);
    expect(c.reusable(p, get, { height: 5, timeMs: 5000 })).toBeDefined();
    expect(c.reusable(p, get, { height: 6, timeMs: 5000 })).toBeUndefined();
    expect(c.reusable(p, get, { height: 5, timeMs: 6000 })).toBeUndefined();
    expect(c.reusable(q, get, { height: 9, timeMs: 9000 })).toBeDefined();
    state.set('b', '2'); // read as absent, now present
    expect(c.reusable(p, get, { height: 5, timeMs: 5000 })).toBeUndefined();
    state.set('a', '0');
    expect(c.reusable(q, get, { height: 9, timeMs: 9000 })).toBeUndefined();
    c.delete(q);
    expect(c.has(q)).toBe(false);
    for (let i = 10; i < 20; i++) c.set(new Uint8Array([i]), run([], true));
    expect(c.size).toBe(8);
    expect(c.has(p)).toBe(false);
    c.set(new Uint8Array(65), run([], true));
    expect(c.has(new Uint8Array(65))).toBe(false);
  });
});

const execs: Executor[] = [];
afterEach(async () => {
  await Promise.all(execs.splice(0).map((e) => e.stop()));
});

async function executor(registry?: Registry): Promise<Executor> {
  const e = createExecutor({
    rollups: rollups({ evmBalance: '3000000000000000' }),
    kv: memoryKvFactory().kv,
    workers: 0,
    ...(registry === undefined ? {} : { registry }),
  });
  await e.start();
  execs.push(e);
  return e;
}

const bundle = (txs: Uint8Array[]): Bundle =>
  unsignedBundle([{ namespace: EVM_NS, txs, revertingTxHashes: [] }]);
const span = (start: number, count: number): BundleSpan => ({
  bundleHash: new Uint8Array(32).fill(start + 1),
  namespace: EVM_NS,
  start,
  count,
  atomicity: 1,
  reverting: [],
});

async function counts(registry: Registry): Promise<Record<string, number>> {
  const m = (await registry.getSingleMetric('ordo_exec_sim_runs_total')?.get())?.values ?? [];
  return Object.fromEntries(m.map((v) => [String(v.labels.result), v.value]));
}

describe('simulated runs at execution', () => {
  it('reuses a value transfer simulated on an older state, not a contract call under another time, not a stale read', async () => {
    const registry = new Registry();
    const prop = await executor(registry);
    const ref = await executor();
    const deploy = new Map([
      [EVM_NS, [evmTx(7, { data: deployCode(COUNTER_RUNTIME), nonce: 0n, gasLimit: 200_000n })]],
    ]);
    const [d] = await Promise.all([prop.executeBlock(1, deploy), ref.executeBlock(1, deploy)]);
    const counter = d.get(EVM_NS)!.receipts[0]!.contractAddress!;

    // Simulated on the state after height 1 (the executed state lags: the block lands at height 3).
    const pay = evmTx(1, { to: evmAddr(11), value: 1000n, nonce: 0n, gasLimit: 21_000n });
    const call = evmTx(2, { to: counter, data: word(5n), nonce: 0n });
    const moved = evmTx(3, { to: evmAddr(10), value: 7n, nonce: 0n, gasLimit: 21_000n });
    const sims = await Promise.all([
      prop.simulate(bundle([pay])),
      prop.simulate(bundle([call])),
      prop.simulate(bundle([moved])),
    ]);
    expect(sims.map((s) => s.applies)).toEqual([true, true, true]);

    // Height 2 touches other accounts, and the sender of `moved` (its read no longer holds).
    const h2 = new Map([
      [
        EVM_NS,
        [
          evmTx(4, { to: evmAddr(9), value: 5n, nonce: 0n, gasLimit: 21_000n }),
          evmTx(5, { to: evmAddr(3), value: 5n, nonce: 0n, gasLimit: 21_000n }),
        ],
      ],
    ]);
    await Promise.all([prop.executeBlock(2, h2), ref.executeBlock(2, h2)]);
    const h3 = new Map([[EVM_NS, [pay, call, moved]]]);
    const o = { timeMs: 3_000_500, spans: [span(0, 1), span(1, 1), span(2, 1)] };
    const [a, b] = await Promise.all([prop.executeBlock(3, h3, o), ref.executeBlock(3, h3, o)]);
    expect(Buffer.from(encodeResult(a.get(EVM_NS)!)).toString('hex')).toBe(
      Buffer.from(encodeResult(b.get(EVM_NS)!)).toString('hex'),
    );
    expect(a.bundles).toEqual(b.bundles);
    expect(a.bundles.map((x) => x.outcome)).toEqual(['applied', 'applied', 'applied']);
    expect(prop.head(EVM_NS)).toEqual(ref.head(EVM_NS));
    expect(await counts(registry)).toEqual({ reused: 1, stale: 2 });
  });
});
