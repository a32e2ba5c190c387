import { describe, expect, it } from 'vitest';
import { computeDataHash } from '../../../src/codec/commitments.ts';
import { proposalSignBytes, voteSignBytes } from '../../../src/codec/hashing.ts';
import { fakeSigner, fakeVerify } from '../../../src/consensus/signing.ts';
import { makeValidatorSet, proposerIndex } from '../../../src/consensus/validators.ts';
import { toHex, ZERO_HASH } from '../../../src/crypto/hash.ts';
import type { Block, Proposal, Vote, VoteType } from '../../../src/types.ts';
import {
  ConsensusCore,
  type CoreAction,
  hashOfBlock,
  SIM_TIMEOUTS_FOR_TESTS,
} from './state-machine-helpers.ts';

const CHAIN = 'ordo-core';
const signers = [0, 1, 2, 3].map((i) => fakeSigner(new Uint8Array(32).fill(i + 1)));
const set = makeValidatorSet(signers.map((s) => ({ publicKey: s.publicKey, votingPower: 1 })));
const NOW = 10_000;

function block(round: number, tag: number, over: Partial<Block['header']> = {}): Block {
  const txs = [{ namespace: 1, payload: new Uint8Array([tag]) }];
  return {
    header: {
      chainId: CHAIN,
      height: 1,
      round,
      timeMs: NOW,
      parentHash: ZERO_HASH,
      dataHash: computeDataHash(txs),
      proposer: signers[proposerIndex(set, 1, round)]!.publicKey,
      txCount: 1,
      lastCommitHash: new Uint8Array(0),
      resultsHash: new Uint8Array(0),
      auctionHash: new Uint8Array(0),
      ...over,
    },
    txs,
    bundles: [],
  };
}

function proposal(round: number, b: Block, polRound = -1): Proposal {
  const idx = proposerIndex(set, 1, round);
  const signature = signers[idx]!.sign(proposalSignBytes(CHAIN, 1, round, polRound, hashOfBlock(b)));
  return { height: 1, round, polRound, block: b, proposerIndex: idx, signature };
}

function vote(i: number, type: VoteType, round: number, b: Block | null, height = 1): Vote {
  const blockHash = b === null ? null : hashOfBlock(b);
  const signature = signers[i]!.sign(voteSignBytes(CHAIN, type, height, round, blockHash));
  return { type, height, round, blockHash, validatorIndex: i, signature };
}

/** A core for validator `me` that is not the proposer of rounds 0..2 at height 1. */
function core(me: number): ConsensusCore {
  const c = new ConsensusCore(
    {
      chainId: CHAIN,
      validators: set,
      signer: signers[me]!,
      verify: fakeVerify,
      timeouts: SIM_TIMEOUTS_FOR_TESTS,
      timeBoundMs: 1000,
    },
    { height: 0, blockHash: ZERO_HASH, timeMs: 0, certificate: null },
  );
  c.handle({ kind: 'start', nowMs: NOW });
  return c;
}

const sent = (as: CoreAction[]) =>
  as.flatMap((a) => (a.kind === 'send' && a.message.kind === 'vote' ? [a.message.vote] : []));
const hex = (v: Vote | undefined) =>
  v === undefined ? 'none' : v.blockHash === null ? 'nil' : toHex(v.blockHash);

// Find a validator that proposes none of rounds 0..3 at height 1.
const me = [0, 1, 2, 3].find((i) => [0, 1, 2].every((r) => proposerIndex(set, 1, r) !== i))!;
const others = [0, 1, 2, 3].filter((i) => i !== me);

