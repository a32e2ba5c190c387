/**
 * Issue #25 item 10 on a real process: /health (liveness) and /ready (readiness) follow the chain, not
 * just the process. A validator whose genesis names a second validator that never comes online cannot
 * commit: /health turns 503 NOT_ADVANCING once health.maxBlockAgeMs has passed, and /ready says why
 * (not advancing, too few peers for a quorum), while a committing node answers 200 (limits.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demoRollups, makeGenesis } from '../../src/config/genesis.ts';
import { ed25519Signer } from '../../src/consensus/index.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { initLoopbackHome, killAll, killNode, startNode, waitFor } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordo-e2e-health-'));
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('/health and /ready on a real node (issue #25)', () => {
  it('report a chain that does not advance, with the reason', async () => {
    const home = join(dir, 'n0');
    const r = initLoopbackHome(home);
    expect(r.status, r.stderr).toBe(0);
    const me = JSON.parse(readFileSync(join(home, 'keys', 'validator.json'), 'utf8')).publicKey as string;
    const absent = toHex(ed25519Signer(randomBytes(32)).publicKey);
    const genesis = makeGenesis({
      chainId: 'health-test',
      validators: [
        { name: 'me', publicKey: me },
        { name: 'absent', publicKey: absent },
      ],
      rollups: demoRollups(),
    });
    writeFileSync(join(home, 'genesis.json'), JSON.stringify(genesis, null, 2));
    const cfgPath = join(home, 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    cfg.health = { maxBlockAgeMs: 1000, readyMaxBlockAgeMs: 1000 };
    writeFileSync(cfgPath, JSON.stringify(cfg, null, 2));
    const node = await startNode(home);
    try {
      const live = await waitFor('/health to report the stall', async () => {
        const res = await fetch(`${node.rpcUrl}/health`);
        return res.status === 503 ? ((await res.json()) as Record<string, any>) : undefined;
      });
      expect(live).toMatchObject({ ok: false, kind: 'liveness', height: 0, failing: ['advancing'] });
      expect(live.checks.advancing.code).toBe('NOT_ADVANCING');
      expect(live.checks.advancing.reason).toMatch(/health\.maxBlockAgeMs/);
      const ready = await fetch(`${node.rpcUrl}/ready`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as Record<string, any>;
      expect(body.failing).toEqual(expect.arrayContaining(['advancing', 'peers']));
      expect(body.checks.peers.code).toBe('TOO_FEW_PEERS');
    } finally {
      await killNode(node, 'SIGTERM');
    }
  });
});
