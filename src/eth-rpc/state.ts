/**
 * Reading an EVM rollup's state for the Ethereum RPC: accounts, code and storage from the executor's
 * committed state, and `eth_call` / `eth_estimateGas` run by a private ethereumjs VM over a throw-away
 * `TxView` of that state (plus any state overrides), so a simulation never writes anything.
 *
 * Only the current state exists (the executor keeps no history): queries at `latest`, `pending`,
 * `safe`, `finalized` or the head's number or hash are answered; older blocks get -32000 "historical
 * state is not available" (docs/eth-rpc.md). Simulations run one at a time per rollup (the VM's state
 * manager holds one view), on a block at head + 1 whose base fee is 0, as geth does for calls without a
 * gas price.
 */
import { createBlock } from '@ethereumjs/block';
import type { Common } from '@ethereumjs/common';
import { computeIntrinsicGasDimensions8037, type EVM } from '@ethereumjs/evm';
import { createTx, getCalldataFloorGas, type TypedTransaction } from '@ethereumjs/tx';
import { Account, Address, bytesToUnprefixedHex, equalsBytes, KECCAK256_NULL } from '@ethereumjs/util';
import { createVM, runTx, type VM } from '@ethereumjs/vm';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { DEFAULT_EVM_BLOCK_GAS_LIMIT } from '../codec/index.ts';
import {
  blockCommon,
  cacheJumpAnalysis,
  DEFAULT_EVM_FEE_RECIPIENT,
  decodeEvmAccount,
  encodeEvmAccount,
  evmAccountKey,
  evmStorageKey,
  TxView,
  ViewStateManager,
} from '../exec/index.ts';
import { invalidParams, RpcError } from '../rpc/index.ts';
import type { AccountOverride, CallRequest } from './params.ts';
import { data } from './params.ts';

type Getter = (key: string) => string | undefined;

const lat = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
const bin = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const KECCAK_NULL = lat(KECCAK256_NULL);

/** Gas a simulation may use when the request names none (also the estimate's upper bound). */
export const DEFAULT_GAS_CAP = 50_000_000n;
/** eth_call / eth_estimateGas waiting per rollup before new ones are refused (-32003, retryable). */
export const MAX_QUEUED_SIMULATIONS = 1024;
/** EIP-2681: a transaction's nonce is below 2^64 − 1. */
const MAX_NONCE = (1n << 64n) - 1n;

export interface SimResult {
  ok: boolean;
  /** Return data, or the revert data when the call reverted. */
  returnValue: Uint8Array;
  gasUsed: bigint;
  /** The EVM's error ("revert", "out of gas", …) when not ok. */
  error?: string;
}

export class EvmStateReader {
  readonly #get: Getter;
  readonly #common: Common;
  /** What call headers are built with: ADR 0342's preset on the fast path, the plain Common otherwise. */
  readonly #headerCommon: Common;
  readonly #coinbase: Uint8Array;
  #vm: { vm: VM; sm: ViewStateManager } | undefined;
  #block: { number: number; timestamp: number; block: ReturnType<typeof createBlock> } | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  /** Whether calls take the fast path (template transactions, cached code and jump analysis). */
  readonly #fast: boolean;
  /** The executed height of the state `get` reads (see `consistent` below). */
  readonly #version: (() => number) | undefined;
  /** The rollup's block gas limit: the GASLIMIT calls see (ADR 0285). */
  readonly #blockGasLimit: bigint;

  /**
   * `opts.fast` (default true): build call transactions from a template and cache code arrays and
   * their jump analysis (ADR 0155); false runs every call the plain way (tests compare the two).
   */
  constructor(
    get: Getter,
    common: Common,
    coinbase = DEFAULT_EVM_FEE_RECIPIENT,
    opts: { fast?: boolean; version?: () => number; blockGasLimit?: bigint } = {},
  ) {
    this.#get = get;
    this.#blockGasLimit = opts.blockGasLimit ?? BigInt(DEFAULT_EVM_BLOCK_GAS_LIMIT);
    this.#common = common;
    this.#coinbase = new Uint8Array(Buffer.from(coinbase.slice(2), 'hex'));
    this.#fast = opts.fast ?? true;
    this.#headerCommon = this.#fast ? blockCommon(common) : common;
    this.#version = opts.version;
  }

