/**
 * Builds the publishable `@ordo/sdk` into packages/sdk/dist (run: `npm run build:sdk`):
 *   1. `tsc -p packages/sdk/tsconfig.json` compiles packages/sdk/index.ts and every file it imports from
 *      src/ to JavaScript + .d.ts (relative `.ts` imports are rewritten to `.js`), because Node does not
 *      strip types inside node_modules;
 *   2. copies proto/ (the SDK loads the wire format at run time, src/codec/proto.ts finds it at
 *      <package>/proto) and the README;
 *   3. writes dist/package.json: the workspace manifest with `exports` pointing at the compiled entry.
 * Then `npm pack packages/sdk/dist` makes the tarball a rollup team installs.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PKG = dirname(fileURLToPath(import.meta.url));
const REPO = join(PKG, '..', '..');
const DIST = join(PKG, 'dist');

rmSync(DIST, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(PKG, 'tsconfig.json')],
  {
    stdio: 'inherit',
  },
);
cpSync(join(REPO, 'proto'), join(DIST, 'proto'), { recursive: true });
cpSync(join(PKG, 'README.md'), join(DIST, 'README.md'));

const manifest = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8')) as Record<string, unknown>;
const entry = './packages/sdk/index';
const published = {
  ...manifest,
  exports: { '.': { types: `${entry}.d.ts`, default: `${entry}.js` } },
  types: `${entry}.d.ts`,
  files: ['packages', 'src', 'proto', 'README.md'],
  engines: { node: '>=22' },
};
writeFileSync(join(DIST, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
process.stdout.write(`built ${String(manifest.name)}@${String(manifest.version)} in ${DIST}\n`);
