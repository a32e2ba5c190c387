/**
 * Longest main-thread hold of each sliced path (ADRs 0309, 0312), one piece against slices, in one
 * process: a `setImmediate` probe chain runs beside the work and records the longest gap between two
 * of its turns (what a consensus message or a timer would have waited at most). Paths:
 *   dataHash   a 5,000-transaction body (5 namespaces): computeDataHash vs blockDataHashInSlices
 *   ethIndex   a block of 1,500 signed EVM transactions indexed by EvmChain (buildSliceMs ∞ vs default)
 *   gossip     a 1,024-transaction batch through TxGossip with an `admit` that busy-waits 0.3 ms per
 *              transaction (synthetic: stands for the mempool's checks and sender recovery)
 * Inputs are built before each timed run. Each path `--runs` times (default 7), medians; JSON (`--out FILE`).
 *
 *   node bench/stall-slices.ts --out bench/results/s14/stalls/micro.json
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createFeeMarket1559Tx } from '@ethereumjs/tx';
import { blockDataHashInSlices, computeDataHash, encodeTxBatch } from '../src/codec/index.ts';
import { type ChainSource, EvmChain } from '../src/eth-rpc/index.ts';
import { evmCustomCrypto, type NamespaceResult, txCommon } from '../src/exec/index.ts';
import { type GossipHandler, type Network, TxGossip } from '../src/p2p/index.ts';
import type { KvStore } from '../src/store/index.ts';
import type { Block, TxEnvelope } from '../src/types.ts';
import { writeResult } from './lib/json-out.ts';

const { values: args } = parseArgs({
  options: { out: { type: 'string' }, runs: { type: 'string', default: '7' } },
});
const RUNS = Number(args.runs);

/** Run `work` with a setImmediate probe beside it: the longest gap between probe turns, ms, and the work's wall time. */
async function hold(work: () => Promise<unknown> | unknown): Promise<{ longestMs: number; wallMs: number }> {
  let last = performance.now();
  let longest = 0;
  let on = true;
  const probe = (): void => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (on) setImmediate(probe);
  };
  setImmediate(probe);
  await new Promise((r) => setImmediate(r));
  last = performance.now();
  const t0 = performance.now();
  await work();
  const wallMs = performance.now() - t0;
  probe();
  on = false;
  return { longestMs: Math.round(longest * 10) / 10, wallMs: Math.round(wallMs * 10) / 10 };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

function body(n: number): TxEnvelope[] {
  return Array.from({ length: n }, (_, i) => {
    const payload = new Uint8Array(120 + (i % 100));
    new DataView(payload.buffer).setUint32(0, i);
    return { namespace: 1 + Math.floor((i * 5) / n), payload };
  });
}

// ---------------------------------------------------------------- eth index fixture
const CHAIN = 424242n;
const common = txCommon(
  createCustomCommon({ chainId: Number(CHAIN) }, Mainnet, {
    hardfork: Hardfork.Prague,
    customCrypto: evmCustomCrypto,
  }),
);
const EVM_TXS = 1500;
const signed = Array.from({ length: EVM_TXS }, (_, i) =>
  createFeeMarket1559Tx(
    {
      chainId: CHAIN,
      nonce: BigInt(i),
      maxPriorityFeePerGas: 1n,
      maxFeePerGas: 10n ** 9n,
      gasLimit: 60_000n,
      to: `0x${'22'.repeat(20)}`,
      data: new Uint8Array(68).fill(i & 0xff),
    },
    { common },
  )
    .sign(new Uint8Array(32).fill(5))
    .serialize(),
);
const evmBlock = {
  header: { height: 1, timeMs: 5_000 },
  txs: signed.map((payload) => ({ namespace: 3, payload })),
  bundles: [],
} as unknown as Block;
const evmResult: NamespaceResult = {
  namespace: 3,
  height: 1,
  receipts: signed.map((_, i) => ({
    index: i,
    status: 'success',
    gasUsed: 30_000n,
    logs: [
      {
        address: new Uint8Array(20).fill(0x22),
        topics: [new Uint8Array(32).fill(1), new Uint8Array(32).fill(i & 0xff), new Uint8Array(32).fill(3)],
        data: new Uint8Array(32),
      },
    ],
  })),
  stateRoot: new Uint8Array(32),
  resultsHash: new Uint8Array(32),
};
const source: ChainSource = {
  getBlock: async () => evmBlock,
  getBlockHash: async () => new Uint8Array(32).fill(1),
  getResult: async () => evmResult,
  executedHeight: () => 1,
  baseHeight: () => 0,
};
function memoryKv(): KvStore {
  const m = new Map<string, Uint8Array>();
  const k = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  return {
    get: async (key: Uint8Array) => m.get(k(key)),
    put: async (key: Uint8Array, v: Uint8Array) => {
      m.set(k(key), v);
    },
    batch: async (writes: { key: Uint8Array; value?: Uint8Array }[]) => {
      for (const w of writes) if (w.value !== undefined) m.set(k(w.key), w.value);
    },
  } as unknown as KvStore;
}
async function indexOnce(buildSliceMs?: number): Promise<void> {
  const c = new EvmChain({
    namespace: 3,
    common,
    baseFee: 7n,
    genesisTimeMs: 0,
    source,
    kv: memoryKv(),
    ...(buildSliceMs === undefined ? {} : { buildSliceMs }),
  });
  c.advance(1);
  await c.settled();
}

