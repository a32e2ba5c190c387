/**
 * The per-height timeline of one node (issue 26, "why big blocks need a second round"): when this
 * node's build ran, when each round's proposal arrived and was verified, when it voted and when the
 * vote quorums formed, all in ms since the height started here (the previous decision; negative: before
 * it, e.g. a proposal that came while this node was still deciding the height before). The engine feeds
 * it events it already handles; at the decision it names why every earlier round of the height failed,
 * as this node saw it (`RoundFailure`). A handful of numbers per round: cheap enough to keep on.
 */
import type { ValidatorSet } from './types.ts';
import { isQuorum } from './validators.ts';

/** Why a round ended without a decision, from one node's view (the first cause that applies). */
export type RoundFailure =
  /** This node was the proposer and its block source could not build (e.g. RESULTS_NOT_READY). */
  | 'build_failed'
  /** The propose timeout fired before any proposal of the round arrived. */
  | 'no_proposal'
  /** The proposal arrived, but its verification had not finished when the propose timeout fired. */
  | 'verify_late'
  /** The proposal arrived and this node's builder rejected it. */
  | 'rejected'
  /** This node prevoted the block, but the round's prevotes did not reach a quorum for it. */
  | 'prevotes_short'
  /** A prevote quorum for the block formed, but the precommits for it did not. */
  | 'precommits_short'
  /** Anything else (e.g. the node jumped to a later round on seeing others there). */
  | 'other';

export const ROUND_FAILURES: readonly RoundFailure[] = [
  'build_failed',
  'no_proposal',
  'verify_late',
  'rejected',
  'prevotes_short',
  'precommits_short',
  'other',
];

interface VoteTally {
  /** validator index → voted for the block (true) or nil (false). */
  readonly by: Map<number, boolean>;
  /** ms at which > 2/3 of the power had voted (anything). */
  quorumAt?: number;
}

/** One round as this node saw it (ms since the height started; absent: did not happen). */
export interface RoundTrace {
  round: number;
  buildStart?: number;
  buildEnd?: number;
  buildError?: string;
  /** Own proposal: its contents were queued for the core (after the gossip flush, `beforePropose`). */
  contentsQueued?: number;
  /** Own proposal: the core took the contents (the consensus queue reached them) and signed. */
  contentsIn?: number;
  /** Own proposal: its WAL record was fsynced (it may leave now). */
  walSynced?: number;
  /** Own proposal: libp2p took it (the publish settled: queued on every peer's stream). */
  published?: number;
  /** A proposal of the round first reached this node (compact: before its rebuild). */
  proposalHeard?: number;
  /** The whole proposal was handed to the core (after the rebuild of a compact one); an own one: sent. */
  proposalIn?: number;
  /** Delay from the proposal's header time (the proposer's clock) to `proposalIn`. */
  proposalAgeMs?: number;
  txs?: number;
  verifyStart?: number;
  verifyEnd?: number;
  verdict?: string;
  proposeTimeout?: number;
  /** ms a due propose timeout waited for this node's executor (results of h - 2), ADR 0292. */
  proposeDeferredMs?: number;
  prevote?: number;
  prevoteNil?: boolean;
  prevoteQuorum?: number;
  /** Prevotes for a block / for nil seen by the end of the round. */
  prevotesFor?: number;
  prevotesNil?: number;
  precommit?: number;
  precommitNil?: boolean;
  precommitQuorum?: number;
  precommitsFor?: number;
  precommitsNil?: number;
  failure?: RoundFailure;
}

interface RoundState extends RoundTrace {
  prevotes: VoteTally;
  precommits: VoteTally;
}

export interface HeightSummary {
  height: number;
  /** The round that decided. */
  round: number;
  txs: number;
  /** ms from the height's start to the decision. */
  decidedMs: number;
  rounds: RoundTrace[];
  /** [start, ms]: the consensus queue waited for the commit pipeline (store writes), ms since start. */
  commitWaits?: [number, number][];
  /** [start, ms]: event-loop stalls during the height (loop-stalls.ts), ms since start. */
  loopStalls?: [number, number][];
  /**
   * [height, committed, queued, start, end]: blocks this node's executor finished during the height
   * (committed: stored here, execution scheduled; queued: past the auction gate, handed to the executor;
   * start: the executor began running it), ms since start (ADR 0307).
   */
  executed?: [number, number, number, number, number][];
  /** [start, ms]: bundle simulations this node's executor ran during the height, the longest twelve. */
  simulations?: [number, number][];
  /** The simulations' count and total ms during the height. */
  simulated?: [number, number];
}

