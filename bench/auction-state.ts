/**
 * Auction state benchmark: `node bench/auction-state.ts --out FILE [--bidders N] [--heights H]` applies
 * H blocks to the auction's book (src/auction/state.ts) persisted in a real LevelDB store wired as the
 * node wires it (ADR 0170: fsynced view for slots resolved with executor verdicts, unsynced otherwise)
 * and writes `{bidders, heights, applyMsMedian, applyMsP99, applyMsMedianFsynced,
 * applyMsMedianNotFsynced, stateBytesMedian, viewBytesMedian, cpuMsPerBlock, loadAvg1}`. Each block
 * carries, for every bidder, one commit for slot h + commitOffset and the reveal of its commit for slot
 * h + 1 (1 KiB bundle on rollup 1 or 2), so every slot settles N bids with winners, prices and proceeds:
 * the book's steady state under that load. Even heights are marked as resolved with executor verdicts
 * (fsynced), odd ones not, so the two medians come from the same run and machine load. Every transaction
 * is admitted first (its signatures checked, as gossip or the ingress does in a node) outside the timed
 * apply; `--no-admit` leaves that out (apply then verifies every signature itself).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  auctionParams,
  DEFAULT_AUCTION_LANE,
  openAuctionBook,
  outcomeHash,
  resolveSlot,
  signBid,
  validateBids,
  verifyAuctionTxSignatures,
} from '../src/auction/index.ts';
import { AUCTION_NAMESPACE, bundleHash, decodeAuctionTx, encodeAuctionTx } from '../src/codec/index.ts';
import { publicKeyFromSeed, sha256 } from '../src/crypto/index.ts';
import { openStore } from '../src/store/index.ts';
import type { AuctionTx, Block, Bundle, TxEnvelope } from '../src/types.ts';
import { writeResult } from './lib/json-out.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    bidders: { type: 'string', default: '16' },
    heights: { type: 'string', default: '300' },
    'no-admit': { type: 'boolean' },
  },
});
const N = Number(values.bidders);
const H = Number(values.heights);
const chainId = 'bench-auction';
const seed = (i: number) => sha256(new TextEncoder().encode(`bench-bidder-${i}`));
const params = auctionParams();

const setup = {
  chainId,
  params,
  depositAuthority: publicKeyFromSeed(seed(10_000)),
  forfeitSink: publicKeyFromSeed(seed(10_001)),
  reserves: new Map([
    [1, 100n],
    [2, 100n],
  ]),
  treasuries: new Map([
    [1, publicKeyFromSeed(seed(10_002))],
    [2, publicKeyFromSeed(seed(10_003))],
  ]),
  accounts: Array.from({ length: N }, (_, i) => ({
    account: publicKeyFromSeed(seed(i)),
    balance: 1_000_000_000_000n,
  })),
  lane: { ...DEFAULT_AUCTION_LANE },
};

function bidFor(i: number, slot: number) {
  const bundle: Bundle = {
    legs: [{ namespace: 1 + (i % 2), txs: [new Uint8Array(1024).fill(i)], revertingTxHashes: [] }],
    atomicity: 'inclusion',
    minHeight: 0,
    maxHeight: 0,
    replacementUuid: new Uint8Array(0),
    signer: new Uint8Array(0),
    signature: new Uint8Array(0),
  };
  const amount = 1_000 + ((i * 7919 + slot * 104729) % 100_000);
  const { commit, reveal } = signBid(chainId, seed(i), {
    slot,
    amount: BigInt(amount),
    bundleHash: bundleHash(chainId, bundle),
    salt: sha256(new TextEncoder().encode(`salt-${i}-${slot}`)),
  });
  const env = (t: AuctionTx): TxEnvelope => ({ namespace: AUCTION_NAMESPACE, payload: encodeAuctionTx(t) });
  return {
    commit: env({ kind: 'commit', commit }),
    reveal: env({ kind: 'reveal', reveal: { ...reveal, amount, bundle } }),
  };
}

function block(height: number, txs: TxEnvelope[]): Block {
  const z = new Uint8Array(32);
  return {
    header: {
      chainId,
      height,
      round: 0,
      timeMs: height,
      parentHash: z,
      dataHash: z,
      proposer: z,
      txCount: txs.length,
      lastCommitHash: z,
      resultsHash: z,
      auctionHash: z,
    },
    txs,
    bundles: [],
  };
}

const quantile = (xs: number[], q: number) => {
  const a = [...xs].sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.floor(q * a.length))] ?? 0;
};

const dir = mkdtempSync(join(tmpdir(), 'ordo-bench-auction-state-'));
try {
  const store = await openStore({ path: join(dir, 'db'), engine: 'leveldb', sync: true });
  const book = await openAuctionBook({
    setup,
    kv: store.sub('auction', { sync: false }),
    durableKv: store.sub('auction'),
  });
  const pendingReveals = new Map<number, TxEnvelope[]>();
  const applyMs: number[] = [];
  const fsynced: number[] = [];
  const notFsynced: number[] = [];
  const stateBytes: number[] = [];
  const viewBytes: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let h = 1; h <= H; h++) {
    const txs: TxEnvelope[] = [...(pendingReveals.get(h) ?? [])];
    pendingReveals.delete(h);
    const slot = h + params.commitOffset;
    const reveals: TxEnvelope[] = [];
    for (let i = 0; i < N; i++) {
      const b = bidFor(i, slot);
      txs.push(b.commit);
      reveals.push(b.reveal);
    }
    pendingReveals.set(slot - params.revealOffset, reveals);
    // the source's part, outside the measured apply
    const inputs = book.inputs(h);
    const info = book.info();
    const v = validateBids(h, inputs.candidates, {
      params,
      reserve: (ns) => info.reserves.get(ns),
      available: inputs.available,
    });
    const resolution = resolveSlot(h, v.valid, (ns) => info.reserves.get(ns) ?? 0n);
    const simulations = h % 2 === 0 ? 1 : 0;
    const resolved = {
      slot: h,
      invalid: v.invalid,
      resolution,
      auctionHash: outcomeHash(h, resolution),
      simulations,
    };
    // Admission (gossip / ingress) happens before the block, outside the timed apply.
    if (values['no-admit'] !== true)
      for (const tx of txs)
        verifyAuctionTxSignatures(chainId, decodeAuctionTx(tx.payload), setup.depositAuthority);
    const t0 = performance.now();
    await book.apply(block(h, txs), resolved);
    const ms = performance.now() - t0;
    applyMs.push(ms);
    (simulations > 0 ? fsynced : notFsynced).push(ms);
    stateBytes.push(book.serialize().byteLength);
    viewBytes.push(JSON.stringify(book.slot(h), (_k, x) => (typeof x === 'bigint' ? String(x) : x)).length);
  }
  const cpu = process.cpuUsage(cpu0);
  await store.close();
  const t = book.totals();
  if (t.held + t.paidOut !== t.supplied) throw new Error('ledger not conserved');
  const out = {
    bidders: N,
    heights: H,
    txsPerBlock: 2 * N,
    applyMsMedian: Number(quantile(applyMs, 0.5).toFixed(3)),
    applyMsP99: Number(quantile(applyMs, 0.99).toFixed(3)),
    applyMsMedianFsynced: Number(quantile(fsynced, 0.5).toFixed(3)),
    applyMsMedianNotFsynced: Number(quantile(notFsynced, 0.5).toFixed(3)),
    stateBytesMedian: quantile(stateBytes, 0.5),
    viewBytesMedian: quantile(viewBytes, 0.5),
    cpuMsPerBlock: Number(((cpu.user + cpu.system) / 1000 / H).toFixed(3)),
    ignoredTxs: book.ignored().length,
    admittedFirst: values['no-admit'] !== true,
    loadAvg1: Number(loadavg()[0]!.toFixed(2)),
    note: 'apply includes the LevelDB batch (fsynced on even heights, as for slots resolved with executor verdicts; not on odd ones); cpuMsPerBlock includes signing and resolution done by the bench itself',
  };
  writeResult(out, values.out);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
