/**
 * Issue 2's end-to-end path: the real CLI as an OS process commits a submitted transaction, survives
 * SIGKILL, and after restart reports the transaction at the same height and index.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initLoopbackHome, killAll, killNode, ordoSync, rpc, startNode, waitFor } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordo-e2e-devnet-'));
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

function initHome(name: string): string {
  const home = join(dir, name);
  const r = initLoopbackHome(home);
  expect(r.status, r.stderr).toBe(0);
  return home;
}

describe('single-validator devnet (real process)', () => {
  it('commits a transaction and keeps it across kill -9 and restart', async () => {
    const home = initHome('n0');
    let node = await startNode(home);
    const { hash } = (await rpc(`${node.rpcUrl}/`, 'ordo_submitTransaction', [
      { namespace: 1, data: '0xdeadbeef' },
    ])) as { hash: string };
    const committed = await waitFor('commit', async () => {
      const s = (await rpc(node.rpcUrl, 'ordo_getTransactionStatus', [hash])) as {
        status: string;
        height?: number;
        index?: number;
      };
      return s.status === 'committed' ? s : undefined;
    });
    expect(committed.height).toBeGreaterThanOrEqual(1);
    const block = (await rpc(node.rpcUrl, 'ordo_getBlock', [committed.height])) as {
      txs: { hash: string; data: string }[];
    };
    expect(block.txs[committed.index!]).toMatchObject({ hash, data: '0xdeadbeef' });

    // a few more blocks, then SIGKILL mid-flight
    for (let i = 0; i < 20; i++) {
      await rpc(node.rpcUrl, 'ordo_submitTransaction', [
        { namespace: 1, data: `0x${(1000 + i).toString(16).padStart(8, '0')}` },
      ]);
    }
    const before = (await rpc(node.rpcUrl, 'ordo_status', [])) as { height: number };
    await killNode(node, 'SIGKILL');

    node = await startNode(home);
    const after = (await rpc(node.rpcUrl, 'ordo_status', [])) as { height: number };
    expect(after.height).toBeGreaterThanOrEqual(before.height);
    const again = (await rpc(node.rpcUrl, 'ordo_getTransactionStatus', [hash])) as {
      status: string;
      height: number;
      index: number;
    };
    expect(again).toEqual({ status: 'committed', height: committed.height, index: committed.index });
    // and it keeps committing
    await waitFor('progress after restart', async () => {
      const s = (await rpc(node.rpcUrl, 'ordo_status', [])) as { height: number };
      return s.height > after.height ? true : undefined;
    });
    await killNode(node, 'SIGTERM');
    expect(node.proc.exitCode).toBe(0);
  });

  it('refuses to start with a clear error for bad config, genesis or key files', () => {
    const home = initHome('bad');
    const cfgPath = join(home, 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    writeFileSync(cfgPath, JSON.stringify({ ...cfg, rpc: { ...cfg.rpc, listen: 'not-an-address' } }));
    let r = ordoSync(['start', '--home', home]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/config\.json is invalid:\s+rpc\.listen: expected host:port/);
    writeFileSync(cfgPath, JSON.stringify(cfg));

    const keyPath = join(home, 'keys', 'validator.json');
    writeFileSync(keyPath, '{"type":"ed25519"', { mode: 0o600 });
    r = ordoSync(['start', '--home', home]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(keyPath);
    expect(r.stderr).toMatch(/not valid JSON/);

    rmSync(keyPath);
    r = ordoSync(['start', '--home', home]);
    expect(r.stderr).toMatch(/KEY_MISSING.*validator\.json does not exist/);

    writeFileSync(join(home, 'genesis.json'), '{"chainId": 5}');
    r = ordoSync(['start', '--home', home]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/genesis\.json is invalid/);
  });

  it('prints usage for --help and unknown commands', () => {
    expect(ordoSync(['--help']).stdout).toMatch(/Usage: ordo <command>/);
    expect(ordoSync(['start', '--help']).stdout).toMatch(/--home DIR/);
    const r = ordoSync(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command "frobnicate"/);
    // --home is optional: the default is $ORDO_HOME, else ~/.ordo (test/e2e/cli.test.ts runs it).
    expect(ordoSync(['init', '--help']).stdout).toMatch(/ORDO_HOME, else ~\/\.ordo/);
  });
});
