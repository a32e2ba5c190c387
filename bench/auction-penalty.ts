/**
 * What the simulation-budget attack of ADR 0296 "Left" costs its attacker and whether the EVM tops still
 * sell, before and after the failure penalty (ADR 0320) and each bidder's share of the budget (ADR 0321):
 * `node bench/auction-penalty.ts --out FILE [--slots S] [--honest N] [--attacker-bids K]`.
 *
 * The real auction state (src/auction/state.ts: ledger, commits, reveals, settlement) and the real
 * auction source (src/builder/auction-source.ts: static checks, lazy simulation, the per-slot maxSimGas
 * budget, resolution) run S slots on one EVM rollup. Each slot N honest bidders bid (seeded amounts
 * 2,000 .. 20,000) with a one-transaction EVM bundle declaring 150,000 gas that applies; the attacker
 * bids K times just above the best honest bid with bundles that together declare the whole maxSimGas and
 * fail. The executor is a stand-in that answers "fails" for the attacker's bundles and "applies" for the
 * others: what the attack costs depends on the verdicts, not on the EVM. Scenarios: without the
 * attacker; ADR 0320's rules (bidderSimShareBps 0) at failPenaltyBps 0, the default and 10,000; the
 * default share (ADR 0321) against the same attack, against one bidder whose failing bids declare
 * exactly its share, and against the least Sybil attack that still spends the budget (maxSimGas / share
 * bidders, one share-sized failing bid each). Per scenario, per slot: the attackers' loss (holdings
 * before − after settlement), the EVM tops sold to honest bidders (and their share of the slots), what
 * the rollup's treasury received, and the simulations run. Writes JSON; amounts are ledger units (money,
 * not time: the figures do not depend on the host's load).
 */
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createTx } from '@ethereumjs/tx';
import {
  type AuctionSetup,
  auctionParams,
  bidderSimGasOf,
  DEFAULT_AUCTION_LANE,
  DEFAULT_AUCTION_PARAMS,
  openAuctionBook,
  signBid,
} from '../src/auction/index.ts';
import { createAuctionSource } from '../src/builder/index.ts';
import { AUCTION_NAMESPACE, bundleHash, computeAuctionHash, encodeAuctionTx } from '../src/codec/index.ts';
import { latin1Key, publicKeyFromSeed } from '../src/crypto/index.ts';
import type { AuctionTx, Block, Bundle } from '../src/types.ts';
import { writeResult } from './lib/json-out.ts';

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
/** Attackers are bidders 1 .. MAX_ATTACKERS; honest bidders come after them. */
const MAX_ATTACKERS = 20;
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

/** An attack: `ids` bidders, each `bids` failing bids of `gas` declared gas, ranked above every honest bid. */
interface Attack {
  name: string;
  ids: number;
  bids: number;
  /** Declared gas per bid; 'budget' = maxSimGas / bids (ADR 0320's attack), 'share' = the bidder's share / bids. */
  gas: 'budget' | 'share';
}

interface Scenario {
  attack: string;
  failPenaltyBps: number;
  bidderSimShareBps: number;
  /** What one bidder's simulations may declare per slot (maxSimGas when bidderSimShareBps is 0). */
  bidderSimGas: number;
  attacker: boolean;
  slots: number;
  attackerIds: number;
  attackerBidsPerSlot: number;
  attackerGasPerBid: number;
  /** Per slot: what the attacker lost (median, mean, sum over the run). */
  attackerCostPerSlotMedian: number;
  attackerCostPerSlotMean: number;
  attackerCostTotal: number;
  /** What the best honest bid of a slot was worth to the attacker to displace (its amount), median. */
  bestHonestBidMedian: number;
  evmTopsSoldToHonest: number;
  /** evmTopsSoldToHonest / slots. */
  evmTopSoldShare: number;
  treasuryPerSlotMean: number;
  simulationsPerSlotMean: number;
  reasons: Record<string, number>;
}

