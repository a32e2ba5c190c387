/**
 * Storage faults on the real CLI (issue #25 items 1 and 9): a node whose WAL is damaged in the middle
 * refuses to start with the recovery command, `ordo wal repair` brings it back; a node whose database
 * lost a block refuses to start naming the heights when it has no peer, and `ordo store verify` reports
 * them; a validator of a 4-node testnet whose database lost blocks and has a value failing its checksum
 * re-fetches those heights from its peers at start (ADR 0145), serves the same blocks as the others and
 * catches up.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.ts';
import { blockKey, certKey } from '../../src/store/keys.ts';
import { readState } from '../../testnet/state.ts';
import { initLoopbackHome, killAll, killNode, ordoSync, rpc, startNode, waitFor } from './harness.ts';
import {
  freeBasePort,
  killMatching,
  pidsMatching,
  runOrdo,
  waitFor as waitUntil,
  withTestnetLock,
} from './testnet/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordo-e2e-storage-'));
afterAll(() => {
  killAll();
  killMatching(dir);
  rmSync(dir, { recursive: true, force: true });
});

function initHome(name: string): string {
  const home = join(dir, name);
  const r = initLoopbackHome(home);
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

  it(
    'a validator whose database lost blocks re-fetches them from its peers at start and serves the same chain',
    () =>
      withTestnetLock(async () => {
        const tdir = join(dir, 'testnet');
        const base = await freeBasePort(4);
        const run = runOrdo([
          'testnet',
          'up',
          '--validators',
          '4',
          '--load',
          '20',
          '--load-namespaces',
          '1',
          '--duration',
          '60',
          '--dashboard',
          '0',
          '--base-port',
          String(base),
          '--dir',
          tdir,
        ]);
        try {
          const nodes = await waitUntil(
            () => {
              const s = readState(tdir);
              return s?.nodes.every((n) => n.state === 'running') ? s.nodes : undefined;
            },
            60_000,
            'all nodes running',
          );
          const [node0, , , node3] = nodes;
          const height = async (url: string): Promise<number> =>
            ((await rpc(url, 'ordo_status', [])) as { height: number }).height;
          await waitUntil(
            async () => ((await height(node3!.rpc)) >= 8 ? true : undefined),
            60_000,
            'height 8',
          );
          const kill = runOrdo(['testnet', 'kill', 'node3', '--dir', tdir]);
          expect(await kill.exited, kill.out()).toBe(0);

          // Damage node3's database: blocks 2 and 3 vanish, certificate 5 fails its checksum.
          const db = join(node3!.home, 'data', 'db');
          const store = await openStore({ path: db });
          const head = store.height();
          await store.writeBatch([
            { key: blockKey(2), value: undefined },
            { key: blockKey(3), value: undefined },
            { key: certKey(5), value: new Uint8Array(120).fill(7) },
          ]);
          expect((await store.verify()).damagedHeights).toEqual([2, 3, 5]);
          await store.close();

          const restart = runOrdo(['testnet', 'restart', 'node3', '--dir', tdir]);
          expect(await restart.exited, restart.out()).toBe(0);
          const target = await height(node0!.rpc);
          await waitUntil(
            async () => ((await height(node3!.rpc)) >= Math.max(target, head) ? true : undefined),
            60_000,
            `node3 to reach ${target}`,
          );
          const log = readFileSync(join(node3!.home, 'node.log'), 'utf8');
          expect(log).toContain('store is damaged: the damaged heights will be re-fetched from peers');
          expect(log).toContain('store repaired');
          for (const h of [2, 3, 5]) {
            const mine = (await rpc(node3!.rpc, 'ordo_getBlock', [h, false])) as {
              hash: string;
              certificate: unknown;
            };
            const theirs = (await rpc(node0!.rpc, 'ordo_getBlock', [h, false])) as { hash: string };
            expect(mine.hash, `height ${h}`).toBe(theirs.hash);
            expect(mine.certificate).toBeTruthy();
          }
        } finally {
          run.proc.kill('SIGINT');
          await run.exited;
        }
        expect(pidsMatching(tdir)).toEqual([]);
      }),
    240_000,
  );
});
