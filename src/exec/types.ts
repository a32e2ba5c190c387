/**
 * The executor's contracts: what a VM is, what a transaction's execution produces, and the receipt the
 * adapter layer hands to rollups.
 *
 * Every executed rollup's state is one flat key/value map. Keys and values are byte strings held as
 * latin1 JS strings (one char per byte): they compare with `===`, hash as Map keys without copies, sort
 * in byte order with the default string comparison and clone cheaply between worker threads. A VM reads
 * and writes that map only through a `StateView`, which is how the executors learn each transaction's
 * read set and write set (the basis of optimistic parallel execution, see docs/executor.md).
 */
import type { Namespace } from '../types.ts';

/** A state key or value: bytes as a latin1 string. */
export type Bytes = string;

/**
 * `voided`: the transaction belonged to an execution bundle that did not apply (docs/executor.md,
 * "Bundles"): no effect at all, no gas, no nonce bump.
 */
export type ExecStatus = 'success' | 'revert' | 'invalid' | 'voided';

export interface Log {
  /** Emitting contract (evm: 20 bytes); transfer VM emits no logs. */
  address: Uint8Array;
  topics: Uint8Array[];
  data: Uint8Array;
}

export interface Receipt {
  /** Position of the transaction within its rollup's slice of the block. */
  index: number;
  /**
   * success: effects applied; revert: fee/nonce charged, effects dropped; invalid: no state change;
   * voided: part of an execution bundle that did not apply (no state change).
   */
  status: ExecStatus;
  gasUsed: bigint;
  logs: Log[];
  /** Why the transaction reverted or was invalid. */
  error?: string;
  /** evm: address of a contract created by this transaction. */
  contractAddress?: Uint8Array;
}

/** Pre-confirmation results of one executed rollup at one height. */
export interface NamespaceResult {
  namespace: Namespace;
  height: number;
  receipts: Receipt[];
  /** State commitment after this block (docs/executor.md, "State commitment"). */
  stateRoot: Uint8Array;
  /** sha256 over namespace, height, stateRoot and the receipts' canonical encoding. */
  resultsHash: Uint8Array;
}

/** Block-level inputs every node knows identically. */
export interface BlockContext {
  height: number;
  /** Block time in ms (from the certified header); the evm TIMESTAMP is floor(timeMs / 1000). */
  timeMs: number;
}

/**
 * A transaction's access to rollup state. Reads that reach below the transaction's own writes are
 * recorded with the value seen; `credit` adds a commutative amount to a balance without reading it
 * (fee-recipient credits), applied with `Vm.applyCredit` in commit order.
 */
export interface StateView {
  get(key: Bytes): Bytes | undefined;
  set(key: Bytes, value: Bytes | undefined): void;
  credit(key: Bytes, amount: bigint): void;
}

/** What executing one transaction produced (before validation). */
export interface TxOutcome {
  status: ExecStatus;
  gasUsed: bigint;
  logs: Log[];
  error?: string;
  contractAddress?: Uint8Array;
  /** evm: return or revert data (simulation only; not part of receipts). */
  returnData?: Uint8Array;
  /**
   * The run did not read the block context (evm: no EVM code ran, so no NUMBER, TIMESTAMP, …): the same
   * reads give the same run in any block (not part of receipts; ADR 0220).
   */
  contextFree?: boolean;
}

/** Result of the expensive, state-independent step (decode + signature check / sender recovery). */
export type Prepared<T> = { ok: true; tx: T; proof: string } | { ok: false; error: string };

/**
 * A virtual machine for one rollup kind. `prepare` is pure and CPU-heavy (runs in workers); `restore`
 * rebuilds a prepared transaction from its payload and the `proof` a worker returned (e.g. the recovered
 * public key) without repeating the signature work; `execute` must read and write state only through
 * the view, so that its outcome is a deterministic function of the values it read.
 */
export interface Vm<T> {
  readonly kind: 'transfer' | 'evm';
  /**
   * Whether workers should execute speculatively (`true`), or only `prepare` while the coordinator
   * executes in order (`false`: for VMs whose execution costs less than shipping read/write sets back).
   */
  readonly speculate: boolean;
  /** Cheap classification for mempool admission (may skip signature verification). */
  classify(payload: Uint8Array): { sender: string; nonce: bigint } | { error: string };
  prepare(payload: Uint8Array): Prepared<T>;
  restore(payload: Uint8Array, proof: string): T;
  /**
   * The proof this VM already holds for these exact payload bytes (an earlier `prepare` or a
   * `noteSender` of this node); the executor passes it to the worker that executes the payload so the
   * signature work is done once per node (ADR 0180). Optional: VMs without one redo it.
   */
  knownProof?(payload: Uint8Array): string | undefined;
  /** The sender this VM already recovered for these exact bytes (evm: 20-byte address), if it has it. */
  knownSender?(payload: Uint8Array): Uint8Array | undefined;
  /** This node's own admission recovered the sender of `payload` (evm: the 64-byte public key). */
  noteSender?(payload: Uint8Array, senderPubKey: Uint8Array): void;
  execute(tx: T, view: StateView, ctx: BlockContext): TxOutcome | Promise<TxOutcome>;
  /** Apply a commutative credit to an encoded account value. */
  applyCredit(value: Bytes | undefined, amount: bigint): Bytes | undefined;
  /** Genesis state entries from the rollup's alloc. */
  genesis(): Map<Bytes, Bytes>;
  /** Account nonce of `sender` (format as returned by classify) in the given state. */
  nonceOf(get: (key: Bytes) => Bytes | undefined, sender: string): bigint;
}
