/**
 * The SDK as a rollup team gets it (issue 27): built (`npm run build:sdk`), packed with `npm pack`,
 * installed from the tarball into an empty directory, and the example rollup — copied there, importing
 * `@ordo/sdk` by name — type-checks against the shipped declarations and follows a live adapter stream.
 * npm installs with --prefer-offline (dependencies come from the npm cache when present).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/hash.ts';
import { type AdapterServer, startAdapterServer } from '../../src/rollup-adapter/index.ts';
import { MemorySource } from '../../src/rollup-adapter/testing/memory-source.ts';
import { REPO } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordo-sdk-pkg-'));
const children: ChildProcess[] = [];
let server: AdapterServer | undefined;
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout: 180_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function filesUnder(d: string): string[] {
  return readdirSync(d, { recursive: true, encoding: 'utf8' });
}

describe('@ordo/sdk as an installed package', () => {
  it('builds, packs, installs from the tarball, type-checks and runs the example rollup by package name', async () => {
    // 1. build and pack
    run(process.execPath, [join(REPO, 'packages', 'sdk', 'build.ts')], REPO);
    const packed = JSON.parse(
      run('npm', ['pack', '--json', '--pack-destination', dir, join(REPO, 'packages', 'sdk', 'dist')], REPO),
    ) as { filename: string; files: { path: string }[] }[];
    const tarball = join(dir, packed[0]!.filename);
    const shipped = packed[0]!.files.map((f) => f.path);
    expect(shipped).toContain('packages/sdk/index.js');
    expect(shipped).toContain('packages/sdk/index.d.ts');
    expect(shipped).toContain('proto/ordo/adapter/v1/adapter.proto');
    // JavaScript and declarations only: Node does not strip types inside node_modules.
    expect(shipped.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);

    // 2. a clean directory that knows nothing of this repository
    const app = join(dir, 'app');
    cpSync(join(REPO, 'examples', 'counter-rollup'), app, { recursive: true });
    rmSync(join(app, 'demo.ts')); // the demo embeds an in-memory chain from the repo; the rollup does not
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'counter-rollup',
        private: true,
        type: 'module',
        dependencies: { '@ordo/sdk': `file:${tarball}`, pino: '^10.4.0' },
      }),
    );
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], app);
    const installed = join(app, 'node_modules', '@ordo', 'sdk');
    expect(existsSync(join(installed, 'packages', 'sdk', 'index.js'))).toBe(true);
    expect(filesUnder(installed).some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toBe(false);

    // 3. the example, and the SDK README's ten lines, type-check against the shipped declarations
    const readme = readFileSync(join(REPO, 'packages', 'sdk', 'README.md'), 'utf8');
    const snippet = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(snippet).toBeDefined();
    writeFileSync(
      join(app, 'readme-example.ts'),
      `${snippet}\ndeclare function apply(height: number, txs: Uint8Array[]): void;\n`,
    );
    writeFileSync(
      join(app, 'genesis.json'),
      JSON.stringify({
        chainId: 'c',
        validators: [{ name: 'v', publicKey: '00'.repeat(32), votingPower: 1 }],
      }),
    );
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    run(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '--strict',
        '--target',
        'es2023',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--allowImportingTsExtensions',
        '--skipLibCheck',
        '--typeRoots',
        join(REPO, 'node_modules', '@types'),
        '--types',
        'node',
        '--resolveJsonModule',
        'main.ts',
        'rollup.ts',
        'readme-example.ts',
      ],
      app,
    );

    // 4. it follows a live, verified stream
    const src = new MemorySource();
    server = await startAdapterServer({ source: src });
    const enc = new TextEncoder();
    for (let i = 0; i < 4; i++)
      src.produceBlock([{ namespace: 1, payload: enc.encode(JSON.stringify({ key: 'k', add: 5 })) }]);
    writeFileSync(
      join(app, 'config.json'),
      JSON.stringify({
        endpoints: [`127.0.0.1:${server.port}`],
        namespace: 1,
        chainId: src.chainId,
        validators: src.validators.map((v) => ({
          publicKey: toHex(v.publicKey),
          votingPower: v.votingPower,
        })),
        dataDir: join(app, 'data'),
        httpPort: 0,
      }),
    );
    const child = spawn(process.execPath, ['main.ts', 'config.json'], {
      cwd: app,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
    });
    child.stderr!.on('data', (d) => {
      out += d;
    });
    let state: { height: number; counters: Record<string, number> } | undefined;
    for (let i = 0; i < 300 && (state?.height ?? 0) < 4; i++) {
      const url =
        /"state":"(http:\/\/127\.0\.0\.1:\d+\/state)"/.exec(out)?.[1] ?? /"url":"([^"]+)"/.exec(out)?.[1];
      if (url !== undefined) state = (await (await fetch(url)).json()) as typeof state;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(state, out).toBeDefined();
    expect(state!.height).toBe(4);
    expect(state!.counters).toEqual({ k: 20 });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 300_000);
});
