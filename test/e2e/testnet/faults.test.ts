/**
 * `ordo testnet faults --short` end to end (CI's short form of the fault matrix, docs/testnet.md): four
 * real validator processes under load, one kill -9 + restart, one SIGSTOP + SIGCONT, one partition +
 * heal. Asserts what the matrix checks — every node recovered (within the matrix's bounded wait), no
 * conflicting block, every acknowledged transaction on every chain exactly once — and that no process
 * and no state file is left behind. Recovery times are reported, not asserted (no timing assertions:
 * the 20 s budget is the matrix's verdict, which a busy CI machine may miss).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FaultMatrixReport } from '../../../testnet/faults.ts';
import { killMatching, pidsMatching, runOrdo, withTestnetLock } from './helpers.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) {
    killMatching(d);
    rmSync(d, { recursive: true, force: true });
  }
});

describe('ordo testnet faults --short', () => {
  it(
    'recovers from a kill, a pause and a partition with identical chains and no acknowledged transaction lost or doubled',
    () =>
      withTestnetLock(async () => {
        const dir = mkdtempSync(join(tmpdir(), 'ordo-faults-e2e-'));
        dirs.push(dir);
        const report = join(dir, 'faults.json');
        const run = runOrdo([
          'testnet',
          'faults',
          '--short',
          '--fault-seconds',
          '3',
          '--load',
          '50',
          '--recovery-timeout',
          '45',
          '--report',
          report,
          '--dir',
          dir,
        ]);
        // Bounded: the run stops itself (every wait in it is bounded); a hang is killed here.
        const timer = setTimeout(() => run.proc.kill('SIGTERM'), 150_000);
        const code = await run.exited;
        clearTimeout(timer);
        expect([0, 1], run.out()).toContain(code);
        expect(run.out()).toMatch(/fault matrix (PASSED|FAILED): 3 cases run/);
        const r = JSON.parse(readFileSync(report, 'utf8')) as FaultMatrixReport;
        expect(r.cases.map((c) => c.steps[0]?.action)).toEqual(['kill', 'pause', 'partition']);
        for (const c of r.cases) {
          // Everything but the time budget must hold.
          expect(
            c.problems.filter((p) => !/budget/.test(p)),
            `${c.name}: ${c.problems.join('; ')}`,
          ).toEqual([]);
          expect(c.recovery?.maxMs, c.name).not.toBeNull();
          expect(c.safety?.conflictingCommits).toBe(0);
          expect(c.history).toMatchObject({
            missing: 0,
            duplicated: 0,
            heightMismatch: 0,
            chainDuplicates: 0,
          });
        }
        expect(r.final.problems).toEqual([]);
        expect(r.final.safety.conflictingCommits).toBe(0);
        expect(r.final.safety.checkedHeights).toBeGreaterThan(0);
        const h = r.final.history!;
        expect(h.acknowledged).toBeGreaterThan(0);
        expect(h).toMatchObject({ missing: 0, duplicated: 0, notYetVisible: 0 });
        expect(h.foundOnce).toBe(h.acknowledged);
        expect(existsSync(join(dir, 'testnet.json'))).toBe(false);
        expect(pidsMatching(dir)).toEqual([]);
      }),
    240_000,
  );
});
