/**
 * A/B of the binary batch route's decode (`POST /ordo/v1/tx-batch`): the session's baseline
 * `decodeTxBatch` (checkout /work/wt/base10, ADR-free strict decode) against this branch's
 * `decodeTxBatchEntries` (per-entry namespace/empty checks left to the ingress). Interleaved rounds,
 * medians of CPU µs per transaction. Usage: node bench/results/s10/rpcdoc/tx-batch-decode.ts BASE_DIR OUT.json
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { decodeTxBatchEntries, encodeTxBatch, LIMITS } from '../../../../src/codec/index.ts';

const base = process.argv[2] ?? '/work/wt/base10';
const out = process.argv[3];
const baseCodec = (await import(join(base, 'src', 'codec', 'index.ts'))) as {
  decodeTxBatch: typeof decodeTxBatchEntries;
};
const limits = { maxBatchBytes: LIMITS.maxBatchBytes, maxBatchTxs: 1000, maxTxBytes: LIMITS.maxTxBytes };
const batch = encodeTxBatch(
  Array.from({ length: 500 }, (_, i) => ({ namespace: 1 + (i % 4), payload: new Uint8Array(200).fill(i) })),
);
const TXS = 500;
const ITER = 400;
function run(decode: typeof decodeTxBatchEntries): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < ITER; i++) decode(batch, limits);
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / (ITER * TXS);
}
for (let i = 0; i < 3; i++) {
  run(baseCodec.decodeTxBatch);
  run(decodeTxBatchEntries);
}
const a: number[] = [];
const b: number[] = [];
for (let r = 0; r < 15; r++) {
  if (r % 2 === 0) {
    a.push(run(baseCodec.decodeTxBatch));
    b.push(run(decodeTxBatchEntries));
  } else {
    b.push(run(decodeTxBatchEntries));
    a.push(run(baseCodec.decodeTxBatch));
  }
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const result = {
  what: 'tx-batch decode, 500 txs of 200 B per batch, CPU µs per transaction, 15 interleaved rounds',
  baseline: { commit: '4f5051c', fn: 'decodeTxBatch', medianCpuUsPerTx: median(a), rounds: a },
  branch: { fn: 'decodeTxBatchEntries', medianCpuUsPerTx: median(b), rounds: b },
  ratioBranchVsBaseline: median(b) / median(a),
  loadavg: loadavg(),
};
console.log(JSON.stringify(result, null, 2));
if (out !== undefined) writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
