import { describe, expect, it } from 'vitest';
import {
  decodeBlock,
  decodeConsensusMessage,
  decodeGossipConsensusMessage,
  decodeSyncRequest,
  decodeTx,
  decodeTxBatch,
  encodeBlock,
  encodeCompactProposal,
  encodeConsensusMessage,
  encodedBlockSize,
  encodeSyncRequest,
  encodeTx,
  encodeTxBatch,
  proposalFromCompact,
} from '../../../src/codec/codec.ts';
import { computeDataHash } from '../../../src/codec/commitments.ts';
import { txHash, voteSignBytes } from '../../../src/codec/hashing.ts';
import { pb } from '../../../src/codec/proto.ts';
import { DecodeError } from '../../../src/errors.ts';
import type { Block, TxEnvelope } from '../../../src/types.ts';

const tx = (namespace: number, n: number): TxEnvelope => ({
  namespace,
  payload: new Uint8Array(n).fill(namespace),
});

function block(txs: TxEnvelope[]): Block {
  return {
    header: {
      chainId: 'test',
      height: 1,
      round: 0,
      timeMs: 1000,
      parentHash: new Uint8Array(32),
      dataHash: computeDataHash(txs),
      proposer: new Uint8Array(32).fill(7),
      txCount: txs.length,
      lastCommitHash: new Uint8Array(0),
      resultsHash: new Uint8Array(0),
      auctionHash: new Uint8Array(0),
    },
    txs,
    bundles: [],
  };
}

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).code).toBe(code);
    return;
  }
  throw new Error('expected a DecodeError');
}

