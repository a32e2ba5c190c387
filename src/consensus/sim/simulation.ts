/**
 * The deterministic consensus simulator. Every honest validator is the production `Engine`
 * (engine.ts): compact proposals, pipelined commit, its WAL and the WAL's replay after a crash,
 * catch-up over the 'sync' protocol, fail-stop. It runs in virtual time: each engine gets a
 * `Runtime` (runtime.ts), a `Network`, a block store and a `MemoryDisk` (persistence.ts) that are all
 * driven by ONE seeded event queue, so a run is a function of its seed and a failing seed replays the
 * same failure. Between two events the simulator lets the engines' promise chains settle (no real I/O
 * exists, so that is the same every time).
 *
 * Fault model: message delay, drop, duplication and reordering before global stabilisation time
 * (GST), partitions that heal (a node cut off for many heights catches up through sync), crash and
 * restart at any point (mid-fsync, mid-commit pipeline, mid-replay) with the WAL's unsynced tail lost
 * or torn and the sign guard's unsynced update lost, storage that fails (the node must halt), and
 * Byzantine validators (equivocating proposer, double voting, votes for unknown blocks, stale and
 * future rounds and heights, bad signatures, lying sync answers, Twins: two nodes holding one key,
 * and a coordinated split-brain adversary). Byzantine nodes are raw state-machine cores with a
 * crafted message source; only honest nodes must be the real engine.
 *
 * The oracle checks, while the run goes: no two honest nodes commit different blocks at a height,
 * every honest store is a hash-linked chain, every honest certificate verifies, no honest validator
 * ever sends two different messages for one (height, round, type), evidence never names an honest
 * validator, an honest node halts only when its storage failed (and then it must halt), and, after
 * GST, every honest node that did not halt keeps committing.
 */
import pino from 'pino';
import {
  decodeEvidence,
  decodeGossipConsensusMessage,
  decodeSyncRequest,
  encodeConsensusMessage,
  headerHash,
  proposalFromCompact,
  proposalSignBytes,
  voteSignBytes,
} from '../../codec/index.ts';
import { Ed25519Signer, sha256, toHex } from '../../crypto/index.ts';
import { errorMessage, OrdoError } from '../../errors.ts';
import type { GossipHandler, Network, PeerId, Protocol, RequestHandler } from '../../p2p/index.ts';
import type { BlockStore } from '../../store/index.ts';
import type {
  Block,
  CertifiedBlock,
  CommitCertificate,
  ConsensusMessage,
  Proposal,
  TxEnvelope,
  Vote,
} from '../../types.ts';
import { verifyCertificate } from '../certificate.ts';
import { createConsensusEngine, type Engine } from '../engine.ts';
import { MemoryDisk } from '../persistence.ts';
import type { Runtime } from '../runtime.ts';
import { type ConsensusSigner, ed25519Verify, fakeSigner, fakeVerify, type VerifyFn } from '../signing.ts';
import { ConsensusCore, type CoreAction, hashOfBlock, type TimeoutConfig } from '../state-machine.ts';
import { createSyncHandler } from '../sync.ts';
import { MemoryBlockStore } from '../testing/memory-store.ts';
import type { BlockSource, BuiltBlock, ValidatorSet } from '../types.ts';
import { makeValidatorSet } from '../validators.ts';
import { SimTxPool, simBlockSource } from './block-source.ts';
import { Rng } from './rng.ts';
import { validateSchedule } from './schedule.ts';

/**
 * `bad-bundles`: messages like an honest node, but as proposer it proposes what `byzantineBuild` makes
 * (the bundle simulation: split, reordered, truncated, duplicated or dropped bundle legs, cycles).
 */
export type Behaviour =
  | 'silent'
  | 'equivocate'
  | 'double-vote'
  | 'garbage'
  | 'twins'
  | 'split'
  | 'bad-bundles';

export interface Partition {
  startMs: number;
  endMs: number;
  /** Group number per NODE id (validators first, then twin nodes in order of creation). */
  groupOf: number[];
}

/** Checked before a run (schedule.ts): a known honest validator, 0 ≤ atMs < restartMs, no overlap. */
export interface Crash {
  /** Validator index of an honest node. */
  node: number;
  atMs: number;
  restartMs: number;
  /**
   * Crash not at `atMs` but at the first moment after it that the node is in this stage: `fsync` (an
   * own message waits for its WAL fsync, not yet sent) or `commit` (a decided block's store write is
   * in flight, also during a WAL replay). No crash if it does not happen before `restartMs`.
   */
  stage?: 'fsync' | 'commit';
}

export interface StorageFailure {
  /** Validator index of an honest node: from `atMs` on its WAL and block store writes fail. */
  node: number;
  atMs: number;
}

