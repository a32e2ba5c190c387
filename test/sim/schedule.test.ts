import { describe, expect, it } from 'vitest';
import { generateScenario } from '../../src/consensus/sim/scenario.ts';
import { SimScheduleError, validateSchedule } from '../../src/consensus/sim/schedule.ts';
import { type SimConfig, Simulation, simulate } from '../../src/consensus/sim/simulation.ts';
import { baseConfig } from './world-config.ts';

/** The SimScheduleError `cfg` is refused with. */
function refusal(cfg: SimConfig): SimScheduleError {
  try {
    validateSchedule(cfg);
  } catch (err) {
    expect(err).toBeInstanceOf(SimScheduleError);
    return err as SimScheduleError;
  }
  throw new Error('schedule was accepted');
}

describe('simulator fault schedules: impossible ones are refused before a run', () => {
  it('a restart before its crash names the validator and both times', () => {
    const e = refusal(baseConfig({ crashes: [{ node: 2, atMs: 300, restartMs: 120 }] }));
    expect(e.code).toBe('SIM_RESTART_BEFORE_CRASH');
    expect(e.message).toBe('crash 0 of validator 2: restart at 120 ms is not after the crash at 300 ms');
    expect(e.data).toEqual({ crash: 0, node: 2, atMs: 300, restartMs: 120 });
  });

  it('a restart at the very moment of its crash is refused too', () => {
    expect(refusal(baseConfig({ crashes: [{ node: 1, atMs: 50, restartMs: 50 }] })).code).toBe(
      'SIM_RESTART_BEFORE_CRASH',
    );
  });

  it.each([
    ['a negative crash time', { node: 1, atMs: -5, restartMs: 10 }, 'atMs -5'],
    ['a negative restart time', { node: 1, atMs: -20, restartMs: -10 }, 'atMs -20'],
    ['a NaN crash time', { node: 1, atMs: Number.NaN, restartMs: 10 }, 'atMs NaN'],
    [
      'an infinite restart time',
      { node: 1, atMs: 10, restartMs: Number.POSITIVE_INFINITY },
      'restartMs Infinity',
    ],
  ])('%s', (_, crash, field) => {
    const e = refusal(baseConfig({ crashes: [crash] }));
    expect(e.code).toBe('SIM_BAD_TIME');
    expect(e.message).toContain(`validator 1`);
    expect(e.message).toContain(`${field} is not a time ≥ 0 ms`);
  });

  it('overlapping crashes of one validator name both crashes and their times', () => {
    const e = refusal(
      baseConfig({
        crashes: [
          { node: 3, atMs: 400, restartMs: 600 },
          { node: 1, atMs: 100, restartMs: 200 },
          { node: 3, atMs: 100, restartMs: 500 },
        ],
      }),
    );
    expect(e.code).toBe('SIM_OVERLAPPING_CRASHES');
    expect(e.message).toBe(
      'crashes 2 and 0 of validator 3 overlap: the one at 400 ms comes before the restart at 500 ms of the one at 100 ms',
    );
    expect(e.data).toEqual({ node: 3, crashes: [2, 0], atMs: [100, 400], restartMs: [500, 600] });
  });

  it('two crashes of one validator at the same moment overlap', () => {
    const e = refusal(
      baseConfig({
        crashes: [
          { node: 1, atMs: 100, restartMs: 150 },
          { node: 1, atMs: 100, restartMs: 300, stage: 'commit' },
        ],
      }),
    );
    expect(e.code).toBe('SIM_OVERLAPPING_CRASHES');
  });

  it('a crash may begin at the moment the previous one restarts (the generator does this)', () => {
    expect(() =>
      validateSchedule(
        baseConfig({
          crashes: [
            { node: 1, atMs: 100, restartMs: 150 },
            { node: 1, atMs: 150, restartMs: 300, stage: 'commit' },
            { node: 1, atMs: 300, restartMs: 301 },
            { node: 2, atMs: 120, restartMs: 130 },
          ],
        }),
      ),
    ).not.toThrow();
  });

  it.each([
    [4, 'validator 4, but the validators are 0..3'],
    [-1, 'validator -1, but the validators are 0..3'],
    [1.5, 'validator 1.5, but the validators are 0..3'],
  ])('a crash of an unknown validator (%d)', (node, text) => {
    const e = refusal(baseConfig({ crashes: [{ node, atMs: 10, restartMs: 20 }] }));
    expect(e.code).toBe('SIM_UNKNOWN_VALIDATOR');
    expect(e.message).toContain(text);
  });

  it('a crash of a Twins node id (not a validator index) is unknown', () => {
    const e = refusal(
      baseConfig({
        byzantine: [{ index: 0, behaviour: 'twins' }],
        crashes: [{ node: 4, atMs: 10, restartMs: 20 }],
      }),
    );
    expect(e.code).toBe('SIM_UNKNOWN_VALIDATOR');
  });

  it('a crash of a Byzantine validator', () => {
    const e = refusal(
      baseConfig({
        byzantine: [{ index: 2, behaviour: 'garbage' }],
        crashes: [{ node: 2, atMs: 10, restartMs: 20 }],
      }),
    );
    expect(e.code).toBe('SIM_NOT_HONEST');
    expect(e.message).toContain('validator 2, which is Byzantine');
  });

  it('storage failures: unknown or Byzantine validator, negative time', () => {
    expect(refusal(baseConfig({ storageFailures: [{ node: 7, atMs: 10 }] })).code).toBe(
      'SIM_UNKNOWN_VALIDATOR',
    );
    expect(
      refusal(
        baseConfig({
          byzantine: [{ index: 0, behaviour: 'silent' }],
          storageFailures: [{ node: 0, atMs: 10 }],
        }),
      ).code,
    ).toBe('SIM_NOT_HONEST');
    const e = refusal(baseConfig({ storageFailures: [{ node: 1, atMs: -1 }] }));
    expect(e.code).toBe('SIM_BAD_TIME');
    expect(e.message).toBe('storage failure 0 (validator 1, at -1 ms): atMs -1 is not a time ≥ 0 ms');
  });

  it('partitions: ending before they start, a negative start, a group missing for a node', () => {
    const e = refusal(baseConfig({ partitions: [{ startMs: 300, endMs: 100, groupOf: [0, 0, 1, 1] }] }));
    expect(e.code).toBe('SIM_BAD_PARTITION');
    expect(e.message).toBe('partition 0 (300..100 ms): it ends at 100 ms, before it starts at 300 ms');
    expect(
      refusal(baseConfig({ partitions: [{ startMs: -1, endMs: 100, groupOf: [0, 0, 1, 1] }] })).code,
    ).toBe('SIM_BAD_TIME');
    const g = refusal(
      baseConfig({
        byzantine: [{ index: 0, behaviour: 'twins' }],
        partitions: [{ startMs: 0, endMs: 100, groupOf: [0, 0, 1, 1] }],
      }),
    );
    expect(g.code).toBe('SIM_BAD_PARTITION');
    expect(g.message).toContain('groupOf has 4 entries, the simulation has 5 nodes');
  });

  it('the Simulation refuses it when built, simulate() as a rejection', async () => {
    const cfg = baseConfig({ crashes: [{ node: 2, atMs: 300, restartMs: 120 }] });
    expect(() => new Simulation(cfg)).toThrow(SimScheduleError);
    await expect(simulate(cfg)).rejects.toMatchObject({ code: 'SIM_RESTART_BEFORE_CRASH' });
  });

  it('every generated scenario of the CI range and beyond has a possible schedule', () => {
    for (let seed = 0; seed < 30_000; seed++) validateSchedule(generateScenario(seed));
  });
});
