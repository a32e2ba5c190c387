/** Shared fixtures for executor tests: rollup configs, keys and transaction builders. */
import { createHash } from 'node:crypto';
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createTx } from '@ethereumjs/tx';
import { privateToAddress } from '@ethereumjs/util';
import type { RollupConfig } from '../../../src/config/genesis-types.ts';
import { signTransfer, transferSigner } from '../../../src/exec/index.ts';

export const TRANSFER_NS = 7;
export const EVM_NS = 9;
export const CHAIN_ID = 4242;

export function seed(i: number, tag = 't'): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`${tag}-${i}`).digest());
}

export const tSigners = Array.from({ length: 12 }, (_, i) => transferSigner(seed(i)));
export const tPub = (i: number): string => Buffer.from(tSigners[i]!.publicKey).toString('hex');

export const evmKeys = Array.from({ length: 12 }, (_, i) => seed(i, 'evm'));
export const evmAddr = (i: number): Uint8Array => privateToAddress(evmKeys[i]!);
export const evmAddrHex = (i: number): string => '0x' + Buffer.from(evmAddr(i)).toString('hex');

export function rollups(opts: { transferBalance?: string; evmBalance?: string } = {}): RollupConfig[] {
  return [
    {
      namespace: 3,
      name: 'opaque',
      kind: 'opaque',
      weight: 1,
      maxTxBytes: 1000,
      maxPendingTxs: 100,
      maxPendingBytes: 100000,
    },
    {
      namespace: TRANSFER_NS,
      name: 'pay',
      kind: 'transfer',
      weight: 1,
      maxTxBytes: 1000,
      maxPendingTxs: 100,
      maxPendingBytes: 100000,
      // Accounts 0..7 funded, 8..11 empty.
      alloc: Array.from({ length: 8 }, (_, i) => ({
        address: tPub(i),
        balance: opts.transferBalance ?? '1000',
      })),
    },
    {
      namespace: EVM_NS,
      name: 'evm',
      kind: 'evm',
      weight: 1,
      maxTxBytes: 100000,
      maxPendingTxs: 100,
      maxPendingBytes: 1000000,
      evmChainId: CHAIN_ID,
      alloc: Array.from({ length: 8 }, (_, i) => ({
        address: evmAddrHex(i),
        balance: opts.evmBalance ?? '1000000000000000000',
      })),
    },
  ];
}

export function transfer(
  from: number,
  to: number,
  amount: bigint,
  nonce: bigint,
  fee = 1n,
  ns = TRANSFER_NS,
): Uint8Array {
  return signTransfer(tSigners[from]!, ns, { to: tSigners[to]!.publicKey, amount, fee, nonce });
}

export const common = (chainId = CHAIN_ID) =>
  createCustomCommon({ chainId }, Mainnet, { hardfork: Hardfork.Prague });

export interface EvmTxOpts {
  to?: Uint8Array;
  value?: bigint;
  data?: Uint8Array;
  gasLimit?: bigint;
  nonce: bigint;
  type?: 0 | 1 | 2;
  chainId?: number;
  tip?: bigint;
}

export function evmTx(from: number, o: EvmTxOpts): Uint8Array {
  const type = o.type ?? 2;
  const base = {
    type,
    nonce: o.nonce,
    gasLimit: o.gasLimit ?? 100_000n,
    value: o.value ?? 0n,
    data: o.data ?? new Uint8Array(0),
    ...(o.to === undefined ? {} : { to: o.to }),
  };
  const fees =
    type === 2
      ? { maxFeePerGas: 2_000_000_000n, maxPriorityFeePerGas: o.tip ?? 1_000n }
      : { gasPrice: 2_000_000_000n };
  return createTx({ ...base, ...fees }, { common: common(o.chainId) })
    .sign(evmKeys[from]!)
    .serialize();
}
