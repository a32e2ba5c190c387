/**
 * The Ethereum JSON-RPC component's public surface (issue 24): every EVM rollup served at
 * `/evm/<namespace>` on the node's JSON-RPC port (HTTP POST and WebSocket), so viem, ethers and wallets
 * talk to it unmodified. The node builds it with `createEthRpc`, starts it after the executor (it
 * catches its block index up to the executor's head), mounts it on the RPC server, and stops it before
 * the executor. See docs/eth-rpc.md.
 *
 *   executor (results persisted) ─▶ EvmChain (rollup blocks, keccak tx index) ─▶ filters, subscriptions
 *   client ─▶ /evm/<ns> ─▶ RollupRpc methods ─▶ state reads (EvmStateReader)
 *                                          ├─▶ eth_call / eth_estimateGas ─▶ call workers (CallPool, ADR 0205)
 *                                          └─▶ eth_sendRawTransaction ─▶ admission ─▶ ingress (eth_rpc)
 */
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { evmBlockGasLimit } from '../codec/index.ts';
import type { RollupConfig } from '../config/index.ts';
import {
  DEFAULT_EVM_BASE_FEE,
  DEFAULT_EVM_FEE_RECIPIENT,
  evmCustomCrypto,
  type NamespaceResult,
  txCommon,
} from '../exec/index.ts';
import type { BundleSubmitResult, IngressResult } from '../ingress/index.ts';
import type { TxStatus } from '../mempool/index.ts';
import type { Handler } from '../rpc/index.ts';
import { JointBatches, type KvStore } from '../store/index.ts';
import type { Block, Bundle } from '../types.ts';
import { EvmAdmission, type EvmRefusalCode } from './admission.ts';
import type { BundleSimulate } from './call-bundle.ts';
import { CallPool } from './call-pool.ts';
import { DEFAULT_CALL_TIMEOUT_MS } from './call-timeout.ts';
import { EvmChain } from './chain.ts';
import { RollupRpc } from './methods.ts';
import { EvmStateReader } from './state.ts';

export { decodeRaw } from './admission.ts';
export { offloadBundleSimulation, offloadBundleSimulationWhere } from './bundle-sim.ts';
export { PRESIM_WORKER_MIN_GAS, presimulateOnWorkers } from './bundle-sim-presim.ts';
export { type ChainSource, EvmChain, ethBlockHash } from './chain.ts';
export { revertReason } from './state.ts';

export interface EthRpcDeps {
  rollups: readonly RollupConfig[];
  /** The simulation eth_callBundle runs (the node's, capped in gas: ADR 0297); default executor.simulate. */
  bundleSimulate?: BundleSimulate;
  executor: {
    stateGetter(namespace: number): (key: string) => string | undefined;
    getResult(namespace: number, height: number): Promise<NamespaceResult | undefined>;
    head(namespace: number): { height: number };
    subscribe(listener: (height: number, results: Map<number, NamespaceResult>) => void): () => void;
    /** Bundle simulation on the latest executed state (eth_callBundle); optional for test doubles. */
    simulate?: BundleSimulate;
    /** Told each admitted payload's recovered sender key, so execution does not recover it again. */
    noteSender?(namespace: number, payload: Uint8Array, senderPubKey: Uint8Array): void;
    /** The sender of an EVM payload if this node already recovered it (the block index skips a recovery). */
    knownSender?(namespace: number, payload: Uint8Array): Uint8Array | undefined;
    /** A rollup's committed state and its later diffs (the call workers' replicas); optional for doubles. */
    followState?(
      namespace: number,
      listener: (height: number, diff: readonly [string, string | null][]) => void,
    ): { height: number; state: ReadonlyMap<string, string>; stop(): void };
  };
  /**
   * Worker threads per EVM rollup that run eth_call / eth_estimateGas (ADR 0205; config
   * `rpc.ethCallWorkers`); 0 (default here) runs them on the main thread.
   */
  callWorkers?: number;
  /**
   * Wall-clock bound on one eth_call run on a call worker, and on one eth_estimateGas request, ms (ADR
   * 0288; config `rpc.ethCallTimeoutMs`); default 5,000 (geth's `RPCEVMTimeout`), 0 = none.
   */
  callTimeoutMs?: number;
  /** Where `ordo_eth_call_timeouts_total` is registered; absent: not exported. */
  registry?: Registry;
  store: {
    baseHeight(): number;
    getBlock(height: number): Promise<Block | undefined>;
    getBlockHash(height: number): Promise<Uint8Array | undefined>;
    sub(prefix: string, opts?: { sync?: boolean }): KvStore;
  };
  mempool: {
    nextNonce(namespace: number, sender: string): bigint | undefined;
    status(hash: Uint8Array): TxStatus;
    /** Admitted transactions (their spending is reserved until executed). */
    onAdmit?(listener: (tx: { namespace: number; payload: Uint8Array }) => void): void;
  };
  /** The node's ingress, origin `eth_rpc`. */
  ingress: {
    submitTransaction(tx: { namespace: number; payload: Uint8Array }, origin: 'eth_rpc'): IngressResult;
    /** Bundles (eth_sendBundle); optional so a test double may leave it out. */
    submitBundle?(bundle: Bundle, origin: 'eth_rpc'): BundleSubmitResult;
    readonly maxTxBytes: number;
  };
  /**
   * Told, just before a raw transaction enters the ingress, the sender and nonce admission recovered:
   * the node hands them to the mempool's classification of that same payload (one signature recovery
   * instead of two). Optional.
   */
  preclassified?: (payload: Uint8Array, sender: string, nonce: bigint) => void;
  genesisTimeMs: number;
  clientVersion?: string;
  /** Must match the executor's VM options (defaults: 1 gwei, 0x…0fee). */
  baseFeePerGas?: bigint;
  feeRecipient?: string;
  logger?: Logger;
}

