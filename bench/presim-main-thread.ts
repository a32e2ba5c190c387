/**
 * What the bundle pool's presimulation of EVM-heavy bundles does to a node's main thread (ADR 0313), over
 * HTTP against one real `ordo start` of a checkout (`--repo`, default this one; its own `ordo init`: a
 * one-validator devnet, so the node proposes, and presimulates, every height):
 *
 *   idle:     `ordo_status` latency (polled every 20 ms), the largest gap between two committed heights
 *             and light bundles' pre-confirmation latency over `--seconds`, no heavy bundle
 *   heavy:    the same while, at each new height h, a client sends one heavy bundle for height h + 2
 *             (minHeight = maxHeight = h + 2): one EVM creation transaction whose init code loops until
 *             its `--gas` is spent (JUMPDEST PUSH1 0 JUMP). It is out of window for h + 1, so the pool
 *             simulates it first in the presimulation after h + 1 commits; it would revert, so `select`
 *             leaves it out and it expires at h + 2 (it is never executed: the window measures the
 *             simulation alone)
 *   --applies: instead, the heavy bundles apply: one at a time (the next sent once the last is committed
 *             or dropped), open for `--window` heights, one creation transaction of demo key 0 whose init
 *             code counts down a loop that spends ~90 % of `--gas`, then stops; the figures add how many
 *             were committed / dropped and the ms from sending to committed (ADR 0333's trade-off: a
 *             heavy bundle is placed only once a presimulation answers within its height)
 *   light:    in both windows, at each new height, one EVM value transfer bundle (demo key 1), followed
 *             with ordo_getBundleStatus every 20 ms until it carries its pre-confirmation
 *   figures:  status p50 / p99 / max ms, max height gap ms, heights made, light bundles' pre-confirmation
 *             p50 / p99 ms, the node's CPU (user+sys) per second of each window, and the node's
 *             ordo_bundle_presimulations_total{thread} / ordo_bundle_simulations_total{verdict} /
 *             ordo_consensus_round_failures_total{reason} / ordo_bundle_select_skipped_total{reason}
 *             deltas; and what the heights wait for (ADR 0333): the intervals between heights as the poll
 *             saw them (p50 / p90 / max ms) and the proposals' `select` from ordo_bundle_select_seconds
 *             (count, mean ms, and the smallest bucket bound that holds every one: the slowest, ms)
 *
 *   node bench/presim-main-thread.ts [--repo DIR] [--port 18547] [--seconds 15] [--gas 30000000]
 *     [--applies] [--window 30] [--no-idle] [--out FILE]
 *
 * Wrap it in `flock /tmp/ordo-bench.lock`; run it A/B (main vs this branch) interleaved; read loadAvg.
 */

import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTx } from '@ethereumjs/tx';
import { demoEvmKey } from '../src/config/index.ts';
import { evmCommon, signedLoopCreation } from './lib/call-pool-fixture.ts';
import { writeResult } from './lib/json-out.ts';
import { nodeCpuMeter, pct, pollStatus, sleep, startOneNode } from './lib/one-node.ts';

const { values: args } = parseArgs({
  options: {
    repo: { type: 'string', default: join(dirname(fileURLToPath(import.meta.url)), '..') },
    port: { type: 'string', default: '18547' },
    seconds: { type: 'string', default: '15' },
    gas: { type: 'string', default: '30000000' },
    applies: { type: 'boolean', default: false },
    window: { type: 'string', default: '30' },
    'no-idle': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const repo = args.repo;
const windowMs = Number(args.seconds) * 1000;
const EVM_NS = 3;
const dev = await startOneNode({ repo, port: Number(args.port), label: 'presim' });
const { rpc } = dev;
const common = evmCommon();
const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`;

/** Sums of the node's bundle metrics by label (absent on a checkout without them). */
async function metrics(): Promise<Record<string, number>> {
  const text = await (await fetch(`${dev.url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m =
      /^(ordo_bundle_presimulations_total|ordo_bundle_simulations_total|ordo_bundle_presimulated_total|ordo_consensus_round_failures_total|ordo_bundle_select_skipped_total|ordo_bundle_select_seconds_(?:sum|count|bucket))(\{[^}]*\})? (\S+)$/.exec(
        line,
      );
    if (m === null) continue;
    const label = /(thread|verdict|reason|le)="([^"]+)"/.exec(m[2] ?? '');
    const key = `${m[1]}${label === null ? '' : `{${label[1]}=${label[2]}}`}`;
    out[key] = (out[key] ?? 0) + Number(m[3]);
  }
  return out;
}

