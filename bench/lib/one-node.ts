/**
 * One real `ordo start` of any checkout, for benchmarks that measure a single node over HTTP
 * (bench/eth-timeout.ts, bench/callbundle-main-thread.ts, bench/presim-main-thread.ts): its own `ordo init`
 * in a temporary home (so an older checkout works too), a JSON-RPC helper that times each answer, a wait
 * until the node answers, and a stop that ends the process and removes the home; and what those
 * benchmarks measure the node's main thread by: `ordo_status` polled every 20 ms (its latency and the gaps
 * between committed heights) and the node's CPU per second of a window.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processCpuSeconds } from './proc-cpu.ts';

export interface RpcAnswer {
  /** Milliseconds from sending the request to the parsed answer. */
  ms: number;
  result?: unknown;
  error?: { code: number; message: string; data?: { retryAfterMs?: number } };
}

export interface OneNode {
  node: ChildProcess;
  /** The JSON-RPC (and /metrics) address, http://127.0.0.1:port. */
  url: string;
  /** Lines the node wrote to stdout (JSON logs at `warn`), when started with `logs: true`. */
  logs: string[];
  rpc(path: string, method: string, params: unknown[]): Promise<RpcAnswer>;
  stop(): Promise<void>;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The `q` quantile of `xs` (the largest at 1), to a tenth; 0 when there are none. */
export const pct = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]! * 10) / 10;
};

/** What a window of `ordo_status` polling saw of the node's main thread. */
export interface StatusFigures {
  statusP50Ms: number;
  statusP99Ms: number;
  statusMaxMs: number;
  /** The largest gap between two committed heights seen. */
  maxHeightGapMs: number;
  /** Heights committed in the window (after the first one seen). */
  heights: number;
}

/**
 * Poll `ordo_status` every 20 ms until `end` (a `performance.now()` time), calling `onHeight` at each new
 * height (the first one seen included); the window's figures.
 */
export async function pollStatus(
  dev: OneNode,
  end: number,
  onHeight?: (height: number) => void,
): Promise<StatusFigures> {
  const lat: number[] = [];
  const heightAt: number[] = [];
  let last = -1;
  while (performance.now() < end) {
    const a = await dev.rpc('', 'ordo_status', []);
    lat.push(a.ms);
    const h = (a.result as { height: number }).height;
    if (h !== last) {
      heightAt.push(performance.now());
      last = h;
      onHeight?.(h);
    }
    await sleep(20);
  }
  const gaps = heightAt.slice(1).map((t, i) => t - heightAt[i]!);
  return {
    statusP50Ms: pct(lat, 0.5),
    statusP99Ms: pct(lat, 0.99),
    statusMaxMs: pct(lat, 1),
    maxHeightGapMs: Math.round(Math.max(0, ...gaps)),
    heights: heightAt.length - 1,
  };
}

/** A meter of the node process's CPU (user + system): `perSecond(ms)`, its use a second over `ms` since. */
export function nodeCpuMeter(dev: OneNode): { perSecond(ms: number): number } {
  const pid = dev.node.pid!;
  const cpu0 = processCpuSeconds(pid);
  return { perSecond: (ms) => Math.round(((processCpuSeconds(pid) - cpu0) / (ms / 1000)) * 100) / 100 };
}

/** Init and start one validator of `repo` with JSON-RPC on 127.0.0.1:`port`; resolves once it answers. */
export async function startOneNode(opts: {
  repo: string;
  port: number;
  label: string;
  logs?: boolean;
}): Promise<OneNode> {
  const dir = mkdtempSync(join(tmpdir(), `ordo-bench-${opts.label}-`));
  const home = join(dir, 'n0');
  const ordo = join(opts.repo, 'bin', 'ordo.js');
  execFileSync(
    process.execPath,
    [ordo, 'init', '--home', home, '--rpc', `127.0.0.1:${opts.port}`, '--p2p', '/ip4/127.0.0.1/tcp/0'],
    { stdio: 'ignore' },
  );
  const node = spawn(
    process.execPath,
    [ordo, 'start', '--home', home, '--grpc', 'off', '--log-format', 'json', '--log-level', 'warn'],
    { stdio: ['ignore', opts.logs === true ? 'pipe' : 'ignore', 'inherit'] },
  );
  const logs: string[] = [];
  node.stdout?.on('data', (b) => logs.push(String(b)));
  const base = `http://127.0.0.1:${opts.port}`;
  const rpc = async (path: string, method: string, params: unknown[]): Promise<RpcAnswer> => {
    const t = performance.now();
    const r = await fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal: AbortSignal.timeout(120_000),
    });
    const j = (await r.json()) as Omit<RpcAnswer, 'ms'>;
    return { ms: performance.now() - t, ...j };
  };
  const stop = async () => {
    if (node.exitCode === null && node.signalCode === null) {
      const exited = new Promise((r) => node.once('exit', r));
      node.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; ; i++) {
      try {
        await rpc('', 'ordo_status', []);
        break;
      } catch {
        if (i > 300) throw new Error(`the node of ${opts.repo} did not answer within 30 s`);
        await sleep(100);
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { node, url: base, logs, rpc, stop };
}
