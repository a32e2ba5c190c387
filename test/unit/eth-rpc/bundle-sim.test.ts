/**
 * RPC bundle simulations on the call workers (ADR 0305, src/eth-rpc/bundle-sim.ts) answer exactly as the
 * executor's main-thread simulation: per-transaction status, gas, error and return data, each leg's
 * state root, the verdict and the height, on random and crafted bundles over two EVM rollups, a
 * transfer rollup and an opaque one, while blocks keep executing between them. Also: the height rule,
 * the wall-clock bound (a leg past it answers eth_call's timeout and the worker is replaced), a worker
 * that dies with a leg (sent again to its replacement, ADR 0316) and a pool with no worker ready (the
 * main thread): the same answer either way. And the bundle pool's presimulation (ADR 0313): a pool whose
 * presimulation runs on the workers takes the verdicts, and selects the bundles, that a pool presimulating
 * on the main thread does.
 */
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { unsignedBundle } from '../../../src/codec/index.ts';
import type { RollupConfig } from '../../../src/config/index.ts';
import { offloadBundleSimulation, offloadBundleSimulationWhere } from '../../../src/eth-rpc/bundle-sim.ts';
import { presimulateOnWorkers } from '../../../src/eth-rpc/bundle-sim-presim.ts';
import { CallPool } from '../../../src/eth-rpc/call-pool.ts';
import { CallTimeoutError } from '../../../src/eth-rpc/call-timeout.ts';
import { LegOffWorker } from '../../../src/eth-rpc/leg-job.ts';
import { EvmStateReader } from '../../../src/eth-rpc/state.ts';
import { COUNTER_RUNTIME, deployCode, word } from '../../../src/exec/evm/contracts.ts';
import {
  createExecutor,
  DEFAULT_EVM_FEE_RECIPIENT,
  type Executor,
  legTxHash,
  memoryKvFactory,
  type SimResult,
} from '../../../src/exec/index.ts';
import { type BundleSimulateHook, createBundlePool, rollupTxHasher } from '../../../src/mempool/index.ts';
import type { Bundle } from '../../../src/types.ts';
import {
  CHAIN_ID,
  common,
  EVM_NS,
  evmAddr,
  evmAddrHex,
  evmTx,
  rollups,
  TRANSFER_NS,
  tPub,
  transfer,
} from '../exec/helpers.ts';

const EVM2_NS = 11;
const CHAIN2 = 4243;
const OPAQUE_NS = 3;
const base = rollups({ transferBalance: '500', evmBalance: '1000000000000000000' });
const cfg: RollupConfig[] = [
  ...base,
  { ...base.find((r) => r.namespace === EVM_NS)!, namespace: EVM2_NS, name: 'evm2', evmChainId: CHAIN2 },
];
const chainOf = (ns: number) => (ns === EVM_NS ? CHAIN_ID : CHAIN2);

let exec: Executor;
let height = 0;
const pools = new Map<number, CallPool>();
const counters = new Map<number, Uint8Array>();
let loop: Uint8Array;
const runs = { worker: 0, main: 0, timeout: 0 };
let offloaded: (b: Bundle, o?: { height?: number; timeMs?: number }) => Promise<SimResult>;
/** Every worker the pools spawned (to kill one in the death test). */
const workers = new Set<Worker>();

function pool(ns: number, timeoutMs: number): CallPool {
  return new CallPool({
    size: 1,
    chainId: chainOf(ns),
    coinbase: DEFAULT_EVM_FEE_RECIPIENT,
    follow: (l) => exec.followState(ns, l),
    head: () => exec.head(ns).height,
    timeoutMs,
    fallback: new EvmStateReader(exec.stateGetter(ns), common(chainOf(ns))),
  });
}

async function block(txs: Map<number, Uint8Array[]>): Promise<void> {
  height++;
  await exec.executeBlock(height, txs, { timeMs: height * 1000 });
}

