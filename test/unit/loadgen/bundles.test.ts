/**
 * The bundle load's pure half: planned bundles (single and cross-rollup, a share built to fail, senders
 * reused only after settling, nonces spent only when applied), their `ordo_sendBundle` params, and the
 * atomicity checker's verdicts from legs' effects.
 */
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createFeeMarket1559TxFromRLP } from '@ethereumjs/tx';
import { describe, expect, it } from 'vitest';
import { bundleHash, bundleSignBytes } from '../../../src/codec/index.ts';
import { demoRollups, makeGenesis } from '../../../src/config/genesis.ts';
import { verifySignature } from '../../../src/crypto/index.ts';
import {
  BundlePlanner,
  checkAtomicity,
  type PlannedBundle,
  sendBundleParams,
} from '../../../src/loadgen/bundles.ts';
import { parseBundle } from '../../../src/rpc/bundles.ts';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const rollups = [
  { namespace: 1, kind: 'opaque' as const },
  { namespace: 2, kind: 'transfer' as const },
  { namespace: 3, kind: 'evm' as const, evmChainId: 900_001 },
  { namespace: 4, kind: 'evm' as const, evmChainId: 900_002 },
];

describe('bundle planner', () => {
  it('makes single- and cross-rollup bundles over executed rollups only, with the asked shares', () => {
    const p = new BundlePlanner({
      rollups,
      accounts: Array.from({ length: 400 }, (_, i) => i),
      crossShare: 0.5,
      failShare: 0.2,
      runId: 'r1',
      random: seeded(1),
    });
    const all: PlannedBundle[] = [];
    for (let i = 0; i < 400; i++) all.push(p.next()!);
    const cross = all.filter((b) => b.cross);
    expect(cross.length).toBeGreaterThan(150);
    expect(cross.length).toBeLessThan(250);
    expect(all.filter((b) => b.builtToFail).length).toBeGreaterThan(40);
    for (const b of all) {
      expect(b.legs.length).toBe(b.cross ? 2 : 1);
      expect(b.legs.every((l) => l.namespace !== 1)).toBe(true);
      expect(new Set(b.legs.map((l) => l.namespace)).size).toBe(b.legs.length);
      // Legs sorted by namespace (the canonical order), every recipient unique to its leg.
      expect(b.legs.map((l) => l.namespace)).toEqual(b.legs.map((l) => l.namespace).sort((x, y) => x - y));
    }
    const recipients = all.flatMap((b) => b.legs.map((l) => `${l.namespace}/${l.recipient}`));
    expect(new Set(recipients).size).toBe(recipients.length);
    const params = sendBundleParams(all[0]!);
    expect(params[0].legs[0]!.txs[0]).toMatch(/^0x[0-9a-f]+$/);
  });

  it('reuses a sender only after its bundle settled, spending its nonce only when it applied', () => {
    const p = new BundlePlanner({ rollups, accounts: [7], runId: 'r2', random: seeded(2), failShare: 0 });
    const a = p.next()!;
    expect(p.slots.busy).toBe(a.legs.length);
    expect(p.next()).toBeUndefined();
    p.settled(a, false);
    expect(p.slots.busy).toBe(0);
    const b = p.next()!;
    expect(b.legs[0]!.nonce).toBe(0);
    p.settled(b, true);
    const c = p.next()!;
    for (const l of c.legs) if (b.legs.some((x) => x.namespace === l.namespace)) expect(l.nonce).toBe(1);
  });

  it('leaves the senders of a bundle built to fail free at once; settling it later frees nothing', () => {
    // Scripted choices, one rollup (no cross draw): [built to fail?, first rollup, (failing leg)].
    const script = [0, 0, 0, 0.9, 0, 0.9, 0, 0.9, 0];
    const p = new BundlePlanner({
      rollups: [rollups[1]!],
      accounts: [7],
      runId: 'r-fail',
      random: () => script.shift() ?? 0.9,
      failShare: 0.5,
    });
    const f = p.next()!;
    expect(f.builtToFail).toBe(true);
    expect(f.legs[0]!.account).toBe(7);
    expect(p.slots).toEqual({ accounts: 1, total: 1, busy: 0 });
    // The sender is free: the next bundle takes it, at the same nonce (the failing one spends none).
    const a = p.next()!;
    expect(a.builtToFail).toBe(false);
    expect(a.legs[0]!.account).toBe(7);
    expect(a.legs[0]!.nonce).toBe(0);
    expect(p.slots.busy).toBe(1);
    expect(p.next()).toBeUndefined();
    // The failing bundle is dropped ~30 heights later: `a` still holds the slot, nonces unchanged.
    p.settled(f, false);
    expect(p.slots.busy).toBe(1);
    expect(p.next()).toBeUndefined();
    // A normal bundle still frees its slot when it settles, and spends the nonce when it applied.
    p.settled(a, true);
    expect(p.slots.busy).toBe(0);
    const b = p.next()!;
    expect(b.legs[0]!.nonce).toBe(1);
  });

  it('gives a cross-rollup bundle built to fail the current nonce on its valid leg and reuses it after', () => {
    // Two rollups: [cross?, built to fail?, first rollup, (failing leg)].
    const script = [0, 0, 0, 0.9 /* fails in ns 3 */, 0, 0.9, 0];
    const p = new BundlePlanner({
      rollups: [rollups[1]!, rollups[2]!],
      accounts: [3],
      runId: 'r-fail-cross',
      random: () => script.shift() ?? 0.9,
      crossShare: 0.5,
      failShare: 0.5,
    });
    const f = p.next()!;
    expect(f.builtToFail && f.cross).toBe(true);
    expect(f.legs.map((l) => l.nonce)).toEqual([0, 0]);
    // Its EVM leg (namespace 3) is the failing one: signed a million nonces ahead, never valid.
    const evmTx = createFeeMarket1559TxFromRLP(f.legs[1]!.tx, {
      common: createCustomCommon({ chainId: 900_001 }, Mainnet, { hardfork: Hardfork.Prague }),
    });
    expect(evmTx.nonce).toBe(1_000_000n);
    expect(p.slots).toEqual({ accounts: 1, total: 2, busy: 0 });
    const a = p.next()!;
    expect(a.cross && !a.builtToFail).toBe(true);
    expect(a.legs.map((l) => [l.namespace, l.account, l.nonce])).toEqual([
      [2, 3, 0],
      [3, 3, 0],
    ]);
    // The valid leg of `f` and the leg of `a` in rollup 2 are different transactions at the same nonce:
    // at most one of them can apply, and `f` never does (its other leg is invalid).
    expect(Buffer.from(f.legs[0]!.tx).equals(Buffer.from(a.legs[0]!.tx))).toBe(false);
    p.settled(f, false);
    expect(p.slots.busy).toBe(2);
    p.settled(a, true);
    expect(p.slots.busy).toBe(0);
    const b = p.next()!;
    expect(b.legs.every((l) => l.nonce === 1)).toBe(true);
  });

  it('takes free senders round robin, not the one just freed', () => {
    const p = new BundlePlanner({
      rollups: [rollups[1]!],
      accounts: [0, 1, 2],
      runId: 'r-rr',
      random: seeded(4),
      failShare: 0,
    });
    const a = p.next()!;
    expect(a.legs[0]!.account).toBe(0);
    p.settled(a, true);
    // Account 0 is free again, but the next bundles go to 1 and 2 first.
    expect(p.next()!.legs[0]!.account).toBe(1);
    expect(p.next()!.legs[0]!.account).toBe(2);
    expect(p.next()!.legs[0]!.account).toBe(0);
    expect(p.next()).toBeUndefined();
  });

  it('signs bundles so the parsed bundle of a node verifies, with the expiry window in the signed bytes', () => {
    const genesis = makeGenesis({
      chainId: 'sign-test',
      validators: [{ name: 'v', publicKey: 'ab'.repeat(32) }],
      rollups: demoRollups(),
    });
    let height = 40;
    const p = new BundlePlanner({
      rollups: genesis.rollups,
      accounts: [0, 1, 2, 3],
      runId: 'r-sign',
      random: seeded(5),
      crossShare: 1,
      chainId: genesis.chainId,
      window: { height: () => height, heights: 30 },
    });
    for (let i = 0; i < 4; i++) {
      const b = p.next()!;
      expect(b.maxHeight).toBe(height + 30);
      const params = sendBundleParams(b)[0];
      expect(params.maxHeight).toBe(height + 30);
      const parsed = parseBundle(params, genesis, 100_000);
      expect(parsed.atomicity).toBe('execution');
      const hash = bundleHash(genesis.chainId, parsed);
      expect(verifySignature(parsed.signer, bundleSignBytes(hash), parsed.signature)).toBe(true);
      height++;
    }
  });

  it('refuses a registry without executed rollups', () => {
    expect(
      () => new BundlePlanner({ rollups: [rollups[0]!], accounts: [1], runId: 'x', random: seeded(3) }),
    ).toThrow(/executed rollup/);
  });
});

