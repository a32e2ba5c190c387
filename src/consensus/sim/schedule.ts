/**
 * Checks a simulator configuration's fault schedule before a run: every crash, storage failure and
 * partition must be possible. A crash names a known honest validator, happens at a finite time ≥ 0 and
 * restarts strictly after it; two crashes of one validator do not overlap (the next may begin at the
 * very moment the previous restarts; a staged one is then armed for that restart's replay, an unstaged
 * one finds the node still down and does nothing, as before). A storage failure names a known
 * honest validator at a time ≥ 0; a partition ends no earlier than it starts and names a group for
 * every node (validators, then Twins). Anything else is refused with a `SimScheduleError` saying which
 * entry, which validator and which times were wrong, instead of a run that silently means something
 * else: a restart before its crash was a no-op (the node was still up), so the node then stayed down
 * for good; the restart of a crashed Byzantine validator booted the production engine with its key.
 */
import { OrdoError } from '../../errors.ts';

export type SimScheduleErrorCode =
  | 'SIM_UNKNOWN_VALIDATOR'
  | 'SIM_NOT_HONEST'
  | 'SIM_BAD_TIME'
  | 'SIM_RESTART_BEFORE_CRASH'
  | 'SIM_OVERLAPPING_CRASHES'
  | 'SIM_BAD_PARTITION';

export class SimScheduleError extends OrdoError<SimScheduleErrorCode> {
  constructor(code: SimScheduleErrorCode, message: string, data: Record<string, unknown> = {}) {
    super(code, message, data);
    this.name = 'SimScheduleError';
  }
}

interface ScheduledCrash {
  node: number;
  atMs: number;
  restartMs: number;
}

/** The parts of a `SimConfig` (simulation.ts) that make up its fault schedule. */
export interface Schedule {
  powers: readonly number[];
  byzantine: readonly { index: number; behaviour: string }[];
  crashes: readonly ScheduledCrash[];
  partitions: readonly { startMs: number; endMs: number; groupOf: readonly number[] }[];
  storageFailures?: readonly { node: number; atMs: number }[] | undefined;
}

/** Throws a `SimScheduleError` for the first impossible entry of `cfg`'s fault schedule. */
export function validateSchedule(cfg: Schedule): void {
  const validators = cfg.powers.length;
  const byzantine = new Set(cfg.byzantine.map((b) => b.index));
  const nodes = validators + cfg.byzantine.filter((b) => b.behaviour === 'twins').length;

  const honestValidator = (what: string, node: number): void => {
    if (!Number.isInteger(node) || node < 0 || node >= validators)
      throw new SimScheduleError(
        'SIM_UNKNOWN_VALIDATOR',
        `${what} names validator ${node}, but the validators are 0..${validators - 1}`,
        { node, validators },
      );
    if (byzantine.has(node))
      throw new SimScheduleError(
        'SIM_NOT_HONEST',
        `${what} names validator ${node}, which is Byzantine: only honest validators crash or fail`,
        { node },
      );
  };
  const time = (what: string, field: string, t: number, data: Record<string, unknown>): void => {
    if (!Number.isFinite(t) || t < 0)
      throw new SimScheduleError('SIM_BAD_TIME', `${what}: ${field} ${t} is not a time ≥ 0 ms`, {
        ...data,
        [field]: t,
      });
  };

  const byNode = new Map<number, { c: ScheduledCrash; i: number }[]>();
  cfg.crashes.forEach((c, i) => {
    const what = `crash ${i} (validator ${c.node}, at ${c.atMs} ms, restart ${c.restartMs} ms)`;
    honestValidator(what, c.node);
    const data = { crash: i, node: c.node, atMs: c.atMs, restartMs: c.restartMs };
    time(what, 'atMs', c.atMs, data);
    time(what, 'restartMs', c.restartMs, data);
    if (c.restartMs <= c.atMs)
      throw new SimScheduleError(
        'SIM_RESTART_BEFORE_CRASH',
        `crash ${i} of validator ${c.node}: restart at ${c.restartMs} ms is not after the crash at ${c.atMs} ms`,
        data,
      );
    const list = byNode.get(c.node) ?? [];
    list.push({ c, i });
    byNode.set(c.node, list);
  });
  for (const [node, list] of byNode) {
    list.sort((a, b) => a.c.atMs - b.c.atMs || a.i - b.i);
    for (let k = 1; k < list.length; k++) {
      const prev = list[k - 1]!;
      const next = list[k]!;
      if (next.c.atMs < prev.c.restartMs)
        throw new SimScheduleError(
          'SIM_OVERLAPPING_CRASHES',
          `crashes ${prev.i} and ${next.i} of validator ${node} overlap: the one at ${next.c.atMs} ms comes ` +
            `before the restart at ${prev.c.restartMs} ms of the one at ${prev.c.atMs} ms`,
          {
            node,
            crashes: [prev.i, next.i],
            atMs: [prev.c.atMs, next.c.atMs],
            restartMs: [prev.c.restartMs, next.c.restartMs],
          },
        );
    }
  }

  (cfg.storageFailures ?? []).forEach((f, i) => {
    const what = `storage failure ${i} (validator ${f.node}, at ${f.atMs} ms)`;
    honestValidator(what, f.node);
    time(what, 'atMs', f.atMs, { storageFailure: i, node: f.node });
  });

  cfg.partitions.forEach((p, i) => {
    const what = `partition ${i} (${p.startMs}..${p.endMs} ms)`;
    const data = { partition: i, startMs: p.startMs, endMs: p.endMs };
    time(what, 'startMs', p.startMs, data);
    time(what, 'endMs', p.endMs, data);
    if (p.endMs < p.startMs)
      throw new SimScheduleError(
        'SIM_BAD_PARTITION',
        `${what}: it ends at ${p.endMs} ms, before it starts at ${p.startMs} ms`,
        data,
      );
    if (p.groupOf.length !== nodes)
      throw new SimScheduleError(
        'SIM_BAD_PARTITION',
        `${what}: groupOf has ${p.groupOf.length} entries, the simulation has ${nodes} nodes (validators, then Twins)`,
        { ...data, groups: p.groupOf.length, nodes },
      );
  });
}
