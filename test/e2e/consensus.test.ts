/**
 * Issue 4's multi-process e2e: 4 validators as real OS processes on loopback. Kill -9 one → the rest
 * keep committing; restart it → it catches up to identical block hashes; stop 2 of 4 → no progress and
 * no fork; bring them back → progress resumes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreeBasePort, type NetworkLayout, setupNetwork } from '../../testnet/setup.ts';
import { killAll, killNode, type RunningNode, rpc, startNode, waitFor } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordo-e2e-consensus-'));
let layout: NetworkLayout;
const running = new Map<number, RunningNode>();

const height = async (i: number): Promise<number> =>
  ((await rpc(running.get(i)!.rpcUrl, 'ordo_status', [], 5000)) as { height: number }).height;
const hashAt = async (i: number, h: number): Promise<string | undefined> =>
  ((await rpc(running.get(i)!.rpcUrl, 'ordo_getBlock', [h], 5000)) as { hash: string } | null)?.hash;

async function start(i: number): Promise<void> {
  running.set(i, await startNode(layout.nodes[i]!.home, {}, 60_000));
}

async function stop(i: number): Promise<void> {
  await killNode(running.get(i)!, 'SIGKILL');
  running.delete(i);
}

async function waitHeight(i: number, atLeast: number, timeoutMs = 60_000): Promise<number> {
  return waitFor(
    `node${i} height >= ${atLeast}`,
    async () => {
      const h = await height(i);
      return h >= atLeast ? h : undefined;
    },
    timeoutMs,
    200,
  );
}

/** Every pair of running nodes agrees on every height both have, up to `upTo`. */
async function expectNoFork(upTo: number): Promise<void> {
  const ids = [...running.keys()];
  for (let h = 1; h <= upTo; h++) {
    const hashes = new Set<string>();
    for (const i of ids) {
      const x = await hashAt(i, h);
      if (x !== undefined) hashes.add(x);
    }
    expect(hashes.size, `conflicting blocks at height ${h}`).toBeLessThanOrEqual(1);
  }
}

beforeAll(async () => {
  const basePort = await findFreeBasePort(4);
  layout = await setupNetwork({
    dir,
    validators: 4,
    fullNodes: 0,
    rollups: 3,
    basePort,
    chainId: 'e2e-consensus',
    config: { log: { level: 'warn' } },
  });
  await Promise.all([0, 1, 2, 3].map(start));
}, 120_000);

afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('4 validators as OS processes', () => {
  it('commit, survive a kill -9, catch up after restart, halt without a quorum, resume', async () => {
    await waitHeight(0, 3);
    await rpc(running.get(0)!.rpcUrl, 'ordo_submitTransaction', [{ namespace: 1, data: '0xc0ffee' }]);

    // kill -9 one validator: the other three (3/4 > 2/3) keep committing
    await stop(3);
    const h0 = await height(0);
    await waitHeight(1, h0 + 3);

    // restart it: it catches up to identical hashes
    await start(3);
    const target = await height(0);
    await waitHeight(3, target, 90_000);
    await expectNoFork(target);

    // stop 2 of 4: no quorum, so no progress (at most one in-flight commit) and no fork
    await stop(2);
    await stop(3);
    await new Promise((r) => setTimeout(r, 1500));
    const stalled = Math.max(await height(0), await height(1));
    await new Promise((r) => setTimeout(r, 4000));
    expect(Math.max(await height(0), await height(1))).toBeLessThanOrEqual(stalled + 1);
    await expectNoFork(stalled + 1);

    // bring them back: progress resumes and everyone agrees
    await start(2);
    await start(3);
    const resumed = await waitHeight(0, stalled + 3, 90_000);
    for (const i of [1, 2, 3]) await waitHeight(i, resumed, 90_000);
    await expectNoFork(resumed);
  }, 400_000);
});
