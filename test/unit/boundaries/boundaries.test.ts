/**
 * The import rule (ADR 0079) catches what it should and lets through what it should, on a small tree
 * laid out in a temporary directory: a component folder nobody configured (src/ingress) reaching into
 * another's internals, a benchmark doing the same, a test doing it legitimately, and two components
 * importing each other only through their index.ts files (a component cycle without a module cycle).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const DEPCRUISE = join(ROOT, 'node_modules', '.bin', 'depcruise');

const FILES: Record<string, string> = {
  'tsconfig.json': JSON.stringify({
    compilerOptions: {
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      allowImportingTsExtensions: true,
      noEmit: true,
    },
  }),
  'src/types.ts': 'export type Namespace = number;\n',
  'src/cli/args.ts': 'export const parse = 1;\n',
  'src/cli/index.ts': "export { parse } from './args.ts';\n",
  // a new component: through another's index.ts is fine, past it is not
  'src/builder/index.ts': "import { parse } from '../cli/index.ts';\nexport const b = parse;\n",
  'src/ingress/index.ts': "import { parse } from '../cli/args.ts';\nexport const i = parse;\n",
  // tools use public surfaces only; tests may reach internals
  'bench/b.ts': "import { parse } from '../src/cli/args.ts';\nexport const x = parse;\n",
  'test/t.ts': "import { parse } from '../src/cli/args.ts';\nexport const y = parse;\n",
  // a component cycle through index files only: alpha -> beta/index, beta/user -> alpha/index
  'src/alpha/index.ts': "import { beta } from '../beta/index.ts';\nexport const alpha = beta + 1;\n",
  'src/beta/index.ts': 'export const beta = 1;\n',
  'src/beta/user.ts': "import { alpha } from '../alpha/index.ts';\nexport const u = alpha;\n",
};

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

function depcruise(dir: string, config: string, paths: string[]): Violation[] {
  const r = spawnSync(
    DEPCRUISE,
    [...paths, '--config', join(ROOT, config), '--output-type', 'json', '--no-progress'],
    {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  if (r.error) throw r.error;
  const out = JSON.parse(r.stdout) as { summary: { violations: Violation[] } };
  return out.summary.violations;
}

describe('module boundaries (dependency-cruiser)', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ordo-bounds-'));
    for (const [path, text] of Object.entries(FILES)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('forbids reaching past index.ts from any component and from tools, not from tests', () => {
    const v = depcruise(dir, '.dependency-cruiser.cjs', ['src', 'bench', 'test']).map(
      (x) => `${x.rule.name}: ${x.from} -> ${x.to}`,
    );
    expect(v.sort()).toEqual([
      'component-internals: src/ingress/index.ts -> src/cli/args.ts',
      'tools-use-public-surfaces: bench/b.ts -> src/cli/args.ts',
    ]);
  });

  it('forbids a cycle between components even when no module cycle exists', () => {
    const v = depcruise(dir, '.dependency-cruiser-layers.cjs', ['src']);
    expect(v.length).toBeGreaterThan(0);
    expect(new Set(v.map((x) => x.rule.name))).toEqual(new Set(['no-component-cycles']));
    expect(v.map((x) => `${x.from} ${x.to}`)).toContain('src/alpha src/beta');
  });
});