describe('codec', () => {
  it('round-trips a transaction, a batch and a block', () => {
    const t = tx(3, 200);
    expect(decodeTx(encodeTx(t))).toEqual(t);
    const batch = [tx(1, 10), tx(2, 20), tx(2, 30)];
    expect(decodeTxBatch(encodeTxBatch(batch))).toEqual(batch);
    const b = block(batch);
    expect(decodeBlock(encodeBlock(b))).toEqual(b);
  });

  it('round-trips consensus messages and sync requests', () => {
    const vote = {
      type: 'precommit' as const,
      height: 5,
      round: 2,
      blockHash: new Uint8Array(32).fill(1),
      validatorIndex: 3,
      signature: new Uint8Array(64).fill(2),
    };
    expect(decodeConsensusMessage(encodeConsensusMessage({ kind: 'vote', vote }))).toEqual({
      kind: 'vote',
      vote,
    });
    const nilVote = { ...vote, blockHash: null };
    expect(decodeConsensusMessage(encodeConsensusMessage({ kind: 'vote', vote: nilVote }))).toEqual({
      kind: 'vote',
      vote: nilVote,
    });
    const req = { kind: 'blocks' as const, fromHeight: 3, toHeight: 9 };
    expect(decodeSyncRequest(encodeSyncRequest(req))).toEqual(req);
  });

  it('round-trips a proposal through its compact gossip form', () => {
    const txs = [tx(1, 200), tx(2, 200), tx(2, 300)];
    const proposal = {
      height: 1,
      round: 0,
      polRound: -1,
      block: block(txs),
      proposerIndex: 2,
      signature: new Uint8Array(64).fill(9),
    };
    const full = encodeConsensusMessage({ kind: 'proposal', proposal });
    const bytes = encodeCompactProposal(proposal, txs.map(txHash));
    expect(bytes.byteLength).toBeLessThan(full.byteLength);
    const m = decodeGossipConsensusMessage(bytes);
    if (m.kind !== 'compact') throw new Error('expected a compact proposal');
    expect(m.compact.txHashes).toEqual(txs.map(txHash));
    expect(proposalFromCompact(m.compact, txs)).toEqual(proposal);
    // Full messages decode through the gossip decoder too; a compact one is refused where a full
    // proposal is required (WAL records).
    expect(decodeGossipConsensusMessage(full)).toEqual({ kind: 'proposal', proposal });
    expectCode(() => decodeConsensusMessage(bytes), 'DECODE_UNEXPECTED');
    // Transactions out of namespace order do not form a valid block.
    expectCode(() => proposalFromCompact(m.compact, [txs[1]!, txs[0]!, txs[2]!]), 'DECODE_INVALID_FIELD');
    // A header whose txCount disagrees with the listed ids is refused at decode.
    const lying = encodeCompactProposal(proposal, txs.map(txHash));
    const w = pb.ConsensusMessage.decode(lying) as unknown as { compactProposal: { txHashes: Uint8Array[] } };
    w.compactProposal.txHashes.pop();
    expectCode(
      () => decodeGossipConsensusMessage(pb.ConsensusMessage.encode(w).finish()),
      'DECODE_INVALID_FIELD',
    );
  });

  it('rejects oversized input before decoding', () => {
    expectCode(() => decodeTx(new Uint8Array(200 * 1024)), 'DECODE_TOO_LARGE');
    expectCode(() => decodeTxBatch(new Uint8Array(2 * 1024 * 1024)), 'DECODE_TOO_LARGE');
    expectCode(() => decodeTx(encodeTx(tx(1, 300)), 100), 'DECODE_TOO_LARGE');
  });

  it('rejects truncated input', () => {
    const bytes = encodeBlock(block([tx(1, 50), tx(2, 50)]));
    expectCode(() => decodeBlock(bytes.subarray(0, bytes.length - 10)), 'DECODE_MALFORMED');
  });

  it('rejects wrong field types and invalid fields', () => {
    // field 1 (namespace) encoded as a length-delimited string instead of a varint
    const wrongType = new Uint8Array([0x0a, 0x03, 0x61, 0x62, 0x63]);
    expect(() => decodeTx(wrongType)).toThrow(DecodeError);
    expectCode(
      () => decodeTx(encodeTx({ namespace: 0, payload: new Uint8Array([1]) })),
      'DECODE_INVALID_FIELD',
    );
    expectCode(
      () => decodeTx(encodeTx({ namespace: 1, payload: new Uint8Array(0) })),
      'DECODE_INVALID_FIELD',
    );
    const bad = block([tx(1, 5), tx(2, 5)]);
    bad.txs.reverse();
    expectCode(() => decodeBlock(encodeBlock(bad)), 'DECODE_INVALID_FIELD');
    const wrongCount = block([tx(1, 5)]);
    wrongCount.header.txCount = 2;
    expectCode(() => decodeBlock(encodeBlock(wrongCount)), 'DECODE_INVALID_FIELD');
    const shortHash = pb.Vote.encode({
      type: 1,
      height: 1,
      round: 0,
      blockHash: new Uint8Array(5),
      signature: new Uint8Array(64),
    }).finish();
    expectCode(
      () => decodeConsensusMessage(pb.ConsensusMessage.encode({ vote: pb.Vote.decode(shortHash) }).finish()),
      'DECODE_INVALID_FIELD',
    );
    expectCode(() => decodeTxBatch(encodeTxBatch([])), 'DECODE_EMPTY');
    expectCode(
      () => decodeSyncRequest(encodeSyncRequest({ kind: 'blocks', fromHeight: 9, toHeight: 3 })),
      'DECODE_INVALID_FIELD',
    );
  });

  it("computes a block's encoded size without encoding it", () => {
    const sizes = [1, 5, 127, 128, 300, 16_383, 16_384, 70_000];
    const txs = sizes.map((n, i) => tx(1 + Math.floor(i / 3) * 200, n));
    const b = block(txs);
    b.bundles.push({
      bundleHash: new Uint8Array(32).fill(3),
      namespace: 1,
      start: 0,
      count: 2,
      atomicity: 1,
      reverting: [],
    });
    expect(encodedBlockSize(b)).toBe(encodeBlock(b).byteLength);
    expect(encodedBlockSize(block([]))).toBe(encodeBlock(block([])).byteLength);
  });

  it('derives distinct, stable hashes and sign bytes', () => {
    expect(txHash(tx(1, 4))).not.toEqual(txHash(tx(2, 4)));
    const a = voteSignBytes('c', 'prevote', 1, 0, new Uint8Array(32));
    const b = voteSignBytes('c', 'precommit', 1, 0, new Uint8Array(32));
    const c = voteSignBytes('d', 'prevote', 1, 0, new Uint8Array(32));
    expect(a).not.toEqual(b);
    expect(a).not.toEqual(c);
    expect(voteSignBytes('c', 'prevote', 1, 0, null)).not.toEqual(a);
  });
});
