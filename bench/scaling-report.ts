/**
 * Renders bench:scaling's JSON (bench/scaling.ts) as the markdown tables and mermaid `xychart-beta`
 * charts of docs/performance.md's "Scaling" section, so the document shows exactly the measured figures.
 *
 *   node bench/scaling-report.ts [bench/results/scaling.json] > section.md
 */
import { readFileSync } from 'node:fs';

interface Point {
  validators: number;
  namespaces: number;
  txBytes: number;
  offeredTxPerSec: number;
  txPerSec: number;
  mbPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number };
  cpuMicrosPerTx: number | null;
  verifyEquivalentsPerTx: number | null;
  coresBusy: number | null;
  blocksPerSec: number;
  txsPerBlock: number;
  loadavgAtStart: number;
  rejected: Record<string, number>;
  conflictingCommits: number;
}

interface Scaling {
  calibration: { ed25519VerifyMicros: number[] };
  sweeps: Partial<Record<'validators' | 'namespaces' | 'size', Point[]>>;
}

const file = process.argv[2] ?? 'bench/results/scaling.json';
const data = JSON.parse(readFileSync(file, 'utf8')) as Scaling;

const fmt = (x: number | null) => (x === null ? '–' : String(x));
const rejectedOf = (p: Point) => Object.values(p.rejected).reduce((a, b) => a + b, 0);

function table(points: Point[], first: string, param: (p: Point) => string): string {
  const rows = [
    `| ${first} | offered tx/s | committed tx/s | MB/s | p50 ms | p99 ms | CPU µs/tx | verify-eq/tx | cores busy | blocks/s | tx/block | refused | load avg | conflicts |`,
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const p of points) {
    rows.push(
      `| ${param(p)} | ${p.offeredTxPerSec} | ${p.txPerSec} | ${p.mbPerSec} | ${p.latencyMs.p50} | ${p.latencyMs.p99} | ` +
        `${fmt(p.cpuMicrosPerTx)} | ${fmt(p.verifyEquivalentsPerTx)} | ${fmt(p.coresBusy)} | ${p.blocksPerSec} | ` +
        `${p.txsPerBlock} | ${rejectedOf(p)} | ${p.loadavgAtStart} | ${p.conflictingCommits} |`,
    );
  }
  return rows.join('\n');
}

function chart(title: string, xTitle: string, xs: string[], yTitle: string, ys: number[]): string {
  const max = Math.max(1, ...ys);
  return [
    '```mermaid',
    'xychart-beta',
    `  title "${title}"`,
    `  x-axis "${xTitle}" [${xs.map((x) => `"${x}"`).join(', ')}]`,
    `  y-axis "${yTitle}" 0 --> ${Math.ceil((max * 1.15) / 100) * 100}`,
    `  line [${ys.join(', ')}]`,
    '```',
  ].join('\n');
}

const out: string[] = [];
const sections: [keyof Scaling['sweeps'], string, string, (p: Point) => string][] = [
  ['validators', 'Against validators', 'validators', (p) => String(p.validators)],
  ['namespaces', 'Against rollups', 'namespaces', (p) => String(p.namespaces)],
  ['size', 'Against transaction size', 'tx bytes', (p) => String(p.txBytes)],
];
for (const [key, heading, xTitle, param] of sections) {
  const pts = data.sweeps[key];
  if (pts === undefined || pts.length === 0) continue;
  out.push(`### ${heading}`, '', table(pts, xTitle, param), '');
  const xs = pts.map(param);
  out.push(
    chart(
      `Committed tx/s against ${xTitle}`,
      xTitle,
      xs,
      'tx/s',
      pts.map((p) => p.txPerSec),
    ),
    '',
  );
  if (key === 'size')
    out.push(
      chart(
        'Committed MB/s against tx size',
        xTitle,
        xs,
        'MB/s',
        pts.map((p) => p.mbPerSec),
      ),
      '',
    );
  out.push(
    chart(
      `p99 submit → commit (ms) against ${xTitle}`,
      xTitle,
      xs,
      'ms',
      pts.map((p) => p.latencyMs.p99),
    ),
    '',
  );
  out.push(
    chart(
      `CPU µs per committed tx against ${xTitle}`,
      xTitle,
      xs,
      'µs',
      pts.map((p) => p.cpuMicrosPerTx ?? 0),
    ),
    '',
  );
}
out.push(`ed25519 verify (one core, same runs): ${data.calibration.ed25519VerifyMicros.join(', ')} µs.`);
process.stdout.write(`${out.join('\n')}\n`);