/** Demo key 1's next nonce (a fresh devnet: nothing sent from it yet). */
let lightNonce = 0n;

/** Send one light bundle; resolve with the ms until its status carries a pre-confirmation (or undefined). */
async function light(until: number): Promise<number | undefined> {
  const raw = createTx(
    {
      type: 2,
      nonce: lightNonce++,
      gasLimit: 21_000n,
      maxFeePerGas: 2_000_000_000n,
      maxPriorityFeePerGas: 1n,
      to: '0x00000000000000000000000000000000000000aa',
      value: 1n,
    },
    { common },
  ).sign(demoEvmKey(1));
  const t0 = performance.now();
  const a = await rpc('', 'ordo_sendBundle', [
    { legs: [{ namespace: EVM_NS, txs: [hex(raw.serialize())] }] },
  ]);
  if (a.error !== undefined) {
    lightNonce--;
    return undefined;
  }
  const hash = (a.result as { bundleHash: string }).bundleHash;
  while (performance.now() < until + 10_000) {
    const s = (await rpc('', 'ordo_getBundleStatus', [hash])).result as {
      status?: string;
      preconfirmation?: unknown;
    } | null;
    if (s?.preconfirmation !== undefined) return performance.now() - t0;
    if (s?.status === 'dropped') return undefined;
    await sleep(20);
  }
  return undefined;
}

const loopHex = hex(signedLoopCreation(BigInt(args.gas), common));

/**
 * A creation transaction of demo key 0 whose init code runs a countdown loop over ~90 % of `gas` and then
 * stops (26 gas an iteration): PUSH3 n; JUMPDEST; PUSH1 1; SWAP1; SUB; DUP1; PUSH1 4; JUMPI; STOP.
 */
function countdownCreation(gas: bigint, nonce: bigint): string {
  const n = Math.min(0xffffff, Math.floor((Number(gas) * 0.9 - 60_000) / 26));
  const code = Uint8Array.from([
    0x62,
    n >> 16,
    (n >> 8) & 0xff,
    n & 0xff,
    0x5b,
    0x60,
    1,
    0x90,
    0x03,
    0x80,
    0x60,
    4,
    0x57,
    0x00,
  ]);
  const t = createTx(
    { type: 2, nonce, gasLimit: gas, maxFeePerGas: 2_000_000_000n, maxPriorityFeePerGas: 1n, data: code },
    { common },
  );
  return hex(t.sign(demoEvmKey(0)).serialize());
}

/** Applying heavy bundles, one pending at a time: what became of each. */
const applying = { nonce: 0n, busy: false, committed: 0, dropped: [] as string[], commitMs: [] as number[] };

async function sendApplying(h: number, until: number): Promise<void> {
  applying.busy = true;
  try {
    const t0 = performance.now();
    const a = await rpc('', 'ordo_sendBundle', [
      {
        legs: [{ namespace: EVM_NS, txs: [countdownCreation(BigInt(args.gas), applying.nonce)] }],
        maxHeight: h + Number(args.window),
      },
    ]);
    if (a.error !== undefined) {
      applying.dropped.push(`refused: ${a.error.message}`);
      return;
    }
    const hash = (a.result as { bundleHash: string }).bundleHash;
    while (performance.now() < until) {
      const s = (await rpc('', 'ordo_getBundleStatus', [hash])).result as {
        status?: string;
        reason?: string;
      } | null;
      if (s?.status === 'committed') {
        applying.committed++;
        applying.commitMs.push(performance.now() - t0);
        applying.nonce++;
        return;
      }
      if (s?.status === 'dropped') {
        applying.dropped.push(s.reason ?? 'dropped');
        return;
      }
      await sleep(50);
    }
  } finally {
    applying.busy = false;
  }
}

