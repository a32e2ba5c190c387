/**
 * What a 30 M-gas `eth_callBundle` does to a node's main thread (ADR 0305), over HTTP against one real
 * `ordo start` of a checkout (`--repo`, default this one; its own `ordo init`: a one-validator devnet):
 *
 *   idle:     `ordo_status` latency (polled every 20 ms) and the largest gap between two committed
 *             heights over `--seconds` with no bundle
 *   bundles:  the same while a client sends back-to-back eth_callBundle requests of one EVM creation
 *             transaction whose init code loops until its 30 M gas is spent (JUMPDEST PUSH1 0 JUMP),
 *             waiting only the `retryAfterMs` the gas bucket (rpc.bundleSimulationGasPerSec) asks for
 *   figures:  status p50 / p99 / max ms, max height gap ms, heights made, bundles answered and their
 *             median latency, the node's CPU (user+sys) per second of each window
 *
 *   node bench/callbundle-main-thread.ts [--repo DIR] [--port 18546] [--seconds 15] [--out FILE]
 *
 * Wrap it in `flock /tmp/ordo-bench.lock`; run it A/B (main vs this branch) interleaved; read loadAvg.
 */

import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { signedLoopCreation } from './lib/call-pool-fixture.ts';
import { writeResult } from './lib/json-out.ts';
import { nodeCpuMeter, pct, pollStatus, sleep, startOneNode } from './lib/one-node.ts';

const { values: args } = parseArgs({
  options: {
    repo: { type: 'string', default: join(dirname(fileURLToPath(import.meta.url)), '..') },
    port: { type: 'string', default: '18546' },
    seconds: { type: 'string', default: '15' },
    out: { type: 'string' },
  },
});
const repo = args.repo;
const windowMs = Number(args.seconds) * 1000;
const dev = await startOneNode({ repo, port: Number(args.port), label: 'callbundle' });
const { rpc } = dev;

/** Poll ordo_status every 20 ms for `ms`, while `load` runs (if any); the window's figures. */
async function measure(ms: number, load?: (until: number) => Promise<number[]>) {
  const end = performance.now() + ms;
  const cpu = nodeCpuMeter(dev);
  const poll = pollStatus(dev, end);
  const bundleMs = load === undefined ? [] : await load(end);
  return {
    ...(await poll),
    bundles: bundleMs.length,
    bundleMedianMs: pct(bundleMs, 0.5),
    nodeCpuPerSec: cpu.perSecond(ms),
  };
}

try {
  await sleep(2_000);
  const rawHex = `0x${Buffer.from(signedLoopCreation(30_000_000n)).toString('hex')}`;
  const answers: Record<string, number> = {};
  const spam = async (until: number) => {
    const took: number[] = [];
    while (performance.now() < until) {
      const a = await rpc('/evm/3', 'eth_callBundle', [{ txs: [rawHex], blockNumber: '0xffff' }]);
      const key = a.error === undefined ? 'ok' : `${a.error.code} ${a.error.message.slice(0, 60)}`;
      answers[key] = (answers[key] ?? 0) + 1;
      if (a.error === undefined) took.push(a.ms);
      else await sleep(Math.min(2_000, a.error.data?.retryAfterMs ?? 200));
    }
    return took;
  };
  const out: Record<string, unknown> = { repo, windowMs, loadAvgBefore: loadavg()[0] };
  out.idle = await measure(windowMs);
  out.bundles = await measure(windowMs, spam);
  out.answers = answers;
  out.loadAvgAfter = loadavg()[0];
  writeResult(out, args.out);
} finally {
  await dev.stop();
}
