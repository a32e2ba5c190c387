/**
 * What the call-pool benchmarks (bench/call-pool-stress.ts, bench/eth-respawn.ts, bench/eth-seed-memory.ts)
 * share: the CallPool and its EVM helpers loaded from a checkout's src/ (any checkout, so a before/after is
 * two runs; typed here by what the benchmarks use, as an older checkout may lack the rest), the rollup's EVM
 * chain settings, the looping contract they time out on, and a committed state of random EVM storage slots;
 * and the same loop as a signed creation transaction, which the one-node benchmarks
 * (bench/presim-main-thread.ts, bench/callbundle-main-thread.ts) send to a node.
 */
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Common, createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createTx } from '@ethereumjs/tx';
import { demoEvmKey } from '../../src/config/index.ts';

/** This checkout (the folder above bench/). */
export const thisRepo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The EVM chain id the pools are built for. */
export const CHAIN_ID = 900_001;

/** The rollup's EVM chain settings (Prague). */
export const evmCommon = (): Common =>
  createCustomCommon({ chainId: CHAIN_ID }, Mainnet, { hardfork: Hardfork.Prague });

/** A committed height's state changes, as a pool's `follow` listener receives them. */
export type StateDiff = readonly [string, string | null][];

/** The CallPool by what the benchmarks use (`snapshots`, `crashes`, `timeouts`: not in older checkouts). */
export interface Pool {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly ready: number;
  readonly snapshots?: number;
  readonly crashes?: number;
  readonly timeouts?: number;
  simulate(
    req: { to: Uint8Array },
    overrides: unknown[],
    gas: bigint,
    next: number,
    ts: number,
  ): Promise<unknown>;
}

export interface CallPoolModules {
  CallPool: new (o: Record<string, unknown>) => Pool;
  parseStateOverrides: (o: Record<string, { code: string }>, max: number) => unknown[];
  EvmStateReader: new (
    get: (k: string) => string | undefined,
    common: unknown,
  ) => { simulate(...a: unknown[]): Promise<unknown> };
}

/** Load the CallPool, the state-override parser and the main-thread state reader from `repo`'s src/. */
export async function loadCallPool(repo = thisRepo): Promise<CallPoolModules> {
  const src = (f: string) => pathToFileURL(join(repo, 'src', f)).href;
  const { CallPool } = (await import(src('eth-rpc/call-pool.ts'))) as Pick<CallPoolModules, 'CallPool'>;
  const { parseStateOverrides } = (await import(src('eth-rpc/params.ts'))) as Pick<
    CallPoolModules,
    'parseStateOverrides'
  >;
  const { EvmStateReader } = (await import(src('eth-rpc/state.ts'))) as Pick<
    CallPoolModules,
    'EvmStateReader'
  >;
  return { CallPool, parseStateOverrides, EvmStateReader };
}

/** The address the looping contract is placed at by `loopOverrides`. */
export const LOOP = new Uint8Array(20).fill(0x0e);

/** A state override that places a contract looping forever (JUMPDEST PUSH1 0 JUMP) at `LOOP`. */
export const loopOverrides = (parse: CallPoolModules['parseStateOverrides']): unknown[] =>
  parse({ [`0x${'0e'.repeat(20)}`]: { code: '0x5b600056' } }, 1000);

/**
 * A committed state of `entries` random EVM storage slots: 52-byte keys and 32-byte values as latin1
 * strings, as the executor's Map holds them.
 */
export function randomEvmState(entries: number): Map<string, string> {
  const state = new Map<string, string>();
  const keys = randomBytes(52 * entries);
  const values = randomBytes(32 * entries);
  for (let i = 0; i < entries; i++)
    state.set(
      keys.subarray(52 * i, 52 * i + 52).toString('latin1'),
      values.subarray(32 * i, 32 * i + 32).toString('latin1'),
    );
  return state;
}

/** The options of a pool over a fixed `state` at height 5 that never changes. */
export function fixedStateOptions(state: Map<string, string>): Record<string, unknown> {
  return {
    chainId: CHAIN_ID,
    coinbase: `0x${'00'.repeat(20)}`,
    follow: () => ({ height: 5, state, stop: () => {} }),
    head: () => 5,
  };
}

/**
 * A type-2 creation transaction from demo key 0 (nonce 0) whose init code loops until its `gas` is spent
 * (JUMPDEST PUSH1 0 JUMP), serialized.
 */
export function signedLoopCreation(gas: bigint, common = evmCommon()): Uint8Array {
  return createTx(
    {
      type: 2,
      nonce: 0n,
      gasLimit: gas,
      maxFeePerGas: 2_000_000_000n,
      maxPriorityFeePerGas: 1n,
      data: Uint8Array.from([0x5b, 0x60, 0x00, 0x56]),
    },
    { common },
  )
    .sign(demoEvmKey(0))
    .serialize();
}
