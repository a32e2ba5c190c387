/**
 * `npm install` with whatever Node runs npm (the system's, often older than the Node 24 the project
 * installs for itself) must not warn that Ordo's own engine is unsupported (ADR 0081: `devEngines`).
 * The one known dependency warning (libp2p → p-retry@8 asks for Node 22) is allowed by name, so a new
 * one shows up here. Runs the real npm as a dry run of `npm ci` from the lockfile (no download).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordo-install-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Dependencies whose engine warning is known and harmless (the project runs on its own Node 24).
 * strip-json-comments (pino-pretty) is pinned to 5.0.3 by `overrides` in package.json: 5.1.0 asks for
 * Node 22 for no functional reason, and a second warning made a fresh install look broken.
 */
const KNOWN = ['p-retry'];

describe('npm install warnings', () => {
  it('no EBADENGINE for ordo itself; only known ones for dependencies', () => {
    for (const f of ['package.json', 'package-lock.json']) cpSync(join(REPO, f), join(dir, f));
    mkdirSync(join(dir, 'packages', 'sdk'), { recursive: true });
    cpSync(join(REPO, 'packages', 'sdk', 'package.json'), join(dir, 'packages', 'sdk', 'package.json'));
    // The PATH without node_modules/.bin: npm as a user runs it, on the system's Node.
    const path = (process.env.PATH ?? '')
      .split(':')
      .filter((p) => !p.includes('node_modules'))
      .join(':');
    const r = spawnSync('npm', ['ci', '--dry-run', '--offline', '--no-audit', '--no-fund'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, PATH: path, npm_config_loglevel: 'warn' },
    });
    const out = `${r.stdout}${r.stderr}`;
    expect(r.status, out).toBe(0);
    expect(out).not.toMatch(/package: 'ordo@/);
    const flagged = [...out.matchAll(/EBADENGINE\s+package: '(@?[^@']+)@/g)].map((m) => m[1]);
    expect(flagged.filter((p) => !KNOWN.includes(p!))).toEqual([]);
  });
});
