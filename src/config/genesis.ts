import { z } from 'zod';
import { LIMITS } from '../codec/index.ts';
import { fromHex, sha256 } from '../crypto/index.ts';
import type { ValidatorSet } from '../types.ts';
import type { Genesis, RollupConfig } from './genesis-types.ts';
import { parseOrThrow, readJsonFile } from './schema-error.ts';

export type { Genesis, RollupConfig } from './genesis-types.ts';

const hex32 = z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected 32 bytes as 64 hex characters');
const decimal = z.string().regex(/^[0-9]{1,78}$/, 'expected a non-negative decimal integer string');

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
  });
}
