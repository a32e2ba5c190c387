/**
 * The consensus core: a PURE, deterministic Tendermint-style state machine (propose, prevote,
 * precommit, with locking). It consumes input events (start, proposal, vote, timeout fired, block
 * contents ready, a certified block fetched by catch-up) and returns output actions (send an own
 * message, schedule a timeout, build a block, commit, catch up, evidence, peer rejection, log). It does
 * no I/O, reads no clock (every input carries `nowMs`), and draws no randomness, so the engine
 * (engine.ts) and the simulator (sim/) drive the very same code, and a replayed input log rebuilds the
 * very same state. The rules, with the lock/unlock rules and the safety argument, are written up in
 * docs/consensus.md; the comments name the rule numbers used there.
 *
 * Driver contract: actions are returned in order and must be applied in order. A `send` action must be
 * made durable (WAL fsync) before the message leaves the node.
 */
import {
  blockDataHash,
  certificateHash,
  blockHash as computeBlockHash,
  computeDataHash,
  encodedBlockSize,
  LIMITS,
  proposalSignBytes,
  validateBlockBasic,
  voteSignBytes,
} from '../codec/index.ts';
import { bytesEqual, toHex } from '../crypto/index.ts';
import { errorMessage } from '../errors.ts';
import type {
  Block,
  BlockHeader,
  CommitCertificate,
  ConsensusMessage,
  DuplicateVoteEvidence,
  Proposal,
  TxEnvelope,
  Vote,
  VoteType,
} from '../types.ts';
import { makeCertificate, verifyCertificate } from './certificate.ts';
import type { ConsensusSigner, VerifyFn } from './signing.ts';
import type { ProposalVerdict, ValidatorSet } from './types.ts';
import { indexOfKey, isQuorum, isWeakQuorum, proposerIndex } from './validators.ts';

// ---------------------------------------------------------------- configuration and I/O types

export interface TimeoutConfig {
  /** Base wait for a proposal (round 0); grows by `deltaMs` per round. */
  proposeMs: number;
  /** Wait after seeing > 2/3 prevotes for anything, before precommitting nil. */
  prevoteMs: number;
  /** Wait after seeing > 2/3 precommits for anything, before moving to the next round. */
  precommitMs: number;
  /** Linear backoff added per round to each of the three timeouts. */
  deltaMs: number;
  /** How long a proposer may wait for transactions before proposing an empty block (round 0 only). */
  emptyBlockWaitMs: number;
  /** Period of re-sending own messages of the current height (lost-message recovery). */
  rebroadcastMs: number;
}

/** How long validators wait for round r's proposal from the moment they enter the round. */
export function proposeTimeoutMs(t: TimeoutConfig, r: number): number {
  return t.proposeMs + t.deltaMs * r + (r === 0 ? t.emptyBlockWaitMs : 0);
}

export const DEFAULT_TIMEOUTS: TimeoutConfig = {
  proposeMs: 400,
  prevoteMs: 200,
  precommitMs: 200,
  deltaMs: 200,
  emptyBlockWaitMs: 1000,
  rebroadcastMs: 1000,
};

/** The last committed block, as the core needs it to start the next height. */
export interface CommittedState {
  /** 0 before the first block. */
  height: number;
  /** Hash of the last committed block (ZERO_HASH at genesis). */
  blockHash: Uint8Array;
  /** Its header time (genesis time at height 0). */
  timeMs: number;
  /** Its certificate (null at genesis). */
  certificate: CommitCertificate | null;
}

/** Returns false to refuse a signature (double-sign protection outside the core, e.g. a guard file). */
export type SignGuard = (
  kind: 'proposal' | VoteType,
  height: number,
  round: number,
  blockHash: Uint8Array | null,
) => boolean;

export interface CoreConfig {
  chainId: string;
  validators: ValidatorSet;
  /** This node's key; null for a non-validator (follows, never votes). */
  signer: ConsensusSigner | null;
  verify: VerifyFn;
  timeouts: TimeoutConfig;
  /** Largest encoded block accepted or built. */
  maxBlockBytes?: number;
  maxBlockTxs?: number;
  /** A proposed block's time must be within this many ms of local time (new proposals). */
  timeBoundMs?: number;
  /**
   * Synchronous application check of block contents; throws when invalid. The simulator's hook: the
   * engine uses `verifyProposals` instead.
   */
  validateContents?: (block: Block) => void;
  /**
   * When true, a proposal that passes the structural checks is handed to the driver in a `verify`
   * action (the builder re-derives its body and commitments, asynchronously) and is prevoted, locked
   * on or re-proposed only after a `verified` input accepts it; a rejecting verdict means nil. Until
   * the verdict arrives the node waits, and the propose timeout still applies. Own proposals need no
   * verdict. False (default): the structural checks and `validateContents` decide alone.
   */
  verifyProposals?: boolean;
  guard?: SignGuard;
  /**
   * Limits for blocks THIS node builds (smaller blocks keep a loaded network pipelined); what it
   * accepts from others is bounded by maxBlockBytes / maxBlockTxs.
   */
  buildMaxBytes?: number;
  buildMaxTxs?: number;
  /** Skip the encoded-size check (the simulator's blocks are tiny). */
  skipEncodedSizeCheck?: boolean;
}

export type TimeoutStep = 'propose' | 'prevote' | 'precommit' | 'rebroadcast';

export interface TimeoutInfo {
  step: TimeoutStep;
  height: number;
  round: number;
}

export type CoreInput =
  | { kind: 'start'; nowMs: number }
  /** `verified`: the driver already checked the signature against the validator set. */
  | { kind: 'proposal'; proposal: Proposal; from?: string; verified?: boolean; nowMs: number }
  | { kind: 'vote'; vote: Vote; from?: string; verified?: boolean; nowMs: number }
  | { kind: 'timeout'; timeout: TimeoutInfo; nowMs: number }
  | {
      kind: 'contents';
      height: number;
      round: number;
      txs: TxEnvelope[];
      bundles: Block['bundles'];
      /**
       * Header commitments from the builder. dataHash, when given, must cover txs and bundles (the
       * builder computed it: not hashed twice); resultsHash and auctionHash are empty when absent.
       */
      dataHash?: Uint8Array;
      resultsHash?: Uint8Array;
      auctionHash?: Uint8Array;
      nowMs: number;
    }
  /** The driver's answer to a `verify` action. */
  | { kind: 'verified'; height: number; blockHash: Uint8Array; verdict: ProposalVerdict; nowMs: number }
  | { kind: 'synced'; block: Block; certificate: CommitCertificate; from?: string; nowMs: number }
  /**
   * Replay only: a message this node signed earlier (from its WAL). Restores it (and the step and lock
   * it implies) when the replayed inputs did not re-derive it, so the node re-sends it and never signs
   * against it.
   */
  | { kind: 'own'; message: ConsensusMessage; nowMs: number };

