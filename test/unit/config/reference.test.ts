/**
 * The generated config reference (docs/config.md) stays complete and current, and `ordo config
 * validate` names the bad key, the value found and what is allowed, on bad files.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../src/config/config.ts';
import { demoAuction, demoRollups, validateGenesis } from '../../../src/config/index.ts';
import { CONFIG_DESCRIPTIONS, configReference } from '../../../src/config/reference.ts';

const REPO = new URL('../../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'ordo-config-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function validate(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [join(REPO, 'bin', 'ordo.js'), 'config', 'validate', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function configFile(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe('config reference', () => {
  it('describes every key, and only existing keys', () => {
    const keys = Object.entries(DEFAULT_CONFIG).flatMap(([s, v]) => Object.keys(v).map((k) => `${s}.${k}`));
    expect(keys.filter((k) => CONFIG_DESCRIPTIONS[k] === undefined)).toEqual([]);
    expect(Object.keys(CONFIG_DESCRIPTIONS).filter((k) => !keys.includes(k))).toEqual([]);
  });

  it('docs/config.md is the current generated reference (regenerate: ordo config reference > docs/config.md)', () => {
    expect(readFileSync(join(REPO, 'docs', 'config.md'), 'utf8')).toBe(configReference());
  });

  it('shows defaults and what is allowed', () => {
    const md = configReference();
    expect(md).toContain('"listen": "127.0.0.1:8545"');
    expect(md).toContain(
      '// allowed: one of "leveldb", "lmdb"'.replace('"leveldb", "lmdb"', '"lmdb", "leveldb"'),
    );
    expect(md).toContain('// allowed: integer 1,024..67,108,864');
  });
});

describe('ordo config validate', () => {
  it('accepts a good file and a partial one (defaults fill the rest)', () => {
    expect(validate(['--file', configFile('good.json', '{"rpc":{"listen":"127.0.0.1:9000"}}')]).status).toBe(
      0,
    );
    expect(validate(['--file', configFile('empty.json', '{}')]).status).toBe(0);
  });

  it('names the bad key, its value and what is allowed', () => {
    const r = validate([
      '--file',
      configFile(
        'bad.json',
        '{"rpc":{"listen":"8545"},"store":{"engine":"sqlite"},"consensus":{"maxBlockTxs":0}}',
      ),
    ]);
    expect(r.status).toBe(1);
    expect(r.out).toContain('rpc.listen: expected host:port, e.g. 127.0.0.1:8545 (got "8545")');
    expect(r.out).toMatch(/store\.engine: .*"lmdb".*"leveldb".* \(got "sqlite"\)/);
    expect(r.out).toMatch(/consensus\.maxBlockTxs: .*>=1 \(got 0\)/);
  });

  it('names an unknown (misspelt) key', () => {
    const r = validate(['--file', configFile('typo.json', '{"rpc":{"listn":"127.0.0.1:1"}}')]);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/rpc: Unrecognized key: "listn"/);
  });

  it('says when the file is not JSON, or missing', () => {
    const r = validate(['--file', configFile('broken.json', '{"rpc": {')]);
    expect(r.status).toBe(1);
    expect(r.out).toContain('is not valid JSON');
    const m = validate(['--home', join(dir, 'no-such-home')]);
    expect(m.status).toBe(1);
    expect(m.out).toContain(`cannot read config file ${join(dir, 'no-such-home', 'config.json')}`);
  });

  it('checks the genesis next to the config in a home, naming the validator key field', () => {
    const home = join(dir, 'home');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'config.json'), '{}');
    const genesis = {
      chainId: 'c',
      genesisTimeMs: 0,
      validators: [{ name: 'v', publicKey: '0xabc', votingPower: 1 }],
      rollups: [
        {
          namespace: 1,
          name: 'r',
          kind: 'opaque',
          weight: 1,
          maxTxBytes: 1,
          maxPendingTxs: 1,
          maxPendingBytes: 1,
        },
      ],
    };
    writeFileSync(join(home, 'genesis.json'), JSON.stringify(genesis));
    const r = validate(['--home', home]);
    expect(r.status).toBe(1);
    expect(r.out).toContain('ok: ');
    expect(r.out).toContain('validators.0.publicKey: expected 32 bytes as 64 hex characters (got "0xabc")');
  });

  it('checks the config against the genesis: blocks too small for the auction top budget', () => {
    const home = join(dir, 'home-auction');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'config.json'), '{"consensus":{"maxBlockBytes":65536}}');
    const genesis = validateGenesis({
      chainId: 'c',
      genesisTimeMs: 0,
      validators: [{ name: 'v', publicKey: 'ab'.repeat(32), votingPower: 1 }],
      rollups: demoRollups(),
      auction: demoAuction(demoRollups()),
    });
    writeFileSync(join(home, 'genesis.json'), JSON.stringify(genesis));
    const r = validate(['--home', home]);
    expect(r.status).toBe(1);
    expect(r.out).toContain(`ok: ${join(home, 'genesis.json')}`);
    expect(r.out).toMatch(/consensus\.maxBlockBytes: 65536 leaves 63488 bytes .*\(auction\.maxTopBytes\)/);
  });
});
