/**
 * Block-store benchmark: LevelDB (classic-level) vs LMDB (lmdb-js) through the real BlockStore, on the
 * workload of issue 2: N blocks of M transactions (200-byte payloads over a few namespaces), each block
 * committed as one atomic batch with its tx index, durable (fsync per block) and non-durable. Then random
 * tx-index lookups/s and random full block reads/s (read + decode). Both engines run in the same process
 * and rounds alternate the engine order; each figure is the median over rounds, and the ratios compare
 * LMDB to LevelDB measured in the same run (the machine is noisy; trust the ratios over absolutes).
 *
 * One round at the full size takes about two minutes on the 2-core machine (LMDB durable is the slow
 * part), so the default is one round; pass --rounds 3 for medians over three rounds.
 *
 *   npm run bench:store -- [--out FILE] [--rounds 1] [--blocks 1000] [--txs 1000]
 */
import { randomFillSync, randomInt } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { blockHash, txHash } from '../src/codec/index.ts';
import { ZERO_HASH } from '../src/crypto/index.ts';
import { type EngineName, openStore } from '../src/store/index.ts';
import type { Block, CommitCertificate, TxEnvelope } from '../src/types.ts';
import { writeResult } from './lib/json-out.ts';

interface Args {
  out: string | undefined;
  rounds: number;
  blocks: number;
  txs: number;
  payloadBytes: number;
  namespaces: number;
  lookups: number;
  blockReads: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    out: undefined,
    rounds: 1,
    blocks: 1000,
    txs: 1000,
    payloadBytes: 200,
    namespaces: 4,
    lookups: 50_000,
    blockReads: 300,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const val = argv[i + 1];
    const num = () => {
      const n = Number(val);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} needs a positive integer, got ${val}`);
      i++;
      return n;
    };
    if (flag === '--out') {
      if (val === undefined) throw new Error('--out needs a file name');
      a.out = val;
      i++;
    } else if (flag === '--rounds') a.rounds = num();
    else if (flag === '--blocks') a.blocks = num();
    else if (flag === '--txs') a.txs = num();
    else if (flag === '--lookups') a.lookups = num();
    else if (flag === '--block-reads') a.blockReads = num();
    else throw new Error(`unknown argument ${flag}`);
  }
  return a;
}

function makeBlock(
  args: Args,
  height: number,
  parentHash: Uint8Array,
): { block: Block; cert: CommitCertificate } {
  const bytes = new Uint8Array(args.txs * args.payloadBytes);
  randomFillSync(bytes);
  const txs: TxEnvelope[] = [];
  for (let i = 0; i < args.txs; i++) {
    txs.push({
      namespace: 1 + Math.floor((i * args.namespaces) / args.txs),
      payload: bytes.subarray(i * args.payloadBytes, (i + 1) * args.payloadBytes),
    });
  }
  const block: Block = {
    header: {
      chainId: 'ordo-bench',
      height,
      round: 0,
      timeMs: Date.now(),
      parentHash,
      dataHash: ZERO_HASH,
      proposer: ZERO_HASH,
      txCount: txs.length,
      lastCommitHash: ZERO_HASH,
      resultsHash: ZERO_HASH,
      auctionHash: ZERO_HASH,
    },
    txs,
    bundles: [],
  };
  const sigs = Array.from({ length: 4 }, (_, i) => ({
    validatorIndex: i,
    signature: new Uint8Array(64).fill(i),
  }));
  return { block, cert: { height, round: 0, blockHash: blockHash(block), sigs } };
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const st = statSync(join(dir, name));
    n += st.isDirectory() ? dirBytes(join(dir, name)) : st.blocks * 512;
  }
  return n;
}

interface RunResult {
  engine: EngineName;
  sync: boolean;
  commitSeconds: number;
  blocksPerSec: number;
  txsPerSec: number;
  commitMsP50: number;
  commitMsP99: number;
  /** Blocks/s in consecutive windows of 10% of the blocks: shows how commits slow as the database grows. */
  windowBlocksPerSec: number[];
  diskBytes: number;
  lookupsPerSec?: number;
  blockReadsPerSec?: number;
}

function windows(commitMs: number[], n: number): number[] {
  const size = Math.max(1, Math.floor(commitMs.length / n));
  const out: number[] = [];
  for (let i = 0; i + size <= commitMs.length; i += size) {
    const ms = commitMs.slice(i, i + size).reduce((a, b) => a + b, 0);
    out.push(Math.round((size / (ms / 1000)) * 10) / 10);
  }
  return out;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

async function runOnce(
  args: Args,
  engine: EngineName,
  sync: boolean,
  measureReads: boolean,
): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), `ordo-bench-store-${engine}-`));
  const path = join(dir, 'db');
  try {
    const store = await openStore({ path, engine, sync });
    const sample: Uint8Array[] = [];
    const sampleEvery = Math.max(1, Math.floor((args.blocks * args.txs) / 100_000));
    const commitMs: number[] = [];
    let parent: Uint8Array = ZERO_HASH;
    try {
      for (let h = 1; h <= args.blocks; h++) {
        const { block, cert } = makeBlock(args, h, parent);
        const t0 = performance.now();
        await store.commitBlock(block, cert);
        commitMs.push(performance.now() - t0);
        parent = cert.blockHash;
        for (let i = h % sampleEvery; i < block.txs.length; i += sampleEvery)
          sample.push(txHash(block.txs[i]!));
      }
      const commitSeconds = commitMs.reduce((a, b) => a + b, 0) / 1000;
      const sorted = [...commitMs].sort((a, b) => a - b);
      const r: RunResult = {
        engine,
        sync,
        commitSeconds,
        blocksPerSec: args.blocks / commitSeconds,
        txsPerSec: (args.blocks * args.txs) / commitSeconds,
        commitMsP50: quantile(sorted, 0.5),
        commitMsP99: quantile(sorted, 0.99),
        windowBlocksPerSec: windows(commitMs, 10),
        diskBytes: 0,
      };
      if (measureReads) {
        const targets = Array.from({ length: args.lookups }, () => sample[randomInt(sample.length)]!);
        let t0 = performance.now();
        let found = 0;
        for (const th of targets) if ((await store.getTxLocation(th)) !== undefined) found++;
        r.lookupsPerSec = args.lookups / ((performance.now() - t0) / 1000);
        if (found !== args.lookups)
          throw new Error(`${engine}: ${args.lookups - found} sampled txs not found`);
        t0 = performance.now();
        for (let i = 0; i < args.blockReads; i++) {
          const b = await store.getBlock(1 + randomInt(args.blocks));
          if (b === undefined || b.txs.length !== args.txs) throw new Error(`${engine}: block read failed`);
        }
        r.blockReadsPerSec = args.blockReads / ((performance.now() - t0) / 1000);
      }
      await store.close();
      r.diskBytes = dirBytes(path);
      return r;
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

function summarize(runs: RunResult[], engine: EngineName) {
  const pick = (sync: boolean) => runs.filter((r) => r.engine === engine && r.sync === sync);
  const mode = (sync: boolean) => {
    const rs = pick(sync);
    return {
      blocksPerSec: round2(median(rs.map((r) => r.blocksPerSec))),
      txsPerSec: Math.round(median(rs.map((r) => r.txsPerSec))),
      commitMsP50: round2(median(rs.map((r) => r.commitMsP50))),
      commitMsP99: round2(median(rs.map((r) => r.commitMsP99))),
      diskBytes: Math.round(median(rs.map((r) => r.diskBytes))),
    };
  };
  const durable = mode(true);
  const nonDurable = mode(false);
  const reads = pick(false);
  return {
    // Headline figures are the node's default mode: durable (fsync per block).
    blocksPerSec: durable.blocksPerSec,
    txsPerSec: durable.txsPerSec,
    lookupsPerSec: Math.round(median(reads.map((r) => r.lookupsPerSec ?? 0))),
    blockReadsPerSec: round2(median(reads.map((r) => r.blockReadsPerSec ?? 0))),
    durable,
    nonDurable,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const engines: EngineName[] = ['leveldb', 'lmdb'];
  const runs: RunResult[] = [];
  const started = performance.now();
  for (let round = 0; round < args.rounds; round++) {
    const order = round % 2 === 0 ? engines : [...engines].reverse();
    for (const engine of order) {
      for (const sync of [false, true]) {
        const r = await runOnce(args, engine, sync, !sync);
        runs.push(r);
        process.stderr.write(
          `round ${round + 1}/${args.rounds} ${engine} ${sync ? 'durable' : 'non-durable'}: ` +
            `${r.blocksPerSec.toFixed(1)} blocks/s, ${Math.round(r.txsPerSec)} txs/s, p50 ${r.commitMsP50.toFixed(2)} ms` +
            (r.lookupsPerSec === undefined
              ? ''
              : `, ${Math.round(r.lookupsPerSec)} lookups/s, ${r.blockReadsPerSec!.toFixed(1)} block reads/s`) +
            '\n',
        );
      }
    }
  }
  const leveldb = summarize(runs, 'leveldb');
  const lmdb = summarize(runs, 'lmdb');
  const ratio = (a: number, b: number) => (b === 0 ? null : round2(a / b));
  const result = {
    bench: 'store',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    workload: {
      blocks: args.blocks,
      txsPerBlock: args.txs,
      payloadBytes: args.payloadBytes,
      namespaces: args.namespaces,
      rounds: args.rounds,
      lookups: args.lookups,
      blockReads: args.blockReads,
      note: 'one atomic batch per block (block, cert, hash, tx index, head); medians over rounds',
    },
    leveldb,
    lmdb,
    ratioLmdbToLeveldb: {
      durableBlocksPerSec: ratio(lmdb.durable.blocksPerSec, leveldb.durable.blocksPerSec),
      nonDurableBlocksPerSec: ratio(lmdb.nonDurable.blocksPerSec, leveldb.nonDurable.blocksPerSec),
      lookupsPerSec: ratio(lmdb.lookupsPerSec, leveldb.lookupsPerSec),
      blockReadsPerSec: ratio(lmdb.blockReadsPerSec, leveldb.blockReadsPerSec),
      diskBytes: ratio(lmdb.durable.diskBytes, leveldb.durable.diskBytes),
    },
    totalSeconds: round2((performance.now() - started) / 1000),
    runs: runs.map((r) => ({
      ...r,
      blocksPerSec: round2(r.blocksPerSec),
      txsPerSec: Math.round(r.txsPerSec),
      commitSeconds: round2(r.commitSeconds),
      commitMsP50: round2(r.commitMsP50),
      commitMsP99: round2(r.commitMsP99),
      lookupsPerSec: r.lookupsPerSec === undefined ? undefined : Math.round(r.lookupsPerSec),
      blockReadsPerSec: r.blockReadsPerSec === undefined ? undefined : round2(r.blockReadsPerSec),
    })),
  };
  writeResult(result, args.out);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench/store failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