/** The height an input belongs to (0 for `start`): used to bound queues and to trim the WAL. */
export function inputHeight(i: CoreInput): number {
  switch (i.kind) {
    case 'proposal':
      return i.proposal.height;
    case 'vote':
      return i.vote.height;
    case 'timeout':
      return i.timeout.height;
    case 'contents':
    case 'verified':
      return i.height;
    case 'synced':
      return i.block.header.height;
    case 'own':
      return i.message.kind === 'proposal' ? i.message.proposal.height : i.message.vote.height;
    case 'start':
      return 0;
  }
}

export type LogLevel = 'debug' | 'info' | 'warn';

export type CoreAction =
  /** Persist durably (WAL fsync), then broadcast. */
  | { kind: 'send'; message: ConsensusMessage }
  /** Re-broadcast another validator's message (gossip of a proof-of-lock); no WAL needed. */
  | { kind: 'relay'; message: ConsensusMessage }
  | { kind: 'schedule'; timeout: TimeoutInfo; delayMs: number }
  /** Ask the block source for contents; answer with a `contents` input for the same height/round. */
  | { kind: 'build'; height: number; round: number; maxBytes: number; maxTxs: number; waitMs: number }
  /**
   * Check a proposed block's contents and commitments (`verifyProposals`); answer with a `verified`
   * input for the same height and block hash. Emitted once per block.
   */
  | { kind: 'verify'; height: number; round: number; block: Block }
  | { kind: 'commit'; block: Block; certificate: CommitCertificate }
  /** We are behind: fetch certified blocks from `fromHeight` on (up to at least `targetHeight`). */
  | { kind: 'catch-up'; fromHeight: number; targetHeight: number; peer?: string }
  | { kind: 'evidence'; evidence: DuplicateVoteEvidence }
  /** A peer sent something invalid (bad signature, not a validator, wrong proposer...). */
  | { kind: 'reject'; peer?: string; reason: string }
  | { kind: 'log'; level: LogLevel; msg: string; data?: Record<string, unknown> };

export type Step = 'propose' | 'prevote' | 'precommit';

// ---------------------------------------------------------------- helpers

/** header.dataHash covers the transactions and bundle spans (false also when spans are unsorted). */
function dataHashMatches(block: Block): boolean {
  try {
    return bytesEqual(block.header.dataHash, blockDataHash(block));
  } catch {
    return false;
  }
}

const hashCache = new WeakMap<Block, Uint8Array>();

/** Block hash, cached per block object (the header is never mutated after construction). */
export function hashOfBlock(block: Block): Uint8Array {
  let h = hashCache.get(block);
  if (h === undefined) {
    h = computeBlockHash(block);
    hashCache.set(block, h);
  }
  return h;
}

const NIL = 'nil';
/** `#invalidReason`: the block passed the core's checks; the driver's verdict is still outstanding. */
const PENDING: unique symbol = Symbol('verdict pending');
const EMPTY = new Uint8Array(0);
/** Rounds above the current one whose messages are stored in full (others: latest per validator). */
const ROUND_WINDOW = 2;
/** Next-heights messages buffered while finishing this height. */
const MAX_BUFFERED = 1024;
/**
 * Heights ahead whose messages are buffered. Two, not one: a node one block behind (its peers decided
 * a moment earlier) receives the proposal and votes of the height after next; dropping them left it
 * without a proposal once it caught up, waiting seconds for a catch-up, and when it was the next
 * proposer the whole network lost a round.
 */
const BUFFER_HEIGHTS = 2;
/** Distinct blocks kept per round (an equivocating proposer may send more; extras are dropped). */
const MAX_BLOCKS_PER_ROUND = 2;

function key(h: Uint8Array | null): string {
  return h === null ? NIL : toHex(h);
}

/** Distinct values one validator may be counted for in one vote set (equivocators are bounded). */
const MAX_VALUES_PER_VALIDATOR = 3;

/**
 * Votes of one (height, round, type). A validator counts ONCE toward `total`, and once toward each
 * distinct value it signed: an equivocator's conflicting votes all count (honest validators never sign
 * two values, so quorum intersection still holds), which keeps a Byzantine validator from hiding its
 * real vote behind an earlier conflicting one.
 */
class VoteSet {
  /** First vote per validator (evidence pairs are built against it). */
  readonly first = new Map<number, Vote>();
  readonly byValue = new Map<string, Map<number, Vote>>();
  readonly power = new Map<string, number>();
  readonly #values = new Map<number, number>();
  total = 0;

  /** Adds a vote; returns the earlier conflicting vote on equivocation, 'dup' for a repeat. */
  add(v: Vote, weight: number): Vote | 'dup' | null {
    const k = key(v.blockHash);
    let m = this.byValue.get(k);
    if (m?.has(v.validatorIndex)) return 'dup';
    const prev = this.first.get(v.validatorIndex);
    const count = this.#values.get(v.validatorIndex) ?? 0;
    if (count >= MAX_VALUES_PER_VALIDATOR) return prev ?? null;
    this.#values.set(v.validatorIndex, count + 1);
    if (m === undefined) {
      m = new Map();
      this.byValue.set(k, m);
    }
    m.set(v.validatorIndex, v);
    this.power.set(k, (this.power.get(k) ?? 0) + weight);
    if (prev === undefined) {
      this.first.set(v.validatorIndex, v);
      this.total += weight;
      return null;
    }
    return prev;
  }

  powerFor(k: string): number {
    return this.power.get(k) ?? 0;
  }

  votesFor(k: string): Iterable<Vote> {
    return this.byValue.get(k)?.values() ?? [];
  }
}

