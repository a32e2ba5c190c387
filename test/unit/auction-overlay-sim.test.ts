/**
 * The auction's simulation on the state after h without the executor having executed h (ADR 0195):
 * `executor.simulate(bundle, {height: h, pending: block h})` on an executor still at h - 1 must give
 * exactly what simulating after really executing h gives — verdict, per-transaction receipts, state
 * roots — for transfer and EVM legs, also when block h holds an execution bundle that spans a rollup
 * the bid does not name (its success there decides its effects in the named one).
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { unsignedBundle } from '../../src/codec/index.ts';
import { createExecutor, type Executor, memoryKvFactory, type PendingBlock } from '../../src/exec/index.ts';
import { blockClosure } from '../../src/exec/simulate.ts';
import type { Bundle, BundleSpan } from '../../src/types.ts';
import { EVM_NS, evmAddr, evmTx, rollups, TRANSFER_NS, transfer } from './exec/helpers.ts';

const started: Executor[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.stop()));
});

async function make(workers: number): Promise<Executor> {
  const ex = createExecutor({ rollups: rollups(), kv: memoryKvFactory().kv, workers });
  started.push(ex);
  await ex.start();
  return ex;
}

const X = new Uint8Array(32).fill(7);
const T1 = 1_700_000_000_000;
const T2 = 1_700_000_001_000;

/** Block 1: public transactions in both executed rollups. */
const block1 = (): Map<number, Uint8Array[]> =>
  new Map([
    [TRANSFER_NS, [transfer(5, 6, 7n, 0n)]],
    [EVM_NS, [evmTx(3, { to: evmAddr(10), value: 5n, nonce: 0n, gasLimit: 21_000n })]],
  ]);

/**
 * Block 2: public transfers around execution bundle X = {transfer 0 → 8 (500), EVM tx of account 0}.
 * `evmFails`: X's EVM leg cannot pay its value, so X is voided in both rollups and account 8 stays empty.
 */
function block2(evmFails: boolean): PendingBlock {
  const value = evmFails ? 10n ** 30n : 1n;
  return {
    height: 2,
    timeMs: T2,
    txs: new Map([
      [TRANSFER_NS, [transfer(1, 2, 10n, 0n), transfer(0, 8, 500n, 0n), transfer(3, 4, 1n, 0n)]],
      [EVM_NS, [evmTx(0, { to: evmAddr(9), value, nonce: 0n, gasLimit: 21_000n })]],
      [3, [new Uint8Array([1, 2, 3])]],
    ]),
    spans: [
      { bundleHash: X, namespace: TRANSFER_NS, start: 1, count: 1, atomicity: 1, reverting: [] },
      { bundleHash: X, namespace: EVM_NS, start: 0, count: 1, atomicity: 1, reverting: [] },
    ],
  };
}

function bid(legs: Bundle['legs']): Bundle {
  return unsignedBundle(legs);
}

/** Spends what X paid account 8 (applies only when X applied). */
const transferLeg = { namespace: TRANSFER_NS, txs: [transfer(8, 9, 100n, 0n)], revertingTxHashes: [] };
/** Account 0's next EVM nonce: 1 when X applied, 0 when it was voided. */
const evmLeg = {
  namespace: EVM_NS,
  txs: [
    evmTx(0, { to: evmAddr(11), value: 2n, nonce: 1n, gasLimit: 21_000n }),
    evmTx(2, { to: evmAddr(11), value: 3n, nonce: 0n, gasLimit: 21_000n }),
  ],
  revertingTxHashes: [],
};
const opaqueLeg = { namespace: 3, txs: [new Uint8Array([9])], revertingTxHashes: [] };

const bids: [string, Bundle][] = [
  ['transfer leg only (X spans the EVM rollup it does not name)', bid([transferLeg])],
  ['EVM leg only', bid([evmLeg])],
  ['transfer, EVM and opaque legs', bid([opaqueLeg, transferLeg, evmLeg])],
];