export interface SimConfig {
  seed: number;
  powers: number[];
  byzantine: { index: number; behaviour: Behaviour }[];
  /** Before GST. */
  minDelayMs: number;
  maxDelayMs: number;
  dropRate: number;
  dupRate: number;
  /** After GST: delay in [minDelayMs, syncDelayMs], no drops, no duplicates. */
  syncDelayMs: number;
  partitions: Partition[];
  crashes: Crash[];
  gstMs: number;
  /** Each honest node must commit this many heights beyond the highest honest height at GST. */
  livenessHeights: number;
  /** Virtual time allowed after GST for the liveness target. */
  livenessBudgetMs: number;
  /** Per-node clock skew bound (ms). */
  maxSkewMs: number;
  timeouts: TimeoutConfig;
  realSignatures?: boolean;
  /** Honest engines gossip own proposals in compact form (default false). */
  compactProposals?: boolean;
  /** Probability that a node already holds a transaction another node built (default 1). */
  txGossipRate?: number;
  /** Probability that a proposer finds no transactions at first (default 0). */
  emptyRate?: number;
  /** Upper bound of a block store commit's latency (default 0). */
  storeLatencyMs?: number;
  /** Upper bound of a WAL fsync's latency (default 0). */
  walSyncLatencyMs?: number;
  /** Honest nodes whose storage fails: they must halt; they count against the fault bound. */
  storageFailures?: StorageFailure[];
  /** TEST ONLY: crashed nodes lose their WAL and sign guard (shows the double-sign oracle has teeth). */
  amnesia?: boolean;
  /** Safety net: stop after this many events. */
  maxEvents?: number;
  /** Honest nodes' block source (default `simBlockSource`); the bundle simulation plugs the real builder in. */
  blockSource?: (node: number, rng: Rng, pool: SimTxPool) => BlockSource;
  /** What a Byzantine proposer proposes (default: one random transaction, no commitments). */
  byzantineBuild?: (node: number, height: number, round: number, rng: Rng) => BuiltBlock;
  /** Called for every block an honest node decides (it holds a commit certificate). */
  onDecided?: (node: number, block: Block) => void;
  /**
   * Throughput workload (bench/scaling.ts): every proposer fills its block with `txsPerBlock`
   * transactions of `txBytes` bytes each (saturated load) instead of 0..2 tiny ones.
   */
  workload?: { txsPerBlock: number; txBytes: number };
  /**
   * Per-node uplink bandwidth in bytes per virtual ms (default unlimited): a node's outgoing messages
   * queue behind each other on its uplink. With a workload, each block's transaction gossip is charged
   * to every node's uplink when the block is built: (txsPerBlock × txBytes) × (n − 1) / n bytes each, the
   * share of batched tx gossip when submissions are spread evenly over the nodes.
   */
  uplinkBytesPerMs?: number;
  /** Called at every first honest commit of a height (virtual time), for measurements. */
  onCommit?: (height: number, txs: number, atMs: number) => void;
  /** Called when an honest proposer has built a block (virtual time), for measurements. */
  onBuild?: (height: number, atMs: number) => void;
}

export const SIM_TIMEOUTS: TimeoutConfig = {
  proposeMs: 100,
  prevoteMs: 50,
  precommitMs: 50,
  deltaMs: 50,
  emptyBlockWaitMs: 40,
  rebroadcastMs: 300,
};

export interface SimResult {
  seed: number;
  violations: string[];
  /** Committed (durable) height per honest validator. */
  heights: number[];
  events: number;
  virtualTimeMs: number;
  evidence: number;
  maxRound: number;
  /** Sync requests answered, by kind: catch-up (`status`, `blocks`) and compact-proposal fetches (`txs`). */
  syncRequests: { status: number; blocks: number; txs: number };
  /** Honest nodes that halted (fail-stop). */
  halted: number;
  /** WAL records lost to crashes (unsynced tails, torn records included). */
  lostWalRecords: number;
  /**
   * What each crash interrupted: `recovering` (loading or replaying the WAL), `fsync` (an own message
   * waiting for its WAL fsync), `commit` (a decided block's store write in flight), else `running`.
   */
  crashes: { recovering: number; fsync: number; commit: number; running: number };
}

const CHAIN = 'ordo-sim';
const SYNC_TIMEOUT_MS = 400;

interface Ev {
  t: number;
  seq: number;
  fn: () => void;
  dead: boolean;
}

