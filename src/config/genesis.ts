/**
 * The genesis file: its schema (chain id, validators, the rollup registry, the auction section), loading,
 * the canonical hash peers compare, and the devnet geneses `ordo init` / the testnet write.
 */
import { z } from 'zod';
import {
  type AuctionLaneLimits,
  type AuctionSetup,
  auctionParams,
  DEFAULT_AUCTION_LANE,
  DEFAULT_AUCTION_PARAMS,
  MAX_AMOUNT,
  MAX_BIDDER_SIM_SHARE_BPS,
  MAX_FAIL_PENALTY_BPS,
  MAX_SIM_GAS,
  MAX_TOP_BYTES,
  MAX_TOP_TXS,
} from '../auction/index.ts';
import {
  AUCTION_NAMESPACE,
  LIMITS,
  MAX_EVM_BLOCK_GAS_LIMIT,
  MIN_EVM_BLOCK_GAS_LIMIT,
} from '../codec/index.ts';
import { fromHex, publicKeyFromSeed, sha256, toHex } from '../crypto/index.ts';
import type { ValidatorSet } from '../types.ts';
import {
  DEMO_AUCTION_BIDDERS,
  demoAuctionSeed,
  demoDepositAuthoritySeed,
  demoForfeitSinkSeed,
  demoTreasurySeed,
} from './demo-accounts.ts';
import type { Genesis, GenesisAuction, RollupConfig } from './genesis-types.ts';
import { parseOrThrow, readJsonFile } from './schema-error.ts';

export type { Genesis, RollupConfig } from './genesis-types.ts';

const hex32 = z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected 32 bytes as 64 hex characters');
const decimal = z.string().regex(/^[0-9]{1,78}$/, 'expected a non-negative decimal integer string');

/** A u64 as a decimal string (auction amounts). */
const u64Decimal = z
  .string()
  .regex(/^[0-9]{1,20}$/, 'expected a decimal integer string (u64)')
  .refine((v) => BigInt(v) <= MAX_AMOUNT, 'must be at most 2^64 - 1');