// ---------------------------------------------------------------- gossip fixture
function gossipOnce(data: Uint8Array, admitSliceMs?: number): Promise<unknown> {
  let handler: GossipHandler | undefined;
  const net = {
    peerId: 'me',
    subscribe: (_t: string, h: GossipHandler) => {
      handler = h;
    },
    publish: async () => {},
  } as unknown as Network;
  const admit = (): boolean => {
    const until = performance.now() + 0.3;
    while (performance.now() < until) {
      // synthetic admission cost
    }
    return true;
  };
  new TxGossip({ network: net, admit, ...(admitSliceMs === undefined ? {} : { admitSliceMs }) });
  return Promise.resolve(handler!({ topic: 'txs', from: 'peer', data }));
}

// ---------------------------------------------------------------- run
// Inputs are made before each timed run (fresh bodies: the data hash is memoised per block object).
type Case = [string, string, () => () => Promise<unknown> | unknown];
const cases: Case[] = [
  [
    'dataHash',
    'one piece',
    () => {
      const txs = body(5000);
      return () => computeDataHash(txs);
    },
  ],
  [
    'dataHash',
    'slices',
    () => {
      const b = { txs: body(5000), bundles: [] };
      return () => blockDataHashInSlices(b);
    },
  ],
  ['ethIndex', 'one piece', () => () => indexOnce(Number.POSITIVE_INFINITY)],
  ['ethIndex', 'slices', () => () => indexOnce()],
  [
    'gossip',
    'one piece',
    () => {
      const d = encodeTxBatch(body(1024));
      return () => gossipOnce(d, 0);
    },
  ],
  [
    'gossip',
    'slices',
    () => {
      const d = encodeTxBatch(body(1024));
      return () => gossipOnce(d);
    },
  ],
];
const loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
const samples = new Map<string, { longest: number[]; wall: number[] }>();
for (const [, , make] of cases) await make()(); // warm-up (JIT, protobuf codegen)
for (let r = 0; r < RUNS; r++) {
  for (const [path, mode, make] of cases) {
    const work = make();
    await new Promise((r) => setTimeout(r, 20)); // let the inputs' garbage settle a little
    const h = await hold(work);
    const key = `${path}/${mode}`;
    const s = samples.get(key) ?? { longest: [], wall: [] };
    s.longest.push(h.longestMs);
    s.wall.push(h.wallMs);
    samples.set(key, s);
  }
}
const results: Record<string, { longestHoldMs: number; wallMs: number; longestHoldRuns: number[] }> = {};
for (const [key, s] of samples) {
  results[key] = { longestHoldMs: median(s.longest), wallMs: median(s.wall), longestHoldRuns: s.longest };
}
const out = { benchmark: 'stall-slices', node: process.version, loadAtStart, runs: RUNS, results };
writeResult(out, args.out);
