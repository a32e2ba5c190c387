/**
 * What the simulation-budget attack of ADR 0296 "Left" costs its attacker, before and after the failure
 * penalty (ADR 0320): `node bench/auction-penalty.ts --out FILE [--slots S] [--honest N] [--attacker-bids K]`.
 *
 * The real auction state (src/auction/state.ts: ledger, commits, reveals, settlement) and the real
 * auction source (src/builder/auction-source.ts: static checks, lazy simulation, the per-slot maxSimGas
 * budget, resolution) run S slots on one EVM rollup. Each slot N honest bidders bid (seeded amounts
 * 2,000 .. 20,000) with a one-transaction EVM bundle declaring 150,000 gas that applies; the attacker
 * bids K times just above the best honest bid with bundles that together declare the whole maxSimGas and
 * fail. The executor is a stand-in that answers "fails" for the attacker's bundles and "applies" for the
 * others: what the attack costs depends on the verdicts, not on the EVM. For failPenaltyBps 0 (the rule
 * before ADR 0320), the default and 10,000, and without the attacker, it reports per slot: the
 * attacker's loss (its holdings before − after settlement), the EVM tops sold to honest bidders, what
 * the rollup's treasury received, and the simulations run. Writes JSON; amounts are ledger units.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createTx } from '@ethereumjs/tx';
import {
  type AuctionSetup,
  auctionParams,
  DEFAULT_AUCTION_LANE,
  DEFAULT_AUCTION_PARAMS,
  openAuctionBook,
  signBid,
} from '../src/auction/index.ts';
import { createAuctionSource } from '../src/builder/index.ts';
import { AUCTION_NAMESPACE, bundleHash, computeAuctionHash, encodeAuctionTx } from '../src/codec/index.ts';
import { latin1Key, publicKeyFromSeed } from '../src/crypto/index.ts';
import type { AuctionTx, Block, Bundle } from '../src/types.ts';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    slots: { type: 'string', default: '40' },
    honest: { type: 'string', default: '4' },
    'attacker-bids': { type: 'string', default: '1' },
  },
});
const SLOTS = Number(args.slots);
const HONEST = Number(args.honest);
const ATTACKER_BIDS = Number(args['attacker-bids']);
if (!(SLOTS >= 1 && HONEST >= 1 && ATTACKER_BIDS >= 1 && ATTACKER_BIDS <= 5))
  throw new Error('--slots >= 1, --honest >= 1, --attacker-bids 1..5');

const CHAIN = 'ordo-bench-penalty';
const EVM_NS = 3;
const EVM_CHAIN_ID = 900001;
const common = createCustomCommon({ chainId: EVM_CHAIN_ID }, Mainnet, { hardfork: Hardfork.Prague });
const sha = (tag: string) => new Uint8Array(createHash('sha256').update(tag).digest());
const ATTACKER = 1;
const TREASURY = sha('treasury');
const seed = (i: number) => sha(`bidder-${i}`);
const pk = (i: number) => publicKeyFromSeed(seed(i));
const rollups = [
  { namespace: EVM_NS, name: 'evm', maxTxBytes: 4096, kind: 'evm' as const, evmGasLimit: 30_000_000 },
];

function evmBundle(who: number, nonce: number, gasLimit: number): Bundle {
  const tx = createTx(
    {
      type: 2,
      nonce: BigInt(nonce),
      to: sha(`to-${who}`).subarray(0, 20),
      gasLimit: BigInt(gasLimit),
      maxFeePerGas: 3_000_000_000n,
      maxPriorityFeePerGas: 0n,
    },
    { common },
  )
    .sign(sha(`evm-key-${who}`))
    .serialize();
  return {
    legs: [{ namespace: EVM_NS, txs: [tx], revertingTxHashes: [] }],
    atomicity: 'execution',
    minHeight: 0,
    maxHeight: 0,
    replacementUuid: new Uint8Array(0),
    signer: new Uint8Array(0),
    signature: new Uint8Array(0),
  };
}

/** Deterministic amounts (xorshift), the same in every scenario. */
function amounts(): number[][] {
  let x = 0x320;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  return Array.from({ length: SLOTS }, () =>
    Array.from({ length: HONEST }, () => 2_000 + Math.floor(next() * 18_000)),
  );
}

interface Scenario {
  failPenaltyBps: number | null;
  attacker: boolean;
  slots: number;
  attackerBidsPerSlot: number;
  /** Per slot: what the attacker lost (median, mean, sum over the run). */
  attackerCostPerSlotMedian: number;
  attackerCostPerSlotMean: number;
  attackerCostTotal: number;
  /** What the best honest bid of a slot was worth to the attacker to displace (its amount), median. */
  bestHonestBidMedian: number;
  evmTopsSoldToHonest: number;
  treasuryPerSlotMean: number;
  simulationsPerSlotMean: number;
  reasons: Record<string, number>;
}

