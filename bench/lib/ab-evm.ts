/**
 * The set-up the in-process A/B benchmarks of one EVM rollup share (bench/eth-main-thread.ts,
 * bench/eth-pipeline.ts): the command line (`--n`, `--rounds`, `--base`, `--out`, plus the bench's own
 * options), the source trees to compare (this checkout's src and `--base`), --n senders with keys derived
 * from `seed`, the rollup funding them, and its Prague Common.
 */
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { privateToAddress } from '@ethereumjs/util';
import { benchEvmRollup } from './evm-rollup.ts';

/** The rollup's namespace and EVM chain id. */
export const AB_NS = 9;
export const AB_CHAIN = 4242;

/** This checkout's src folder. */
export const AB_SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

/** `0x` hex of bytes. */
export const hex = (b: Uint8Array): string => `0x${Buffer.from(b).toString('hex')}`;

export function abEvmSetup(opts: {
  /** Prefix of the senders' key seeds (`<seed>-<i>`). */
  seed: string;
  /** `--rounds` when not given. */
  rounds: string;
  /** The bench's own options (strings). */
  options?: Record<string, { type: 'string'; default?: string }>;
}) {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '400' },
      rounds: { type: 'string', default: opts.rounds },
      base: { type: 'string' },
      out: { type: 'string' },
      ...opts.options,
    },
  });
  const args = values as Record<string, string | undefined>;
  const roots: Record<string, string> = {
    this: AB_SRC,
    ...(args.base !== undefined ? { base: args.base } : {}),
  };
  const N = Math.max(2, Math.min(5_000, Number(args.n)));
  const ROUNDS = Math.max(2, Math.min(50, Number(args.rounds)));
  const keys = Array.from(
    { length: N },
    (_, i) => new Uint8Array(createHash('sha256').update(`${opts.seed}-${i}`).digest()),
  );
  const addrs = keys.map((k) => privateToAddress(k));
  const limits = { maxTxBytes: 100_000, maxPendingTxs: 100, maxPendingBytes: 1_000_000 };
  const rollup = { ...benchEvmRollup(AB_NS, AB_CHAIN, addrs, 10n ** 21n), ...limits };
  const common = createCustomCommon({ chainId: AB_CHAIN }, Mainnet, { hardfork: Hardfork.Prague });
  return { args, roots, N, ROUNDS, keys, addrs, rollup, common };
}
