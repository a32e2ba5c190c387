/**
 * What a forced call-worker respawn costs the main thread on a large rollup state (issue #24, ADR 0315),
 * for the CallPool of a checkout (`--repo`, default this one), so a before/after is two runs of this file:
 *
 *   entries:       committed-state entries (52-byte keys, 32-byte values, as EVM storage slots)
 *   mainCpuMs:     main-thread CPU (process.threadCpuUsage) from sending a call that loops until
 *                  `timeoutMs` stops it to the replacement worker being ready, one value per respawn
 *   windowMs:      that window's wall-clock length
 *   worstStatusMs: the slowest answer, meanwhile, of a status request (HTTP, answered by this process's
 *                  main thread as ordo_status is by a node's) polled every 20 ms by a child process
 *   worstStallMs:  the main thread's longest event-loop stall meanwhile (a 5 ms timer's lateness)
 *   mainSnapshots: snapshots of the whole state built on the main thread by the respawns (`snapshots`
 *                  counter; absent on a checkout without it)
 *
 *   node bench/eth-respawn.ts [--repo DIR] [--entries 1000000] [--runs 5] [--timeout-ms 300] [--out FILE]
 *
 * Wrap it in `flock /tmp/ordo-bench.lock`; read loadAvg next to every figure (the host is shared).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import {
  evmCommon,
  fixedStateOptions,
  LOOP,
  loadCallPool,
  loopOverrides,
  randomEvmState,
  thisRepo,
} from './lib/call-pool-fixture.ts';
import { writeResult } from './lib/json-out.ts';

const { values: args } = parseArgs({
  options: {
    repo: { type: 'string', default: thisRepo },
    entries: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '5' },
    'timeout-ms': { type: 'string', default: '300' },
    out: { type: 'string' },
  },
});
const entries = Number(args.entries);
const runs = Number(args.runs);
const timeoutMs = Number(args['timeout-ms']);
// Loaded from the checkout under test (its own call-worker.ts with it).
const { CallPool, parseStateOverrides, EvmStateReader } = await loadCallPool(args.repo);

const state = randomEvmState(entries);
const pool = new CallPool({
  ...fixedStateOptions(state),
  size: 1,
  timeoutMs,
  fallback: new EvmStateReader((k) => state.get(k), evmCommon()),
});
await pool.start();

// The status endpoint, answered on this thread, and its poller in another process.
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.end('{"jsonrpc":"2.0","id":1,"result":{"height":5}}'));
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
const pollerCode = `
let worst = 0;
process.on('message', (m) => { if (m === 'report') { process.send(worst); worst = 0; } else process.exit(0); });
for (;;) {
  const t = performance.now();
  await fetch(${JSON.stringify(url)}, { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"ordo_status"}' });
  worst = Math.max(worst, performance.now() - t);
  await new Promise((r) => setTimeout(r, 20));
}`;
const poller = spawn(process.execPath, ['--input-type=module', '-e', pollerCode], {
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const report = () =>
  new Promise<number>((r) => {
    poller.once('message', (m) => r(Number(m)));
    poller.send('report');
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
await sleep(500);

const loop = loopOverrides(parseStateOverrides);
const cpuMs = () => {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1_000;
};
const round = (x: number) => Math.round(x * 10) / 10;
const median = (xs: number[]) => round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);

const out = {
  repo: args.repo,
  entries,
  timeoutMs,
  loadAvgBefore: loadavg()[0],
  mainCpuMs: [] as number[],
  windowMs: [] as number[],
  worstStatusMs: [] as number[],
  worstStallMs: [] as number[],
  median: {} as Record<string, number>,
  mainSnapshots: undefined as number | undefined,
  loadAvgAfter: 0,
};
const snapshotsAtStart = pool.snapshots;
for (let i = 0; i < runs; i++) {
  await report(); // reset the poller's worst
  let stall = 0;
  let expected = performance.now() + 5;
  let probing = true;
  const probe = (): void => {
    stall = Math.max(stall, performance.now() - expected);
    expected = performance.now() + 5;
    if (probing) setTimeout(probe, 5);
  };
  setTimeout(probe, 5);
  const c0 = cpuMs();
  const t0 = performance.now();
  await pool.simulate({ to: LOOP }, loop, 1n << 40n, 6, 0).catch(() => {});
  while (pool.ready < 1) await sleep(2);
  out.mainCpuMs.push(round(cpuMs() - c0));
  out.windowMs.push(round(performance.now() - t0));
  probing = false;
  out.worstStallMs.push(round(stall));
  out.worstStatusMs.push(round(await report()));
  await sleep(300);
}
if (snapshotsAtStart !== undefined) out.mainSnapshots = (pool.snapshots ?? 0) - snapshotsAtStart;
for (const k of ['mainCpuMs', 'windowMs', 'worstStatusMs', 'worstStallMs'] as const)
  out.median[k] = median(out[k]);
out.loadAvgAfter = loadavg()[0] ?? 0;
poller.send('exit');
server.close();
await pool.stop();
writeResult(out, args.out);
