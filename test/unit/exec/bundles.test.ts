/**
 * Rule 3 of issue #22 with hand-made blocks: an execution bundle applies in every rollup or in none
 * (voided receipts, no trace, no nonce bump), reverting-listed transactions may revert, inclusion
 * bundles execute like ordinary transactions; sequential and parallel executors agree.
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { unsignedBundle } from '../../../src/codec/index.ts';
import {
  createExecutor,
  decodeTransferAccount,
  type Executor,
  encodeResult,
  memoryKvFactory,
  planExecutionBundles,
  transferAccountKey,
} from '../../../src/exec/index.ts';
import type { BundleSimulator } from '../../../src/mempool/index.ts';
import type { Bundle, BundleSpan } from '../../../src/types.ts';
import {
  EVM_NS,
  evmAddr,
  evmAddrHex,
  evmTx,
  rollups,
  TRANSFER_NS,
  tPub,
  transfer,
  tSigners,
} from './helpers.ts';

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

const H1 = new Uint8Array(32).fill(1);
const H2 = new Uint8Array(32).fill(2);

function span(
  hash: Uint8Array,
  namespace: number,
  start: number,
  count: number,
  reverting: number[] = [],
  atomicity: 1 | 2 = 1,
): BundleSpan {
  return { bundleHash: hash, namespace, start, count, atomicity, reverting };
}

function balance(ex: Executor, i: number): bigint {
  const v = ex.stateGetter(TRANSFER_NS)(transferAccountKey(tSigners[i]!.publicKey));
  return v === undefined ? 0n : decodeTransferAccount(v).balance;
}

describe('execution bundles (rule 3)', () => {
  for (const workers of [0, 2]) {
    it(`cross-rollup bundle applies in both rollups (workers ${workers})`, async () => {
      const ex = await make(workers);
      const txs = new Map([
        [TRANSFER_NS, [transfer(0, 1, 10n, 0n), transfer(2, 3, 5n, 0n)]],
        [EVM_NS, [evmTx(0, { to: evmAddr(9), value: 1000n, nonce: 0n, gasLimit: 21_000n })]],
      ]);
      const r = await ex.executeBlock(1, txs, {
        spans: [span(H1, TRANSFER_NS, 1, 1), span(H1, EVM_NS, 0, 1)],
      });
      expect(r.get(TRANSFER_NS)!.receipts.map((x) => x.status)).toEqual(['success', 'success']);
      expect(r.get(EVM_NS)!.receipts[0]!.status).toBe('success');
      expect(r.bundles).toHaveLength(1);
      expect(r.bundles[0]!.outcome).toBe('applied');
      expect(r.bundles[0]!.legs.map((l) => l.namespace)).toEqual([TRANSFER_NS, EVM_NS]);
      expect(balance(ex, 3)).toBe(1005n);
    });

    it(`one leg reverts: voided in both rollups with no trace (workers ${workers})`, async () => {
      const ex = await make(workers);
      const evmBefore = ex.stateGetter(EVM_NS)(
        String.fromCharCode(0x41) + Buffer.from(evmAddr(1)).toString('latin1'),
      );
      const txs = new Map([
        // Bundle leg: 2 → 3 (fine), then 4 → 5 with a balance that cannot pay: a revert.
        [TRANSFER_NS, [transfer(2, 3, 5n, 0n), transfer(4, 5, 5000n, 0n), transfer(6, 7, 1n, 0n)]],
        [EVM_NS, [evmTx(1, { to: evmAddr(9), value: 1000n, nonce: 0n, gasLimit: 21_000n })]],
      ]);
      const r = await ex.executeBlock(1, txs, {
        spans: [span(H1, TRANSFER_NS, 0, 2), span(H1, EVM_NS, 0, 1)],
      });
      const t = r.get(TRANSFER_NS)!.receipts;
      expect(t.map((x) => x.status)).toEqual(['voided', 'voided', 'success']);
      expect(t[0]!.gasUsed).toBe(0n);
      expect(t[0]!.error).toMatch(/tx 1 ended revert/);
      expect(r.get(EVM_NS)!.receipts[0]!.status).toBe('voided');
      expect(r.bundles[0]!.outcome).toBe('reverted');
      // No trace: balances and nonces as before (the fee of the reverting tx is not charged either).
      expect(balance(ex, 2)).toBe(1000n);
      expect(balance(ex, 3)).toBe(1000n);
      expect(balance(ex, 4)).toBe(1000n);
      expect(ex.accountNonce(TRANSFER_NS, tPub(2))).toBe(0n);
      expect(ex.accountNonce(TRANSFER_NS, tPub(4))).toBe(0n);
      expect(ex.accountNonce(EVM_NS, evmAddrHex(1))).toBe(0n);
      expect(
        ex.stateGetter(EVM_NS)(String.fromCharCode(0x41) + Buffer.from(evmAddr(1)).toString('latin1')),
      ).toBe(evmBefore);
      // The voided nonces are still free: the same transactions succeed in the next block.
      const r2 = await ex.executeBlock(2, new Map([[TRANSFER_NS, [transfer(2, 3, 5n, 0n)]]]));
      expect(r2.get(TRANSFER_NS)!.receipts[0]!.status).toBe('success');
    });

    it(`a reverting-listed revert still applies (workers ${workers})`, async () => {
      const ex = await make(workers);
      const txs = new Map([[TRANSFER_NS, [transfer(2, 3, 5n, 0n), transfer(4, 5, 5000n, 0n)]]]);
      const r = await ex.executeBlock(1, txs, { spans: [span(H1, TRANSFER_NS, 0, 2, [1])] });
      expect(r.get(TRANSFER_NS)!.receipts.map((x) => x.status)).toEqual(['success', 'revert']);
      expect(r.bundles[0]!.outcome).toBe('applied');
      expect(balance(ex, 3)).toBe(1005n);
      expect(ex.accountNonce(TRANSFER_NS, tPub(4))).toBe(1n);
    });

    it(`inclusion bundles execute like ordinary transactions (workers ${workers})`, async () => {
      const ex = await make(workers);
      const txs = new Map([[TRANSFER_NS, [transfer(2, 3, 5n, 0n), transfer(4, 5, 5000n, 0n)]]]);
      const r = await ex.executeBlock(1, txs, { spans: [span(H2, TRANSFER_NS, 0, 2, [], 2)] });
      expect(r.get(TRANSFER_NS)!.receipts.map((x) => x.status)).toEqual(['success', 'revert']);
      expect(r.bundles[0]).toMatchObject({ atomicity: 'inclusion', outcome: 'applied' });
    });
  }

  it('later bundles and public transactions see the voided bundle as absent', async () => {
    const results: string[] = [];
    for (const workers of [0, 2]) {
      const ex = await make(workers);
      const txs = new Map([
        [
          TRANSFER_NS,
          [
            transfer(2, 3, 5n, 0n), // bundle 1 (voided by its EVM leg)
            transfer(2, 3, 7n, 0n), // public: nonce 0 is free again → success
            transfer(2, 4, 1n, 1n), // bundle 2: needs nonce 1 → success only after the public tx
          ],
        ],
        [EVM_NS, [evmTx(9, { to: evmAddr(1), value: 1n, nonce: 0n, gasLimit: 21_000n })]], // unfunded → invalid
      ]);
      const r = await ex.executeBlock(1, txs, {
        spans: [span(H1, TRANSFER_NS, 0, 1), span(H1, EVM_NS, 0, 1), span(H2, TRANSFER_NS, 2, 1)],
      });
      expect(r.get(TRANSFER_NS)!.receipts.map((x) => x.status)).toEqual(['voided', 'success', 'success']);
      expect(r.get(EVM_NS)!.receipts[0]!.status).toBe('voided');
      expect(r.bundles.map((b) => b.outcome)).toEqual(['reverted', 'applied']);
      results.push(
        [TRANSFER_NS, EVM_NS].map((ns) => Buffer.from(encodeResult(r.get(ns)!)).toString('hex')).join(),
      );
    }
    expect(results[1]).toBe(results[0]);
  });

  it('executes admitted and simulated legs from the prepared-transaction cache (ADR 0175)', async () => {
    const registry = new Registry();
    const ex = createExecutor({ rollups: rollups(), kv: memoryKvFactory().kv, workers: 2, registry });
    started.push(ex);
    await ex.start();
    const tLeg = transfer(0, 1, 10n, 0n);
    const eLeg = evmTx(0, { to: evmAddr(9), value: 1000n, nonce: 0n, gasLimit: 21_000n });
    // Admission checks the EVM leg; the simulation prepares the transfer leg.
    expect(ex.checkPayload(EVM_NS, eLeg)).toBeUndefined();
    expect(ex.checkPayload(EVM_NS, new Uint8Array([2, 1]))).toMatch(/malformed/);
    const sim = await ex.simulate(
      unsignedBundle([
        { namespace: TRANSFER_NS, txs: [tLeg], revertingTxHashes: [] },
        { namespace: EVM_NS, txs: [eLeg], revertingTxHashes: [] },
      ]),
    );
    expect(sim.applies).toBe(true);
    const r = await ex.executeBlock(
      1,
      new Map([
        [TRANSFER_NS, [transfer(2, 3, 5n, 0n), tLeg]],
        [EVM_NS, [eLeg]],
      ]),
      { spans: [span(H1, TRANSFER_NS, 1, 1), span(H1, EVM_NS, 0, 1)] },
    );
    expect(r.bundles[0]!.outcome).toBe('applied');
    expect(r.get(TRANSFER_NS)!.receipts.map((x) => x.status)).toEqual(['success', 'success']);
    const m = await registry.getSingleMetric('ordo_exec_bundle_prepared_total')!.get();
    const by = Object.fromEntries(m.values.map((v) => [v.labels.source, v.value]));
    // Both legs from the cache; the public transfer before the leg prepared by the coordinator (one
    // missing transaction is not worth a worker round trip).
    expect(by).toMatchObject({ cache: 2, coordinator: 1 });
    expect(balance(ex, 1)).toBe(1010n);
  });

  it('stored results of a height give the same bundle outcomes', async () => {
    const ex = await make(0);
    const txs = new Map([[TRANSFER_NS, [transfer(4, 5, 5000n, 0n)]]]);
    const spans = [span(H1, TRANSFER_NS, 0, 1)];
    const a = await ex.executeBlock(1, txs, { spans });
    const b = await ex.executeBlock(1, txs, { spans });
    expect(b.bundles).toEqual(a.bundles);
    expect(b.bundles[0]!.outcome).toBe('reverted');
  });

  it('refuses a span cycle and out-of-range spans with typed errors', () => {
    const lengths = new Map([
      [TRANSFER_NS, 2],
      [EVM_NS, 2],
    ]);
    expect(() =>
      planExecutionBundles(
        [
          span(H1, TRANSFER_NS, 0, 1),
          span(H2, TRANSFER_NS, 1, 1),
          span(H2, EVM_NS, 0, 1),
          span(H1, EVM_NS, 1, 1),
        ],
        lengths,
      ),
    ).toThrow(expect.objectContaining({ code: 'EXEC_SPAN_CYCLE' }));
    expect(() => planExecutionBundles([span(H1, TRANSFER_NS, 1, 5)], lengths)).toThrow(
      expect.objectContaining({ code: 'EXEC_BAD_SPANS' }),
    );
    // Opaque and inclusion spans are not planned.
    expect(planExecutionBundles([span(H1, 3, 0, 1), span(H2, TRANSFER_NS, 0, 1, [], 2)], lengths)).toEqual(
      [],
    );
  });

  it('simulates a bundle against the latest executed state without persisting', async () => {
    const ex = await make(0);
    // The executor is the pool's BundleSimulator as is.
    const sim: BundleSimulator = ex;
    const bundle = (revert: Uint8Array[]): Bundle =>
      unsignedBundle([
        { namespace: 3, txs: [new Uint8Array([1])], revertingTxHashes: [] },
        {
          namespace: TRANSFER_NS,
          txs: [transfer(2, 3, 5n, 0n), transfer(4, 5, 5000n, 0n)],
          revertingTxHashes: revert,
        },
        {
          namespace: EVM_NS,
          txs: [evmTx(0, { to: evmAddr(9), value: 1n, nonce: 0n, gasLimit: 21_000n })],
          revertingTxHashes: [],
        },
      ]);
    const rootBefore = ex.head(TRANSFER_NS).stateRoot;
    const a = await sim.simulate(bundle([]));
    expect(a.applies).toBe(false);
    expect(a.reason).toMatch(new RegExp(`namespace ${TRANSFER_NS} tx 1 .* would end revert`));
    expect(a.height).toBe(0);
    expect(a.legs.map((l) => [l.namespace, l.executed, l.txs.map((t) => t.status)])).toEqual([
      [3, false, []],
      [TRANSFER_NS, true, ['success', 'revert']],
      [EVM_NS, true, ['success']],
    ]);
    expect(a.legs[2]!.txs[0]!.gasUsed).toBe(21_000n);
    const b = await sim.simulate(bundle([a.legs[1]!.txs[1]!.hash]));
    expect(b.applies).toBe(true);
    // Nothing persisted; the simulated root is the one the same leg alone would give in the next block.
    expect(ex.head(TRANSFER_NS)).toEqual({ height: 0, stateRoot: rootBefore });
    expect(ex.accountNonce(TRANSFER_NS, tPub(2))).toBe(0n);
    const r = await ex.executeBlock(1, new Map([[TRANSFER_NS, bundle([]).legs[1]!.txs]]));
    expect(r.get(TRANSFER_NS)!.stateRoot).toEqual(b.legs[1]!.stateRoot);
    await expect(sim.simulate(bundle([]), { height: 0 })).rejects.toMatchObject({
      code: 'EXEC_SIM_HEIGHT_UNAVAILABLE',
    });
  });
});
