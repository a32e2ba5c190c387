/**
 * `ordo bid` end to end (issue #23): a real one-validator testnet (the testnet genesis enables the
 * auction and funds demo bidders 0..15) and the real CLI as OS processes. A deposit is credited, a lone
 * bid commits, reveals in its window and wins its slot at the reserve price (second price with nothing
 * displaced), `ordo bid outcome` shows it, and a withdrawal moves funds to pending. Skipped, with the
 * reason, when the node runs no auction (a genesis without `auction`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreeBasePort, setupNetwork } from '../../testnet/setup.ts';
import { killAll, ORDO, type RunningNode, startNode, waitFor } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordo-e2e-bid-'));
let node: RunningNode;
let enabled = false;

/** Run the CLI without blocking this process (the node answers it meanwhile). */
function ordo(
  args: string[],
  timeoutMs = 90_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [ORDO, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.once('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  const basePort = await findFreeBasePort(1);
  const layout = await setupNetwork({
    dir,
    validators: 1,
    fullNodes: 0,
    rollups: 4,
    basePort,
    chainId: 'e2e-bid',
    config: { log: { level: 'warn' } },
  });
  node = await startNode(layout.nodes[0]!.home, {}, 60_000);
  await waitFor('height 2', async () => {
    const r = await ordo(['bid', 'info', '--rpc', node.rpcUrl], 10_000);
    if (r.code !== 0) return undefined;
    const info = JSON.parse(r.stdout) as { head: number; enabled: boolean };
    enabled = info.enabled;
    return info.head >= 2 ? true : undefined;
  });
}, 120_000);

afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('ordo bid against a real node', () => {
  it('deposits, places a winning lone bid, reads the outcome and withdraws', async (ctx) => {
    if (!enabled) ctx.skip('the node runs no auction (its genesis has no enabled auction section)');
    const rpc = ['--rpc', node.rpcUrl];
    const before = JSON.parse((await ordo(['bid', 'account', '--demo', '5', ...rpc])).stdout) as {
      available: string;
    };
    const dep = await ordo(['bid', 'deposit', '--amount', '777', '--demo-authority', '--demo', '5', ...rpc]);
    expect(dep.code, dep.stderr).toBe(0);
    // The ledger applies a block right after it commits: poll until the deposit shows.
    const account = async () =>
      JSON.parse((await ordo(['bid', 'account', '--demo', '5', ...rpc], 10_000)).stdout) as {
        available: string;
        pendingWithdrawal: string;
        withdrawNonce: number;
      };
    await waitFor('the deposit credited', async () =>
      BigInt((await account()).available) === BigInt(before.available) + 777n ? true : undefined,
    );

    const place = await ordo(['bid', 'place', '--amount', '50000', '--demo-bundle', '--demo', '5', ...rpc]);
    expect(place.code, place.stderr).toBe(0);
    expect(place.stderr).toMatch(/commit sent[\s\S]*commit included[\s\S]*reveal sent[\s\S]*won/);
    const res = JSON.parse(place.stdout) as {
      slot: number;
      result: string;
      price: string;
      commitHeight: number;
      revealHeight: number;
    };
    const info = JSON.parse((await ordo(['bid', 'info', ...rpc])).stdout) as {
      params: { commitOffset: number; revealOffset: number };
      rollups: { namespace: number; reservePrice: string }[];
    };
    expect(res.result).toBe('won');
    // Alone in the slot: the price is the reserve of the bundle's rollup (the opaque rollup 1).
    expect(res.price).toBe(info.rollups.find((r) => r.namespace === 1)!.reservePrice);
    expect(res.commitHeight).toBeLessThanOrEqual(res.slot - info.params.commitOffset);
    expect(res.revealHeight).toBeLessThanOrEqual(res.slot - info.params.revealOffset);

    const outcome = JSON.parse((await ordo(['bid', 'outcome', String(res.slot), ...rpc])).stdout) as {
      resolved: boolean;
      winners: { namespace: number; price: string }[];
    };
    expect(outcome.resolved).toBe(true);
    expect(outcome.winners).toEqual([expect.objectContaining({ namespace: 1, price: res.price })]);

    const wd = await ordo(['bid', 'withdraw', '--amount', '100', '--demo', '5', ...rpc]);
    expect(wd.code, wd.stderr).toBe(0);
    const after = await waitFor('the withdrawal applied', async () => {
      const a = await account();
      return a.withdrawNonce === 1 ? a : undefined;
    });
    expect(after.withdrawNonce).toBe(1);
  }, 180_000);

  it('refuses a bid for a slot whose commit window closed, with the node’s code', async (ctx) => {
    if (!enabled) ctx.skip('the node runs no auction');
    const r = await ordo([
      'bid',
      'place',
      '--amount',
      '50000',
      '--demo-bundle',
      '--demo',
      '6',
      '--slot',
      '1',
      '--rpc',
      node.rpcUrl,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/BID_WINDOW_CLOSED.*commit window of slot 1 closed/);
  });
});
