/**
 * The parallel executor equals the sequential reference executor on random blocks with random
 * cross-rollup execution bundles, random reverting lists and a share of transactions built to fail
 * (over-spending transfers, unfunded EVM senders, reverting contract calls, stale nonces). The parallel
 * one has checked the bundles' legs first, as the bundle pool's admission does, so it executes them from
 * its prepared-transaction cache; and, as a proposer does, it has simulated some of the bundles first
 * (under the block's own time or the current second), so it reuses the simulated runs whose reads still
 * hold (ADR 0220) — with public transactions of the same senders before a leg, some do not.
 */
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unsignedBundle } from '../../../src/codec/index.ts';
import { COUNTER_RUNTIME, deployCode, word } from '../../../src/exec/evm/contracts.ts';
import { createExecutor, type Executor, encodeResult, memoryKvFactory } from '../../../src/exec/index.ts';
import { legTxHash } from '../../../src/exec/simulate.ts';
import type { Bundle, BundleSpan } from '../../../src/types.ts';
import { EVM_NS, evmAddr, evmAddrHex, evmTx, rollups, TRANSFER_NS, tPub, transfer } from './helpers.ts';

let seq: Executor;
let par: Executor;
let height = 0;
let counter: Uint8Array;
const outcomes = new Set<string>();
const registry = new Registry();
const cfg = rollups({ transferBalance: '500', evmBalance: '3000000000000000' });

beforeAll(async () => {
  seq = createExecutor({ rollups: cfg, kv: memoryKvFactory().kv, workers: 0 });
  par = createExecutor({
    rollups: cfg,
    kv: memoryKvFactory().kv,
    workers: 2,
    chunkSize: { transfer: 4, evm: 2 },
    registry,
  });
  await Promise.all([seq.start(), par.start()]);
  const deploy = new Map([
    [EVM_NS, [evmTx(7, { data: deployCode(COUNTER_RUNTIME), nonce: 0n, gasLimit: 200_000n })]],
  ]);
  height++;
  const [a] = await Promise.all([seq.executeBlock(height, deploy), par.executeBlock(height, deploy)]);
  counter = a.get(EVM_NS)!.receipts[0]!.contractAddress!;
});
afterAll(async () => {
  await Promise.all([seq.stop(), par.stop()]);
});

const tOp = fc.record({
  from: fc.integer({ min: 0, max: 9 }),
  to: fc.integer({ min: 0, max: 11 }),
  // 10_000 cannot be paid: a revert (the share built to fail).
  amount: fc.oneof({ weight: 5, arbitrary: fc.bigInt({ min: 0n, max: 40n }) }, fc.constant(10_000n)),
  skew: fc.oneof({ weight: 10, arbitrary: fc.constant(0n) }, fc.constant(1n)),
});
const eOp = fc.record({
  kind: fc.constantFrom('value', 'counter', 'counter', 'revert', 'poor'),
  from: fc.integer({ min: 0, max: 6 }),
  to: fc.integer({ min: 0, max: 11 }),
  skew: fc.oneof({ weight: 10, arbitrary: fc.constant(0n) }, fc.constant(1n)),
});
/** A bundle: per rollup the public txs before its leg and its leg's length (0 = no leg there). */
const bundleArb = fc.record({
  gapT: fc.integer({ min: 0, max: 3 }),
  legT: fc.integer({ min: 0, max: 3 }),
  gapE: fc.integer({ min: 0, max: 2 }),
  legE: fc.integer({ min: 0, max: 2 }),
  reverting: fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 2 }),
  hash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  /** The proposer simulated it first: no, under the current second, under the block's time. */
  simulated: fc.constantFrom('no', 'now', 'block'),
});

/** The bundle a block's spans of one hash carry (its legs' transactions as placed). */
function bundleOf(spans: BundleSpan[], block: Map<number, Uint8Array[]>): Bundle {
  return unsignedBundle(
    spans.map((s) => {
      const txs = block.get(s.namespace)!.slice(s.start, s.start + s.count);
      const rollup = cfg.find((r) => r.namespace === s.namespace)!;
      return {
        namespace: s.namespace,
        txs,
        revertingTxHashes: s.reverting.map((i) => legTxHash(rollup, txs[i]!)),
      };
    }),
  );
}

async function simRuns(result: string): Promise<number> {
  const m = (await registry.getSingleMetric('ordo_exec_sim_runs_total')?.get())?.values ?? [];
  return m.filter((v) => v.labels.result === result).reduce((a, v) => a + v.value, 0);
}

function buildT(ops: { from: number; to: number; amount: bigint; skew: bigint }[]) {
  const next = new Map<number, bigint>();
  return ops.map((op) => {
    const n = next.get(op.from) ?? seq.accountNonce(TRANSFER_NS, tPub(op.from));
    next.set(op.from, n + 1n);
    return transfer(op.from, op.to, op.amount, n + op.skew, 1n);
  });
}

