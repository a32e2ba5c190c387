/**
 * The fault matrix reads a restarted node's start-up figures from the last `node started` line of its
 * log (testnet/faults.ts `lastStartup`): per-phase ms and CPU, or nothing when the line is missing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lastStartup } from '../../../testnet/faults.ts';

const home = mkdtempSync(join(tmpdir(), 'ordo-startup-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('lastStartup', () => {
  it('takes the latest "node started" line', () => {
    const line = (beforeStart: number, cpu: number): string =>
      JSON.stringify({
        level: 'info',
        msg: 'node started',
        startupMs: { beforeStart, store: 5 },
        startupCpuMs: cpu,
      });
    writeFileSync(
      join(home, 'node.log'),
      [
        line(100, 900),
        '{"msg":"committed block"}',
        'plain text',
        line(250, 1200),
        '{"msg":"committed block"}',
      ].join('\n'),
    );
    expect(lastStartup(home)).toEqual({ startupMs: { beforeStart: 250, store: 5 }, startupCpuMs: 1200 });
  });

  it('is empty without a log or a line', () => {
    expect(lastStartup(join(home, 'none'))).toEqual({ startupMs: {}, startupCpuMs: null });
    expect(lastStartup(undefined)).toEqual({ startupMs: {}, startupCpuMs: null });
  });
});