describe('atomicity checker', () => {
  const leg = (namespace: number, recipient: string) => ({
    namespace,
    recipient,
    amount: 1n,
    tx: new Uint8Array(1),
    account: 0,
    nonce: 0,
  });
  const bundles: PlannedBundle[] = [
    { id: 0, cross: true, builtToFail: false, legs: [leg(2, 'a'), leg(3, 'b')] },
    { id: 1, cross: true, builtToFail: true, legs: [leg(2, 'c'), leg(3, 'd')] },
    { id: 2, cross: true, builtToFail: false, legs: [leg(3, 'e'), leg(4, 'f')] },
    { id: 3, cross: false, builtToFail: true, legs: [leg(4, 'g')] },
  ];

  it('counts applied and voided bundles, and no violation when each is all or nothing', () => {
    const paid = new Set(['2/a', '3/b']);
    const r = checkAtomicity(bundles, (ns, to) => (paid.has(`${ns}/${to}`) ? 1n : 0n));
    expect(r).toEqual({ bundles: 4, applied: 1, none: 3, violations: 0, examples: [] });
  });

  it('flags a bundle applied in one rollup only, and a bundle built to fail that applied', () => {
    const paid = new Set(['2/a', '3/b', '4/f', '4/g']);
    const r = checkAtomicity(bundles, (ns, to) => (paid.has(`${ns}/${to}`) ? 1n : 0n));
    expect(r.violations).toBe(2);
    expect(r.examples.map((e) => e.id)).toEqual([2, 3]);
    expect(r.examples[0]!.legs).toEqual([
      { namespace: 3, applied: false },
      { namespace: 4, applied: true },
    ]);
  });
});