/** Waits and stalls kept per height at most (the longest are kept). */
const MAX_SPANS = 12;

/** Rounds of one height kept at most (a height that needs more is summarised from its first ones). */
const MAX_ROUNDS = 64;

/**
 * Times are kept as given (the engine's clock) and made relative to the height's start when it is
 * decided. Events of the height after the current one are kept too: they may come before it starts.
 */
export class HeightTrace {
  readonly #set: ValidatorSet;
  #height = -1;
  #startMs = 0;
  /** Rounds of the current height and of the next one. */
  #rounds = new Map<number, RoundState>();
  #next = new Map<number, RoundState>();
  /** Commit-pipeline waits of the current height, absolute [start, ms]. */
  #commitWaits: [number, number][] = [];
  /** Executions finished during the current height, absolute [height, committed, queued, start, end]. */
  #executed: [number, number, number, number, number][] = [];
  /** Simulations during the current height, absolute [start, ms] (trimmed to the longest), count, ms. */
  #sims: [number, number][] = [];
  #simCount = 0;
  #simMs = 0;

  constructor(set: ValidatorSet) {
    this.#set = set;
  }

  /** A new height starts (the previous one was decided here at `nowMs`). */
  start(height: number, nowMs: number): void {
    this.#rounds = height === this.#height + 1 ? this.#next : new Map();
    this.#next = new Map();
    this.#height = height;
    this.#startMs = nowMs;
    this.#commitWaits = [];
    this.#executed = [];
    this.#sims = [];
    this.#simCount = 0;
    this.#simMs = 0;
  }

  /** ms since the current height started (the timeline's origin). */
  sinceStart(nowMs: number): number {
    return nowMs - this.#startMs;
  }

  /** The engine's input queue waited `ms` (from `startMs`) for the commit pipeline. */
  commitWait(startMs: number, ms: number): void {
    this.#commitWaits.push([startMs, ms]);
  }

