/**
 * Summarise an interleaved CPU-per-transaction round (bench/cpu-vs-base.sh): reads DIR/<version>-<rate>-<n>.json
 * (bench:testnet outputs), prints one line per run and, per rate and version, the medians of CPU µs per
 * committed transaction, verify-equivalents per transaction, their ratio to the version named `base`,
 * throughput, latency, syscalls and the transport figures per node, as JSON (the tables of
 * docs/performance.md come from it).
 *
 *   node bench/cpu-table.ts DIR
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface RunJson {
  main: {
    txPerSec: number;
    latencyMs: { p50: number; p99: number };
    cpuMicrosPerTx: number | null;
    verifyEquivalentsPerTx: number | null;
    verifyCpuMicros?: { before: number; after: number };
    syscallsPerTx?: number | null;
    kernelCpuShare: number | null;
    conflictingCommits: number;
    rejected: Record<string, number>;
    transport?: Record<string, number | null> | null;
  } | null;
  mainRuns: { loadavgAtStart: number }[];
}

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: node bench/cpu-table.ts DIR');

type Row = Record<string, number | null | string>;
const groups = new Map<string, Row[]>();
for (const name of readdirSync(dir).sort()) {
  const m = /^([a-z0-9]+)-(\d+)-(\d+)\.json$/.exec(name);
  if (m === null) continue;
  const [, version, rate, run] = m;
  const d = JSON.parse(readFileSync(join(dir, name), 'utf8')) as RunJson;
  const r = d.main;
  if (r === null) continue;
  const t = r.transport ?? {};
  const row: Row = {
    version: version!,
    rate: Number(rate),
    run: Number(run),
    loadavg: d.mainRuns[0]?.loadavgAtStart ?? null,
    txPerSec: r.txPerSec,
    p50: r.latencyMs.p50,
    p99: r.latencyMs.p99,
    cpuMicrosPerTx: r.cpuMicrosPerTx,
    verifyEquivalentsPerTx: r.verifyEquivalentsPerTx,
    verifyCpuMicrosBefore: r.verifyCpuMicros?.before ?? null,
    verifyCpuMicrosAfter: r.verifyCpuMicros?.after ?? null,
    kernelCpuShare: r.kernelCpuShare,
    syscallsPerTx: r.syscallsPerTx ?? null,
    rpcFramesPerTx: t.rpcFramesPerTx ?? null,
    rpcBytesPerTx: t.rpcBytesPerTx ?? null,
    txBatchCopiesPerBatch: t.txBatchCopiesPerBatch ?? null,
    consensusCopiesPerMessage: t.consensusCopiesPerMessage ?? null,
    idontwantIdsPerTx: t.idontwantIdsPerTx ?? null,
    refused: Object.values(r.rejected).reduce((s, x) => s + x, 0),
    conflictingCommits: r.conflictingCommits,
  };
  process.stdout.write(`${JSON.stringify(row)}\n`);
  const key = `${rate}/${version}`;
  groups.set(key, [...(groups.get(key) ?? []), row]);
}

function median(xs: (number | null | string)[]): number | null {
  const s = xs.filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const fields = [
  'txPerSec',
  'p50',
  'p99',
  'cpuMicrosPerTx',
  'verifyEquivalentsPerTx',
  'kernelCpuShare',
  'syscallsPerTx',
  'rpcFramesPerTx',
  'rpcBytesPerTx',
  'txBatchCopiesPerBatch',
  'consensusCopiesPerMessage',
  'idontwantIdsPerTx',
] as const;
const medians: Record<string, Record<string, number | null | number[]>> = {};
for (const [key, rows] of groups) {
  const m: Record<string, number | null | number[]> = { runs: rows.length };
  for (const f of fields) m[f] = median(rows.map((r) => r[f] ?? null));
  m.loadavg = rows.map((r) => r.loadavg as number);
  m.cpuMicrosPerTxRuns = rows.map((r) => r.cpuMicrosPerTx as number);
  medians[key] = m;
}
for (const [key, m] of Object.entries(medians)) {
  const base = medians[`${key.split('/')[0]}/base`];
  const ratio = (f: 'cpuMicrosPerTx' | 'verifyEquivalentsPerTx'): number | null => {
    const a = m[f];
    const b = base?.[f];
    return typeof a === 'number' && typeof b === 'number' && b > 0 ? Math.round((a / b) * 1000) / 1000 : null;
  };
  m.cpuRatioToBase = ratio('cpuMicrosPerTx');
  m.verifyEquivalentsRatioToBase = ratio('verifyEquivalentsPerTx');
}
process.stdout.write(`${JSON.stringify({ medians }, null, 2)}\n`);
