/**
 * The running testnet's state file, `<dir>/testnet.json`: how the control commands
 * (`ordo testnet kill|restart|pause|resume|partition|heal|status|down`) find the orchestrator and its
 * nodes. Written atomically by the orchestrator at start and on every process change, removed on a
 * clean shutdown. The control token guards the orchestrator's control endpoint against other local
 * web pages (it travels in a custom header, which browsers cannot send cross-origin without CORS).
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OrdoError } from '../src/errors.ts';
import type { NodeRole } from './setup.ts';

export interface NodeState {
  id: string;
  role: NodeRole;
  home: string;
  rpc: string;
  grpc: string;
  p2p: string;
  peerId: string;
  pid: number | null;
  state: string;
}

export interface TestnetState {
  version: 1;
  pid: number;
  controlUrl: string;
  dashboardUrl: string;
  token: string;
  startedAt: string;
  chainId: string;
  nodes: NodeState[];
}

export const DEFAULT_DIR = '.ordo/testnet';

export function statePath(dir: string): string {
  return join(dir, 'testnet.json');
}

export function writeState(dir: string, s: TestnetState): void {
  const p = statePath(dir);
  const tmp = `${p}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, p);
}

export function readState(dir: string): TestnetState | undefined {
  const p = statePath(dir);
  if (!existsSync(p)) return undefined;
  try {
    const s = JSON.parse(readFileSync(p, 'utf8')) as TestnetState;
    if (s.version !== 1 || !Array.isArray(s.nodes)) throw new Error('unknown format');
    return s;
  } catch (err) {
    throw new OrdoError('TESTNET_STATE_INVALID', `cannot read ${p}: ${(err as Error).message}`);
  }
}

export function removeState(dir: string): void {
  rmSync(statePath(dir), { force: true });
}

export function pidAlive(pid: number | null | undefined): boolean {
  if (pid === null || pid === undefined || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when `pid` is an `ordo start` process for `home` (guards against reused pids). */
export function isNodeProcess(pid: number, home: string): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmd.includes('start') && cmd.includes(home);
  } catch {
    return pidAlive(pid);
  }
}
