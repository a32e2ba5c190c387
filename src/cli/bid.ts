/**
 * `ordo bid …`: the auction from the command line, over a node's public JSON-RPC (docs/auction.md
 * "Client API"). Subcommands:
 *
 *   info                      the auction's parameters, rollups and the head height
 *   account                   a ledger account's balances (--key SEED | --demo N | --account PUBKEY)
 *   deposit                   credit an account, signed by the deposit authority; waits for inclusion
 *   withdraw                  move an account's funds to pending (paid out withdrawDelay blocks later)
 *   place                     one whole bid: pick a slot whose commit window is open, commit, wait for
 *                             the commit's inclusion, reveal in the reveal window, wait for the slot and
 *                             print the outcome (won/lost, price, proceeds)
 *   outcome HEIGHT            a slot's bids, winners, prices and proceeds
 *
 * Progress goes to stderr, the result as JSON to stdout. Keys: a 32-byte ed25519 seed in hex (--key),
 * or a demo bidder of the local testnet (--demo N, src/config/demo-accounts.ts). The flow is written
 * against an injectable JSON-RPC caller and clock so it can be tested without a network.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  type AuctionParams,
  bidderSimGasOf,
  commitWindow,
  revealWindow,
  signBid,
  signDeposit,
  signWithdraw,
  topSizeOf,
} from '../auction/index.ts';
import { bundleEvmGas, bundleHash } from '../codec/index.ts';
import {
  DEFAULT_CONFIG,
  DEMO_AUCTION_BIDDERS,
  demoAuctionSeed,
  demoDepositAuthoritySeed,
  type Genesis,
} from '../config/index.ts';
import { fromHex, publicKeyFromSeed, toHex } from '../crypto/index.ts';
import { errorMessage, isOrdoError, OrdoError } from '../errors.ts';
import {
  type AuctionInfoJson,
  type AuctionSlotJson,
  bidOutcome,
  bundleJson,
  commitParams,
  revealParams,
  runSearchers,
  type SearcherReport,
} from '../loadgen/index.ts';
import { parseBundle, rpcCall } from '../rpc/index.ts';
import type { Bundle } from '../types.ts';
import { type Parsed, parse, strArg, UsageError } from './args.ts';

const DEFAULT_RPC = `http://${DEFAULT_CONFIG.rpc.listen}`;

export const BID_USAGE = `Usage: ordo bid <info|account|deposit|withdraw|place|outcome> [options]

The MEV auction over a node's JSON-RPC (docs/auction.md "Client API"). Progress on stderr, JSON on stdout.

Subcommands:
  info                       auction parameters, rollups, reserve prices and the head height
  account                    an account's available, locked and pending funds
  deposit --amount A         credit an account (signed by the deposit authority), wait for inclusion
  withdraw --amount A        request a withdrawal of available funds, wait for inclusion
  place --amount A           bid for the next slot whose commit window is open: commit, wait for it,
                             reveal in the reveal window, wait for the slot, print won/lost and price
  outcome HEIGHT             the slot's bids, winners, prices and proceeds

Keys (account, withdraw, place; deposit's --to):
  --key SEED_HEX             32-byte ed25519 seed, hex
  --demo N                   demo bidder N (0..${DEMO_AUCTION_BIDDERS - 1}) of the local testnet
  --account PUBKEY           (account only) read any account by its public key

Options:
  --rpc URL                  the node's JSON-RPC endpoint (default ${DEFAULT_RPC})
  --authority-key SEED_HEX   (deposit) the deposit authority's seed
  --demo-authority           (deposit) the local testnet's demo deposit authority
  --to PUBKEY                (deposit) the account to credit (or --demo N / --key)
  --nonce N                  (deposit, withdraw) override the nonce read from the node
  --bundle FILE.json         (place) the bundle, as ordo_sendBundle's object ({legs: [{namespace, txs}]})
  --demo-bundle              (place) a one-leg bundle on the network's first opaque rollup
  --slot H                   (place) the slot to bid for (default: the next block + commitOffset + --lead)
  --lead N                   (place) extra slots of margin for the commit to be included (default 2)
  --timeout S                seconds to wait for inclusion / the slot (default 60)
  -h, --help                 show this help`;

const OPTIONS = {
  rpc: { type: 'string' },
  key: { type: 'string' },
  demo: { type: 'string' },
  account: { type: 'string' },
  amount: { type: 'string' },
  'authority-key': { type: 'string' },
  'demo-authority': { type: 'boolean' },
  to: { type: 'string' },
  nonce: { type: 'string' },
  bundle: { type: 'string' },
  'demo-bundle': { type: 'boolean' },
  slot: { type: 'string' },
  lead: { type: 'string' },
  timeout: { type: 'string' },
} as const;

const SUBCOMMANDS = ['info', 'account', 'deposit', 'withdraw', 'place', 'outcome'] as const;
type Sub = (typeof SUBCOMMANDS)[number];

/** A parsed `ordo bid` command line: what to do, checked before any network call. */
export type BidPlan =
  | { sub: 'info'; rpc: string }
  | { sub: 'account'; rpc: string; account: Uint8Array }
  | {
      sub: 'deposit';
      rpc: string;
      amount: number;
      authoritySeed: Uint8Array;
      to: Uint8Array;
      nonce?: number;
      timeoutMs: number;
    }
  | { sub: 'withdraw'; rpc: string; amount: number; seed: Uint8Array; nonce?: number; timeoutMs: number }
  | {
      sub: 'place';
      rpc: string;
      amount: number;
      seed: Uint8Array;
      bundle: { file: string } | 'demo';
      slot?: number;
      lead: number;
      timeoutMs: number;
    }
  | { sub: 'outcome'; rpc: string; height: number };

