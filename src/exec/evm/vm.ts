/**
 * The EVM: real Ethereum semantics through `@ethereumjs/vm` (Prague rules) over Ordo's flat state.
 *
 * Transactions are standard signed Ethereum transactions (legacy with EIP-155, EIP-2930, EIP-1559) for
 * the rollup's chain id, so a transaction signed by viem or ethers executes as on a real chain. Blob
 * (type 3), set-code (type 4) and unprotected pre-EIP-155 transactions are rejected as invalid.
 *
 * State layout (keys are byte strings, see types.ts):
 *   "A" || address(20)            → nonce u64 BE (8) || balance u256 BE (32) || codeHash (32)
 *   "C" || codeHash(32)           → code bytes (content-addressed: never changes once written)
 *   "S" || address(20) || slot(32) → storage value (leading zeros stripped; absent = zero)
 *
 * `ViewStateManager` implements ethereumjs' StateManagerInterface over a `TxView`, so each call to
 * `runTx` reports exactly the state it read and wrote. The block's fee recipient (COINBASE) is handled
 * as a commutative credit: when the only access to it is the fee payment after the top-level call
 * returned, the write is replaced by `credit(delta)` and no read is recorded (docs/executor.md).
 */
import { createBlock } from '@ethereumjs/block';
import { type AccountFields, type Common, createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import type { EVM } from '@ethereumjs/evm';
import { Capability, createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx';
import {
  Account,
  Address,
  bigIntToUnpaddedBytes,
  KECCAK256_NULL,
  KECCAK256_RLP,
  publicToAddress,
  SECP256K1_ORDER_DIV_2,
  setLengthLeft,
} from '@ethereumjs/util';
import { createVM, runTx, type VM } from '@ethereumjs/vm';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { declaredEvmGas, evmBlockGasLimit } from '../../codec/index.ts';
import type { RollupConfig } from '../../config/index.ts';
import type { BlockContext, Bytes, Log, Prepared, TxOutcome, Vm } from '../types.ts';
import type { TxView } from '../view.ts';
import { ecrecover, evmCustomCrypto } from './ecrecover.ts';
import { cacheJumpAnalysis } from './jump-cache.ts';
import { keccakMemo } from './keccak-memo.ts';
import { parse1559, typedFields } from './lean-1559.ts';
import { signingHash1559 } from './signing-hash.ts';
import { blockCommon, txCommon } from './tx-common.ts';

const KECCAK_NULL_STR = Buffer.from(KECCAK256_NULL).toString('latin1');
const U256_MAX = (1n << 256n) - 1n;
export const DEFAULT_EVM_FEE_RECIPIENT = '0x0000000000000000000000000000000000000fee';
export const DEFAULT_EVM_BASE_FEE = 1_000_000_000n;

/** Bytes as a latin1 string (one char per byte); short keys (addresses, slots) without a Buffer view. */
const lat = (b: Uint8Array): string =>
  b.byteLength <= 64
    ? String.fromCharCode.apply(null, b as unknown as number[])
    : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
const bin = (s: string): Uint8Array => {
  const b = Buffer.from(s, 'latin1');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

export const evmAccountKey = (addr: Uint8Array): Bytes => 'A' + lat(addr);
export const evmStorageKey = (addr: Uint8Array, slot: Uint8Array): Bytes =>
  'S' + lat(addr) + lat(slot.byteLength === 32 ? slot : setLengthLeft(slot, 32));
const codeKey = (hash: string): Bytes => 'C' + hash;
/** Most recovered senders an EvmVm remembers by payload (oldest dropped first; ADR 0180). */
const SENDER_MEMO_ENTRIES = 16_384;
/** Most distinct codes a caching ViewStateManager keeps (oldest dropped first). */
const CODE_CACHE_ENTRIES = 1024;

export interface EvmAccount {
  nonce: bigint;
  balance: bigint;
  /** latin1 string of the 32-byte code hash */
  codeHash: string;
}

/** Scratch space of the account codec (one per thread; every use is synchronous). */
const ACC_BUF = Buffer.allocUnsafe(40);
const M64 = (1n << 64n) - 1n;

/**
 * nonce u64 BE || balance u256 BE || codeHash. The balance goes in as four 64-bit words (four BigInt
 * shifts instead of 32 byte-by-byte ones, ~0.1–0.3 of the time; ADR 0328). A balance outside
 * [0, 2^256) takes the byte loop (its low 256 bits), as before; a nonce outside u64 throws.
 */
export function encodeEvmAccount(a: EvmAccount): Bytes {
  const bal = a.balance;
  if (bal < 0n || bal > U256_MAX) return encodeEvmAccountBytewise(a);
  const b = ACC_BUF;
  b.writeBigUInt64BE(a.nonce, 0);
  b.writeBigUInt64BE(bal >> 192n, 8);
  b.writeBigUInt64BE((bal >> 128n) & M64, 16);
  b.writeBigUInt64BE((bal >> 64n) & M64, 24);
  b.writeBigUInt64BE(bal & M64, 32);
  return b.toString('latin1', 0, 40) + a.codeHash;
}

function encodeEvmAccountBytewise(a: EvmAccount): Bytes {
  const b = Buffer.alloc(72);
  b.writeBigUInt64BE(a.nonce, 0);
  let v = a.balance;
  for (let i = 39; i >= 8; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  b.write(a.codeHash, 40, 'latin1');
  return b.toString('latin1');
}

export function decodeEvmAccount(v: Bytes): EvmAccount {
  if (v.length < 40) throw new RangeError(`evm account value of ${v.length} bytes (want 72)`);
  const b = ACC_BUF;
  b.write(v, 0, 40, 'latin1');
  const balance =
    (b.readBigUInt64BE(8) << 192n) |
    (b.readBigUInt64BE(16) << 128n) |
    (b.readBigUInt64BE(24) << 64n) |
    b.readBigUInt64BE(32);
  return { nonce: b.readBigUInt64BE(0), balance, codeHash: v.slice(40, 72) };
}

/** StateManagerInterface over a TxView (one instance per VM; `view` swapped per transaction). */
export class ViewStateManager {
  view: TxView | undefined;
  /** Set once the top-level call has returned: what follows is fee payment and cleanup. */
  post = false;
  readonly coinbaseKey: Bytes;
  /** Base value of the coinbase account peeked (not recorded) by a post-phase read. */
  cbPeek: Bytes | null | undefined;
  readonly originalStorageCache: {
    get: (address: Address, key: Uint8Array) => Promise<Uint8Array>;
    clear: () => void;
  };

  /**
   * Code by code hash, when the owner asked for it (the Ethereum RPC's calls): the same bytes come back
   * as the same array, so per-code analyses can be cached by identity (jump-cache.ts). Code is
   * content-addressed, so an entry never goes stale; reads are still recorded on the view.
   */
  readonly #codeCache: Map<string, Uint8Array> | undefined;

  constructor(coinbase: Uint8Array, opts: { cacheCode?: boolean } = {}) {
    if (opts.cacheCode === true) this.#codeCache = new Map();
    this.coinbaseKey = evmAccountKey(coinbase);
    this.originalStorageCache = {
      get: async (address, key) => {
        const k = evmStorageKey(address.bytes, key);
        const v = this.#v().peekBase(k);
        this.#v().recordRead(k, v);
        return v === null ? new Uint8Array(0) : bin(v);
      },
      clear: () => {},
    };
  }

  #v(): TxView {
    if (this.view === undefined) throw new Error('EVM state accessed outside a transaction');
    return this.view;
  }

  begin(view: TxView): void {
    this.view = view;
    this.post = false;
    this.cbPeek = undefined;
  }

  /** Turn a pure fee payment to the coinbase into a credit; otherwise record its read. */
  finish(status: TxOutcome['status']): void {
    const v = this.#v();
    if (this.cbPeek === undefined) return;
    const peek = this.cbPeek;
    const own = v.own(this.coinbaseKey);
    if (status !== 'invalid' && own !== undefined) {
      const before = peek === null ? undefined : decodeEvmAccount(peek);
      const after = own === null ? undefined : decodeEvmAccount(own);
      const bNonce = before?.nonce ?? 0n;
      const aNonce = after?.nonce ?? 0n;
      const bCode = before?.codeHash ?? KECCAK_NULL_STR;
      const aCode = after?.codeHash ?? KECCAK_NULL_STR;
      const delta = (after?.balance ?? 0n) - (before?.balance ?? 0n);
      // An account that would exist only as an empty husk is deleted by EIP-161 either way.
      if (bNonce === aNonce && bCode === aCode && delta >= 0n && (after !== undefined || delta === 0n)) {
        v.unset(this.coinbaseKey);
        v.credit(this.coinbaseKey, delta);
        return;
      }
    }
    v.recordRead(this.coinbaseKey, peek);
  }

  #getAccountValue(address: Address): Bytes | undefined {
    const v = this.#v();
    const key = evmAccountKey(address.bytes);
    if (key === this.coinbaseKey) {
      const own = v.own(key);
      if (own !== undefined) return own ?? undefined;
      if (this.post && this.cbPeek === undefined && !v.reads.has(key)) {
        this.cbPeek = v.peekBase(key);
        return this.cbPeek ?? undefined;
      }
      if (this.cbPeek !== undefined) {
        v.recordRead(key, this.cbPeek);
        this.cbPeek = undefined;
      }
    }
    return v.get(key);
  }

  async getAccount(address: Address): Promise<Account | undefined> {
    const raw = this.#getAccountValue(address);
    if (raw === undefined) return undefined;
    const a = decodeEvmAccount(raw);
    // No code: ethereumjs' own constant (what `new Account()` uses; never written in place).
    const codeHash = a.codeHash === KECCAK_NULL_STR ? KECCAK256_NULL : bin(a.codeHash);
    return new Account(a.nonce, a.balance, KECCAK256_RLP, codeHash);
  }

  async putAccount(address: Address, account?: Account): Promise<void> {
    const key = evmAccountKey(address.bytes);
    if (account === undefined) {
      this.#v().set(key, undefined);
      return;
    }
    if (account.balance > U256_MAX) throw new Error('balance overflow');
    this.#v().set(
      key,
      encodeEvmAccount({ nonce: account.nonce, balance: account.balance, codeHash: lat(account.codeHash) }),
    );
  }

  async deleteAccount(address: Address): Promise<void> {
    const v = this.#v();
    v.set(evmAccountKey(address.bytes), undefined);
    for (const k of v.ownKeysWithPrefix('S' + lat(address.bytes))) v.set(k, undefined);
  }

  async modifyAccountFields(address: Address, f: AccountFields): Promise<void> {
    const acc = (await this.getAccount(address)) ?? new Account();
    if (f.nonce !== undefined) acc.nonce = f.nonce;
    if (f.balance !== undefined) acc.balance = f.balance;
    if (f.codeHash !== undefined) acc.codeHash = f.codeHash;
    await this.putAccount(address, acc);
  }

  async putCode(address: Address, value: Uint8Array): Promise<void> {
    const hash = keccak_256(value);
    if (value.byteLength > 0) this.#v().set(codeKey(lat(hash)), lat(value));
    await this.modifyAccountFields(address, { codeHash: hash });
  }

  async getCode(address: Address): Promise<Uint8Array> {
    const raw = this.#getAccountValue(address);
    if (raw === undefined) return new Uint8Array(0);
    const h = raw.slice(40, 72);
    if (h === KECCAK_NULL_STR) return new Uint8Array(0);
    // Not recorded as a read (ADR 0329): code is content-addressed and written together with the account
    // that names its hash, and that account's value (hash included) is in the read set already, so the
    // code a validator would see is the same bytes. Result sets stay small for large contracts.
    const v = this.#v();
    const key = codeKey(h);
    const own = v.own(key);
    const code = own === undefined ? v.peekBase(key) : own;
    if (code === null) return new Uint8Array(0);
    const cache = this.#codeCache;
    if (cache === undefined) return bin(code);
    let c = cache.get(h);
    if (c === undefined) {
      if (cache.size >= CODE_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
      c = bin(code);
      cache.set(h, c);
    }
    return c;
  }

  async getCodeSize(address: Address): Promise<number> {
    return (await this.getCode(address)).byteLength;
  }

  async getStorage(address: Address, key: Uint8Array): Promise<Uint8Array> {
    const v = this.#v().get(evmStorageKey(address.bytes, key));
    return v === undefined ? new Uint8Array(0) : bin(v);
  }

  async putStorage(address: Address, key: Uint8Array, value: Uint8Array): Promise<void> {
    let i = 0;
    while (i < value.byteLength && value[i] === 0) i++;
    const stripped = value.subarray(i);
    this.#v().set(evmStorageKey(address.bytes, key), stripped.byteLength === 0 ? undefined : lat(stripped));
  }

  async clearStorage(address: Address): Promise<void> {
    const v = this.#v();
    for (const k of v.ownKeysWithPrefix('S' + lat(address.bytes))) v.set(k, undefined);
  }

  async checkpoint(): Promise<void> {
    this.#v().checkpoint();
  }
  async commit(): Promise<void> {
    this.#v().commit();
  }
  async revert(): Promise<void> {
    this.#v().revert();
  }
  async getStateRoot(): Promise<Uint8Array> {
    return new Uint8Array(32);
  }
  async setStateRoot(): Promise<void> {}
  async hasStateRoot(): Promise<boolean> {
    return true;
  }
  clearCaches(): void {}
  shallowCopy(): ViewStateManager {
    return this;
  }
}

export interface EvmVmOptions {
  feeRecipient?: string;
  baseFeePerGas?: bigint;
  /**
   * Cache code arrays by hash and the interpreter's jump analysis per code (ADR 0328, also ADR 0324;
   * default true). false only for comparisons (test/unit/exec/evm-code-cache.test.ts).
   */
  cacheCode?: boolean;
  /**
   * keccak256 of short inputs (log bloom entries, mapping slots) through a bounded memo (keccak-memo.ts;
   * ADR 0325). Default true; false hashes every time (tests compare the two).
   */
  memoKeccak?: boolean;
}

export class EvmVm implements Vm<TypedTransaction> {
  readonly kind = 'evm' as const;
  readonly speculate = true;
  readonly common: Common;
  /** `common` for decoding transactions, without the per-transaction parameter rebuild (ADR 0180). */
  readonly #txCommon: Common;
  /** `common` for this VM's block headers, without the per-height parameter rebuild (ADR 0342). */
  readonly #blockCommon: Common;
  readonly #rollup: RollupConfig;
  readonly #sm: ViewStateManager;
  readonly #vm: VM;
  readonly #coinbase: Address;
  readonly #baseFee: bigint;
  /** The rollup's block gas limit (ADR 0285): GASLIMIT, and the most one transaction may declare. */
  readonly #gasLimit: bigint;
  readonly #chainId: bigint;
  #depth = 0;
  /**
   * Sender public keys this VM recovered (or was told by this node's own admission), by the exact
   * payload bytes: recovery is a pure function of them, so a second `prepare` of the same bytes (mempool
   * classification, then execution; a worker's chunk the coordinator already knows) skips it.
   */
  readonly #senders = new Map<string, string>();
  #block: { height: number; timeMs: number; block: ReturnType<typeof createBlock> } | undefined;

  private constructor(
    rollup: RollupConfig,
    common: Common,
    vm: VM,
    sm: ViewStateManager,
    opts: EvmVmOptions,
  ) {
    this.#rollup = rollup;
    this.common = common;
    this.#txCommon = txCommon(common);
    this.#blockCommon = blockCommon(common);
    this.#vm = vm;
    this.#sm = sm;
    this.#coinbase = new Address(
      Buffer.from((opts.feeRecipient ?? DEFAULT_EVM_FEE_RECIPIENT).slice(2), 'hex'),
    );
    this.#baseFee = opts.baseFeePerGas ?? DEFAULT_EVM_BASE_FEE;
    this.#gasLimit = BigInt(evmBlockGasLimit(rollup)!);
    this.#chainId = common.chainId();
    // Track call depth so the state manager knows when the top-level call has returned.
    const evm = vm.evm as EVM;
    const orig = evm.runCall.bind(evm);
    evm.runCall = async (o) => {
      this.#depth++;
      try {
        return await orig(o);
      } finally {
        this.#depth--;
        if (this.#depth === 0) this.#sm.post = true;
      }
    };
  }

  static async create(rollup: RollupConfig, opts: EvmVmOptions = {}): Promise<EvmVm> {
    if (rollup.evmChainId === undefined)
      throw new RangeError(`evm rollup ${rollup.namespace} has no evmChainId`);
    const common = createCustomCommon(
      { chainId: rollup.evmChainId },
      Mainnet,
      // libsecp256k1 (WASM) for sender recovery and the ECRECOVER precompile (ADR 0115); short keccak
      // inputs through a memo (ADR 0325).
      {
        hardfork: Hardfork.Prague,
        customCrypto:
          (opts.memoKeccak ?? true) ? { ...evmCustomCrypto, keccak256: keccakMemo() } : evmCustomCrypto,
      },
    );
    const cacheCode = opts.cacheCode !== false;
    const sm = new ViewStateManager(
      Buffer.from((opts.feeRecipient ?? DEFAULT_EVM_FEE_RECIPIENT).slice(2), 'hex'),
      { cacheCode },
    );
    // biome-ignore lint/suspicious/noExplicitAny: ethereumjs types the state manager as its interface
    const vm = await createVM({ common, stateManager: sm as any });
    // Jump analyses by code array (the cached arrays above): a pure function of the code and the
    // opcode table, so block results are the same (ADR 0328, extending ADR 0155 to block execution).
    if (cacheCode) await cacheJumpAnalysis(vm.evm as EVM);
    return new EvmVm(rollup, common, vm, sm, opts);
  }

  #decode(payload: Uint8Array): TypedTransaction | string {
    if (payload.byteLength === 0) return 'empty transaction';
    const t = payload[0]!;
    if (t === 3 || t === 4) return `unsupported transaction type ${t}`;
    try {
      const tx = createTxFromRLP(payload, { common: this.#txCommon }) as TypedTransaction;
      if (tx.type === 0 && !tx.supports(Capability.EIP155ReplayProtection)) {
        return 'unprotected (pre-EIP-155) transaction';
      }
      // The block gas limit (ADR 0285): no transaction may declare more, and the builder's reading of the
      // declared gas (src/codec evm-gas.ts, no decode) must be what executes.
      if (tx.gasLimit > this.#gasLimit)
        return `exceeds block gas limit: gas ${tx.gasLimit}, limit ${this.#gasLimit}`;
      if (declaredEvmGas(payload) !== Number(tx.gasLimit))
        return 'malformed transaction: its gas limit field cannot be read';
      return tx;
    } catch (err) {
      return `malformed transaction: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  classify(payload: Uint8Array): { sender: string; nonce: bigint } | { error: string } {
    const lean = this.#leanClassify(payload);
    if (lean !== undefined) return lean;
    const p = this.prepare(payload);
    if (!p.ok) return { error: p.error };
    return { sender: p.tx.getSenderAddress().toString(), nonce: p.tx.nonce };
  }

  /**
   * `classify` of a well-formed type-2 call without ethereumjs' transaction object (ADR 0339): the
   * fields read by lean-1559.ts (only what ethereumjs accepts), this VM's gas rules as `#decode` applies
   * them, and the sender recovered from the same signed hash with the same backend as `prepare` (or
   * taken from the memo), which it remembers for execution. Undefined: `prepare` decides.
   */
  #leanClassify(payload: Uint8Array): { sender: string; nonce: bigint } | undefined {
    if (payload[0] !== 2) return undefined;
    const f = parse1559(payload, typedFields(payload), this.#txCommon, this.#chainId);
    if (f === undefined || f.gasLimit > this.#gasLimit) return undefined;
    if (declaredEvmGas(payload) !== Number(f.gasLimit)) return undefined;
    const key = lat(payload);
    let proof = this.#senders.get(key);
    if (proof === undefined) {
      const signed = signingHash1559(payload);
      if (signed === undefined) return undefined;
      try {
        proof = lat(ecrecover(signed, f.yParity, f.r, f.s));
      } catch {
        return undefined; // prepare's path gives ethereumjs' message
      }
    }
    this.#remember(key, proof);
    const sender = publicToAddress(bin(proof));
    return { sender: `0x${Buffer.from(sender).toString('hex')}`, nonce: f.nonce };
  }

  prepare(payload: Uint8Array): Prepared<TypedTransaction> {
    const key = lat(payload);
    const known = this.#senders.get(key);
    if (known !== undefined) {
      const tx = this.#decode(payload);
      if (typeof tx !== 'string') {
        (tx.cache as { senderPubKey?: Uint8Array }).senderPubKey = bin(known);
        return { ok: true, tx, proof: known };
      }
    }
    const tx = this.#decode(payload);
    if (typeof tx === 'string') return { ok: false, error: tx };
    try {
      if (!tx.isSigned()) return { ok: false, error: 'transaction is not signed' };
      const proof = lat(senderPublicKey(tx, payload));
      this.#remember(key, proof);
      return { ok: true, tx, proof };
    } catch (err) {
      return { ok: false, error: `invalid signature: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  /**
   * The sender proof of `payload` if this VM has it (see `#senders`): the executor hands it to the
   * worker that executes the payload, which then skips the recovery. Kept (the block index may ask for
   * the sender later); the memo's bound drops it.
   */
  knownProof(payload: Uint8Array): string | undefined {
    return this.#senders.get(lat(payload));
  }

  /** The sender address of `payload` if its key is remembered (one keccak, no recovery). */
  knownSender(payload: Uint8Array): Uint8Array | undefined {
    const p = this.#senders.get(lat(payload));
    return p === undefined ? undefined : publicToAddress(bin(p));
  }

  /**
   * This node's Ethereum RPC admission recovered `senderPubKey` from `payload` (same decode, chain id,
   * signature rules and recovery as `prepare`; it only calls this for payloads it admitted).
   */
  noteSender(payload: Uint8Array, senderPubKey: Uint8Array): void {
    this.#remember(lat(payload), lat(senderPubKey));
  }

  #remember(key: string, proof: string): void {
    this.#senders.delete(key);
    this.#senders.set(key, proof);
    if (this.#senders.size > SENDER_MEMO_ENTRIES) {
      const oldest = this.#senders.keys().next().value;
      if (oldest !== undefined) this.#senders.delete(oldest);
    }
  }

  restore(payload: Uint8Array, proof: string): TypedTransaction {
    const tx = this.#decode(payload);
    if (typeof tx === 'string') throw new Error(tx);
    (tx.cache as { senderPubKey?: Uint8Array }).senderPubKey = bin(proof);
    return tx;
  }

  /** The block header runTx sees (cached per height: building one costs as much as a simple tx). */
  #blockFor(ctx: BlockContext): ReturnType<typeof createBlock> {
    const c = this.#block;
    if (c !== undefined && c.height === ctx.height && c.timeMs === ctx.timeMs) return c.block;
    const block = createBlock(
      {
        header: {
          number: BigInt(ctx.height),
          timestamp: BigInt(Math.floor(ctx.timeMs / 1000)),
          gasLimit: this.#gasLimit,
          baseFeePerGas: this.#baseFee,
          coinbase: this.#coinbase,
        },
      },
      { common: this.#blockCommon },
    );
    this.#block = { height: ctx.height, timeMs: ctx.timeMs, block };
    return block;
  }

  async execute(tx: TypedTransaction, view: TxView, ctx: BlockContext): Promise<TxOutcome> {
    this.#sm.begin(view);
    this.#depth = 0;
    let out: TxOutcome;
    try {
      const block = this.#blockFor(ctx);
      const r = await runTx(this.#vm, { tx, block, skipBlockGasLimitValidation: true });
      const logs: Log[] = (r.execResult.logs ?? []).map(([address, topics, data]) => ({
        address,
        topics,
        data,
      }));
      const err = r.execResult.exceptionError;
      out = {
        status: err === undefined ? 'success' : 'revert',
        gasUsed: r.totalGasSpent,
        logs: err === undefined ? logs : [],
      };
      if (err !== undefined) out.error = err.error;
      const rv = r.execResult.returnValue;
      if (rv !== undefined && rv.byteLength > 0) out.returnData = rv;
      if (r.createdAddress !== undefined && err === undefined) out.contractAddress = r.createdAddress.bytes;
      // No EVM code ran (a value transfer to an account without code): no opcode with a cost executed, so
      // none that reads the block (NUMBER, TIMESTAMP, BASEFEE, BLOCKHASH, …), and the header's base fee
      // and gas limit are this VM's constants. The run is a function of its reads alone (ADR 0220).
      if (r.execResult.executionGasUsed === 0n) out.contextFree = true;
    } catch (e) {
      out = { status: 'invalid', gasUsed: 0n, logs: [], error: e instanceof Error ? e.message : String(e) };
    }
    this.#sm.finish(out.status);
    this.#sm.view = undefined;
    return out;
  }

  applyCredit(value: Bytes | undefined, amount: bigint): Bytes | undefined {
    const a =
      value === undefined ? { nonce: 0n, balance: 0n, codeHash: KECCAK_NULL_STR } : decodeEvmAccount(value);
    const balance = a.balance + amount;
    if (value === undefined && balance === 0n) return undefined;
    return encodeEvmAccount({ ...a, balance: balance > U256_MAX ? U256_MAX : balance });
  }

  genesis(): Map<Bytes, Bytes> {
    const m = new Map<Bytes, Bytes>();
    for (const acc of this.#rollup.alloc ?? []) {
      const addr = Buffer.from(acc.address.replace(/^0x/, ''), 'hex');
      if (addr.byteLength !== 20) throw new RangeError(`evm alloc address ${acc.address} is not 20 bytes`);
      const key = evmAccountKey(addr);
      const prev = m.get(key);
      const bal = (prev === undefined ? 0n : decodeEvmAccount(prev).balance) + BigInt(acc.balance);
      m.set(key, encodeEvmAccount({ nonce: 0n, balance: bal, codeHash: KECCAK_NULL_STR }));
    }
    return m;
  }

  nonceOf(get: (key: Bytes) => Bytes | undefined, sender: string): bigint {
    const addr = Buffer.from(sender.replace(/^0x/, ''), 'hex');
    if (addr.byteLength !== 20) return 0n;
    const v = get(evmAccountKey(addr));
    return v === undefined ? 0n : decodeEvmAccount(v).nonce;
  }
}

/** Sender address of a recovered public key (64 bytes), as the EVM derives it. */
export function evmAddressOf(pub: Uint8Array): Uint8Array {
  return publicToAddress(pub);
}

/**
 * The sender's public key, as ethereumjs' `getSenderPublicKey` (high-s refused, then ecrecover) but, for
 * a type-2 transaction, with the signed hash read from the payload's bytes (signing-hash.ts, ADR 0251).
 */
function senderPublicKey(tx: TypedTransaction, payload: Uint8Array): Uint8Array {
  const hash = tx.type === 2 ? signingHash1559(payload) : undefined;
  if (hash === undefined || tx.v === undefined || tx.r === undefined || tx.s === undefined)
    return tx.getSenderPublicKey();
  let pub: Uint8Array;
  try {
    if (tx.s > SECP256K1_ORDER_DIV_2) throw new Error('high s');
    pub = ecrecover(hash, tx.v, bigIntToUnpaddedBytes(tx.r), bigIntToUnpaddedBytes(tx.s));
  } catch {
    // A bad signature: ethereumjs' own path throws its own message (it goes into the receipt).
    return tx.getSenderPublicKey();
  }
  (tx.cache as { senderPubKey?: Uint8Array }).senderPubKey = pub;
  return pub;
}