async function run(bps: number | null, attacker: boolean): Promise<Scenario> {
  const params = auctionParams(bps === null ? {} : { failPenaltyBps: bps });
  const setup: AuctionSetup = {
    chainId: CHAIN,
    params,
    depositAuthority: sha('authority'),
    forfeitSink: sha('sink'),
    reserves: new Map([[EVM_NS, 100n]]),
    treasuries: new Map([[EVM_NS, publicKeyFromSeed(TREASURY)]]),
    accounts: Array.from({ length: HONEST + 1 }, (_, i) => ({ account: pk(i + 1), balance: 1_000_000_000n })),
    lane: { ...DEFAULT_AUCTION_LANE },
  };
  const book = await openAuctionBook({ setup });
  const failing = new Set<string>();
  let simulations = 0;
  const source = createAuctionSource({
    chainId: CHAIN,
    book,
    rollups,
    simulate: (_h, bundle) => {
      simulations++;
      return Promise.resolve({ applies: !failing.has(latin1Key(bundleHash(CHAIN, bundle))) });
    },
    blockTimeMs: (h) => Promise.resolve(h * 1000),
  });
  const amts = amounts();
  const gasEach = Math.floor(params.maxSimGas / ATTACKER_BIDS);
  // Block h carries the commits of slot h + 2 and the reveals of slot h + 1 (commitOffset 2, revealOffset 1).
  const reveals = new Map<number, AuctionTx[]>();
  const costs: number[] = [];
  const best: number[] = [];
  const reasons: Record<string, number> = {};
  let soldHonest = 0;
  let treasury = 0n;
  const holdings = (i: number) => {
    const a = book.account(pk(i));
    return a.available + a.locked + a.pendingWithdrawal;
  };
  const last = SLOTS + 2;
  for (let h = 1; h <= last; h++) {
    const txs: AuctionTx[] = [...(reveals.get(h) ?? [])];
    const slot = h + 2;
    const k = slot - 3; // slots 3 .. SLOTS + 2 carry bids
    if (k < SLOTS) {
      const honest = amts[k]!;
      const top = Math.max(...honest);
      const bids: { who: number; amount: number; bundle: Bundle }[] = honest.map((amount, i) => ({
        who: i + 2,
        amount,
        bundle: evmBundle(i + 2, slot, 150_000),
      }));
      if (attacker)
        for (let j = 0; j < ATTACKER_BIDS; j++) {
          const bundle = evmBundle(ATTACKER, slot * 8 + j, gasEach);
          failing.add(latin1Key(bundleHash(CHAIN, bundle)));
          bids.push({ who: ATTACKER, amount: top + 1 + j, bundle });
        }
      for (const b of bids) {
        const { commit, reveal } = signBid(CHAIN, seed(b.who), {
          slot,
          amount: BigInt(b.amount),
          bundleHash: bundleHash(CHAIN, b.bundle),
          salt: sha(`salt-${slot}-${b.who}-${b.amount}`),
        });
        txs.push({ kind: 'commit', commit });
        const r: AuctionTx = { kind: 'reveal', reveal: { ...reveal, amount: b.amount, bundle: b.bundle } };
        reveals.set(slot - 1, [...(reveals.get(slot - 1) ?? []), r]);
      }
    }
    const { outcome } = await source.outcome(h);
    const block = blockOf(h, txs, computeAuctionHash(h, outcome));
    const resolved = await source.resolved(block);
    const sold = outcome.kind === 'auction' ? outcome.rollups : [];
    const before = holdings(ATTACKER);
    const tBefore = book.account(publicKeyFromSeed(TREASURY)).available;
    await book.apply(block, resolved);
    if (h >= 3 && h - 3 < SLOTS) {
      costs.push(Number(before - holdings(ATTACKER)));
      best.push(Math.max(...amts[h - 3]!));
      for (const r of sold) if (latin1Key(r.winner.bidder) !== latin1Key(pk(ATTACKER))) soldHonest++;
      treasury += book.account(publicKeyFromSeed(TREASURY)).available - tBefore;
      for (const i of resolved.invalid) reasons[i.reason] = (reasons[i.reason] ?? 0) + 1;
    }
  }
  const t = book.totals();
  if (t.held + t.paidOut !== t.supplied) throw new Error('the ledger does not conserve money');
  const sum = costs.reduce((a, b) => a + b, 0);
  return {
    failPenaltyBps: bps ?? params.failPenaltyBps,
    attacker,
    slots: SLOTS,
    attackerBidsPerSlot: attacker ? ATTACKER_BIDS : 0,
    attackerCostPerSlotMedian: median(costs),
    attackerCostPerSlotMean: Math.round(sum / costs.length),
    attackerCostTotal: sum,
    bestHonestBidMedian: median(best),
    evmTopsSoldToHonest: soldHonest,
    treasuryPerSlotMean: Math.round(Number(treasury) / SLOTS),
    simulationsPerSlotMean: Number((simulations / SLOTS).toFixed(2)),
    reasons,
  };
}

function blockOf(height: number, txs: AuctionTx[], auctionHash: Uint8Array): Block {
  const z = new Uint8Array(32);
  return {
    header: {
      chainId: CHAIN,
      height,
      round: 0,
      timeMs: height * 1000,
      parentHash: z,
      dataHash: z,
      proposer: z,
      txCount: txs.length,
      lastCommitHash: z,
      resultsHash: z,
      auctionHash,
    },
    txs: txs.map((t) => ({ namespace: AUCTION_NAMESPACE, payload: encodeAuctionTx(t) })),
    bundles: [],
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
}

const load = loadavg()[0]!;
const scenarios = [
  await run(null, false),
  await run(0, true),
  await run(DEFAULT_AUCTION_PARAMS.failPenaltyBps, true),
  await run(10_000, true),
];
const out = {
  bench: 'auction-penalty',
  adr: '0320',
  slots: SLOTS,
  honestBiddersPerSlot: HONEST,
  attackerBidsPerSlot: ATTACKER_BIDS,
  maxSimGas: DEFAULT_AUCTION_PARAMS.maxSimGas,
  loadAvg1AtStart: Number(load.toFixed(2)),
  scenarios,
};
const text = `${JSON.stringify(out, null, 2)}\n`;
if (args.out !== undefined) {
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, text);
}
process.stdout.write(text);