const usage = (msg: string): never => {
  throw new UsageError(msg, BID_USAGE);
};

function intOpt(a: Parsed, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = strArg(a, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^[0-9]+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max)
    usage(`--${name} must be an integer in ${min}..${max}, got "${v}"`);
  return n;
}

function hex32(v: string, name: string): Uint8Array {
  const s = v.startsWith('0x') ? v.slice(2) : v;
  if (!/^[0-9a-fA-F]{64}$/.test(s)) usage(`--${name} must be 32 bytes of hex (64 digits)`);
  return fromHex(`0x${s}`);
}

/** The signing seed from --key or --demo (required when `required`). */
function seedOf(a: Parsed, required: boolean): Uint8Array | undefined {
  const key = strArg(a, 'key');
  const demo = intOpt(a, 'demo', 0, DEMO_AUCTION_BIDDERS - 1);
  if (key !== undefined && demo !== undefined) usage('give one of --key and --demo, not both');
  if (key !== undefined) return hex32(key, 'key');
  if (demo !== undefined) return demoAuctionSeed(demo);
  if (required) usage('a key is needed: --key SEED_HEX or --demo N');
  return undefined;
}

function amountOpt(a: Parsed): number {
  const v = strArg(a, 'amount');
  if (v === undefined) return usage('--amount is required');
  const n = Number(v);
  if (!/^[0-9]+$/.test(v) || !Number.isSafeInteger(n) || n <= 0)
    usage(`--amount must be a positive integer at most 2^53 - 1, got "${v}"`);
  return n;
}

