/**
 * The consensus engine: the driver that wires the pure state machine (state-machine.ts) to the outside
 * world. It implements `ConsensusEngine` (types.ts) over the `Network` interface (topic 'consensus' for
 * proposals and votes, protocol 'sync' for catch-up), the WAL (wal.ts) and sign guard (sign-guard.ts),
 * the `BlockStore`, a `BlockSource`, and an injected `Runtime` (runtime.ts) for its clock and timers:
 * the seeded simulator runs this very engine in virtual time. The WAL and the sign guard sit behind
 * the `ConsensusPersistence` seam (persistence.ts: files for nodes, memory for the simulator).
 *
 * Every input goes through ONE serial queue: it is appended to the WAL, fed to the core, and the
 * core's actions are applied in order before the next input is taken. Own messages are fsynced in the
 * WAL before they are published. On start the WAL is replayed through the core (own signatures are
 * re-derived and checked against the recorded ones), then timers are re-armed.
 *
 * Fail-stop: when the core throws (an invariant broke) or a store commit fails for a reason that is not
 * a write fault, the engine halts for good: it signs and sends nothing more, `health()` reports the
 * code and reason, the reason is logged at fatal and `onFatal` is called. A WRITE fault (disk full, EIO
 * on the WAL, the sign guard's fsync or the store) halts signing at once too, with `health()` not ok,
 * but the engine probes with backoff (storage-halt.ts) and resumes exactly where it stopped once writes
 * succeed again; nothing is signed that is not durably logged.
 */
import pino, { type Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  blockDataHashInSlices,
  decodeEvidence,
  decodeGossipConsensusMessage,
  encodeCompactProposal,
  encodeConsensusMessage,
  encodeEvidence,
  LIMITS,
  proposalFromCompact,
  txHash,
} from '../codec/index.ts';
import { latin1Key, toHex, ZERO_HASH } from '../crypto/index.ts';
import { DecodeError, errorMessage, OrdoError } from '../errors.ts';
import type { Network, PeerId } from '../p2p/index.ts';
import type { BlockStore, KvStore } from '../store/index.ts';
import type {
  Block,
  BundleSpan,
  CommitCertificate,
  CompactProposal,
  ConsensusMessage,
  DuplicateVoteEvidence,
  Namespace,
  TxEnvelope,
} from '../types.ts';
import {
  HEIGHT_STAGES,
  HeightTrace,
  heightStages,
  ROUND_FAILURES,
  type RoundFailure,
} from './height-trace.ts';
import { LoopStalls } from './loop-stalls.ts';
import {
  type ConsensusPersistence,
  type ConsensusWal,
  filePersistence,
  type SignGuardStore,
} from './persistence.ts';
import { type Runtime, realRuntime, sleep } from './runtime.ts';
import type { SignKind } from './sign-guard.ts';
import { type ConsensusSigner, ed25519Verify, type VerifyFn } from './signing.ts';
import {
  type CommittedState,
  ConsensusCore,
  type CoreAction,
  type CoreInput,
  checkMessageSignature,
  DEFAULT_TIMEOUTS,
  inputHeight,
  proposeTimeoutMs,
  type TimeoutConfig,
  type TimeoutInfo,
} from './state-machine.ts';
import { HaltSignal, StorageHalt } from './storage-halt.ts';
import { createSyncHandler, fetchCertifiedBlocks, fetchStatus, fetchTxs } from './sync.ts';
import type {
  BlockSource,
  BuiltBlock,
  CommitListener,
  ConsensusEngine,
  ConsensusHealth,
  ConsensusStatus,
  ProposalVerdict,
  ValidatorSet,
} from './types.ts';
import { proposerIndex } from './validators.ts';
import { type WalEntry, type WalOptions, walEntryHeight } from './wal.ts';

/**
 * The WAL is compacted when it grows past this size (Wal.compact: its fsyncs run off the event loop;
 * the synchronous rewrite it replaced stalled a busy node for 50-190 ms). Under load the log grows
 * about 2 MB/s (received proposals are logged whole): a compaction every ~30 s per node, and a replay
 * after a crash reads at most this much.
 */
const WAL_COMPACT_BYTES = 64 * 1024 * 1024;
/**
 * The share of its round's propose timeout a proposer's build may spend waiting for what the block
 * depends on (the executor's results of h - 2), counted from the round's start; the rest is left for the
 * proposal to reach the validators and be verified before their own propose timeouts (ADR 0291).
 */
const BUILD_WAIT_SHARE = 0.5;
/** Longest wait for `beforePropose` (the node's gossip flush) before an own proposal goes out. */
const BEFORE_PROPOSE_MAX_MS = 100;
/** An own proposal that left this node more than this long after its build logs its timeline at info. */
const LATE_SEND_MS = 500;
/**
 * How long a compact proposal's rebuild looks for the transactions its pool lacks (they may be in gossip
 * this node received but has not admitted yet) before it fetches them from a peer, and how often (ADR 0346).
 */
const COMPACT_LOCAL_WAIT_MS = 40;
const COMPACT_LOCAL_POLL_MS = 5;
/** Compact proposal rebuilds in flight at once. */
const MAX_REBUILDS = 256;
/** Decided blocks that may wait for their store write while consensus runs ahead. */
const MAX_COMMITS_IN_FLIGHT = 2;
/** Bound on WAL records kept for one height (plus early next-height messages). */
const MAX_WAL_ENTRIES = 100_000;
/** While halted on a storage fault, received proposals and votes beyond this many queued are dropped. */
const MAX_HALTED_QUEUE = 10_000;

export interface ConsensusEngineOptions {
  chainId: string;
  validators: ValidatorSet;
  /** This node's validator key; null runs a non-validating follower. */
  signer: ConsensusSigner | null;
  network: Network;
  /** Must already be open. */
  store: BlockStore;
  source: BlockSource;
  genesisTimeMs: number;
  /** Directory for the WAL and the sign guard. Validators need it, or `persistence` (crash safety). */
  dataDir?: string;
  /** WAL and sign guard other than the files in `dataDir` (the simulator's in-memory disk). */
  persistence?: ConsensusPersistence;
  /** Clock and timers (default: the real ones, with `clock` as the time source). */
  runtime?: Runtime;
  timeouts?: Partial<TimeoutConfig>;
  /** Proposal time must lie within this many ms of local time (default 5000). */
  timeBoundMs?: number;
  maxBlockBytes?: number;
  maxBlockTxs?: number;
  /**
   * Limits for the blocks this node proposes (default 1 MiB and 10,000 transactions): under load a
   * stream of moderate blocks commits sooner than multi-MiB proposals that outlive the propose timeout.
   */
  proposalMaxBytes?: number;
  proposalMaxTxs?: number;
  clock?: () => number;
  verify?: VerifyFn;
  logger?: Logger;
  registry?: Registry;
  /** Register the 'sync' handler on the network (default true). Set false to compose your own. */
  serveSync?: boolean;
  /** Serve 'txs' sync requests through this lookup (when serveSync is on). */
  txLookup?: Parameters<typeof createSyncHandler>[0]['txs'];
  /**
   * Gossip own proposals in compact form (transaction ids instead of transactions, see
   * docs/consensus.md "Compact proposals"). Peers rebuild them from their mempools and fetch the rest
   * with a sync `txs` request, so this node must serve those (`txLookup`). Default false. Compact
   * proposals from peers are accepted either way.
   */
  compactProposals?: boolean;
  /**
   * A compact proposal's transactions missing from the pool are looked up again for up to this long
   * (every 5 ms) before they are fetched from a peer (default 40 ms; 0: fetched at once), ADR 0346.
   */
  compactLocalWaitMs?: number;
  /**
   * Of the given ids, transactions this node received (gossip) but has not admitted to its pool yet:
   * a compact proposal's rebuild takes them rather than fetching them (ADR 0346). Checked like fetched ones.
   */
  receivedTxs?: (hashes: Uint8Array[]) => TxEnvelope[];
  /** Per-request timeout for catch-up (default 5000 ms). */
  syncTimeoutMs?: number;
  /** Compact the WAL once it is larger than this (default 64 MiB). */
  walCompactBytes?: number;
  /** fsync the sign-guard file on every update too (default false: the WAL covers power loss). */
  durableSignGuard?: boolean;
  /**
   * Called synchronously the moment a block is decided, before it is persisted and before the next
   * height starts (the node updates its mempool here, so the next proposal cannot repeat the block's
   * transactions). Commit listeners run later, after the block is durable.
   */
  onDecided?: (block: Block, cert: CommitCertificate) => void;
  /**
   * Awaited (at most 100 ms) after an own block's transactions are chosen and before its proposal is
   * sent. The node flushes its transaction gossip here, so every transaction of a compact proposal
   * left this node before the proposal did and peers need not fetch the ones it had just received.
   */
  beforePropose?: () => Promise<void>;
  /**
   * Busy-network block spacing. After a decided block with at least `busyBlockTxs` transactions, this
   * node's next round-0 proposal waits until `busyBlockIntervalMs` after that decision (CometBFT's
   * `timeout_commit`, but only under load). Every height costs each node signatures, gossip messages,
   * WAL writes and a store commit, so fewer, larger blocks leave more CPU for transactions when the
   * network is busy. Light load is spaced by the shorter `minBlockIntervalMs`. Default 0: never wait.
   */
  busyBlockIntervalMs?: number;
  /** See `busyBlockIntervalMs` (default 500). */
  busyBlockTxs?: number;
  /**
   * Light-load block spacing: every round-0 proposal waits until `minBlockIntervalMs` after the
   * previous decision, whatever that block held (the busy interval applies on top when it is longer).
   * Without it a trickle of transactions makes a block every few milliseconds, each with the full
   * per-height work and ~0.8 KB of store: 4 validators at 200 tx/s made 50-65 blocks/s and used about
   * both cores of a 2-core machine (ADR 0067). Costs light-load latency up to the interval. Default 0:
   * never wait (the node's config default is 50 ms).
   */
  minBlockIntervalMs?: number;
  /**
   * Block period floor: a round-0 proposal waits until `minBlockPeriodMs` after the previous block's
   * header time (its proposer's clock when it proposed; the wait is capped at `minBlockPeriodMs` from now,
   * so a proposer clock ahead of ours cannot stretch it). Unlike `minBlockIntervalMs`, which counts from
   * the decision and so adds to each height's own consensus time, this spaces light-load blocks without
   * slowing a network whose heights already take this long. Default 0: off (ADR 0230).
   */
  minBlockPeriodMs?: number;
  /**
   * Called once when consensus halts for good (fail-stop: the core broke an invariant, or a store
   * commit failed for a reason other than a write fault); the engine has already stopped signing.
   * Storage WRITE faults (disk full, EIO) do not land here: they halt signing and are retried until
   * writes succeed again. See `health()`.
   */
  onFatal?: (err: unknown) => void;
  /**
   * Watch the event loop for stalls (loop-stalls.ts) and put them in the height timeline (default
   * false; nodes turn it on, simulations must not: it runs a real timer).
   */
  watchLoop?: boolean;
  /** WAL file calls (tests inject write faults). */
  walIo?: WalOptions['io'];
  /** Backoff between storage probes while halted on a write fault (default 100 ms doubling to 5 s). */
  storageProbeMinMs?: number;
  storageProbeMaxMs?: number;
}