function buildE(ops: { kind: string; from: number; to: number; skew: bigint }[]) {
  const next = new Map<number, bigint>();
  return ops.map((op) => {
    const n = next.get(op.from) ?? seq.accountNonce(EVM_NS, evmAddrHex(op.from));
    next.set(op.from, n + 1n);
    const nonce = n + op.skew;
    if (op.kind === 'value')
      return evmTx(op.from, { to: evmAddr(op.to), value: 1000n, nonce, gasLimit: 21_000n });
    if (op.kind === 'counter') return evmTx(op.from, { to: counter, data: word(BigInt(op.to + 1)), nonce });
    if (op.kind === 'revert') return evmTx(op.from, { to: counter, data: word(0n), nonce });
    return evmTx(9 + (op.from % 3), { to: evmAddr(op.to), value: 1n, nonce: 0n, gasLimit: 21_000n });
  });
}

describe('bundled blocks: parallel = sequential', () => {
  it('matches on random workloads with random cross-rollup bundles', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(bundleArb, { minLength: 1, maxLength: 4 }),
        fc.array(tOp, { minLength: 16, maxLength: 16 }),
        fc.array(eOp, { minLength: 10, maxLength: 10 }),
        fc.integer({ min: 0, max: 3 }),
        async (bundles, tOps, eOps, tailT) => {
          const spans: BundleSpan[] = [];
          let t = 0;
          let e = 0;
          for (const b of bundles) {
            t += b.gapT;
            e += b.gapE;
            const legT = b.legT === 0 && b.legE === 0 ? 1 : b.legT;
            if (legT > 0) {
              spans.push({
                bundleHash: b.hash,
                namespace: TRANSFER_NS,
                start: t,
                count: legT,
                atomicity: 1,
                reverting: [...new Set(b.reverting.filter((i) => i < legT))].sort(),
              });
              t += legT;
            }
            if (b.legE > 0) {
              spans.push({
                bundleHash: b.hash,
                namespace: EVM_NS,
                start: e,
                count: b.legE,
                atomicity: 1,
                reverting: [...new Set(b.reverting.filter((i) => i < b.legE))].sort(),
              });
              e += b.legE;
            }
          }
          t += tailT;
          const block = new Map([
            [TRANSFER_NS, buildT(tOps.slice(0, Math.min(t, 16)).concat(tOps.slice(0, Math.max(0, t - 16))))],
            [EVM_NS, buildE(eOps.slice(0, Math.min(e, 10)).concat(eOps.slice(0, Math.max(0, e - 10))))],
          ]);
          height++;
          // The parallel executor has admitted the bundles' legs (ADR 0175: their prepared form is cached
          // and reused by execution; the public transactions around them are prepared by workers).
          for (const s of spans)
            for (const p of block.get(s.namespace)!.slice(s.start, s.start + s.count))
              expect(par.checkPayload(s.namespace, p)).toBe(seq.checkPayload(s.namespace, p));
          // The proposer's simulations (on the state before the block, each bundle on its own).
          for (const [i, b] of bundles.entries()) {
            if (b.simulated === 'no') continue;
            const own = spans.filter((s) => Buffer.compare(s.bundleHash, b.hash) === 0);
            if (own.length === 0 || bundles.findIndex((x) => Buffer.compare(x.hash, b.hash) === 0) !== i)
              continue;
            await par.simulate(
              bundleOf(own, block),
              b.simulated === 'block' ? { timeMs: height * 1000 } : {},
            );
          }
          const a = await seq.executeBlock(height, block, { timeMs: height * 1000, spans });
          const b = await par.executeBlock(height, block, { timeMs: height * 1000, spans });
          for (const ns of [TRANSFER_NS, EVM_NS]) {
            expect(Buffer.from(encodeResult(b.get(ns)!)).toString('hex')).toBe(
              Buffer.from(encodeResult(a.get(ns)!)).toString('hex'),
            );
          }
          expect(b.bundles).toEqual(a.bundles);
          for (const o of a.bundles) outcomes.add(o.outcome);
        },
      ),
      { numRuns: 15, endOnFailure: true, seed: 20261206 },
    );
    // Both outcomes really happened, and simulated runs were both reused and found stale.
    expect([...outcomes].sort()).toEqual(['applied', 'reverted']);
    expect(await simRuns('reused')).toBeGreaterThan(0);
    expect(await simRuns('stale')).toBeGreaterThan(0);
    expect(par.head(TRANSFER_NS)).toEqual(seq.head(TRANSFER_NS));
    expect(par.head(EVM_NS)).toEqual(seq.head(EVM_NS));
  });
});