/** Parse `ordo bid …` into a plan; throws UsageError (exit 2) for anything wrong on the command line. */
export function parseBidArgs(argv: string[]): BidPlan | 'help' {
  const a = parse(argv, OPTIONS, BID_USAGE, true);
  if (a.help) return 'help';
  const [sub, ...rest] = a.positionals;
  if (sub === undefined) return usage('a subcommand is required');
  if (!(SUBCOMMANDS as readonly string[]).includes(sub)) usage(`unknown subcommand "${sub}"`);
  const s = sub as Sub;
  if (s !== 'outcome' && rest.length > 0) usage(`unexpected argument "${rest[0]}"`);
  const rpc = strArg(a, 'rpc') ?? DEFAULT_RPC;
  const timeoutMs = (intOpt(a, 'timeout', 1, 86_400) ?? 60) * 1000;
  const nonce = intOpt(a, 'nonce', 0);
  switch (s) {
    case 'info':
      return { sub: s, rpc };
    case 'account': {
      const acc = strArg(a, 'account');
      if (acc !== undefined) {
        if (strArg(a, 'key') !== undefined || strArg(a, 'demo') !== undefined)
          usage('give one of --account, --key and --demo');
        return { sub: s, rpc, account: hex32(acc, 'account') };
      }
      return { sub: s, rpc, account: publicKeyFromSeed(seedOf(a, true) as Uint8Array) };
    }
    case 'deposit': {
      const amount = amountOpt(a);
      const ak = strArg(a, 'authority-key');
      const demoAuth = a.values['demo-authority'] === true;
      if ((ak === undefined) === !demoAuth)
        usage('give one of --authority-key SEED_HEX and --demo-authority');
      const authoritySeed = ak !== undefined ? hex32(ak, 'authority-key') : demoDepositAuthoritySeed();
      const toArg = strArg(a, 'to');
      const seed = seedOf(a, toArg === undefined);
      if (toArg !== undefined && seed !== undefined) usage('give one of --to, --key and --demo');
      const to = toArg !== undefined ? hex32(toArg, 'to') : publicKeyFromSeed(seed as Uint8Array);
      return { sub: s, rpc, amount, authoritySeed, to, ...(nonce !== undefined ? { nonce } : {}), timeoutMs };
    }
    case 'withdraw':
      return {
        sub: s,
        rpc,
        amount: amountOpt(a),
        seed: seedOf(a, true) as Uint8Array,
        ...(nonce !== undefined ? { nonce } : {}),
        timeoutMs,
      };
    case 'place': {
      const amount = amountOpt(a);
      const file = strArg(a, 'bundle');
      const demoBundle = a.values['demo-bundle'] === true;
      if ((file === undefined) === !demoBundle) usage('give one of --bundle FILE.json and --demo-bundle');
      const slot = intOpt(a, 'slot', 1);
      return {
        sub: s,
        rpc,
        amount,
        seed: seedOf(a, true) as Uint8Array,
        bundle: file !== undefined ? { file } : 'demo',
        ...(slot !== undefined ? { slot } : {}),
        lead: intOpt(a, 'lead', 0, 1000) ?? 2,
        timeoutMs,
      };
    }
    case 'outcome': {
      if (rest.length !== 1) usage('outcome takes one HEIGHT');
      const h = Number(rest[0]);
      if (!/^[0-9]+$/.test(rest[0] as string) || !Number.isSafeInteger(h) || h < 1)
        usage(`HEIGHT must be a positive integer, got "${rest[0]}"`);
      return { sub: s, rpc, height: h };
    }
  }
}

/** The slot `place` bids for: the given one (its commit window must hold the next block) or the next open. */
export function chooseSlot(
  head: number,
  params: Pick<AuctionParams, 'commitOffset' | 'commitHorizon' | 'revealOffset'>,
  slot: number | undefined,
  lead: number,
): number {
  const next = head + 1;
  const s = slot ?? next + params.commitOffset + lead;
  const w = commitWindow(s, params as AuctionParams);
  if (next > w.last)
    throw new OrdoError(
      'BID_WINDOW_CLOSED',
      `the commit window of slot ${s} closed at block ${w.last} (the next block is ${next}); pick a later --slot`,
      { slot: s, ...w, next },
    );
  if (next < w.first)
    throw new OrdoError(
      'BID_WINDOW_NOT_OPEN',
      `the commit window of slot ${s} opens at block ${w.first} (the next block is ${next}); pick an earlier --slot`,
      { slot: s, ...w, next },
    );
  return s;
}

export interface BidIo {
  call: (method: string, params: unknown[]) => Promise<unknown>;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  progress: (line: string) => void;
  readFile: (path: string) => string;
}

interface Status {
  chainId: string;
  height: number;
  rollups: { namespace: number; name?: string; kind: string }[];
}

