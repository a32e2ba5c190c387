/**
 * The core's side of ProcessProposal (`verifyProposals`): a structurally sound proposal is handed to
 * the driver in a `verify` action and prevoted only on an accepting `verified` input; a rejecting
 * verdict, or none before the propose timeout, means a nil prevote. Bundle spans are covered by the
 * data hash the core checks itself.
 */
import { describe, expect, it } from 'vitest';
import { computeDataHash } from '../../../src/codec/commitments.ts';
import { proposalSignBytes, voteSignBytes } from '../../../src/codec/hashing.ts';
import { fakeSigner, fakeVerify } from '../../../src/consensus/signing.ts';
import { makeValidatorSet, proposerIndex } from '../../../src/consensus/validators.ts';
import { toHex, ZERO_HASH } from '../../../src/crypto/hash.ts';
import type { Block, BundleSpan, Proposal, Vote } from '../../../src/types.ts';
import {
  ConsensusCore,
  type CoreAction,
  hashOfBlock,
  SIM_TIMEOUTS_FOR_TESTS,
} from './state-machine-helpers.ts';

const CHAIN = 'ordo-verify';
const signers = [0, 1, 2, 3].map((i) => fakeSigner(new Uint8Array(32).fill(i + 1)));
const set = makeValidatorSet(signers.map((s) => ({ publicKey: s.publicKey, votingPower: 1 })));
const NOW = 10_000;
const me = [0, 1, 2, 3].find((i) => [0, 1, 2].every((r) => proposerIndex(set, 1, r) !== i))!;

function block(tag: number, bundles: BundleSpan[] = [], dataBundles = bundles): Block {
  const txs = [
    { namespace: 1, payload: new Uint8Array([tag]) },
    { namespace: 1, payload: new Uint8Array([tag, 1]) },
  ];
  return {
    header: {
      chainId: CHAIN,
      height: 1,
      round: 0,
      timeMs: NOW,
      parentHash: ZERO_HASH,
      dataHash: computeDataHash(txs, dataBundles),
      proposer: signers[proposerIndex(set, 1, 0)]!.publicKey,
      txCount: txs.length,
      lastCommitHash: new Uint8Array(0),
      resultsHash: new Uint8Array(32).fill(9),
      auctionHash: new Uint8Array(32).fill(8),
    },
    txs,
    bundles,
  };
}

function proposal(b: Block): Proposal {
  const idx = proposerIndex(set, 1, 0);
  const signature = signers[idx]!.sign(proposalSignBytes(CHAIN, 1, 0, -1, hashOfBlock(b)));
  return { height: 1, round: 0, polRound: -1, block: b, proposerIndex: idx, signature };
}

function core(): ConsensusCore {
  const c = new ConsensusCore(
    {
      chainId: CHAIN,
      validators: set,
      signer: signers[me]!,
      verify: fakeVerify,
      timeouts: SIM_TIMEOUTS_FOR_TESTS,
      timeBoundMs: 1000,
      verifyProposals: true,
    },
    { height: 0, blockHash: ZERO_HASH, timeMs: 0, certificate: null },
  );
  c.handle({ kind: 'start', nowMs: NOW });
  return c;
}

const prevotes = (as: CoreAction[]): Vote[] =>
  as.flatMap((a) =>
    a.kind === 'send' && a.message.kind === 'vote' && a.message.vote.type === 'prevote'
      ? [a.message.vote]
      : [],
  );
const verifies = (as: CoreAction[]) => as.filter((a) => a.kind === 'verify');
const others = [0, 1, 2, 3].filter((i) => i !== me);

/** A proposal of `b` in `round` with proof-of-lock round `polRound`, by that round's proposer. */
function proposalAt(round: number, b: Block, polRound: number): Proposal {
  const idx = proposerIndex(set, 1, round);
  const signature = signers[idx]!.sign(proposalSignBytes(CHAIN, 1, round, polRound, hashOfBlock(b)));
  return { height: 1, round, polRound, block: b, proposerIndex: idx, signature };
}

function vote(i: number, type: Vote['type'], round: number, b: Block | null): Vote {
  const blockHash = b === null ? null : hashOfBlock(b);
  const signature = signers[i]!.sign(voteSignBytes(CHAIN, type, 1, round, blockHash));
  return { type, height: 1, round, blockHash, validatorIndex: i, signature };
}

/** Round 0: the proposal of A, this node's verdict on it, the others' prevotes for A, no decision. */
function roundZeroWithoutA(verdict: { ok: false; code: string; message: string; notYet?: true }) {
  const c = core();
  const A = block(6);
  c.handle({ kind: 'proposal', proposal: proposal(A), nowMs: NOW });
  const pv = prevotes(
    c.handle({ kind: 'verified', height: 1, blockHash: hashOfBlock(A), verdict, nowMs: NOW }),
  );
  expect(pv.map((v) => v.blockHash)).toEqual([null]);
  const seen: CoreAction[] = [];
  for (const i of others)
    seen.push(...c.handle({ kind: 'vote', vote: vote(i, 'prevote', 0, A), nowMs: NOW }));
  expect(verifies(seen)).toHaveLength(0); // the same round: the verdict stands
  c.handle({ kind: 'timeout', timeout: { step: 'prevote', height: 1, round: 0 }, nowMs: NOW });
  for (const i of others) c.handle({ kind: 'vote', vote: vote(i, 'precommit', 0, null), nowMs: NOW });
  c.handle({ kind: 'timeout', timeout: { step: 'precommit', height: 1, round: 0 }, nowMs: NOW });
  expect(c.round).toBe(1);
  return { c, A };
}