describe('consensus core (pure state machine)', () => {
  it('prevotes a valid proposal, locks on > 2/3 prevotes, commits on > 2/3 precommits', () => {
    const c = core(me);
    const A = block(0, 1);
    const pv = sent(c.handle({ kind: 'proposal', proposal: proposal(0, A), nowMs: NOW }));
    expect(hex(pv[0])).toBe(toHex(hashOfBlock(A)));
    let out: CoreAction[] = [];
    for (const i of others.slice(0, 2))
      out = c.handle({ kind: 'vote', vote: vote(i, 'prevote', 0, A), nowMs: NOW });
    expect(hex(sent(out).find((v) => v.type === 'precommit'))).toBe(toHex(hashOfBlock(A)));
    expect(c.snapshot()).toMatchObject({ lockedRound: 0, validRound: 0, step: 'precommit' });
    for (const i of others.slice(0, 2))
      out = c.handle({ kind: 'vote', vote: vote(i, 'precommit', 0, A), nowMs: NOW });
    const commit = out.find((a) => a.kind === 'commit');
    expect(commit?.kind === 'commit' && commit.certificate.sigs.map((s) => s.validatorIndex).sort()).toEqual(
      [me, ...others.slice(0, 2)].sort(),
    );
    expect(c.height).toBe(2);
  });

  it('a locked validator prevotes nil for a different new block, and unlocks on a later proof-of-lock', () => {
    const c = core(me);
    const A = block(0, 1);
    const B = block(1, 2);
    c.handle({ kind: 'proposal', proposal: proposal(0, A), nowMs: NOW });
    for (const i of others.slice(0, 2))
      c.handle({ kind: 'vote', vote: vote(i, 'prevote', 0, A), nowMs: NOW });
    expect(c.snapshot().lockedRound).toBe(0);
    // Round 0 ends without a commit.
    for (const i of others) c.handle({ kind: 'vote', vote: vote(i, 'precommit', 0, null), nowMs: NOW });
    c.handle({ kind: 'timeout', timeout: { step: 'precommit', height: 1, round: 0 }, nowMs: NOW });
    expect(c.round).toBe(1);
    // Rule 22: fresh proposal B while locked on A → nil.
    const pv1 = sent(c.handle({ kind: 'proposal', proposal: proposal(1, B), nowMs: NOW }));
    expect(hex(pv1[0])).toBe('nil');
    // Others form a proof-of-lock for B in round 1; we see it and precommit... nothing (we prevoted nil,
    // step is prevote: rule 36 locks on B since the round-1 proposal is B).
    let out: CoreAction[] = [];
    for (const i of others) out = c.handle({ kind: 'vote', vote: vote(i, 'prevote', 1, B), nowMs: NOW });
    expect(hex(sent(out).find((v) => v.type === 'precommit'))).toBe(toHex(hashOfBlock(B)));
    expect(c.snapshot()).toMatchObject({ lockedRound: 1, lockedHash: toHex(hashOfBlock(B)) });
  });

  it('rule 28: a re-proposal with a proof-of-lock from a round >= our lock round is prevoted', () => {
    const c = core(me);
    const A = block(0, 1);
    const B = block(1, 2);
    c.handle({ kind: 'proposal', proposal: proposal(0, A), nowMs: NOW });
    for (const i of others.slice(0, 2))
      c.handle({ kind: 'vote', vote: vote(i, 'prevote', 0, A), nowMs: NOW });
    for (const i of others) c.handle({ kind: 'vote', vote: vote(i, 'precommit', 0, null), nowMs: NOW });
    c.handle({ kind: 'timeout', timeout: { step: 'precommit', height: 1, round: 0 }, nowMs: NOW });
    // We miss round 1 (no proposal seen) but learn its prevotes for B, then go to round 2.
    for (const i of others) c.handle({ kind: 'vote', vote: vote(i, 'prevote', 1, B), nowMs: NOW });
    c.handle({ kind: 'timeout', timeout: { step: 'propose', height: 1, round: 1 }, nowMs: NOW });
    c.handle({ kind: 'timeout', timeout: { step: 'prevote', height: 1, round: 1 }, nowMs: NOW });
    c.handle({ kind: 'timeout', timeout: { step: 'precommit', height: 1, round: 1 }, nowMs: NOW });
    expect(c.round).toBe(2);
    const pv = sent(c.handle({ kind: 'proposal', proposal: proposal(2, B, 1), nowMs: NOW }));
    expect(hex(pv[0])).toBe(toHex(hashOfBlock(B)));
    // A re-proposal whose proof-of-lock is OLDER than our lock is refused (we stay locked).
    const d = core(me);
    d.handle({ kind: 'timeout', timeout: { step: 'propose', height: 1, round: 0 }, nowMs: NOW });
    for (const i of others) d.handle({ kind: 'vote', vote: vote(i, 'prevote', 0, A), nowMs: NOW });
    d.handle({ kind: 'timeout', timeout: { step: 'prevote', height: 1, round: 0 }, nowMs: NOW });
    d.handle({ kind: 'timeout', timeout: { step: 'precommit', height: 1, round: 0 }, nowMs: NOW });
    d.handle({ kind: 'proposal', proposal: proposal(1, B), nowMs: NOW });
    for (const i of others.slice(0, 2))
      d.handle({ kind: 'vote', vote: vote(i, 'prevote', 1, B), nowMs: NOW });
    expect(d.snapshot()).toMatchObject({ lockedRound: 1, lockedHash: toHex(hashOfBlock(B)) });
    d.handle({ kind: 'timeout', timeout: { step: 'precommit', height: 1, round: 1 }, nowMs: NOW });
    expect(d.round).toBe(2);
    const pvOld = sent(d.handle({ kind: 'proposal', proposal: proposal(2, A, 0), nowMs: NOW }));
    expect(hex(pvOld[0])).toBe('nil');
  });

  it('prevotes nil for invalid proposals: wrong parent, bad data hash, time too far ahead', () => {
    for (const bad of [
      block(0, 1, { parentHash: new Uint8Array(32).fill(5) }),
      block(0, 1, { dataHash: new Uint8Array(32).fill(5) }),
      block(0, 1, { timeMs: NOW + 5000 }),
      block(0, 1, { timeMs: NOW - 5000 }),
      block(0, 1, { chainId: 'other' }),
      block(0, 1, { txCount: 2 }),
    ]) {
      const c = core(me);
      const pv = sent(c.handle({ kind: 'proposal', proposal: proposal(0, bad), nowMs: NOW }));
      expect(hex(pv[0])).toBe('nil');
    }
  });

  it('prevotes nil when the block source rejects the contents (unknown namespace, invalid tx)', () => {
    const c = new ConsensusCore(
      {
        chainId: CHAIN,
        validators: set,
        signer: signers[me]!,
        verify: fakeVerify,
        timeouts: SIM_TIMEOUTS_FOR_TESTS,
        validateContents: (b) => {
          if (b.txs.some((t) => t.namespace !== 2)) throw new Error('unknown namespace');
        },
      },
      { height: 0, blockHash: ZERO_HASH, timeMs: 0, certificate: null },
    );
    c.handle({ kind: 'start', nowMs: NOW });
    const out = c.handle({ kind: 'proposal', proposal: proposal(0, block(0, 1)), nowMs: NOW });
    expect(hex(sent(out)[0])).toBe('nil');
    expect(out.some((a) => a.kind === 'log' && String(a.data?.reason).includes('unknown namespace'))).toBe(
      true,
    );
  });

  it('rejects a proposal from the wrong proposer or with a bad signature', () => {
    const c = core(me);
    const A = block(0, 1);
    const p = proposal(0, A);
    const out = c.handle({
      kind: 'proposal',
      proposal: { ...p, proposerIndex: (p.proposerIndex + 1) % 4 },
      nowMs: NOW,
    });
    expect(out.some((a) => a.kind === 'reject')).toBe(true);
    const out2 = c.handle({
      kind: 'proposal',
      proposal: { ...p, signature: new Uint8Array(64) },
      nowMs: NOW,
    });
    expect(out2.some((a) => a.kind === 'reject')).toBe(true);
    expect(c.step).toBe('propose');
  });

  it('reports equivocation as evidence once', () => {
    const c = core(me);
    const A = block(0, 1);
    const i = others[0]!;
    c.handle({ kind: 'vote', vote: vote(i, 'prevote', 0, A), nowMs: NOW });
    const out = c.handle({ kind: 'vote', vote: vote(i, 'prevote', 0, null), nowMs: NOW });
    const ev = out.find((a) => a.kind === 'evidence');
    expect(ev?.kind === 'evidence' && ev.evidence.voteA.validatorIndex).toBe(i);
    const again = c.handle({ kind: 'vote', vote: vote(i, 'prevote', 0, block(0, 9)), nowMs: NOW });
    expect(again.some((a) => a.kind === 'evidence')).toBe(false);
  });

  it('skips to a higher round when more than 1/3 of the power is there', () => {
    const c = core(me);
    c.handle({ kind: 'vote', vote: vote(others[0]!, 'prevote', 5, null), nowMs: NOW });
    expect(c.round).toBe(0);
    c.handle({ kind: 'vote', vote: vote(others[1]!, 'precommit', 7, null), nowMs: NOW });
    expect(c.round).toBe(5);
  });

  it('asks for catch-up when it sees a signed message two or more heights ahead', () => {
    const c = core(me);
    const out = c.handle({ kind: 'vote', vote: vote(others[0]!, 'prevote', 0, null, 3), nowMs: NOW });
    expect(out.find((a) => a.kind === 'catch-up')).toMatchObject({ fromHeight: 1, targetHeight: 2 });
  });

  it('keeps the proposal and votes of the height after next, and uses them once it gets there', () => {
    // A validator one block behind its peers receives height 3's proposal while still at height 1.
    const v = [0, 1, 2, 3].find((i) => [1, 2, 3].every((h) => proposerIndex(set, h, 0) !== i))!;
    const peers = [0, 1, 2, 3].filter((i) => i !== v);
    const mk = (height: number, parentHash: Uint8Array, tag: number): Block => {
      const txs = [{ namespace: 1, payload: new Uint8Array([tag]) }];
      return {
        header: {
          chainId: CHAIN,
          height,
          round: 0,
          timeMs: NOW + height,
          parentHash,
          dataHash: computeDataHash(txs),
          proposer: signers[proposerIndex(set, height, 0)]!.publicKey,
          txCount: 1,
          lastCommitHash: height === 1 ? new Uint8Array(0) : new Uint8Array(32).fill(height),
          resultsHash: new Uint8Array(0),
          auctionHash: new Uint8Array(0),
        },
        txs,
        bundles: [],
      };
    };
    const prop = (b: Block): Proposal => {
      const { height } = b.header;
      const idx = proposerIndex(set, height, 0);
      const signature = signers[idx]!.sign(proposalSignBytes(CHAIN, height, 0, -1, hashOfBlock(b)));
      return { height, round: 0, polRound: -1, block: b, proposerIndex: idx, signature };
    };
    const B1 = mk(1, ZERO_HASH, 1);
    const B2 = mk(2, hashOfBlock(B1), 2);
    const B3 = mk(3, hashOfBlock(B2), 3);
    const c = core(v);
    const early = c.handle({ kind: 'proposal', proposal: prop(B3), nowMs: NOW });
    expect(early.find((a) => a.kind === 'catch-up')).toBeDefined();
    for (const i of peers) c.handle({ kind: 'vote', vote: vote(i, 'prevote', 0, B3, 3), nowMs: NOW });
    for (const b of [B1, B2]) {
      const h = b.header.height;
      c.handle({ kind: 'proposal', proposal: prop(b), nowMs: NOW });
      for (const i of peers) c.handle({ kind: 'vote', vote: vote(i, 'prevote', 0, b, h), nowMs: NOW });
      let out: CoreAction[] = [];
      for (const i of peers)
        out.push(...c.handle({ kind: 'vote', vote: vote(i, 'precommit', 0, b, h), nowMs: NOW }));
      if (h === 2) {
        // At height 3 at once: prevote B3 (held since height 1) and, with the peers' held prevotes,
        // precommit it; no timeout, no catch-up.
        const votes = sent(out).filter((x) => x.height === 3);
        expect(votes.map((x) => [x.type, hex(x)])).toEqual([
          ['prevote', toHex(hashOfBlock(B3))],
          ['precommit', toHex(hashOfBlock(B3))],
        ]);
      }
      out = [];
    }
    expect(c.height).toBe(3);
  });

  it('a single validator commits a block by itself', () => {
    const solo = fakeSigner(new Uint8Array(32).fill(42));
    const one = makeValidatorSet([{ publicKey: solo.publicKey, votingPower: 3 }]);
    const c = new ConsensusCore(
      { chainId: CHAIN, validators: one, signer: solo, verify: fakeVerify, timeouts: SIM_TIMEOUTS_FOR_TESTS },
      { height: 0, blockHash: ZERO_HASH, timeMs: 0, certificate: null },
    );
    const build = c.handle({ kind: 'start', nowMs: NOW }).find((a) => a.kind === 'build');
    expect(build).toBeDefined();
    const out = c.handle({ kind: 'contents', height: 1, round: 0, txs: [], bundles: [], nowMs: NOW });
    const commit = out.find((a) => a.kind === 'commit');
    expect(commit?.kind === 'commit' && commit.certificate.sigs).toHaveLength(1);
    expect(out.some((a) => a.kind === 'build')).toBe(true); // next height starts at once
  });
});