beforeAll(async () => {
  const post = Worker.prototype.postMessage;
  vi.spyOn(Worker.prototype, 'postMessage').mockImplementation(function (
    this: Worker,
    ...a: Parameters<Worker['postMessage']>
  ) {
    workers.add(this);
    return post.apply(this, a);
  });
  exec = createExecutor({ rollups: cfg, kv: memoryKvFactory().kv, workers: 0 });
  await exec.start();
  // A counter on each EVM rollup; a contract that loops until its gas runs out on the first.
  const deploy = (ns: number) =>
    evmTx(7, { data: deployCode(COUNTER_RUNTIME), nonce: 0n, gasLimit: 200_000n, chainId: chainOf(ns) });
  height++;
  const r = await exec.executeBlock(
    height,
    new Map([
      [
        EVM_NS,
        [
          deploy(EVM_NS),
          evmTx(7, { data: deployCode(Buffer.from('5b600056', 'hex')), nonce: 1n, gasLimit: 200_000n }),
        ],
      ],
      [EVM2_NS, [deploy(EVM2_NS)]],
    ]),
    { timeMs: height * 1000 },
  );
  counters.set(EVM_NS, r.get(EVM_NS)!.receipts[0]!.contractAddress!);
  loop = r.get(EVM_NS)!.receipts[1]!.contractAddress!;
  counters.set(EVM2_NS, r.get(EVM2_NS)!.receipts[0]!.contractAddress!);
  for (const ns of [EVM_NS, EVM2_NS]) pools.set(ns, pool(ns, 1_000));
  await Promise.all([...pools.values()].map((p) => p.start()));
  offloaded = offloadBundleSimulation({
    simulate: exec.simulate.bind(exec),
    rollups: new Map(cfg.filter((c) => c.kind !== 'opaque').map((c) => [c.namespace, c])),
    head: (ns) => exec.head(ns),
    pool: (ns) => pools.get(ns),
    onRun: (w) => runs[w]++,
    onTimeout: () => runs.timeout++,
  });
}, 60_000);
afterAll(async () => {
  vi.restoreAllMocks();
  for (const p of pools.values()) await p.stop();
  await exec.stop();
});

const eOp = fc.record({
  kind: fc.constantFrom('value', 'counter', 'counter', 'revert', 'poor', 'garbage', 'nonce'),
  from: fc.integer({ min: 0, max: 6 }),
  to: fc.integer({ min: 0, max: 11 }),
});
const tOp = fc.record({
  from: fc.integer({ min: 0, max: 9 }),
  to: fc.integer({ min: 0, max: 11 }),
  amount: fc.oneof({ weight: 5, arbitrary: fc.bigInt({ min: 0n, max: 40n }) }, fc.constant(10_000n)),
});
const legArb = fc.record({
  ns: fc.constantFrom(EVM_NS, EVM_NS, EVM2_NS, EVM2_NS, TRANSFER_NS, OPAQUE_NS),
  eOps: fc.array(eOp, { minLength: 1, maxLength: 4 }),
  tOps: fc.array(tOp, { minLength: 1, maxLength: 3 }),
  reverting: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
});

function evmLeg(ns: number, ops: { kind: string; from: number; to: number }[]): Uint8Array[] {
  const next = new Map<number, bigint>();
  const chainId = chainOf(ns);
  return ops.map((op) => {
    const n = next.get(op.from) ?? exec.accountNonce(ns, evmAddrHex(op.from));
    next.set(op.from, n + 1n);
    const c = counters.get(ns)!;
    if (op.kind === 'value')
      return evmTx(op.from, { to: evmAddr(op.to), value: 1000n, nonce: n, gasLimit: 21_000n, chainId });
    if (op.kind === 'counter')
      return evmTx(op.from, { to: c, data: word(BigInt(op.to + 1)), nonce: n, chainId });
    if (op.kind === 'revert') return evmTx(op.from, { to: c, data: word(0n), nonce: n, chainId });
    if (op.kind === 'nonce') return evmTx(op.from, { to: c, data: word(1n), nonce: n + 5n, chainId });
    if (op.kind === 'garbage') return Uint8Array.from([2, op.to, 7]);
    return evmTx(9 + (op.from % 3), { to: evmAddr(op.to), value: 1n, nonce: 0n, gasLimit: 21_000n, chainId });
  });
}

function transferLeg(ops: { from: number; to: number; amount: bigint }[]): Uint8Array[] {
  const next = new Map<number, bigint>();
  return ops.map((op) => {
    const n = next.get(op.from) ?? exec.accountNonce(TRANSFER_NS, tPub(op.from));
    next.set(op.from, n + 1n);
    return transfer(op.from, op.to, op.amount, n, 1n);
  });
}

type LegSpec = {
  ns: number;
  eOps: { kind: string; from: number; to: number }[];
  tOps: { from: number; to: number; amount: bigint }[];
  reverting: number[];
};

