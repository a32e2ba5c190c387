/**
 * Transaction payload factories for the load generator, one per rollup kind:
 *   opaque   — `size` bytes: a random 8-byte run id, a big-endian counter, then fixed filler, so every
 *              payload of every run is unique without per-transaction randomness;
 *   transfer — signed transfer-VM transactions from the deterministic demo accounts
 *              (src/config/demo-accounts.ts), round-robin over accounts with a nonce per account
 *              starting at 0 (a fresh chain);
 *   evm      — signed EIP-1559 transfers from the demo EVM accounts, same nonce scheme;
 *   erc20    — (a mixed benchmark's EVM load, `Erc20Payloads`) signed ERC-20 `transfer` calls to a deployed
 *              token from a given set of demo EVM accounts, each from a given start nonce; recipients
 *              either spread (the next account: low contention) or one hot address (every transaction
 *              writes the same balance slot: storage contention for the parallel executor).
 * Executed kinds are deterministic per (account, nonce), so a resend after a rejection is a duplicate,
 * never a conflicting replacement.
 */
import { randomBytes } from 'node:crypto';
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createFeeMarket1559Tx } from '@ethereumjs/tx';
import { DEMO_ACCOUNTS, demoEvmKey, demoTransferSeed, evmAddress } from '../config/index.ts';
import type { Ed25519Signer } from '../crypto/index.ts';
import { evmSigningCrypto, signTransfer, transferSigner } from '../exec/index.ts';
import type { RollupKind } from '../types.ts';

export interface PayloadSource {
  readonly namespace: number;
  readonly kind: RollupKind;
  /** Next payload; `tag` identifies it in `rejected` (executed kinds use it to rewind a nonce). */
  next(): { payload: Uint8Array; tag: number };
  /** The node refused this payload; executed kinds rewind the sender's nonce to resend from there. */
  rejected(tag: number, code: string): void;
}

export const MIN_OPAQUE_SIZE = 16;

export class OpaquePayloads implements PayloadSource {
  readonly namespace: number;
  readonly kind = 'opaque' as const;
  readonly #template: Buffer;
  #counter = 0;

  constructor(namespace: number, size: number, runId: Uint8Array = randomBytes(8)) {
    if (!Number.isInteger(size) || size < MIN_OPAQUE_SIZE) {
      throw new RangeError(`opaque payload size must be an integer >= ${MIN_OPAQUE_SIZE}, got ${size}`);
    }
    this.namespace = namespace;
    this.#template = Buffer.alloc(size, 0x6f);
    this.#template.set(runId.subarray(0, 8), 0);
  }

  next(): { payload: Uint8Array; tag: number } {
    const b = Buffer.from(this.#template);
    const n = this.#counter++;
    b.writeUInt32BE(Math.floor(n / 2 ** 32), 8);
    b.writeUInt32BE(n >>> 0, 12);
    return { payload: b, tag: n };
  }

  rejected(): void {}
}

/**
 * Round-robin accounts with a nonce each; a tag encodes (slot, nonce) for rewinds. `build` gets the
 * slot (0..n-1); subclasses map a slot to a demo account index.
 */
abstract class NoncedPayloads implements PayloadSource {
  readonly namespace: number;
  abstract readonly kind: RollupKind;
  readonly #nonces: number[];
  #next = 0;

  constructor(namespace: number, accounts: number, startNonces?: readonly number[]) {
    this.namespace = namespace;
    this.#nonces = Array.from({ length: accounts }, (_, i) => startNonces?.[i] ?? 0);
  }

  protected abstract build(account: number, nonce: number): Uint8Array;