async function run(
  p: { failPenaltyBps?: number; bidderSimShareBps?: number },
  attack: Attack | undefined,
): Promise<Scenario> {
  const params = auctionParams(p);
  const attacker = attack !== undefined;
  const ATTACKER_IDS = attack?.ids ?? 0;
  const BIDS = attack?.bids ?? 0;
  const attackerKeys = new Set(Array.from({ length: ATTACKER_IDS }, (_, i) => latin1Key(pk(i + 1))));
  const honestId = (i: number) => MAX_ATTACKERS + 1 + i;
  const setup: AuctionSetup = {
    chainId: CHAIN,
    params,
    depositAuthority: sha('authority'),
    forfeitSink: sha('sink'),
    reserves: new Map([[EVM_NS, 100n]]),
    treasuries: new Map([[EVM_NS, publicKeyFromSeed(TREASURY)]]),
    accounts: Array.from({ length: HONEST + MAX_ATTACKERS }, (_, i) => ({
      account: pk(i + 1),
      balance: 1_000_000_000n,
    })),
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
  const perBidder = bidderSimGasOf(params);
  const gasEach =
    attack === undefined ? 0 : Math.floor((attack.gas === 'budget' ? params.maxSimGas : perBidder) / BIDS);
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
  const attackerHoldings = () => {
    let sum = 0n;
    for (let i = 1; i <= ATTACKER_IDS; i++) sum += holdings(i);
    return sum;
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
        who: honestId(i),
        amount,
        bundle: evmBundle(honestId(i), slot, 150_000),
      }));
      for (let id = 1; id <= ATTACKER_IDS; id++)
        for (let j = 0; j < BIDS; j++) {
          const bundle = evmBundle(id, slot * 8 + j, gasEach);
          failing.add(latin1Key(bundleHash(CHAIN, bundle)));
          bids.push({ who: id, amount: top + 1 + (id - 1) * BIDS + j, bundle });
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
    const before = attackerHoldings();
    const tBefore = book.account(publicKeyFromSeed(TREASURY)).available;
    await book.apply(block, resolved);
    if (h >= 3 && h - 3 < SLOTS) {
      costs.push(Number(before - attackerHoldings()));
      best.push(Math.max(...amts[h - 3]!));
      for (const r of sold) if (!attackerKeys.has(latin1Key(r.winner.bidder))) soldHonest++;
      treasury += book.account(publicKeyFromSeed(TREASURY)).available - tBefore;
      for (const i of resolved.invalid) reasons[i.reason] = (reasons[i.reason] ?? 0) + 1;
    }
  }
  const t = book.totals();
  if (t.held + t.paidOut !== t.supplied) throw new Error('the ledger does not conserve money');
  const sum = costs.reduce((a, b) => a + b, 0);
  return {
    attack: attack?.name ?? 'none',
    failPenaltyBps: params.failPenaltyBps,
    bidderSimShareBps: params.bidderSimShareBps,
    bidderSimGas: perBidder,
    attacker,
    slots: SLOTS,
    attackerIds: ATTACKER_IDS,
    attackerBidsPerSlot: ATTACKER_IDS * BIDS,
    attackerGasPerBid: gasEach,
    attackerCostPerSlotMedian: median(costs),
    attackerCostPerSlotMean: Math.round(sum / costs.length),
    attackerCostTotal: sum,
    bestHonestBidMedian: median(best),
    evmTopsSoldToHonest: soldHonest,
    evmTopSoldShare: Number((soldHonest / SLOTS).toFixed(3)),
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
const D = DEFAULT_AUCTION_PARAMS;
// ADR 0320's attack: ATTACKER_BIDS failing bids of one bidder that together declare the whole budget.
const budgetAttack: Attack = {
  name: 'one bidder, the whole budget',
  ids: 1,
  bids: ATTACKER_BIDS,
  gas: 'budget',
};
// Against the share: one bidder whose failing bids declare exactly its share ...
const shareAttack: Attack = {
  name: 'one bidder, its whole share',
  ids: 1,
  bids: ATTACKER_BIDS,
  gas: 'share',
};
// ... and the fewest bidders that still spend the whole budget (maxSimGas / share), one bid each.
const sybils = Math.ceil(D.maxSimGas / bidderSimGasOf(D));
if (sybils > MAX_ATTACKERS)
  throw new Error(`the default share needs ${sybils} attackers; at most ${MAX_ATTACKERS}`);
const sybilAttack: Attack = { name: `${sybils} bidders, one share each`, ids: sybils, bids: 1, gas: 'share' };
const before = { bidderSimShareBps: 0 }; // ADR 0320's rules: the budget alone
const scenarios = [
  await run({}, undefined),
  await run({ ...before, failPenaltyBps: 0 }, budgetAttack),
  await run(before, budgetAttack),
  await run({ ...before, failPenaltyBps: 10_000 }, budgetAttack),
  await run({}, budgetAttack),
  await run({}, shareAttack),
  await run({}, sybilAttack),
];
const out = {
  bench: 'auction-penalty',
  adr: '0320, 0321',
  slots: SLOTS,
  honestBiddersPerSlot: HONEST,
  attackerBidsPerSlot: ATTACKER_BIDS,
  maxSimGas: D.maxSimGas,
  defaultBidderSimShareBps: D.bidderSimShareBps,
  loadAvg1AtStart: Number(load.toFixed(2)),
  scenarios,
};
writeResult(out, args.out);
