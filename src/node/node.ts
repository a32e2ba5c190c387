/**
 * The composition root: the one place that builds every component from config, genesis and keys,
 * wires them together, starts them in dependency order and stops them in reverse.
 *
 *   store → executor → mempool → bundle pool → network (p2p bound) → tx and bundle gossip → ingress → adapter (gRPC bound) →
 *   JSON-RPC (bound) → consensus
 *
 * Every listener is bound before consensus starts, so an address in use stops start-up at once with an
 * error naming the flag or config key (src/node/listen-errors.ts), before this node signs anything.
 *
 * Data flow: JSON-RPC / gRPC / in-process adapter → ingress (check, admit, gossip) → mempool (lanes);
 * peers' gossip → mempool → consensus reaps a fair selection, agrees, writes the block atomically →
 * commit listeners here update the mempool, run the executor (pre-confirmation), tell the submission
 * tracker, notify adapter streams and WebSocket subscribers.
 */
import { mkdirSync } from 'node:fs';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import type { AuctionReadView } from '../auction/index.ts';
import { createBlockBuilder, executorResults } from '../builder/index.ts';
import { blockHash, bundleEvmGas, txHash } from '../codec/index.ts';
import type { Genesis } from '../config/index.ts';
import {
  checkConfigAgainstGenesis,
  loadConfig,
  loadGenesis,
  type NodeConfig,
  parseHostPort,
  validatorSetOf,
} from '../config/index.ts';
import {
  BlockRepairer,
  createConsensusEngine,
  type Engine,
  indexOfKey,
  proposerIndex,
} from '../consensus/index.ts';
import { Ed25519Signer, toHex } from '../crypto/index.ts';
import { OrdoError } from '../errors.ts';
import {
  createEthRpc,
  type EthRpc,
  offloadBundleSimulation,
  offloadBundleSimulationWhere,
  PRESIM_WORKER_MIN_GAS,
  presimulateOnWorkers,
} from '../eth-rpc/index.ts';
import {
  createExecutor,
  decodeTransferAccount,
  type Executor,
  ecrecoverBackend,
  encodeReceipt,
  transferAccountKey,
} from '../exec/index.ts';
import { createIngress, createSubmissionTracker, type Ingress } from '../ingress/index.ts';
import {
  type BundlePool,
  type BundleStatusSink,
  type BundleStatusView,
  createBundlePool,
  createMempool,
  INCLUDED_MEMORY_HEIGHTS,
  type LaneMempool,
  readIncluded,
  recordSpans,
  rollupTxHasher,
} from '../mempool/index.ts';
import {
  BundleGossip,
  createLibp2pNetwork,
  loadOrCreateIdentity,
  type Network,
  TxGossip,
} from '../p2p/index.ts';
import type { AdapterSource } from '../rollup-adapter/index.ts';
import { type RpcDeps, RpcServer, registerMethods } from '../rpc/index.ts';
import type { BlockStore } from '../store/index.ts';
import { openStore } from '../store/index.ts';
import type { Block, Bundle, CommitCertificate } from '../types.ts';
import { adapterStreamLimits } from './adapter-limits.ts';
import { createNodeAuction, type NodeAuction } from './auction.ts';
import { cappedSimulate } from './capped-simulator.ts';
import { HealthMonitor } from './health.ts';
import { homePaths } from './home.ts';
import { loadKeyFile } from './keys.ts';
import { bindListener } from './listen-errors.ts';
import { createLogger } from './logger.ts';
import { createNodeMetrics, type NodeMetrics } from './metrics.ts';
import { Preconfirmer } from './preconf.ts';
import { RecentlyDecided } from './recent-txs.ts';
import { checkStore, repairAtStart } from './store-check.ts';

export interface NodeOptions {
  home: string;
  /** Overrides config.rpc.listen (e.g. from `ordo start --rpc`). */
  rpcListen?: string;
  /** Overrides config.grpc.listen (`ordo start --grpc`); null turns the adapter off. */
  grpcListen?: string | null;
  /** Overrides config.p2p.listen (`ordo start --p2p`). */
  p2pListen?: string;
  /** Override config.log.level / config.log.format (`ordo start --log-level / --log-format`). */
  logLevel?: NodeConfig['log']['level'];
  logFormat?: NodeConfig['log']['format'];
  logger?: Logger;
  /** Enable `ordo_admin_*` RPC methods (local testnets only). */
  adminRpc?: boolean;
  /** Called when a component cannot continue (e.g. a block could not be stored); the CLI exits. */
  onFatal?: (err: unknown) => void;
}

interface Stoppable {
  name: string;
  stop: () => Promise<void> | void;
}