  /** This node's executor finished `height` (committed, queued, started, ended at these engine times). */
  executed(height: number, committedMs: number, queuedMs: number, startMs: number, endMs: number): void {
    if (this.#executed.length < MAX_ROUNDS)
      this.#executed.push([height, committedMs, queuedMs, startMs, endMs]);
  }

  /** This node's executor ran a bundle simulation from `startMs` for `ms`. */
  simulated(startMs: number, ms: number): void {
    this.#simCount++;
    this.#simMs += ms;
    this.#sims.push([startMs, ms]);
    if (this.#sims.length > 16 * MAX_SPANS)
      this.#sims = this.#sims.sort((a, b) => b[1] - a[1]).slice(0, MAX_SPANS);
  }

  /** Own proposal steps between its build and libp2p (see RoundTrace). */
  own(
    step: 'contentsQueued' | 'contentsIn' | 'walSynced' | 'published',
    height: number,
    round: number,
    nowMs: number,
  ): void {
    const r = this.#r(height, round);
    if (r !== undefined && r[step] === undefined) r[step] = nowMs;
  }

  get height(): number {
    return this.#height;
  }

  #r(height: number, round: number): RoundState | undefined {
    const m = height === this.#height ? this.#rounds : height === this.#height + 1 ? this.#next : undefined;
    if (m === undefined || round < 0) return undefined;
    let r = m.get(round);
    if (r === undefined) {
      if (m.size >= MAX_ROUNDS) return undefined;
      r = { round, prevotes: { by: new Map() }, precommits: { by: new Map() } };
      m.set(round, r);
    }
    return r;
  }

  buildStart(height: number, round: number, nowMs: number): void {
    const r = this.#r(height, round);
    if (r !== undefined && r.buildStart === undefined) r.buildStart = nowMs;
  }

  buildEnd(height: number, round: number, nowMs: number, error?: string): void {
    const r = this.#r(height, round);
    if (r === undefined) return;
    r.buildEnd = nowMs;
    if (error !== undefined) r.buildError = error;
  }

  proposalHeard(height: number, round: number, nowMs: number): void {
    const r = this.#r(height, round);
    if (r !== undefined && r.proposalHeard === undefined) r.proposalHeard = nowMs;
  }

  proposalIn(height: number, round: number, nowMs: number, txs: number, headerTimeMs: number): void {
    const r = this.#r(height, round);
    if (r === undefined || r.proposalIn !== undefined) return;
    r.proposalIn = nowMs;
    r.proposalHeard ??= r.proposalIn;
    r.txs = txs;
    r.proposalAgeMs = Math.round(nowMs - headerTimeMs);
  }

  verifyStart(height: number, round: number, nowMs: number): void {
    const r = this.#r(height, round);
    if (r !== undefined && r.verifyStart === undefined) r.verifyStart = nowMs;
  }

  verifyEnd(height: number, round: number, nowMs: number, verdict: string): void {
    const r = this.#r(height, round);
    if (r === undefined || r.verifyEnd !== undefined) return;
    r.verifyEnd = nowMs;
    r.verdict = verdict;
  }

  proposeTimeout(height: number, round: number, nowMs: number): void {
    const r = this.#r(height, round);
    if (r !== undefined && r.proposeTimeout === undefined) r.proposeTimeout = nowMs;
  }

  proposeDeferred(height: number, round: number, ms: number): void {
    const r = this.#r(height, round);
    if (r !== undefined) r.proposeDeferredMs = ms;
  }

  /** Own vote sent. */
  ownVote(type: 'prevote' | 'precommit', height: number, round: number, nil: boolean, nowMs: number): void {
    const r = this.#r(height, round);
    if (r === undefined || r[type] !== undefined) return;
    r[type] = nowMs;
    if (type === 'prevote') r.prevoteNil = nil;
    else r.precommitNil = nil;
  }

  /** Any vote of the height (own ones included) as the core receives it. */
  vote(
    type: 'prevote' | 'precommit',
    height: number,
    round: number,
    validator: number,
    nil: boolean,
    nowMs: number,
  ): void {
    const r = this.#r(height, round);
    if (r === undefined) return;
    const t = type === 'prevote' ? r.prevotes : r.precommits;
    if (t.by.has(validator)) return;
    t.by.set(validator, !nil);
    if (t.quorumAt !== undefined) return;
    let power = 0;
    for (const i of t.by.keys()) power += this.#set.validators[i]?.votingPower ?? 0;
    if (isQuorum(power, this.#set.totalPower)) t.quorumAt = nowMs;
  }

  /** The height was decided in `round` at `nowMs`: its summary, every earlier round classified. */
  decided(
    height: number,
    round: number,
    txs: number,
    nowMs: number,
    stalls: readonly { startMs: number; ms: number }[] = [],
  ): HeightSummary | undefined {
    if (height !== this.#height) return undefined;
    const rounds: RoundTrace[] = [];
    for (const k of [...this.#rounds.keys()].sort((a, b) => a - b)) {
      const s = this.#rounds.get(k)!;
      const { prevotes, precommits, ...abs } = s;
      const t = relative(abs, this.#startMs);
      const count = (v: VoteTally, forBlock: boolean): number =>
        [...v.by.values()].filter((x) => x === forBlock).length;
      t.prevotesFor = count(prevotes, true);
      t.prevotesNil = count(prevotes, false);
      t.precommitsFor = count(precommits, true);
      t.precommitsNil = count(precommits, false);
      if (prevotes.quorumAt !== undefined) t.prevoteQuorum = Math.round(prevotes.quorumAt - this.#startMs);
      if (precommits.quorumAt !== undefined)
        t.precommitQuorum = Math.round(precommits.quorumAt - this.#startMs);
      if (k < round) t.failure = classify(t, this.#set);
      rounds.push(t);
    }
    const out: HeightSummary = { height, round, txs, decidedMs: Math.round(nowMs - this.#startMs), rounds };
    const spans = (l: [number, number][]): [number, number][] =>
      l
        .sort((a, b) => b[1] - a[1])
        .slice(0, MAX_SPANS)
        .sort((a, b) => a[0] - b[0])
        .map(([at, ms]) => [Math.round(at - this.#startMs), Math.round(ms)]);
    if (this.#commitWaits.length > 0) out.commitWaits = spans(this.#commitWaits);
    if (stalls.length > 0) out.loopStalls = spans(stalls.map((x) => [x.startMs, x.ms]));
    const rel = (t: number): number => Math.round(t - this.#startMs);
    if (this.#executed.length > 0)
      out.executed = this.#executed.map(([h, c, q, s0, e]) => [h, rel(c), rel(q), rel(s0), rel(e)]);
    if (this.#simCount > 0) {
      out.simulated = [this.#simCount, Math.round(this.#simMs)];
      out.simulations = spans(this.#sims);
    }
    return out;
  }
}

const TIMES = [
  'buildStart',
  'buildEnd',
  'contentsQueued',
  'contentsIn',
  'walSynced',
  'published',
  'proposalHeard',
  'proposalIn',
  'verifyStart',
  'verifyEnd',
  'proposeTimeout',
  'prevote',
  'precommit',
] as const;

function relative(t: RoundTrace, startMs: number): RoundTrace {
  const out: RoundTrace = { ...t };
  for (const k of TIMES) {
    const v = t[k];
    if (v !== undefined) out[k] = Math.round(v - startMs);
  }
  return out;
}

function classify(t: RoundTrace, set: ValidatorSet): RoundFailure {
  if (t.buildError !== undefined) return 'build_failed';
  if (t.prevoteNil === false) return votesShort(t, set);
  if (t.proposalIn === undefined || (t.prevote !== undefined && t.proposalIn > t.prevote)) {
    return t.proposalHeard !== undefined && t.prevote !== undefined && t.proposalHeard <= t.prevote
      ? 'verify_late' // heard but still being rebuilt
      : 'no_proposal';
  }
  if (t.verdict !== undefined && t.verdict !== 'ok' && (t.verifyEnd ?? 0) <= (t.prevote ?? Infinity))
    return 'rejected';
  if (t.prevoteNil === true && (t.verifyEnd === undefined || t.verifyEnd > (t.prevote ?? 0)))
    return 'verify_late';
  return votesShort(t, set);
}

function votesShort(t: RoundTrace, set: ValidatorSet): RoundFailure {
  // Equal power is assumed for the vote counts here (the summary reports counts, not power).
  const n = set.validators.length;
  const quorum = Math.floor((2 * n) / 3) + 1;
  if ((t.prevotesFor ?? 0) < quorum) return 'prevotes_short';
  if ((t.precommitsFor ?? 0) < quorum) return 'precommits_short';
  return 'other';
}

/**
 * Stages of a decided height on its critical path as this node saw it (issue #22, session 17: "why a
 * bundled height takes 712 ms"), ms; each one from the previous milestone of the deciding round that
 * happened to the next (a milestone that did not happen is skipped, so the stages sum to `decidedMs`
 * up to the clamping of out-of-order milestones at 0).
 *   own proposal:  untilBuild (block floor, earlier rounds) → build → send (gossip flush, WAL, publish)
 *   peer proposal: untilHeard (the proposer's floor, build, send and the delivery) → rebuild (compact
 *                  proposal: pool lookups, fetches, body hash)
 *   both:          untilVerify (consensus queue) → verify → toPrevote → prevoteWait (own prevote →
 *                  quorum) → toPrecommit → precommitWait → decide (quorum → the core's decision)
 * Heights whose deciding round has no proposal here (decided by a certificate) give no stages.
 */
export const HEIGHT_STAGES = [
  'untilBuild',
  'build',
  'send',
  'untilHeard',
  'rebuild',
  'untilVerify',
  'verify',
  'toPrevote',
  'prevoteWait',
  'toPrecommit',
  'precommitWait',
  'decide',
] as const;
export type HeightStage = (typeof HEIGHT_STAGES)[number];

export function heightStages(s: HeightSummary): Partial<Record<HeightStage, number>> | undefined {
  const r = s.rounds.find((x) => x.round === s.round);
  if (r === undefined || r.proposalIn === undefined) return undefined;
  const own = r.buildStart !== undefined && r.buildError === undefined;
  const steps: [HeightStage, number | undefined][] = own
    ? [
        ['untilBuild', r.buildStart],
        ['build', r.buildEnd],
        ['send', r.proposalIn],
      ]
    : [
        ['untilHeard', r.proposalHeard],
        ['rebuild', r.proposalIn],
      ];
  steps.push(
    ['untilVerify', r.verifyStart],
    ['verify', r.verifyEnd],
    ['toPrevote', r.prevote],
    ['prevoteWait', r.prevoteQuorum],
    ['toPrecommit', r.precommit],
    ['precommitWait', r.precommitQuorum],
    ['decide', s.decidedMs],
  );
  const out: Partial<Record<HeightStage, number>> = {};
  let prev = 0;
  for (const [stage, at] of steps) {
    if (at === undefined) continue;
    out[stage] = Math.max(0, at - prev);
    prev = Math.max(prev, at);
  }
  return out;
}