/** A bundle of the generated legs, on the current nonces. */
function randomBundle(legs: LegSpec[], atomicity: string): Bundle {
  return {
    ...unsignedBundle(
      legs.map((l) => {
        const txs =
          l.ns === TRANSFER_NS
            ? transferLeg(l.tOps)
            : l.ns === OPAQUE_NS
              ? [Uint8Array.from([1, 2, 3])]
              : evmLeg(l.ns, l.eOps);
        const rollup = cfg.find((r) => r.namespace === l.ns)!;
        const rev = [...new Set(l.reverting.filter((i) => i < txs.length))];
        return {
          namespace: l.ns,
          txs,
          revertingTxHashes: rev.map((i) => legTxHash(rollup, txs[i]!)),
        };
      }),
    ),
    atomicity: atomicity as 'execution' | 'inclusion',
  };
}

/** Both simulations of one bundle at one height (nothing executes in between). */
async function both(b: Bundle, h?: { height?: number }): Promise<[unknown, unknown]> {
  // One block time for both (the default, the current second, may turn between them).
  const o = { ...h, timeMs: Math.floor(Date.now() / 1000) * 1000 };
  const settle = (p: Promise<unknown>) => p.catch((e: unknown) => ({ error: (e as Error).message }));
  const w = await settle(offloaded(b, o));
  const m = await settle(exec.simulate(b, o));
  return [w, m];
}

