/**
 * Validator-set arithmetic shared by the state machine, certificates and the simulator: building a
 * checked `ValidatorSet`, the two voting-power thresholds of the protocol (a quorum is MORE than 2/3 of
 * the total power, a "weak" set is MORE than 1/3, so at least one honest validator is inside), and
 * deterministic proposer selection by smooth weighted round-robin (see docs/consensus.md).
 *
 * Everything is integer arithmetic on safe integers: `3 * power > 2 * total` never rounds.
 */
import { OrdoError } from '../errors.ts';
import type { Validator } from '../types.ts';
import type { ValidatorSet } from './types.ts';

/** Upper bound on total power so that 3 * total stays a safe integer. */
export const MAX_TOTAL_POWER = Math.floor(Number.MAX_SAFE_INTEGER / 4);

/** Build and check a validator set: non-empty, 32-byte keys, distinct keys, positive integer powers. */
export function makeValidatorSet(validators: Validator[]): ValidatorSet {
  if (validators.length === 0) throw new OrdoError('VALIDATOR_SET_EMPTY', 'validator set is empty');
  const seen = new Set<string>();
  let total = 0;
  validators.forEach((v, i) => {
    if (!(v.publicKey instanceof Uint8Array) || v.publicKey.byteLength !== 32) {
      throw new OrdoError('VALIDATOR_SET_INVALID', `validator ${i}: public key must be 32 bytes`, {
        index: i,
      });
    }
    if (!Number.isSafeInteger(v.votingPower) || v.votingPower <= 0) {
      throw new OrdoError(
        'VALIDATOR_SET_INVALID',
        `validator ${i}: voting power must be a positive integer`,
        {
          index: i,
        },
      );
    }
    const k = Buffer.from(v.publicKey).toString('hex');
    if (seen.has(k)) {
      throw new OrdoError('VALIDATOR_SET_INVALID', `validator ${i}: duplicate public key`, { index: i });
    }
    seen.add(k);
    total += v.votingPower;
  });
  if (total > MAX_TOTAL_POWER) {
    throw new OrdoError('VALIDATOR_SET_INVALID', `total voting power ${total} exceeds ${MAX_TOTAL_POWER}`);
  }
  return { validators, totalPower: total };
}

/** True when `power` is strictly more than 2/3 of `total` (a commit / lock quorum). */
export function isQuorum(power: number, total: number): boolean {
  return 3 * power > 2 * total;
}

/** True when `power` is strictly more than 1/3 of `total` (contains at least one honest validator). */
export function isWeakQuorum(power: number, total: number): boolean {
  return 3 * power > total;
}

/** Index of the validator with this public key, or -1. */
export function indexOfKey(set: ValidatorSet, publicKey: Uint8Array): number {
  const k = Buffer.from(publicKey).toString('hex');
  return set.validators.findIndex((v) => Buffer.from(v.publicKey).toString('hex') === k);
}

/** Longest proposer schedule we materialise; larger power totals are scaled down proportionally. */
const MAX_SCHEDULE = 4096;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

const scheduleCache = new WeakMap<ValidatorSet, number[]>();

/**
 * One period of the smooth weighted round-robin schedule: validator i appears `w_i` times in a
 * period of `sum(w)` slots, spread as evenly as possible (each step every validator gains its weight,
 * the richest is picked and pays the total; ties go to the lowest index). Weights are the voting powers
 * divided by their gcd, scaled down (never below 1) when the period would exceed MAX_SCHEDULE.
 */
export function proposerSchedule(set: ValidatorSet): number[] {
  const cached = scheduleCache.get(set);
  if (cached !== undefined) return cached;
  const powers = set.validators.map((v) => v.votingPower);
  const g = powers.reduce((a, b) => gcd(a, b));
  let weights = powers.map((p) => p / g);
  let sum = weights.reduce((a, b) => a + b, 0);
  if (sum > MAX_SCHEDULE) {
    weights = weights.map((w) => Math.max(1, Math.floor((w * MAX_SCHEDULE) / sum)));
    sum = weights.reduce((a, b) => a + b, 0);
  }
  const current = weights.map(() => 0);
  const out: number[] = [];
  for (let slot = 0; slot < sum; slot++) {
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i]! += weights[i]!;
      if (current[i]! > current[best]!) best = i;
    }
    current[best]! -= sum;
    out.push(best);
  }
  scheduleCache.set(set, out);
  return out;
}

/** The proposer of (height, round): slot (height + round) of the repeating weighted schedule. */
export function proposerIndex(set: ValidatorSet, height: number, round: number): number {
  const s = proposerSchedule(set);
  return s[(height + round) % s.length]!;
}