describe('auction simulation on the state after h, before h is executed (ADR 0195)', () => {
  for (const evmFails of [false, true]) {
    for (const [name, bundle] of bids) {
      it(`${name}; block h's bundle ${evmFails ? 'voided' : 'applied'}: same as after executing h`, async () => {
        const overlay = await make(0);
        const real = await make(2);
        const b2 = block2(evmFails);
        for (const ex of [overlay, real]) await ex.executeBlock(1, block1(), { timeMs: T1 });
        const r2 = await real.executeBlock(2, new Map(b2.txs as Map<number, Uint8Array[]>), {
          timeMs: T2,
          spans: b2.spans,
        });
        expect(r2.bundles[0]!.outcome).toBe(evmFails ? 'reverted' : 'applied');

        const want = await real.simulate(bundle, { height: 2, timeMs: T2 });
        const got = await overlay.simulate(bundle, { height: 2, timeMs: T2, pending: b2 });
        expect(got).toEqual(want);
        expect(got.height).toBe(2);
        expect(got.applies).toBe(!evmFails);
        // Nothing of block 2 was persisted by the overlay run.
        expect(overlay.head(TRANSFER_NS).height).toBe(1);
        expect(overlay.head(EVM_NS).height).toBe(1);
        // Without block 2 the state after 2 is not available on an executor at 1.
        await expect(overlay.simulate(bundle, { height: 2, timeMs: T2 })).rejects.toMatchObject({
          code: 'EXEC_SIM_HEIGHT_UNAVAILABLE',
        });
        // Executing block 2 for real gives the roots the overlay chained on, and the same verdict.
        const o2 = await overlay.executeBlock(2, new Map(b2.txs as Map<number, Uint8Array[]>), {
          timeMs: T2,
          spans: b2.spans,
        });
        for (const ns of [TRANSFER_NS, EVM_NS]) expect(o2.get(ns)!.stateRoot).toEqual(r2.get(ns)!.stateRoot);
        expect(await overlay.simulate(bundle, { height: 2, timeMs: T2, pending: b2 })).toEqual(want);
      });
    }
  }

  it('several simulations on the same pending block run it in memory once (ADR 0298)', async () => {
    const registry = new Registry();
    const ex = createExecutor({ rollups: rollups(), kv: memoryKvFactory().kv, workers: 0, registry });
    started.push(ex);
    await ex.start();
    const ref = await make(0);
    const b2 = block2(false);
    for (const e of [ex, ref]) await e.executeBlock(1, block1(), { timeMs: T1 });
    await ref.executeBlock(2, new Map(b2.txs as Map<number, Uint8Array[]>), { timeMs: T2, spans: b2.spans });
    const runs = async () => {
      const m = await registry.getSingleMetric('ordo_exec_sim_block_runs_total')!.get();
      return Object.fromEntries(m.values.map((v) => [v.labels.result, v.value]));
    };
    for (const [, bundle] of bids) {
      const want = await ref.simulate(bundle, { height: 2, timeMs: T2 });
      expect(await ex.simulate(bundle, { height: 2, timeMs: T2, pending: b2 })).toEqual(want);
      expect(await ex.simulate(bundle, { height: 2, timeMs: T2, pending: b2 })).toEqual(want);
    }
    // One closure (X joins the transfer and EVM rollups): the block ran once, then served the other five.
    expect(await runs()).toEqual({ run: 1, reused: 5 });
    // Once the executor has executed block 2 for real, simulations read its state: no block run at all.
    await ex.executeBlock(2, new Map(b2.txs as Map<number, Uint8Array[]>), { timeMs: T2, spans: b2.spans });
    expect(await ex.simulate(bids[0]![1], { height: 2, timeMs: T2, pending: b2 })).toEqual(
      await ref.simulate(bids[0]![1], { height: 2, timeMs: T2 }),
    );
    expect(await runs()).toEqual({ run: 1, reused: 5 });
  });

  it('a commit of h by the executor during the overlay run gives the same result', async () => {
    const ex = await make(0);
    const ref = await make(0);
    const b2 = block2(false);
    const bundle = bid([transferLeg, evmLeg]);
    for (const e of [ex, ref]) await e.executeBlock(1, block1(), { timeMs: T1 });
    await ref.executeBlock(2, new Map(b2.txs as Map<number, Uint8Array[]>), { timeMs: T2, spans: b2.spans });
    const want = await ref.simulate(bundle, { height: 2, timeMs: T2 });
    // Start both at once, several times: whichever way they interleave, the verdict is the same.
    const sims = [0, 1, 2].map(() => ex.simulate(bundle, { height: 2, timeMs: T2, pending: b2 }));
    const exec = ex.executeBlock(2, new Map(b2.txs as Map<number, Uint8Array[]>), {
      timeMs: T2,
      spans: b2.spans,
    });
    sims.push(ex.simulate(bundle, { height: 2, timeMs: T2, pending: b2 }));
    await exec;
    for (const s of await Promise.all(sims)) expect(s).toEqual(want);
  });

  it('the lanes an overlay runs are closed under the block execution bundles', () => {
    const lanes = new Map([10, 11, 12, 13, 14].map((ns) => [ns, {}]));
    const s = (h: number, namespace: number, atomicity: 1 | 2 = 1): BundleSpan => ({
      bundleHash: new Uint8Array(32).fill(h),
      namespace,
      start: 0,
      count: 1,
      atomicity,
      reverting: [],
    });
    // A joins 10 and 11, B joins 11 and 12 (transitively 10 → 12), C is an inclusion bundle (no link),
    // D joins 14 with an opaque rollup 3.
    const spans = [s(1, 10), s(1, 11), s(2, 11), s(2, 12), s(3, 12, 2), s(3, 13, 2), s(4, 14), s(4, 3)];
    expect(blockClosure([10], lanes, spans)).toEqual([10, 11, 12]);
    expect(blockClosure([13], lanes, spans)).toEqual([13]);
    expect(blockClosure([14, 3], lanes, spans)).toEqual([14]);
    expect(blockClosure([12, 14], lanes, [])).toEqual([12, 14]);
  });
});
