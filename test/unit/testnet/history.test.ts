/** The dashboard history (testnet/history.ts): samples, validators' record, names, bounded size. */
import { describe, expect, it } from 'vitest';
import type { FollowedBlock } from '../../../src/loadgen/index.ts';
import { DashboardHistory } from '../../../testnet/history.ts';

const A = 'aa'.repeat(32);
const B = 'bb'.repeat(32);

function block(
  height: number,
  timeMs: number,
  proposer: string,
  signers: number[],
  txs: number[],
): FollowedBlock {
  return {
    height,
    hash: `0x${height}`,
    timeMs,
    round: 0,
    proposer,
    txs: txs.map((namespace, i) => ({ namespace, hash: `${height}-${i}` })),
    bundles: [],
    signers,
    observedAt: timeMs,
  };
}

describe('DashboardHistory', () => {
  it('turns blocks and polls into per-second samples', () => {
    const h = new DashboardHistory([{ name: 'alice', publicKey: A }], 10, 0);
    h.onBlock(block(1, 1000, A, [0], [1, 1, 2]));
    h.onBlock(block(2, 1100, A, [0], [1]));
    h.onBlock(block(3, 1300, A, [0], []));
    const s = h.sample(
      {
        mempools: [
          { txs: 5, lanes: [{ namespace: 1, txs: 5 }] },
          { txs: 7, lanes: [{ namespace: 1, txs: 7 }] },
        ],
        load: { pending: 9, latencyMs: { p50: 40, p99: 90, count: 3 } },
      },
      2000,
    );
    expect(s).toEqual({
      t: 2000,
      txPerSec: 2,
      perRollup: { '1': 1.5, '2': 0.5 },
      p50: 40,
      p99: 90,
      blockIntervalMs: 150,
      mempoolPending: 7,
      loadPending: 9,
    });
    expect(h.toJSON().rollups).toEqual({
      '1': { committed: 3, pending: 7 },
      '2': { committed: 1, pending: 0 },
    });
    const next = h.sample({ mempools: [], load: null }, 3000);
    expect(next).toMatchObject({ txPerSec: 0, blockIntervalMs: null, p50: null, mempoolPending: null });
    // Pending reflects the latest poll; committed totals stay.
    expect(h.toJSON().rollups).toEqual({
      '1': { committed: 3, pending: 0 },
      '2': { committed: 1, pending: 0 },
    });
  });

  it('keeps a signing and proposing record by genesis name', () => {
    const h = new DashboardHistory(
      [
        { name: 'alice', publicKey: A },
        { name: 'bob', publicKey: `0x${B.toUpperCase()}` },
      ],
      10,
      0,
    );
    h.onBlock(block(1, 0, A, [0, 1], []));
    h.onBlock(block(2, 10, B, [1], []));
    expect(h.nameOf(B)).toBe('bob');
    expect(h.nameOf('cc'.repeat(32))).toBe(`${'cc'.repeat(5)}…`);
    const v = h.toJSON().validators;
    expect(v.map((x) => [x.name, x.proposed, x.signed, x.lastSignedHeight])).toEqual([
      ['alice', 1, 1, 1],
      ['bob', 1, 2, 2],
    ]);
    expect(h.toJSON().blocksSeen).toBe(2);
  });

  it('keeps at most maxSamples samples', () => {
    const h = new DashboardHistory([], 3, 0);
    for (let t = 1; t <= 10; t++) h.sample({ mempools: [], load: null }, t * 1000);
    expect(h.toJSON().samples.map((s) => s.t)).toEqual([8000, 9000, 10000]);
  });
});
