/**
 * Bundle benchmark (issue #22): one real `ordo testnet up --validators 4 --load RATE` (background load
 * over the opaque rollups) while this script offers `--bundles` bundles a second (a `--cross` share
 * cross-rollup, a `--fail` share built to fail) through JSON-RPC `ordo_sendBundle` over the executed
 * rollups, follows each to its outcome, then reads every leg's effect back and runs the atomicity check.
 *
 *   npm run bench:bundles -- --out FILE [--load 5000] [--bundles 200] [--duration 60] [--warmup 10]
 *                            [--cross 0.5] [--fail 0.1]
 * JSON: {bundlesPerSec, preconfirmP50Ms, preconfirmP99Ms, appliedShare, atomicityViolations,
 * backgroundTxPerSec, …details}. Targets: p50 ≤ 250 ms, p99 ≤ 750 ms, 0 violations, background within
 * 10 % of the same run without bundles (`--bundles 0`).
 *
 * Effects are read through each EVM rollup's `eth_getBalance`; the transfer rollup has no balance read
 * over RPC yet, so transfer legs count as `uncheckedLegs` and the check covers EVM legs only.
 * NEVER RUN YET: it needs the bundle pool, API and executor (other branches of issue #22).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  BundlePlanner,
  checkAtomicity,
  type PlannedBundle,
  sendBundles,
  summarize,
  WsBundleFeed,
} from '../src/loadgen/index.ts';
import { rpcCall } from '../src/rpc/index.ts';
import type { TestnetReport } from '../testnet/orchestrator.ts';
import { findFreeBasePort, testnetRollups } from '../testnet/setup.ts';
import { readState } from '../testnet/state.ts';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    load: { type: 'string', default: '5000' },
    bundles: { type: 'string', default: '200' },
    duration: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '10' },
    cross: { type: 'string', default: '0.5' },
    fail: { type: 'string', default: '0.1' },
  },
});
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const VALIDATORS = 4;
const durationSec = Number(args.duration);
const warmupSec = Number(args.warmup);
const bundleRate = Number(args.bundles);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ordo-bench-bundles-'));
  const report = join(dir, 'report.json');
  const base = await findFreeBasePort(VALIDATORS);
  const drainSec = 15;
  const argv = [
    join(REPO, 'bin', 'ordo.js'),
    'testnet',
    'up',
    '--validators',
    String(VALIDATORS),
    '--rollups',
    '4',
    '--load',
    String(args.load),
    '--load-namespaces',
    '1',
    '--duration',
    String(durationSec + drainSec),
    '--warmup',
    String(warmupSec),
    '--dashboard',
    '0',
    '--base-port',
    String(base),
    '--dir',
    dir,
    '--report',
    report,
  ];
  const child = spawn(process.execPath, argv, { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  try {
    let urls: string[] = [];
    for (let i = 0; i < 180 && urls.length === 0; i++) {
      const s = readState(dir);
      if (s?.nodes.every((n) => n.state === 'running')) urls = s.nodes.map((n) => n.rpc);
      else await sleep(500);
    }
    if (urls.length === 0) throw new Error('the testnet did not come up within 90 s');
    await sleep(warmupSec * 1000);
    const rollups = testnetRollups(4).map((r) => ({
      namespace: r.namespace,
      kind: r.kind,
      ...(r.evmChainId !== undefined ? { evmChainId: r.evmChainId } : {}),
    }));
    const planner = new BundlePlanner({
      rollups,
      // The background load covers the opaque rollup only: every demo account is free for bundles.
      accounts: Array.from({ length: 64 }, (_, i) => i),
      crossShare: Number(args.cross),
      failShare: Number(args.fail),
      runId: `${Date.now()}`,
      chainId: readState(dir)?.chainId ?? 'ordo-testnet',
      random: Math.random,
    });
    const feed = new WsBundleFeed();
    const sent =
      bundleRate > 0
        ? await sendBundles({
            urls,
            planner,
            rate: bundleRate,
            durationMs: durationSec * 1000,
            call: rpcCall,
            feed,
          })
        : undefined;
    feed.close();
    const metrics = await scrapeStages(urls[0]!);
    // Read every EVM leg's effect; transfer legs cannot be read over RPC yet.
    const balances = new Map<string, bigint>();
    let uncheckedLegs = 0;
    const evmNs = new Set(rollups.filter((r) => r.kind === 'evm').map((r) => r.namespace));
    const checkable: PlannedBundle[] = [];
    for (const { bundle } of sent?.bundles ?? []) {
      const legs = bundle.legs.filter((l) => evmNs.has(l.namespace));
      uncheckedLegs += bundle.legs.length - legs.length;
      if (legs.length === 0) continue;
      checkable.push({ ...bundle, legs });
      for (const l of legs) {
        const hex = (await rpcCall(
          `${urls[0]}/evm/${l.namespace}`,
          'eth_getBalance',
          [l.recipient, 'latest'],
          5000,
        )) as string;
        balances.set(`${l.namespace}/${l.recipient}`, BigInt(hex));
      }
    }
    const atomicity = checkAtomicity(checkable, (ns, to) => balances.get(`${ns}/${to}`) ?? 0n);
    await exited;
    const bg = JSON.parse(readFileSync(report, 'utf8')) as TestnetReport;
    const lat = summarize(sent?.preconfirmMs ?? []);
    const finished =
      (sent?.applied ?? 0) +
      (sent?.reverted ?? 0) +
      Object.values(sent?.dropped ?? {}).reduce((a, b) => a + b, 0);
    const out = {
      bundlesPerSec: Math.round(((sent?.accepted ?? 0) / durationSec) * 10) / 10,
      preconfirmP50Ms: Math.round(lat.p50),
      preconfirmP99Ms: Math.round(lat.p99),
      appliedShare: finished === 0 ? 0 : Math.round(((sent?.applied ?? 0) / finished) * 1000) / 1000,
      atomicityViolations: atomicity.violations,
      backgroundTxPerSec: bg.txPerSec,
      details: {
        offeredBundlesPerSec: bundleRate,
        backgroundOfferedTxPerSec: Number(args.load),
        sent:
          sent === undefined
            ? null
            : { ...sent, bundles: undefined, preconfirmMs: undefined, stages: undefined },
        stagesMs:
          sent === undefined
            ? null
            : {
                accepted: summarize(sent.stages.acceptedMs),
                committedSeen: summarize(sent.stages.committedMs),
                preconfirmSeen: summarize(sent.stages.preconfirmMs),
              },
        nodeStagesMeanMs: metrics,
        atomicity: { ...atomicity, uncheckedLegs },
      },
    };
    const text = `${JSON.stringify(out, null, 2)}\n`;
    if (args.out !== undefined) writeFileSync(args.out, text);
    process.stdout.write(text);
  } finally {
    if (child.exitCode === null) child.kill('SIGINT');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Means (ms) of the node's bundle stage histograms, read from node0's /metrics. */
async function scrapeStages(url: string): Promise<Record<string, number | null>> {
  const names = {
    admitToCommit: 'ordo_bundle_commit_seconds',
    proposerSelect: 'ordo_bundle_select_seconds',
    commitToPreconf: 'ordo_bundle_preconfirm_seconds',
  };
  const out: Record<string, number | null> = {};
  let text = '';
  try {
    text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  } catch {
    // no metrics: every stage null
  }
  for (const [k, n] of Object.entries(names)) {
    const sum = Number(new RegExp(`^${n}_sum (\\S+)`, 'm').exec(text)?.[1]);
    const count = Number(new RegExp(`^${n}_count (\\S+)`, 'm').exec(text)?.[1]);
    out[k] = count > 0 ? Math.round((sum / count) * 10_000) / 10 : null;
  }
  return out;
}

await main();
