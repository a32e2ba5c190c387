/**
 * Storage faults on the real CLI (issue #25 items 1 and 9): a node whose WAL is damaged in the middle
 * refuses to start with the recovery command, `ordo wal repair` brings it back; a node whose database
 * lost a block refuses to start naming the heights, and `ordo store verify` reports them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.ts';
import { blockKey } from '../../src/store/keys.ts';
import { killAll, killNode, ordoSync, rpc, startNode, waitFor } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordo-e2e-storage-'));
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

function initHome(name: string): string {
  const home = join(dir, name);
  const r = ordoSync([
    'init',
    '--home',
    home,
    '--rpc',
    '127.0.0.1:0',
    '--grpc',
    '127.0.0.1:0',
    '--p2p',
    '/ip4/127.0.0.1/tcp/0',
  ]);
  expect(r.status, r.stderr).toBe(0);
  return home;
}

async function runUntilHeight(home: string, height: number): Promise<number> {
  const node = await startNode(home);
  for (let i = 0; i < 10; i++) {
    await rpc(node.rpcUrl, 'ordo_submitTransaction', [
      { namespace: 1, data: `0x${(0xa0 + i).toString(16)}` },
    ]);
  }
  const h = await waitFor('height', async () => {
    const s = (await rpc(node.rpcUrl, 'ordo_status', [])) as { height: number };
    return s.height >= height ? s.height : undefined;
  });
  await killNode(node, 'SIGTERM');
  return h;
}

describe('storage faults (real process)', () => {
  it('a WAL damaged in the middle: start refuses with the recovery command; wal repair brings it back', async () => {
    const home = initHome('wal');
    const before = await runUntilHeight(home, 3);
    const path = join(home, 'data', 'wal', 'cs.wal');
    const b = readFileSync(path);
    expect(b.length).toBeGreaterThan(200);
    b.writeUInt32BE(0xfffffff0, 8); // the first record's length: garbage, with intact records after it
    writeFileSync(path, b);

    const refused = ordoSync(['start', '--home', home]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('WAL_CORRUPT');
    expect(refused.stderr).toContain('offset 8');
    expect(refused.stderr).toContain('ordo wal repair --home');

    const inspect = ordoSync(['wal', 'inspect', '--home', home]);
    expect(inspect.status).toBe(3);
    expect(inspect.stdout).toContain('damage at byte offset 8');
    const repair = ordoSync(['wal', 'repair', '--home', home]);
    expect(repair.status, repair.stderr).toBe(0);
    expect(repair.stdout).toContain('original is kept at');

    const node = await startNode(home);
    await waitFor('progress after repair', async () => {
      const s = (await rpc(node.rpcUrl, 'ordo_status', [])) as { height: number };
      return s.height > before ? true : undefined;
    });
    await killNode(node, 'SIGTERM');
    expect(node.proc.exitCode).toBe(0);
  });

  it('a database that lost a block: start refuses naming the height; store verify reports it', async () => {
    const home = initHome('db');
    const h = await runUntilHeight(home, 4);
    // Simulate the damage a broken table file does: block 2's entry vanishes.
    const store = await openStore({ path: join(home, 'data', 'db') });
    await store.writeBatch([{ key: blockKey(2), value: undefined }]);
    await store.close();

    const refused = ordoSync(['start', '--home', home]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('STORE_CORRUPT');
    expect(refused.stderr).toContain(`1 of ${h} heights (2)`);
    expect(refused.stderr).toContain('ordo store verify --home');

    const verify = ordoSync(['store', 'verify', '--home', home]);
    expect(verify.status).toBe(3);
    expect(verify.stdout).toContain('height 2: block missing');
  });
});