export interface ConsensusEngineExt extends ConsensusEngine {
  /** The state machine's view (tests and the dashboard). */
  readonly core: ConsensusCore;
}

type QueueItem = (
  | { input: CoreInput; run?: undefined; raw?: Uint8Array; done?: (actions: CoreAction[]) => void }
  | { input?: undefined; run: () => CoreAction[]; raw?: undefined; done?: undefined }
) & { queuedMs?: number };

const EVIDENCE_PREFIX = 'evidence';

/** Why the engine halted (`health().code`). */
export type HaltCode =
  | 'CONSENSUS_INVARIANT'
  | 'STORAGE_WAL_APPEND'
  | 'STORAGE_WAL_SYNC'
  | 'STORAGE_SIGN_GUARD'
  | 'STORAGE_COMMIT';

function evidenceKey(e: DuplicateVoteEvidence): Uint8Array {
  const b = Buffer.alloc(17);
  b.writeBigUInt64BE(BigInt(e.voteA.height), 0);
  b.writeUInt32BE(e.voteA.round, 8);
  b[12] = e.voteA.type === 'prevote' ? 1 : 2;
  b.writeUInt32BE(e.voteA.validatorIndex, 13);
  return new Uint8Array(b);
}

function ownKey(kind: SignKind, height: number, round: number): string {
  return `${kind}/${height}/${round}`;
}

function msgKind(m: ConsensusMessage): SignKind {
  return m.kind === 'proposal' ? 'proposal' : m.vote.type;
}

function msgHash(m: ConsensusMessage, hashOf: (b: Block) => Uint8Array): string {
  if (m.kind === 'proposal') return toHex(hashOf(m.proposal.block));
  return m.vote.blockHash === null ? '' : toHex(m.vote.blockHash);
}

export class Engine implements ConsensusEngineExt {
  readonly core: ConsensusCore;
  readonly #o: ConsensusEngineOptions;
  readonly #log: Logger;
  readonly #rt: Runtime;
  readonly #verify: VerifyFn;
  readonly #listeners: CommitListener[] = [];
  readonly #evidence: KvStore;
  /** Cancel functions of armed core timeouts. */
  readonly #timers = new Set<() => void>();
  readonly #metrics: ReturnType<typeof makeMetrics>;
  readonly #persistence: ConsensusPersistence | null;
  #wal: ConsensusWal | null = null;
  #guardFile: SignGuardStore | null = null;
  #health: ConsensusHealth = { ok: true };
  /** Settles when the pump goes idle (stop waits for the input in flight). */
  #pumpIdle: Promise<void> = Promise.resolve();
  /** Own messages recorded in the WAL (replay re-derives them; anything conflicting is refused). */
  #recordedOwn = new Map<string, string>();
  /** Records of the WAL file of heights not yet committed (rewritten after each commit). */
  #walEntries: WalEntry[] = [];
  #queue: QueueItem[] = [];
  #pumping = false;
  #running = false;
  #replaying = false;
  #lastCommitMs = 0;
  /** Transactions in the last decided block (busy-network spacing, see `busyBlockIntervalMs`). */
  #lastBlockTxs = 0;
  /** Header time of the last decided block (`minBlockPeriodMs`); 0 before the first. */
  #lastBlockTimeMs = 0;
  #syncing = false;
  #syncWanted: { from: number; target: number; peer?: PeerId } | null = null;
  /** Tail of the commit pipeline (store writes and commit listeners run in height order). */
  #pendingCommit: Promise<void> = Promise.resolve();
  /** Compact proposals being rebuilt (height/round/signature). */
  readonly #rebuilds = new Set<string>();
  /** Highest height handed to the commit pipeline. */
  #decidedHeight = 0;
  /** Decided blocks whose store write has not finished. */
  #commitsInFlight = 0;
  /** Fail-stop on storage write faults (storage-halt.ts). */
  readonly #storage: StorageHalt;
  /** Actions of an input that were cut short by a storage halt; applied first on resume. */
  #stalled: { actions: CoreAction[]; done?: ((actions: CoreAction[]) => void) | undefined } | null = null;
  #probingWal = false;
  /** Own messages durably logged whose sign-guard record is still to be written (see the send case). */
  readonly #unguarded = new Set<string>();
  /** This node's timeline of the height in progress (height-trace.ts), logged at each decision. */
  readonly #trace: HeightTrace;
  /** Event-loop stalls, for the timeline (`watchLoop`). */
  readonly #stalls: LoopStalls | null;

