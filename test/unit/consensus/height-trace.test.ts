/**
 * The per-height timeline (src/consensus/height-trace.ts): times relative to the height's start, vote
 * quorums, and why each round before the deciding one failed, as this node saw it.
 */
import { describe, expect, it } from 'vitest';
import { HeightTrace, heightStages } from '../../../src/consensus/height-trace.ts';
import { makeValidatorSet } from '../../../src/consensus/validators.ts';

const set = makeValidatorSet(
  Array.from({ length: 4 }, (_, i) => ({ publicKey: new Uint8Array(32).fill(i + 1), votingPower: 1 })),
);
const T0 = 1_000_000;

function votes(t: HeightTrace, type: 'prevote' | 'precommit', round: number, nil: boolean[], at: number) {
  nil.forEach((n, i) => {
    t.vote(type, 5, round, i, n, T0 + at);
  });
}

describe('HeightTrace', () => {
  it('times a round-0 decision relative to the height start and records the quorums', () => {
    const t = new HeightTrace(set);
    t.start(5, T0);
    t.proposalHeard(5, 0, T0 + 100);
    t.proposalIn(5, 0, T0 + 180, 5000, T0 + 40);
    t.verifyStart(5, 0, T0 + 181);
    t.verifyEnd(5, 0, T0 + 400, 'ok');
    t.ownVote('prevote', 5, 0, false, T0 + 402);
    votes(t, 'prevote', 0, [false, false, false, true], 410);
    votes(t, 'precommit', 0, [false, false, false, false], 450);
    const s = t.decided(5, 0, 5000, T0 + 460)!;
    expect(s).toMatchObject({ height: 5, round: 0, txs: 5000, decidedMs: 460 });
    expect(s.rounds[0]).toMatchObject({
      proposalHeard: 100,
      proposalIn: 180,
      proposalAgeMs: 140,
      verifyStart: 181,
      verifyEnd: 400,
      verdict: 'ok',
      prevote: 402,
      prevoteNil: false,
      prevoteQuorum: 410,
      prevotesFor: 3,
      prevotesNil: 1,
      precommitQuorum: 450,
      precommitsFor: 4,
    });
    expect(s.rounds[0]!.failure).toBeUndefined();
  });

  it('names why an earlier round failed', () => {
    const cases: [string, (t: HeightTrace) => void][] = [
      [
        'build_failed',
        (t) => {
          t.buildStart(5, 0, T0 + 10);
          t.buildEnd(5, 0, T0 + 260, 'RESULTS_NOT_READY');
        },
      ],
      ['no_proposal', (t) => t.ownVote('prevote', 5, 0, true, T0 + 2000)],
      [
        'verify_late',
        (t) => {
          t.proposalIn(5, 0, T0 + 900, 5000, T0 + 800);
          t.verifyStart(5, 0, T0 + 900);
          t.ownVote('prevote', 5, 0, true, T0 + 2000);
          t.verifyEnd(5, 0, T0 + 2300, 'ok');
        },
      ],
      [
        'verify_late', // heard (compact) in time, but its rebuild ended after the timeout
        (t) => {
          t.proposalHeard(5, 0, T0 + 900);
          t.ownVote('prevote', 5, 0, true, T0 + 2000);
          t.proposalIn(5, 0, T0 + 2100, 5000, T0 + 800);
        },
      ],
      [
        'rejected',
        (t) => {
          t.proposalIn(5, 0, T0 + 300, 10, T0 + 250);
          t.verifyEnd(5, 0, T0 + 560, 'RESULTS_NOT_READY');
          t.ownVote('prevote', 5, 0, true, T0 + 561);
        },
      ],
      [
        'prevotes_short',
        (t) => {
          t.proposalIn(5, 0, T0 + 300, 10, T0 + 250);
          t.verifyEnd(5, 0, T0 + 320, 'ok');
          t.ownVote('prevote', 5, 0, false, T0 + 321);
          votes(t, 'prevote', 0, [false, true, true, false], 900);
        },
      ],
      [
        'precommits_short',
        (t) => {
          t.proposalIn(5, 0, T0 + 300, 10, T0 + 250);
          t.verifyEnd(5, 0, T0 + 320, 'ok');
          t.ownVote('prevote', 5, 0, false, T0 + 321);
          votes(t, 'prevote', 0, [false, false, false, false], 400);
          votes(t, 'precommit', 0, [false, true, true, true], 900);
        },
      ],
    ];
    for (const [want, setup] of cases) {
      const t = new HeightTrace(set);
      t.start(5, T0);
      setup(t);
      t.proposalIn(5, 1, T0 + 3000, 10, T0 + 2990);
      const s = t.decided(5, 1, 10, T0 + 3200)!;
      expect(
        s.rounds.map((r) => r.failure),
        want,
      ).toEqual([want, undefined]);
    }
  });

  it('keeps what came early for the next height, at negative times', () => {
    const t = new HeightTrace(set);
    t.start(5, T0);
    t.proposalIn(6, 0, T0 + 80, 10, T0 + 70);
    t.decided(5, 0, 0, T0 + 100);
    t.start(6, T0 + 100);
    const s = t.decided(6, 0, 10, T0 + 150)!;
    expect(s.rounds[0]).toMatchObject({ proposalIn: -20, proposalAgeMs: 10 });
  });

  it('ignores events of other heights and counts a validator once per vote type', () => {
    const t = new HeightTrace(set);
    t.start(5, T0);
    t.proposalIn(4, 0, T0 + 1, 1, T0);
    t.vote('prevote', 5, 0, 1, false, T0 + 5);
    t.vote('prevote', 5, 0, 1, true, T0 + 6);
    expect(t.decided(6, 0, 0, T0 + 10)).toBeUndefined();
    const s = t.decided(5, 0, 0, T0 + 10)!;
    expect(s.rounds[0]).toMatchObject({ prevotesFor: 1, prevotesNil: 0 });
    expect(s.rounds[0]!.proposalIn).toBeUndefined();
  });

  it('times an own proposal from its build to libp2p, with commit waits and loop stalls of the height', () => {
    const t = new HeightTrace(set);
    t.start(5, T0);
    t.buildStart(5, 0, T0 + 100);
    t.buildEnd(5, 0, T0 + 200);
    t.own('contentsQueued', 5, 0, T0 + 210);
    t.commitWait(T0 + 215, 300);
    t.own('contentsIn', 5, 0, T0 + 520);
    t.own('walSynced', 5, 0, T0 + 530);
    t.own('walSynced', 5, 0, T0 + 999); // the first time counts
    t.proposalIn(5, 0, T0 + 531, 500, T0 + 200);
    t.own('published', 5, 0, T0 + 540);
    votes(t, 'prevote', 0, [false, false, false, false], 600);
    votes(t, 'precommit', 0, [false, false, false, false], 700);
    const s = t.decided(5, 0, 500, T0 + 710, [
      { startMs: T0 - 50, ms: 80 },
      { startMs: T0 + 216, ms: 290 },
    ])!;
    expect(s.rounds[0]).toMatchObject({
      buildEnd: 200,
      contentsQueued: 210,
      contentsIn: 520,
      walSynced: 530,
      proposalIn: 531,
      published: 540,
    });
    expect(s.commitWaits).toEqual([[215, 300]]);
    expect(s.loopStalls).toEqual([
      [-50, 80],
      [216, 290],
    ]);
    // The next height starts with no waits of its own.
    t.start(6, T0 + 710);
    expect(t.decided(6, 0, 0, T0 + 800)?.commitWaits).toBeUndefined();
  });

  it("records this node's executions and simulations of the height, relative to its start (ADR 0307)", () => {
    const t = new HeightTrace(set);
    t.start(5, T0);
    // Height 3 was stored before height 5 started, waited for height 2's execution, ran into the height.
    t.executed(3, T0 - 900, T0 - 400, T0 - 400, T0 + 1200);
    t.simulated(T0 + 10, 4);
    t.simulated(T0 + 20, 6);
    const s = t.decided(5, 0, 0, T0 + 1500)!;
    expect(s.executed).toEqual([[3, -900, -400, -400, 1200]]);
    expect(s.simulated).toEqual([2, 10]);
    expect(s.simulations).toEqual([
      [10, 4],
      [20, 6],
    ]);
    // The next height starts with none of its own.
    t.start(6, T0 + 1500);
    const next = t.decided(6, 0, 0, T0 + 1600)!;
    expect(next.executed).toBeUndefined();
    expect(next.simulated).toBeUndefined();
  });

  it('keeps the longest simulations but counts them all', () => {
    const t = new HeightTrace(set);
    t.start(5, T0);
    for (let i = 0; i < 1000; i++) t.simulated(T0 + i, i === 500 ? 90 : 1);
    const s = t.decided(5, 0, 0, T0 + 2000)!;
    expect(s.simulated).toEqual([1000, 999 + 90]);
    expect(s.simulations!.length).toBeLessThanOrEqual(12);
    expect(s.simulations).toContainEqual([500, 90]);
  });

  it('splits a decided height into its critical-path stages (peer proposal and own proposal)', () => {
    const t = new HeightTrace(set);
    t.start(5, T0);
    t.proposalHeard(5, 0, T0 + 100);
    t.proposalIn(5, 0, T0 + 180, 5000, T0 + 40);
    t.verifyStart(5, 0, T0 + 181);
    t.verifyEnd(5, 0, T0 + 400, 'ok');
    t.ownVote('prevote', 5, 0, false, T0 + 402);
    votes(t, 'prevote', 0, [false, false, false, true], 410);
    t.ownVote('precommit', 5, 0, false, T0 + 412);
    votes(t, 'precommit', 0, [false, false, false, false], 450);
    const peer = heightStages(t.decided(5, 0, 5000, T0 + 460)!)!;
    expect(peer).toEqual({
      untilHeard: 100,
      rebuild: 80,
      untilVerify: 1,
      verify: 219,
      toPrevote: 2,
      prevoteWait: 8,
      toPrecommit: 2,
      precommitWait: 38,
      decide: 10,
    });
    expect(Object.values(peer).reduce((a, b) => a + b, 0)).toBe(460);

    const own = new HeightTrace(set);
    own.start(6, T0);
    own.buildStart(6, 0, T0 + 250);
    own.buildEnd(6, 0, T0 + 290);
    own.proposalIn(6, 0, T0 + 300, 10, T0 + 250);
    own.ownVote('prevote', 6, 0, false, T0 + 301);
    const s = own.decided(6, 0, 10, T0 + 500)!;
    expect(heightStages(s)).toEqual({ untilBuild: 250, build: 40, send: 10, toPrevote: 1, decide: 199 });
  });

  it('gives no stages for a height whose deciding round had no proposal here', () => {
    const t = new HeightTrace(set);
    t.start(5, T0);
    t.ownVote('prevote', 5, 0, true, T0 + 1000);
    expect(heightStages(t.decided(5, 0, 0, T0 + 1200)!)).toBeUndefined();
  });
});
