/**
 * Signals sent to the npm process of `npm start` (issue 27): SIGINT or SIGTERM to npm alone — not to
 * its process group, as Ctrl-C would — must stop the orchestrator and every node, and npm must exit.
 * `npm start` execs node (package.json), so npm's forwarded signal reaches the orchestrator itself;
 * if npm is SIGKILLed the orchestrator sees it was re-parented and stops; nodes watch the
 * orchestrator through a pipe (testnet/watchdog.ts).
 * Real processes: `npm start -- ...` with a one-validator testnet; every process the test may leave
 * (found by the testnet directory in its command line) is killed in afterEach, and every wait is bounded.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { initLoopbackHome, REPO } from './harness.ts';
import { freeBasePort, withTestnetLock } from './testnet/helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'ordo-e2e-signals-'));
const hasProc = existsSync('/proc/self/cmdline');
let npm: ChildProcess | undefined;

/** PIDs of live processes whose command line mentions `needle` (Linux /proc). */
function pidsMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (cmd.includes(needle) && !/\) Z /.test(stat)) out.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function killMentioning(needle: string): void {
  for (const pid of pidsMentioning(needle)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

afterEach(() => {
  if (npm?.pid !== undefined && npm.exitCode === null && npm.signalCode === null) {
    try {
      process.kill(-npm.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  killMentioning(root);
});
afterAll(() => {
  killMentioning(root);
  rmSync(root, { recursive: true, force: true });
});

async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`${what} did not happen within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function eventually(what: string, ms: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} within ${ms} ms`);
}

/** `to`: the npm process alone, or its whole process group (what a terminal's Ctrl-C does). */
async function npmStartThenSignal(signal: NodeJS.Signals, to: 'npm' | 'group' = 'npm'): Promise<void> {
  const basePort = await freeBasePort(1);
  const dir = join(root, `${signal}-${to}`);
  const args = ['start', '--', '--validators', '1', '--load', '0', '--dashboard', '0'];
  args.push('--base-port', String(basePort), '--dir', dir);
  const child = spawn('npm', args, { cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  npm = child;
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await within(
    90_000,
    `testnet up (output so far:\n${out})`,
    (async () => {
      await eventually('"is up" printed', 90_000, () => out.includes('is up') || child.exitCode !== null);
      if (!out.includes('is up')) throw new Error(`npm start exited early:\n${out}`);
    })(),
  );
  // The orchestrator and the node are running and mention the directory.
  expect(pidsMentioning(dir).length).toBeGreaterThanOrEqual(2);
  if (to === 'npm') child.kill(signal);
  else process.kill(-child.pid!, signal);
  await within(60_000, `npm exit after ${signal}:\n${out}`, exited);
  await eventually(
    `no process of the testnet left after ${signal}`,
    20_000,
    () => pidsMentioning(dir).length === 0,
  );
  expect(out).toContain('testnet stopped');
}

describe.skipIf(!hasProc)('npm start and signals (real processes)', () => {
  for (const [signal, what] of [
    ['SIGINT', 'stops the orchestrator and every node'],
    ['SIGTERM', 'stops the orchestrator and every node'],
    ['SIGKILL', 'leaves an orphaned orchestrator that notices and stops everything'],
  ] as const) {
    it(
      `${signal} to the npm process ${what}`,
      () => withTestnetLock(() => npmStartThenSignal(signal)),
      300_000,
    );
  }

  // Ctrl-C in a terminal: the orchestrator gets SIGINT from the terminal and again from npm; that is one
  // interrupt (a graceful stop, "testnet stopped"), not the double Ctrl-C that kills every node at once.
  it(
    'SIGINT to the whole process group (Ctrl-C) stops gracefully',
    () => withTestnetLock(() => npmStartThenSignal('SIGINT', 'group')),
    300_000,
  );

  it('npm run ordo -- start: Ctrl-C stops the node gracefully (exit 0)', async () => {
    const home = join(root, 'node-home');
    const init = initLoopbackHome(home);
    expect(init.status, init.stderr).toBe(0);
    const child = spawn('npm', ['run', 'ordo', '--', 'start', '--home', home, '--log-level', 'warn'], {
      cwd: REPO,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    npm = child;
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
    });
    child.stderr!.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await eventually(
      'the node to run',
      60_000,
      () => out.includes('running: JSON-RPC') || child.exitCode !== null,
    );
    expect(out).toContain('running: JSON-RPC');
    process.kill(-child.pid!, 'SIGINT');
    expect(await within(30_000, `npm exit after Ctrl-C:\n${out}`, exited), out).toBe(0);
    expect(out).toContain('stopping...');
    await eventually('no node process left', 20_000, () => pidsMentioning(home).length === 0);
  }, 120_000);
});
