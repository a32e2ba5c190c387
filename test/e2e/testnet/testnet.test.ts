/**
 * `ordo testnet` end to end, with real node processes on loopback:
 *  - `up --duration` runs, writes a complete report with a safety check, and leaves no process behind;
 *  - one node killed (SIGKILL) and restarted during load: no conflicting commits, the node catches up.
 * Kept short (3-4 validators, ~15-30 s of chain time) for this 2-core machine.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rpcCall } from '../../../src/rpc/client.ts';
import type { TestnetReport } from '../../../testnet/orchestrator.ts';
import { readState } from '../../../testnet/state.ts';
import { freeBasePort, killMatching, pidsMatching, runOrdo, waitFor, withTestnetLock } from './helpers.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ordo-testnet-e2e-'));
  dirs.push(d);
  return d;
}

afterAll(() => {
  for (const d of dirs) {
    killMatching(d);
    rmSync(d, { recursive: true, force: true });
  }
});

describe('ordo testnet up', () => {
  it(
    'runs for --duration, writes the report and leaves no process behind',
    () =>
      withTestnetLock(async () => {
        const dir = tempDir();
        const report = join(dir, 'report.json');
        const base = await freeBasePort(3);
        const run = runOrdo([
          'testnet',
          'up',
          '--validators',
          '3',
          '--load',
          '100',
          '--load-namespaces',
          '1',
          '--duration',
          '12',
          '--report',
          report,
          '--dashboard',
          '0',
          '--base-port',
          String(base),
          '--dir',
          dir,
        ]);
        const code = await run.exited;
        expect(code, run.out()).toBe(0);
        expect(run.out()).toMatch(/testnet ordo-testnet is up: 3 nodes/);
        expect(run.out()).toMatch(new RegExp(`rpc http://127.0.0.1:${base}`));
        expect(run.out()).toMatch(/dashboard http:\/\/127\.0\.0\.1:\d+/);
        const r = JSON.parse(readFileSync(report, 'utf8')) as TestnetReport;
        expect(r.validators).toBe(3);
        expect(r.durationSec).toBeGreaterThan(10);
        expect(r.offeredTxPerSec).toBe(100);
        expect(r.committedTxs).toBeGreaterThan(0);
        expect(r.txPerSec).toBeGreaterThan(0);
        expect(r.latencyMs.p50).toBeGreaterThan(0);
        expect(r.latencyMs.p99).toBeGreaterThanOrEqual(r.latencyMs.p50);
        expect(r.nodes.map((n) => n.id)).toEqual(['node0', 'node1', 'node2']);
        for (const n of r.nodes) {
          expect(n.height).toBeGreaterThan(0);
          expect(n.headHash).toMatch(/^0x[0-9a-f]{64}$/);
        }
        expect(r.safety.checkedHeights).toBeGreaterThan(0);
        expect(r.safety.conflictingCommits).toBe(0);
        // The default bundle load (2/s with load): followed, and every leg read back for atomicity.
        expect(r.bundles?.offeredPerSec).toBe(2);
        expect(r.bundles?.accepted).toBeGreaterThan(0);
        expect(r.bundles?.atomicity?.bundles).toBeGreaterThan(0);
        expect(r.bundles?.atomicity?.unreadLegs).toBe(0);
        expect(r.bundles?.atomicity?.violations).toBe(0);
        expect(run.out()).toMatch(/bundles: 2\/s signed/);
        expect(existsSync(join(dir, 'testnet.json'))).toBe(false);
        expect(pidsMatching(dir)).toEqual([]);
      }),
    420_000,
  );

  it(
    'survives a node killed and restarted under load: no conflicting commits, the node catches up',
    () =>
      withTestnetLock(async () => {
        const dir = tempDir();
        const report = join(dir, 'report.json');
        const base = await freeBasePort(4);
        const run = runOrdo([
          'testnet',
          'up',
          '--validators',
          '4',
          '--load',
          '100',
          '--load-namespaces',
          '1',
          '--duration',
          '30',
          '--report',
          report,
          '--dashboard',
          '0',
          '--base-port',
          String(base),
          '--dir',
          dir,
        ]);
        try {
          const node1 = await waitFor(
            () => {
              const s = readState(dir);
              return s?.nodes.every((n) => n.state === 'running') ? s.nodes[1] : undefined;
            },
            60_000,
            'all nodes running',
          );
          const height = async (): Promise<number> =>
            ((await rpcCall(node1.rpc, 'ordo_status', [], 2000)) as { height: number }).height;
          await waitFor(async () => ((await height()) >= 3 ? true : undefined), 60_000, 'height 3');

          const kill = runOrdo(['testnet', 'kill', 'node1', '--dir', dir]);
          expect(await kill.exited, kill.out()).toBe(0);
          expect(kill.out()).toMatch(/killed node1/);
          const node1Pid = node1.pid;
          expect(
            node1Pid !== null && pidsMatching(`${join(dir, 'nodes', 'node1')}\0`).includes(node1Pid),
          ).toBe(false);

          // The other three (> 2/3 of the power) keep committing.
          const other = readState(dir)!.nodes[0]!;
          const h0 = ((await rpcCall(other.rpc, 'ordo_status', [], 2000)) as { height: number }).height;
          await waitFor(
            async () =>
              ((await rpcCall(other.rpc, 'ordo_status', [], 2000)) as { height: number }).height > h0 + 2
                ? true
                : undefined,
            20_000,
            'the remaining validators to commit',
          );

          const restart = runOrdo(['testnet', 'restart', 'node1', '--dir', dir]);
          expect(await restart.exited, restart.out()).toBe(0);
          // Caught up: node1 reaches the height the others had when it came back.
          const target = ((await rpcCall(other.rpc, 'ordo_status', [], 2000)) as { height: number }).height;
          await waitFor(
            async () => ((await height()) >= target ? true : undefined),
            20_000,
            `node1 to reach ${target}`,
          );
        } finally {
          const code = await run.exited;
          expect(code, run.out()).toBe(0);
        }
        const r = JSON.parse(readFileSync(report, 'utf8')) as TestnetReport;
        expect(r.safety.conflictingCommits).toBe(0);
        expect(r.safety.checkedHeights).toBeGreaterThan(0);
        expect(r.faults.map((f) => f.action)).toEqual(['kill', 'restart']);
        const heights = r.nodes.map((n) => n.height ?? 0);
        expect(Math.min(...heights)).toBeGreaterThan(0);
        expect(pidsMatching(dir)).toEqual([]);
      }),
    420_000,
  );
});
