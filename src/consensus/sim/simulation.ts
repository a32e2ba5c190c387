/**
 * The deterministic consensus simulator. It drives many pure state-machine cores (state-machine.ts)
 * directly, with virtual time and ONE seeded scheduler, through a fault model: message delay, drop,
 * duplication and reordering before global stabilisation time (GST), partitions that heal, crash and
 * restart (with the WAL replayed exactly as the engine does, torn tail included), and Byzantine
 * validators (equivocating proposer, double voting, votes for unknown blocks, stale and future rounds
 * and heights, bad signatures, Twins: two nodes holding one key, and a coordinated split-brain
 * adversary). An oracle checks, while the run goes: no two honest nodes commit different blocks at a
 * height, every honest log is a hash-linked chain (so logs are prefixes of each other), every honest
 * certificate verifies, no honest validator ever signs two different messages for one
 * (height, round, type), evidence never names an honest validator, and, after GST, every honest node
 * keeps committing. Everything is a function of the seed: a failing seed replays the same failure.
 */
import { proposalSignBytes, voteSignBytes } from '../../codec/index.ts';
import { Ed25519Signer, sha256, toHex, ZERO_HASH } from '../../crypto/index.ts';
import type { Block, CertifiedBlock, ConsensusMessage, Proposal, TxEnvelope, Vote } from '../../types.ts';
import { verifyCertificate } from '../certificate.ts';
import { type ConsensusSigner, ed25519Verify, fakeSigner, fakeVerify, type VerifyFn } from '../signing.ts';
import {
  type CommittedState,
  ConsensusCore,
  type CoreAction,
  type CoreInput,
  hashOfBlock,
  inputHeight,
  type TimeoutConfig,
  type TimeoutInfo,
} from '../state-machine.ts';
import type { ValidatorSet } from '../types.ts';
import { makeValidatorSet } from '../validators.ts';
import { Rng } from './rng.ts';

export type Behaviour = 'silent' | 'equivocate' | 'double-vote' | 'garbage' | 'twins' | 'split';

export interface Partition {
  startMs: number;
  endMs: number;
  /** Group number per NODE id (validators first, then twin nodes in order of creation). */
  groupOf: number[];
}

export interface Crash {
  /** Validator index of an honest node. */
  node: number;
  atMs: number;
  restartMs: number;
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
  /** TEST ONLY: crashed nodes lose their WAL and sign guard (shows the double-sign oracle has teeth). */
  amnesia?: boolean;
  /** Safety net: stop after this many events. */
  maxEvents?: number;
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
  /** Committed height per honest validator. */
  heights: number[];
  events: number;
  virtualTimeMs: number;
  evidence: number;
  maxRound: number;
}

const CHAIN = 'ordo-sim';

type Event =
  | { t: number; seq: number; kind: 'deliver'; to: number; msg: ConsensusMessage; from: number }
  | { t: number; seq: number; kind: 'timeout'; node: number; inc: number; timeout: TimeoutInfo }
  | { t: number; seq: number; kind: 'contents'; node: number; inc: number; height: number; round: number }
  | {
      t: number;
      seq: number;
      kind: 'synced';
      node: number;
      inc: number;
      blocks: CertifiedBlock[];
      from: number;
    }
  | { t: number; seq: number; kind: 'crash'; node: number }
  | { t: number; seq: number; kind: 'restart'; node: number };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