export class OrdoNode {
  readonly home: string;
  readonly config: NodeConfig;
  readonly genesis: Genesis;
  readonly log: Logger;
  readonly metrics: NodeMetrics;
  #opts: NodeOptions;
  #rootLog: Logger;
  #started: Stoppable[] = [];
  #store: BlockStore | undefined;
  #mempool: LaneMempool | undefined;
  #bundlePool: BundlePool | undefined;
  #executor: Executor | undefined;
  #preconf: Preconfirmer | undefined;
  /** Bundle statuses (the bundle pool's tracker, wired with the pool); executed/certified go here. */
  #bundleSink: BundleStatusSink | undefined;
  #consensus: Engine | undefined;
  #rpc: RpcServer | undefined;
  #ingress: Ingress | undefined;
  #ethRpc: EthRpc | undefined;
  /** The MEV auction (issue #23); undefined when genesis does not enable it. */
  #auction: NodeAuction | undefined;
  #headListeners = new Set<(height: number) => void>();
  /** Highest height executed and pre-confirmed (rule 6: adapters hand out executed heights only). */
  #executedHeight = 0;
  #execListeners = new Set<(height: number) => void>();
  #execChain: Promise<void> = Promise.resolve();
  /** When each height's execution was scheduled (its store commit), for the height timeline. */
  readonly #execScheduled = new Map<number, number>();
  #blockedPeers = new Set<string>();
  #peerId = '';
  #adapterPort = 0;
  /** The first fatal error reported by a component (shown by /health until the process exits). */
  #fatal: string | undefined;

  private constructor(opts: NodeOptions, config: NodeConfig, genesis: Genesis, log: Logger) {
    this.#opts = opts;
    this.#rootLog = log;
    this.home = opts.home;
    this.config = config;
    this.genesis = genesis;
    this.log = log.child({ module: 'node' });
    this.metrics = createNodeMetrics();
  }

  /** Load and validate config, genesis and keys; nothing is started yet. */
  static load(opts: NodeOptions): OrdoNode {
    const p = homePaths(opts.home);
    const config = loadConfig(p.config);
    if (opts.rpcListen !== undefined) config.rpc.listen = opts.rpcListen;
    if (opts.grpcListen !== undefined) config.grpc.listen = opts.grpcListen;
    if (opts.p2pListen !== undefined) config.p2p.listen = opts.p2pListen;
    if (opts.logLevel !== undefined) config.log.level = opts.logLevel;
    if (opts.logFormat !== undefined) config.log.format = opts.logFormat;
    const genesis = loadGenesis(p.genesis);
    checkConfigAgainstGenesis(config, genesis, p.config);
    const log =
      opts.logger ?? createLogger(config.log.level, { node: config.node.moniker }, config.log.format);
    return new OrdoNode(opts, config, genesis, log);
  }

  get rpcUrl(): string {
    const { host } = parseHostPort(this.config.rpc.listen);
    return `http://${host}:${this.#rpc?.port ?? 0}`;
  }

  get grpcAddress(): string | null {
    if (this.config.grpc.listen === null) return null;
    return `${parseHostPort(this.config.grpc.listen).host}:${this.#adapterPort}`;
  }

