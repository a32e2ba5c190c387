/**
 * JSON renderings of domain objects for RPC answers: bytes as 0x-hex, heights as numbers.
 */
import { blockHash, txHash } from '../codec/index.ts';
import { toHex } from '../crypto/index.ts';
import type { Block, CommitCertificate, DuplicateVoteEvidence, Vote } from '../types.ts';

export const hex = (b: Uint8Array): string => `0x${toHex(b)}`;

export function blockJson(
  block: Block,
  cert: CommitCertificate | undefined,
  includeData = true,
): Record<string, unknown> {
  const h = block.header;
  return {
    height: h.height,
    hash: hex(blockHash(block)),
    header: {
      chainId: h.chainId,
      height: h.height,
      round: h.round,
      timeMs: h.timeMs,
      parentHash: hex(h.parentHash),
      dataHash: hex(h.dataHash),
      proposer: hex(h.proposer),
      txCount: h.txCount,
      lastCommitHash: hex(h.lastCommitHash),
      resultsHash: hex(h.resultsHash),
      auctionHash: hex(h.auctionHash),
    },
    txs: block.txs.map((tx, index) => ({
      index,
      namespace: tx.namespace,
      hash: hex(txHash(tx)),
      ...(includeData ? { data: hex(tx.payload) } : { size: tx.payload.byteLength }),
    })),
    // Every field of a span that data_hash commits to (docs/wire.md), so a client can recompute it.
    bundles: block.bundles.map((b) => ({
      bundleHash: hex(b.bundleHash),
      namespace: b.namespace,
      start: b.start,
      count: b.count,
      atomicity: b.atomicity,
      reverting: [...b.reverting],
    })),
    certificate: cert === undefined ? null : certificateJson(cert),
  };
}

export function certificateJson(c: CommitCertificate): Record<string, unknown> {
  return {
    height: c.height,
    round: c.round,
    blockHash: hex(c.blockHash),
    sigs: c.sigs.map((s) => ({ validatorIndex: s.validatorIndex, signature: hex(s.signature) })),
  };
}

export function voteJson(v: Vote): Record<string, unknown> {
  return {
    type: v.type,
    height: v.height,
    round: v.round,
    blockHash: v.blockHash === null ? null : hex(v.blockHash),
    validatorIndex: v.validatorIndex,
    signature: hex(v.signature),
  };
}

export function evidenceJson(e: DuplicateVoteEvidence): Record<string, unknown> {
  return { type: 'duplicate-vote', voteA: voteJson(e.voteA), voteB: voteJson(e.voteB) };
}