  account(address: Uint8Array): { nonce: bigint; balance: bigint; codeHash: Uint8Array } {
    const v = this.#get(evmAccountKey(address));
    if (v === undefined) return { nonce: 0n, balance: 0n, codeHash: KECCAK256_NULL };
    const a = decodeEvmAccount(v);
    return { nonce: a.nonce, balance: a.balance, codeHash: bin(a.codeHash) };
  }

  code(address: Uint8Array): Uint8Array {
    const v = this.#get(evmAccountKey(address));
    if (v === undefined) return new Uint8Array(0);
    const h = decodeEvmAccount(v).codeHash;
    if (h === KECCAK_NULL) return new Uint8Array(0);
    const code = this.#get(`C${h}`);
    return code === undefined ? new Uint8Array(0) : bin(code);
  }

  /** A storage slot as 32 bytes. */
  storage(address: Uint8Array, slot: Uint8Array): Uint8Array {
    const v = this.#get(evmStorageKey(address, slot));
    const out = new Uint8Array(32);
    if (v !== undefined) out.set(bin(v), 32 - v.length);
    return out;
  }

  /** Simulations queued or running (bounded by MAX_QUEUED_SIMULATIONS). */
  #waiting = 0;

  /** Run a call against current state (+ overrides); never writes. Serialized per rollup, bounded. */
  simulate(
    req: CallRequest,
    overrides: AccountOverride[],
    gasLimit: bigint,
    nextBlock: number,
    timestamp: number,
  ) {
    if (this.#waiting >= MAX_QUEUED_SIMULATIONS)
      return Promise.reject(
        new RpcError(
          -32003,
          `${MAX_QUEUED_SIMULATIONS} calls are already queued on this rollup; retry later`,
          {
            retryable: true,
          },
        ),
      );
    this.#waiting++;
    const run = this.#queue
      .then(() => this.#consistent(req, overrides, gasLimit, nextBlock, timestamp))
      .finally(() => {
        this.#waiting--;
      });
    this.#queue = run.catch(() => {});
    return run;
  }

  /**
   * One simulation over one executed height (ADR 0227). `get` reads the executor's live state, which a
   * commit changes (map and height together, synchronously). A simulation over in-memory state awaits
   * only microtasks, so no commit can land inside it; should one ever do (an await that becomes a real
   * I/O wait), the height moved under it and it runs again on the new state, at most twice more, so an
   * answer never mixes two heights. test/unit/eth-rpc/call-consistency.test.ts holds both halves.
   */
  async #consistent(...args: Parameters<EvmStateReader['simulate']>): Promise<SimResult> {
    const version = this.#version;
    for (let attempt = 0; ; attempt++) {
      const before = version?.();
      let r: SimResult;
      try {
        r = await this.#simulate(...args);
      } catch (err) {
        if (before === undefined || version!() === before || attempt >= 2) throw err;
        this.reruns++;
        continue;
      }
      if (before === undefined || version!() === before || attempt >= 2) return r;
      this.reruns++;
    }
  }

  /** Simulations run again because a height was committed while they ran (tests; expected 0). */
  reruns = 0;

  /** An unsigned legacy call transaction built once; calls clone it and set their own fields. */
  #template: TypedTransaction | undefined;

  /**
   * The same transaction `createTx` builds for a call with a recipient, without its per-construction
   * cost: a shallow clone of a template (sharing its Common copy and capability list, which runTx only
   * reads) with the fields set and an empty cache. The caller has checked what createTx would check
   * (nonce below 2^64 − 1, gas × price below 2^256; gas below 2^64 and value below 2^256 by parsing).
   */
  #fromTemplate(
    nonce: bigint,
    gasLimit: bigint,
    gasPrice: bigint,
    to: Uint8Array,
    value: bigint,
    input: Uint8Array,
  ): TypedTransaction {
    this.#template ??= createTx(
      { type: 0, to: new Uint8Array(20) },
      { common: this.#common, freeze: false },
    ) as TypedTransaction;
    const tx = Object.assign(Object.create(Object.getPrototypeOf(this.#template)) as object, this.#template, {
      cache: {},
      nonce,
      gasLimit,
      gasPrice,
      to: new Address(to),
      value,
      data: input,
    });
    return tx as TypedTransaction;
  }

  async #simulate(
    req: CallRequest,
    overrides: AccountOverride[],
    gasLimit: bigint,
    nextBlock: number,
    timestamp: number,
  ): Promise<SimResult> {
    if (this.#vm === undefined) {
      const sm = new ViewStateManager(this.#coinbase, { cacheCode: this.#fast });
      // biome-ignore lint/suspicious/noExplicitAny: ethereumjs types the state manager as its interface
      const vm = await createVM({ common: this.#common, stateManager: sm as any });
      if (this.#fast) await cacheJumpAnalysis(vm.evm as EVM);
      this.#vm = { vm, sm };
    }
    const { vm, sm } = this.#vm;
    const from = req.from ?? new Uint8Array(20);
    const base = withOverrides(this.#get, overrides);
    const view = new TxView(base);
    const nonce =
      req.nonce ??
      (base(evmAccountKey(from)) === undefined ? 0n : decodeEvmAccount(base(evmAccountKey(from))!).nonce);
    const gasPrice = req.gasPrice ?? req.maxFeePerGas ?? 0n;
    // ethereumjs refuses (with an untyped Error) a transaction whose gas × price overflows 256 bits.
    if (gasLimit * gasPrice > (1n << 256n) - 1n)
      throw invalidParams('transaction gas × gasPrice (or maxFeePerGas) exceeds 2^256-1');
    const txData = {
      type: 0,
      nonce,
      gasLimit,
      gasPrice,
      ...(req.to !== undefined ? { to: req.to } : {}),
      value: req.value ?? 0n,
      data: req.data ?? new Uint8Array(0),
    };
    // Constructing a transaction copies the Common and rebuilds its parameter cache, which cost more
    // than the call itself: plain calls (a recipient, nonce below 2^64 − 1) clone a template instead.
    const templated = this.#fast && req.to !== undefined && nonce < MAX_NONCE;
    const tx = templated
      ? this.#fromTemplate(txData.nonce, gasLimit, gasPrice, req.to!, txData.value, txData.data)
      : (createTx(txData, { common: this.#common, freeze: false }) as TypedTransaction);
    const sender = new Address(from);
    (tx as unknown as { getSenderAddress: () => Address }).getSenderAddress = () => sender;
    // Building a block header costs about as much as a simple call: one per (number, second), on the
    // preset Common that skips the header's parameter rebuild (ADR 0342).
    let block =
      this.#block?.number === nextBlock && this.#block.timestamp === timestamp
        ? this.#block.block
        : undefined;
    if (block === undefined) {
      block = createBlock(
        {
          header: {
            number: BigInt(nextBlock),
            timestamp: BigInt(timestamp),
            gasLimit: this.#blockGasLimit,
            baseFeePerGas: 0n,
            coinbase: new Address(this.#coinbase),
          },
        },
        { common: this.#headerCommon },
      );
      this.#block = { number: nextBlock, timestamp, block };
    }
    sm.begin(view);
    try {
      if (templated) {
        const r = await this.#direct(vm, tx, block, sender, gasLimit, gasPrice);
        if (r !== undefined) return r; // else runTx refuses it with its own error (nothing ran yet)
      }
      let r: Awaited<ReturnType<typeof runTx>>;
      try {
        r = await runTx(vm, {
          tx,
          block,
          skipNonce: true,
          skipBalance: true,
          skipBlockGasLimitValidation: true,
          skipHardForkValidation: true,
        });
      } catch (err) {
        let least: bigint | undefined;
        try {
          const dims = computeIntrinsicGasDimensions8037(tx.common, tx, block.header.gasLimit, sender);
          const floor = getCalldataFloorGas(tx, sender);
          const total = dims.intrinsicRegular + dims.intrinsicState;
          least = total;
          if (floor > least) least = floor;
        } catch {
          least = undefined;
        }
        throw callRefusal(err, gasLimit, least);
      }
      const err = r.execResult.exceptionError;
      return err === undefined
        ? { ok: true, returnValue: r.execResult.returnValue, gasUsed: r.totalGasSpent }
        : { ok: false, returnValue: r.execResult.returnValue, gasUsed: r.totalGasSpent, error: err.error };
    } finally {
      sm.view = undefined;
    }
  }

  /** Precompile addresses and the coinbase, as the journal's warm set keys them (unprefixed hex). */
  #warm: string[] | undefined;

  /**
   * What `runTx` does for a plain legacy call with `skipNonce`/`skipBalance` (ADR 0225), without what
   * only a real transaction needs: the sender's fee refund, the coinbase's fee, self-destruct
   * processing, the logs bloom and the receipt. None of that is observable by the call (it happens
   * after the EVM run, on a view that is thrown away) or part of its result. Same gas rules: intrinsic
   * gas, the EIP-7623 calldata floor, the EIP-3529 refund cap. Undefined (nothing run) when `runTx`
   * would refuse the call (gas below the minimum, a sender with code): the caller then runs `runTx`
   * for its exact error. test/unit/eth-rpc/call-fast-path.test.ts compares it with `runTx`.
   */
  async #direct(
    vm: VM,
    tx: TypedTransaction,
    block: ReturnType<typeof createBlock>,
    caller: Address,
    gasLimit: bigint,
    gasPrice: bigint,
  ): Promise<SimResult | undefined> {
    const evm = vm.evm as EVM;
    const intrinsic = tx.getIntrinsicGas();
    const floor = getCalldataFloorGas(tx, caller);
    const dims = computeIntrinsicGasDimensions8037(tx.common, tx, block.header.gasLimit, caller);
    const total = dims.intrinsicRegular + dims.intrinsicState;
    if (gasLimit < total || gasLimit < floor) return undefined;
    const from = (await vm.stateManager.getAccount(caller)) ?? new Account();
    // EIP-3607 (and its EIP-7702 exception): runTx decides.
    if (!equalsBytes(from.codeHash, KECCAK256_NULL)) return undefined;
    const journal = evm.journal;
    journal.cleanJournal();
    await journal.checkpoint();
    try {
      this.#warm ??= [...[...evm.precompiles.keys()], bytesToUnprefixedHex(block.header.coinbase.bytes)];
      for (const a of this.#warm) journal.addAlwaysWarmAddress(a);
      journal.addAlwaysWarmAddress(caller.toString());
      journal.addAlwaysWarmAddress(bytesToUnprefixedHex(tx.to!.bytes));
      // skipBalance on a legacy transaction: the sender is given the upfront cost if short of it, then
      // pays gas × price; the nonce goes up before the call (as in runTx).
      const upFront = gasLimit * gasPrice + tx.value;
      if (from.balance < upFront) from.balance = upFront;
      from.balance -= gasLimit * gasPrice;
      from.nonce += 1n;
      await journal.putAccount(caller, from);
      await journal.checkpoint();
      const r = await evm.runCall({
        block,
        gasPrice,
        caller,
        gasLimit: gasLimit - intrinsic,
        to: tx.to!,
        value: tx.value,
        data: tx.data,
        skipNonceIncrement: true,
      });
      if (evm.eip2780PrepOog === true) await journal.revert();
      else await journal.commit();
      const ex = r.execResult;
      let spent = ex.executionGasUsed + intrinsic;
      const refund = ex.gasRefund ?? 0n;
      if (refund !== 0n) {
        const max = spent / vm.common.param('maxRefundQuotient');
        spent -= refund < max ? refund : max;
      }
      if (spent < floor) spent = floor;
      const err = ex.exceptionError;
      return err === undefined
        ? { ok: true, returnValue: ex.returnValue, gasUsed: spent }
        : { ok: false, returnValue: ex.returnValue, gasUsed: spent, error: err.error };
    } finally {
      journal.cleanJournal();
      evm.eip2780PrepOog = false;
    }
  }
}

/** A state getter with eth_call's state overrides applied on top. */
function withOverrides(get: Getter, overrides: AccountOverride[]): Getter {
  if (overrides.length === 0) return get;
  const over = new Map<string, string | null>();
  const cleared: string[] = [];
  for (const o of overrides) {
    const akey = evmAccountKey(o.address);
    const cur = get(akey);
    const a = cur === undefined ? { nonce: 0n, balance: 0n, codeHash: KECCAK_NULL } : decodeEvmAccount(cur);
    if (o.balance !== undefined) a.balance = o.balance;
    if (o.nonce !== undefined) a.nonce = o.nonce;
    if (o.code !== undefined) {
      const h = lat(keccak_256(o.code));
      a.codeHash = o.code.byteLength === 0 ? KECCAK_NULL : h;
      if (o.code.byteLength > 0) over.set(`C${h}`, lat(o.code));
    }
    over.set(akey, encodeEvmAccount(a));
    if (o.state !== undefined) cleared.push(`S${lat(o.address)}`);
    for (const [slot, value] of o.state ?? o.stateDiff ?? []) {
      let i = 0;
      while (i < 32 && value[i] === 0) i++;
      over.set(evmStorageKey(o.address, slot), i === 32 ? null : lat(value.subarray(i)));
    }
  }
  return (k) => {
    const v = over.get(k);
    if (v !== undefined) return v ?? undefined;
    if (k.charCodeAt(0) === 0x53 && cleared.some((p) => k.startsWith(p))) return undefined;
    return get(k);
  };
}

/** Decode a revert's reason: Error(string), Panic(uint256), or undefined for custom errors / no data. */
export function revertReason(ret: Uint8Array): string | undefined {
  const b = Buffer.from(ret);
  if (b.length >= 68 && b.subarray(0, 4).toString('hex') === '08c379a0') {
    const off = Number(b.readBigUInt64BE(4 + 24));
    const at = 4 + off;
    if (at + 32 > b.length) return undefined;
    const len = Number(b.readBigUInt64BE(at + 24));
    if (at + 32 + len > b.length) return undefined;
    return b.subarray(at + 32, at + 32 + len).toString('utf8');
  }
  if (b.length === 36 && b.subarray(0, 4).toString('hex') === '4e487b71')
    return `panic: 0x${BigInt(`0x${b.subarray(4).toString('hex')}`).toString(16)}`;
  return undefined;
}

/**
 * What `runTx` throws when it refuses a call before running it (an untyped Error), as geth answers it:
 * -32000 with geth's words (`intrinsic gas too low: have N, want M`, as viem's `IntrinsicGasTooLowError`
 * matches), never an internal error. An RpcError passes unchanged.
 */
export function callRefusal(err: unknown, gasLimit: bigint, intrinsic: bigint | undefined): RpcError {
  if (err instanceof RpcError) return err;
  if (intrinsic !== undefined && gasLimit < intrinsic)
    return new RpcError(-32000, `intrinsic gas too low: have ${gasLimit}, want ${intrinsic}`);
  const m =
    err instanceof Error
      ? err.message
          .split('\n')[0]!
          .replace(/ -> .*$/, '')
          .slice(0, 200)
      : String(err);
  return new RpcError(-32000, `the call cannot run: ${m}`);
}

/** The error every Ethereum client recognises for a reverted call: code 3 with the revert data. */
export function revertError(ret: Uint8Array): RpcError {
  const reason = revertReason(ret);
  return new RpcError(
    3,
    reason === undefined ? 'execution reverted' : `execution reverted: ${reason}`,
    data(ret),
  );
}
