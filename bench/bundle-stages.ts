/**
 * Where the nodes' CPU goes in a `bench:bundles --cpu-prof DIR` run: V8 CPU profiles of every node's
 * main thread and worker threads (`CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile`, tid 0 = main
 * thread) charged to the stages of a bundle's path, inside the measured window (DIR/window.json).
 *
 * A sample goes to the innermost bundle stage anywhere on its stack (admission, gossip, pool, simulation,
 * builder placement, executor bundle groups, pre-confirmation, status fan-out): the EVM run of a
 * simulation is the simulation's, the ed25519 signing of a pre-confirmation is the pre-confirmation's.
 * A stack with no bundle stage goes to the innermost generic stage it knows (consensus, gossip, mempool,
 * RPC, store, EVM execution…), `(garbage collector)` to GC, `(program)` to V8/native.
 *
 *   node bench/bundle-stages.ts DIR [--per N] [--base DIR2 --base-per N2] [--json]
 *
 * `--per N` divides by N (e.g. committed bundles in the window: µs per bundle); with `--base` (the run
 * without bundles) and `--base-per` each stage also gets the base run's figure per its own N.
 */
import { parseArgs } from 'node:util';
import {
  type CallFrame,
  type CpuProfile,
  chargeSamples,
  readProfileDir,
  type Window,
} from './profile-stages.ts';