/** Poll ordo_status every 20 ms for `ms`; at each new height a light bundle, and a heavy one if `heavy`. */
async function measure(ms: number, heavy: boolean) {
  const end = performance.now() + ms;
  const cpu = nodeCpuMeter(dev);
  const m0 = await metrics();
  const lights: Promise<number | undefined>[] = [];
  const sent = { heavy: 0, heavyRefused: 0 };
  const heightAt: number[] = [];
  const status = await pollStatus(dev, end, (h) => {
    heightAt.push(performance.now());
    lights.push(light(end));
    if (heavy && args.applies) {
      if (!applying.busy) void sendApplying(h, end);
    } else if (heavy) {
      void rpc('', 'ordo_sendBundle', [
        { legs: [{ namespace: EVM_NS, txs: [loopHex] }], minHeight: h + 2, maxHeight: h + 2 },
      ]).then((r) => {
        if (r.error === undefined) sent.heavy++;
        else sent.heavyRefused++;
      });
    }
  });
  const done = (await Promise.all(lights)).filter((x): x is number => x !== undefined);
  const m1 = await metrics();
  const delta: Record<string, number> = {};
  for (const [k, v] of Object.entries(m1)) if (v - (m0[k] ?? 0) !== 0) delta[k] = v - (m0[k] ?? 0);
  const gaps = heightAt.slice(1).map((t, i) => t - heightAt[i]!);
  const selects = delta.ordo_bundle_select_seconds_count ?? 0;
  // The slowest select lies at or below the smallest bucket bound whose cumulative count holds them all.
  const bounds = Object.keys(delta)
    .map((k) => /^ordo_bundle_select_seconds_bucket\{le=([^}]+)\}$/.exec(k)?.[1])
    .filter((b): b is string => b !== undefined && b !== '+Inf')
    .map(Number)
    .sort((a, b) => a - b);
  const bucket = (b: number) => delta[`ordo_bundle_select_seconds_bucket{le=${b}}`] ?? 0;
  const slowestBound = bounds.find((b) => bucket(b) >= selects);
  for (const k of Object.keys(delta)) if (k.startsWith('ordo_bundle_select_seconds_bucket')) delete delta[k];
  return {
    ...status,
    heightGapP50Ms: pct(gaps, 0.5),
    heightGapP90Ms: pct(gaps, 0.9),
    selects,
    selectMeanMs:
      selects === 0 ? 0 : Math.round(((delta.ordo_bundle_select_seconds_sum ?? 0) / selects) * 10_000) / 10,
    selectSlowestAtMostMs: selects === 0 ? 0 : slowestBound === undefined ? null : slowestBound * 1000,
    lightBundles: lights.length,
    lightPreconfirmed: done.length,
    preconfirmP50Ms: pct(done, 0.5),
    preconfirmP99Ms: pct(done, 0.99),
    heavySent: sent.heavy,
    heavyRefused: sent.heavyRefused,
    ...(heavy && args.applies
      ? {
          applyingCommitted: applying.committed,
          applyingDropped: applying.dropped,
          applyingCommitMs: applying.commitMs.map((x) => Math.round(x)),
        }
      : {}),
    nodeCpuPerSec: cpu.perSecond(ms),
    metrics: delta,
  };
}

try {
  await sleep(2_000);
  const out: Record<string, unknown> = { repo, windowMs, gas: Number(args.gas), loadAvgBefore: loadavg()[0] };
  out.applies = args.applies;
  if (!args['no-idle']) out.idle = await measure(windowMs, false);
  out.heavy = await measure(windowMs, true);
  out.loadAvgAfter = loadavg()[0];
  writeResult(out, args.out);
} finally {
  await dev.stop();
}