  next(): { payload: Uint8Array; tag: number } {
    const a = this.#next;
    this.#next = (this.#next + 1) % this.#nonces.length;
    const nonce = this.#nonces[a] ?? 0;
    this.#nonces[a] = nonce + 1;
    return { payload: this.build(a, nonce), tag: nonce * this.#nonces.length + a };
  }

  rejected(tag: number, code: string): void {
    if (code === 'DUPLICATE' || code === 'ALREADY_COMMITTED') return;
    const a = tag % this.#nonces.length;
    const nonce = Math.floor(tag / this.#nonces.length);
    // NONCE_TOO_LOW: the chain is ahead of us (not a fresh chain): skip forward past it.
    if (code === 'NONCE_TOO_LOW') this.#nonces[a] = Math.max(this.#nonces[a] ?? 0, nonce + 1);
    else if (nonce < (this.#nonces[a] ?? 0)) this.#nonces[a] = nonce;
  }
}

export class TransferPayloads extends NoncedPayloads {
  readonly kind = 'transfer' as const;
  readonly #signers: Ed25519Signer[] = [];

  /** `accounts`: how many demo accounts from index 0, or the demo account indices to use. */
  constructor(namespace: number, accounts: number | readonly number[] = DEMO_ACCOUNTS) {
    const idx = typeof accounts === 'number' ? Array.from({ length: accounts }, (_, i) => i) : accounts;
    super(namespace, idx.length);
    for (const i of idx) this.#signers.push(transferSigner(demoTransferSeed(i)));
  }

  protected build(account: number, nonce: number): Uint8Array {
    const signer = this.#signers[account]!;
    const to = this.#signers[(account + 1) % this.#signers.length]!.publicKey;
    return signTransfer(signer, this.namespace, { to, amount: 1n, fee: 1n, nonce: BigInt(nonce) });
  }
}

export class EvmPayloads extends NoncedPayloads {
  readonly kind = 'evm' as const;
  readonly #keys: Uint8Array[] = [];
  readonly #addrs: string[] = [];
  readonly #common;

  constructor(namespace: number, evmChainId: number, accounts = DEMO_ACCOUNTS) {
    super(namespace, accounts);
    this.#common = createCustomCommon({ chainId: evmChainId }, Mainnet, {
      hardfork: Hardfork.Prague,
      customCrypto: evmSigningCrypto,
    });
    for (let i = 0; i < accounts; i++) {
      const k = demoEvmKey(i);
      this.#keys.push(k);
      this.#addrs.push(evmAddress(k));
    }
  }

  protected build(account: number, nonce: number): Uint8Array {
    const to = this.#addrs[(account + 1) % this.#addrs.length]! as `0x${string}`;
    const tx = createFeeMarket1559Tx(
      {
        nonce: BigInt(nonce),
        to,
        value: 1n,
        gasLimit: 21_000n,
        maxFeePerGas: 3_000_000_000n,
        maxPriorityFeePerGas: 0n,
      },
      { common: this.#common },
    );
    return tx.sign(this.#keys[account]!).serialize();
  }
}

/** ERC-20 `transfer(address,uint256)` selector. */
const ERC20_TRANSFER = 'a9059cbb';

export interface Erc20PayloadOptions {
  namespace: number;
  evmChainId: number;
  /** The deployed token (0x-hex address). */
  token: string;
  /** Demo EVM account indices that hold tokens and send. */
  accounts: readonly number[];
  /** Each account's next nonce (same order; default 0). */
  startNonces?: readonly number[];
  /** One recipient for every transfer (storage contention); default: the next account (spread). */
  hotRecipient?: string;
  /**
   * Gas limit of each transfer (default 65,000: a transfer uses ~35,000–52,000; what a block may carry
   * is counted by this, ADR 0285).
   */
  gasLimit?: bigint;
}

/** Signed ERC-20 transfers of 1 token unit (see the module comment). */
export class Erc20Payloads extends NoncedPayloads {
  readonly kind = 'evm' as const;
  readonly #keys: Uint8Array[] = [];
  readonly #data: Uint8Array[] = [];
  readonly #o: Erc20PayloadOptions;
  readonly #common;

  constructor(o: Erc20PayloadOptions) {
    super(o.namespace, o.accounts.length, o.startNonces);
    this.#o = o;
    this.#common = createCustomCommon({ chainId: o.evmChainId }, Mainnet, {
      hardfork: Hardfork.Prague,
      customCrypto: evmSigningCrypto,
    });
    const addrs = o.accounts.map((i) => evmAddress(demoEvmKey(i)));
    for (const [slot, i] of o.accounts.entries()) {
      this.#keys.push(demoEvmKey(i));
      const to = (o.hotRecipient ?? addrs[(slot + 1) % addrs.length]!).replace(/^0x/, '').toLowerCase();
      this.#data.push(Buffer.from(`${ERC20_TRANSFER}${to.padStart(64, '0')}${'1'.padStart(64, '0')}`, 'hex'));
    }
  }

  protected build(slot: number, nonce: number): Uint8Array {
    const tx = createFeeMarket1559Tx(
      {
        nonce: BigInt(nonce),
        to: this.#o.token as `0x${string}`,
        value: 0n,
        data: this.#data[slot]!,
        gasLimit: this.#o.gasLimit ?? 65_000n,
        maxFeePerGas: 3_000_000_000n,
        maxPriorityFeePerGas: 0n,
      },
      { common: this.#common },
    );
    return tx.sign(this.#keys[slot]!).serialize();
  }
}

export interface RollupInfo {
  namespace: number;
  kind: RollupKind;
  evmChainId?: number;
}

/**
 * The payload source for one rollup of the genesis registry. `accounts`: how many demo accounts (from
 * index 0) the executed kinds sign with (default all); the testnet's bundle load takes the others.
 */
export function payloadSourceFor(r: RollupInfo, size: number, accounts = DEMO_ACCOUNTS): PayloadSource {
  if (r.kind === 'opaque') return new OpaquePayloads(r.namespace, size);
  if (r.kind === 'transfer') return new TransferPayloads(r.namespace, accounts);
  if (r.evmChainId === undefined) throw new RangeError(`evm rollup ${r.namespace} has no evmChainId`);
  return new EvmPayloads(r.namespace, r.evmChainId, accounts);
}
