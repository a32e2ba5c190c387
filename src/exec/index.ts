/**
 * The embedded executor (issue 6): public surface for the node, the adapter layer, the load
 * generator and tests. See docs/executor.md for the design.
 */

export type { BundleOutcome, ExecLeg, PlannedBundle } from './bundles.ts';
export { bundleOutcomes, planExecutionBundles } from './bundles.ts';
export type { AnyVm, VmOptions } from './engine.ts';
export { createVm, executeSequential, isExecuted } from './engine.ts';
export {
  deployCode,
  TOKEN_RUNTIME,
  tokenAirdropData,
  tokenTransferData,
} from './evm/contracts.ts';
export {
  allowNativeSecp256k1,
  ecrecover,
  ecrecoverBackend,
  ecrecoverWith,
  ecsign,
  evmCustomCrypto,
  evmSigningCrypto,
  type RecoverRaw,
  recoverNative,
  recoverWasm,
} from './evm/ecrecover.ts';
export { cacheJumpAnalysis } from './evm/jump-cache.ts';
export { keccakMemo } from './evm/keccak-memo.ts';
export { type Fields1559, parse1559, typedFields } from './evm/lean-1559.ts';
export { signingHash1559 } from './evm/signing-hash.ts';
export { blockCommon, txCommon } from './evm/tx-common.ts';
export {
  DEFAULT_EVM_BASE_FEE,
  DEFAULT_EVM_FEE_RECIPIENT,
  decodeEvmAccount,
  EvmVm,
  encodeEvmAccount,
  evmAccountKey,
  evmStorageKey,
  ViewStateManager,
} from './evm/vm.ts';
export type {
  BlockResults,
  ExecTraceEvent,
  ExecuteBlockOptions,
  Executor,
  ExecutorOptions,
  ExecutorStats,
  ResultsListener,
  SimulateOptions,
} from './executor.ts';
export { createExecutor } from './executor.ts';
export { MemoryKv, memoryKvFactory } from './memory-kv.ts';
export { WorkerPool, type WorkerPoolOptions } from './parallel.ts';
export { decodeReceipt, decodeResult, encodeReceipt, encodeResult, resultsHash } from './receipt.ts';
export {
  bundleVerdict,
  checkSimSize,
  heightUnavailable,
  type LegRun,
  legTxHash,
  type PendingBlock,
  type SimLane,
  type SimResult,
  type SimTx,
  simulateLeg,
} from './simulate.ts';
export type { TransferFields, TransferTx } from './transfer/tx.ts';
export {
  decodeTransfer,
  signTransfer,
  TRANSFER_TX_LEN,
  transferSignBytes,
  transferSigner,
} from './transfer/tx.ts';
export { decodeTransferAccount, TransferVm, transferAccountKey } from './transfer/vm.ts';
export type { BlockContext, ExecStatus, Log, NamespaceResult, Receipt } from './types.ts';
export { TxView } from './view.ts';