const auctionSchema = z
  .object({
    enabled: z.boolean(),
    commitOffset: z.number().int().min(2).max(1_000_000).optional(),
    commitHorizon: z.number().int().min(0).max(1_000_000).optional(),
    revealOffset: z.number().int().min(1).max(1_000_000).optional(),
    maxBidsPerBidder: z.number().int().min(1).max(1_000).optional(),
    withdrawDelay: z.number().int().min(1).max(1_000_000).optional(),
    forfeitFee: u64Decimal.optional(),
    maxTopBytes: z.number().int().min(1024).max(MAX_TOP_BYTES).optional(),
    maxTopTxs: z.number().int().min(1).max(MAX_TOP_TXS).optional(),
    maxSimGas: z.number().int().min(0).max(MAX_SIM_GAS).optional(),
    failPenaltyBps: z.number().int().min(0).max(MAX_FAIL_PENALTY_BPS).optional(),
    bidderSimShareBps: z.number().int().min(0).max(MAX_BIDDER_SIM_SHARE_BPS).optional(),
    depositAuthority: hex32,
    forfeitSink: hex32,
    rollups: z
      .array(
        z
          .object({
            namespace: z.number().int().min(1).max(0xffff_ffff),
            reservePrice: u64Decimal,
            treasury: hex32,
          })
          .strict(),
      )
      .max(1024)
      .optional(),
    accounts: z
      .array(z.object({ account: hex32, balance: u64Decimal }).strict())
      .max(100_000)
      .optional(),
    lane: z
      .object({
        maxPendingTxs: z.number().int().min(1).max(10_000_000).optional(),
        maxPendingBytes: z
          .number()
          .int()
          .min(LIMITS.maxAuctionTxBytes)
          .max(4 * 1024 * 1024 * 1024)
          .optional(),
        maxTxsPerBlock: z.number().int().min(1).max(1_000_000).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    const commitOffset = a.commitOffset ?? DEFAULT_AUCTION_PARAMS.commitOffset;
    const revealOffset = a.revealOffset ?? DEFAULT_AUCTION_PARAMS.revealOffset;
    if (commitOffset <= revealOffset) {
      ctx.addIssue({
        code: 'custom',
        path: ['commitOffset'],
        message: `must exceed auction.revealOffset (${revealOffset}): the reveal window would be empty`,
      });
    }
    const seenNs = new Set<number>();
    (a.rollups ?? []).forEach((r, i) => {
      if (seenNs.has(r.namespace))
        ctx.addIssue({ code: 'custom', path: ['rollups', i, 'namespace'], message: 'duplicate namespace' });
      seenNs.add(r.namespace);
    });
    const seenAcct = new Set<string>();
    (a.accounts ?? []).forEach((x, i) => {
      const k = x.account.toLowerCase();
      if (seenAcct.has(k))
        ctx.addIssue({ code: 'custom', path: ['accounts', i, 'account'], message: 'duplicate account' });
      seenAcct.add(k);
    });
  });

const accountSchema = z.object({ address: z.string().min(1), balance: decimal }).strict();

const rollupSchema = z
  .object({
    namespace: z.number().int().min(1).max(0xffff_ffff),
    name: z.string().min(1).max(64),
    kind: z.enum(['opaque', 'transfer', 'evm']),
    weight: z.number().positive().max(1_000_000),
    maxTxBytes: z.number().int().min(1).max(LIMITS.maxTxBytes),
    maxPendingTxs: z.number().int().min(1).max(10_000_000),
    maxPendingBytes: z
      .number()
      .int()
      .min(1)
      .max(16 * 1024 * 1024 * 1024),
    evmChainId: z
      .number()
      .int()
      .min(1)
      .max(2 ** 48)
      .optional(),
    evmGasLimit: z.number().int().min(MIN_EVM_BLOCK_GAS_LIMIT).max(MAX_EVM_BLOCK_GAS_LIMIT).optional(),
    alloc: z.array(accountSchema).max(100_000).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.kind === 'evm' && r.evmChainId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['evmChainId'], message: 'required for kind "evm"' });
    }
    if (r.kind !== 'evm' && r.evmChainId !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['evmChainId'], message: 'only allowed for kind "evm"' });
    }
    if (r.kind !== 'evm' && r.evmGasLimit !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['evmGasLimit'], message: 'only allowed for kind "evm"' });
    }
    for (const [i, a] of (r.alloc ?? []).entries()) {
      const ok =
        r.kind === 'evm' ? /^0x[0-9a-fA-F]{40}$/.test(a.address) : /^[0-9a-fA-F]{64}$/.test(a.address);
      if (!ok) {
        ctx.addIssue({
          code: 'custom',
          path: ['alloc', i, 'address'],
          message:
            r.kind === 'evm' ? 'expected a 0x-prefixed 20-byte address' : 'expected a 32-byte hex public key',
        });
      }
    }
  });

export const genesisSchema = z
  .object({
    chainId: z
      .string()
      .min(1)
      .max(LIMITS.maxChainIdLength)
      .regex(/^[a-zA-Z0-9._-]+$/, 'only letters, digits, ".", "_" and "-"'),
    genesisTimeMs: z.number().int().min(0),
    validators: z
      .array(
        z
          .object({
            name: z.string().min(1).max(64),
            publicKey: hex32,
            votingPower: z
              .number()
              .int()
              .min(1)
              .max(2 ** 40),
          })
          .strict(),
      )
      .min(1)
      .max(LIMITS.maxValidators),
    rollups: z.array(rollupSchema).min(1).max(1024),
    auction: auctionSchema.optional(),
  })
  .strict()
  .superRefine((g, ctx) => {
    const keys = new Set<string>();
    g.validators.forEach((v, i) => {
      const k = v.publicKey.toLowerCase();
      if (keys.has(k))
        ctx.addIssue({
          code: 'custom',
          path: ['validators', i, 'publicKey'],
          message: 'duplicate validator key',
        });
      keys.add(k);
    });
    const ns = new Set<number>();
    const names = new Set<string>();
    g.rollups.forEach((r, i) => {
      if (ns.has(r.namespace))
        ctx.addIssue({ code: 'custom', path: ['rollups', i, 'namespace'], message: 'duplicate namespace' });
      if (names.has(r.name))
        ctx.addIssue({ code: 'custom', path: ['rollups', i, 'name'], message: 'duplicate rollup name' });
      ns.add(r.namespace);
      names.add(r.name);
      if (r.namespace === AUCTION_NAMESPACE)
        ctx.addIssue({
          code: 'custom',
          path: ['rollups', i, 'namespace'],
          message: `namespace ${AUCTION_NAMESPACE} is reserved for auction transactions`,
        });
    });
    (g.auction?.rollups ?? []).forEach((r, i) => {
      if (!ns.has(r.namespace))
        ctx.addIssue({
          code: 'custom',
          path: ['auction', 'rollups', i, 'namespace'],
          message: 'not a namespace of the rollup registry (genesis.rollups)',
        });
    });
  });

