/**
 * "Certified" results: the adapter serves each executed rollup's results of height H - 2 with a proof
 * against header H (results_hash), and bundle spans with a proof against data_hash; the SDK's
 * verification accepts them from a node it does not trust and refuses any tampered one.
 */
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../../src/crypto/hash.ts';
import { VerificationError } from '../../../src/rollup-adapter/errors.ts';
import { createInProcessAdapter } from '../../../src/rollup-adapter/in-process.ts';
import { receiptsRootOf, verifyNamespaceBlock } from '../../../src/rollup-adapter/sdk/index.ts';
import { MemorySource, testRollup } from '../../../src/rollup-adapter/testing/memory-source.ts';
import type { NamespaceBlock } from '../../../src/rollup-adapter/types.ts';

const enc = new TextEncoder();

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(VerificationError);
    return (err as VerificationError).code;
  }
}

async function take(src: MemorySource, namespace: number, n: number): Promise<NamespaceBlock[]> {
  const ac = new AbortController();
  const out: NamespaceBlock[] = [];
  for await (const nb of createInProcessAdapter(src).streamBlocks(
    { namespace, fromHeight: 1 },
    { signal: ac.signal },
  )) {
    out.push(nb);
    if (out.length === n) break;
  }
  ac.abort();
  return out;
}

function chain(): MemorySource {
  const src = new MemorySource({
    rollups: [testRollup(1, 'pay', 'transfer'), testRollup(2, 'opaque'), testRollup(3, 'evm', 'evm')],
    execute: (h, ns, txs) => ({
      receipts: txs.map((t) => t.subarray(0, 2)),
      stateRoot: sha256(enc.encode(`${ns}/${h}/${txs.length}`)),
    }),
  });
  src.produceBlock([
    { namespace: 1, payload: enc.encode('a1') },
    { namespace: 3, payload: enc.encode('c1') },
  ]);
  src.produceBlock(
    [
      { namespace: 1, payload: enc.encode('a2') },
      { namespace: 1, payload: enc.encode('a3') },
      { namespace: 2, payload: enc.encode('b1') },
    ],
    {
      bundles: [
        {
          bundleHash: sha256(enc.encode('bundle')),
          namespace: 1,
          start: 0,
          count: 2,
          atomicity: 1,
          reverting: [],
        },
      ],
    },
  );
  src.produceBlock([]);
  src.produceBlock([{ namespace: 2, payload: enc.encode('b2') }]);
  return src;
}

describe('certified results and bundle spans through the adapter', () => {
  it('serves results of height - 2 that the SDK verifies against the later certified header', async () => {
    const src = chain();
    const ctx = { chainId: src.chainId, validators: src.validators, namespace: 1 };
    const got = await take(src, 1, 4);
    for (const nb of got) expect(() => verifyNamespaceBlock(nb, ctx)).not.toThrow();
    expect(got[0]!.certifiedResults).toBeUndefined();
    expect(got[1]!.certifiedResults).toBeUndefined();
    const [, b2, b3, b4] = got;
    expect(b3!.certifiedResults!.height).toBe(1);
    expect(b4!.certifiedResults!.height).toBe(2);
    // What was pre-confirmed at height 2 is now certified: same state root, same receipts.
    expect(b4!.certifiedResults!.stateRoot).toEqual(b2!.execution!.stateRoot);
    expect(b4!.certifiedResults!.receiptsRoot).toEqual(receiptsRootOf(1, b2!.execution!.receipts));
    expect(b4!.certifiedResults!.resultCount).toBe(2); // both executed rollups
    // An opaque rollup gets no results.
    expect((await take(src, 2, 4)).every((nb) => nb.certifiedResults === undefined)).toBe(true);
  });

  it('refuses tampered results: state root, receipts root, height, count, root or proof', async () => {
    const src = chain();
    const ctx = { chainId: src.chainId, validators: src.validators, namespace: 1 };
    const b4 = (await take(src, 1, 4))[3]!;
    const cr = b4.certifiedResults!;
    const bad: NamespaceBlock['certifiedResults'][] = [
      { ...cr, stateRoot: sha256(enc.encode('forged')) },
      { ...cr, receiptsRoot: receiptsRootOf(1, [enc.encode('forged receipt')]) },
      { ...cr, height: 1 },
      { ...cr, resultCount: 1 },
      { ...cr, resultsRoot: sha256(enc.encode('other root')) },
      { ...cr, proof: { ...cr.proof, nodes: [] } },
    ];
    for (const c of bad)
      expect(codeOf(() => verifyNamespaceBlock({ ...b4, certifiedResults: c }, ctx))).toBe('RESULTS_INVALID');
    // Another rollup's results presented as this one's.
    const evm = (await take(src, 3, 4))[3]!.certifiedResults!;
    expect(codeOf(() => verifyNamespaceBlock({ ...b4, certifiedResults: evm }, ctx))).toBe('RESULTS_INVALID');
  });

  it('proves the bundle spans: a changed, dropped or invented span is refused', async () => {
    const src = chain();
    const ctx = { chainId: src.chainId, validators: src.validators, namespace: 1 };
    const b2 = (await take(src, 1, 2))[1]!;
    expect(b2.bundles).toHaveLength(1);
    expect(() => verifyNamespaceBlock(b2, ctx)).not.toThrow();
    const span = b2.bundles[0]!;
    expect(codeOf(() => verifyNamespaceBlock({ ...b2, bundles: [{ ...span, count: 1 }] }, ctx))).toBe(
      'PROOF_INVALID',
    );
    expect(codeOf(() => verifyNamespaceBlock({ ...b2, bundles: [] }, ctx))).toBe('PROOF_INVALID');
    expect(codeOf(() => verifyNamespaceBlock({ ...b2, spanCount: 0 }, ctx))).toBe('PROOF_INVALID');
    const b1 = (await take(src, 1, 1))[0]!;
    expect(codeOf(() => verifyNamespaceBlock({ ...b1, bundles: [{ ...span, count: 1 }] }, ctx))).toBe(
      'PROOF_INVALID',
    );
  });
});