describe('bundle simulations on call workers', () => {
  it('equal the executor on random bundles, while blocks execute between them', async () => {
    const before = runs.worker;
    let applied = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(legArb, { minLength: 1, maxLength: 4, selector: (l) => l.ns }),
        fc.constantFrom('execution', 'inclusion'),
        fc.array(eOp, { maxLength: 3 }),
        async (legs, atomicity, publicOps) => {
          const bundle = randomBundle(legs, atomicity);
          const [w, m] = await both(bundle);
          expect(w).toEqual(m);
          if ((m as SimResult).applies === true) applied++;
          else refused++;
          // A block moves every rollup on (its diff reaches the workers' replicas).
          await block(
            new Map([
              [EVM_NS, evmLeg(EVM_NS, publicOps)],
              [EVM2_NS, evmLeg(EVM2_NS, publicOps)],
            ]),
          );
        },
      ),
      { numRuns: 30, endOnFailure: true, seed: 20261207 },
    );
    expect(applied).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    // Every bundle with an EVM leg ran on the workers (the others on the main thread).
    expect(runs.worker - before).toBeGreaterThan(10);
  }, 120_000);

  it("the pool's presimulation on the workers takes the main thread's verdicts and selections (ADR 0313)", async () => {
    const threads = { worker: 0, main: 0 };
    // One block time for both pools per case (a refusal's reason names the simulated block's hash).
    let t = 0;
    // The node's main-thread hook: an executor refusal keeps the candidate.
    const main = (b: Bundle) => exec.simulate(b, { timeMs: t }).catch(() => ({ applies: true }));
    const onWorkers = presimulateOnWorkers({
      offload: offloadBundleSimulationWhere({
        simulate: exec.simulate.bind(exec),
        rollups: new Map(cfg.filter((c) => c.kind !== 'opaque').map((c) => [c.namespace, c])),
        head: (ns) => exec.head(ns),
        pool: (ns) => pools.get(ns),
        now: () => t,
      }),
      main,
      gas: () => 1,
      minGas: 0, // every bundle through the offloading path
    });
    /** A pool presimulating through `pre`, recording each verdict it was given. */
    const poolWith = (pre: BundleSimulateHook, seen: unknown[]) =>
      createBundlePool({
        chainId: 'presim-test',
        rollups: cfg,
        rollupTxHash: rollupTxHasher(cfg),
        height: () => height,
        simulate: main,
        presimulate: async (b, h) => {
          const r = await pre(b, h);
          if (r.thread !== undefined) threads[r.thread]++;
          seen.push({ applies: r.applies, reason: r.reason, height: r.height });
          return r;
        },
      });
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uniqueArray(legArb, { minLength: 1, maxLength: 3, selector: (l) => l.ns }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.constantFrom('execution', 'inclusion'),
        fc.array(eOp, { maxLength: 3 }),
        async (bundles, atomicity, publicOps) => {
          t = Math.floor(Date.now() / 1000) * 1000;
          const seenW: unknown[] = [];
          const seenM: unknown[] = [];
          const w = poolWith(onWorkers, seenW);
          const m = poolWith(main, seenM);
          for (const legs of bundles) {
            const b = randomBundle(legs, atomicity);
            expect(w.admit(b, 'rpc')).toEqual(m.admit(b, 'rpc'));
          }
          expect(await w.presimulate(height + 1)).toBe(await m.presimulate(height + 1));
          expect(seenW).toEqual(seenM);
          refused += seenM.filter((v) => (v as { applies: boolean }).applies === false).length;
          const budget = { maxBytes: 1 << 20, maxTxs: 1000 };
          const [sw, sm] = [await w.select(height + 1, budget), await m.select(height + 1, budget)];
          expect(sw.map((x) => x.bundleHash)).toEqual(sm.map((x) => x.bundleHash));
          await block(new Map([[EVM_NS, evmLeg(EVM_NS, publicOps)]]));
        },
      ),
      { numRuns: 15, endOnFailure: true, seed: 20261207 },
    );
    expect(refused).toBeGreaterThan(0);
    expect(threads.worker).toBeGreaterThan(5);
  }, 120_000);

  it('takes the height the executor takes: the latest, or refuses another the same way', async () => {
    const b = unsignedBundle([
      {
        namespace: EVM_NS,
        txs: evmLeg(EVM_NS, [{ kind: 'counter', from: 1, to: 2 }]),
        revertingTxHashes: [],
      },
      { namespace: TRANSFER_NS, txs: transferLeg([{ from: 1, to: 2, amount: 3n }]), revertingTxHashes: [] },
    ]);
    const h = exec.head(EVM_NS).height;
    const [w, m] = await both(b, { height: h });
    expect(w).toEqual(m);
    expect((w as SimResult).height).toBe(h);
    expect((w as SimResult).legs[0]!.stateRoot).toBeInstanceOf(Uint8Array);
    const [w1, m1] = await both(b, { height: h - 1 });
    expect(w1).toEqual(m1);
    expect((w1 as { error: string }).error).toMatch(/only the latest executed state/);
  });

  it('answers a leg past rpc.ethCallTimeoutMs with eth_call’s timeout, then runs the next on the new worker', async () => {
    const p = pools.get(EVM_NS)!;
    const t0 = p.timeouts;
    const spin = evmTx(3, {
      to: loop,
      nonce: exec.accountNonce(EVM_NS, evmAddrHex(3)),
      gasLimit: 30_000_000n,
    });
    const b = unsignedBundle([{ namespace: EVM_NS, txs: [spin], revertingTxHashes: [] }]);
    const mainBefore = runs.main;
    const timedOut = runs.timeout;
    const err = await offloaded(b).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallTimeoutError);
    expect((err as Error).message).toBe('execution aborted (timeout = 1s)');
    expect(p.timeouts).toBe(t0 + 1);
    expect(runs.timeout).toBe(timedOut + 1); // ordo_rpc_bundle_simulation_timeouts_total
    expect(runs.main).toBe(mainBefore); // never ran on the main thread
    const ok = unsignedBundle([
      { namespace: EVM_NS, txs: evmLeg(EVM_NS, [{ kind: 'value', from: 2, to: 3 }]), revertingTxHashes: [] },
    ]);
    const w = runs.worker;
    const [a, m] = await both(ok);
    expect(a).toEqual(m);
    expect(runs.worker).toBe(w + 1);
    expect(runs.timeout).toBe(timedOut + 1);
  }, 30_000);

  it('answers as the executor when the worker dies with the leg, or none is ready', async () => {
    const b = unsignedBundle([
      {
        namespace: EVM2_NS,
        txs: evmLeg(EVM2_NS, [{ kind: 'counter', from: 4, to: 5 }]),
        revertingTxHashes: [],
      },
      { namespace: EVM_NS, txs: evmLeg(EVM_NS, [{ kind: 'revert', from: 4, to: 5 }]), revertingTxHashes: [] },
    ]);
    const expected = await exec.simulate(b);
    const p = pools.get(EVM2_NS)!;
    const alive = [...workers];
    const answer = offloaded(b);
    // The leg is posted on the next turn; end every worker of that moment meanwhile.
    await new Promise((r) => setImmediate(r));
    for (const w of alive) void w.terminate();
    expect(await answer).toEqual(expected);
    // No worker at all: the main thread answers.
    await p.stop();
    await pools.get(EVM_NS)!.stop();
    const main = runs.main;
    expect(await offloaded(b)).toEqual(expected);
    expect(runs.main).toBe(main + 1);
    // Without the main-thread fallback (the pool's heavy presimulations, ADR 0332): no verdict, no run.
    const workersOnly = offloadBundleSimulationWhere({
      simulate: exec.simulate.bind(exec),
      rollups: new Map(cfg.filter((c) => c.kind !== 'opaque').map((c) => [c.namespace, c])),
      head: (ns) => exec.head(ns),
      pool: (ns) => pools.get(ns),
      onRun: (w) => runs[w]++,
      mainFallback: false,
    });
    await expect(workersOnly(b)).rejects.toBeInstanceOf(LegOffWorker);
    expect(runs.main).toBe(main + 1);
  }, 30_000);
});
