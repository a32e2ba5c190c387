/**
 * The local testnet tooling's public surface, for `ordo testnet` (src/cli/testnet.ts): the
 * orchestrator that lays out, starts, watches and stops a multi-node testnet (orchestrator.ts), the
 * demo rollups it registers (setup.ts), its state file (state.ts) and the fault matrix (faults.ts).
 */
export { type FaultMatrixReport, matrixCases, runFaultMatrix } from './faults.ts';
export { CONTROL_ACTIONS, type ControlAction, Testnet } from './orchestrator.ts';
export { testnetRollups } from './setup.ts';
export { DEFAULT_DIR, isNodeProcess, pidAlive, readState, removeState, type TestnetState } from './state.ts';