/** The RPC path of an EVM rollup. */
export const evmRpcPath = (namespace: number): string => `/evm/${namespace}`;

export interface EthRpc {
  /** Open the block indexes (catching up to the executor) and follow executed heights. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Mount every rollup's method table on the RPC server. */
  mount(server: { mount(path: string, methods: ReadonlyMap<string, Handler>): void }): void;
  /** What is served where (for `ordo status` and the testnet banner). */
  endpoints(): { namespace: number; name: string; chainId: number; path: string }[];
  /** Last indexed rollup block (tests). */
  head(namespace: number): number;
  /**
   * The call workers of an EVM rollup served here (`rpc.ethCallWorkers` > 0), where RPC bundle
   * simulations run their legs (bundle-sim.ts, ADR 0305); undefined for others.
   */
  callPool(namespace: number): CallPool | undefined;
  /**
   * The ingress's per-kind admission hook: Ethereum's checks for raw transactions of the EVM rollups
   * served here, whatever door they came through; undefined for other namespaces or when they pass.
   */
  admission(tx: {
    namespace: number;
    payload: Uint8Array;
  }): { code: EvmRefusalCode; message: string } | undefined;
}

export function createEthRpc(d: EthRpcDeps): EthRpc {
  const log = d.logger?.child({ module: 'eth-rpc' });
  const baseFee = d.baseFeePerGas ?? DEFAULT_EVM_BASE_FEE;
  const feeRecipient = d.feeRecipient ?? DEFAULT_EVM_FEE_RECIPIENT;
  const evm = d.rollups.filter((r) => r.kind === 'evm' && r.evmChainId !== undefined);
  const callTimeoutMs = d.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const timeouts =
    d.registry === undefined
      ? undefined
      : new Counter({
          name: 'ordo_eth_call_timeouts_total',
          help: 'eth_call / eth_estimateGas / eth_callBundle requests answered "execution aborted (timeout = …)" at rpc.ethCallTimeoutMs, by rollup and method',
          labelNames: ['namespace', 'method'],
          registers: [d.registry],
        });
  // The EVM rollups' indexes write each height in one store write (ADR 0344).
  const indexWrites = new JointBatches();
  const served = evm.map((r) => {
    const chainId = BigInt(r.evmChainId!);
    // The executor's recovery (libsecp256k1 in WASM, ADR 0115): admission recovers each sender with it.
    const common = createCustomCommon({ chainId: r.evmChainId! }, Mainnet, {
      hardfork: Hardfork.Prague,
      customCrypto: evmCustomCrypto,
    });
    // Decoding raw transactions (admission, the block index) skips ethereumjs' per-transaction
    // parameter rebuild (ADR 0180); calls keep the plain Common (their own fast path, ADR 0155).
    const decodeCommon = txCommon(common);
    const chain = new EvmChain({
      namespace: r.namespace,
      common: decodeCommon,
      baseFee,
      genesisTimeMs: d.genesisTimeMs,
      kv: indexWrites.view(d.store.sub(`eth/${r.namespace}`, { sync: false })),
      source: {
        getBlock: (h) => d.store.getBlock(h),
        getBlockHash: (h) => d.store.getBlockHash(h),
        getResult: (ns, h) => d.executor.getResult(ns, h),
        executedHeight: (ns) => d.executor.head(ns).height,
        baseHeight: () => d.store.baseHeight(),
        ...(d.executor.knownSender !== undefined
          ? { knownSender: (raw: Uint8Array) => d.executor.knownSender!(r.namespace, raw) }
          : {}),
      },
      ...(log !== undefined ? { logger: log } : {}),
    });
    const blockGasLimit = BigInt(evmBlockGasLimit(r)!);
    const state = new EvmStateReader(d.executor.stateGetter(r.namespace), common, feeRecipient, {
      version: () => d.executor.head(r.namespace).height,
      blockGasLimit,
    });
    const follow = d.executor.followState?.bind(d.executor);
    const pool =
      (d.callWorkers ?? 0) > 0 && follow !== undefined
        ? new CallPool({
            size: d.callWorkers!,
            chainId: r.evmChainId!,
            coinbase: feeRecipient,
            blockGasLimit,
            follow: (listener) => follow(r.namespace, listener),
            head: () => d.executor.head(r.namespace).height,
            timeoutMs: callTimeoutMs,
            fallback: state,
            ...(log !== undefined ? { logger: log } : {}),
          })
        : undefined;
    const maxTxBytes = Math.min(r.maxTxBytes, d.ingress.maxTxBytes);
    const admission = new EvmAdmission({
      common: decodeCommon,
      chainId,
      baseFee,
      maxTxBytes,
      blockGasLimit,
      account: (a) => state.account(a),
      hintSender: (payload, h, from) => chain.hintSender(payload, h, from),
      ...(d.executor.noteSender !== undefined
        ? {
            noteSender: (payload: Uint8Array, pub: Uint8Array) =>
              d.executor.noteSender!(r.namespace, payload, pub),
          }
        : {}),
      ...(d.preclassified !== undefined ? { preclassified: d.preclassified } : {}),
    });
    const rpc = new RollupRpc({
      namespace: r.namespace,
      chainId,
      common,
      baseFee,
      feeRecipient,
      chain,
      state,
      ...(pool !== undefined ? { simulator: pool } : {}),
      callTimeoutMs,
      ...(timeouts !== undefined
        ? { onCallTimeout: (method: string) => timeouts.inc({ namespace: String(r.namespace), method }) }
        : {}),
      mempool: d.mempool,
      admission,
      submit: (payload) => d.ingress.submitTransaction({ namespace: r.namespace, payload }, 'eth_rpc'),
      ...(d.ingress.submitBundle !== undefined
        ? { submitBundle: (b: Bundle) => d.ingress.submitBundle!(b, 'eth_rpc') }
        : {}),
      ...(d.bundleSimulate !== undefined
        ? { simulateBundle: d.bundleSimulate }
        : d.executor.simulate !== undefined
          ? { simulateBundle: d.executor.simulate.bind(d.executor) as BundleSimulate }
          : {}),
      maxTxBytes,
      blockGasLimit,
      clientVersion: d.clientVersion ?? `ordo/v0.1.0/node-${process.version}`,
      ...(log !== undefined ? { logger: log } : {}),
    });
    return { rollup: r, chain, rpc, admission, pool };
  });
  const byNamespace = new Map(served.map((s) => [s.rollup.namespace, s]));
  d.mempool.onAdmit?.((tx) => byNamespace.get(tx.namespace)?.admission.admitted(tx.payload));
  let unsubscribe: (() => void) | undefined;

  return {
    async start() {
      for (const s of served) await s.chain.open();
      for (const s of served) await s.pool?.start();
      unsubscribe = d.executor.subscribe((height, results) => {
        for (const s of served) if (results.has(s.rollup.namespace)) s.chain.advance(height);
      });
      log?.info({ rollups: served.map((s) => evmRpcPath(s.rollup.namespace)) }, 'ethereum rpc ready');
    },
    async stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      for (const s of served) {
        s.rpc.close();
        await s.pool?.stop();
        await s.chain.stop();
      }
    },
    mount(server) {
      for (const s of served) server.mount(evmRpcPath(s.rollup.namespace), s.rpc.methods());
    },
    endpoints: () =>
      served.map((s) => ({
        namespace: s.rollup.namespace,
        name: s.rollup.name,
        chainId: s.rollup.evmChainId!,
        path: evmRpcPath(s.rollup.namespace),
      })),
    head(namespace) {
      return byNamespace.get(namespace)?.chain.head() ?? 0;
    },
    callPool(namespace) {
      return byNamespace.get(namespace)?.pool;
    },
    admission(tx) {
      return byNamespace.get(tx.namespace)?.admission.ingressCheck(tx.payload);
    },
  };
}
