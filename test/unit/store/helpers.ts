/**
 * Deterministic block fixtures for the store tests and the crash-test child: block `h` of a chain is a
 * pure function of (seed, h, parent hash), so a verifier can rebuild exactly what a writer committed.
 */
import { createHash } from 'node:crypto';
import { blockHash } from '../../../src/codec/hashing.ts';
import { ZERO_HASH } from '../../../src/crypto/hash.ts';
import type { Block, CommitCertificate, TxEnvelope } from '../../../src/types.ts';

function digest(...parts: (string | number)[]): Uint8Array {
  return new Uint8Array(createHash('sha256').update(parts.join('/')).digest());
}

/** `n` bytes derived from (seed, height, i). */
export function payload(seed: string, height: number, i: number, n = 64): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0, c = 0; off < n; off += 32, c++)
    out.set(digest(seed, height, i, c).subarray(0, n - off), off);
  return out;
}

export interface Fixture {
  block: Block;
  cert: CommitCertificate;
  hash: Uint8Array;
}

export function makeBlock(seed: string, height: number, parentHash: Uint8Array, txCount: number): Fixture {
  const txs: TxEnvelope[] = [];
  for (let i = 0; i < txCount; i++) {
    // Namespaces 1..3, sorted as blocks require.
    txs.push({
      namespace: 1 + Math.floor((3 * i) / Math.max(1, txCount)),
      payload: payload(seed, height, i),
    });
  }
  const block: Block = {
    header: {
      chainId: 'ordo-test',
      height,
      round: 0,
      timeMs: 1_700_000_000_000 + height * 1000,
      parentHash,
      dataHash: digest(seed, height, 'data'),
      proposer: digest('proposer'),
      txCount,
      lastCommitHash: ZERO_HASH,
      resultsHash: ZERO_HASH,
      auctionHash: ZERO_HASH,
    },
    txs,
    bundles: [],
  };
  const hash = blockHash(block);
  const cert: CommitCertificate = {
    height,
    round: 0,
    blockHash: hash,
    sigs: [
      { validatorIndex: 0, signature: new Uint8Array(64).fill(1) },
      { validatorIndex: 2, signature: new Uint8Array(64).fill(height % 256) },
    ],
  };
  return { block, cert, hash };
}

/** Blocks 1..count of a chain, each linked to its parent. */
export function makeChain(seed: string, count: number, txCount: number): Fixture[] {
  const out: Fixture[] = [];
  let parent: Uint8Array = ZERO_HASH;
  for (let h = 1; h <= count; h++) {
    const f = makeBlock(seed, h, parent, txCount);
    out.push(f);
    parent = f.hash;
  }
  return out;
}

/** Number of txs the crash writer puts in block `h` (varies so batches differ in size). */
export function crashTxCount(h: number): number {
  return 50 + ((h * 37) % 150);
}

/** Extra key the crash writer commits with block `h` in the 'crash' sub view. */
export function crashExtraKey(h: number): Uint8Array {
  return new TextEncoder().encode(`extra/${String(h).padStart(8, '0')}`);
}
