/**
 * The container deployment without a Docker daemon (.ci/run runs the real thing where one exists):
 * the compose init ceremony writes four valid homes that bootstrap from each other by service name,
 * with 0600 keys, idempotently; compose.yaml, prometheus.yml, the Dockerfile and the Grafana dashboard
 * agree with it and with the metric names the nodes register.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.ts';
import { loadGenesis } from '../../../src/config/genesis.ts';
import { homePaths } from '../../../src/node/home.ts';
import { loadKeyFile } from '../../../src/node/keys.ts';
import { composeInit } from '../../../testnet/compose-init.ts';

const REPO = new URL('../../..', import.meta.url).pathname;
const read = (p: string): string => readFileSync(join(REPO, p), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'ordo-compose-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('compose testnet', () => {
  it('init creates four validator homes that find each other by service name', async () => {
    expect(await composeInit({ out: dir, nodes: 4, chainId: 'ordo-compose' })).toBe(true);
    const genesis = loadGenesis(join(dir, 'genesis.json'));
    expect(genesis.validators.map((v) => v.name)).toEqual(['node0', 'node1', 'node2', 'node3']);
    for (let i = 0; i < 4; i++) {
      const p = homePaths(join(dir, `node${i}`));
      const c = loadConfig(p.config);
      expect(c.p2p.listen).toBe('/ip4/0.0.0.0/tcp/26656');
      expect(c.rpc.listen).toBe('0.0.0.0:8545');
      expect(c.p2p.bootstrap).toHaveLength(3);
      for (const b of c.p2p.bootstrap) expect(b).toMatch(/^\/dns4\/node[0-3]\/tcp\/26656\/p2p\/12D3Koo/);
      expect(c.p2p.bootstrap.some((b) => b.startsWith(`/dns4/node${i}/`))).toBe(false);
      expect(statSync(p.validatorKey).mode & 0o777).toBe(0o600);
      expect(genesis.validators[i]!.publicKey).toBe(
        Buffer.from(loadKeyFile(p.validatorKey).publicKey).toString('hex'),
      );
      expect(readFileSync(p.genesis, 'utf8')).toBe(readFileSync(join(dir, 'genesis.json'), 'utf8'));
    }
    // Every node names node0 by the same peer id: node0's own p2p identity.
    const idOf0 = (i: number) =>
      loadConfig(homePaths(join(dir, `node${i}`)).config)
        .p2p.bootstrap.find((b) => b.startsWith('/dns4/node0/'))!
        .split('/p2p/')[1];
    expect(new Set([idOf0(1), idOf0(2), idOf0(3)]).size).toBe(1);
  });

  it('init is idempotent: a second run keeps the existing chain', async () => {
    const before = readFileSync(join(dir, 'genesis.json'), 'utf8');
    expect(await composeInit({ out: dir, nodes: 4, chainId: 'ordo-compose' })).toBe(false);
    expect(readFileSync(join(dir, 'genesis.json'), 'utf8')).toBe(before);
  });

  it('compose.yaml starts init, four nodes on their homes, Prometheus and Grafana', () => {
    const y = read('testnet/compose.yaml');
    for (const s of ['init', 'node0', 'node1', 'node2', 'node3', 'prometheus', 'grafana'])
      expect(y).toMatch(new RegExp(`^  ${s}:`, 'm'));
    for (let i = 0; i < 4; i++) expect(y).toContain(`"start", "--home", "/homes/node${i}"`);
    expect(y).toContain('condition: service_completed_successfully');
    expect(y).toContain('testnet/compose-init.ts');
    const prom = read('testnet/prometheus.yml');
    expect(prom).toContain('["node0:8545", "node1:8545", "node2:8545", "node3:8545"]');
  });

  it('the image runs as a non-root user and can install the workspace', () => {
    const d = read('testnet/Dockerfile');
    expect(d).toMatch(/^USER node$/m);
    expect(d).toContain('COPY packages/sdk/package.json');
    expect(d).toContain('chown node:node /data /homes');
  });

  it('the Grafana dashboard only queries metrics the nodes register', async () => {
    const dash = JSON.parse(read('testnet/grafana/dashboards/ordo.json')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const sources = readdirSync(join(REPO, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(join(REPO, 'src', f), 'utf8'))
      .join('\n');
    const used = new Set<string>();
    for (const p of dash.panels) {
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets)
        for (const m of t.expr.matchAll(/\bordo_[a-z0-9_]+/g))
          used.add(m[0].replace(/_(bucket|sum|count)$/, ''));
    }
    expect(used.size).toBeGreaterThan(8);
    // Node.js defaults under the prefix src/node/metrics.ts gives them, by their exact names (prom-client's
    // own `process_*` keep theirs: `ordo_process_process_resident_memory_bytes`).
    const defaults = new Registry();
    collectDefaultMetrics({ register: defaults, prefix: 'ordo_process_' });
    const defaultNames = new Set((await defaults.getMetricsAsJSON()).map((m) => m.name));
    expect(sources).toContain("prefix: 'ordo_process_'");
    const missing = [...used].filter((m) => !sources.includes(`'${m}'`) && !defaultNames.has(m));
    expect(missing).toEqual([]);
  });
});
