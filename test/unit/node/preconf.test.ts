/**
 * Pre-confirmations (issue #22 rule 5): the node signs each executed bundle's legs (state root and
 * receipts root after the block), any client verifies them against the validator set (also through the
 * SDK), and certification follows the header that commits to the same results.
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPreconfirmation as sdkVerify } from '../../../packages/sdk/index.ts';
import { computeResultsHash, receiptsRoot, verifyPreconfirmation } from '../../../src/codec/index.ts';
import { Ed25519Signer } from '../../../src/crypto/index.ts';
import { createExecutor, type Executor, encodeReceipt, memoryKvFactory } from '../../../src/exec/index.ts';
import type { BundleExecution, BundleStatusSink } from '../../../src/mempool/index.ts';
import { Preconfirmer } from '../../../src/node/preconf.ts';
import { EVM_NS, evmAddr, evmTx, rollups, seed, TRANSFER_NS, transfer } from '../exec/helpers.ts';

let ex: Executor;
beforeAll(async () => {
  ex = createExecutor({ rollups: rollups(), kv: memoryKvFactory().kv, workers: 0 });
  await ex.start();
});
afterAll(async () => {
  await ex.stop();
});

describe('pre-confirmations', () => {
  it('signs executed bundles, verifies against the validator set, certifies on a matching header', async () => {
    const key = new Ed25519Signer(seed(1, 'validator'));
    const other = new Ed25519Signer(seed(2, 'validator'));
    const calls: { hash: Uint8Array; height: number; e: BundleExecution }[] = [];
    const certified: number[] = [];
    const sink: BundleStatusSink = {
      executed: (hash, height, e) => calls.push({ hash, height, e }),
      certified: (h) => certified.push(h),
    };
    const registry = new Registry();
    let t = 0;
    const pc = new Preconfirmer({
      chainId: 'ordo-test',
      signer: key,
      sink: () => sink,
      logger: pino({ level: 'silent' }),
      registry,
      now: () => t,
    });
    const H = new Uint8Array(32).fill(7);
    const blockHash = new Uint8Array(32).fill(9);
    pc.committed(1, blockHash);
    t = 40;
    const r = await ex.executeBlock(
      1,
      new Map([
        [TRANSFER_NS, [transfer(0, 1, 10n, 0n)]],
        [EVM_NS, [evmTx(0, { to: evmAddr(9), value: 1n, nonce: 0n, gasLimit: 21_000n })]],
      ]),
      {
        spans: [
          { bundleHash: H, namespace: TRANSFER_NS, start: 0, count: 1, atomicity: 1, reverting: [] },
          { bundleHash: H, namespace: EVM_NS, start: 0, count: 1, atomicity: 1, reverting: [] },
        ],
      },
    );
    const [p] = pc.executed(1, r, r.bundles);
    expect(p).toBeDefined();
    expect(p!.outcome).toBe('applied');
    expect(p!.legs.map((l) => l.namespace)).toEqual([TRANSFER_NS, EVM_NS]);
    const tr = r.get(TRANSFER_NS)!;
    expect(p!.legs[0]!.stateRoot).toEqual(tr.stateRoot);
    expect(p!.legs[0]!.receiptsRoot).toEqual(receiptsRoot(TRANSFER_NS, tr.receipts.map(encodeReceipt)));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.e.legs[1]!.receipts[0]!.status).toBe('success');

    const set = {
      validators: [
        { publicKey: other.publicKey, votingPower: 1 },
        { publicKey: key.publicKey, votingPower: 1 },
      ],
      totalPower: 2,
    };
    expect(verifyPreconfirmation(p!, set, { chainId: 'ordo-test' })).toEqual({
      valid: true,
      validatorIndex: 1,
    });
    expect(sdkVerify(p!, set.validators)).toEqual({ valid: true, validatorIndex: 1 });
    expect(verifyPreconfirmation(p!, set, { chainId: 'other' }).valid).toBe(false);
    expect(verifyPreconfirmation(p!, [set.validators[0]!]).valid).toBe(false);
    const tampered = { ...p!, outcome: 'reverted' as const };
    expect(verifyPreconfirmation(tampered, set)).toEqual({
      valid: false,
      reason: 'signature does not verify',
    });
    expect(verifyPreconfirmation({ ...p!, legs: [...p!.legs].reverse() }, set).valid).toBe(false);

    const metric = await registry.getSingleMetricAsString('ordo_bundle_preconfirm_seconds');
    expect(metric).toMatch(/ordo_bundle_preconfirm_seconds_count 1/);

    // Certification: only a header whose results_hash equals this node's results.
    expect(pc.certify(1, new Uint8Array(32))).toBe(false);
    expect(certified).toEqual([]);
    pc.executed(1, r, r.bundles);
    const leaves = [TRANSFER_NS, EVM_NS].map((ns) => ({
      namespace: ns,
      stateRoot: r.get(ns)!.stateRoot,
      receiptsRoot: receiptsRoot(ns, r.get(ns)!.receipts.map(encodeReceipt)),
    }));
    expect(pc.certify(1, computeResultsHash({ height: 1, results: leaves }))).toBe(true);
    expect(certified).toEqual([1]);
  });

  it('a full node reports execution without a pre-confirmation', async () => {
    const got: unknown[] = [];
    const pc = new Preconfirmer({
      chainId: 'c',
      signer: undefined,
      sink: () => ({ executed: (_h, _n, _e, p) => got.push(p), certified: () => {} }),
      logger: pino({ level: 'silent' }),
    });
    pc.committed(2, new Uint8Array(32));
    const r = await ex.executeBlock(2, new Map([[TRANSFER_NS, [transfer(0, 1, 1n, 1n)]]]), {
      spans: [
        {
          bundleHash: new Uint8Array(32),
          namespace: TRANSFER_NS,
          start: 0,
          count: 1,
          atomicity: 2,
          reverting: [],
        },
      ],
    });
    expect(pc.executed(2, r, r.bundles)).toEqual([]);
    expect(got).toEqual([undefined]);
  });
});
