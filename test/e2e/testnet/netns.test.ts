/**
 * The testnet in network namespaces (`ordo testnet up --netns`, testnet/netns.ts), end to end on real
 * processes: four validators, each in a namespace of its own; one is partitioned by dropping its
 * packets (iptables in its namespace), the other three go on deciding while its JSON-RPC still answers
 * from the root namespace, and after the heal it catches up and the chains are identical. Every
 * namespace and link is gone afterwards. Skipped, with the reason, where namespaces cannot be made
 * (not root, no `ip` or `iptables`): there the testnet falls back to admin-RPC partitions.
 * No timing assertion: the waits are bounded, the recovery time is only printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rpcCall } from '../../../src/rpc/index.ts';
import { listOrdoNetns, probeNetns } from '../../../testnet/netns.ts';
import { Testnet } from '../../../testnet/orchestrator.ts';
import { checkSafety } from '../../../testnet/safety.ts';
import { killMatching, waitFor, withTestnetLock } from './helpers.ts';

const probe = probeNetns();
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) {
    killMatching(d);
    rmSync(d, { recursive: true, force: true });
  }
});

async function height(rpc: string): Promise<number> {
  return Number(((await rpcCall(rpc, 'ordo_status', [], 2000)) as { height?: number }).height ?? 0);
}

const ours = (): string[] => listOrdoNetns().filter((n) => n.includes(String(process.pid)));

describe.skipIf(!probe.ok)(
  `ordo testnet --netns${probe.ok ? '' : ` (skipped: ${probe.ok ? '' : probe.reason})`}`,
  () => {
    it(
      'partitions a node by dropping its packets between namespaces; it catches up after the heal and no namespace is left',
      () =>
        withTestnetLock(async () => {
          const dir = mkdtempSync(join(tmpdir(), 'ordo-netns-e2e-'));
          dirs.push(dir);
          const lines: string[] = [];
          const t = await Testnet.up({
            dir,
            validators: 4,
            fullNodes: 0,
            rollups: 3,
            basePort: 26600,
            load: 0,
            sizeBytes: 200,
            dashboardPort: 0,
            netns: true,
            out: (l) => lines.push(l),
          });
          try {
            expect(t.partitionMode).toBe('netns');
            expect(ours().length).toBeGreaterThanOrEqual(6); // hub + 4 nodes + the root-side link
            const [n0, , , n3] = t.nodes;
            expect(n3!.rpc).toMatch(/^http:\/\/10\.213\.[0-9]+\.13:/);

            await t.control('partition', ['node3']);
            const cut = await height(n3!.rpc);
            // The other three keep deciding without node3.
            await waitFor(
              async () => (await height(n0!.rpc)) >= cut + 5,
              60_000,
              'node0 to pass the cut by 5',
            );
            // node3 is cut off (at most a block that was in flight), yet its RPC answers from here.
            expect(await height(n3!.rpc)).toBeLessThanOrEqual(cut + 1);

            await t.control('heal', []);
            const healedAt = Date.now();
            const target = (await height(n0!.rpc)) + 1;
            await waitFor(async () => (await height(n3!.rpc)) >= target, 90_000, `node3 to reach ${target}`);
            process.stdout.write(
              `netns partition: node3 cut at ${cut}, back at ${target} ${Date.now() - healedAt} ms after the heal\n`,
            );
            const s = await checkSafety(t.nodes.map((n) => ({ id: n.id, rpc: n.rpc })));
            expect(s.conflictingCommits).toBe(0);
            expect(s.checkedHeights).toBeGreaterThanOrEqual(target);
          } finally {
            await t.shutdown();
          }
          expect(ours()).toEqual([]);
        }),
      240_000,
    );
  },
);