class Heap {
  readonly #a: Ev[] = [];
  get size(): number {
    return this.#a.length;
  }
  #less(x: Ev, y: Ev): boolean {
    return x.t < y.t || (x.t === y.t && x.seq < y.seq);
  }
  push(e: Ev): void {
    const a = this.#a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Ev | undefined {
    const a = this.#a;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.#less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.#less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

interface LastSigned {
  h: number;
  r: number;
  steps: Partial<Record<'proposal' | 'prevote' | 'precommit', string>>;
}

/** One node's network endpoint (one per incarnation: a crash kills it). */
interface Endpoint extends Network {
  readonly inc: number;
  readonly subs: Map<string, GossipHandler>;
  readonly handlers: Map<Protocol, RequestHandler>;
  readonly connectListeners: ((peer: PeerId) => void)[];
}

interface SimNode {
  id: number;
  validator: number;
  byz: Behaviour | null;
  signer: ConsensusSigner;
  skewMs: number;
  /** Process running (messages are delivered). */
  up: boolean;
  /** Started and serving (counts as a connected peer). */
  ready: boolean;
  /** Incarnation: bumped by crash and restart; timers and deliveries of older ones are dropped. */
  inc: number;
  // Honest nodes: the real engine and what survives it.
  disk: MemoryDisk;
  store: MemoryBlockStore;
  engine: Engine | null;
  net: Endpoint | null;
  storageFailed: boolean;
  /** Store writes and WAL fsyncs in flight (what a crash interrupts). */
  commitsInFlight: number;
  syncsInFlight: number;
  /** An armed stage-triggered crash (see Crash.stage). */
  crashOn: Crash | null;
  // Byzantine nodes: a raw core with a crafted message source.
  core: ConsensusCore | null;
  log: CertifiedBlock[];
  lastSigned: LastSigned | null;
  syncHandler: RequestHandler | null;
}

const NEVER_ABORTED = new AbortController().signal;
const SILENT = pino({ level: 'silent' });

const drain = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Simulation {
  readonly cfg: SimConfig;
  readonly set: ValidatorSet;
  readonly nodes: SimNode[] = [];
  readonly violations: string[] = [];
  readonly #rng: Rng;
  readonly #verify: VerifyFn;
  readonly #heap = new Heap();
  readonly #honest: Set<number>;
  readonly #pool: SimTxPool;
  #seq = 0;
  #honestCommitted = true;
  #now = 0;
  #events = 0;
  #maxRound = 0;
  readonly #syncRequests = { status: 0, blocks: 0, txs: 0 };
  readonly #crashes = { recovering: 0, fsync: 0, commit: 0, running: 0 };
  /** First honest commit per height (hex hash). */
  readonly #canonical = new Map<number, string>();
  /** Every message an honest node sent signed by an honest validator: validator/kind/h/r → hash. */
  readonly #signed = new Map<string, string>();
  /** Split-brain adversary: per height/round, the block shown to each honest group. */
  readonly #splitHashes = new Map<string, [Uint8Array, Uint8Array]>();
  readonly #splitGroup: number[] = [];
  #links = new Set<string>();
  readonly #encoded = new WeakMap<ConsensusMessage, Uint8Array>();
  /** Per node: virtual time its uplink is free again (only with `uplinkBytesPerMs`). */
  readonly #uplinkFree: number[] = [];

  /** Throws a `SimScheduleError` (schedule.ts) if `cfg`'s crashes, storage failures or partitions are impossible. */
  constructor(cfg: SimConfig) {
    validateSchedule(cfg);
    this.cfg = cfg;
    this.#rng = new Rng(cfg.seed);
    const signers = cfg.powers.map((_, i) => {
      const seed = sha256(new TextEncoder().encode(`ordo-sim-key/${cfg.seed}/${i}`));
      if (cfg.realSignatures === true) return new Ed25519Signer(seed);
      return fakeSigner(seed);
    });
    this.#verify = cfg.realSignatures === true ? ed25519Verify : fakeVerify;
    this.set = makeValidatorSet(
      signers.map((s, i) => ({ publicKey: s.publicKey, votingPower: cfg.powers[i]! })),
    );
    const byz = new Map(cfg.byzantine.map((b) => [b.index, b.behaviour]));
    this.#honest = new Set(cfg.powers.map((_, i) => i).filter((i) => !byz.has(i)));
    const mk = (validator: number): SimNode => ({
      id: this.nodes.length,
      validator,
      byz: byz.get(validator) ?? null,
      signer: signers[validator]!,
      skewMs: cfg.maxSkewMs === 0 ? 0 : this.#rng.int(-cfg.maxSkewMs, cfg.maxSkewMs),
      up: false,
      ready: false,
      inc: 0,
      disk: new MemoryDisk(),
      store: new MemoryBlockStore(),
      engine: null,
      net: null,
      storageFailed: false,
      commitsInFlight: 0,
      syncsInFlight: 0,
      crashOn: null,
      core: null,
      log: [],
      lastSigned: null,
      syncHandler: null,
    });
    for (let i = 0; i < cfg.powers.length; i++) this.nodes.push(mk(i));
    for (const b of cfg.byzantine) if (b.behaviour === 'twins') this.nodes.push(mk(b.index));
    this.#pool = new SimTxPool(this.#rng, this.nodes.length, cfg.txGossipRate ?? 1);
    // Split-brain groups: honest nodes alternate between two halves.
    let g = 0;
    for (const n of this.nodes) this.#splitGroup[n.id] = n.byz === null ? g++ % 2 : -1;
    for (const n of this.nodes) this.#wireStorage(n);
  }

  // ---------------------------------------------------------------- scheduler

  /** Run `fn` after `delayMs` of virtual time; returns a cancel function. Never runs synchronously. */
  #schedule(delayMs: number, fn: () => void): () => void {
    const e: Ev = { t: this.#now + Math.max(0, delayMs), seq: this.#seq++, fn, dead: false };
    this.#heap.push(e);
    return () => {
      e.dead = true;
    };
  }

  /** A node's runtime: its skewed clock, and timers that die with its incarnation. */
  #runtime(n: SimNode): Runtime {
    const inc = n.inc;
    return {
      now: () => Math.max(0, this.#now + n.skewMs),
      monotonicMs: () => this.#now,
      setTimer: (fn, ms) =>
        this.#schedule(ms, () => {
          if (n.inc === inc) fn();
        }),
    };
  }

  // ---------------------------------------------------------------- running

  async run(): Promise<SimResult> {
    const cfg = this.cfg;
    for (const n of this.nodes) {
      if (n.byz === 'silent') continue;
      if (n.byz === null) this.#schedule(0, () => void this.#bootHonest(n));
      else this.#bootByzantine(n);
    }
    // Crashes first: one armed for the moment of a restart catches that restart's WAL replay.
    for (const c of cfg.crashes) {
      const n = this.nodes[c.node]!;
      this.#at(c.atMs, () => {
        if (c.stage === undefined) this.#crash(n);
        else n.crashOn = c;
      });
    }
    for (const c of cfg.crashes) {
      const n = this.nodes[c.node]!;
      this.#at(c.restartMs, () => {
        if (n.crashOn === c) n.crashOn = null; // its stage never came: no crash
        void this.#bootHonest(n);
      });
    }
    for (const f of cfg.storageFailures ?? []) this.#at(f.atMs, () => this.#failStorage(this.nodes[f.node]!));
    for (const p of cfg.partitions) {
      this.#at(p.startMs, () => this.#refreshLinks());
      this.#at(p.endMs, () => this.#refreshLinks());
    }
    const maxEvents = cfg.maxEvents ?? 2_000_000;
    let target = -1;
    const deadline = cfg.gstMs + cfg.livenessBudgetMs;
    await drain();
    while (this.#heap.size > 0 && this.#events < maxEvents) {
      const e = this.#heap.pop()!;
      if (e.dead) continue;
      if (e.t > deadline) break;
      this.#now = e.t;
      if (target < 0 && this.#now >= cfg.gstMs) target = this.#maxHonestHeight() + cfg.livenessHeights;
      if (target >= 0 && this.#honestCommitted && this.#live().every((n) => n.store.height() >= target))
        break;
      this.#honestCommitted = false;
      this.#events++;
      e.fn();
      await drain();
      if (this.violations.length > 20) break;
    }
    if (target < 0) target = this.#maxHonestHeight() + cfg.livenessHeights;
    for (const n of this.#live()) {
      if (n.store.height() < target) {
        this.violations.push(
          `liveness: honest validator ${n.validator} reached height ${n.store.height()}, not ${target}, by ${this.#now} ms (GST ${cfg.gstMs} ms)`,
        );
      }
    }
    let halted = 0;
    for (const n of this.#honestNodes()) {
      const h = n.engine?.health() ?? { ok: true };
      if (!h.ok) halted++;
      if (!h.ok && !n.storageFailed)
        this.violations.push(`halt: honest validator ${n.validator} halted: ${h.code} ${h.reason}`);
      if (h.ok && n.storageFailed)
        this.violations.push(`fail-stop: validator ${n.validator} kept running on failing storage`);
      if (!h.ok && n.storageFailed && !/^(STORAGE_|WAL_|STORE_)/.test(h.code))
        this.violations.push(`fail-stop: validator ${n.validator} halted with ${h.code}, not a storage code`);
    }
    const evidence = await this.#checkEvidence();
    return {
      seed: cfg.seed,
      violations: this.violations,
      heights: this.#honestNodes().map((n) => n.store.height()),
      events: this.#events,
      virtualTimeMs: this.#now,
      evidence,
      maxRound: this.#maxRound,
      syncRequests: { ...this.#syncRequests },
      halted,
      lostWalRecords: this.#honestNodes().reduce((a, n) => a + n.disk.lostRecords, 0),
      crashes: { ...this.#crashes },
    };
  }

  #at(t: number, fn: () => void): void {
    this.#schedule(t - this.#now, fn);
  }

  #honestNodes(): SimNode[] {
    return this.nodes.filter((n) => n.byz === null);
  }

  /** Honest nodes expected to make progress (not halted by an injected storage failure). */
  #live(): SimNode[] {
    return this.nodes.filter((n) => n.byz === null && !n.storageFailed);
  }

  #maxHonestHeight(): number {
    return Math.max(0, ...this.#live().map((n) => n.store.height()));
  }

  async #checkEvidence(): Promise<number> {
    let count = 0;
    for (const n of this.#honestNodes()) {
      for await (const [, v] of n.store.sub('evidence').range({ limit: 10_000 })) {
        count++;
        const e = decodeEvidence(v);
        const culprit = e.voteA.validatorIndex;
        if (this.#honest.has(culprit)) {
          this.violations.push(
            `evidence: validator ${n.validator} holds evidence naming honest validator ${culprit} at height ${e.voteA.height}`,
          );
        }
      }
    }
    return count;
  }

  // ---------------------------------------------------------------- honest nodes (the real engine)

  /** The store's commit: seeded latency, fenced by incarnation (a crash mid-write loses it), oracle. */
  #wireStorage(n: SimNode): void {
    const store = n.store;
    const commit = store.commitBlock.bind(store);
    const maxLatency = this.cfg.storeLatencyMs ?? 0;
    store.commitBlock = async (block: Block, cert: CommitCertificate): Promise<void> => {
      const inc = n.inc;
      const trigger = n.crashOn?.stage === 'commit';
      if (maxLatency > 0 || trigger) {
        const ms = this.#rng.int(trigger ? 1 : 0, Math.max(1, maxLatency));
        n.commitsInFlight++;
        if (trigger) this.#schedule(0, () => this.#crash(n));
        await new Promise<void>((r) => this.#schedule(ms, r));
        if (n.inc === inc) n.commitsInFlight--;
      }
      if (n.inc !== inc) return new Promise<void>(() => {}); // power lost mid-write: never lands
      if (n.storageFailed) throw new OrdoError('STORE_IO', 'simulated disk failure: block store write');
      await commit(block, cert);
      if (n.byz === null) this.#onHonestCommit(n, block, cert);
    };
    const walLatency = this.cfg.walSyncLatencyMs ?? 0;
    if (walLatency > 0 || this.cfg.crashes.some((c) => c.node === n.id && c.stage === 'fsync')) {
      n.disk.syncDelay = () => {
        const trigger = n.crashOn?.stage === 'fsync';
        const ms = this.#rng.int(trigger ? 1 : 0, Math.max(1, walLatency));
        const inc = n.inc;
        n.syncsInFlight++;
        if (trigger) this.#schedule(0, () => this.#crash(n));
        return new Promise<void>((r) =>
          this.#schedule(ms, () => {
            if (n.inc === inc) n.syncsInFlight--;
            r();
          }),
        );
      };
    }
  }

  async #bootHonest(n: SimNode): Promise<void> {
    if (n.up) return;
    n.up = true;
    n.inc++;
    const inc = n.inc;
    const net = this.#endpoint(n);
    n.net = net;
    let engine: Engine;
    try {
      engine = await createConsensusEngine({
        chainId: CHAIN,
        validators: this.set,
        signer: n.signer,
        network: net,
        store: n.store as BlockStore,
        source:
          this.cfg.blockSource?.(n.id, this.#rng, this.#pool) ??
          simBlockSource(n.id, this.#rng, this.#pool, this.cfg.emptyRate ?? 0, {
            ...(this.cfg.workload !== undefined ? { workload: this.cfg.workload } : {}),
            onBuilt: (height, txs) => this.#onBuilt(n, height, txs),
          }),
        genesisTimeMs: 0,
        persistence: n.disk,
        runtime: this.#runtime(n),
        timeouts: this.cfg.timeouts,
        timeBoundMs: 2000,
        verify: this.#verify,
        compactProposals: this.cfg.compactProposals === true,
        txLookup: async (hashes) =>
          hashes.map((h) => this.#pool.find(n.id, h)).filter((t): t is TxEnvelope => t !== undefined),
        syncTimeoutMs: SYNC_TIMEOUT_MS,
        // SIM_DEBUG=<node id> prints that engine's log (replaying a failing seed).
        logger: process.env.SIM_DEBUG === String(n.id) ? pino({ level: 'debug' }) : SILENT,
        minBlockIntervalMs: 50,
        onDecided: (block) => {
          this.#pool.learn(n.id, block);
          this.cfg.onDecided?.(n.id, block);
        },
      });
    } catch (err) {
      if (n.inc === inc) this.violations.push(`boot: validator ${n.validator}: ${errorMessage(err)}`);
      return;
    }
    if (n.inc !== inc) return; // crashed while loading
    n.engine = engine;
    try {
      await engine.start();
    } catch (err) {
      if (n.inc === inc && !n.storageFailed)
        this.violations.push(`start: validator ${n.validator}: ${errorMessage(err)}`);
      return;
    }
    if (n.inc !== inc) return;
    n.ready = true;
    this.#refreshLinks();
  }

  #crash(n: SimNode): void {
    if (!n.up) return;
    const stage = !n.ready
      ? 'recovering'
      : n.syncsInFlight > 0
        ? 'fsync'
        : n.commitsInFlight > 0
          ? 'commit'
          : 'running';
    this.#crashes[stage]++;
    n.crashOn = null;
    n.syncsInFlight = 0;
    n.commitsInFlight = 0;
    n.up = false;
    n.ready = false;
    n.inc++;
    if (this.cfg.amnesia === true) {
      n.disk.wipe();
    } else {
      const unsynced = n.disk.length - n.disk.durable;
      n.disk.crash({
        keepUnsynced: this.#rng.int(0, unsynced),
        tornTail: this.#rng.chance(0.5),
        loseGuard: this.#rng.chance(0.5),
      });
    }
    n.engine = null;
    n.net = null;
    n.core = null;
    this.#refreshLinks();
  }

  #failStorage(n: SimNode): void {
    n.storageFailed = true;
    n.disk.failWrites = true;
  }

  #onHonestCommit(n: SimNode, block: Block, certificate: CommitCertificate): void {
    const h = block.header.height;
    this.#honestCommitted = true;
    if (certificate.round > this.#maxRound) this.#maxRound = certificate.round;
    const hash = hashOfBlock(block);
    const hex = toHex(hash);
    const canon = this.#canonical.get(h);
    if (canon === undefined) {
      this.#canonical.set(h, hex);
      this.cfg.onCommit?.(h, block.txs.length, this.#now);
    } else if (canon !== hex) {
      this.violations.push(
        `agreement: validator ${n.validator} committed ${hex.slice(0, 12)} at height ${h}, another honest node ${canon.slice(0, 12)}`,
      );
    }
    if (h > 1) {
      const parent = n.store.blocks[h - 2]!;
      if (toHex(block.header.parentHash) !== toHex(hashOfBlock(parent))) {
        this.violations.push(
          `chain: validator ${n.validator} block ${h} does not link to its block ${h - 1}`,
        );
      }
    }
    try {
      verifyCertificate(certificate, this.set, CHAIN, hash, { verify: this.#verify });
    } catch (err) {
      this.violations.push(`certificate: validator ${n.validator} height ${h}: ${errorMessage(err)}`);
    }
  }

  /** The double-sign oracle: every message an honest node sends, checked against all before it. */
  #checkSent(data: Uint8Array): void {
    let m: ReturnType<typeof decodeGossipConsensusMessage>;
    try {
      m = decodeGossipConsensusMessage(data);
    } catch (err) {
      this.violations.push(`wire: an honest node sent an undecodable message: ${errorMessage(err)}`);
      return;
    }
    let key: string;
    let hash: string;
    if (m.kind === 'vote') {
      const v = m.vote;
      key = `${v.validatorIndex}/${v.type}/${v.height}/${v.round}`;
      hash = v.blockHash === null ? '' : toHex(v.blockHash);
      if (!this.#honest.has(v.validatorIndex)) return;
    } else if (m.kind === 'proposal') {
      const p = m.proposal;
      if (!this.#honest.has(p.proposerIndex)) return;
      key = `${p.proposerIndex}/proposal/${p.height}/${p.round}`;
      hash = toHex(hashOfBlock(p.block));
    } else {
      const c = m.compact;
      if (!this.#honest.has(c.proposerIndex)) return;
      key = `${c.proposerIndex}/proposal/${c.height}/${c.round}`;
      hash = toHex(headerHash(c.header));
    }
    const prev = this.#signed.get(key);
    if (prev === undefined) this.#signed.set(key, hash);
    else if (prev !== hash) {
      const [v, kind, h, r] = key.split('/');
      this.violations.push(`double-sign: honest validator ${v} signed two ${kind}s at ${h}/${r}`);
    }
  }

  // ---------------------------------------------------------------- network

  #endpoint(n: SimNode): Endpoint {
    const inc = n.inc;
    const alive = (): boolean => n.up && n.inc === inc;
    const ep: Endpoint = {
      inc,
      peerId: String(n.id),
      subs: new Map(),
      handlers: new Map(),
      connectListeners: [],
      start: async () => {},
      stop: async () => {},
      publish: async (_topic, data) => {
        if (!alive()) return;
        this.#checkSent(data);
        for (const to of this.nodes) this.#deliver(n, to, data);
      },
      subscribe: (topic, handler) => {
        ep.subs.set(topic, handler);
      },
      handle: (protocol, handler) => {
        ep.handlers.set(protocol, handler);
      },
      request: (peer, protocol, data, opts) =>
        this.#request(n, alive, peer, protocol, data, opts?.timeoutMs ?? SYNC_TIMEOUT_MS),
      peers: () => (alive() ? this.#peersOf(n) : []),
      reportPeer: () => {},
      on: (event, listener) => {
        if (event === 'peer:connect') ep.connectListeners.push(listener as (p: PeerId) => void);
      },
    };
    return ep;
  }

  /** A proposer built a block: measurement hook, and the block's tx gossip charged to every uplink. */
  #onBuilt(_n: SimNode, height: number, txs: TxEnvelope[]): void {
    this.cfg.onBuild?.(height, this.#now);
    const bw = this.cfg.uplinkBytesPerMs;
    if (bw === undefined || this.cfg.workload === undefined || txs.length === 0) return;
    let bytes = 0;
    for (const t of txs) bytes += t.payload.byteLength;
    const n = this.nodes.length;
    const share = (bytes * (n - 1)) / n;
    for (const p of this.nodes) this.#occupyUplink(p, share);
  }

  /** Queue `bytes` on `n`'s uplink; returns the virtual time they have left it. */
  #occupyUplink(n: SimNode, bytes: number): number {
    const bw = this.cfg.uplinkBytesPerMs;
    if (bw === undefined) return this.#now;
    const done = Math.max(this.#now, this.#uplinkFree[n.id] ?? 0) + bytes / bw;
    this.#uplinkFree[n.id] = done;
    return done;
  }

  #delay(): number {
    const post = this.#now >= this.cfg.gstMs;
    return this.#rng.int(this.cfg.minDelayMs, post ? this.cfg.syncDelayMs : this.cfg.maxDelayMs);
  }

  #connected(a: number, b: number): boolean {
    for (const p of this.cfg.partitions) {
      if (this.#now >= p.startMs && this.#now < p.endMs && p.groupOf[a] !== p.groupOf[b]) return false;
    }
    return true;
  }

  #peersOf(n: SimNode): PeerId[] {
    const out: PeerId[] = [];
    for (const p of this.nodes) if (p !== n && p.ready && this.#connected(n.id, p.id)) out.push(String(p.id));
    return out;
  }

  /** New links (restart, healed partition) raise 'peer:connect' on both ends, as a transport does. */
  #refreshLinks(): void {
    const next = new Set<string>();
    for (const a of this.nodes) {
      if (!a.ready) continue;
      for (const b of this.nodes) {
        if (a === b || !b.ready || !this.#connected(a.id, b.id)) continue;
        const k = `${a.id}/${b.id}`;
        next.add(k);
        if (!this.#links.has(k)) for (const l of a.net?.connectListeners ?? []) l(String(b.id));
      }
    }
    this.#links = next;
  }

  /** One gossip leg with the fault model; delivered only to the incarnation that was up when sent. */
  #deliver(from: SimNode, to: SimNode, data: Uint8Array): void {
    if (to === from || !to.up || !this.#connected(from.id, to.id)) return;
    const pre = this.#now < this.cfg.gstMs;
    if (pre && this.#rng.chance(this.cfg.dropRate)) return;
    const copies = pre && this.#rng.chance(this.cfg.dupRate) ? 2 : 1;
    const inc = to.inc;
    for (let i = 0; i < copies; i++) {
      const queued = this.#occupyUplink(from, data.byteLength) - this.#now;
      this.#schedule(queued + this.#delay(), () => {
        if (!to.up || to.inc !== inc) return;
        if (to.byz === null) {
          void to.net?.subs.get('consensus')?.({ topic: 'consensus', from: String(from.id), data });
        } else {
          this.#byzantineReceive(to, from, data);
        }
      });
    }
  }

  /** A request/response leg pair with the fault model, bounded by the requester's timeout. */
  #request(
    from: SimNode,
    alive: () => boolean,
    peer: PeerId,
    protocol: Protocol,
    data: Uint8Array,
    timeoutMs: number,
  ): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      let done = false;
      const finish = (err: Error | null, resp?: Uint8Array): void => {
        if (done) return;
        done = true;
        cancelTimeout();
        if (err !== null) reject(err);
        else resolve(resp!);
      };
      const cancelTimeout = this.#schedule(timeoutMs, () =>
        finish(new OrdoError('P2P_REQUEST_TIMEOUT', `${protocol} request to ${peer} timed out`)),
      );
      const to = this.nodes[Number(peer)];
      const unreachable = (): void =>
        finish(new OrdoError('P2P_REQUEST_FAILED', `${protocol} request to ${peer} failed: unreachable`));
      if (to === undefined || !alive() || !to.up || !this.#connected(from.id, to.id)) {
        this.#schedule(1, unreachable);
        return;
      }
      const pre = (): boolean => this.#now < this.cfg.gstMs;
      if (pre() && this.#rng.chance(this.cfg.dropRate)) return; // lost: the requester times out
      const inc = to.inc;
      this.#schedule(this.#delay(), () => {
        const handler =
          to.up && to.inc === inc && this.#connected(from.id, to.id)
            ? to.byz === null
              ? to.net?.handlers.get(protocol)
              : (to.syncHandler ?? undefined)
            : undefined;
        if (handler === undefined) return unreachable();
        handler(String(from.id), data, NEVER_ABORTED).then(
          (resp) => {
            if (pre() && this.#rng.chance(this.cfg.dropRate)) return;
            this.#schedule(this.#delay(), () => {
              if (!alive() || !this.#connected(from.id, to.id)) return;
              try {
                this.#syncRequests[decodeSyncRequest(data).kind]++;
              } catch {
                // not a sync request: not counted
              }
              finish(null, resp);
            });
          },
          (err: unknown) =>
            this.#schedule(this.#delay(), () =>
              finish(new OrdoError('P2P_REQUEST_FAILED', `request failed: ${errorMessage(err)}`)),
            ),
        );
      });
    });
  }

  #encode(m: ConsensusMessage): Uint8Array {
    let b = this.#encoded.get(m);
    if (b === undefined) {
      b = encodeConsensusMessage(m);
      this.#encoded.set(m, b);
    }
    return b;
  }

  // ---------------------------------------------------------------- Byzantine nodes (raw cores)

  #byzGuard(
    n: SimNode,
    kind: 'proposal' | 'prevote' | 'precommit',
    h: number,
    r: number,
    hash: Uint8Array | null,
  ) {
    // Each Byzantine process alone never equivocates by accident (Twins do it as a pair).
    const hex = hash === null ? '' : toHex(hash);
    const l = n.lastSigned;
    if (l !== null && (h < l.h || (h === l.h && r < l.r))) return false;
    if (l !== null && h === l.h && r === l.r) {
      const prev = l.steps[kind];
      if (prev !== undefined) return prev === hex;
      l.steps[kind] = hex;
    } else {
      n.lastSigned = { h, r, steps: { [kind]: hex } };
    }
    return true;
  }

  #bootByzantine(n: SimNode): void {
    n.up = true;
    n.ready = true;
    n.inc++;
    n.core = new ConsensusCore(
      {
        chainId: CHAIN,
        validators: this.set,
        signer: n.signer,
        verify: this.#verify,
        timeouts: this.cfg.timeouts,
        timeBoundMs: 2000,
        skipEncodedSizeCheck: true,
        guard: (kind, h, r, hash) => this.#byzGuard(n, kind, h, r, hash),
      },
      { height: 0, blockHash: new Uint8Array(32), timeMs: 0, certificate: null },
    );
    if (n.byz === 'garbage') n.syncHandler = this.#lyingSyncHandler(n);
    this.#applyByzantine(n, n.core.handle({ kind: 'start', nowMs: this.#byzClock(n) }));
  }

  #byzClock(n: SimNode): number {
    return Math.max(0, this.#now + n.skewMs);
  }

  /** A sync server over the Byzantine node's log that forges blocks and strips certificates. */
  #lyingSyncHandler(n: SimNode): RequestHandler {
    const rng = this.#rng;
    const view = {
      height: () => n.log.length,
      baseHeight: () => 1,
      getBlockHash: async (h: number) => {
        const b = n.log[h - 1]?.block;
        return b === undefined ? undefined : hashOfBlock(b);
      },
      // A forged block under a real certificate...
      getBlock: async (h: number) => {
        const b = n.log[h - 1]?.block;
        if (b === undefined || !rng.chance(0.25)) return b;
        return { ...b, header: { ...b.header, timeMs: b.header.timeMs + 1 } };
      },
      // ...or a real block under a certificate stripped of its signatures.
      getCertificate: async (h: number) => {
        const c = n.log[h - 1]?.certificate;
        if (c === undefined || !rng.chance(0.25)) return c;
        return { ...c, sigs: c.sigs.slice(0, 1) };
      },
    } as unknown as BlockStore;
    return createSyncHandler({ store: view, chainId: CHAIN });
  }

  #byzantineReceive(n: SimNode, from: SimNode, data: Uint8Array): void {
    if (n.core === null) return;
    let m: ReturnType<typeof decodeGossipConsensusMessage>;
    try {
      m = decodeGossipConsensusMessage(data);
    } catch {
      return;
    }
    const nowMs = this.#byzClock(n);
    if (m.kind === 'compact') {
      // The adversary knows every transaction.
      const txs = m.compact.txHashes.map((h) => this.#pool.find(-1, h));
      if (txs.some((t) => t === undefined)) return;
      let proposal: Proposal;
      try {
        proposal = proposalFromCompact(m.compact, txs as TxEnvelope[]);
      } catch {
        return;
      }
      this.#applyByzantine(n, n.core.handle({ kind: 'proposal', proposal, from: String(from.id), nowMs }));
      return;
    }
    this.#applyByzantine(
      n,
      n.core.handle(
        m.kind === 'proposal'
          ? { kind: 'proposal', proposal: m.proposal, from: String(from.id), nowMs }
          : { kind: 'vote', vote: m.vote, from: String(from.id), nowMs },
      ),
    );
  }

  #applyByzantine(n: SimNode, actions: CoreAction[]): void {
    const inc = n.inc;
    const live = (): boolean => n.up && n.inc === inc && n.core !== null;
    for (const a of actions) {
      if (!live()) return;
      switch (a.kind) {
        case 'send':
          this.#byzantineSend(n, a.message);
          break;
        case 'relay':
          this.#broadcast(n, a.message);
          break;
        case 'schedule':
          this.#schedule(a.delayMs, () => {
            if (live())
              this.#applyByzantine(
                n,
                n.core!.handle({ kind: 'timeout', timeout: a.timeout, nowMs: this.#byzClock(n) }),
              );
          });
          break;
        case 'build':
          this.#schedule(Math.min(a.waitMs, this.#rng.int(0, a.waitMs + 2)), () => {
            if (!live()) return;
            const built = this.cfg.byzantineBuild?.(n.id, a.height, a.round, this.#rng);
            if (built !== undefined) {
              this.#applyByzantine(
                n,
                n.core!.handle({
                  kind: 'contents',
                  height: a.height,
                  round: a.round,
                  txs: built.txs,
                  bundles: built.bundles,
                  dataHash: built.dataHash,
                  resultsHash: built.resultsHash,
                  auctionHash: built.auctionHash,
                  nowMs: this.#byzClock(n),
                }),
              );
              return;
            }
            const txs: TxEnvelope[] = [
              {
                namespace: 1,
                payload: new Uint8Array([a.height & 255, a.round & 255, n.id, this.#rng.int(0, 255)]),
              },
            ];
            this.#applyByzantine(
              n,
              n.core!.handle({
                kind: 'contents',
                height: a.height,
                round: a.round,
                txs,
                bundles: [],
                nowMs: this.#byzClock(n),
              }),
            );
          });
          break;
        case 'commit':
          if (a.block.header.height === n.log.length + 1)
            n.log.push({ block: a.block, certificate: a.certificate });
          break;
        case 'catch-up':
          this.#byzantineCatchUp(n, a.fromHeight);
          break;
        default:
          break;
      }
    }
  }

  /** Byzantine nodes catch up straight from an honest store (they are not under test). */
  #byzantineCatchUp(n: SimNode, fromHeight: number): void {
    const peers = this.nodes.filter((p) => p.byz === null && p.up && this.#connected(n.id, p.id));
    if (peers.length === 0) return;
    const p = this.#rng.pick(peers);
    const blocks: CertifiedBlock[] = [];
    for (let h = fromHeight; h <= p.store.height() && blocks.length < 64; h++) {
      blocks.push({ block: p.store.blocks[h - 1]!, certificate: p.store.certs[h - 1]! });
    }
    if (blocks.length === 0) return;
    const inc = n.inc;
    this.#schedule(2 * this.#delay(), () => {
      for (const cb of blocks) {
        if (!n.up || n.inc !== inc || n.core === null) return;
        this.#applyByzantine(
          n,
          n.core.handle({
            kind: 'synced',
            block: cb.block,
            certificate: cb.certificate,
            from: String(p.id),
            nowMs: this.#byzClock(n),
          }),
        );
      }
    });
  }

  #broadcast(from: SimNode, msg: ConsensusMessage): void {
    const data = this.#encode(msg);
    for (const to of this.nodes) this.#deliver(from, to, data);
  }

  #sendTo(from: SimNode, to: SimNode, msg: ConsensusMessage): void {
    this.#deliver(from, to, this.#encode(msg));
  }

  #signVote(n: SimNode, v: Omit<Vote, 'signature' | 'validatorIndex'>): ConsensusMessage {
    const signature = n.signer.sign(voteSignBytes(CHAIN, v.type, v.height, v.round, v.blockHash));
    return { kind: 'vote', vote: { ...v, validatorIndex: n.validator, signature } };
  }

  #altProposal(n: SimNode, p: Proposal): Proposal {
    const block: Block = { ...p.block, header: { ...p.block.header, timeMs: p.block.header.timeMs + 1 } };
    const signature = n.signer.sign(
      proposalSignBytes(CHAIN, p.height, p.round, p.polRound, hashOfBlock(block)),
    );
    return { ...p, block, signature };
  }

  #byzantineSend(n: SimNode, msg: ConsensusMessage): void {
    const rng = this.#rng;
    switch (n.byz) {
      case 'twins':
      case 'bad-bundles':
        this.#broadcast(n, msg);
        return;
      case 'equivocate': {
        const alt: ConsensusMessage =
          msg.kind === 'proposal'
            ? { kind: 'proposal', proposal: this.#altProposal(n, msg.proposal) }
            : this.#signVote(n, {
                ...msg.vote,
                blockHash: msg.vote.blockHash === null ? rng.bytes(32) : null,
              });
        for (const to of this.nodes) this.#sendTo(n, to, rng.chance(0.5) ? msg : alt);
        return;
      }
      case 'double-vote': {
        this.#broadcast(n, msg);
        if (msg.kind === 'vote') {
          this.#broadcast(
            n,
            this.#signVote(n, { ...msg.vote, blockHash: msg.vote.blockHash === null ? rng.bytes(32) : null }),
          );
        }
        return;
      }
      case 'garbage': {
        this.#broadcast(n, msg);
        if (msg.kind !== 'vote') return;
        const v = msg.vote;
        const junk: ConsensusMessage[] = [];
        const pick = rng.int(0, 6);
        if (pick === 0) junk.push(this.#signVote(n, { ...v, blockHash: rng.bytes(32) })); // unknown block
        if (pick === 1) junk.push(this.#signVote(n, { ...v, round: v.round + rng.int(1, 6) })); // future round
        if (pick === 2 && v.round > 0)
          junk.push(this.#signVote(n, { ...v, round: v.round - 1, blockHash: rng.bytes(32) })); // stale round
        if (pick === 3) junk.push(this.#signVote(n, { ...v, height: v.height + rng.int(1, 3) })); // future height
        if (pick === 4) junk.push({ kind: 'vote', vote: { ...v, signature: rng.bytes(64) } }); // bad signature
        if (pick === 5)
          junk.push({ kind: 'vote', vote: { ...v, validatorIndex: this.set.validators.length + 3 } }); // unknown validator
        if (pick === 6)
          junk.push(this.#signVote(n, { ...v, height: Math.max(1, v.height - 1), blockHash: rng.bytes(32) })); // stale height
        for (const j of junk) this.#broadcast(n, j);
        return;
      }
      case 'split': {
        // Coordinated: the Byzantine proposer shows block A to honest group 0 and block B to group 1;
        // every Byzantine validator votes A towards group 0 and B towards group 1.
        if (msg.kind === 'proposal') {
          const p = msg.proposal;
          const alt = this.#altProposal(n, p);
          this.#splitHashes.set(`${p.height}/${p.round}`, [hashOfBlock(p.block), hashOfBlock(alt.block)]);
          for (const to of this.nodes) {
            this.#sendTo(n, to, this.#splitGroup[to.id] === 1 ? { kind: 'proposal', proposal: alt } : msg);
          }
          return;
        }
        const v = msg.vote;
        const pair = this.#splitHashes.get(`${v.height}/${v.round}`);
        if (pair === undefined) {
          this.#broadcast(n, msg);
          return;
        }
        const forGroup = [
          this.#signVote(n, { ...v, blockHash: pair[0] }),
          this.#signVote(n, { ...v, blockHash: pair[1] }),
        ];
        for (const to of this.nodes) {
          const g = this.#splitGroup[to.id]!;
          this.#sendTo(n, to, g === 1 ? forGroup[1]! : forGroup[0]!);
        }
        return;
      }
      default:
        return;
    }
  }
}

/** Run one configured scenario. */
export function simulate(cfg: SimConfig): Promise<SimResult> {
  let sim: Simulation;
  try {
    sim = new Simulation(cfg);
  } catch (err) {
    return Promise.reject(err); // an impossible schedule (SimScheduleError): a rejection, as for any failure
  }
  return sim.run();
}