interface RoundState {
  proposal: Proposal | null;
  blockCount: number;
  prevotes: VoteSet;
  precommits: VoteSet;
  prevoteTimeoutScheduled: boolean;
  precommitTimeoutScheduled: boolean;
  /** Rule 36 ("upon proposal + > 2/3 prevotes for it, for the first time") has fired. */
  polFired: boolean;
}

function newRound(): RoundState {
  return {
    proposal: null,
    blockCount: 0,
    prevotes: new VoteSet(),
    precommits: new VoteSet(),
    prevoteTimeoutScheduled: false,
    precommitTimeoutScheduled: false,
    polFired: false,
  };
}

/**
 * Stateless sender and signature check of a consensus message against the validator set: null when
 * it verifies, else the reason. Drivers call it in gossip validation (to reject before forwarding).
 */
export function checkMessageSignature(
  m: ConsensusMessage,
  chainId: string,
  set: ValidatorSet,
  verify: VerifyFn,
): string | null {
  const vs = set.validators;
  if (m.kind === 'vote') {
    const v = m.vote;
    const val = vs[v.validatorIndex];
    if (val === undefined) return `vote from unknown validator ${v.validatorIndex}`;
    if (!Number.isSafeInteger(v.round) || v.round < 0) return 'vote round is invalid';
    if (wasVerified(v, chainId, val.publicKey)) return null;
    const sb = voteSignBytes(chainId, v.type, v.height, v.round, v.blockHash);
    if (!verify(val.publicKey, sb, v.signature)) return 'vote signature does not verify';
    markVerified(v, chainId, val.publicKey);
    return null;
  }
  const p = m.proposal;
  const expected = proposerIndex(set, p.height, p.round);
  if (p.proposerIndex !== expected) {
    return `proposal for ${p.height}/${p.round} from validator ${p.proposerIndex}, proposer is ${expected}`;
  }
  const pk = vs[expected]!.publicKey;
  if (wasVerified(p, chainId, pk)) return null;
  const sb = proposalSignBytes(chainId, p.height, p.round, p.polRound, hashOfBlock(p.block));
  if (!verify(pk, sb, p.signature)) return 'proposal signature does not verify';
  markVerified(p, chainId, pk);
  return null;
}

/**
 * Messages are immutable once decoded: remember which OBJECT verified under which chain id and which
 * public-key object, so one message object delivered to many cores (the simulator) or seen twice is
 * verified once. Any other object, chain or key object is verified in full.
 */
const verifiedCache = new WeakMap<object, { chainId: string; pk: Uint8Array }>();

function wasVerified(o: object, chainId: string, pk: Uint8Array): boolean {
  const c = verifiedCache.get(o);
  return c !== undefined && c.pk === pk && c.chainId === chainId;
}

function markVerified(o: object, chainId: string, pk: Uint8Array): void {
  verifiedCache.set(o, { chainId, pk });
}

export interface CoreSnapshot {
  height: number;
  round: number;
  step: Step;
  lockedRound: number;
  lockedHash: string | null;
  validRound: number;
  validHash: string | null;
  committedHeight: number;
}

// ---------------------------------------------------------------- the state machine

export class ConsensusCore {
  readonly config: CoreConfig;
  readonly myIndex: number;
  readonly #maxBlockBytes: number;
  readonly #maxBlockTxs: number;
  readonly #timeBoundMs: number;

  #committed: CommittedState;
  #height: number;
  #round = 0;
  #step: Step = 'propose';
  #started = false;
  /** The lock is a block hash (hex) and a round; proposers re-propose their VALID block, never the locked one. */
  #lockedHash: string | null = null;
  #lockedRound = -1;
  #validBlock: Block | null = null;
  #validRound = -1;
  #rounds = new Map<number, RoundState>();
  #blocks = new Map<string, Block>();
  #validity = new Map<string, string | null>();
  /** Driver verdicts per block hash (hex) at this height; null while a `verify` is outstanding. */
  #verdicts = new Map<string, ProposalVerdict | null>();
  /** The round each verdict was asked in: a `notYet` refusal is asked again in a later round. */
  #verdictRounds = new Map<string, number>();
  #maxRoundSeen = new Map<number, number>();
  #future = new Map<number, { round: number; msgs: ConsensusMessage[] }>();
  #buffered: ConsensusMessage[] = [];
  #own = new Map<string, ConsensusMessage>();
  #evidenceSeen = new Set<string>();
  #catchUpAsked = 0;
  #behindHint = 0;
  #buildAsked = -1;
  #commitMissingAsked = new Set<string>();
  #out: CoreAction[] = [];

  constructor(config: CoreConfig, committed: CommittedState) {
    this.config = config;
    this.myIndex = config.signer === null ? -1 : indexOfKey(config.validators, config.signer.publicKey);
    this.#maxBlockBytes = config.maxBlockBytes ?? LIMITS.maxBlockBytes;
    this.#maxBlockTxs = config.maxBlockTxs ?? LIMITS.maxBlockTxs;
    this.#timeBoundMs = config.timeBoundMs ?? 5000;
    this.#committed = committed;
    this.#height = committed.height + 1;
  }

  get height(): number {
    return this.#height;
  }
  get round(): number {
    return this.#round;
  }
  get step(): Step {
    return this.#step;
  }
  get committed(): CommittedState {
    return this.#committed;
  }

  snapshot(): CoreSnapshot {
    return {
      height: this.#height,
      round: this.#round,
      step: this.#step,
      lockedRound: this.#lockedRound,
      lockedHash: this.#lockedHash,
      validRound: this.#validRound,
      validHash: this.#validBlock === null ? null : toHex(hashOfBlock(this.#validBlock)),
      committedHeight: this.#committed.height,
    };
  }

  /** Vote tallies of one round at the current height (debugging and tests). */
  roundSummary(r: number): {
    proposal: string | null;
    prevotes: Record<string, number>;
    precommits: Record<string, number>;
  } | null {
    const rs = this.#rounds.get(r);
    if (rs === undefined) return null;
    const tally = (vs: VoteSet): Record<string, number> =>
      Object.fromEntries(
        [...vs.byValue]
          .map(([k, m]) => [k.slice(0, 8), [...m.keys()].sort().join(',')] as const)
          .map(([k, v]) => [`${k}:${v}`, 0]),
      );
    return {
      proposal: rs.proposal === null ? null : toHex(hashOfBlock(rs.proposal.block)).slice(0, 8),
      prevotes: tally(rs.prevotes),
      precommits: tally(rs.precommits),
    };
  }

