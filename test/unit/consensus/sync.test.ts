import { describe, expect, it } from 'vitest';
import { decodeSyncResponse, encodeSyncRequest } from '../../../src/codec/codec.ts';
import { computeDataHash } from '../../../src/codec/commitments.ts';
import { createSyncHandler } from '../../../src/consensus/sync.ts';
import { MemoryBlockStore } from '../../../src/consensus/testing/memory-store.ts';
import { ZERO_HASH } from '../../../src/crypto/hash.ts';
import type { Block } from '../../../src/types.ts';

function block(height: number): Block {
  const txs = [{ namespace: 1, payload: new Uint8Array([height]) }];
  return {
    header: {
      chainId: 'c',
      height,
      round: 0,
      timeMs: height,
      parentHash: ZERO_HASH,
      dataHash: computeDataHash(txs),
      proposer: ZERO_HASH,
      txCount: 1,
      lastCommitHash: new Uint8Array(0),
      resultsHash: new Uint8Array(0),
      auctionHash: new Uint8Array(0),
    },
    txs,
    bundles: [],
  };
}

describe('sync server', () => {
  it('serves status, capped block ranges, and errors for bad or unsupported requests', async () => {
    const store = new MemoryBlockStore();
    for (let h = 1; h <= 100; h++) {
      await store.commitBlock(block(h), {
        height: h,
        round: 0,
        blockHash: new Uint8Array(32).fill(h),
        sigs: [{ validatorIndex: 0, signature: new Uint8Array(64) }],
      });
    }
    const handler = createSyncHandler({ store, chainId: 'c' });
    const ask = async (data: Uint8Array) =>
      decodeSyncResponse(await handler('p', data, new AbortController().signal));
    const st = await ask(encodeSyncRequest({ kind: 'status' }));
    expect(st.kind === 'status' && st.status.height).toBe(100);
    const r = await ask(encodeSyncRequest({ kind: 'blocks', fromHeight: 10, toHeight: 1000 }));
    expect(r.kind === 'blocks' && r.blocks.map((b) => b.block.header.height)).toEqual(
      Array.from({ length: 64 }, (_, i) => 10 + i),
    );
    const past = await ask(encodeSyncRequest({ kind: 'blocks', fromHeight: 101, toHeight: 200 }));
    expect(past.kind === 'blocks' && past.blocks).toEqual([]);
    expect((await ask(new Uint8Array([0xff, 0xff, 0xff]))).kind).toBe('error');
    expect((await ask(encodeSyncRequest({ kind: 'txs', hashes: [] }))).kind).toBe('error');
  });
});
