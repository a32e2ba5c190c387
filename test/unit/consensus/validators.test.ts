import { describe, expect, it } from 'vitest';
import {
  isQuorum,
  isWeakQuorum,
  makeValidatorSet,
  proposerIndex,
  proposerSchedule,
} from '../../../src/consensus/validators.ts';

function key(i: number): Uint8Array {
  const k = new Uint8Array(32);
  k[0] = i + 1;
  return k;
}

describe('validator sets', () => {
  it('thresholds are strict: more than 2/3 and more than 1/3', () => {
    expect(isQuorum(3, 4)).toBe(true);
    expect(isQuorum(2, 3)).toBe(false);
    expect(isQuorum(67, 100)).toBe(true);
    expect(isQuorum(66, 99)).toBe(false);
    expect(isWeakQuorum(2, 4)).toBe(true);
    expect(isWeakQuorum(1, 3)).toBe(false);
  });

  it('rejects empty sets, bad keys, duplicate keys and non-positive power', () => {
    expect(() => makeValidatorSet([])).toThrow(/empty/);
    expect(() => makeValidatorSet([{ publicKey: new Uint8Array(31), votingPower: 1 }])).toThrow(/32 bytes/);
    expect(() => makeValidatorSet([{ publicKey: key(0), votingPower: 0 }])).toThrow(/positive/);
    expect(() =>
      makeValidatorSet([
        { publicKey: key(0), votingPower: 1 },
        { publicKey: key(0), votingPower: 1 },
      ]),
    ).toThrow(/duplicate/);
  });

  it('proposer selection is weighted round-robin by voting power and deterministic', () => {
    const set = makeValidatorSet([
      { publicKey: key(0), votingPower: 30 },
      { publicKey: key(1), votingPower: 10 },
      { publicKey: key(2), votingPower: 20 },
    ]);
    const s = proposerSchedule(set);
    expect(s).toHaveLength(6); // powers / gcd = 3 + 1 + 2
    const counts = [0, 0, 0];
    for (let h = 1; h <= 600; h++) counts[proposerIndex(set, h, 0)]!++;
    expect(counts).toEqual([300, 100, 200]);
    // Rounds move to the next slot; a validator under 1/2 of the power is never chosen twice in a row.
    for (let i = 0; i < s.length; i++) {
      if (s[i] !== 0) expect(s[(i + 1) % s.length]).not.toBe(s[i]);
    }
    expect(proposerIndex(set, 7, 2)).toBe(proposerIndex(set, 9, 0));
  });

  it('huge power totals are scaled to a bounded schedule', () => {
    const set = makeValidatorSet([
      { publicKey: key(0), votingPower: 1_000_003 },
      { publicKey: key(1), votingPower: 999_983 },
    ]);
    const s = proposerSchedule(set);
    expect(s.length).toBeLessThanOrEqual(4096);
    expect(Math.abs(s.filter((x) => x === 0).length - s.filter((x) => x === 1).length)).toBeLessThanOrEqual(
      2,
    );
  });
});
