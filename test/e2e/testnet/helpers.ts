/**
 * Helpers for the testnet e2e and browser tests: run `ordo testnet ...` as a real process, find every
 * process that belongs to a testnet directory (by scanning /proc command lines), and kill leftovers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFreeBasePort } from '../../../testnet/setup.ts';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const ORDO = join(REPO, 'bin', 'ordo.js');

export interface Run {
  proc: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

export function runOrdo(args: string[]): Run {
  const proc = spawn(process.execPath, [ORDO, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const add = (d: Buffer): void => {
    out += d.toString();
    if (out.length > 1_000_000) out = out.slice(-500_000);
  };
  proc.stdout?.on('data', add);
  proc.stderr?.on('data', add);
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, out: () => out, exited };
}

/** Pids whose command line mentions `needle` (e.g. the testnet directory). */
export function pidsMatching(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes(needle)) out.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

export function killMatching(needle: string): void {
  for (const pid of pidsMatching(needle)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

export async function waitFor<T>(
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`,
  );
}

/** A base port with `nodes` × 10 free ports above it (ports base+10i .. +2). */
export function freeBasePort(nodes: number): Promise<number> {
  return findFreeBasePort(nodes);
}

const LOCK = join(tmpdir(), 'ordo-testnet-tests.lock');

/**
 * Cross-process mutex (a directory) so the test files that start whole testnets (e2e and browser, which
 * vitest runs in parallel) never run two testnets at once on this 2-core machine. Stale after 5 min.
 */
export async function withTestnetLock<T>(fn: () => Promise<T>, waitMs = 240_000): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 300_000) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        // raced with the holder releasing it
      }
      if (Date.now() > deadline) throw new Error(`could not take ${LOCK} within ${waitMs} ms`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
