import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.ts';
import { DEMO_ACCOUNTS, DEMO_BUNDLE_ACCOUNTS } from '../../../src/config/demo-accounts.ts';
import { auctionSetupOf, loadGenesis } from '../../../src/config/genesis.ts';
import { checkSafety } from '../../../testnet/safety.ts';
import { checkPortFree, findFreeBasePort, setupNetwork, testnetRollups } from '../../../testnet/setup.ts';
import { FakeNode } from '../../../testnet/testing/fake-node.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('testnet layout', () => {
  it('writes one genesis with every validator to every home and full-mesh bootstrap lists', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ordo-setup-'));
    dirs.push(dir);
    const net = await setupNetwork({ dir, validators: 3, fullNodes: 1, rollups: 5, basePort: 40000 });
    expect(net.nodes.map((n) => n.id)).toEqual(['node0', 'node1', 'node2', 'full0']);
    const text = readFileSync(join(dir, 'genesis.json'), 'utf8');
    for (const n of net.nodes) {
      expect(readFileSync(join(n.home, 'genesis.json'), 'utf8')).toBe(text);
      const cfg = loadConfig(join(n.home, 'config.json'));
      expect(cfg.node.mode).toBe(n.role);
      expect(cfg.rpc.listen).toBe(`127.0.0.1:${n.rpcPort}`);
      expect(cfg.p2p.bootstrap).toHaveLength(3);
      expect(cfg.p2p.bootstrap).not.toContain(n.p2p);
      expect(n.p2p).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/${n.p2pPort}/p2p/12D3KooW`));
    }
    expect(net.nodes[1]!.rpcPort).toBe(40010);
    const g = loadGenesis(join(dir, 'genesis.json'));
    expect(g.validators.map((v) => v.name)).toEqual(['node0', 'node1', 'node2']);
    expect(g.rollups.map((r) => r.kind)).toEqual(['opaque', 'transfer', 'evm', 'evm', 'opaque']);
    // The demo accounts are funded on every executed rollup.
    // The background load's demo accounts and the bundle senders' (ADR 0175), on every executed rollup.
    for (const r of g.rollups.filter((x) => x.kind !== 'opaque'))
      expect(r.alloc?.length).toBe(DEMO_ACCOUNTS + DEMO_BUNDLE_ACCOUNTS);
    expect(testnetRollups(3).map((r) => r.kind)).toEqual(['opaque', 'transfer', 'evm']);
  });

  it('enables the demo auction in genesis unless noAuction (--no-auction) leaves the section out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ordo-setup-'));
    dirs.push(dir);
    await setupNetwork({ dir, validators: 1, fullNodes: 0, rollups: 3, basePort: 40100 });
    expect(auctionSetupOf(loadGenesis(join(dir, 'genesis.json')))).toBeDefined();
    await setupNetwork({ dir, validators: 1, fullNodes: 0, rollups: 3, basePort: 40100, noAuction: true });
    const g = loadGenesis(join(dir, 'genesis.json'));
    expect(g.auction).toBeUndefined();
    expect(auctionSetupOf(g)).toBeUndefined();
  });

  it('needs at least the three demo rollups', () => {
    expect(() => testnetRollups(2)).toThrow(/--rollups must be >= 3/);
  });

  it('names a port in use and what it was for', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    await expect(checkPortFree(port, 'node 0 JSON-RPC')).rejects.toThrow(
      new RegExp(`port ${port} \\(node 0 JSON-RPC\\) is not free`),
    );
    await new Promise<void>((r) => srv.close(() => r()));
    await expect(checkPortFree(port, 'x')).resolves.toBeUndefined();
    // Outside Linux's ephemeral range (32768+), where outgoing connections take ports.
    const base = await findFreeBasePort(2);
    expect(base).toBeGreaterThanOrEqual(20000);
    expect(base + 2 * 10).toBeLessThanOrEqual(32768);
  });
});

describe('safety check', () => {
  const nodes: FakeNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
  });

  async function fakes(salts: string[]): Promise<FakeNode[]> {
    const out = salts.map((hashSalt) => new FakeNode({ blockMs: 100_000, hashSalt }));
    nodes.push(...out);
    await Promise.all(out.map((n) => n.start()));
    return out;
  }

  it('compares every shared height and finds none conflicting on agreeing nodes', async () => {
    const [a, b] = await fakes(['', '']);
    for (let i = 0; i < 30; i++) a!.commit();
    for (let i = 0; i < 28; i++) b!.commit();
    const r = await checkSafety([
      { id: 'a', rpc: a!.url },
      { id: 'b', rpc: b!.url },
      { id: 'dead', rpc: 'http://127.0.0.1:1' },
    ]);
    expect(r.checkedHeights).toBe(28);
    expect(r.conflictingCommits).toBe(0);
    expect(r.nodes.find((n) => n.id === 'a')).toMatchObject({ height: 30, headHash: a!.blocks[29]!.hash });
    expect(r.nodes.find((n) => n.id === 'dead')?.error).toBeDefined();
  });

  it('reports heights where nodes committed different blocks', async () => {
    const [a, b] = await fakes(['', '-fork']);
    for (let i = 0; i < 3; i++) {
      a!.commit();
      b!.commit();
    }
    const r = await checkSafety([
      { id: 'a', rpc: a!.url },
      { id: 'b', rpc: b!.url },
    ]);
    expect(r.checkedHeights).toBe(3);
    expect(r.conflictingCommits).toBe(3);
    expect(Object.keys(r.conflicts[0]!.hashes)).toEqual(['a', 'b']);
  });
});