  /** Own messages signed at the current height (for re-sending and tests). */
  ownMessages(): ConsensusMessage[] {
    return [...this.#own.values()];
  }

  /** The actions needed to resume after a replay: re-arm the timers of the current step, re-send. */
  resume(nowMs: number): CoreAction[] {
    this.#out = [];
    if (this.#started) {
      const h = this.#height;
      const r = this.#round;
      const t = this.config.timeouts;
      if (this.#step === 'propose') {
        this.#schedule('propose', r, this.#proposeTimeout(r));
        this.#buildAsked = -1;
        if (this.#isProposer(r) && this.#own.get(`p/${r}`) === undefined) this.#propose(nowMs);
      }
      const rs = this.#rounds.get(r);
      if (rs !== undefined && this.#step === 'prevote' && isQuorum(rs.prevotes.total, this.#total())) {
        this.#schedule('prevote', r, t.prevoteMs + t.deltaMs * r);
      }
      if (rs !== undefined && isQuorum(rs.precommits.total, this.#total())) {
        this.#schedule('precommit', r, t.precommitMs + t.deltaMs * r);
      }
      this.#out.push({
        kind: 'schedule',
        timeout: { step: 'rebroadcast', height: h, round: 0 },
        delayMs: t.rebroadcastMs,
      });
      for (const m of this.#own.values()) this.#out.push({ kind: 'send', message: m });
      // Verdicts are not logged: ask again for any that were outstanding (e.g. across a replay).
      for (const [k, v] of this.#verdicts) {
        const block = this.#blocks.get(k);
        if (v === null && block !== undefined)
          this.#out.push({ kind: 'verify', height: h, round: block.header.round, block });
      }
    }
    return this.#drain();
  }

  /** Apply one input; returns the actions to perform, in order. */
  handle(input: CoreInput): CoreAction[] {
    this.#out = [];
    switch (input.kind) {
      case 'start':
        if (!this.#started) {
          this.#started = true;
          this.#startRound(0, input.nowMs);
          this.#out.push({
            kind: 'schedule',
            timeout: { step: 'rebroadcast', height: this.#height, round: 0 },
            delayMs: this.config.timeouts.rebroadcastMs,
          });
        }
        break;
      case 'proposal':
        this.#onMessage(
          { kind: 'proposal', proposal: input.proposal },
          input.from,
          input.nowMs,
          input.verified,
        );
        break;
      case 'vote':
        this.#onMessage({ kind: 'vote', vote: input.vote }, input.from, input.nowMs, input.verified);
        break;
      case 'timeout':
        this.#onTimeout(input.timeout, input.nowMs);
        break;
      case 'contents':
        this.#onContents(input, input.nowMs);
        break;
      case 'verified':
        this.#onVerified(input);
        break;
      case 'synced':
        this.#onSynced(input.block, input.certificate, input.from, input.nowMs);
        break;
      case 'own':
        this.#onOwn(input.message, input.nowMs);
        break;
    }
    if (this.#started) this.#evaluate(input.nowMs);
    return this.#drain();
  }

  #drain(): CoreAction[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #log(level: LogLevel, msg: string, data?: Record<string, unknown>): void {
    this.#out.push(data === undefined ? { kind: 'log', level, msg } : { kind: 'log', level, msg, data });
  }

