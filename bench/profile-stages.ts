/**
 * Per-stage CPU breakdown from V8 CPU profiles (`.cpuprofile`, as written by `node --cpu-prof`, which
 * `npm run bench:testnet -- --cpu-prof DIR` turns on for every node and the orchestrator). Each sample
 * is charged to one stage: walking its stack from the innermost frame outwards, the first frame that
 * belongs to a known owner (a source folder of ours or a library) decides; Node.js's own frames
 * (streams, sockets, the HTTP parser) are charged to whoever called them, or, at the top of a stack with
 * no owner, to the stage their module serves. `(garbage collector)` is GC; `(program)` is V8/native work
 * outside any JS frame. Kernel time is not in a V8 profile: bench/testnet.ts reports it from /proc.
 *
 *   node bench/profile-stages.ts DIR [--json]     (DIR holds the .cpuprofile files of one run)
 *
 * Only samples inside the run's measured window count when DIR has the window.json bench/testnet.ts
 * writes. Prints a markdown table (share of the sampled non-idle time per stage, for the nodes together and for
 * the orchestrator) or, with --json, the same as JSON.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export const STAGES = [
  'RPC ingest (HTTP, JSON, ingress)',
  'hashing',
  'gossip encode/decode (protobuf codec)',
  'libp2p (noise, yamux, gossipsub, streams)',
  'mempool',
  'proposal and votes (consensus, builder, signatures)',
  'store (LevelDB, WAL)',
  'namespace tree',
  'adapter',
  'executor',
  'load generator and follower',
  'metrics and logging',
  'other JS',
  'GC',
  'V8/native (program)',
] as const;
export type Stage = (typeof STAGES)[number];

/** Owner rules, tried in order against a frame's url and function name; the first match wins. */
const RULES: [RegExp, Stage][] = [
  [/\/src\/crypto\/nmt|\/namespace-tree|\bnmt\b/i, 'namespace tree'],
  [/\/src\/crypto\/hash|\/src\/codec\/hashing/, 'hashing'],
  [
    /\/src\/crypto\/ed25519|\/src\/consensus\/|\/src\/builder\//,
    'proposal and votes (consensus, builder, signatures)',
  ],
  [/\/src\/codec\/|\/protobufjs\//, 'gossip encode/decode (protobuf codec)'],
  [
    /\/(@libp2p|libp2p|@chainsafe|@multiformats|multiformats|uint8arraylist|it-[a-z-]+|@noble|protons-runtime|race-signal|p-queue|abortable-iterator|uint8arrays|main-event|@achingbrain)\/|\/src\/p2p\//,
    'libp2p (noise, yamux, gossipsub, streams)',
  ],
  [/\/src\/mempool\//, 'mempool'],
  [
    /\/src\/store\/|\/classic-level\/|\/abstract-level\/|\/lmdb\/|\/src\/consensus\/wal/,
    'store (LevelDB, WAL)',
  ],
  [/\/src\/rollup-adapter\/|@grpc/, 'adapter'],
  [/\/src\/exec\/|@ethereumjs|ethereum-cryptography/, 'executor'],
  [/\/src\/loadgen\/|\/testnet\//, 'load generator and follower'],
  [
    /\/src\/rpc\/|\/src\/ingress\/|\/src\/eth-rpc\/|node:_http|node:internal\/http/,
    'RPC ingest (HTTP, JSON, ingress)',
  ],
  [/prom-client|\/pino|sonic-boom|\/src\/node\/metrics|\/metrics\.ts/, 'metrics and logging'],
];

function ruleFor(f: CallFrame): Stage | undefined {
  if (f.functionName === '(garbage collector)') return 'GC';
  if (f.functionName === '(program)') return 'V8/native (program)';
  const key = f.url;
  if (key === '') {
    // Native builtins: charge to the caller, except the hashing entry points of node:crypto.
    return f.functionName === 'hash' || f.functionName === 'digest' ? 'hashing' : undefined;
  }
  for (const [re, stage] of RULES) if (re.test(key)) return stage;
  return undefined;
}

export interface StageTotals {
  /** Sampled microseconds per stage (idle excluded). */
  micros: Record<Stage, number>;
  totalMicros: number;
  profiles: number;
}

function emptyTotals(): StageTotals {
  const micros = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  return { micros, totalMicros: 0, profiles: 0 };
}

/** The measured window on the profiles' monotonic clock (µs); samples outside it are not counted. */
export interface Window {
  startMicros: number;
  endMicros: number;
}

/** Adds one profile's samples (those inside `window`, when given) to `into`. */
/** One `.cpuprofile` of a profile folder: its file name, whether it is a main thread's, and the profile. */
export interface ProfileFile {
  file: string;
  /** `CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile`: tid 0 is a main thread (a file named otherwise is not). */
  main: boolean;
  profile: CpuProfile;
}

/**
 * A folder of V8 CPU profiles as the benches write them: its measured window (window.json, when there is
 * one) and each `.cpuprofile`, read one at a time.
 */
export function readProfileDir(dir: string): { window: Window | undefined; profiles: Iterable<ProfileFile> } {
  const files = readdirSync(dir);
  const window = files.includes('window.json')
    ? (JSON.parse(readFileSync(join(dir, 'window.json'), 'utf8')) as Window)
    : undefined;
  function* profiles(): Iterable<ProfileFile> {
    for (const file of files.filter((x) => x.endsWith('.cpuprofile'))) {
      yield {
        file,
        main: Number(file.split('.')[4]) === 0,
        profile: JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile,
      };
    }
  }
  return { window, profiles: profiles() };
}

export function addProfile(p: CpuProfile, into: StageTotals, window?: Window): void {
  chargeSamples(p, ruleFor, window, (s, dt) => {
    into.micros[s] += dt;
    into.totalMicros += dt;
  });
  into.profiles++;
}

/**
 * Walks one profile's samples (those inside `window`, when given) and charges each sample's time to
 * the stage `classify` gives the innermost frame it knows (undefined = ask the caller frame); a stack
 * no rule knows goes to 'other JS', `(idle)` to nothing. With `prefer`, the innermost frame `prefer`
 * knows anywhere on the stack wins over `classify`'s (bench/bundle-stages.ts: a bundle stage over a
 * generic one). Shared by this file, bench/eth-stages.ts and bench/bundle-stages.ts.
 */
export function chargeSamples<S extends string>(
  p: CpuProfile,
  classify: (f: CallFrame) => S | undefined,
  window: Window | undefined,
  charge: (stage: S | 'other JS', micros: number) => void,
  prefer?: (f: CallFrame) => S | undefined,
): void {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  // Each node's stage, memoised (a stack's stage depends only on its frames).
  const stageOf = new Map<number, S | 'other JS' | null>();
  const resolve = (id: number): S | 'other JS' | null => {
    const known = stageOf.get(id);
    if (known !== undefined) return known;
    let cur: number | undefined = id;
    let found: S | 'other JS' | null = null;
    // The innermost frame `classify` knows (without `prefer`, the walk stops there).
    let inner: S | undefined;
    for (let depth = 0; cur !== undefined && depth < 10_000; depth++) {
      const n = byId.get(cur);
      if (n === undefined) break;
      if (n.callFrame.functionName === '(idle)') break;
      const preferred = prefer?.(n.callFrame);
      if (preferred !== undefined) {
        found = preferred;
        break;
      }
      inner ??= classify(n.callFrame);
      if (inner !== undefined && prefer === undefined) break;
      cur = parent.get(cur);
    }
    if (found === null && byId.get(id)?.callFrame.functionName !== '(idle)') found = inner ?? 'other JS';
    stageOf.set(id, found);
    return found;
  };
  const n = Math.min(p.samples.length, p.timeDeltas.length);
  // A sample's time is the delta to the next sample.
  let t = p.startTime;
  for (let i = 0; i < n; i++) {
    t += p.timeDeltas[i] ?? 0;
    const dt = p.timeDeltas[i + 1] ?? 0;
    if (dt <= 0) continue;
    if (window !== undefined && (t < window.startMicros || t > window.endMicros)) continue;
    const s = resolve(p.samples[i] as number);
    if (s !== null) charge(s, dt);
  }
}

function table(nodes: StageTotals, orch: StageTotals): string {
  const pct = (t: StageTotals, s: Stage): string =>
    t.totalMicros === 0 ? '–' : `${((100 * t.micros[s]) / t.totalMicros).toFixed(1)} %`;
  const lines = [
    `| stage | nodes (${nodes.profiles} processes) | orchestrator + load generator |`,
    '|---|---|---|',
  ];
  for (const s of STAGES) lines.push(`| ${s} | ${pct(nodes, s)} | ${pct(orch, s)} |`);
  lines.push(
    `| sampled CPU (s) | ${(nodes.totalMicros / 1e6).toFixed(1)} | ${(orch.totalMicros / 1e6).toFixed(1)} |`,
  );
  return lines.join('\n');
}

function main(): void {
  const dir = process.argv[2];
  if (dir === undefined) {
    process.stderr.write('usage: node bench/profile-stages.ts DIR [--json]\n');
    process.exitCode = 2;
    return;
  }
  const nodes = emptyTotals();
  const orch = emptyTotals();
  // bench/testnet.ts writes the measured window; without it every sample counts (start-up and the
  // safety check after the load included).
  const { window, profiles } = readProfileDir(dir);
  for (const { file, profile } of profiles)
    addProfile(profile, file.startsWith('orchestrator') ? orch : nodes, window);
  if (window === undefined) process.stderr.write('no window.json: counting every sample of the run\n');
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ nodes, orchestrator: orch }, null, 2)}\n`);
  } else {
    process.stdout.write(`${table(nodes, orch)}\n`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
