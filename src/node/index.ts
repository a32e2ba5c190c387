/**
 * The node component's public surface: `OrdoNode`, the composition root that builds, wires, starts
 * and stops every other component (node.ts), and what the CLI and the testnet tooling need around it:
 * the home directory layout and its creation (home.ts, home-init.ts), key files (keys.ts) and the
 * logger factory (logger.ts).
 */
export { HOME_ENV, type HomePaths, homePaths, resolveHome } from './home.ts';
export { type InitOptions, initHome } from './home-init.ts';
export { KeyError, type KeyErrorCode, type KeyFile, loadKeyFile, ownerHint, writeKeyFile } from './keys.ts';
export {
  createLogger,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type Logger,
  type LogLevel,
  silentLogger,
} from './logger.ts';
export { type NodeOptions, OrdoNode } from './node.ts';