async function enabledInfo(
  io: BidIo,
): Promise<AuctionInfoJson & { params: NonNullable<AuctionInfoJson['params']> }> {
  const info = (await io.call('ordo_getAuctionInfo', [])) as AuctionInfoJson;
  if (!info.enabled || info.params === undefined)
    throw new OrdoError('AUCTION_DISABLED', 'the auction is not enabled on this network (genesis.auction)');
  return info as AuctionInfoJson & { params: NonNullable<AuctionInfoJson['params']> };
}

const hx = (b: Uint8Array) => `0x${toHex(b)}`;

/** Poll a transaction until committed; throws when it is dropped or `deadline` (ms, io.now) passes. */
async function waitCommitted(io: BidIo, txHash: string, what: string, deadline: number, pollMs = 100) {
  for (;;) {
    const s = (await io.call('ordo_getTransactionStatus', [txHash])) as {
      status: string;
      height?: number;
      reason?: string;
    };
    if (s.status === 'committed') return s.height as number;
    if (s.status === 'dropped')
      throw new OrdoError('BID_DROPPED', `the ${what} ${txHash} was dropped (${s.reason ?? 'no reason'})`);
    if (io.now() > deadline)
      throw new OrdoError(
        'BID_TIMEOUT',
        `the ${what} ${txHash} was not included in time (status ${s.status})`,
      );
    await io.sleep(pollMs);
  }
}

async function headOf(io: BidIo): Promise<number> {
  return ((await io.call('ordo_status', [])) as Status).height;
}

/** Run one plan; resolves with the JSON result to print. */
export async function runBid(plan: Exclude<BidPlan, 'help'>, io: BidIo): Promise<unknown> {
  switch (plan.sub) {
    case 'info': {
      const info = (await io.call('ordo_getAuctionInfo', [])) as AuctionInfoJson;
      const st = (await io.call('ordo_status', [])) as Status;
      return { chainId: st.chainId, head: st.height, ...info };
    }
    case 'account':
      await enabledInfo(io);
      return io.call('ordo_getAccount', [hx(plan.account)]);
    case 'outcome':
      return io.call('ordo_getAuction', [plan.height]);
    case 'deposit': {
      const st = (await io.call('ordo_status', [])) as Status;
      const info = await enabledInfo(io);
      const nonce = plan.nonce ?? info.nextDepositNonce ?? 0;
      const d = signDeposit(st.chainId, plan.authoritySeed, { account: plan.to, amount: plan.amount, nonce });
      const r = (await io.call('ordo_deposit', [
        { account: hx(plan.to), amount: String(plan.amount), nonce, signature: hx(d.signature) },
      ])) as { txHash: string };
      io.progress(`deposit of ${plan.amount} to ${hx(plan.to)} sent (nonce ${nonce}), tx ${r.txHash}`);
      const height = await waitCommitted(io, r.txHash, 'deposit', io.now() + plan.timeoutMs);
      io.progress(`deposit included at height ${height}`);
      return { txHash: r.txHash, height, account: await io.call('ordo_getAccount', [hx(plan.to)]) };
    }
    case 'withdraw': {
      const st = (await io.call('ordo_status', [])) as Status;
      await enabledInfo(io);
      const account = publicKeyFromSeed(plan.seed);
      const acc = (await io.call('ordo_getAccount', [hx(account)])) as { withdrawNonce: number };
      const nonce = plan.nonce ?? acc.withdrawNonce;
      const w = signWithdraw(st.chainId, plan.seed, { amount: plan.amount, nonce });
      const r = (await io.call('ordo_withdraw', [
        { account: hx(account), amount: String(plan.amount), nonce, signature: hx(w.signature) },
      ])) as { txHash: string };
      io.progress(`withdrawal of ${plan.amount} from ${hx(account)} sent (nonce ${nonce}), tx ${r.txHash}`);
      const height = await waitCommitted(io, r.txHash, 'withdrawal', io.now() + plan.timeoutMs);
      io.progress(`withdrawal included at height ${height}; paid out after the withdraw delay`);
      return { txHash: r.txHash, height, account: await io.call('ordo_getAccount', [hx(account)]) };
    }
    case 'place':
      return place(plan, io);
  }
}