class Heap {
  readonly #a: Event[] = [];
  get size(): number {
    return this.#a.length;
  }
  #less(x: Event, y: Event): boolean {
    return x.t < y.t || (x.t === y.t && x.seq < y.seq);
  }
  push(e: Event): void {
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
  pop(): Event | undefined {
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

interface SimNode {
  id: number;
  validator: number;
  byz: Behaviour | null;
  signer: ConsensusSigner;
  core: ConsensusCore | null;
  up: boolean;
  inc: number;
  /** The "store": certified blocks in height order. */
  log: CertifiedBlock[];
  /** The WAL: inputs since the last commit, and how much of it is durable. */
  wal: CoreInput[];
  walDurable: number;
  walOwn: Map<string, string>;
  lastSigned: LastSigned | null;
  skewMs: number;
  replaying: boolean;
}

function msgKey(m: ConsensusMessage): {
  kind: 'proposal' | 'prevote' | 'precommit';
  h: number;
  r: number;
  hash: string;
} {
  if (m.kind === 'proposal') {
    return {
      kind: 'proposal',
      h: m.proposal.height,
      r: m.proposal.round,
      hash: toHex(hashOfBlock(m.proposal.block)),
    };
  }
  const v = m.vote;
  return { kind: v.type, h: v.height, r: v.round, hash: v.blockHash === null ? '' : toHex(v.blockHash) };
}

export class Simulation {
  readonly cfg: SimConfig;
  readonly set: ValidatorSet;
  readonly nodes: SimNode[] = [];
  readonly violations: string[] = [];
  readonly #rng: Rng;
  readonly #verify: VerifyFn;
  readonly #heap = new Heap();
  readonly #honest: Set<number>;
  #seq = 0;
  #honestCommitted = true;
  #now = 0;
  #events = 0;
  #evidence = 0;
  #maxRound = 0;
  /** First honest commit per height (hex hash). */
  readonly #canonical = new Map<number, string>();
  /** Every honest signature: validator/kind/h/r → hash. */
  readonly #signed = new Map<string, string>();
  /** Split-brain adversary: per height/round, the block shown to each honest group. */
  readonly #splitHashes = new Map<string, [Uint8Array, Uint8Array]>();
  readonly #splitGroup: number[] = [];

  constructor(cfg: SimConfig) {
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
      core: null,
      up: false,
      inc: 0,
      log: [],
      wal: [],
      walDurable: 0,
      walOwn: new Map(),
      lastSigned: null,
      skewMs: cfg.maxSkewMs === 0 ? 0 : this.#rng.int(-cfg.maxSkewMs, cfg.maxSkewMs),
      replaying: false,
    });
    for (let i = 0; i < cfg.powers.length; i++) this.nodes.push(mk(i));
    for (const b of cfg.byzantine) if (b.behaviour === 'twins') this.nodes.push(mk(b.index));
    // Split-brain groups: honest nodes alternate between two halves.
    let g = 0;
    for (const n of this.nodes) this.#splitGroup[n.id] = n.byz === null ? g++ % 2 : -1;
  }

  // ---------------------------------------------------------------- running

  run(): SimResult {
    const cfg = this.cfg;
    for (const n of this.nodes) {
      if (n.byz === 'silent') continue;
      this.#boot(n, false);
    }
    for (const c of cfg.crashes) {
      this.#push({ kind: 'crash', node: c.node, t: c.atMs });
      this.#push({ kind: 'restart', node: c.node, t: c.restartMs });
    }
    const maxEvents = cfg.maxEvents ?? 2_000_000;
    let target = -1;
    const deadline = cfg.gstMs + cfg.livenessBudgetMs;
    while (this.#heap.size > 0 && this.#events < maxEvents) {
      const e = this.#heap.pop()!;
      if (e.t > deadline) break;
      this.#now = e.t;
      if (target < 0 && this.#now >= cfg.gstMs) {
        target = Math.max(0, ...this.#honestNodes().map((n) => n.log.length)) + cfg.livenessHeights;
      }
      if (target >= 0 && this.#honestCommitted && this.#honestNodes().every((n) => n.log.length >= target))
        break;
      this.#honestCommitted = false;
      this.#events++;
      this.#dispatch(e);
      if (this.violations.length > 0 && this.violations.length > 20) break;
    }
    if (target < 0)
      target = Math.max(0, ...this.#honestNodes().map((n) => n.log.length)) + cfg.livenessHeights;
    for (const n of this.#honestNodes()) {
      if (n.log.length < target) {
        this.violations.push(
          `liveness: honest validator ${n.validator} reached height ${n.log.length}, not ${target}, by ${this.#now} ms (GST ${cfg.gstMs} ms)`,
        );
      }
    }
    return {
      seed: cfg.seed,
      violations: this.violations,
      heights: this.#honestNodes().map((n) => n.log.length),
      events: this.#events,
      virtualTimeMs: this.#now,
      evidence: this.#evidence,
      maxRound: this.#maxRound,
    };
  }

  #honestNodes(): SimNode[] {
    return this.nodes.filter((n) => n.byz === null);
  }

  #push(e: DistributiveOmit<Event, 'seq'>): void {
    this.#heap.push({ ...e, seq: this.#seq++ } as Event);
  }

  #dispatch(e: Event): void {
    switch (e.kind) {
      case 'deliver': {
        const n = this.nodes[e.to]!;
        if (!n.up) return;
        const input: CoreInput =
          e.msg.kind === 'proposal'
            ? { kind: 'proposal', proposal: e.msg.proposal, from: String(e.from), nowMs: this.#clock(n) }
            : { kind: 'vote', vote: e.msg.vote, from: String(e.from), nowMs: this.#clock(n) };
        this.#feed(n, input);
        return;
      }
      case 'timeout': {
        const n = this.nodes[e.node]!;
        if (!n.up || n.inc !== e.inc) return;
        this.#feed(n, { kind: 'timeout', timeout: e.timeout, nowMs: this.#clock(n) });
        return;
      }
      case 'contents': {
        const n = this.nodes[e.node]!;
        if (!n.up || n.inc !== e.inc) return;
        const txs: TxEnvelope[] = [
          {
            namespace: 1 + (n.id % 3),
            payload: new Uint8Array([e.height & 255, e.round & 255, n.id, this.#rng.int(0, 255)]),
          },
        ];
        this.#feed(n, {
          kind: 'contents',
          height: e.height,
          round: e.round,
          txs,
          bundles: [],
          nowMs: this.#clock(n),
        });
        return;
      }
      case 'synced': {
        const n = this.nodes[e.node]!;
        if (!n.up || n.inc !== e.inc) return;
        for (const cb of e.blocks) {
          if (!n.up) return;
          this.#feed(n, {
            kind: 'synced',
            block: cb.block,
            certificate: cb.certificate,
            from: String(e.from),
            nowMs: this.#clock(n),
          });
        }
        return;
      }
      case 'crash':
        this.#crash(this.nodes[e.node]!);
        return;
      case 'restart':
        this.#boot(this.nodes[e.node]!, true);
        return;
    }
  }

  #clock(n: SimNode): number {
    return Math.max(0, this.#now + n.skewMs);
  }

  // ---------------------------------------------------------------- nodes

  #guard(
    n: SimNode,
    kind: 'proposal' | 'prevote' | 'precommit',
    h: number,
    r: number,
    hash: Uint8Array | null,
  ): boolean {
    // Same rules as the engine: the WAL's own records first, then the durable last-signed position.
    const hex = hash === null ? '' : toHex(hash);
    const rec = n.walOwn.get(`${kind}/${h}/${r}`);
    if (rec !== undefined) return rec === hex;
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

  #committedState(n: SimNode): CommittedState {
    const last = n.log[n.log.length - 1];
    if (last === undefined) return { height: 0, blockHash: ZERO_HASH, timeMs: 0, certificate: null };
    return {
      height: last.block.header.height,
      blockHash: hashOfBlock(last.block),
      timeMs: last.block.header.timeMs,
      certificate: last.certificate,
    };
  }

  #boot(n: SimNode, restart: boolean): void {
    if (n.up) return;
    n.up = true;
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
        guard: (kind, h, r, hash) => this.#guard(n, kind, h, r, hash),
      },
      this.#committedState(n),
    );
    if (!restart) {
      this.#apply(n, n.core.handle({ kind: 'start', nowMs: this.#clock(n) }));
      return;
    }
    // Replay the durable WAL exactly as the engine does: only commits and evidence take effect.
    n.replaying = true;
    const first = n.wal[0];
    const wal = n.wal;
    n.wal = [];
    this.#applyReplay(n, n.core.handle({ kind: 'start', nowMs: first?.nowMs ?? this.#clock(n) }));
    for (const input of wal) {
      n.wal.push(input);
      if (inputHeight(input) < n.core.height) continue;
      this.#applyReplay(n, n.core.handle(input));
    }
    n.walDurable = n.wal.length;
    n.replaying = false;
    this.#apply(n, n.core.resume(this.#clock(n)));
  }

  #applyReplay(n: SimNode, actions: CoreAction[]): void {
    for (const a of actions) {
      if (a.kind === 'commit') this.#commit(n, a.block, a.certificate);
      else if (a.kind === 'send') {
        const k = msgKey(a.message);
        const rec = n.walOwn.get(`${k.kind}/${k.h}/${k.r}`);
        if (rec !== undefined && rec !== k.hash && n.byz === null) {
          this.violations.push(
            `replay: validator ${n.validator} re-derived a different ${k.kind} at ${k.h}/${k.r}`,
          );
        }
      }
    }
  }

  #crash(n: SimNode): void {
    if (!n.up) return;
    n.up = false;
    n.core = null;
    n.inc++;
    // Power loss: everything after the last fsync is gone (a torn tail).
    n.wal.length = n.walDurable;
    if (this.cfg.amnesia === true) {
      n.wal = [];
      n.walDurable = 0;
      n.walOwn.clear();
      n.lastSigned = null;
    }
  }

  #feed(n: SimNode, input: CoreInput): void {
    if (n.core === null) return;
    // Same policy as the engine: block contents are not logged (the own proposal record is).
    if (
      input.kind !== 'start' &&
      input.kind !== 'synced' &&
      input.kind !== 'contents' &&
      inputHeight(input) <= n.core.height + 1
    ) {
      n.wal.push(input);
    }
    this.#apply(n, n.core.handle(input));
  }

  #apply(n: SimNode, actions: CoreAction[]): void {
    for (const a of actions) {
      if (!n.up || n.core === null) return;
      switch (a.kind) {
        case 'send':
          this.#send(n, a.message);
          break;
        case 'relay':
          this.#broadcast(n, a.message);
          break;
        case 'schedule':
          this.#push({
            kind: 'timeout',
            node: n.id,
            inc: n.inc,
            timeout: a.timeout,
            t: this.#now + a.delayMs,
          });
          break;
        case 'build':
          this.#push({
            kind: 'contents',
            node: n.id,
            inc: n.inc,
            height: a.height,
            round: a.round,
            t: this.#now + Math.min(a.waitMs, this.#rng.int(0, a.waitMs + 2)),
          });
          break;
        case 'commit':
          this.#commit(n, a.block, a.certificate);
          break;
        case 'catch-up':
          this.#catchUp(n, a.fromHeight);
          break;
        case 'evidence': {
          this.#evidence++;
          const culprit = a.evidence.voteA.validatorIndex;
          if (this.#honest.has(culprit)) {
            this.violations.push(
              `evidence names honest validator ${culprit} at height ${a.evidence.voteA.height}`,
            );
          }
          break;
        }
        default:
          break;
      }
    }
    const r = n.core?.round ?? 0;
    if (r > this.#maxRound) this.#maxRound = r;
  }

  #commit(n: SimNode, block: Block, certificate: CertifiedBlock['certificate']): void {
    const h = block.header.height;
    if (h !== n.log.length + 1) {
      if (n.byz === null)
        this.violations.push(`store: validator ${n.validator} committed ${h} onto ${n.log.length}`);
      return;
    }
    n.log.push({ block, certificate });
    // Records of committed heights are skipped on replay (the engine compacts the file lazily);
    // later-height records keep their durability (only the fsynced prefix survives a crash).
    const durable = n.wal.slice(0, n.walDurable).filter((i) => inputHeight(i) > h).length;
    n.wal = n.wal.filter((i) => inputHeight(i) > h);
    n.walDurable = durable;
    for (const k of [...n.walOwn.keys()]) if (Number(k.split('/')[1]) <= h) n.walOwn.delete(k);
    if (n.byz !== null) return;
    this.#honestCommitted = true;
    const hex = toHex(hashOfBlock(block));
    const canon = this.#canonical.get(h);
    if (canon === undefined) this.#canonical.set(h, hex);
    else if (canon !== hex) {
      this.violations.push(
        `agreement: validator ${n.validator} committed ${hex.slice(0, 12)} at height ${h}, another honest node ${canon.slice(0, 12)}`,
      );
    }
    if (h > 1) {
      const parent = n.log[h - 2]!;
      if (toHex(block.header.parentHash) !== toHex(hashOfBlock(parent.block))) {
        this.violations.push(
          `chain: validator ${n.validator} block ${h} does not link to its block ${h - 1}`,
        );
      }
    }
    try {
      verifyCertificate(certificate, this.set, CHAIN, hashOfBlock(block), { verify: this.#verify });
    } catch (err) {
      this.violations.push(`certificate: validator ${n.validator} height ${h}: ${(err as Error).message}`);
    }
  }

  // ---------------------------------------------------------------- network

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

  /** Unicast with the fault model. */
  #deliver(from: SimNode, to: SimNode, msg: ConsensusMessage): void {
    if (to.id === from.id) return;
    if (!this.#connected(from.id, to.id)) return;
    const pre = this.#now < this.cfg.gstMs;
    if (pre && this.#rng.chance(this.cfg.dropRate)) return;
    this.#push({ kind: 'deliver', to: to.id, from: from.id, msg, t: this.#now + this.#delay() });
    if (pre && this.#rng.chance(this.cfg.dupRate)) {
      this.#push({ kind: 'deliver', to: to.id, from: from.id, msg, t: this.#now + this.#delay() });
    }
  }

  #broadcast(from: SimNode, msg: ConsensusMessage, only?: (to: SimNode) => boolean): void {
    for (const to of this.nodes) if (only === undefined || only(to)) this.#deliver(from, to, msg);
  }

  #send(n: SimNode, msg: ConsensusMessage): void {
    const k = msgKey(msg);
    // WAL: record the own message and fsync (everything so far becomes durable) before it leaves.
    const wk = `${k.kind}/${k.h}/${k.r}`;
    if (!n.replaying && !n.walOwn.has(wk)) {
      n.walOwn.set(wk, k.hash);
      n.wal.push({ kind: 'own', message: msg, nowMs: this.#clock(n) });
    }
    n.walDurable = n.wal.length;
    if (n.byz === null) {
      const sk = `${n.validator}/${wk}`;
      const prev = this.#signed.get(sk);
      if (prev === undefined) this.#signed.set(sk, k.hash);
      else if (prev !== k.hash)
        this.violations.push(
          `double-sign: honest validator ${n.validator} signed two ${k.kind}s at ${k.h}/${k.r}`,
        );
      this.#broadcast(n, msg);
      return;
    }
    this.#byzantineSend(n, msg);
  }

  #catchUp(n: SimNode, fromHeight: number): void {
    const peers = this.nodes.filter(
      (p) => p.id !== n.id && p.up && p.byz !== 'silent' && this.#connected(n.id, p.id),
    );
    if (peers.length === 0) return;
    const p = this.#rng.pick(peers);
    let blocks = p.log.slice(fromHeight - 1, fromHeight - 1 + 64);
    if (p.byz === 'garbage' && blocks.length > 0 && this.#rng.chance(0.5)) {
      // A lying peer: a forged block under a real certificate, or a certificate stripped of signatures.
      const b = blocks[0]!;
      blocks = this.#rng.chance(0.5)
        ? [
            {
              block: { ...b.block, header: { ...b.block.header, timeMs: b.block.header.timeMs + 1 } },
              certificate: b.certificate,
            },
          ]
        : [{ block: b.block, certificate: { ...b.certificate, sigs: b.certificate.sigs.slice(0, 1) } }];
    }
    if (blocks.length === 0) return;
    if (this.#now < this.cfg.gstMs && this.#rng.chance(this.cfg.dropRate)) return;
    this.#push({
      kind: 'synced',
      node: n.id,
      inc: n.inc,
      blocks,
      from: p.id,
      t: this.#now + 2 * this.#delay(),
    });
  }

  // ---------------------------------------------------------------- Byzantine behaviours

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
        for (const to of this.nodes) this.#deliver(n, to, rng.chance(0.5) ? msg : alt);
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
            this.#deliver(n, to, this.#splitGroup[to.id] === 1 ? { kind: 'proposal', proposal: alt } : msg);
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
          this.#deliver(n, to, g === 1 ? forGroup[1]! : forGroup[0]!);
        }
        return;
      }
      default:
        return;
    }
  }
}

/** Run one configured scenario. */
export function simulate(cfg: SimConfig): SimResult {
  return new Simulation(cfg).run();
}