  #total(): number {
    return this.config.validators.totalPower;
  }

  #power(index: number): number {
    return this.config.validators.validators[index]?.votingPower ?? 0;
  }

  #isProposer(round: number): boolean {
    return this.myIndex >= 0 && proposerIndex(this.config.validators, this.#height, round) === this.myIndex;
  }

  #roundState(r: number): RoundState {
    let rs = this.#rounds.get(r);
    if (rs === undefined) {
      rs = newRound();
      this.#rounds.set(r, rs);
    }
    return rs;
  }

  #proposeTimeout(r: number): number {
    return proposeTimeoutMs(this.config.timeouts, r);
  }

  #schedule(step: TimeoutStep, round: number, delayMs: number): void {
    this.#out.push({ kind: 'schedule', timeout: { step, height: this.#height, round }, delayMs });
  }

  // ---------------------------------------------------------------- rounds

  /** StartRound(r): enter propose; the proposer proposes its valid block or asks for contents. */
  #startRound(r: number, nowMs: number): void {
    this.#round = r;
    this.#step = 'propose';
    this.#roundState(r);
    // Messages held back for a far-future round may now be inside the window.
    for (const [idx, f] of this.#future) {
      if (f.round <= r + ROUND_WINDOW) {
        this.#future.delete(idx);
        for (const m of f.msgs) this.#store(m, undefined, nowMs);
      }
    }
    this.#schedule('propose', r, this.#proposeTimeout(r));
    if (this.#isProposer(r)) this.#propose(nowMs);
  }

  #propose(nowMs: number): void {
    const r = this.#round;
    if (this.#own.has(`p/${r}`)) return;
    if (this.#validBlock !== null) {
      this.#sendProposal(this.#validBlock, this.#validRound);
      return;
    }
    if (this.#buildAsked === r) return;
    this.#buildAsked = r;
    this.#out.push({
      kind: 'build',
      height: this.#height,
      round: r,
      maxBytes: Math.max(0, Math.min(this.config.buildMaxBytes ?? Infinity, this.#maxBlockBytes - 2048)),
      maxTxs: Math.min(this.config.buildMaxTxs ?? Infinity, this.#maxBlockTxs),
      waitMs: r === 0 ? this.config.timeouts.emptyBlockWaitMs : 0,
    });
    void nowMs;
  }

  #onContents(input: Extract<CoreInput, { kind: 'contents' }>, nowMs: number): void {
    if (!this.#started || input.height !== this.#height || input.round !== this.#round) return;
    if (this.#step !== 'propose' || !this.#isProposer(this.#round) || this.#own.has(`p/${this.#round}`))
      return;
    if (this.#validBlock !== null) {
      this.#sendProposal(this.#validBlock, this.#validRound);
      return;
    }
    const c = this.#committed;
    const header: BlockHeader = {
      chainId: this.config.chainId,
      height: this.#height,
      round: this.#round,
      timeMs: Math.max(nowMs, c.timeMs + 1),
      parentHash: c.blockHash,
      dataHash: input.dataHash ?? computeDataHash(input.txs, input.bundles),
      proposer: this.config.signer!.publicKey,
      txCount: input.txs.length,
      lastCommitHash: c.certificate === null ? EMPTY : certificateHash(c.certificate),
      resultsHash: input.resultsHash ?? EMPTY,
      auctionHash: input.auctionHash ?? EMPTY,
    };
    const block: Block = { header, txs: input.txs, bundles: input.bundles };
    // Our own block: built from our block source under our limits; do not re-validate (and re-hash) it.
    this.#validity.set(toHex(hashOfBlock(block)), null);
    this.#verdicts.set(toHex(hashOfBlock(block)), { ok: true });
    this.#sendProposal(block, -1);
  }

  #sendProposal(block: Block, polRound: number): void {
    const h = this.#height;
    const r = this.#round;
    const hash = hashOfBlock(block);
    if (this.config.guard !== undefined && !this.config.guard('proposal', h, r, hash)) {
      this.#log('warn', 'sign guard refused a proposal', { height: h, round: r });
      // No #refused here: the round's propose timeout (armed when it started) still makes this node
      // prevote nil. Ending the round early instead left its peers one prevote short of a quorum in
      // it, for good (found by the simulator: a proposal lost from the WAL's unsynced tail by a power
      // cut while the sign guard kept it).
      return;
    }
    const signature = this.config.signer!.sign(proposalSignBytes(this.config.chainId, h, r, polRound, hash));
    const proposal: Proposal = {
      height: h,
      round: r,
      polRound,
      block,
      proposerIndex: this.myIndex,
      signature,
    };
    const msg: ConsensusMessage = { kind: 'proposal', proposal };
    this.#own.set(`p/${r}`, msg);
    this.#out.push({ kind: 'send', message: msg });
    this.#acceptProposal(proposal);
  }

  /**
   * We may not sign in this round (we signed something else here before a crash): make sure the
   * round still ends, so that a lone validator (or a round that needs our vote) cannot stall.
   */
  #refused(r: number): void {
    const t = this.config.timeouts;
    this.#schedule('precommit', r, t.precommitMs + t.deltaMs * r);
  }

  #vote(type: VoteType, hash: Uint8Array | null): void {
    const h = this.#height;
    const r = this.#round;
    const k = `${type === 'prevote' ? 'v' : 'c'}/${r}`;
    if (this.myIndex < 0 || this.#own.has(k)) return;
    if (this.config.guard !== undefined && !this.config.guard(type, h, r, hash)) {
      this.#log('warn', 'sign guard refused a vote', { height: h, round: r, type });
      this.#refused(r);
      return;
    }
    const signature = this.config.signer!.sign(voteSignBytes(this.config.chainId, type, h, r, hash));
    const vote: Vote = {
      type,
      height: h,
      round: r,
      blockHash: hash,
      validatorIndex: this.myIndex,
      signature,
    };
    const msg: ConsensusMessage = { kind: 'vote', vote };
    this.#own.set(k, msg);
    this.#out.push({ kind: 'send', message: msg });
    const rs = this.#roundState(r);
    (type === 'prevote' ? rs.prevotes : rs.precommits).add(vote, this.#power(this.myIndex));
  }

  #onOwn(m: ConsensusMessage, nowMs: number): void {
    if (this.myIndex < 0 || !this.#started) return;
    const round = m.kind === 'proposal' ? m.proposal.round : m.vote.round;
    const height = m.kind === 'proposal' ? m.proposal.height : m.vote.height;
    if (height === this.#height && round > this.#round) this.#startRound(round, nowMs);
    if (m.kind === 'proposal') {
      const p = m.proposal;
      if (p.height !== this.#height || p.proposerIndex !== this.myIndex || this.#own.has(`p/${p.round}`))
        return;
      this.#own.set(`p/${p.round}`, m);
      this.#verdicts.set(toHex(hashOfBlock(p.block)), { ok: true });
      this.#acceptProposal(p);
      return;
    }
    const v = m.vote;
    const k = `${v.type === 'prevote' ? 'v' : 'c'}/${v.round}`;
    if (v.height !== this.#height || v.validatorIndex !== this.myIndex || this.#own.has(k)) return;
    this.#own.set(k, m);
    const rs = this.#roundState(v.round);
    (v.type === 'prevote' ? rs.prevotes : rs.precommits).add(v, this.#power(this.myIndex));
    if (v.type === 'precommit' && v.blockHash !== null && v.round > this.#lockedRound) {
      this.#lockedHash = toHex(v.blockHash);
      this.#lockedRound = v.round;
      // Rule 36 set the valid block with the lock: restore it too (lock rule 5). A node that came back
      // locked without it prevoted nil on every other block and, as proposer, proposed a fresh one,
      // never its locked block with the proof-of-lock that could move the others (sim seed 15129).
      const block = this.#blocks.get(this.#lockedHash);
      if (block !== undefined && v.round > this.#validRound) {
        this.#validBlock = block;
        this.#validRound = v.round;
      }
    }
    if (v.round === this.#round) {
      if (v.type === 'prevote' && this.#step === 'propose') this.#step = 'prevote';
      if (v.type === 'precommit') this.#step = 'precommit';
    }
    this.#log('info', 'restored an own message from the WAL', {
      height: v.height,
      round: v.round,
      type: v.type,
    });
  }

  // ---------------------------------------------------------------- inbound messages

  #onMessage(m: ConsensusMessage, from: string | undefined, nowMs: number, verified = false): void {
    const height = m.kind === 'vote' ? m.vote.height : m.proposal.height;
    if (height < this.#height) return; // stale: already decided
    if (!verified && !this.#verifyMessage(m, from)) return;
    if (height > this.#height) {
      if (height <= this.#height + BUFFER_HEIGHTS && this.#buffered.length < MAX_BUFFERED)
        this.#buffered.push(m);
      if (height > this.#behindHint) this.#behindHint = height;
      // One height ahead is normal (peers finished first); further ahead means we are behind.
      if (height > this.#height + 1) this.#askCatchUp(height, from);
      return;
    }
    this.#store(m, from, nowMs);
  }

  #verifyMessage(m: ConsensusMessage, from: string | undefined): boolean {
    const reason = checkMessageSignature(m, this.config.chainId, this.config.validators, this.config.verify);
    if (reason !== null) this.#out.push({ kind: 'reject', peer: from, reason });
    return reason === null;
  }

  #askCatchUp(height: number, from: string | undefined): void {
    if (height <= this.#catchUpAsked) return;
    this.#catchUpAsked = height;
    this.#out.push({
      kind: 'catch-up',
      fromHeight: this.#committed.height + 1,
      targetHeight: height - 1,
      ...(from === undefined ? {} : { peer: from }),
    });
  }

  /** Store a verified message of the current height in its round (or hold it if far ahead). */
  #store(m: ConsensusMessage, from: string | undefined, nowMs: number): void {
    const sender = m.kind === 'vote' ? m.vote.validatorIndex : m.proposal.proposerIndex;
    const round = m.kind === 'vote' ? m.vote.round : m.proposal.round;
    if (round > this.#round) {
      const prev = this.#maxRoundSeen.get(sender) ?? -1;
      if (round > prev) this.#maxRoundSeen.set(sender, round);
    }
    if (round > this.#round + ROUND_WINDOW) {
      // Far ahead: keep only the sender's latest round (bounded memory), used after a round skip.
      const f = this.#future.get(sender);
      if (f === undefined || f.round < round) this.#future.set(sender, { round, msgs: [m] });
      else if (f.round === round && f.msgs.length < 3) f.msgs.push(m);
      return;
    }
    if (m.kind === 'proposal') {
      this.#acceptProposal(m.proposal);
      return;
    }
    const v = m.vote;
    if (
      v.validatorIndex === this.myIndex &&
      this.#own.has(`${v.type === 'prevote' ? 'v' : 'c'}/${v.round}`)
    ) {
      const mine = this.#own.get(`${v.type === 'prevote' ? 'v' : 'c'}/${v.round}`)!;
      if (mine.kind === 'vote' && key(mine.vote.blockHash) === key(v.blockHash)) return;
    }
    const rs = this.#roundState(v.round);
    const res = (v.type === 'prevote' ? rs.prevotes : rs.precommits).add(v, this.#power(v.validatorIndex));
    if (res !== null && res !== 'dup') {
      const ek = `${v.validatorIndex}/${v.round}/${v.type}`;
      if (!this.#evidenceSeen.has(ek)) {
        this.#evidenceSeen.add(ek);
        this.#out.push({ kind: 'evidence', evidence: { voteA: res, voteB: v } });
        this.#log('warn', 'equivocation: two different votes from one validator', {
          validatorIndex: v.validatorIndex,
          height: v.height,
          round: v.round,
          type: v.type,
        });
      }
    }
    void from;
    void nowMs;
  }

  #acceptProposal(p: Proposal): void {
    const rs = this.#roundState(p.round);
    const hash = hashOfBlock(p.block);
    const k = toHex(hash);
    if (rs.proposal !== null && toHex(hashOfBlock(rs.proposal.block)) !== k) {
      this.#log('warn', 'proposer sent two different proposals for one round', {
        height: p.height,
        round: p.round,
        proposerIndex: p.proposerIndex,
      });
    }
    if (!this.#blocks.has(k)) {
      if (rs.blockCount >= MAX_BLOCKS_PER_ROUND) return;
      rs.blockCount++;
      this.#blocks.set(k, p.block);
    }
    if (rs.proposal === null) rs.proposal = p;
  }

  // ---------------------------------------------------------------- proposal validity

  /**
   * Null when the block is a valid proposal for this height; otherwise the reason, or PENDING while
   * the driver's verdict (`verifyProposals`) is outstanding (asked for here, once per block).
   */
  #invalidReason(block: Block, polRound: number, nowMs: number): string | null | typeof PENDING {
    const k = toHex(hashOfBlock(block));
    let reason = this.#validity.get(k);
    if (reason === undefined) {
      reason = this.#structuralReason(block);
      this.#validity.set(k, reason);
    }
    if (reason !== null) return reason;
    const t = block.header.timeMs;
    if (t > nowMs + this.#timeBoundMs)
      return `block time ${t} is ahead of local time ${nowMs} by more than bound`;
    if (polRound === -1 && t < nowMs - this.#timeBoundMs) {
      return `block time ${t} is behind local time ${nowMs} by more than the bound`;
    }
    // A non-validator never votes: it has no use for a verdict (and need not wait for one).
    if (this.config.verifyProposals !== true || this.myIndex < 0) return null;
    const v = this.#verdicts.get(k);
    // Never asked; or asked in an earlier round and refused only because this node could not check it
    // then (its executor's results were not in): a block re-proposed with a proof-of-lock must not stay
    // refused for the whole height on a transient refusal, or validators locked on it could never reach
    // a quorum with this node.
    const stale = v != null && !v.ok && v.notYet === true && (this.#verdictRounds.get(k) ?? 0) < this.#round;
    if (v === undefined || stale) {
      this.#verdicts.set(k, null);
      this.#verdictRounds.set(k, this.#round);
      this.#out.push({ kind: 'verify', height: this.#height, round: block.header.round, block });
      return PENDING;
    }
    if (v === null) return PENDING;
    return v.ok ? null : `${v.code}: ${v.message}`;
  }

  #onVerified(input: Extract<CoreInput, { kind: 'verified' }>): void {
    if (input.height !== this.#height) return;
    const k = toHex(input.blockHash);
    if (this.#verdicts.get(k) !== null) return; // never asked, or already answered
    this.#verdicts.set(k, input.verdict);
    if (!input.verdict.ok) {
      this.#log('info', 'proposal rejected by the builder', {
        height: input.height,
        code: input.verdict.code,
        reason: input.verdict.message,
      });
    }
  }

  #structuralReason(block: Block): string | null {
    const h = block.header;
    const c = this.#committed;
    if (h.chainId !== this.config.chainId) return `wrong chain id ${h.chainId}`;
    if (h.height !== this.#height) return `block height ${h.height} is not ${this.#height}`;
    if (!bytesEqual(h.parentHash, c.blockHash)) return 'parent hash is not the last committed block';
    if (h.timeMs <= c.timeMs) return `block time ${h.timeMs} is not after the parent's ${c.timeMs}`;
    const origProposer =
      this.config.validators.validators[proposerIndex(this.config.validators, h.height, h.round)];
    if (origProposer === undefined || !bytesEqual(h.proposer, origProposer.publicKey)) {
      return 'header proposer is not the proposer of the header round';
    }
    if (c.certificate === null ? h.lastCommitHash.byteLength !== 0 : h.lastCommitHash.byteLength !== 32) {
      return 'last commit hash has the wrong length';
    }
    if (block.txs.length > this.#maxBlockTxs) return `block has ${block.txs.length} transactions`;
    try {
      validateBlockBasic(block);
    } catch (err) {
      return errorMessage(err);
    }
    if (!dataHashMatches(block)) return 'data hash does not match the transactions and bundle spans';
    if (this.config.skipEncodedSizeCheck !== true) {
      const size = encodedBlockSize(block);
      if (size > this.#maxBlockBytes) return `block is ${size} bytes; the limit is ${this.#maxBlockBytes}`;
    }
    if (this.config.validateContents !== undefined) {
      try {
        this.config.validateContents(block);
      } catch (err) {
        return `contents rejected: ${errorMessage(err)}`;
      }
    }
    return null;
  }

  // ---------------------------------------------------------------- timeouts

  #onTimeout(t: TimeoutInfo, nowMs: number): void {
    if (!this.#started || t.height !== this.#height) return;
    if (t.step === 'rebroadcast') {
      // Re-send own messages of the last two rounds and of the lock/valid rounds.
      const keep = new Set([this.#round, this.#round - 1, this.#lockedRound, this.#validRound]);
      // The current proposal's proof-of-lock round: laggards need our prevote of that round.
      const cur = this.#rounds.get(this.#round)?.proposal;
      if (cur != null && cur.polRound >= 0) keep.add(cur.polRound);
      for (const [k, m] of this.#own) {
        const r = Number(k.slice(2));
        if (keep.has(r)) this.#out.push({ kind: 'send', message: m });
      }
      // Relay the proof-of-lock we hold (> 2/3 prevotes for our valid block): a laggard that missed
      // some of them, possibly a Byzantine one's, needs all of them to accept the re-proposal.
      if (this.#validBlock !== null) {
        const pol = this.#rounds.get(this.#validRound);
        for (const v of pol?.prevotes.votesFor(toHex(hashOfBlock(this.#validBlock))) ?? []) {
          if (v.validatorIndex !== this.myIndex)
            this.#out.push({ kind: 'relay', message: { kind: 'vote', vote: v } });
        }
      }
      // A laggard still in the previous round needs > 2/3 of its precommits (any value) to time out
      // of it, and nobody re-sends precommits of a round they left: relay the ones we hold. (Found by
      // the simulator: with weighted power and a Byzantine validator whose precommit one honest node
      // lost, the honest nodes stayed split across two rounds for good.)
      const prev = this.#rounds.get(this.#round - 1);
      for (const v of prev?.precommits.first.values() ?? []) {
        if (v.validatorIndex !== this.myIndex)
          this.#out.push({ kind: 'relay', message: { kind: 'vote', vote: v } });
      }
      this.#schedule('rebroadcast', 0, this.config.timeouts.rebroadcastMs);
      // Nudge catch-up again if we are still behind a height we heard of.
      if (this.#behindHint > this.#height) {
        this.#out.push({
          kind: 'catch-up',
          fromHeight: this.#committed.height + 1,
          targetHeight: this.#behindHint - 1,
        });
      }
      return;
    }
    if (t.round !== this.#round) return;
    if (t.step === 'propose' && this.#step === 'propose') {
      this.#vote('prevote', null); // OnTimeoutPropose
      this.#step = 'prevote';
    } else if (t.step === 'prevote' && this.#step === 'prevote') {
      this.#vote('precommit', null); // OnTimeoutPrevote
      this.#step = 'precommit';
    } else if (t.step === 'precommit') {
      this.#startRound(this.#round + 1, nowMs); // OnTimeoutPrecommit
    }
  }

  // ---------------------------------------------------------------- the upon-rules

  #evaluate(nowMs: number): void {
    for (let guard = 0; guard < 64; guard++) {
      const h = this.#height;
      const r = this.#round;
      const s = this.#step;
      if (this.#ruleCommit(nowMs)) continue;
      this.#ruleRoundSkip(nowMs);
      this.#rulesCurrentRound(nowMs);
      if (h === this.#height && r === this.#round && s === this.#step) return;
    }
  }

  /** Rule 49: a proposal v and > 2/3 precommits for id(v) in some round → decide v. */
  #ruleCommit(nowMs: number): boolean {
    const total = this.#total();
    for (const [r, rs] of this.#rounds) {
      if (!isQuorum(rs.precommits.total, total)) continue;
      for (const [k, p] of rs.precommits.power) {
        if (k === NIL || !isQuorum(p, total)) continue;
        const block = this.#blocks.get(k);
        if (block === undefined) {
          if (!this.#commitMissingAsked.has(k)) {
            this.#commitMissingAsked.add(k);
            this.#log('info', 'precommit quorum for a block we do not have; catching up', { round: r });
            this.#out.push({ kind: 'catch-up', fromHeight: this.#height, targetHeight: this.#height });
          }
          continue;
        }
        let reason = this.#validity.get(k);
        if (reason === undefined) {
          reason = this.#structuralReason(block);
          this.#validity.set(k, reason);
        }
        if (reason !== null) {
          // > 2/3 precommitted a block we consider invalid: only possible beyond the fault bound.
          this.#log('warn', 'precommit quorum for a block that fails validation', { reason, round: r });
          continue;
        }
        const cert = makeCertificate(this.#height, r, hashOfBlock(block), rs.precommits.votesFor(k));
        this.#decide(block, cert, nowMs);
        return true;
      }
    }
    return false;
  }

  #decide(block: Block, cert: CommitCertificate, nowMs: number): void {
    this.#out.push({ kind: 'commit', block, certificate: cert });
    this.#committed = {
      height: block.header.height,
      blockHash: hashOfBlock(block),
      timeMs: block.header.timeMs,
      certificate: cert,
    };
    this.#height = this.#committed.height + 1;
    this.#round = 0;
    this.#step = 'propose';
    this.#lockedHash = null;
    this.#lockedRound = -1;
    this.#validBlock = null;
    this.#validRound = -1;
    this.#rounds = new Map();
    this.#blocks = new Map();
    this.#validity = new Map();
    this.#verdicts = new Map();
    this.#verdictRounds = new Map();
    this.#maxRoundSeen = new Map();
    this.#future = new Map();
    this.#own = new Map();
    this.#evidenceSeen = new Set();
    this.#commitMissingAsked = new Set();
    this.#buildAsked = -1;
    if (!this.#started) return;
    this.#startRound(0, nowMs);
    this.#schedule('rebroadcast', 0, this.config.timeouts.rebroadcastMs);
    const buffered = this.#buffered;
    this.#buffered = [];
    for (const m of buffered) this.#onMessage(m, undefined, nowMs, true);
  }

  /** Rule 55: > 1/3 of the power is at a higher round → jump there. */
  #ruleRoundSkip(nowMs: number): void {
    if (this.#maxRoundSeen.size === 0) return;
    const entries = [...this.#maxRoundSeen.entries()].filter(([, r]) => r > this.#round);
    entries.sort((a, b) => b[1] - a[1]);
    let acc = 0;
    for (const [idx, r] of entries) {
      acc += this.#power(idx);
      if (isWeakQuorum(acc, this.#total())) {
        this.#startRound(r, nowMs);
        return;
      }
    }
  }

  #rulesCurrentRound(nowMs: number): void {
    const r = this.#round;
    const rs = this.#roundState(r);
    const total = this.#total();
    const t = this.config.timeouts;
    const p = rs.proposal;

    if (this.#step === 'propose' && p !== null) {
      const hash = hashOfBlock(p.block);
      if (p.polRound === -1) {
        // Rule 22: a fresh proposal; prevote it if valid and we are not locked on something else.
        const lockOk = this.#lockedRound === -1 || this.#lockedHash === toHex(hash);
        const reason = lockOk ? this.#invalidReason(p.block, -1, nowMs) : null;
        if (reason !== PENDING) {
          if (reason !== null) {
            this.#log('info', 'prevoting nil: invalid proposal', {
              height: p.height,
              round: p.round,
              reason,
            });
          }
          this.#vote('prevote', lockOk && reason === null ? hash : null);
          this.#step = 'prevote';
        }
      } else if (p.polRound < r) {
        // Rule 28: a re-proposal with a proof-of-lock from round vr.
        const vr = this.#rounds.get(p.polRound);
        if (vr !== undefined && isQuorum(vr.prevotes.powerFor(toHex(hash)), total)) {
          const lockOk = this.#lockedRound <= p.polRound || this.#lockedHash === toHex(hash);
          const reason = lockOk ? this.#invalidReason(p.block, p.polRound, nowMs) : null;
          if (reason !== PENDING) {
            this.#vote('prevote', lockOk && reason === null ? hash : null);
            this.#step = 'prevote';
          }
        }
      }
    }

    // Rule 34: > 2/3 prevotes for anything → arm the prevote timeout.
    if (this.#step === 'prevote' && !rs.prevoteTimeoutScheduled && isQuorum(rs.prevotes.total, total)) {
      rs.prevoteTimeoutScheduled = true;
      this.#schedule('prevote', r, t.prevoteMs + t.deltaMs * r);
    }

    // Rule 36: proposal v and > 2/3 prevotes for id(v) in this round → lock (if in prevote) and mark valid.
    if (p !== null && !rs.polFired && this.#step !== 'propose') {
      const hash = hashOfBlock(p.block);
      if (
        isQuorum(rs.prevotes.powerFor(toHex(hash)), total) &&
        this.#invalidReason(p.block, p.polRound, nowMs) === null
      ) {
        rs.polFired = true;
        if (this.#step === 'prevote') {
          this.#lockedHash = toHex(hash);
          this.#lockedRound = r;
          this.#vote('precommit', hash);
          this.#step = 'precommit';
        }
        this.#validBlock = p.block;
        this.#validRound = r;
      }
    }

    // Rule 44: > 2/3 prevotes for nil → precommit nil.
    if (this.#step === 'prevote' && isQuorum(rs.prevotes.powerFor(NIL), total)) {
      this.#vote('precommit', null);
      this.#step = 'precommit';
    }

    // Rule 47: > 2/3 precommits for anything → arm the precommit timeout.
    if (!rs.precommitTimeoutScheduled && isQuorum(rs.precommits.total, total)) {
      rs.precommitTimeoutScheduled = true;
      this.#schedule('precommit', r, t.precommitMs + t.deltaMs * r);
    }
  }

  // ---------------------------------------------------------------- catch-up

  #onSynced(block: Block, cert: CommitCertificate, from: string | undefined, nowMs: number): void {
    if (block.header.height !== this.#height) return;
    const c = this.#committed;
    const h = block.header;
    const bad = (reason: string): void => {
      this.#out.push({ kind: 'reject', peer: from, reason: `synced block ${h.height}: ${reason}` });
    };
    if (h.chainId !== this.config.chainId) {
      bad('wrong chain id');
      return;
    }
    if (!bytesEqual(h.parentHash, c.blockHash)) {
      bad('parent hash is not our last block');
      return;
    }
    if (cert.height !== h.height) {
      bad('certificate height differs');
      return;
    }
    try {
      validateBlockBasic(block);
    } catch (err) {
      bad(errorMessage(err));
      return;
    }
    if (!dataHashMatches(block)) {
      bad('data hash does not match');
      return;
    }
    try {
      verifyCertificate(cert, this.config.validators, this.config.chainId, hashOfBlock(block), {
        verify: this.config.verify,
      });
    } catch (err) {
      bad(errorMessage(err));
      return;
    }
    this.#log('info', 'applied a certified block from catch-up', { height: h.height });
    this.#decide(block, cert, nowMs);
  }
}
