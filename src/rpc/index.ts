/**
 * The JSON-RPC component's public surface: the HTTP/WebSocket server (server.ts), the `ordo_*`
 * methods it serves (methods.ts), the mapping of typed errors to JSON-RPC errors (errors.ts), the
 * JSON shapes of blocks and certificates (json.ts), the binary batch submission route (tx-batch.ts), and
 * a small client with a timeout (client.ts) for the CLI, the load generator, the testnet tooling and tests.
 */

export {
  BUNDLE_LIMITS,
  type BundleRpcDeps,
  bundleRpcError,
  bundleStatusJson,
  parseBundle,
  registerBundleMethods,
  simulationRetryError,
} from './bundles.ts';
export { RpcCallError, rpcCall } from './client.ts';
export { invalidParams, RPC, RpcError, toRpcError } from './errors.ts';
export { blockJson, certificateJson, evidenceJson, hex, voteJson } from './json.ts';
export { type RpcDeps, registerMethods, statusJson } from './methods.ts';
export {
  BATCH_WINDOW,
  type BinaryHandler,
  type CallContext,
  concurrentInBatch,
  type Handler,
  type HealthReport,
  type Params,
  RpcServer,
  type RpcServerOptions,
} from './server.ts';
export { TX_BATCH_PATH, type TxBatchAnswer, txBatchHandler } from './tx-batch.ts';
