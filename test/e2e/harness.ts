/**
 * Test harness for e2e tests: runs the real `ordo` CLI as OS processes on loopback and tracks every
 * process it starts so `killAll()` (in afterAll) leaves nothing behind.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rpcCall } from '../../src/rpc/client.ts';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ORDO = join(REPO, 'bin', 'ordo.js');

const live = new Set<ChildProcess>();

export function ordoSync(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [ORDO, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** config.json as tests edit it: top-level sections of settings (docs/config.md). */
export type ConfigJson = Record<string, Record<string, unknown>>;

export interface LoopbackHomeOptions {
  /** Ports the listeners bind on 127.0.0.1; left out (or 0) = an ephemeral port the OS picks. */
  rpcPort?: number;
  /** Set one (e.g. from `freePort()`) when the test talks to the rollup adapter: the node does not print it. */
  grpcPort?: number;
  p2pPort?: number;
  /** config.json `log.level` (the init default is `info`). */
  logLevel?: string;
  /** config.json `consensus.heartbeatMs`: e.g. 100 for an empty block every ~200 ms. */
  heartbeatMs?: number;
  /** Any other config.json edit, applied last. */
  edit?: (cfg: ConfigJson) => void;
}

/**
 * `ordo init` of a single-node home whose listeners all bind 127.0.0.1 (ephemeral ports unless given),
 * then the config.json edits asked for. A failed init is returned as is, with nothing edited.
 */
export function initLoopbackHome(
  home: string,
  o: LoopbackHomeOptions = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = ordoSync([
    'init',
    '--home',
    home,
    '--rpc',
    `127.0.0.1:${o.rpcPort ?? 0}`,
    '--grpc',
    `127.0.0.1:${o.grpcPort ?? 0}`,
    '--p2p',
    `/ip4/127.0.0.1/tcp/${o.p2pPort ?? 0}`,
  ]);
  if (r.status !== 0 || (o.logLevel === undefined && o.heartbeatMs === undefined && o.edit === undefined))
    return r;
  const cfgPath = join(home, 'config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as ConfigJson;
  if (o.logLevel !== undefined) cfg.log = { ...cfg.log, level: o.logLevel };
  if (o.heartbeatMs !== undefined) cfg.consensus = { ...cfg.consensus, heartbeatMs: o.heartbeatMs };
  o.edit?.(cfg);
  writeFileSync(cfgPath, JSON.stringify(cfg, null, 2));
  return r;
}

/** A TCP port free on 127.0.0.1 right now (for a listener whose address the test must know in advance). */
export function freePort(): Promise<number> {
  const srv = createServer();
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningNode {
  proc: ChildProcess;
  rpcUrl: string;
  logs: () => string;
}

/** Start `ordo start --home` and resolve once it prints its RPC address. */
export function startNode(
  home: string,
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<RunningNode> {
  const proc = spawn(process.execPath, [ORDO, 'start', '--home', home], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  let out = '';
  proc.stdout!.on('data', (d) => {
    out += d;
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
  });
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`node at ${home} did not start within ${timeoutMs} ms:\n${err}\n${out.slice(-3000)}`));
    }, timeoutMs);
    proc.stderr!.on('data', (d) => {
      err += d;
      const m = /JSON-RPC (http:\/\/[0-9.]+:[0-9]+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, rpcUrl: m[1]!, logs: () => out });
      }
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(`node at ${home} exited (${code ?? signal}) before starting:\n${err}\n${out.slice(-3000)}`),
      );
    });
  });
}

export async function killNode(n: RunningNode, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (n.proc.exitCode !== null || n.proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => n.proc.once('exit', () => r()));
  n.proc.kill(signal);
  await exited;
}

export function killAll(): void {
  for (const p of live) p.kill('SIGKILL');
  live.clear();
}

export function liveCount(): number {
  return live.size;
}

/** Poll `fn` every `intervalMs` until it returns a non-undefined value; bounded by `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`,
  );
}

export const rpc = rpcCall;
