/**
 * What the seed replica (ADR 0315) costs in memory: a CallPool of one call worker is started on a state of
 * `entries` committed-state entries (52-byte keys, 32-byte values, as EVM storage slots; the random state
 * of bench/lib/call-pool-fixture.ts, as bench/eth-respawn.ts uses), and the heaps of its threads are read
 * once both are ready:
 *
 *   seedHeapUsedMb:   the seed thread's V8 heap in use (its replica, and the runtime of a thread)
 *   workerHeapUsedMb: the call worker's (its replica, the EVM, the runtime)
 *   mainStateHeapMb:  what the executor's Map of the same entries takes on the main thread's heap
 *   poolRssMb:        the process's resident memory gained from before start() to both ready (both
 *                     threads: heaps, stacks, code)
 *
 * The seed's cost for the replica is seedHeapUsedMb minus its figure at 0 entries (the thread alone).
 *
 *   node --expose-gc bench/eth-seed-memory.ts [--entries 0,100000,1000000] [--out FILE]
 *
 * Each size runs in a child process of its own (fresh heap, fresh RSS). Wrap it in `flock
 * /tmp/ordo-bench.lock`.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { fixedStateOptions, loadCallPool, randomEvmState } from './lib/call-pool-fixture.ts';
import { writeResult } from './lib/json-out.ts';

const { values: args } = parseArgs({
  options: {
    entries: { type: 'string', default: '0,100000,1000000' },
    out: { type: 'string' },
    /** Internal: measure this one size and print its JSON (the parent runs one child per size). */
    one: { type: 'string' },
  },
});
const MB = 1024 * 1024;
const round = (x: number) => Math.round(x * 10) / 10;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

async function measure(entries: number): Promise<Record<string, number>> {
  const { CallPool } = await loadCallPool();
  gc();
  const heap0 = getHeapStatistics().used_heap_size;
  const state = randomEvmState(entries);
  gc();
  const mainStateHeapMb = (getHeapStatistics().used_heap_size - heap0) / MB;
  const threads: { seed?: Worker; worker?: Worker } = {};
  const pool = new CallPool({
    ...fixedStateOptions(state),
    size: 1,
    fallback: { simulate: () => Promise.reject(new Error('not in this bench')) },
    newThread: (url: URL, o?: WorkerOptions) => {
      const w = new Worker(url, o);
      if (url.pathname.endsWith('/call-seed.ts')) threads.seed = w;
      else threads.worker = w;
      return w;
    },
  });
  gc();
  const rss0 = process.memoryUsage().rss;
  await pool.start();
  if (pool.ready !== 1) throw new Error('the call worker did not start');
  const rss1 = process.memoryUsage().rss;
  const seed = await threads.seed!.getHeapStatistics();
  const worker = await threads.worker!.getHeapStatistics();
  await pool.stop();
  return {
    entries,
    seedHeapUsedMb: round(seed.used_heap_size / MB),
    workerHeapUsedMb: round(worker.used_heap_size / MB),
    mainStateHeapMb: round(mainStateHeapMb),
    poolRssMb: round((rss1 - rss0) / MB),
  };
}

if (args.one !== undefined) {
  console.log(JSON.stringify(await measure(Number(args.one))));
} else {
  const loadAvgBefore = loadavg()[0];
  const sizes = args.entries.split(',').map(Number);
  const rows = sizes.map(
    (n) =>
      JSON.parse(
        execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--one', String(n)], {
          encoding: 'utf8',
          maxBuffer: 1 << 20,
        }).trim(),
      ) as Record<string, number>,
  );
  const base = rows.find((r) => r.entries === 0);
  const out = {
    node: process.version,
    loadAvgBefore,
    rows: rows.map((r) => ({
      ...r,
      ...(base !== undefined ? { seedReplicaMb: round(r.seedHeapUsedMb! - base.seedHeapUsedMb!) } : {}),
    })),
    loadAvgAfter: loadavg()[0],
  };
  writeResult(out, args.out);
}
