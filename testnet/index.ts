/**
 * The local testnet tooling's public surface, for `ordo testnet` (src/cli/testnet.ts): the
 * orchestrator that lays out, starts, watches and stops a multi-node testnet (orchestrator.ts), the
 * demo rollups it registers (setup.ts) and its state file (state.ts).
 */
export { CONTROL_ACTIONS, type ControlAction, Testnet } from './orchestrator.ts';
export { testnetRollups } from './setup.ts';
export { DEFAULT_DIR, isNodeProcess, pidAlive, readState, removeState, type TestnetState } from './state.ts';
