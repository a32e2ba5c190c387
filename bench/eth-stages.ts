/**
 * Where one ERC-20 transfer's CPU goes on the nodes of a `bench:eth --cpu-prof DIR` run: V8 CPU profiles
 * (every node's main thread and worker threads, `CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile`, tid 0 =
 * main thread) charged to stages of the Ethereum path, inside the first transfer window (DIR/window.json,
 * which bench/eth.ts writes). Each sample goes to the innermost frame that a rule knows (see
 * bench/profile-stages.ts, chargeSamples); libraries used by several stages (RLP, keccak) are charged to
 * their caller, except the secp256k1 recovery and ethereumjs' interpreter which have stages of their own.
 *
 *   node bench/eth-stages.ts DIR [--receipts N] [--json]
 *
 * Prints per stage the sampled ms and, with --receipts (the window's receipts; bench:eth's `receipts`),
 * µs per transfer summed over the nodes, split into main thread and worker threads. Kernel time and
 * threads V8 does not sample (GC helpers, libuv) are not in a profile: bench:eth's threadCpuMicrosPerTx
 * gives them from /proc.
 */
import { parseArgs } from 'node:util';
import { type CallFrame, chargeSamples, readProfileDir } from './profile-stages.ts';

export const ETH_STAGES = [
  'RPC (HTTP, JSON-RPC)',
  'eth admission (decode, pending state)',
  'secp256k1 recovery',
  'ingress',
  'mempool',
  'gossip (p2p, libp2p, codec)',
  'consensus (votes, proposals, ed25519)',
  'builder',
  'execution: ethereumjs EVM',
  'execution: executor (ours)',
  'eth index, receipts, eth reads',
  'store (LevelDB, WAL)',
  'hashing (sha256, keccak)',
  'metrics and logging',
  'node composition',
  'GC',
  'V8/native (program)',
  'other JS',
] as const;
export type EthStage = (typeof ETH_STAGES)[number];

const RULES: [RegExp, EthStage][] = [
  [/\/src\/exec\/evm\/ecrecover|tiny-secp256k1|\/secp256k1\/|@noble\/curves/, 'secp256k1 recovery'],
  [
    /\/src\/crypto\/hash|\/src\/codec\/hashing|@noble\/hashes|keccak|ethereum-cryptography\/.*keccak/,
    'hashing (sha256, keccak)',
  ],
  [
    /\/src\/consensus\/wal|\/src\/store\/|\/classic-level\/|\/abstract-level\/|\/lmdb\//,
    'store (LevelDB, WAL)',
  ],
  [/\/src\/crypto\/ed25519|\/src\/consensus\//, 'consensus (votes, proposals, ed25519)'],
  [/\/src\/builder\//, 'builder'],
  [/\/src\/eth-rpc\/admission|\/src\/eth-rpc\/lean-decode/, 'eth admission (decode, pending state)'],
  [/\/src\/eth-rpc\//, 'eth index, receipts, eth reads'],
  [/\/src\/ingress\//, 'ingress'],
  [/\/src\/mempool\//, 'mempool'],
  [/@ethereumjs\/(evm|vm|statemanager|mpt|common|tx|block)\//, 'execution: ethereumjs EVM'],
  [/\/src\/exec\//, 'execution: executor (ours)'],
  [
    /\/src\/p2p\/|\/src\/codec\/|\/protobufjs\/|\/(@libp2p|libp2p|@chainsafe|@multiformats|multiformats|uint8arraylist|it-[a-z-]+|protons-runtime|race-signal|p-queue|abortable-iterator|uint8arrays|main-event|@achingbrain)\//,
    'gossip (p2p, libp2p, codec)',
  ],
  [/\/src\/rpc\/|node:_http|node:internal\/http|\/ws\/lib\//, 'RPC (HTTP, JSON-RPC)'],
  [/prom-client|\/pino|sonic-boom|\/src\/node\/metrics|\/metrics\.ts/, 'metrics and logging'],
  [/\/src\/node\//, 'node composition'],
];

function classify(f: CallFrame): EthStage | undefined {
  if (f.functionName === '(garbage collector)') return 'GC';
  if (f.functionName === '(program)') return 'V8/native (program)';
  if (f.url === '') return undefined;
  for (const [re, stage] of RULES) if (re.test(f.url)) return stage;
  return undefined;
}

export interface EthStageTotals {
  /** Sampled µs per stage: main threads, worker threads. */
  main: Record<EthStage, number>;
  workers: Record<EthStage, number>;
  mainProfiles: number;
  workerProfiles: number;
}

export function ethStages(dir: string): EthStageTotals {
  const zero = () => Object.fromEntries(ETH_STAGES.map((s) => [s, 0])) as Record<EthStage, number>;
  const out: EthStageTotals = { main: zero(), workers: zero(), mainProfiles: 0, workerProfiles: 0 };
  const { window, profiles } = readProfileDir(dir);
  for (const { main, profile } of profiles) {
    const into = main ? out.main : out.workers;
    chargeSamples(profile, classify, window, (s, dt) => {
      into[s] += dt;
    });
    if (main) out.mainProfiles++;
    else out.workerProfiles++;
  }
  return out;
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { receipts: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const dir = positionals[0];
  if (dir === undefined) {
    process.stderr.write('usage: node bench/eth-stages.ts DIR [--receipts N] [--json]\n');
    process.exitCode = 2;
    return;
  }
  const t = ethStages(dir);
  const receipts = values.receipts === undefined ? undefined : Number(values.receipts);
  const per = (us: number): number =>
    receipts === undefined || !(receipts > 0) ? Math.round(us / 1000) : Math.round(us / receipts);
  const unit = receipts === undefined ? 'ms sampled' : 'µs per transfer (all nodes)';
  const rows = ETH_STAGES.map((s) => ({
    stage: s,
    main: per(t.main[s]),
    workers: per(t.workers[s]),
    total: per(t.main[s] + t.workers[s]),
  })).sort((a, b) => b.total - a.total);
  const sum = (k: 'main' | 'workers' | 'total') => rows.reduce((a, r) => a + r[k], 0);
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ unit, receipts, mainProfiles: t.mainProfiles, workerProfiles: t.workerProfiles, rows }, null, 2)}\n`,
    );
    return;
  }
  const lines = [
    `| stage (${unit}) | main threads (${t.mainProfiles}) | worker threads (${t.workerProfiles}) | total | share |`,
    '|---|---|---|---|---|',
  ];
  const total = sum('total');
  for (const r of rows)
    lines.push(
      `| ${r.stage} | ${r.main} | ${r.workers} | ${r.total} | ${((100 * r.total) / Math.max(1, total)).toFixed(1)} % |`,
    );
  lines.push(`| sampled total | ${sum('main')} | ${sum('workers')} | ${total} | |`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