  /** Ethereum JSON-RPC endpoints of the EVM rollups (issue 24). */
  get ethRpcUrls(): { namespace: number; name: string; chainId: number; url: string }[] {
    return (this.#ethRpc?.endpoints() ?? []).map((e) => ({
      namespace: e.namespace,
      name: e.name,
      chainId: e.chainId,
      url: `${this.rpcUrl}${e.path}`,
    }));
  }

  get peerId(): string {
    return this.#peerId;
  }

  /**
   * The bundle pool's status side (issue #22): entry points read and subscribe through the view; the
   * executor side reports executions, pre-confirmations and certified heights through the sink.
   * Undefined before start. The proposer's simulation hook is set with `bundlePool.setSimulator(hook)`.
   */
  get bundleStatus(): (BundleStatusView & BundleStatusSink) | undefined {
    return this.#bundlePool;
  }

  /** The one door in (undefined before start): in-process submissions of transactions and bundles. */
  get ingress(): Ingress | undefined {
    return this.#ingress;
  }

  /** The bundle pool itself (undefined before start). */
  get bundlePool(): BundlePool | undefined {
    return this.#bundlePool;
  }

  /** The auction's read side (RPC, dashboard); undefined when genesis does not enable the auction. */
  get auction(): AuctionReadView | undefined {
    return this.#auction?.book;
  }

  get height(): number {
    return this.#store?.height() ?? 0;
  }

  async start(): Promise<void> {
    try {
      await this.#start();
    } catch (err) {
      await this.stop().catch(() => {});
      throw err;
    }
  }

  async #start(): Promise<void> {
    const p = homePaths(this.home);
    const { config, genesis, log } = this;
    const root = this.#rootLog;
    const registry = this.metrics.registry;
    const child = (module: string) => root.child({ module });
    // Start-up phases in ms, logged with "node started": what a restarted node spends its time on.
    const phases: Record<string, number> = { beforeStart: Math.round(process.uptime() * 1000) };
    let phaseAt = performance.now();
    const phase = (name: string): void => {
      const now = performance.now();
      phases[name] = Math.round(now - phaseAt);
      phaseAt = now;
    };

    // Keys first: a bad key stops start-up before anything is opened.
    const isValidator = config.node.mode === 'validator';
    const signer = isValidator ? loadKeyFile(p.validatorKey) : null;
    const validators = validatorSetOf(genesis);
    if (signer !== null && indexOfKey(validators, signer.publicKey) < 0) {
      throw new OrdoError(
        'NOT_A_VALIDATOR',
        `the key in ${p.validatorKey} (public key ${toHex(signer.publicKey)}) is not in the genesis validator set; set node.mode to "full" to follow the chain without voting`,
      );
    }
    const myIndex = signer === null ? -1 : indexOfKey(validators, signer.publicKey);
    mkdirSync(p.walDir, { recursive: true });

    // 1. store
    const store = await openStore({
      path: p.db,
      engine: config.store.engine,
      sync: config.store.sync,
      logger: root,
      registry,
    });
    this.#store = store;
    this.#started.push({ name: 'store', stop: () => store.close() });
    const storeReport = await checkStore(store, this.home, child('store'), {
      allowRepair: config.store.repairFromPeers && config.p2p.bootstrap.length > 0,
    });
    phase('store');

    // 2. executor
    const executor = createExecutor({
      rollups: genesis.rollups,
      kv: (ns) => store.sub(`exec/${ns}`, { sync: false }),
      logger: child('exec'),
      registry,
      // The height timeline: when this node executed each block and ran each simulation (ADR 0307).
      onTrace: (e) => {
        if (e.kind === 'execute') {
          const committedMs = this.#execScheduled.get(e.height) ?? e.queuedMs;
          this.#execScheduled.delete(e.height);
          this.#consensus?.traceExecution(e.height, committedMs, e.queuedMs, e.startMs, e.endMs);
        } else this.#consensus?.traceSimulation(e.startMs, e.endMs - e.startMs);
      },
    });
    await executor.start();
    this.#executor = executor;
    this.#started.push({ name: 'executor', stop: () => executor.stop() });
    phase('executor');
    const executed = new Set(executor.executedNamespaces());
    // 2a. auction (issue #23): the book and the builder's auction source; gates execution (src/node/auction.ts).
    const auction = await createNodeAuction({
      genesis,
      store,
      executor,
      executedHeight: () => this.#executedHeight,
      onExecuted: (l) => {
        this.#execListeners.add(l);
        return () => this.#execListeners.delete(l);
      },
      logger: root,
      registry,
      onFatal: (err) => {
        this.#fatal ??= err instanceof Error ? err.message : String(err);
        this.#opts.onFatal?.(err);
      },
    });
    this.#auction = auction;
    if (auction !== undefined) this.#started.push({ name: 'auction', stop: () => auction.stop() });
    phase('auction');
    // The auction lane is a mempool/ingress lane only: the executor, bundle pool and adapter never see it.
    const laneRollups = auction === undefined ? genesis.rollups : [...genesis.rollups, auction.lane];
    // 2b. pre-confirmations: signed after each executed block, before the executor resolves it.
    const preconf = new Preconfirmer({
      chainId: genesis.chainId,
      signer: signer ?? undefined,
      sink: () => this.#bundleSink,
      logger: child('preconf'),
      registry,
    });
    this.#preconf = preconf;
    const heads = executor.executedNamespaces().map((ns) => executor.head(ns).height);
    this.#executedHeight = heads.length === 0 ? 0 : Math.min(...heads);
    executor.subscribe((h, results, bundles) => {
      preconf.executed(h, results, bundles);
      this.#executedHeight = Math.max(this.#executedHeight, h);
      for (const l of this.#execListeners) {
        try {
          l(h);
        } catch (err) {
          this.log.warn({ err }, 'execution listener failed');
        }
      }
    });

    // 3. mempool. A raw Ethereum transaction arrives already classified by the Ethereum RPC's admission
    // (sender recovered): that answer is used once for the very same payload, synchronously next.
    let preclassified: { payload: Uint8Array; sender: string; nonce: bigint } | undefined;
    const mempool = createMempool({
      rollups: laneRollups,
      limits: {
        maxTotalTxs: config.mempool.maxTotalTxs,
        maxTotalBytes: config.mempool.maxTotalBytes,
        ttlMs: config.mempool.ttlMs,
        highWaterFraction: config.mempool.highWaterFraction,
        maxBacklogSeconds: config.mempool.maxBacklogSeconds,
        minBacklogTxs: config.mempool.minBacklogTxs,
      },
      classify: (tx) => {
        const pre = preclassified;
        preclassified = undefined;
        if (pre !== undefined && pre.payload === tx.payload) return { sender: pre.sender, nonce: pre.nonce };
        return executed.has(tx.namespace) ? executor.classify(tx.namespace, tx.payload) : undefined;
      },
      accountNonce: (ns, sender) => executor.accountNonce(ns, sender),
      logger: root,
      registry,
    });
    this.#mempool = mempool;

    // 3b. bundle pool: bundles wait here whole until a proposer places them (docs/bundles.md).
    // The proposer leaves out bundles that would not apply on the latest executed state (rule 4). A
    // simulation that fails for another reason does not hold a bundle back: execution decides.
    const poolSimulate = (b: Bundle) =>
      executor.simulate(b).catch((err: unknown) => {
        this.log.debug({ err }, 'bundle simulation failed; candidate kept');
        return { applies: true };
      });
    const bundlePool = createBundlePool({
      chainId: genesis.chainId,
      rollups: genesis.rollups,
      height: () => store.height(),
      rollupTxHash: rollupTxHasher(genesis.rollups),
      // Through the executor's prepared-transaction cache: simulation and execution reuse the work.
      checkPayload: (ns, payload) => (executed.has(ns) ? executor.checkPayload(ns, payload) : undefined),
      txCommitted: (hash) => mempool.status(hash).status === 'committed',
      simulate: poolSimulate,
      limits: config.bundles,
      logger: root,
      registry,
    });
    this.#bundlePool = bundlePool;
    this.#bundleSink = bundlePool;
    phase('pools');

    // 4. network
    const identity = await loadOrCreateIdentity(p.p2pKey);
    this.#peerId = peerIdFromPrivateKey(identity).toString();
    // A full node pre-confirms with its p2p identity key (ed25519; raw = seed || public key).
    if (signer === null && identity.type === 'Ed25519')
      preconf.signer = new Ed25519Signer(identity.raw.subarray(0, 32));
    const network = await createLibp2pNetwork({
      chainId: genesis.chainId,
      listen: config.p2p.listen,
      bootstrap: config.p2p.bootstrap,
      announce: config.p2p.announce,
      identityKeyPath: p.p2pKey,
      limits: {
        maxGossipBytes: { consensus: config.p2p.maxGossipMessageBytes },
        maxConnections: config.p2p.maxConnections,
        requestTimeoutMs: config.p2p.requestTimeoutMs,
        gossipPerPeerPerSecond: config.p2p.gossipPerPeerPerSecond,
        requestsPerPeerPerSecond: config.p2p.requestsPerPeerPerSecond,
        duplicatesPerPeerPerSecond: config.p2p.duplicatesPerPeerPerSecond,
        dedupeWindowMs: config.p2p.dedupeWindowMs,
        newIdentitiesPerAddressPerMinute: config.p2p.newIdentitiesPerAddressPerMinute,
      },
      forwardDelayMs: config.p2p.gossipForwardDelayMs,
      topicForwardDelayMs: { txs: config.p2p.txGossipForwardDelayMs },
      logger: root,
      registry,
    });
    await bindListener(
      { what: 'p2p', address: config.p2p.listen, change: `--p2p MULTIADDR or p2p.listen in ${p.config}` },
      () => network.start(),
    );
    this.#started.push({ name: 'network', stop: () => network.stop() });
    phase('network');
    // 4a. a damaged store (checkStore) is repaired from peers before anything reads it; then damage
    // found while running is re-fetched in the background (ADR 0145).
    if (!storeReport.ok) {
      await repairAtStart(storeReport, {
        store,
        net: network,
        chainId: genesis.chainId,
        validators,
        home: this.home,
        log: child('store'),
        requestTimeoutMs: config.p2p.requestTimeoutMs,
      });
    }
    // Now that every stored block is there (a damaged store was repaired above): the bundles of the
    // store's last blocks count as included here as on the nodes that saw them commit, so a restarted
    // node refuses and never places them (ADR 0250); the auction book re-applies what the store holds
    // beyond it (ADR 0215).
    // From each height's span record, a stored block only where a height has none (ADR 0276).
    const restored = await readIncluded(store, INCLUDED_MEMORY_HEIGHTS);
    for (const r of restored.included) bundlePool.restoreIncludedHashes(r.height, r.hashes);
    if (restored.blockReads > 0)
      this.log.debug(
        { blockReads: restored.blockReads },
        'bundle inclusion restored partly from stored blocks',
      );
    auction?.replayStored();
    if (config.store.repairFromPeers) {
      const repairer = new BlockRepairer({
        net: network,
        store,
        chainId: genesis.chainId,
        validators,
        timeoutMs: config.p2p.requestTimeoutMs,
        log: (level, msg, data) => this.log[level](data, msg),
      });
      store.onDamage = (h) => repairer.report(h);
      this.#started.push({ name: 'store-repair', stop: () => repairer.stop() });
    }
    this.#replayExecution(store, executor);
    phase('repair');

    // 5. transaction gossip: RPC-admitted txs go out in batches; received batches go through admission.
    const gossip = new TxGossip({
      network,
      admit: (tx) => auction?.gossipCheck(tx) ?? mempool.add(tx, 'gossip'),
      maxTxs: config.p2p.txBatchMaxTxs,
      maxBytes: config.p2p.txBatchMaxBytes,
      flushMs: config.p2p.txBatchFlushMs,
      logger: root,
      registry,
    });
    this.#started.push({ name: 'tx-gossip', stop: () => gossip.stop() });
    const bundleGossip = new BundleGossip({
      network,
      admit: (b) => bundlePool.admit(b, 'gossip'),
      cancel: (req) => bundlePool.cancel(req, 'gossip'),
      logger: root,
    });
    this.#started.push({ name: 'bundle-gossip', stop: () => bundleGossip.stop() });

    // 5b. ingress: the one door for JSON-RPC, gRPC and in-process submissions (check, admit, gossip).
    const submissions = createSubmissionTracker({ registry });
    const ingress = createIngress({
      rollups: laneRollups,
      mempool,
      gossip,
      bundles: bundlePool,
      bundleGossip,
      submissions,
      // Ethereum admission for raw transactions of EVM rollups, whatever the door (bound below).
      // Auction transactions: decode + the book's check (windows, commits, nonces, funds).
      // A committed auction transaction sent again, which the auction state refuses as applied (its
      // nonce used, its commit included), goes on to the mempool, which answers ALREADY_COMMITTED with
      // its hash like for any transaction.
      admission: (tx) => {
        const refused = auction?.admission(tx);
        if (refused === undefined) return this.#ethRpc?.admission(tx);
        return mempool.status(txHash(tx)).status === 'committed' ? undefined : refused;
      },
      registry,
      logger: root,
    });
    ingress.start();
    this.#ingress = ingress;
    this.#started.push({ name: 'ingress', stop: () => ingress.stop() });

    // 6. consensus
    const decided = new RecentlyDecided();
    const consensus = await createConsensusEngine({
      chainId: genesis.chainId,
      validators,
      signer,
      network,
      store,
      source: createBlockBuilder({
        rollups: genesis.rollups,
        // The auction lane: at most auction.lane.maxTxsPerBlock per block, reveals first.
        mempool:
          auction === undefined
            ? mempool
            : {
                reap: (l) =>
                  auction.capReap(mempool.reap(l), (tx, why) => mempool.invalidate(txHash(tx), why)),
                stats: () => mempool.stats(),
                get: (h) => mempool.get(h),
              },
        ...(auction !== undefined ? { auction: auction.source } : {}),
        bundles: bundlePool,
        results: executorResults(executor),
        // A refusal that ends after the height was decided here is counted `stale` (ADR 0250).
        decidedHeight: () => bundlePool.committedHeight(),
        registry,
      }),
      genesisTimeMs: genesis.genesisTimeMs,
      dataDir: p.walDir,
      timeouts: {
        proposeMs: config.consensus.timeoutProposeMs,
        prevoteMs: config.consensus.timeoutVoteMs,
        precommitMs: config.consensus.timeoutVoteMs,
        deltaMs: config.consensus.timeoutDeltaMs,
        emptyBlockWaitMs: config.consensus.heartbeatMs,
      },
      maxBlockBytes: config.consensus.maxBlockBytes,
      maxBlockTxs: config.consensus.maxBlockTxs,
      compactProposals: config.consensus.compactProposals,
      // Transactions received by gossip, not admitted yet: a compact rebuild takes them (ADR 0346).
      receivedTxs: (hashes) => gossip.queuedTxs(hashes),
      watchLoop: true,
      busyBlockIntervalMs: config.consensus.busyBlockIntervalMs,
      busyBlockTxs: config.consensus.busyBlockTxs,
      minBlockIntervalMs: config.consensus.minBlockIntervalMs,
      minBlockPeriodMs: config.consensus.minBlockPeriodMs,
      // Before the next height is proposed: its transactions leave the pool (status: committed).
      onDecided: (block) => {
        decided.add(block);
        // The auction book applies h now, not after the block's fsync: slot h + 1 resolves (and its
        // proposal is built) while the store writes h (ADR 0215). onCommit below repeats it for synced blocks.
        auction?.committed(block);
        mempool.update(block.header.height, block.txs);
        bundlePool.onCommit(block);
        // The block's bundle hashes, in its commit batch: what the next start reads (ADR 0276).
        void recordSpans(store, block, INCLUDED_MEMORY_HEIGHTS).catch((err: unknown) => {
          this.log.debug({ err, height: block.header.height }, 'bundle span record not written');
        });
        // The next height's proposer simulates its bundle candidates while it waits out the block
        // interval, not inside the build the validators wait for (ADR 0200).
        const next = block.header.height + 1;
        if (myIndex >= 0 && proposerIndex(validators, next, 0) === myIndex)
          void bundlePool.presimulate(next).catch((err: unknown) => {
            this.log.debug({ err }, 'bundle presimulation failed');
          });
      },
      beforePropose: () => gossip.flush(),
      // Peers rebuilding a compact proposal: pending transactions, or ones decided a moment ago.
      txLookup: async (hashes: Uint8Array[]) =>
        hashes
          .map((h) => mempool.get(h) ?? bundlePool.tx(h) ?? decided.find(h))
          .filter((t) => t !== undefined),
      logger: child('consensus'),
      registry,
      onFatal: (err) => {
        this.log.fatal({ err }, 'consensus halted: the node cannot continue safely');
        this.#fatal ??= err instanceof Error ? err.message : String(err);
        this.#opts.onFatal?.(err);
      },
    });
    this.#consensus = consensus;
    consensus.onCommit((block, cert) => {
      // Before execution is scheduled: the book applies h (already did when decided here; a no-op
      // then), then the gate lets the executor run h.
      auction?.committed(block);
      submissions.committed(block.txs);
      // The same block as onDecided's: the pool redoes only what bundles admitted since could change
      // (ADR 0349); a block that reaches only this listener is processed in full.
      bundlePool.onCommit(block);
      this.#onCommit(block, cert);
    });

    // 6b. Ethereum JSON-RPC of the EVM rollups: a block index that follows the executor.
    // What RPC clients may simulate: the executor's simulation, capped in gas (ADR 0297), with its EVM
    // legs on the rollups' call workers (ADR 0305; the pools exist once ethRpc is built, below).
    const evmNs = new Set(genesis.rollups.filter((r) => r.kind === 'evm').map((r) => r.namespace));
    const bundleSimsTotal = new Counter({
      name: 'ordo_rpc_bundle_simulations_total',
      help: 'ordo_callBundle / eth_callBundle simulations run, by thread: worker (EVM legs on call workers) or main',
      labelNames: ['thread'],
      registers: [registry],
    });
    const bundleSimTimeouts = new Counter({
      name: 'ordo_rpc_bundle_simulation_timeouts_total',
      help: 'ordo_callBundle / eth_callBundle simulations answered "execution aborted (timeout = …)": a leg ran past rpc.ethCallTimeoutMs on a call worker',
      registers: [registry],
    });
    const rpcSimulate = cappedSimulate(
      offloadBundleSimulation({
        simulate: executor.simulate.bind(executor),
        rollups: new Map(
          genesis.rollups.filter((r) => executed.has(r.namespace)).map((r) => [r.namespace, r]),
        ),
        head: (ns) => executor.head(ns),
        pool: (ns) => this.#ethRpc?.callPool(ns),
        onRun: (thread) => bundleSimsTotal.inc({ thread }),
        onTimeout: () => bundleSimTimeouts.inc(),
      }),
      {
        maxGas: config.bundles.maxSimulationGasPerBlock,
        gasPerSec: config.rpc.bundleSimulationGasPerSec,
        isEvm: (ns) => evmNs.has(ns),
      },
    );
    // The next proposer's presimulation sends heavy bundles' EVM legs to the call workers too (ADR 0313).
    // Where call workers run, a heavy bundle is simulated there only: never by `select`, never as a
    // main-thread fallback (ADR 0332); it waits for the next presimulation instead.
    const workersOnly = config.rpc.ethCallWorkers > 0;
    bundlePool.setPresimulator(
      presimulateOnWorkers({
        offload: offloadBundleSimulationWhere({
          simulate: executor.simulate.bind(executor),
          rollups: new Map(
            genesis.rollups.filter((r) => executed.has(r.namespace)).map((r) => [r.namespace, r]),
          ),
          head: (ns) => executor.head(ns),
          pool: (ns) => this.#ethRpc?.callPool(ns),
          mainFallback: !workersOnly,
        }),
        main: poolSimulate,
        gas: (b) => bundleEvmGas(b.legs, (ns) => evmNs.has(ns)),
        minGas: PRESIM_WORKER_MIN_GAS,
      }),
      workersOnly ? { onlyFromGas: PRESIM_WORKER_MIN_GAS } : {},
    );
    const ethRpc = createEthRpc({
      rollups: genesis.rollups,
      executor,
      bundleSimulate: rpcSimulate,
      store,
      mempool,
      ingress,
      preclassified: (payload, sender, nonce) => {
        preclassified = { payload, sender, nonce };
      },
      genesisTimeMs: genesis.genesisTimeMs,
      callWorkers: config.rpc.ethCallWorkers,
      callTimeoutMs: config.rpc.ethCallTimeoutMs,
      registry,
      logger: root,
    });
    await ethRpc.start();
    this.#ethRpc = ethRpc;
    this.#started.push({ name: 'eth-rpc', stop: () => ethRpc.stop() });
    phase('consensusAndEthRpc');

    // 7. rollup adapter (gRPC): bound now, before consensus starts
    if (config.grpc.listen !== null) {
      const { startAdapterServer } = await import('../rollup-adapter/index.ts');
      const { host, port } = parseHostPort(config.grpc.listen);
      const server = await bindListener(
        {
          what: 'gRPC (rollup adapter)',
          address: config.grpc.listen,
          change: `--grpc HOST:PORT or grpc.listen in ${p.config} (null turns it off)`,
        },
        () =>
          startAdapterServer({
            source: this.adapterSource(),
            host,
            port,
            limits: adapterStreamLimits(config.grpc),
            logger: root,
            registry,
          }),
      );
      this.#adapterPort = server.port;
      this.#started.push({ name: 'adapter', stop: () => server.close() });
    }

    // 8. JSON-RPC: bound before consensus starts
    const { host, port } = parseHostPort(config.rpc.listen);
    const health = new HealthMonitor({
      height: () => store.height(),
      peers: () => network.peers().length,
      engine: () => consensus.health(),
      ...(auction !== undefined ? { components: () => ({ auction: auction.book.writeHealth() }) } : {}),
      fatal: () => this.#fatal,
      validators: validators.validators.length,
      isValidator: signer !== null,
      maxBlockAgeMs: config.health.maxBlockAgeMs,
      readyMaxBlockAgeMs: config.health.readyMaxBlockAgeMs,
    });
    this.onCommit((h) => health.observe(h));
    const { listen: _listen, ...rpcLimits } = config.rpc;
    const rpc = new RpcServer({
      host,
      port,
      ...rpcLimits,
      registry,
      logger: child('rpc'),
      health: { live: () => health.live(), ready: () => health.ready() },
    });
    const rpcDeps: RpcDeps = {
      genesis,
      nodeId: this.#peerId,
      moniker: config.node.moniker,
      mempool,
      store,
      consensus,
      peers: () => network.peers(),
      ingress,
      bundles: bundlePool,
      bundleSimulator: { simulate: rpcSimulate },
      transferAccount: (ns, publicKey) => {
        if (genesis.rollups.find((r) => r.namespace === ns)?.kind !== 'transfer') return undefined;
        const a = decodeTransferAccount(executor.stateGetter(ns)(transferAccountKey(publicKey)));
        return { ...a, height: executor.head(ns).height };
      },
      maxSubmitBatch: config.rpc.maxBatchRequests,
      onCommit: (l) => this.onCommit(l),
      ...(auction !== undefined ? { auction: auction.book } : {}),
    };
    registerMethods(rpc, rpcDeps);
    ethRpc.mount(rpc);
    if (this.#opts.adminRpc === true) this.#registerAdmin(rpc, network);
    this.#rpc = rpc;
    await bindListener(
      {
        what: 'JSON-RPC',
        address: config.rpc.listen,
        change: `--rpc HOST:PORT or rpc.listen in ${p.config}`,
      },
      () => rpc.start(),
    );
    this.#started.push({ name: 'rpc', stop: () => rpc.stop() });
    phase('listeners');

    // 9. consensus last: every listener is bound, so a bad address never leaves a half-started validator
    await consensus.start();
    this.#started.push({ name: 'consensus', stop: () => consensus.stop() });
    phase('consensusStart');

    log.info(
      {
        chainId: genesis.chainId,
        height: store.height(),
        peerId: this.#peerId,
        rpc: this.rpcUrl,
        grpc: this.grpcAddress,
        ethRpc: this.ethRpcUrls.map((e) => e.url),
        validator: signer !== null,
        // libsecp256k1 build recovering EVM senders: 'native' (prebuilt addon) or 'wasm' (ADR 0235).
        secp256k1: ecrecoverBackend(),
        startupMs: phases,
        // CPU the whole process (workers included) spent until now: start-up cost on a loaded machine.
        startupCpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
      },
      'node started',
    );
  }

  /** Stop every started component in reverse order; safe to call more than once. */
  async stop(): Promise<void> {
    while (this.#started.length > 0) {
      const c = this.#started.pop()!;
      try {
        await c.stop();
      } catch (err) {
        this.log.warn({ err, component: c.name }, 'component failed to stop cleanly');
      }
    }
    await this.#execChain.catch(() => {});
  }

  /** Where bundle execution, pre-confirmations and certification are reported (the bundle pool). */
  setBundleStatusSink(sink: BundleStatusSink | undefined): void {
    this.#bundleSink = sink;
  }

  /** Subscribe to committed heights. */
  onCommit(listener: (height: number) => void): () => void {
    this.#headListeners.add(listener);
    return () => this.#headListeners.delete(listener);
  }

  #onCommit(block: Block, _cert: CommitCertificate): void {
    const height = block.header.height;
    this.metrics.blockTxs.observe(block.txs.length);
    this.log.info({ height, txs: block.txs.length, round: block.header.round }, 'committed block');
    this.#scheduleExecution(block);
    for (const l of this.#headListeners) {
      try {
        l(height);
      } catch (err) {
        this.log.warn({ err }, 'commit listener failed');
      }
    }
  }

  /**
   * After a crash the executor can be behind the store (blocks are committed before they are
   * executed). Re-execute the missing heights from the store, in order, before any new block.
   */
  #replayExecution(store: BlockStore, executor: Executor): void {
    const namespaces = executor.executedNamespaces();
    if (namespaces.length === 0) return;
    const from = Math.min(...namespaces.map((ns) => executor.head(ns).height)) + 1;
    const to = store.height();
    if (from > to) return;
    this.log.info({ from, to }, 'replaying execution of committed blocks');
    this.#execChain = this.#execChain
      .then(async () => {
        let last = Date.now();
        for (let h = from; h <= to; h++) {
          const block = await store.getBlock(h);
          if (block === undefined)
            throw new OrdoError('EXEC_REPLAY_MISSING_BLOCK', `block ${h} is missing from the store`);
          this.#preconf?.committed(h, blockHash(block));
          this.#preconf?.certify(h - 2, block.header.resultsHash);
          await this.#auction?.gate(h);
          await executor.executeBlock(h, this.#txsByNamespace(block, namespaces), {
            timeMs: block.header.timeMs,
            spans: block.bundles,
          });
          if (Date.now() - last > 2000) {
            this.log.info({ height: h, to }, 'execution replay progress');
            last = Date.now();
          }
        }
        this.log.info({ to }, 'execution replay done');
      })
      .catch((err) => this.log.error({ err }, 'execution replay failed'));
  }

  #txsByNamespace(block: Block, namespaces: number[]): Map<number, Uint8Array[]> {
    const byNs = new Map<number, Uint8Array[]>();
    for (const ns of namespaces) byNs.set(ns, []);
    for (const tx of block.txs) byNs.get(tx.namespace)?.push(tx.payload);
    return byNs;
  }

  /** Pre-confirmation: executed rollups' txs run in commit order, one block at a time, off the commit path. */
  #scheduleExecution(block: Block): void {
    const executor = this.#executor;
    if (executor === undefined) return;
    const byNs = this.#txsByNamespace(block, executor.executedNamespaces());
    const height = block.header.height;
    this.#execScheduled.set(height, Date.now());
    // Bounded: a height whose execution failed (no trace event) is forgotten a few heights later.
    this.#execScheduled.delete(height - 16);
    this.#preconf?.committed(height, blockHash(block));
    this.#execChain = this.#execChain
      // Height - 2 is executed by now (heights run in order): its results are certified by this header.
      .then(() => {
        this.#preconf?.certify(height - 2, block.header.resultsHash);
      })
      // The auction gate: the executor may not run past the auction state (src/node/auction.ts).
      .then(() => this.#auction?.gate(height))
      .then(() =>
        executor.executeBlock(block.header.height, byNs, {
          timeMs: block.header.timeMs,
          spans: block.bundles,
        }),
      )
      .then(
        () => undefined,
        (err) =>
          this.log.error(
            { err, height: block.header.height },
            'execution failed; results for this height are missing',
          ),
      );
  }

  /** The adapter's view of this node. */
  adapterSource(): AdapterSource {
    const { genesis } = this;
    const store = () => this.#store!;
    return {
      chainId: genesis.chainId,
      validators: validatorSetOf(genesis).validators,
      rollups: genesis.rollups,
      height: () => store().height(),
      baseHeight: () => store().baseHeight(),
      getCertifiedBlock: async (h) => {
        const [block, certificate] = await Promise.all([store().getBlock(h), store().getCertificate(h)]);
        return block === undefined || certificate === undefined ? undefined : { block, certificate };
      },
      getAuctionOutcome: (h) => this.#auction?.outcome(h) ?? Promise.resolve(undefined),
      getExecResults: async (h, ns) => {
        const r = await this.#executor?.getResult(ns, h);
        return r === undefined
          ? undefined
          : { receipts: r.receipts.map(encodeReceipt), stateRoot: r.stateRoot };
      },
      onCommit: (l) => this.onCommit(l),
      executedHeight: () => this.#executedHeight,
      onExecuted: (l) => {
        this.#execListeners.add(l);
        return () => this.#execListeners.delete(l);
      },
      // The same door as JSON-RPC: check, admit, gossip (issue 21: gRPC submissions were never gossiped).
      submit: (tx, origin) =>
        this.#ingress?.submitTransaction(tx, origin) ?? {
          ok: false,
          code: 'SHUTTING_DOWN',
          message: 'the node is not running; submit to another node',
          retryable: true,
        },
      status: (hash) => this.#mempool!.status(hash),
      submitBundle: (bundle, origin) =>
        this.#ingress?.submitBundle(bundle, origin) ?? {
          ok: false,
          code: 'SHUTTING_DOWN',
          message: 'the node is not running; submit to another node',
          retryable: true,
        },
      bundleStatus: (hash) => this.#bundlePool?.status(hash),
      maxTxBytes: Math.max(...genesis.rollups.map((r) => r.maxTxBytes)),
    };
  }

  #registerAdmin(rpc: RpcServer, network: Network): void {
    rpc.register('ordo_admin_setBlockedPeers', (params) => {
      const ids = params[0];
      if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) {
        throw new OrdoError('DECODE_INVALID_FIELD', 'expected [peerIds: string[]]');
      }
      this.#blockedPeers = new Set(ids as string[]);
      const n = network as Network & { setBlockedPeers?: (ids: string[]) => Promise<void> | void };
      if (n.setBlockedPeers === undefined)
        throw new OrdoError('NOT_SUPPORTED', 'this network does not support peer blocking');
      return Promise.resolve(n.setBlockedPeers([...this.#blockedPeers])).then(() => ({
        blocked: [...this.#blockedPeers],
      }));
    });
  }
}
