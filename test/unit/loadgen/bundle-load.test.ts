/**
 * The bundle load's end-of-run check (src/loadgen/bundle-load.ts) against a fake node: it waits until
 * the node has executed the highest committed bundle height, reads EVM legs with eth_getBalance and
 * transfer legs with ordo_getTransferAccount, leaves bundles with an unreadable leg out, and judges the
 * rest; the summary carries the report's shape.
 */
import { describe, expect, it } from 'vitest';
import type { PlannedBundle } from '../../../src/loadgen/bundles.ts';
import {
  checkBundleEffects,
  emptyBundleSendReport,
  summarizeBundleLoad,
} from '../../../src/loadgen/index.ts';

const leg = (namespace: number, recipient: string) => ({
  namespace,
  recipient,
  amount: 1n,
  tx: new Uint8Array([1]),
  account: 0,
  nonce: 0,
});
const rollups = [
  { namespace: 2, kind: 'transfer' as const },
  { namespace: 3, kind: 'evm' as const },
];

describe('bundle load check', () => {
  it('waits for execution, reads every leg and counts violations', async () => {
    let executed = 5;
    const balances: Record<string, bigint> = { t1: 1n, e1: 1n, t2: 1n, e3: 0n, t4: 0n };
    const call = async (url: string, method: string, params: unknown[]): Promise<unknown> => {
      if (method === 'ordo_getTransferAccount') {
        const who = (params[1] as string).slice(2);
        if (who === '00'.repeat(32)) return { balance: '0', nonce: '0', height: executed++ };
        if (who === 'bad') throw new Error('unreachable');
        return { balance: String(balances[who] ?? 0n), nonce: '0', height: executed };
      }
      expect(url).toMatch(/\/evm\/3$/);
      return `0x${(balances[params[0] as string] ?? 0n).toString(16)}`;
    };
    const bundles: PlannedBundle[] = [
      { id: 1, cross: true, builtToFail: false, legs: [leg(2, 't1'), leg(3, 'e1')] }, // applied
      { id: 2, cross: true, builtToFail: false, legs: [leg(2, 't2'), leg(3, 'e2')] }, // partial!
      { id: 3, cross: false, builtToFail: true, legs: [leg(3, 'e3')] }, // none
      { id: 4, cross: true, builtToFail: false, legs: [leg(2, 'bad'), leg(3, 'e4')] }, // unreadable
    ];
    const sent = emptyBundleSendReport();
    sent.maxCommittedHeight = 8;
    sent.accepted = 4;
    sent.applied = 1;
    sent.bundles = bundles.map((bundle) => ({ bundle, outcome: 'applied' as const }));
    const r = await checkBundleEffects('http://n0/', sent, rollups, call, 5000);
    expect(executed).toBeGreaterThanOrEqual(8);
    expect(r).toMatchObject({ bundles: 3, applied: 1, none: 1, violations: 1, unreadLegs: 2, notKept: 0 });
    expect(r.examples.map((e) => e.id)).toEqual([2]);
    const s = summarizeBundleLoad(sent, 10, 2, r);
    expect(s).toMatchObject({ offeredPerSec: 10, bundlesPerSec: 2, applied: 1, voided: 0, appliedShare: 1 });
    expect(s.atomicity?.violations).toBe(1);
  });
});
