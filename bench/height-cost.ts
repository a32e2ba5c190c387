/**
 * CPU per empty height of what follows a block commit on one node, in one process (docs/performance.md
 * "Tenth round"): the block store's commit of an empty block, the executor's empty slices of the demo
 * genesis's executed rollups (transfer, evm, evm-2) with its worker pool, and the Ethereum RPC's block
 * index of both EVM rollups (with one call worker each, the node's default). Everything a node's testnet
 * run adds (consensus, gossip, timers) is left out, so the figure is steady enough to compare checkouts:
 * `--repo R` loads src/ from checkout R (the same calls exist on both sides of an A/B).
 *
 *   node bench/height-cost.ts [--repo DIR] [--heights 2000] [--warmup 300] [--out FILE]
 *
 * Reports process CPU (user + system, every thread: main, LevelDB's, the workers') and wall time per
 * height, and the load average at the start. Never run two benchmarks at once on a 2-core host.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeResult } from './lib/json-out.ts';

const { values } = parseArgs({
  options: {
    repo: { type: 'string', default: resolve(import.meta.dirname, '..') },
    heights: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '300' },
    out: { type: 'string' },
  },
});
const repo = resolve(values.repo!);
const heights = Number(values.heights);
const warmup = Number(values.warmup);
if (!Number.isSafeInteger(heights) || heights < 1 || !Number.isSafeInteger(warmup) || warmup < 0) {
  process.stderr.write('--heights must be a positive integer and --warmup a non-negative one\n');
  process.exit(2);
}

const src = (p: string) => import(join(repo, 'src', p));
const { demoRollups, demoAlloc } = await src('config/index.ts');
const { createExecutor } = await src('exec/index.ts');
const { openStore } = await src('store/index.ts');
const { createEthRpc } = await src('eth-rpc/index.ts');
const { blockHash } = await src('codec/index.ts');
const { ZERO_HASH } = await src('crypto/index.ts');

const loadAtStart = loadavg()[0]!;
const dir = mkdtempSync(join(tmpdir(), 'ordo-height-cost-'));
const rollups = demoRollups(demoAlloc(8));
const store = await openStore({ path: join(dir, 'db'), sync: false });
const executor = createExecutor({
  rollups,
  kv: (ns: number) => store.sub(`exec/${ns}`, { sync: false }),
  workers: 2,
});
await executor.start();
const genesisTimeMs = 1_700_000_000_000;
const eth = createEthRpc({
  rollups,
  executor,
  store,
  mempool: { nextNonce: () => undefined, status: () => ({ status: 'unknown' }) },
  ingress: {
    submitTransaction: () => ({ ok: false, code: 'SHUTTING_DOWN', message: 'bench', retryable: false }),
    maxTxBytes: 1024,
  },
  genesisTimeMs,
  callWorkers: 1,
});
await eth.start();
const evm: number[] = rollups
  .filter((r: { kind: string }) => r.kind === 'evm')
  .map((r: { namespace: number }) => r.namespace);
const executed: number[] = executor.executedNamespaces();

let parent: Uint8Array = ZERO_HASH;
async function height(h: number): Promise<void> {
  const block = {
    header: {
      chainId: 'ordo-bench',
      height: h,
      round: 0,
      timeMs: genesisTimeMs + h * 250,
      parentHash: parent,
      dataHash: ZERO_HASH,
      proposer: ZERO_HASH,
      txCount: 0,
      lastCommitHash: ZERO_HASH,
      resultsHash: ZERO_HASH,
      auctionHash: ZERO_HASH,
    },
    txs: [],
    bundles: [],
  };
  const hash = blockHash(block);
  const cert = {
    height: h,
    round: 0,
    blockHash: hash,
    sigs: [{ validatorIndex: 0, signature: new Uint8Array(64).fill(1) }],
  };
  await store.commitBlock(block, cert);
  parent = hash;
  await executor.executeBlock(h, new Map(executed.map((ns) => [ns, []])), { timeMs: block.header.timeMs });
  // The index follows the executor in the background: the height counts once both indexes have it.
  while (!evm.every((ns) => eth.head(ns) >= h)) await new Promise((r) => setImmediate(r));
}

for (let h = 1; h <= warmup; h++) await height(h);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let h = warmup + 1; h <= warmup + heights; h++) await height(h);
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
await eth.stop();
await executor.stop();
await store.close();
rmSync(dir, { recursive: true, force: true });

const result = {
  benchmark: 'height-cost',
  repo,
  heights,
  warmup,
  executedRollups: executed.length,
  evmRollups: evm.length,
  loadavgAtStart: loadAtStart,
  cpuMicrosPerHeight: Math.round(((cpu.user + cpu.system) / heights) * 10) / 10,
  userMicrosPerHeight: Math.round((cpu.user / heights) * 10) / 10,
  systemMicrosPerHeight: Math.round((cpu.system / heights) * 10) / 10,
  wallMicrosPerHeight: Math.round(((wallMs * 1000) / heights) * 10) / 10,
  finished: new Date().toISOString(),
};
writeResult(result, values.out);
