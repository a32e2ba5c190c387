/**
 * The CLI as a new operator meets it (issue 27): `--version`, `ordo help <command>`, a default home
 * from ORDO_HOME, and an address in use failing fast with one line that names the flag and config key
 * (no stack trace, no library advice), before consensus starts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initLoopbackHome, type LoopbackHomeOptions, ORDO, ordoSync } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordo-e2e-cli-'));
const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** As root with runuser, and the repository readable by `nobody`: the other-uid home case can run. */
const asNobody = (args: string[]) =>
  spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
const canRunAsNobody =
  process.getuid?.() === 0 &&
  asNobody(['-e', `require('fs').accessSync(${JSON.stringify(ORDO)})`]).status === 0;

/** Hold a free loopback port; returns it. */
async function occupyPort(): Promise<number> {
  const s = createServer();
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as { port: number }).port;
}

/** Run `ordo start` to completion (it must fail on its own); bounded by a timeout. */
function startExpectingFailure(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const p = spawn(process.execPath, [ORDO, 'start', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stderr = '';
    p.stderr!.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`ordo start did not exit within 30 s:\n${stderr}`));
    }, 30_000);
    p.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

function init(home: string, ports: LoopbackHomeOptions = {}): void {
  const r = initLoopbackHome(home, ports);
  expect(r.status, r.stderr).toBe(0);
}

describe('ordo CLI', () => {
  it('prints its version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    for (const flag of ['--version', '-v']) {
      const r = ordoSync([flag]);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`ordo ${pkg.version}`);
    }
  });

  it('ordo help <command> prints that command usage; an unknown one is a usage error', () => {
    const r = ordoSync(['help', 'start']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: ordo start');
    expect(r.stdout).toContain('--log-format');
    expect(r.stdout).toContain('--grpc');
    const top = ordoSync(['help']);
    expect(top.status).toBe(0);
    expect(top.stdout).toContain('--version');
    const bad = ordoSync(['help', 'nosuch']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown command "nosuch"');
  });

  it('a bad --log-format names the flag and the allowed values', () => {
    const r = ordoSync(['start', '--home', join(dir, 'none'), '--log-format', 'xml']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--log-format must be one of auto, json, pretty');
  });

  it('a bad listen flag names the flag and the expected form', () => {
    const r = ordoSync(['start', '--home', join(dir, 'none'), '--rpc', '8545']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--rpc: expected host:port, e.g. 127.0.0.1:8545 (got "8545")');
  });

  it('uses ORDO_HOME when --home is not given, and says how to create a missing home', async () => {
    const home = join(dir, 'not-initialised');
    const r = await startExpectingFailure([], { ORDO_HOME: home });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(join(home, 'config.json'));
    expect(r.stderr).toContain('ordo init');
  });

  it.skipIf(!canRunAsNobody)('a home written by another uid: says whose it is and what to chown', () => {
    const home = join(dir, 'other-uid');
    init(home);
    const r = asNobody([ORDO, 'start', '--home', home]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /HOME_UNREADABLE.*it belongs to uid 0 but this process runs as uid \d+: chown -R \d+ /,
    );
  });

  it('JSON-RPC port in use: fails fast naming --rpc and rpc.listen, no stack trace', async () => {
    const home = join(dir, 'rpc-busy');
    const port = await occupyPort();
    init(home, { rpcPort: port });
    const r = await startExpectingFailure(['--home', home, '--log-level', 'silent']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`JSON-RPC cannot listen on 127.0.0.1:${port}`);
    expect(r.stderr).toContain('already in use');
    expect(r.stderr).toContain('--rpc HOST:PORT or rpc.listen');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('p2p port in use: names --p2p and p2p.listen, without libp2p advice or a stack trace', async () => {
    const home = join(dir, 'p2p-busy');
    const port = await occupyPort();
    init(home, { p2pPort: port });
    const r = await startExpectingFailure(['--home', home, '--log-level', 'silent']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`p2p cannot listen on /ip4/127.0.0.1/tcp/${port}`);
    expect(r.stderr).toContain('--p2p MULTIADDR or p2p.listen');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr.toLowerCase()).not.toContain('libp2p');
  });

  it('gRPC port in use (set by --grpc): names --grpc and grpc.listen', async () => {
    const home = join(dir, 'grpc-busy');
    const port = await occupyPort();
    init(home);
    const r = await startExpectingFailure([
      '--home',
      home,
      '--grpc',
      `127.0.0.1:${port}`,
      '--log-level',
      'silent',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`gRPC (rollup adapter) cannot listen on 127.0.0.1:${port}`);
    expect(r.stderr).toContain('--grpc HOST:PORT or grpc.listen');
  });

  it('--log-format pretty prints readable lines, json prints JSON', () => {
    // The logger the CLI builds, in a process of its own (stdout is a pipe here, so `auto` would be JSON).
    const script = `import { createLogger } from './src/node/logger.ts';
createLogger('info', {}, process.argv[1]).child({ module: 'demo' }).info({ height: 7 }, 'committed block');`;
    for (const fmt of ['pretty', 'json'] as const) {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, fmt], {
        cwd: new URL('../..', import.meta.url).pathname,
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.status, r.stderr).toBe(0);
      if (fmt === 'json') {
        const line = JSON.parse(r.stdout.trim()) as { level: string; msg: string; module: string };
        expect(line).toMatchObject({ level: 'info', msg: 'committed block', module: 'demo', height: 7 });
      } else {
        expect(r.stdout).toContain('INFO');
        expect(r.stdout).toContain('[demo] committed block');
        expect(() => JSON.parse(r.stdout.trim())).toThrow();
      }
    }
  });
});
