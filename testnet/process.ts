/**
 * One testnet node as an OS process: `process.execPath [--import watchdog] bin/ordo.js start --home DIR`
 * in its own process group, stdout/stderr appended to `<home>/node.log`, and a pipe on fd 3 that the
 * watchdog (testnet/watchdog.ts) uses to stop the node if the orchestrator disappears. Supports the
 * fault operations: kill (SIGKILL, a crash), stop (SIGTERM, graceful), pause/resume (SIGSTOP/SIGCONT),
 * and start again on the same home (restart). With `netns`, the process runs inside that network
 * namespace through `ip netns exec NS node ...`, which execs (no fork): the pid and the signals above
 * are the node's own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OrdoError } from '../src/errors.ts';
import { rpcCall } from '../src/rpc/index.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ORDO_BIN = join(REPO_ROOT, 'bin', 'ordo.js');
const WATCHDOG = join(REPO_ROOT, 'testnet', 'watchdog.ts');

export type ProcState = 'stopped' | 'starting' | 'running' | 'paused' | 'killed' | 'exited';

export interface NodeProcessOptions {
  id: string;
  home: string;
  rpc: string;
  env?: Record<string, string>;
  /** Command override for tests (default: bin/ordo.js start --home HOME). */
  argv?: string[];
  /** Network namespace to run in (testnet/netns.ts); default: the caller's. */
  netns?: string;
}

export class NodeProcess {
  readonly id: string;
  readonly home: string;
  readonly rpc: string;
  readonly logFile: string;
  readonly #o: NodeProcessOptions;
  #child: ChildProcess | undefined;
  #state: ProcState = 'stopped';
  #exit: Promise<void> = Promise.resolve();
  #exitInfo: { code: number | null; signal: string | null } | undefined;
  starts = 0;

  constructor(o: NodeProcessOptions) {
    this.#o = o;
    this.id = o.id;
    this.home = o.home;
    this.rpc = o.rpc;
    this.logFile = join(o.home, 'node.log');
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get state(): ProcState {
    return this.#state;
  }

  get alive(): boolean {
    return this.#child !== undefined && this.#exitInfo === undefined;
  }

  spawn(): void {
    if (this.alive)
      throw new OrdoError('TESTNET_NODE_RUNNING', `${this.id} is already running (pid ${this.pid})`);
    const log = openSync(this.logFile, 'a');
    const argv = this.#o.argv ?? ['--import', WATCHDOG, ORDO_BIN, 'start', '--home', this.home];
    try {
      const ns = this.#o.netns;
      const [cmd, args] =
        ns === undefined
          ? [process.execPath, argv]
          : ['ip', ['netns', 'exec', ns, process.execPath, ...argv]];
      const child = spawn(cmd, args, {
        cwd: REPO_ROOT,
        detached: true,
        stdio: ['ignore', log, log, 'pipe'],
        env: { ...process.env, ...this.#o.env },
      });
      this.#child = child;
      this.#exitInfo = undefined;
      this.#state = 'starting';
      this.starts++;
      this.#exit = new Promise((res) => {
        child.once('exit', (code, signal) => {
          this.#exitInfo = { code, signal };
          if (this.#state !== 'killed') this.#state = 'exited';
          res();
        });
        child.once('error', () => {
          this.#exitInfo ??= { code: null, signal: null };
          this.#state = 'exited';
          res();
        });
      });
    } finally {
      closeSync(log);
    }
  }

  /** Poll ordo_status until the node answers; fail early if the process dies. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.alive) {
        throw new OrdoError(
          'TESTNET_NODE_EXITED',
          `${this.id} exited during start-up (${this.describeExit()}); last log lines:\n${this.tail(15)}`,
        );
      }
      try {
        await rpcCall(this.rpc, 'ordo_status', [], 1000);
        this.#state = 'running';
        return;
      } catch {
        await sleep(200);
      }
    }
    throw new OrdoError(
      'TESTNET_NODE_TIMEOUT',
      `${this.id} did not answer ordo_status at ${this.rpc} within ${timeoutMs} ms; last log lines:\n${this.tail(15)}`,
    );
  }

  describeExit(): string {
    const e = this.#exitInfo;
    if (e === undefined) return 'running';
    return e.signal !== null ? `signal ${e.signal}` : `exit code ${e.code}`;
  }

  tail(lines: number): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  #signal(sig: NodeJS.Signals): void {
    const pid = this.pid;
    if (pid === undefined || !this.alive) return;
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }

  /** Crash: SIGKILL, no chance to clean up. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    this.#state = 'killed';
    this.#signal('SIGKILL');
    await this.#exit;
  }

  pause(): void {
    if (!this.alive) throw new OrdoError('TESTNET_NODE_DOWN', `${this.id} is not running`);
    this.#signal('SIGSTOP');
    this.#state = 'paused';
  }

  resume(): void {
    if (!this.alive) throw new OrdoError('TESTNET_NODE_DOWN', `${this.id} is not running`);
    this.#signal('SIGCONT');
    this.#state = 'running';
  }

  /** Graceful stop: SIGTERM (after SIGCONT if paused), then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.alive) {
      this.#state = this.#state === 'killed' ? 'killed' : 'stopped';
      return;
    }
    this.#signal('SIGCONT');
    this.#signal('SIGTERM');
    const timer = setTimeout(() => this.#signal('SIGKILL'), graceMs);
    await this.#exit;
    clearTimeout(timer);
    this.#state = 'stopped';
  }

  /** Synchronous last resort (process 'exit' handler). */
  killNow(): void {
    this.#signal('SIGCONT');
    this.#signal('SIGKILL');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
