/**
 * The submission tracker's own CPU (src/ingress/submissions.ts, `ordo_tx_submit_to_commit_seconds`) on a
 * node that admitted every transaction it commits, for the tracker of a checkout (`--repo`, default this
 * one), so a before/after is two runs of this file:
 *
 *   submittedMicrosPerTx: CPU (user + system) of `submitted(hash)` per admission, `--txs` of them
 *   committedMicrosPerTx: CPU of `committed(block)` per transaction, blocks of `--block` fresh envelopes
 *                         (as decoded from a block; their hashes computed first, as the commit path does)
 *
 * Each figure is the median of `--runs` rounds (a fresh tracker each).
 *
 *   node bench/submission-tracker.ts [--repo DIR] [--txs 200000] [--block 2000] [--runs 7] [--out FILE]
 *
 * Wrap it in `flock /tmp/ordo-bench.lock`; read loadAvg next to every figure (the host is shared).
 */

import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { writeResult } from './lib/json-out.ts';

const { values: args } = parseArgs({
  options: {
    repo: { type: 'string', default: join(dirname(fileURLToPath(import.meta.url)), '..') },
    txs: { type: 'string', default: '200000' },
    block: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '7' },
    out: { type: 'string' },
  },
});
const txCount = Number(args.txs);
const blockTxs = Number(args.block);
const runs = Number(args.runs);
interface Envelope {
  namespace: number;
  payload: Uint8Array;
}
const src = (f: string) => pathToFileURL(join(args.repo, 'src', f)).href;
const { createSubmissionTracker } = (await import(src('ingress/index.ts'))) as {
  createSubmissionTracker: (o: { maxTracked: number }) => {
    submitted(hash: Uint8Array): void;
    committed(txs: readonly Envelope[]): void;
    size(): number;
  };
};
const { txHash } = (await import(src('codec/index.ts'))) as { txHash: (tx: Envelope) => Uint8Array };

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

const loadAvgBefore = loadavg()[0];
const submitted: number[] = [];
const committed: number[] = [];
for (let r = 0; r < runs; r++) {
  const tracker = createSubmissionTracker({ maxTracked: txCount });
  const txs: Envelope[] = [];
  for (let i = 0; i < txCount; i++) {
    const payload = new Uint8Array(100);
    payload.set([i & 0xff, (i >>> 8) & 0xff, (i >>> 16) & 0xff, r]);
    txs.push({ namespace: 1, payload });
  }
  const hashes = txs.map(txHash);
  const blocks: Envelope[][] = [];
  for (let i = 0; i < txCount; i += blockTxs)
    blocks.push(
      txs.slice(i, i + blockTxs).map((t) => {
        const fresh = { namespace: t.namespace, payload: t.payload };
        txHash(fresh);
        return fresh;
      }),
    );
  let c0 = cpuSeconds();
  for (const h of hashes) tracker.submitted(h);
  submitted.push(((cpuSeconds() - c0) * 1e6) / txCount);
  c0 = cpuSeconds();
  for (const b of blocks) tracker.committed(b);
  committed.push(((cpuSeconds() - c0) * 1e6) / txCount);
  if (tracker.size() !== 0) throw new Error(`the tracker kept ${tracker.size()} committed transactions`);
}
const out = {
  repo: args.repo,
  txs: txCount,
  block: blockTxs,
  node: process.version,
  loadAvgBefore,
  submittedMicrosPerTx: round3(median(submitted)),
  committedMicrosPerTx: round3(median(committed)),
  runs: { submitted: submitted.map(round3), committed: committed.map(round3) },
  loadAvgAfter: loadavg()[0],
};
writeResult(out, args.out);
