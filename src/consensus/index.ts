/**
 * Public surface of the consensus component for the composition root, the RPC layer, rollup adapters
 * and light clients. Internals (the WAL format, the simulator) are imported from their own modules; the
 * CLI's WAL tools (inspect, repair) are exported here.
 */
export {
  CertificateError,
  type CertificateErrorCode,
  makeCertificate,
  verifyCertificate,
} from './certificate.ts';
export {
  type ConsensusEngineOptions,
  createConsensusEngine,
  Engine,
  type HaltCode,
  loadCommittedState,
} from './engine.ts';
export {
  type ConsensusPersistence,
  type ConsensusWal,
  type CrashOptions,
  filePersistence,
  MemoryDisk,
  type SignGuardStore,
} from './persistence.ts';
export { type Runtime, realRuntime, sleep } from './runtime.ts';
export { type ConsensusSigner, ed25519Signer, ed25519Verify, type VerifyFn } from './signing.ts';
/** The deterministic simulator (virtual time, the production engine), for the scaling benchmark. */
export { type SimConfig, type SimResult, simulate } from './sim/simulation.ts';
export { DEFAULT_TIMEOUTS, type TimeoutConfig } from './state-machine.ts';
export type { EngineHealth } from './storage-halt.ts';
export {
  BlockRepairer,
  createSyncHandler,
  fetchCertifiedBlocks,
  fetchStatus,
  type RepairableStore,
  type RepairOptions,
  type RepairResult,
  repairFromPeers,
  type SyncServerOptions,
} from './sync.ts';
export type {
  BlockSource,
  BuiltBlock,
  CommitListener,
  ConsensusEngine,
  ConsensusHealth,
  ConsensusStatus,
  ProposalVerdict,
  SourceBudget,
  ValidatorSet,
} from './types.ts';
export { indexOfKey, isQuorum, makeValidatorSet, proposerIndex } from './validators.ts';
export {
  inspectWalFile,
  repairWalFile,
  WAL_RECOVERY_HINT,
  type WalErrorCode,
  type WalInspection,
  type WalRecordInfo,
} from './wal.ts';