describe('consensus core: proposals verified by the driver', () => {
  it('asks once, waits, and prevotes the block when the verdict accepts it', () => {
    const c = core();
    const A = block(1);
    const out = c.handle({ kind: 'proposal', proposal: proposal(A), nowMs: NOW });
    expect(verifies(out)).toHaveLength(1);
    expect(prevotes(out)).toHaveLength(0);
    expect(c.step).toBe('propose');
    // The same proposal again: no second verify.
    expect(verifies(c.handle({ kind: 'proposal', proposal: proposal(A), nowMs: NOW }))).toHaveLength(0);
    // A verdict for another height is ignored.
    expect(
      prevotes(
        c.handle({
          kind: 'verified',
          height: 2,
          blockHash: hashOfBlock(A),
          verdict: { ok: true },
          nowMs: NOW,
        }),
      ),
    ).toHaveLength(0);
    const pv = prevotes(
      c.handle({ kind: 'verified', height: 1, blockHash: hashOfBlock(A), verdict: { ok: true }, nowMs: NOW }),
    );
    expect(pv.map((v) => (v.blockHash === null ? 'nil' : toHex(v.blockHash)))).toEqual([
      toHex(hashOfBlock(A)),
    ]);
  });

  it('prevotes nil on a rejecting verdict, naming its code', () => {
    for (const code of [
      'RESULTS_HASH_MISMATCH',
      'AUCTION_HASH_MISMATCH',
      'BUNDLE_PARTIAL',
      'RESULTS_NOT_READY',
    ]) {
      const c = core();
      const A = block(2);
      c.handle({ kind: 'proposal', proposal: proposal(A), nowMs: NOW });
      const out = c.handle({
        kind: 'verified',
        height: 1,
        blockHash: hashOfBlock(A),
        verdict: { ok: false, code, message: 'test' },
        nowMs: NOW,
      });
      expect(prevotes(out).map((v) => v.blockHash)).toEqual([null]);
      expect(out.some((a) => a.kind === 'log' && a.data?.code === code)).toBe(true);
    }
  });

  it('prevotes nil at the propose timeout when no verdict came', () => {
    const c = core();
    c.handle({ kind: 'proposal', proposal: proposal(block(3)), nowMs: NOW });
    const out = c.handle({
      kind: 'timeout',
      timeout: { step: 'propose', height: 1, round: 0 },
      nowMs: NOW + 1,
    });
    expect(prevotes(out).map((v) => v.blockHash)).toEqual([null]);
  });

  it('asks again for an outstanding verdict on resume (verdicts are not in the WAL)', () => {
    const c = core();
    const A = block(4);
    c.handle({ kind: 'proposal', proposal: proposal(A), nowMs: NOW });
    const again = verifies(c.resume(NOW));
    expect(again).toHaveLength(1);
    expect(again[0]?.kind === 'verify' && toHex(hashOfBlock(again[0].block))).toBe(toHex(hashOfBlock(A)));
  });

  it('asks again in a later round for a block it could not check yet, instead of refusing it for the height', () => {
    // RESULTS_NOT_READY from a lagging executor is not a verdict on the block: when round 1 re-proposes A
    // with its proof-of-lock, this node checks it again and can prevote it.
    const { c, A } = roundZeroWithoutA({
      ok: false,
      code: 'RESULTS_NOT_READY',
      message: 'lag',
      notYet: true,
    });
    const re = c.handle({ kind: 'proposal', proposal: proposalAt(1, A, 0), nowMs: NOW });
    expect(verifies(re)).toHaveLength(1);
    expect(prevotes(re)).toHaveLength(0);
    const pv = prevotes(
      c.handle({ kind: 'verified', height: 1, blockHash: hashOfBlock(A), verdict: { ok: true }, nowMs: NOW }),
    );
    expect(pv.map((v) => (v.blockHash === null ? 'nil' : toHex(v.blockHash)))).toEqual([
      toHex(hashOfBlock(A)),
    ]);
  });

  it('a refusal of the block itself stands for the whole height', () => {
    const { c, A } = roundZeroWithoutA({ ok: false, code: 'RESULTS_HASH_MISMATCH', message: 'wrong' });
    const re = c.handle({ kind: 'proposal', proposal: proposalAt(1, A, 0), nowMs: NOW });
    expect(verifies(re)).toHaveLength(0);
    expect(prevotes(re).map((v) => v.blockHash)).toEqual([null]);
  });

  it('refuses without asking when the data hash does not cover the bundle spans', () => {
    const span: BundleSpan = {
      bundleHash: new Uint8Array(32).fill(7),
      namespace: 1,
      start: 0,
      count: 2,
      atomicity: 1,
      reverting: [],
    };
    const c = core();
    const out = c.handle({ kind: 'proposal', proposal: proposal(block(5, [span], [])), nowMs: NOW });
    expect(verifies(out)).toHaveLength(0);
    expect(prevotes(out).map((v) => v.blockHash)).toEqual([null]);
    // The same body with spans covered passes to the driver.
    const ok = core().handle({ kind: 'proposal', proposal: proposal(block(5, [span])), nowMs: NOW });
    expect(verifies(ok)).toHaveLength(1);
  });
});