  constructor(opts: ConsensusEngineOptions, committed: CommittedState) {
    this.#o = opts;
    this.#log = opts.logger ?? pino({ level: 'silent' });
    this.#rt = opts.runtime ?? realRuntime(opts.clock);
    this.#verify = opts.verify ?? ed25519Verify;
    this.#evidence = opts.store.sub(EVIDENCE_PREFIX);
    this.#metrics = makeMetrics(opts.registry, opts.validators, () => this.core.round);
    this.#trace = new HeightTrace(opts.validators);
    this.#stalls =
      opts.watchLoop === true
        ? new LoopStalls({
            now: () => this.#clock(),
            onStall: (ms) => this.#metrics.loopStalls.observe(ms / 1000),
          })
        : null;
    this.#storage = new StorageHalt({
      logger: this.#log,
      clock: () => this.#clock(),
      setTimer: (fn, ms) => this.#rt.setTimer(fn, ms),
      ...(opts.storageProbeMinMs === undefined ? {} : { minDelayMs: opts.storageProbeMinMs }),
      ...(opts.storageProbeMaxMs === undefined ? {} : { maxDelayMs: opts.storageProbeMaxMs }),
      onChange: (halted) => {
        this.#metrics.halted.set(halted ? 1 : 0);
        if (!halted && this.#running && !this.#pumping) void this.#pump();
      },
    });
    this.#persistence =
      opts.persistence ??
      (opts.dataDir === undefined
        ? null
        : filePersistence(opts.dataDir, {
            logger: this.#log,
            durableSignGuard: opts.durableSignGuard === true,
            ...(opts.walIo === undefined ? {} : { walIo: opts.walIo }),
          }));
    if (opts.signer !== null && this.#persistence === null) {
      throw new OrdoError('CONSENSUS_CONFIG', 'a validator needs dataDir for its WAL and sign guard');
    }
    if (this.#persistence !== null && opts.signer !== null) {
      this.#guardFile = this.#persistence.openSignGuard();
    }
    this.core = new ConsensusCore(
      {
        chainId: opts.chainId,
        validators: opts.validators,
        signer: opts.signer,
        verify: this.#verify,
        timeouts: { ...DEFAULT_TIMEOUTS, ...opts.timeouts },
        ...(opts.maxBlockBytes === undefined ? {} : { maxBlockBytes: opts.maxBlockBytes }),
        ...(opts.maxBlockTxs === undefined ? {} : { maxBlockTxs: opts.maxBlockTxs }),
        ...(opts.timeBoundMs === undefined ? {} : { timeBoundMs: opts.timeBoundMs }),
        buildMaxBytes: opts.proposalMaxBytes ?? 1024 * 1024,
        buildMaxTxs: opts.proposalMaxTxs ?? 10_000,
        // Contents and commitments are checked by the block source off the loop (`verify` action).
        verifyProposals: true,
        // Proposals arrive through a decode bounded by maxBlockBytes + 64 KiB, and own blocks are
        // built under maxBlockBytes: no need to re-encode every block just to measure it.
        skipEncodedSizeCheck: true,
        guard: (kind, h, r, hash) => this.#guard(kind, h, r, hash),
      },
      committed,
    );
    if (opts.signer !== null && this.core.myIndex < 0) {
      this.#log.warn('this node key is not in the validator set; running as a follower');
    }
  }

  #clock(): number {
    return this.#rt.now();
  }

  /**
   * The height timeline (height-trace.ts, ADR 0307): this node's executor finished `height`; times on
   * the engine's clock (the node's wall clock). Cheap: a few numbers per executed block.
   */
  traceExecution(
    height: number,
    committedMs: number,
    queuedMs: number,
    startMs: number,
    endMs: number,
  ): void {
    this.#trace.executed(height, committedMs, queuedMs, startMs, endMs);
  }

  /** The height timeline: this node's executor ran a bundle simulation from `startMs` for `ms`. */
  traceSimulation(startMs: number, ms: number): void {
    this.#trace.simulated(startMs, ms);
  }

  #guard(kind: SignKind, h: number, r: number, hash: Uint8Array | null): boolean {
    if (!this.#health.ok) return false; // halted: never sign again
    const k = ownKey(kind, h, r);
    const hex = hash === null ? '' : toHex(hash);
    const recorded = this.#recordedOwn.get(k);
    if (recorded !== undefined) return recorded === hex;
    if (this.#guardFile === null) return true;
    // Only a check here: the guard records a signature once its message is durable in the WAL, just
    // before it is sent (#apply), so a power cut can never leave the guard ahead of the WAL by a
    // message that never left (that made the node mute for the round; ADR 0078).
    const ok = this.#guardFile.check(kind, h, r, hash);
    if (!ok) this.#log.error({ kind, height: h, round: r }, 'sign guard refused a conflicting signature');
    return ok;
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    if (this.#running) return;
    const o = this.#o;
    if (o.serveSync !== false) {
      o.network.handle(
        'sync',
        createSyncHandler({ store: o.store, chainId: o.chainId, ...(o.txLookup ? { txs: o.txLookup } : {}) }),
      );
    }
    o.network.subscribe('consensus', (msg) => this.#onGossip(msg.from, msg.data));
    if (this.#persistence !== null) {
      const { wal, entries } = this.#persistence.openWal();
      this.#wal = wal;
      try {
        await this.#replay(entries);
      } catch (err) {
        this.#replaying = false;
        this.#halt('CONSENSUS_INVARIANT', err, { during: 'WAL replay' });
        throw err;
      }
      if (!this.#health.ok) return; // storage failed during the replay
    } else {
      this.core.handle({ kind: 'start', nowMs: this.#clock() });
    }
    this.#running = true;
    this.#lastCommitMs = this.#clock();
    this.#trace.start(this.core.height, this.#lastCommitMs);
    this.#stalls?.start();
    this.#push({ run: () => this.core.resume(this.#clock()) });
    // Restarted or freshly joined: ask peers where they are (and on every new connection).
    o.network.on('peer:connect', () => {
      if (this.#running) this.#requestCatchUp(this.core.committed.height + 1, 0);
    });
    this.#requestCatchUp(this.core.committed.height + 1, 0);
    this.#log.info({ height: this.core.height, round: this.core.round }, 'consensus started');
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#stalls?.stop();
    this.#storage.stop();
    this.#cancelTimers();
    this.#dropQueue();
    // Let an in-flight input finish so the store and WAL are left consistent (bounded: a hung disk).
    if (this.#pumping) await Promise.race([this.#pumpIdle, sleep(this.#rt, 1000)]);
    await this.#pendingCommit.catch(() => {});
    this.#wal?.close();
    this.#wal = null;
    this.#guardFile?.close();
  }

  /** A permanent halt first (fail-stop); otherwise a storage write fault being retried, if any. */
  health(): ConsensusHealth {
    if (!this.#health.ok) return this.#health;
    return this.#storage.health();
  }

  #cancelTimers(): void {
    for (const cancel of this.#timers) cancel();
    this.#timers.clear();
  }

  /**
   * Fail-stop: stop signing and processing at once, say why (health, fatal log, onFatal). Idempotent:
   * the first reason stays.
   */
  #halt(code: HaltCode, err: unknown, data: Record<string, unknown> = {}): void {
    if (!this.#health.ok) return;
    const reason = errorMessage(err);
    this.#health = { ok: false, code, reason, sinceMs: this.#clock() };
    this.#running = false;
    this.#cancelTimers();
    this.#dropQueue();
    this.#log.fatal(
      { code, err: reason, height: this.core.height, round: this.core.round, ...data },
      'consensus halted (fail-stop): this node signs nothing more',
    );
    try {
      this.#o.onFatal?.(err);
    } catch (e) {
      this.#log.error({ err: errorMessage(e) }, 'onFatal hook failed');
    }
  }

  status(): ConsensusStatus {
    return {
      height: this.core.height,
      round: this.core.round,
      step: this.core.step,
      lastCommitMs: this.#lastCommitMs,
    };
  }

  /** Not ok while a storage write fault halts signing (with the failing write's code and reason). */

  onCommit(listener: CommitListener): void {
    this.#listeners.push(listener);
  }

  async evidence(): Promise<DuplicateVoteEvidence[]> {
    const out: DuplicateVoteEvidence[] = [];
    for await (const [, v] of this.#evidence.range({ limit: 10_000 })) {
      try {
        out.push(decodeEvidence(v));
      } catch (err) {
        this.#log.warn({ err: errorMessage(err) }, 'skipping an undecodable evidence record');
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- replay

  async #replay(entries: WalEntry[]): Promise<void> {
    const stored = this.#o.store.height();
    const hashOf = (b: Block): Uint8Array => this.#hash(b);
    const live = entries.filter((e) => walEntryHeight(e) > stored);
    for (const e of live) {
      if (e.type === 'own') {
        this.#recordedOwn.set(
          ownKey(msgKind(e.message), heightOf(e), roundOf(e)),
          msgHash(e.message, hashOf),
        );
      }
    }
    this.#walEntries = [...live];
    this.#replaying = true;
    const first = live[0];
    const firstNow =
      first === undefined ? this.#clock() : first.type === 'own' ? first.nowMs : first.input.nowMs;
    this.core.handle({ kind: 'start', nowMs: firstNow });
    let fed = 0;
    for (const e of live) {
      if (walEntryHeight(e) < this.core.height) continue;
      const actions =
        e.type === 'own'
          ? this.core.handle({ kind: 'own', message: e.message, nowMs: e.nowMs })
          : this.core.handle(e.input);
      fed++;
      for (const a of actions) {
        if (a.kind === 'commit') await this.#commit(a.block, a.certificate);
        else if (a.kind === 'evidence') await this.#storeEvidence(a.evidence);
      }
    }
    this.#replaying = false;
    if (entries.length > 0) {
      this.#log.info(
        {
          records: entries.length,
          replayed: fed,
          height: this.core.height,
          round: this.core.round,
          step: this.core.step,
        },
        'WAL replayed',
      );
    }
  }

  #hash(b: Block): Uint8Array {
    // Same cached hash the core uses.
    return hashOfBlockCached(b);
  }

  // ---------------------------------------------------------------- inputs

  #onGossip(from: PeerId, data: Uint8Array): 'accept' | 'ignore' | 'reject' {
    if (!this.#running) return 'ignore';
    let m: ReturnType<typeof decodeGossipConsensusMessage>;
    try {
      m = decodeGossipConsensusMessage(
        data,
        Math.min(
          LIMITS.maxConsensusMessageBytes,
          (this.#o.maxBlockBytes ?? LIMITS.maxBlockBytes) + 64 * 1024,
        ),
      );
    } catch (err) {
      this.#log.debug({ from, err: errorMessage(err) }, 'undecodable consensus message');
      return err instanceof DecodeError ? 'reject' : 'ignore';
    }
    if (m.kind === 'compact') return this.#onCompact(from, m.compact);
    const height = m.kind === 'vote' ? m.vote.height : m.proposal.height;
    if (m.kind === 'proposal' && m.proposal.block.header.chainId !== this.#o.chainId) return 'reject';
    // Signature first, at any height: a forged message for an old height is the sender's fault too
    // (rejected and penalised), not a free pass.
    const reason = checkMessageSignature(m, this.#o.chainId, this.#o.validators, this.#verify);
    if (reason !== null) {
      this.#log.debug({ from, reason }, 'rejecting consensus message');
      return 'reject';
    }
    if (height + 1 < this.core.height) return 'ignore';
    if (height < this.core.height) return 'accept'; // forward for laggards, nothing for us
    const nowMs = this.#clock();
    if (m.kind === 'proposal') this.#trace.proposalHeard(m.proposal.height, m.proposal.round, nowMs);
    encodedCache.set(m, data);
    this.#push({
      input:
        m.kind === 'proposal'
          ? { kind: 'proposal', proposal: m.proposal, from, verified: true, nowMs }
          : { kind: 'vote', vote: m.vote, from, verified: true, nowMs },
      raw: data,
    });
    return 'accept';
  }

  /**
   * A compact proposal: check its signature (it covers the header hash only, so no transactions are
   * needed), let gossip forward it, then rebuild the block from the mempool plus fetched transactions
   * and feed it to the core as an ordinary verified proposal.
   */
  #onCompact(from: PeerId, c: CompactProposal): 'accept' | 'ignore' | 'reject' {
    if (c.height + 1 < this.core.height) return 'ignore';
    if (c.header.chainId !== this.#o.chainId) return 'reject';
    const stub: ConsensusMessage = {
      kind: 'proposal',
      proposal: {
        height: c.height,
        round: c.round,
        polRound: c.polRound,
        block: { header: c.header, txs: [], bundles: c.bundles },
        proposerIndex: c.proposerIndex,
        signature: c.signature,
      },
    };
    const reason = checkMessageSignature(stub, this.#o.chainId, this.#o.validators, this.#verify);
    if (reason !== null) {
      this.#log.debug({ from, reason }, 'rejecting compact proposal');
      return 'reject';
    }
    if (c.height < this.core.height) return 'accept';
    this.#trace.proposalHeard(c.height, c.round, this.#clock());
    // One rebuild in flight per signed proposal: copies that arrive while it is being rebuilt (gossip
    // duplicates, rebroadcasts) are only forwarded, and at most MAX_REBUILDS run at once, so a
    // proposer signing many compact proposals that list unavailable ids cannot multiply fetches.
    // A copy arriving after the rebuild finished is rebuilt again (cheap: the pool has the txs, and
    // the core ignores a proposal it already holds).
    const key = `${c.height}/${c.round}/${toHex(c.signature)}`;
    if (this.#rebuilds.has(key)) return 'accept';
    if (this.#rebuilds.size >= MAX_REBUILDS) return 'ignore';
    this.#rebuilds.add(key);
    void this.#rebuild(from, c)
      .catch((err: unknown) => this.#log.warn({ err: errorMessage(err) }, 'compact proposal rebuild failed'))
      .finally(() => this.#rebuilds.delete(key));
    return 'accept';
  }

  async #rebuild(from: PeerId, c: CompactProposal): Promise<void> {
    const src = this.#o.source;
    const txs: (TxEnvelope | undefined)[] = new Array(c.txHashes.length);
    let absent: number[] = [];
    for (let i = 0; i < c.txHashes.length; i++) {
      const tx = src.findTx?.(c.txHashes[i]!);
      txs[i] = tx;
      if (tx === undefined) absent.push(i);
    }
    // ADR 0346: most of what a validator lacks is the proposer's last gossip batch, flushed just before
    // the proposal and still in this node's gossip pipeline (the proposal, small, overtakes it): looked
    // up again for a short while before a fetch (a round trip to a loaded peer) is sent for the rest.
    // Received but not admitted yet (the batch waits in this node's admission queue): taken from there.
    const received = (): void => {
      const from = this.#o.receivedTxs;
      if (from === undefined || absent.length === 0) return;
      const got = new Map<string, TxEnvelope>();
      for (const tx of from(absent.map((i) => c.txHashes[i]!))) got.set(latin1Key(txHash(tx)), tx);
      if (got.size === 0) return;
      absent = absent.filter((i) => {
        txs[i] = got.get(latin1Key(c.txHashes[i]!));
        return txs[i] === undefined;
      });
    };
    const initially = absent.length;
    received();
    this.#metrics.compactQueued.inc(initially - absent.length);
    const localWait = this.#o.compactLocalWaitMs ?? COMPACT_LOCAL_WAIT_MS;
    if (absent.length > 0 && localWait > 0 && src.findTx !== undefined) {
      const before = absent.length;
      const until = this.#clock() + localWait;
      while (absent.length > 0 && this.#clock() < until) {
        await sleep(this.#rt, COMPACT_LOCAL_POLL_MS);
        if (!this.#running || c.height < this.core.height) return;
        absent = absent.filter((i) => {
          txs[i] = src.findTx?.(c.txHashes[i]!);
          return txs[i] === undefined;
        });
        received();
      }
      this.#metrics.compactArrived.inc(before - absent.length);
    }
    const missing = absent.map((i) => c.txHashes[i]!);
    if (missing.length > 0) {
      this.#metrics.compactFetched.inc(missing.length);
      const timeoutMs = this.#o.syncTimeoutMs ?? 5000;
      const got = new Map<string, TxEnvelope>();
      // The forwarding peer first (it had to rebuild the block too), then the others; bounded.
      const peers = [from, ...this.#o.network.peers().filter((p) => p !== from)].slice(0, 4);
      const fetchStart = this.#clock();
      for (const peer of peers) {
        const still = missing.filter((h) => !got.has(latin1Key(h)));
        if (still.length === 0 || !this.#running || c.height < this.core.height) break;
        try {
          for (const [k, tx] of await fetchTxs(this.#o.network, peer, still, timeoutMs)) got.set(k, tx);
        } catch (err) {
          this.#log.debug({ peer, err: errorMessage(err) }, 'fetching proposal transactions failed');
        }
      }
      this.#metrics.compactFetch.observe(Math.max(0, this.#clock() - fetchStart) / 1000);
      for (let i = 0; i < txs.length; i++) {
        if (txs[i] === undefined) txs[i] = got.get(latin1Key(c.txHashes[i]!));
      }
      if (c.bundles.length > 0 && txs.every((t) => t !== undefined))
        this.#metrics.compactFetchedBundleTxs.inc(bundleLegsAmong(txs as TxEnvelope[], c.bundles, missing));
      if (got.size < new Set(missing.map(latin1Key)).size) {
        this.#metrics.compactFailed.inc();
        // Decided meanwhile (peers drop committed transactions from their pools): nothing was lost.
        const stale = c.height < this.core.height;
        this.#log[stale ? 'debug' : 'warn'](
          { height: c.height, round: c.round, missing: missing.length - got.size },
          'could not rebuild a compact proposal: transactions unavailable',
        );
        return;
      }
    }
    if (!this.#running || c.height < this.core.height) return;
    let proposal: ReturnType<typeof proposalFromCompact>;
    try {
      proposal = proposalFromCompact(c, txs as TxEnvelope[]);
    } catch (err) {
      this.#log.debug({ from, err: errorMessage(err) }, 'compact proposal does not form a valid block');
      this.#o.network.reportPeer(from, 'invalid-message');
      return;
    }
    // ADR 0312: the body's data hash, in slices here rather than in one piece inside the core's
    // structural check (≈ two hashes per transaction, hundreds of ms for a large block on a loaded
    // host); memoised on the block, so the core's check finds it. A body that cannot be hashed is left
    // for the core to refuse, as before.
    await blockDataHashInSlices(proposal.block).catch(() => undefined);
    if (!this.#running || c.height < this.core.height) return;
    this.#push({
      input: { kind: 'proposal', proposal, from, verified: true, nowMs: this.#clock() },
    });
  }

  #push(item: QueueItem): void {
    if (!this.#running && !this.#replaying) return;
    if (
      this.#storage.halted &&
      this.#queue.length >= MAX_HALTED_QUEUE &&
      (item.input?.kind === 'proposal' || item.input?.kind === 'vote')
    ) {
      return; // peers rebroadcast; timeouts and own work are never dropped
    }
    item.queuedMs = this.#rt.monotonicMs();
    this.#queue.push(item);
    if (!this.#pumping) void this.#pump();
  }

  /** Feed an input and wait until its actions have been applied. */
  #feed(input: CoreInput): Promise<CoreAction[]> {
    return new Promise((resolve) => {
      if (!this.#running) return resolve([]);
      this.#push({ input, done: resolve });
    });
  }

  /** Empty the queue; inputs someone waits for (`#feed`) resolve with no actions. */
  #dropQueue(): void {
    const q = this.#queue;
    this.#queue = [];
    for (const item of q) item.done?.([]);
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    let idle = (): void => {};
    this.#pumpIdle = new Promise<void>((r) => {
      idle = r;
    });
    try {
      if (this.#stalled !== null && this.#running && !this.#storage.halted) {
        // Resuming after a storage halt: finish the input that was cut short, exactly where it stopped.
        const s = this.#stalled;
        this.#stalled = null;
        try {
          await this.#apply(s.actions);
          s.done?.(s.actions);
        } catch (err) {
          if (err instanceof HaltSignal)
            this.#stalled = { actions: err.remaining as CoreAction[], done: s.done };
          else this.#log.error({ err: errorMessage(err) }, 'consensus input failed on resume');
        }
      }
      while (this.#running && this.#queue.length > 0 && !this.#storage.halted) {
        const item = this.#queue.shift()!;
        if (item.queuedMs !== undefined)
          this.#metrics.queueWait.observe((this.#rt.monotonicMs() - item.queuedMs) / 1000);
        let actions: CoreAction[] = [];
        try {
          const i = item.input;
          if (i === undefined) {
            actions = item.run();
          } else {
            if (
              this.#wal !== null &&
              i.kind !== 'start' &&
              i.kind !== 'synced' &&
              i.kind !== 'own' &&
              // Block contents are not logged: the own proposal record (fsynced before it is sent)
              // restores the proposal on replay, and a large block is not encoded twice.
              i.kind !== 'contents' &&
              // Verdicts are not logged either: the core asks again after a replay (`resume`).
              i.kind !== 'verified' &&
              inputHeight(i) <= this.core.height + 1 &&
              this.#walEntries.length < MAX_WAL_ENTRIES
            ) {
              const e: WalEntry = { type: 'input', input: i };
              try {
                this.#wal.append(e, item.raw);
              } catch (err) {
                // Not logged, so not fed: keep the input for when the log can be written again.
                this.#queue.unshift(item);
                this.#walFault(err);
                break;
              }
              this.#walEntries.push(e);
            }
            this.#traceInput(i);
            actions = this.core.handle(i);
          }
          await this.#apply(actions);
        } catch (err) {
          if (err instanceof HaltSignal) {
            this.#stalled = { actions: err.remaining as CoreAction[], done: item.done };
            break;
          }
          // The core threw: one of its invariants broke. Never carry on from an unknown state.
          this.#halt('CONSENSUS_INVARIANT', err, { input: item.input?.kind ?? 'resume' });
        }
        item.done?.(actions);
      }
    } finally {
      this.#pumping = false;
      idle();
    }
  }

  // ---------------------------------------------------------------- actions

  /** A WAL append or fsync failed: halt, and probe (repair the log) with backoff until it works. */
  #walFault(err: unknown): void {
    this.#storage.fail('wal', err);
    if (this.#probingWal) return;
    this.#probingWal = true;
    void (async () => {
      let repaired = false;
      try {
        while (!repaired && this.#running && this.#wal !== null) {
          await this.#storage.backoff('wal');
          if (!this.#running || this.#wal === null) break;
          try {
            await this.#wal.repair();
            repaired = true;
          } catch (e) {
            this.#storage.fail('wal', e);
          }
        }
      } catch (err) {
        this.#log.error({ err: errorMessage(err) }, 'WAL probe failed');
      }
      this.#probingWal = false;
      // The stalled work retries the failed write itself (a new fault starts a new probe).
      if (repaired) this.#storage.clear('wal');
    })();
  }

  async #apply(actions: CoreAction[]): Promise<void> {
    for (let idx = 0; idx < actions.length; idx++) {
      const a = actions[idx]!;
      if (!this.#health.ok) return; // halted: nothing more leaves this node
      switch (a.kind) {
        case 'send': {
          // Nothing is signed-and-sent unless durably logged: stop here while storage is failing.
          if (this.#storage.halted) throw new HaltSignal(actions.slice(idx));
          const m = a.message;
          const bytes = encodeMessage(m);
          let fresh = false;
          if (this.#wal !== null) {
            const k = ownKey(msgKind(m), heightOfMsg(m), roundOfMsg(m));
            try {
              if (!this.#recordedOwn.has(k)) {
                const e: WalEntry = { type: 'own', message: m, nowMs: this.#clock() };
                this.#wal.append(e, bytes);
                this.#walEntries.push(e);
                this.#recordedOwn.set(
                  k,
                  msgHash(m, (b) => this.#hash(b)),
                );
                this.#unguarded.add(k);
              }
              const t0 = this.#rt.monotonicMs();
              await this.#wal.sync();
              this.#metrics.walSync.observe((this.#rt.monotonicMs() - t0) / 1000);
              if (m.kind === 'proposal')
                this.#trace.own('walSynced', m.proposal.height, m.proposal.round, this.#clock());
            } catch (err) {
              // A write fault: signing halts, and this message is retried once the log is writable.
              this.#walFault(err);
              throw new HaltSignal(actions.slice(idx));
            }
            // Logged and durable, not yet in the sign guard (an earlier try may have stopped at the fsync).
            fresh = this.#unguarded.delete(k);
          }
          if (!this.#health.ok) return; // halted while the WAL synced
          if (fresh && this.#guardFile !== null && !this.#recordSigned(m)) return;
          this.#traceOwn(m);
          const sent = this.#o.network.publish('consensus', this.#gossipBytes(m, bytes));
          if (m.kind === 'proposal') {
            const { height, round } = m.proposal;
            void sent.then(() => this.#trace.own('published', height, round, this.#clock()), noop);
          }
          sent.catch((err: unknown) => {
            this.#log.debug({ err: errorMessage(err) }, 'publish failed');
          });
          break;
        }
        case 'relay':
          this.#o.network.publish('consensus', encodeMessage(a.message)).catch((err: unknown) => {
            this.#log.debug({ err: errorMessage(err) }, 'relay failed');
          });
          break;
        case 'schedule':
          this.#schedule(a.timeout, a.delayMs);
          break;
        case 'build':
          void this.#build(a.height, a.round, a.maxBytes, a.maxTxs, a.waitMs);
          break;
        case 'verify':
          this.#trace.verifyStart(a.height, a.round, this.#clock());
          void this.#verifyProposal(a.height, a.round, a.block);
          break;
        case 'commit':
          await this.#commit(a.block, a.certificate);
          break;
        case 'catch-up':
          this.#requestCatchUp(a.fromHeight, a.targetHeight, a.peer);
          break;
        case 'evidence':
          await this.#storeEvidence(a.evidence);
          break;
        case 'reject':
          this.#log.debug({ peer: a.peer, reason: a.reason }, 'peer sent an invalid consensus input');
          if (a.peer !== undefined) this.#o.network.reportPeer(a.peer, 'invalid-message');
          break;
        case 'log':
          this.#log[a.level](a.data ?? {}, a.msg);
          break;
      }
    }
  }

  /** Record an own message in the sign guard before it leaves; false (halted) when that fails. */
  #recordSigned(m: ConsensusMessage): boolean {
    const hash = m.kind === 'proposal' ? this.#hash(m.proposal.block) : m.vote.blockHash;
    let ok: boolean;
    try {
      ok = this.#guardFile!.allow(msgKind(m), heightOfMsg(m), roundOfMsg(m), hash);
    } catch (err) {
      this.#halt('STORAGE_SIGN_GUARD', err, { message: msgKind(m) });
      return false;
    }
    if (!ok) {
      // Checked before signing and nothing else signs in between: the guard changed under us.
      this.#halt(
        'CONSENSUS_INVARIANT',
        new OrdoError('CONSENSUS_SIGN_GUARD', 'sign guard refused a checked signature'),
        {
          message: msgKind(m),
        },
      );
    }
    return ok;
  }

  /** What goes on the wire for an own message: proposals in compact form when enabled. */
  #gossipBytes(m: ConsensusMessage, full: Uint8Array): Uint8Array {
    if (m.kind !== 'proposal' || this.#o.compactProposals !== true) return full;
    let b = compactCache.get(m);
    if (b === undefined) {
      const hashes = m.proposal.block.txs.map(txHash);
      // A re-proposed block (a valid value from an earlier round) may hold transactions this node never
      // had (another proposer's, never gossiped): peers could not fetch them from us, and every later
      // proposer would re-propose the same unrebuildable block. Such a proposal goes out whole.
      // (Found by the seeded simulator: a Byzantine proposer stalled compact-proposal networks.)
      const src = this.#o.source;
      b =
        src.findTx !== undefined && hashes.some((h) => src.findTx?.(h) === undefined)
          ? full
          : encodeCompactProposal(m.proposal, hashes);
      this.#metrics.proposalsSent.inc({ form: b === full ? 'full' : 'compact' });
      compactCache.set(m, b);
    }
    return b;
  }

  /** The height timeline (height-trace.ts): what the core is about to be fed. */
  #traceInput(i: CoreInput): void {
    const now = this.#clock();
    if (i.kind === 'proposal') {
      const p = i.proposal;
      this.#trace.proposalIn(p.height, p.round, now, p.block.txs.length, p.block.header.timeMs);
    } else if (i.kind === 'contents') {
      this.#trace.own('contentsIn', i.height, i.round, now);
    } else if (i.kind === 'vote') {
      const v = i.vote;
      this.#trace.vote(v.type, v.height, v.round, v.validatorIndex, v.blockHash === null, now);
    } else if (
      i.kind === 'timeout' &&
      i.timeout.step === 'propose' &&
      i.timeout.height === this.core.height &&
      i.timeout.round === this.core.round &&
      this.core.step === 'propose'
    ) {
      this.#trace.proposeTimeout(i.timeout.height, i.timeout.round, now);
    }
  }

  /** The height timeline: an own message left this node. */
  #traceOwn(m: ConsensusMessage): void {
    const now = this.#clock();
    if (m.kind === 'proposal') {
      const p = m.proposal;
      this.#trace.proposalIn(p.height, p.round, now, p.block.txs.length, p.block.header.timeMs);
      return;
    }
    const v = m.vote;
    this.#trace.ownVote(v.type, v.height, v.round, v.blockHash === null, now);
    this.#trace.vote(v.type, v.height, v.round, v.validatorIndex, v.blockHash === null, now);
  }

  /**
   * A height was decided: one debug line with its timeline, or an info line when it needed more than
   * one round (with why each earlier round failed here, also counted in ordo_consensus_round_failures_total).
   */
  #traceDecided(block: Block, cert: CommitCertificate, now: number): void {
    const h = block.header.height;
    const from = now - this.#trace.sinceStart(now);
    const s = this.#trace.decided(h, cert.round, block.txs.length, now, this.#stalls?.between(from, now));
    this.#trace.start(h + 1, now);
    if (s === undefined) return;
    for (const r of s.rounds) {
      if (r.failure !== undefined) this.#metrics.roundFailures(r.failure);
      if (r.buildEnd !== undefined && r.proposalIn !== undefined && r.buildError === undefined)
        this.#metrics.proposalSend.observe(Math.max(0, r.proposalIn - r.buildEnd) / 1000);
    }
    const stages = heightStages(s);
    if (stages !== undefined)
      for (const [stage, ms] of Object.entries(stages))
        this.#metrics.heightStage.labels(stage).observe(ms / 1000);
    const late = s.rounds.some(
      (r) =>
        r.buildEnd !== undefined && r.proposalIn !== undefined && r.proposalIn - r.buildEnd > LATE_SEND_MS,
    );
    if (cert.round > 0) this.#log.info(s, 'height decided after more than one round');
    else if (late) this.#log.info(s, 'own proposal left late');
    else this.#log.debug(s, 'height timeline');
  }

  #schedule(
    timeout: CoreAction & { kind: 'schedule' } extends { timeout: infer T } ? T : never,
    delayMs: number,
  ): void {
    if (!this.#running) return;
    const fire = (): void => this.#push({ input: { kind: 'timeout', timeout, nowMs: this.#clock() } });
    const cancel = this.#rt.setTimer(() => {
      this.#timers.delete(cancel);
      if (timeout.step === 'propose') this.#proposeTimeoutDue(timeout, delayMs, fire);
      else fire();
    }, delayMs);
    this.#timers.add(cancel);
  }

  /**
   * A propose timeout is due. A validator that cannot check any proposal of this height yet (its block
   * source's dependencies, the executor's results of h - 2, are not in) defers it, by at most one more
   * propose timeout: until they are in plus the share of the timeout a proposal needs to arrive and be
   * checked. Its proposer, as far behind, can only propose once its own results are in (ADR 0292).
   */
  #proposeTimeoutDue(timeout: TimeoutInfo, delayMs: number, fire: () => void): void {
    const src = this.#o.source;
    const current =
      timeout.height === this.core.height &&
      timeout.round === this.core.round &&
      this.core.step === 'propose';
    if (src.whenReady === undefined || !current || this.core.myIndex < 0) {
      fire();
      return;
    }
    let ready: true | Promise<boolean>;
    try {
      ready = src.whenReady(timeout.height, delayMs);
    } catch {
      ready = true;
    }
    if (ready === true) {
      fire();
      return;
    }
    const t0 = this.#clock();
    void ready.then(
      (ok) => {
        if (!this.#running) return;
        const left = delayMs - (this.#clock() - t0);
        const grace = Math.min(Math.floor(delayMs * (1 - BUILD_WAIT_SHARE)), left);
        this.#trace.proposeDeferred(timeout.height, timeout.round, Math.round(this.#clock() - t0));
        if (!ok || grace <= 0) {
          fire();
          return;
        }
        const c = this.#rt.setTimer(() => {
          this.#timers.delete(c);
          fire();
        }, grace);
        this.#timers.add(c);
      },
      () => fire(),
    );
  }

  async #build(
    height: number,
    round: number,
    maxBytes: number,
    maxTxs: number,
    waitMs: number,
  ): Promise<void> {
    const src = this.#o.source;
    const asked = this.#clock(); // the round started now (the core asks for contents as it enters it)
    const busy = this.#lastBlockTxs >= (this.#o.busyBlockTxs ?? 500) ? (this.#o.busyBlockIntervalMs ?? 0) : 0;
    const interval = Math.max(busy, this.#o.minBlockIntervalMs ?? 0);
    const period = this.#o.minBlockPeriodMs ?? 0;
    if ((interval > 0 || period > 0) && round === 0) {
      const now = this.#clock();
      let until = this.#lastCommitMs + interval;
      if (period > 0 && this.#lastBlockTimeMs > 0)
        until = Math.max(until, Math.min(this.#lastBlockTimeMs + period, now + period));
      const wait = until - now;
      if (wait > 0) {
        await sleep(this.#rt, wait);
        if (!this.#running || this.core.height !== height || this.core.round !== round) return;
      }
    }
    const deadline = this.#clock() + waitMs;
    this.#trace.buildStart(height, round, this.#clock());
    // What is left of the build's share of the round (ADR 0291): a build that waits for results the
    // executor is still producing proposes late but within the validators' timeout, where one that gives
    // up after a short fixed wait leaves the whole round to time out.
    // With a block source that defers validators' propose timeouts while they could not check a
    // proposal (ADR 0292), those may end up to one more propose timeout later: so may this wait.
    const p = proposeTimeoutMs(this.core.config.timeouts, round);
    const share = Math.floor(p * BUILD_WAIT_SHARE) + (src.whenReady === undefined ? 0 : p);
    const waitBudget = (): { waitMs: number } => ({
      waitMs: Math.max(0, share - (this.#clock() - asked)),
    });
    const build = async (): Promise<BuiltBlock | undefined> => {
      try {
        return await src.build(height, maxBytes, maxTxs, waitBudget());
      } catch (err) {
        // No proposal this round (e.g. the results to commit to are not ready): the round times out.
        this.#log.warn({ err: errorMessage(err), height, round }, 'block source could not build a block');
        const code = (err as { code?: unknown }).code;
        this.#trace.buildEnd(height, round, this.#clock(), typeof code === 'string' ? code : 'ERROR');
        return undefined;
      }
    };
    let contents = await build();
    if (contents === undefined) return;
    // Past the interval above: propose at once when there is something to propose; otherwise wait
    // (polling) up to `waitMs` for transactions, then propose an empty block.
    for (let i = 0; contents.txs.length === 0 && this.#clock() < deadline && i < 10_000; i++) {
      const pending = src.pendingTxs?.();
      await sleep(this.#rt, pending === undefined ? 20 : 5);
      if (!this.#running || this.core.height !== height || this.core.round !== round) return;
      if (pending !== undefined && (src.pendingTxs?.() ?? 0) === 0) continue;
      contents = await build();
      if (contents === undefined) return;
    }
    if (!this.#running || this.core.height !== height || this.core.round !== round) return;
    this.#trace.buildEnd(height, round, this.#clock());
    const before = this.#o.beforePropose;
    if (before !== undefined && contents.txs.length > 0) {
      let cancel = (): void => {};
      await Promise.race([
        before().catch((err: unknown) => this.#log.warn({ err: errorMessage(err) }, 'beforePropose failed')),
        new Promise<void>((r) => {
          cancel = this.#rt.setTimer(r, BEFORE_PROPOSE_MAX_MS);
        }),
      ]);
      cancel();
      if (!this.#running || this.core.height !== height || this.core.round !== round) return;
    }
    this.#trace.own('contentsQueued', height, round, this.#clock());
    this.#push({
      input: {
        kind: 'contents',
        height,
        round,
        txs: contents.txs,
        bundles: contents.bundles,
        dataHash: contents.dataHash,
        resultsHash: contents.resultsHash,
        auctionHash: contents.auctionHash,
        nowMs: this.#clock(),
      },
    });
  }

  /** ProcessProposal: the block source checks a proposal off the loop; the verdict goes back as an input. */
  async #verifyProposal(height: number, round: number, block: Block): Promise<void> {
    let verdict: ProposalVerdict;
    try {
      // Up to one propose timeout of the proposal's round: past the timeout the node has prevoted nil
      // anyway, but a late "ok" still lets it lock on the block and precommit it (rule 36) and accept
      // it when re-proposed, where a "not ready" verdict would refuse it for the whole height (ADR 0291).
      // (Twice that when propose timeouts may be deferred, ADR 0292.)
      const p = proposeTimeoutMs(this.core.config.timeouts, round);
      verdict = await this.#o.source.verify(block, {
        waitMs: this.#o.source.whenReady === undefined ? p : 2 * p,
      });
    } catch (err) {
      verdict = { ok: false, code: 'VERIFY_FAILED', message: errorMessage(err) };
    }
    if (!this.#running || this.core.height !== height) return;
    this.#trace.verifyEnd(height, round, this.#clock(), verdict.ok ? 'ok' : verdict.code);
    this.#push({
      input: { kind: 'verified', height, blockHash: this.#hash(block), verdict, nowMs: this.#clock() },
    });
  }

  /**
   * A decided block. The next height starts at once; the store write (fsync) and the commit listeners
   * run behind it in a pipeline, in height order, at most MAX_COMMITS_IN_FLIGHT deep. This is safe
   * because the WAL keeps every record of a height until its block is durable: after a crash the
   * replay decides the same block again and stores it (docs/consensus.md, "Crash safety").
   */
  async #commit(block: Block, cert: CommitCertificate): Promise<void> {
    const h = block.header.height;
    if (h <= Math.max(this.#decidedHeight, this.#o.store.height())) return; // replay past a durable block
    this.#decidedHeight = h;
    const now = this.#clock();
    if (this.#lastCommitMs > 0)
      this.#metrics.blockInterval.observe(Math.max(0, now - this.#lastCommitMs) / 1000);
    this.#lastCommitMs = now;
    if (!this.#replaying) this.#traceDecided(block, cert, now);
    this.#lastBlockTxs = block.txs.length;
    this.#lastBlockTimeMs = block.header.timeMs;
    try {
      this.#o.onDecided?.(block, cert);
    } catch (err) {
      this.#log.error({ err: errorMessage(err), height: h }, 'decided-block hook failed');
    }
    this.#commitsInFlight++;
    const p = this.#pendingCommit.then(() => this.#persist(block, cert));
    this.#pendingCommit = p.then(
      () => {
        this.#commitsInFlight--;
      },
      () => {
        this.#commitsInFlight--;
      },
    );
    // Replay stays strictly sequential; live, the pipeline is bounded.
    if (this.#replaying) await p;
    else if (this.#commitsInFlight > MAX_COMMITS_IN_FLIGHT) {
      const t0 = this.#clock();
      await p;
      this.#trace.commitWait(t0, this.#clock() - t0);
    }
  }

  async #persist(block: Block, cert: CommitCertificate): Promise<void> {
    const store = this.#o.store;
    const h = block.header.height;
    if (h <= store.height()) return;
    // The core has moved on but the block is not durable: signing halts, and the write is retried
    // with backoff until it succeeds (the WAL keeps the height's records meanwhile; a restart
    // decides the block again from them). Replay (start-up) does not retry: start fails instead.
    for (;;) {
      try {
        await store.commitBlock(block, cert);
        break;
      } catch (err) {
        if (!this.#running || (err as { code?: unknown }).code !== 'STORE_WRITE_FAILED') {
          // Not a write fault (a height or parent mismatch is a broken invariant): stop for good.
          this.#halt('STORAGE_COMMIT', err, { block: h });
          throw err;
        }
        this.#storage.fail('store', err);
        await this.#storage.backoff('store');
        if (!this.#running) throw err;
      }
    }
    this.#storage.clear('store');
    // Records of committed heights are skipped on replay; the file is compacted (rewritten with the
    // records of later heights only) once it grows past a bound, not on every block: that would cost
    // two fsyncs on the commit path.
    this.#walEntries = this.#walEntries.filter((e) => walEntryHeight(e) > h);
    if (this.#wal !== null && this.#wal.size > (this.#o.walCompactBytes ?? WAL_COMPACT_BYTES)) {
      this.#wal.compact(this.#walEntries).catch((err: unknown) => {
        this.#log.warn({ err: errorMessage(err) }, 'WAL compaction failed; the log stays as it was');
      });
    }
    this.#recordedOwn = new Map([...this.#recordedOwn].filter(([k]) => Number(k.split('/')[1]) > h));
    this.#metrics.commits.inc();
    this.#metrics.txs.inc(block.txs.length);
    this.#metrics.recordCertificate(cert);
    this.#log.debug(
      { height: h, round: cert.round, txs: block.txs.length, sigs: cert.sigs.length },
      'committed',
    );
    for (const l of this.#listeners) {
      try {
        await l(block, cert);
      } catch (err) {
        this.#log.error({ err: errorMessage(err), height: h }, 'commit listener failed');
      }
    }
  }

  async #storeEvidence(e: DuplicateVoteEvidence): Promise<void> {
    this.#metrics.evidence.inc();
    this.#log.warn(
      {
        validatorIndex: e.voteA.validatorIndex,
        height: e.voteA.height,
        round: e.voteA.round,
        type: e.voteA.type,
      },
      'duplicate vote evidence',
    );
    try {
      await this.#evidence.put(evidenceKey(e), encodeEvidence(e));
    } catch (err) {
      this.#log.error({ err: errorMessage(err) }, 'storing evidence failed');
    }
  }

  // ---------------------------------------------------------------- catch-up

  #requestCatchUp(from: number, target: number, peer?: PeerId): void {
    const w = this.#syncWanted;
    if (w === null || target > w.target)
      this.#syncWanted = { from, target, ...(peer === undefined ? {} : { peer }) };
    if (!this.#syncing) void this.#syncLoop();
  }

  async #syncLoop(): Promise<void> {
    this.#syncing = true;
    const timeoutMs = this.#o.syncTimeoutMs ?? 5000;
    try {
      for (let attempt = 0; attempt < 32 && this.#running && this.#syncWanted !== null; attempt++) {
        const want = this.#syncWanted;
        const peers = this.#o.network.peers();
        const ordered =
          want.peer !== undefined && peers.includes(want.peer)
            ? [want.peer, ...peers.filter((p) => p !== want.peer)]
            : peers;
        let progressed = false;
        for (const peer of ordered) {
          if (!this.#running) return;
          try {
            const st = await fetchStatus(this.#o.network, peer, timeoutMs);
            if (st.chainId !== this.#o.chainId) {
              this.#o.network.reportPeer(peer, 'bad-response');
              continue;
            }
            let next = this.core.committed.height + 1;
            while (this.#running && st.height >= next) {
              const to = Math.min(st.height, next + LIMITS.maxSyncBlocksPerRequest - 1);
              const blocks = await fetchCertifiedBlocks(this.#o.network, peer, next, to, timeoutMs);
              if (blocks.length === 0) break;
              let ok = true;
              for (const cb of blocks) {
                if (cb.block.header.height !== this.core.height) continue; // consensus got there first
                const actions = await this.#feed({
                  kind: 'synced',
                  block: cb.block,
                  certificate: cb.certificate,
                  from: peer,
                  nowMs: this.#clock(),
                });
                if (actions.some((a) => a.kind === 'reject')) {
                  ok = false;
                  break;
                }
                progressed = true;
              }
              if (!ok) {
                this.#o.network.reportPeer(peer, 'bad-response');
                break;
              }
              next = this.core.committed.height + 1;
            }
          } catch (err) {
            this.#log.debug({ peer, err: errorMessage(err) }, 'catch-up request failed');
            this.#o.network.reportPeer(peer, 'failed-request');
          }
          if (this.core.committed.height >= want.target) break;
        }
        if (this.core.committed.height >= (this.#syncWanted?.target ?? 0)) this.#syncWanted = null;
        else if (!progressed) await sleep(this.#rt, 250);
      }
    } finally {
      this.#syncing = false;
      this.#syncWanted = null;
    }
  }
}

import { hashOfBlock as hashOfBlockCached } from './state-machine.ts';

/** Encoded form of a message object (received bytes, or our encoding), so big proposals encode once. */
const encodedCache = new WeakMap<ConsensusMessage, Uint8Array>();
/** How many of the `fetched` transactions (by hash) sit inside one of the block's bundle spans. */
function bundleLegsAmong(txs: TxEnvelope[], spans: readonly BundleSpan[], fetched: Uint8Array[]): number {
  const first = new Map<Namespace, number>();
  for (let i = 0; i < txs.length; i++) if (!first.has(txs[i]!.namespace)) first.set(txs[i]!.namespace, i);
  const legs = new Set<string>();
  for (const sp of spans) {
    const f = first.get(sp.namespace);
    if (f === undefined) continue;
    for (let i = f + sp.start; i < Math.min(txs.length, f + sp.start + sp.count); i++)
      legs.add(latin1Key(txHash(txs[i]!)));
  }
  return fetched.filter((h) => legs.has(latin1Key(h))).length;
}

/** Compact gossip form of own proposals (rebroadcasts send the same bytes). */
const compactCache = new WeakMap<ConsensusMessage, Uint8Array>();

function encodeMessage(m: ConsensusMessage): Uint8Array {
  let b = encodedCache.get(m);
  if (b === undefined) {
    b = encodeConsensusMessage(m);
    encodedCache.set(m, b);
  }
  return b;
}

function heightOfMsg(m: ConsensusMessage): number {
  return m.kind === 'proposal' ? m.proposal.height : m.vote.height;
}
function roundOfMsg(m: ConsensusMessage): number {
  return m.kind === 'proposal' ? m.proposal.round : m.vote.round;
}
function heightOf(e: WalEntry & { type: 'own' }): number {
  return heightOfMsg(e.message);
}
function roundOf(e: WalEntry & { type: 'own' }): number {
  return roundOfMsg(e.message);
}

/**
 * The engine's metrics. The chain height is the store's (`ordo_chain_height`); the engine adds rounds,
 * missed proposals and per-validator signing, recorded from each certificate as its block is persisted
 * (so blocks fetched by catch-up count too). Label `validator` is the index in the genesis validator set.
 */
function makeMetrics(registry: Registry | undefined, set: ValidatorSet, currentRound: () => number) {
  const registers = registry === undefined ? [] : [registry];
  const n = set.validators.length;
  const byValidator = (name: string, help: string) => {
    const c = new Counter({ name, help, labelNames: ['validator'], registers });
    const children = Array.from({ length: n }, (_, i) => c.labels(String(i)));
    for (const child of children) child.inc(0); // every validator's series from the first scrape
    return (i: number) => children[i];
  };
  const proposalsMissed = byValidator(
    'ordo_consensus_proposals_missed_total',
    'Rounds whose proposer did not get its block committed (the height committed in a later round), by proposer',
  );
  const signed = byValidator(
    'ordo_consensus_validator_signed_total',
    'Commit certificates that carry this validator’s precommit',
  );
  const missed = byValidator(
    'ordo_consensus_validator_missed_total',
    'Commit certificates without this validator’s precommit',
  );
  return {
    round: new Gauge({
      name: 'ordo_consensus_round',
      help: 'Round of the height in progress (0 when heights commit in their first round)',
      registers,
      collect() {
        this.set(currentRound());
      },
    }),
    /** Who signed this certificate, and which proposers' rounds of its height did not commit. */
    recordCertificate(cert: CommitCertificate): void {
      const seen = new Uint8Array(n);
      for (const sig of cert.sigs)
        if (sig.validatorIndex >= 0 && sig.validatorIndex < n) seen[sig.validatorIndex] = 1;
      for (let i = 0; i < n; i++) (seen[i] === 1 ? signed(i) : missed(i))?.inc();
      const rounds = Math.min(cert.round, 10_000); // a verified certificate; the bound only guards the loop
      for (let r = 0; r < rounds; r++) proposalsMissed(proposerIndex(set, cert.height, r))?.inc();
    },
    commits: new Counter({ name: 'ordo_consensus_commits_total', help: 'Blocks committed', registers }),
    txs: new Counter({
      name: 'ordo_consensus_committed_txs_total',
      help: 'Transactions committed',
      registers,
    }),
    evidence: new Counter({
      name: 'ordo_consensus_evidence_total',
      help: 'Equivocations detected',
      registers,
    }),
    blockInterval: new Histogram({
      name: 'ordo_consensus_block_interval_seconds',
      help: 'Time between consecutive commits',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    compactFetched: new Counter({
      name: 'ordo_consensus_compact_fetched_txs_total',
      help: 'Transactions of compact proposals not in the mempool, fetched from peers',
      registers,
    }),
    proposalsSent: new Counter({
      name: 'ordo_consensus_proposals_sent_total',
      help: 'Own proposals gossiped with compactProposals on, by form (full: a transaction was not found locally)',
      labelNames: ['form'] as const,
      registers,
    }),
    compactFetchedBundleTxs: new Counter({
      name: 'ordo_consensus_compact_fetched_bundle_txs_total',
      help: 'Of ordo_consensus_compact_fetched_txs_total: the transactions inside a bundle span (bundle legs)',
      registers,
    }),
    compactQueued: new Counter({
      name: 'ordo_consensus_compact_queued_txs_total',
      help: 'Transactions of compact proposals missing from the pool but received by gossip and still waiting for admission here, taken from there, not fetched',
      registers,
    }),
    compactArrived: new Counter({
      name: 'ordo_consensus_compact_arrived_txs_total',
      help: 'Transactions of compact proposals missing from the pool at first that arrived by gossip during the short local wait, not fetched',
      registers,
    }),
    compactFetch: new Histogram({
      name: 'ordo_consensus_compact_fetch_seconds',
      help: 'Time a compact proposal rebuild waited for the transactions it fetched from peers',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    heightStage: (() => {
      const h = new Histogram({
        name: 'ordo_consensus_height_stage_seconds',
        help: 'Stages of each decided height on its critical path as this node saw it, by stage (height-trace.ts heightStages)',
        labelNames: ['stage'] as const,
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers,
      });
      for (const st of HEIGHT_STAGES) h.labels(st);
      return h;
    })(),
    compactFailed: new Counter({
      name: 'ordo_consensus_compact_failed_total',
      help: 'Compact proposals dropped because their transactions could not be fetched',
      registers,
    }),
    halted: new Gauge({
      name: 'ordo_consensus_storage_halted',
      help: '1 while signing is halted on a storage write fault (WAL or block store), else 0',
      registers,
    }),
    roundFailures: (() => {
      const c = new Counter({
        name: 'ordo_consensus_round_failures_total',
        help: 'Rounds that ended without a decision, by why, as this node saw it (build_failed, no_proposal, verify_late, rejected, prevotes_short, precommits_short, other)',
        labelNames: ['reason'] as const,
        registers,
      });
      for (const r of ROUND_FAILURES) c.labels(r).inc(0);
      return (r: RoundFailure) => c.labels(r).inc();
    })(),
    queueWait: new Histogram({
      name: 'ordo_consensus_queue_wait_seconds',
      help: 'Time an input (peer message, own block contents, timeout) waited in the consensus queue before the core took it',
      buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    proposalSend: new Histogram({
      name: 'ordo_consensus_proposal_send_seconds',
      help: 'Own proposals: from the end of the build to the hand-off to p2p (gossip flush, queue, WAL fsync)',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    loopStalls: new Histogram({
      name: 'ordo_event_loop_stall_seconds',
      help: 'Main-thread stalls of 50 ms or more (a 20 ms timer fired this late), seen by consensus',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    walSync: new Histogram({
      name: 'ordo_consensus_wal_fsync_seconds',
      help: 'WAL fsync latency before own messages are sent',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers,
    }),
  };
}

function noop(): void {}

/** Read the last committed state from the store (height, hash, time, certificate). */
export async function loadCommittedState(store: BlockStore, genesisTimeMs: number): Promise<CommittedState> {
  const height = store.height();
  if (height === 0) return { height: 0, blockHash: ZERO_HASH, timeMs: genesisTimeMs, certificate: null };
  const block = await store.getBlock(height);
  const cert = await store.getCertificate(height);
  if (block === undefined || cert === undefined) {
    throw new OrdoError(
      'CONSENSUS_STORE_INCONSISTENT',
      `store reports height ${height} but block or certificate is missing`,
    );
  }
  return { height, blockHash: hashOfBlockCached(block), timeMs: block.header.timeMs, certificate: cert };
}

/** Build an engine on an open store. */
export async function createConsensusEngine(opts: ConsensusEngineOptions): Promise<Engine> {
  const committed = await loadCommittedState(opts.store, opts.genesisTimeMs);
  return new Engine(opts, committed);
}
