/**
 * A cross-rollup bundle end to end on four in-process validators over libp2p on 127.0.0.1: submitted
 * through one node's `ingress.submitBundle`, gossiped to the others, placed by whichever validator
 * proposes, and committed whole — both of its spans in one block — as every node's bundle pool reports;
 * a validator restarted afterwards still knows it as included (ADR 0250); the block carrying it is
 * proposed compact, like any other (ADR 0270).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleStatus } from '../../../src/mempool/index.ts';
import { OrdoNode } from '../../../src/node/node.ts';
import type { Bundle } from '../../../src/types.ts';
import { findFreeBasePort, setupNetwork } from '../../../testnet/setup.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordo-bundle-commit-'));
const nodes: OrdoNode[] = [];

beforeAll(async () => {
  const basePort = await findFreeBasePort(4);
  const layout = await setupNetwork({
    dir,
    validators: 4,
    fullNodes: 0,
    rollups: 5,
    basePort,
    chainId: 'it-bundles',
    config: { log: { level: 'warn' } },
  });
  for (const n of layout.nodes) {
    const node = OrdoNode.load({ home: n.home, logger: pino({ level: 'warn' }), grpcListen: null });
    nodes.push(node);
  }
  await Promise.all(nodes.map((n) => n.start()));
}, 120_000);

afterAll(async () => {
  for (const n of nodes) await n.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function until<T>(f: () => T | undefined, ms: number): Promise<T> {
  for (let i = 0; i < ms / 50; i++) {
    const v = f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached');
}

describe('cross-rollup bundle', () => {
  it('is committed whole on every validator', async () => {
    // wait for the validators to find each other and commit
    await until(() => (nodes.every((n) => n.height >= 2) ? true : undefined), 60_000);
    const enc = new TextEncoder();
    const bundle: Bundle = {
      legs: [
        { namespace: 1, txs: [enc.encode('leg one a'), enc.encode('leg one b')], revertingTxHashes: [] },
        { namespace: 5, txs: [enc.encode('leg five')], revertingTxHashes: [] },
      ],
      atomicity: 'inclusion',
      minHeight: 0,
      maxHeight: 0,
      replacementUuid: new Uint8Array(0),
      signer: new Uint8Array(0),
      signature: new Uint8Array(0),
    };
    const r = nodes[1]!.ingress!.submitBundle(bundle, 'in_process');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const statuses = await until(() => {
      const s = nodes.map((n) => n.bundleStatus!.status(r.bundleHash));
      return s.every((x) => x?.status === 'committed') ? (s as BundleStatus[]) : undefined;
    }, 60_000);
    const height = statuses[0]!.height;
    for (const s of statuses) {
      expect(s.height).toBe(height);
      expect(s.spans?.map((x) => [x.namespace, x.count])).toEqual([
        [1, 2],
        [5, 1],
      ]);
    }
    // counted once per node although both the decision and the commit listener report the block
    const text = await nodes[0]!.metrics.registry.metrics();
    expect(text).toContain('ordo_bundles_committed_total 1');
    expect(text).toContain('ordo_bundles_pending 0');
    // The block carrying the bundle went out compact like the others (ADR 0270): the proposer finds the
    // legs in its bundle pool, so no validator gossiped a whole block.
    const sent = { compact: 0, full: 0 };
    for (const n of nodes) {
      const m = await n.metrics.registry.getSingleMetric('ordo_consensus_proposals_sent_total')!.get();
      for (const v of m.values) sent[v.labels.form as 'compact' | 'full'] += v.value;
    }
    expect(sent.full).toBe(0);
    expect(sent.compact).toBeGreaterThan(0);
    // a second submission of the same bundle is a duplicate, not a second inclusion
    const again = nodes[2]!.ingress!.submitBundle(bundle, 'in_process');
    expect(again).toMatchObject({ ok: false, code: 'DUPLICATE' });
    // A restarted validator knows the inclusion from its store (ADR 0250): it refuses the bundle sent
    // again, and answers a span naming it as the others do.
    const home = nodes[3]!.home;
    await nodes[3]!.stop();
    const restarted = OrdoNode.load({ home, logger: pino({ level: 'warn' }), grpcListen: null });
    nodes[3] = restarted;
    await restarted.start();
    expect(restarted.bundleStatus!.status(r.bundleHash)).toBeUndefined();
    expect(restarted.bundlePool!.lookup(r.bundleHash, height! + 1)).toEqual({ kind: 'included', height });
    expect(restarted.bundlePool!.lookup(r.bundleHash, height! + 1)).toEqual(
      nodes[0]!.bundlePool!.lookup(r.bundleHash, height! + 1),
    );
    expect(restarted.ingress!.submitBundle(bundle, 'in_process')).toMatchObject({
      ok: false,
      code: 'DUPLICATE',
    });
  }, 120_000);
});