async function place(plan: Extract<BidPlan, { sub: 'place' }>, io: BidIo): Promise<unknown> {
  const st = (await io.call('ordo_status', [])) as Status;
  const info = await enabledInfo(io);
  const params = info.params;
  const deadline = io.now() + plan.timeoutMs;
  const bidder = publicKeyFromSeed(plan.seed);
  // The bundle: a file in ordo_sendBundle's shape, or one opaque leg (it cannot fail to apply).
  let bundleParam: unknown;
  if (plan.bundle === 'demo') {
    const opaque = st.rollups.find((r) => r.kind === 'opaque');
    if (opaque === undefined)
      throw new OrdoError(
        'BID_NO_DEMO_BUNDLE',
        'the network has no opaque rollup for --demo-bundle; use --bundle',
      );
    const tx = new TextEncoder().encode(`ordo-bid/${toHex(bidder).slice(0, 16)}/${toHex(randomBytes(8))}`);
    bundleParam = bundleJson([{ namespace: opaque.namespace, tx }], 'inclusion');
  } else {
    try {
      bundleParam = JSON.parse(io.readFile(plan.bundle.file));
    } catch (err) {
      throw new OrdoError('BID_BAD_BUNDLE', `cannot read ${plan.bundle.file}: ${(err as Error).message}`);
    }
  }
  let bundle: Bundle;
  try {
    // The node's own parser, so the hash here is the one the node computes.
    bundle = parseBundle(bundleParam, { rollups: st.rollups } as unknown as Genesis, 128 * 1024);
  } catch (err) {
    throw new OrdoError('BID_BAD_BUNDLE', `the bundle is not valid: ${(err as Error).message}`);
  }
  // A bundle larger than the slot's top budget could never win: refuse it before the bond is locked.
  const size = topSizeOf(bundle);
  if (
    (params.maxTopBytes !== undefined && size.bytes > params.maxTopBytes) ||
    (params.maxTopTxs !== undefined && size.txs > params.maxTopTxs)
  )
    throw new OrdoError(
      'BID_BAD_BUNDLE',
      `the bundle takes ${size.bytes} bytes and ${size.txs} transactions of a block; the auction's winners may take at most ${params.maxTopBytes} bytes and ${params.maxTopTxs} transactions together (auction.maxTopBytes, maxTopTxs), so it could never win`,
    );
  const evmNs = new Set(st.rollups.filter((r) => r.kind === 'evm').map((r) => r.namespace));
  const gas = bundleEvmGas(bundle.legs, (ns) => evmNs.has(ns));
  if (params.maxSimGas !== undefined && gas > params.maxSimGas)
    throw new OrdoError(
      'BID_BAD_BUNDLE',
      `the bundle's EVM transactions declare ${gas} gas; the auction simulates at most ${params.maxSimGas} per slot (auction.maxSimGas), so it could never be simulated or win`,
    );
  // ... nor one bidder's share of that budget (ADR 0321).
  if (params.maxSimGas !== undefined && params.bidderSimShareBps !== undefined) {
    const share = bidderSimGasOf({
      maxSimGas: params.maxSimGas,
      bidderSimShareBps: params.bidderSimShareBps,
    });
    if (gas > share)
      throw new OrdoError(
        'BID_BAD_BUNDLE',
        `the bundle's EVM transactions declare ${gas} gas; the auction simulates at most ${share} per bidder per slot (auction.bidderSimShareBps ${params.bidderSimShareBps} of maxSimGas ${params.maxSimGas}), so it could never be simulated or win`,
      );
  }
  const slot = chooseSlot(st.height, params, plan.slot, plan.lead);
  const cw = commitWindow(slot, params as unknown as AuctionParams);
  const rw = revealWindow(slot, params as unknown as AuctionParams);
  const acc = (await io.call('ordo_getAccount', [hx(bidder)])) as { available: string };
  const need = BigInt(plan.amount) + BigInt(params.forfeitFee);
  if (BigInt(acc.available) < need)
    throw new OrdoError(
      'LEDGER_INSUFFICIENT_FUNDS',
      `account ${hx(bidder)} has ${acc.available} available; the bid needs ${need} (amount + forfeitFee bond): ordo bid deposit`,
    );
  const { commit, reveal } = signBid(st.chainId, plan.seed, {
    slot,
    amount: BigInt(plan.amount),
    bundleHash: bundleHash(st.chainId, bundle),
    salt: randomBytes(32),
  });
  const c = (await io.call('ordo_sendBidCommit', [commitParams(commit)])) as { txHash: string };
  io.progress(
    `slot ${slot}: commit sent (tx ${c.txHash}); commit window ${cw.first}..${cw.last}, reveal window ${rw.first}..${rw.last}, head ${st.height}`,
  );
  const commitHeight = await waitCommitted(io, c.txHash, 'commit', deadline);
  if (commitHeight > cw.last)
    throw new OrdoError('BID_WINDOW_CLOSED', `the commit landed at ${commitHeight}, after its window`);
  io.progress(`slot ${slot}: commit included at height ${commitHeight}; waiting for the reveal window`);
  let head = await headOf(io);
  while (head + 1 < rw.first) {
    if (io.now() > deadline)
      throw new OrdoError('BID_TIMEOUT', `the reveal window of slot ${slot} did not open in time`);
    await io.sleep(50);
    head = await headOf(io);
  }
  if (head + 1 > rw.last)
    throw new OrdoError(
      'BID_WINDOW_CLOSED',
      `missed the reveal window ${rw.first}..${rw.last} of slot ${slot} (next block ${head + 1}); the bond is forfeited`,
    );
  // The commit is included, but the node may apply its block a moment after reporting it committed:
  // a COMMITMENT_MISMATCH while the window is open is tried again.
  let r: { txHash: string };
  for (let attempt = 0; ; attempt++) {
    try {
      r = (await io.call('ordo_sendBidReveal', [revealParams(reveal, bundleParam)])) as { txHash: string };
      break;
    } catch (err) {
      const code = (err as { data?: { rpcData?: { code?: unknown } } }).data?.rpcData?.code;
      if (code !== 'AUCTION_COMMITMENT_MISMATCH' || attempt >= 20) throw err;
      await io.sleep(50);
      head = await headOf(io);
      if (head + 1 > rw.last) throw err;
    }
  }
  io.progress(`slot ${slot}: reveal sent (tx ${r.txHash}) for the next block ${head + 1}`);
  const revealHeight = await waitCommitted(io, r.txHash, 'reveal', deadline);
  io.progress(`slot ${slot}: reveal included at height ${revealHeight}; waiting for the slot to resolve`);
  let s: AuctionSlotJson | null;
  for (;;) {
    s = (await io.call('ordo_getAuction', [slot])) as AuctionSlotJson | null;
    if (s?.resolved === true) break;
    if (io.now() > deadline) throw new OrdoError('BID_TIMEOUT', `slot ${slot} did not resolve in time`);
    await io.sleep(100);
  }
  const out = bidOutcome(s, hx(commit.commitment));
  const line =
    out.result === 'won'
      ? `won: price ${out.price}, proceeds ${out.proceeds?.map((p) => `${p.amount} to rollup ${p.namespace}`).join(', ')}`
      : out.result === 'invalid'
        ? `invalid: ${out.reason}${out.penalty !== undefined ? ` (penalty ${out.penalty} paid from the bid to its rollups' treasuries)` : ''}`
        : out.result;
  io.progress(`slot ${slot}: ${line}`);
  return {
    slot,
    bidder: hx(bidder),
    amount: String(plan.amount),
    commitment: hx(commit.commitment),
    commitTx: c.txHash,
    commitHeight,
    revealTx: r.txHash,
    revealHeight,
    result: out.result,
    ...(out.price !== undefined ? { price: out.price.toString() } : {}),
    ...(out.proceeds !== undefined
      ? { proceeds: out.proceeds.map((p) => ({ namespace: p.namespace, amount: p.amount.toString() })) }
      : {}),
    ...(out.reason !== undefined ? { reason: out.reason } : {}),
    ...(out.penalty !== undefined ? { penalty: out.penalty.toString() } : {}),
  };
}

export async function bidCommand(argv: string[]): Promise<number> {
  const plan = parseBidArgs(argv);
  if (plan === 'help') {
    process.stdout.write(`${BID_USAGE}\n`);
    return 0;
  }
  const io: BidIo = {
    call: (m, p) => rpcCall(plan.rpc, m, p, 10_000),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: () => Date.now(),
    progress: (l) => process.stderr.write(`${l}\n`),
    readFile: (f) => readFileSync(f, 'utf8'),
  };
  let out: unknown;
  try {
    out = await runBid(plan, io);
  } catch (err) {
    if (isOrdoError(err) && err.code === 'RPC_UNREACHABLE')
      throw new OrdoError(err.code, `${err.message}; is a node running there? --rpc URL names another`);
    // A node's refusal: show its code (AUCTION_OUT_OF_WINDOW, LEDGER_INSUFFICIENT_FUNDS, …).
    const data = isOrdoError(err) ? (err.data.rpcData as { code?: unknown } | undefined) : undefined;
    if (typeof data?.code === 'string') throw new OrdoError(data.code, errorMessage(err));
    throw err;
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return 0;
}

/**
 * `ordo testnet up --searchers N`: the searcher load (src/loadgen/searcher.ts) beside the testnet's
 * transaction load, until `stop()`; then one summary line and, with a report file, the JSON report next
 * to it (`<report>.searchers.json`). Bundles use opaque legs when the transaction load already spends the
 * demo transfer accounts (their nonces would race).
 */
export function startTestnetSearchers(o: {
  urls: string[];
  searchers: number;
  rollups: { namespace: number; kind: string }[];
  load: number;
  loadNamespaces?: number[];
  /** The testnet's --duration (seconds); undefined = until stop(). */
  durationSec?: number;
  reportFile?: string;
  out: (line: string) => void;
}): { stop(): Promise<SearcherReport | undefined> } {
  const transfer = new Set(o.rollups.filter((r) => r.kind === 'transfer').map((r) => r.namespace));
  const transferLoaded =
    o.load > 0 &&
    (o.loadNamespaces !== undefined ? o.loadNamespaces.some((ns) => transfer.has(ns)) : o.load <= 500);
  const ac = new AbortController();
  const run = runSearchers({
    urls: o.urls,
    searchers: o.searchers,
    // Stop bidding a little before the testnet stops, so the last slots resolve while the nodes run.
    durationSec: o.durationSec === undefined ? Number.POSITIVE_INFINITY : Math.max(1, o.durationSec - 5),
    legs: transferLoaded ? 'opaque' : 'transfer',
    signal: ac.signal,
    onStart: (s) =>
      o.out(
        `searchers: ${o.searchers} demo bidders bid every slot (${s.legs} bundles) from height ${s.head}`,
      ),
    onProgress: (l) => {
      if (l.elapsedSec % 10 === 0)
        o.out(
          `searchers: t=${l.elapsedSec}s head=${l.head} commits ${l.commitsAdmitted}/${l.commitsSent} reveals ${l.revealsAdmitted} slots resolved ${l.slotsResolved} won ${l.won}`,
        );
    },
  }).catch((err: unknown) => {
    o.out(`searchers: stopped: ${errorMessage(err)}`);
    return undefined;
  });
  return {
    async stop() {
      ac.abort();
      const r = await run;
      if (r === undefined) return undefined;
      o.out(
        `searchers: ${r.commits.admitted} bids admitted (${r.bidsPerSecAdmitted}/s), ${r.slotsResolved} slots resolved, won ${r.outcomes.won}, lost ${r.outcomes.lost}, median price ${r.prices.median}`,
      );
      if (o.reportFile !== undefined)
        writeFileSync(
          `${o.reportFile.replace(/\.json$/, '')}.searchers.json`,
          `${JSON.stringify(r, null, 2)}\n`,
        );
      return r;
    },
  };
}
