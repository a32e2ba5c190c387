/**
 * The wall-clock bound on eth_call / eth_estimateGas (ADR 0288), measured over HTTP against one real
 * `ordo start` of a checkout (`--repo`, default this one; its own `ordo init`, so an older checkout works):
 *
 *   keccakCall:     eth_call of a keccak loop (state override `code`, no gas named: 50 M)
 *   nextCallMs:     a cheap eth_call right after it (with the bound: waits for the replacement worker)
 *   keccakEstimate: eth_estimateGas of the same loop (cap: the rollup's block gas limit)
 *   worstStatusMs:  the slowest `ordo_status` answer while each ran (polled every 20 ms): the main thread
 *   metric:         the `ordo_eth_call_timeouts_total` samples afterwards
 *
 *   node bench/eth-timeout.ts [--repo DIR] [--port 18545] [--out FILE]
 *
 * Wrap it in `flock /tmp/ordo-bench.lock`; read loadAvg next to every figure (the host is shared).
 */

import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeResult } from './lib/json-out.ts';
import { sleep, startOneNode } from './lib/one-node.ts';

const { values: args } = parseArgs({
  options: {
    repo: { type: 'string', default: join(dirname(fileURLToPath(import.meta.url)), '..') },
    port: { type: 'string', default: '18545' },
    out: { type: 'string' },
  },
});
const repo = args.repo;
const dev = await startOneNode({ repo, port: Number(args.port), label: 'eth-timeout', logs: true });
const logs = dev.logs;
/** A JSON-RPC request, its answer time rounded to milliseconds. */
const rpc = async (path: string, method: string, params: unknown[]) => {
  const a = await dev.rpc(path, method, params);
  return { ...a, ms: Math.round(a.ms) };
};
type Answer = Awaited<ReturnType<typeof rpc>>;

try {
  await sleep(1_000);
  const addr = `0x${'0e'.repeat(20)}`;
  // JUMPDEST, KECCAK256(0, 32), POP, JUMP 0: ~56 gas an iteration, the slowest per gas tried (ADR 0288).
  const keccakLoop = { [addr]: { code: '0x5b60206000205060005600' } };
  const cheap = () => rpc('/evm/3', 'eth_call', [{ to: `0x${'0f'.repeat(20)}` }, 'latest']);
  await cheap();
  /** Run `p` while polling ordo_status every 20 ms: the slowest status answer meanwhile. */
  const polled = async (p: Promise<Answer>) => {
    let worst = 0;
    let done = false;
    const poll = (async () => {
      while (!done) {
        worst = Math.max(worst, (await rpc('', 'ordo_status', [])).ms);
        await sleep(20);
      }
    })();
    const a = await p;
    done = true;
    await poll;
    return { ms: a.ms, answer: a.error?.message ?? 'ok', code: a.error?.code, worstStatusMs: worst };
  };
  const out: Record<string, unknown> = { repo, loadAvgBefore: loadavg()[0] };
  out.keccakCall = await polled(rpc('/evm/3', 'eth_call', [{ to: addr }, 'latest', keccakLoop]));
  out.nextCallMs = (await cheap()).ms;
  out.keccakEstimate = await polled(rpc('/evm/3', 'eth_estimateGas', [{ to: addr }, 'latest', keccakLoop]));
  out.nextCallAfterEstimateMs = (await cheap()).ms;
  const metrics = await (await fetch(`${dev.url}/metrics`)).text();
  out.metric = metrics.split('\n').filter((l) => l.startsWith('ordo_eth_call_timeouts_total'));
  out.workerWarnings = logs
    .join('')
    .split('\n')
    .filter((l) => l.includes('eth call'))
    .map((l) => (JSON.parse(l) as { msg: string }).msg);
  out.loadAvgAfter = loadavg()[0];
  writeResult(out, args.out);
} finally {
  await dev.stop();
}