/** Stages a bundle causes: the innermost one on a stack wins over any generic stage. */
const BUNDLE_RULES: [RegExp, string][] = [
  [/\/src\/node\/preconf|\/src\/codec\/preconf/, 'bundle: pre-confirmation signing'],
  [/\/src\/mempool\/bundle-status|\/src\/loadgen\/bundle-feed/, 'bundle: status tracking and fan-out'],
  [/\/src\/exec\/bundles/, 'bundle: executor bundle groups'],
  [/\/src\/exec\/sim-runs/, 'bundle: executor reuse of simulation runs'],
  [
    /\/src\/eth-rpc\/bundle-sim|\/src\/eth-rpc\/call-bundle|\/src\/eth-rpc\/leg-job|\/src\/exec\/simulate/,
    'bundle: simulation',
  ],
  [/\/src\/builder\/layout/, 'bundle: builder placement (spans)'],
  [/\/src\/mempool\/bundle-(pool|spans|metrics|types)/, 'bundle: pool (select, presimulate, admit)'],
  [/\/src\/p2p\/bundle-gossip/, 'bundle: gossip'],
  [
    /\/src\/rpc\/bundles|\/src\/mempool\/bundle-check|\/src\/codec\/bundle/,
    'bundle: RPC admission and checks',
  ],
];
/** Everything else, by the innermost frame a rule knows. */
const GENERIC_RULES: [RegExp, string][] = [
  [/\/src\/builder\//, 'builder (block assembly and verify)'],
  [/\/src\/exec\/evm\/|@ethereumjs\//, 'EVM execution (blocks)'],
  [/\/src\/exec\//, 'executor (other)'],
  [
    /\/src\/consensus\/wal|\/src\/store\/|\/classic-level\/|\/abstract-level\/|\/lmdb\//,
    'store (LevelDB, WAL)',
  ],
  [/\/src\/consensus\//, 'consensus'],
  [/\/src\/mempool\//, 'mempool (txs)'],
  [/\/src\/ingress\//, 'ingress (txs)'],
  [
    /\/src\/p2p\/|\/src\/codec\/|\/protobufjs\/|\/(@libp2p|libp2p|@chainsafe|@multiformats|multiformats|uint8arraylist|it-[a-z-]+|protons-runtime|race-signal|p-queue|abortable-iterator|uint8arrays|main-event|@achingbrain)\//,
    'gossip (p2p, libp2p, codec)',
  ],
  [/\/src\/eth-rpc\//, 'eth-rpc (other)'],
  [/\/src\/rpc\/|node:_http|node:internal\/http|\/ws\/lib\//, 'RPC (HTTP, WebSocket, JSON)'],
  [/\/src\/rollup-adapter\/|@grpc/, 'adapter'],
  [/prom-client|\/pino|sonic-boom|\/src\/node\/metrics|\/metrics\.ts/, 'metrics and logging'],
  [/\/src\/node\//, 'node composition'],
];

function match(rules: [RegExp, string][], f: CallFrame): string | undefined {
  if (f.url === '') return undefined;
  for (const [re, stage] of rules) if (re.test(f.url)) return stage;
  return undefined;
}

/** A generic stage: GC and V8 by name, else GENERIC_RULES by script. */
function generic(f: CallFrame): string | undefined {
  if (f.functionName === '(garbage collector)') return 'GC';
  if (f.functionName === '(program)') return 'V8/native (program)';
  return match(GENERIC_RULES, f);
}

/** Sampled µs per stage of one profile, inside `window` when given. */
export function chargeProfile(p: CpuProfile, window: Window | undefined, into: Map<string, number>): void {
  chargeSamples(
    p,
    generic,
    window,
    (s, dt) => into.set(s, (into.get(s) ?? 0) + dt),
    (f) => match(BUNDLE_RULES, f),
  );
}

export interface BundleStageTotals {
  main: Map<string, number>;
  workers: Map<string, number>;
  mainProfiles: number;
  workerProfiles: number;
}

/** Every profile in `dir` charged to stages, main threads and worker threads apart. */
export function bundleStages(dir: string): BundleStageTotals {
  const out: BundleStageTotals = { main: new Map(), workers: new Map(), mainProfiles: 0, workerProfiles: 0 };
  const { window, profiles } = readProfileDir(dir);
  for (const { main, profile } of profiles) {
    chargeProfile(profile, window, main ? out.main : out.workers);
    if (main) out.mainProfiles++;
    else out.workerProfiles++;
  }
  return out;
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      per: { type: 'string' },
      base: { type: 'string' },
      'base-per': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const dir = positionals[0];
  if (dir === undefined) {
    process.stderr.write(
      'usage: node bench/bundle-stages.ts DIR [--per N] [--base DIR2 --base-per N2] [--json]\n',
    );
    process.exitCode = 2;
    return;
  }
  const per = Number(values.per ?? 1000);
  const basePer = Number(values['base-per'] ?? values.per ?? 1000);
  if (!(per > 0) || !(basePer > 0)) {
    process.stderr.write('--per and --base-per must be positive numbers\n');
    process.exitCode = 2;
    return;
  }
  const t = bundleStages(dir);
  const b = values.base === undefined ? undefined : bundleStages(values.base);
  const stages = new Set([
    ...t.main.keys(),
    ...t.workers.keys(),
    ...(b ? [...b.main.keys(), ...b.workers.keys()] : []),
  ]);
  const rows = [...stages]
    .map((s) => {
      const m = (t.main.get(s) ?? 0) / per;
      const w = (t.workers.get(s) ?? 0) / per;
      const base = b === undefined ? undefined : ((b.main.get(s) ?? 0) + (b.workers.get(s) ?? 0)) / basePer;
      return {
        stage: s,
        main: Math.round(m),
        workers: Math.round(w),
        total: Math.round(m + w),
        base: base === undefined ? null : Math.round(base),
      };
    })
    .sort((x, y) => y.total - x.total);
  const unit = values.per === undefined ? 'ms sampled' : `µs per ${per}`;
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ unit, mainProfiles: t.mainProfiles, workerProfiles: t.workerProfiles, rows }, null, 2)}\n`,
    );
    return;
  }
  const total = rows.reduce((a, r) => a + r.total, 0);
  const lines = [
    `| stage (${unit}) | main threads (${t.mainProfiles}) | workers (${t.workerProfiles}) | total | share |${b ? ' base |' : ''}`,
    `|---|---|---|---|---|${b ? '---|' : ''}`,
  ];
  for (const r of rows)
    lines.push(
      `| ${r.stage} | ${r.main} | ${r.workers} | ${r.total} | ${((100 * r.total) / Math.max(1, total)).toFixed(1)} % |${b ? ` ${r.base} |` : ''}`,
    );
  lines.push(
    `| sampled total | ${rows.reduce((a, r) => a + r.main, 0)} | ${rows.reduce((a, r) => a + r.workers, 0)} | ${total} | |${b ? ` ${rows.reduce((a, r) => a + (r.base ?? 0), 0)} |` : ''}`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