export function validateGenesis(value: unknown, file = 'genesis'): Genesis {
  return parseOrThrow(genesisSchema, value, 'GENESIS_INVALID', file) as Genesis;
}

export function loadGenesis(file: string): Genesis {
  return validateGenesis(
    readJsonFile(file, 'genesis', { unreadable: 'GENESIS_UNREADABLE', invalid: 'GENESIS_INVALID' }),
    file,
  );
}

/** Canonical hash of a genesis document (sorted-key JSON), compared between peers. */
export function genesisHash(g: Genesis): Uint8Array {
  return sha256(new TextEncoder().encode(canonicalJson(g)));
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function validatorSetOf(g: Genesis): ValidatorSet {
  const validators = g.validators.map((v) => ({
    publicKey: fromHex(v.publicKey),
    votingPower: v.votingPower,
  }));
  return { validators, totalPower: validators.reduce((s, v) => s + v.votingPower, 0) };
}

/** The three demo rollups `ordo init` registers: opaque (1), transfer (2), evm (3). */
export function demoRollups(
  alloc: { transfer?: RollupConfig['alloc']; evm?: RollupConfig['alloc'] } = {},
): RollupConfig[] {
  const limits = { maxTxBytes: 128 * 1024, maxPendingTxs: 100_000, maxPendingBytes: 64 * 1024 * 1024 };
  return [
    { namespace: 1, name: 'demo-opaque', kind: 'opaque', weight: 1, ...limits },
    {
      namespace: 2,
      name: 'demo-transfer',
      kind: 'transfer',
      weight: 1,
      ...limits,
      alloc: alloc.transfer ?? [],
    },
    {
      namespace: 3,
      name: 'demo-evm',
      kind: 'evm',
      weight: 1,
      evmChainId: 900_001,
      ...limits,
      alloc: alloc.evm ?? [],
    },
    {
      // A second EVM rollup with its own chain id, so EVM ↔ EVM bundles work out of the box (issue #22);
      // the same demo accounts are funded on it.
      namespace: 4,
      name: 'demo-evm-2',
      kind: 'evm',
      weight: 1,
      evmChainId: 900_002,
      ...limits,
      alloc: alloc.evm ?? [],
    },
  ];
}

export function makeGenesis(opts: {
  chainId: string;
  validators: { name: string; publicKey: string; votingPower?: number }[];
  rollups: RollupConfig[];
  genesisTimeMs?: number;
  /** The auction section (absent: no auction). */
  auction?: GenesisAuction;
}): Genesis {
  return validateGenesis({
    chainId: opts.chainId,
    genesisTimeMs: opts.genesisTimeMs ?? Date.now(),
    validators: opts.validators.map((v) => ({
      name: v.name,
      publicKey: v.publicKey,
      votingPower: v.votingPower ?? 1,
    })),
    rollups: opts.rollups,
    ...(opts.auction !== undefined ? { auction: opts.auction } : {}),
  });
}

/**
 * The auction as the node runs it, from genesis' `auction` section: undefined when the section is
 * absent or `enabled: false`. Defaults from DEFAULT_AUCTION_PARAMS and DEFAULT_AUCTION_LANE; every
 * genesis rollup gets a reserve (0 when not listed) and a treasury (the forfeit sink when not listed).
 */
export function auctionSetupOf(g: Genesis): AuctionSetup | undefined {
  const a = g.auction;
  if (a === undefined || !a.enabled) return undefined;
  const params = auctionParams({
    ...(a.commitOffset !== undefined ? { commitOffset: a.commitOffset } : {}),
    ...(a.commitHorizon !== undefined ? { commitHorizon: a.commitHorizon } : {}),
    ...(a.revealOffset !== undefined ? { revealOffset: a.revealOffset } : {}),
    ...(a.maxBidsPerBidder !== undefined ? { maxBidsPerBidder: a.maxBidsPerBidder } : {}),
    ...(a.withdrawDelay !== undefined ? { withdrawDelay: a.withdrawDelay } : {}),
    ...(a.forfeitFee !== undefined ? { forfeitFee: BigInt(a.forfeitFee) } : {}),
    ...(a.maxTopBytes !== undefined ? { maxTopBytes: a.maxTopBytes } : {}),
    ...(a.maxTopTxs !== undefined ? { maxTopTxs: a.maxTopTxs } : {}),
    ...(a.maxSimGas !== undefined ? { maxSimGas: a.maxSimGas } : {}),
    ...(a.failPenaltyBps !== undefined ? { failPenaltyBps: a.failPenaltyBps } : {}),
    ...(a.bidderSimShareBps !== undefined ? { bidderSimShareBps: a.bidderSimShareBps } : {}),
  });
  const forfeitSink = fromHex(a.forfeitSink);
  const listed = new Map((a.rollups ?? []).map((r) => [r.namespace, r]));
  const reserves = new Map<number, bigint>();
  const treasuries = new Map<number, Uint8Array>();
  for (const r of g.rollups) {
    const l = listed.get(r.namespace);
    reserves.set(r.namespace, l === undefined ? 0n : BigInt(l.reservePrice));
    treasuries.set(r.namespace, l === undefined ? forfeitSink : fromHex(l.treasury));
  }
  const lane: AuctionLaneLimits = { ...DEFAULT_AUCTION_LANE, ...(a.lane ?? {}) };
  return {
    chainId: g.chainId,
    params,
    depositAuthority: fromHex(a.depositAuthority),
    forfeitSink,
    reserves,
    treasuries,
    accounts: (a.accounts ?? []).map((x) => ({ account: fromHex(x.account), balance: BigInt(x.balance) })),
    lane,
  };
}

/** Balance of each demo auction bidder in the devnet genesis. */
export const DEMO_AUCTION_BALANCE = '1000000000';
/** Reserve price of every rollup in the devnet genesis. */
export const DEMO_RESERVE_PRICE = '100';

/**
 * The devnet auction section (`ordo init`, the local and compose testnets): enabled, the
 * DEMO_AUCTION_BIDDERS demo bidders funded, the demo deposit authority, a demo forfeit sink and one demo
 * treasury per rollup, reserve price 100 everywhere. Keys derive from public labels: devnets only.
 */
export function demoAuction(rollups: readonly { namespace: number }[]): GenesisAuction {
  const key = (seed: Uint8Array) => toHex(publicKeyFromSeed(seed));
  return {
    enabled: true,
    depositAuthority: key(demoDepositAuthoritySeed()),
    forfeitSink: key(demoForfeitSinkSeed()),
    rollups: rollups.map((r) => ({
      namespace: r.namespace,
      reservePrice: DEMO_RESERVE_PRICE,
      treasury: key(demoTreasurySeed(r.namespace)),
    })),
    accounts: Array.from({ length: DEMO_AUCTION_BIDDERS }, (_, i) => ({
      account: key(demoAuctionSeed(i)),
      balance: DEMO_AUCTION_BALANCE,
    })),
  };
}
