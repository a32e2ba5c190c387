/**
 * `ordo bench`: the open-loop load generator (src/loadgen) against one or more running nodes. Prints a
 * progress line a second to stderr and the report as JSON (to --report FILE, or stdout).
 */
import { writeFileSync } from 'node:fs';
import { type LiveLoad, type LoadReport, runLoad } from '../loadgen/index.ts';
import { intArg, parse, strArg, UsageError } from './args.ts';

const USAGE = `Usage: ordo bench --rpc URL[,URL...] [options]

Open-loop load: a fixed offered rate, sent in JSON-RPC batches spread over the given nodes; latency is
submit -> commit, measured by following committed blocks.

Options:
  --rpc URLS          comma-separated JSON-RPC endpoints, e.g. http://127.0.0.1:26600 (required)
  --rate N            offered transactions per second (default 1000)
  --duration S        seconds of measured offered load (default 10)
  --warmup S          seconds of load before measuring starts (default 0)
  --size BYTES        payload size of opaque transactions (default 200, min 16)
  --namespaces LIST   comma-separated namespaces (default: every opaque rollup of the network)
  --evm-chain-id ID   chain id for signing EVM transactions (default 900001, the demo rollup)
  --max-in-flight N   outstanding batches per node before load is counted as not sent (default 32)
  --tick-ms MS        schedule tick (default 20)
  --binary            submit protobuf batches (POST /ordo/v1/tx-batch, docs/rpc.md) instead of JSON-RPC
  --report FILE       write the JSON report here (default: print it)
  -h, --help          show this help`;

export function progressLine(l: LiveLoad): string {
  return (
    `t=${l.elapsedSec.toFixed(0)}s offered=${l.offered} accepted=${l.accepted} notSent=${l.notSent} ` +
    `rejected=${l.rejectedTotal} committed=${l.committed} (${l.committedTxPerSec.toFixed(0)} tx/s) ` +
    `pending=${l.pending} p50=${l.latencyMs.p50}ms p99=${l.latencyMs.p99}ms`
  );
}

export function summaryLines(r: LoadReport): string {
  const rej = Object.entries(r.rejected)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return [
    `offered   ${r.offeredTxPerSec} tx/s for ${r.durationSec} s (${r.offered} txs; not sent ${r.notSent})`,
    `accepted  ${r.accepted} (${r.acceptedTxPerSec} tx/s)${rej ? `; rejected ${rej}` : ''}`,
    `committed ${r.committedTxs} (${r.txPerSec} tx/s within the window; ${r.uncommitted} not committed)`,
    `latency   submit->commit p50 ${r.latencyMs.p50} ms, p90 ${r.latencyMs.p90} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms`,
  ].join('\n');
}

export function parseList(s: string | undefined, what: string, usage: string): number[] | undefined {
  if (s === undefined) return undefined;
  const out = s.split(',').map((x) => Number(x.trim()));
  if (out.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new UsageError(`${what} must be a comma-separated list of positive integers, got "${s}"`, usage);
  }
  return out;
}

export async function benchCommand(argv: string[]): Promise<number> {
  const a = parse(
    argv,
    {
      rpc: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      size: { type: 'string' },
      namespaces: { type: 'string' },
      'evm-chain-id': { type: 'string' },
      'max-in-flight': { type: 'string' },
      binary: { type: 'boolean' },
      'tick-ms': { type: 'string' },
      report: { type: 'string' },
    },
    USAGE,
  );
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const rpc = strArg(a, 'rpc');
  if (rpc === undefined) throw new UsageError('--rpc is required', USAGE);
  const urls = rpc
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u.length > 0);
  for (const u of urls) {
    if (!/^http:\/\/[^/]+/.test(u))
      throw new UsageError(`--rpc entries must be http:// URLs, got "${u}"`, USAGE);
  }
  const namespaces = parseList(strArg(a, 'namespaces'), '--namespaces', USAGE);
  const ac = new AbortController();
  const onSig = (): void => ac.abort();
  // `on`: under npm one Ctrl-C arrives twice (terminal and npm's forward); the second must not kill us.
  process.on('SIGINT', onSig);
  try {
    const report = await runLoad({
      urls,
      rate: intArg(a, 'rate', 1000, USAGE, 0, 10_000_000),
      durationSec: intArg(a, 'duration', 10, USAGE, 1, 86_400),
      warmupSec: intArg(a, 'warmup', 0, USAGE, 0, 3600),
      sizeBytes: intArg(a, 'size', 200, USAGE, 16, 1024 * 1024),
      ...(namespaces !== undefined ? { namespaces } : {}),
      evmChainId: intArg(a, 'evm-chain-id', 900_001, USAGE, 1),
      maxInFlight: intArg(a, 'max-in-flight', 32, USAGE, 1, 10_000),
      tickMs: intArg(a, 'tick-ms', 20, USAGE, 1, 1000),
      ...(a.values.binary === true ? { binary: true } : {}),
      onProgress: (l) => process.stderr.write(`${progressLine(l)}\n`),
      signal: ac.signal,
    });
    const json = `${JSON.stringify(report, null, 2)}\n`;
    const file = strArg(a, 'report');
    if (file !== undefined) writeFileSync(file, json);
    else process.stdout.write(json);
    process.stderr.write(`${summaryLines(report)}\n`);
    return 0;
  } finally {
    process.off('SIGINT', onSig);
  }
}
