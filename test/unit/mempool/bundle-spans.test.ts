/**
 * ADR 0276: a committed block's bundle hashes are kept as a small per-height record in the block's own
 * commit batch, and a node's start rebuilds the bundle pool's inclusion memory from those records,
 * reading a stored block only for a height without one (an older store).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BUNDLE_SPANS_PREFIX,
  decodeSpanRecord,
  encodeSpanRecord,
  readIncluded,
  recordSpans,
  spanRecordKey,
} from '../../../src/mempool/index.ts';
import { type EngineBlockStore, openStore } from '../../../src/store/index.ts';
import type { Block, BundleSpan } from '../../../src/types.ts';
import { makeChain } from '../store/helpers.ts';

const bh = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const span = (hash: Uint8Array, namespace: number, start: number): BundleSpan => ({
  bundleHash: hash,
  namespace,
  start,
  count: 1,
  atomicity: 1,
  reverting: [],
});
const withSpans = (block: Block, spans: BundleSpan[]): Block => ({ ...block, bundles: spans });

describe('bundle span records: encoding', () => {
  it('holds each bundle once, in order of first appearance; empty means no bundles', () => {
    const { block } = makeChain('enc', 1, 2)[0]!;
    const rec = encodeSpanRecord(withSpans(block, [span(bh(5), 1, 0), span(bh(3), 2, 0), span(bh(5), 3, 0)]));
    expect(decodeSpanRecord(rec)).toEqual([bh(5), bh(3)]);
    expect(encodeSpanRecord(block)).toEqual(new Uint8Array(0));
    expect(decodeSpanRecord(new Uint8Array(0))).toEqual([]);
    expect(decodeSpanRecord(new Uint8Array(33))).toBeUndefined();
  });

  it('keys sort by height and refuse what is not a height', () => {
    expect(spanRecordKey(258)).toEqual(new Uint8Array([0, 0, 1, 2]));
    expect(() => spanRecordKey(-1)).toThrow(RangeError);
    expect(() => spanRecordKey(1.5)).toThrow(RangeError);
  });
});

describe('bundle span records in the store', () => {
  let dir: string;
  let store: EngineBlockStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ordo-bundle-spans-'));
    store = await openStore({ path: join(dir, 'db'), engine: 'leveldb', sync: false });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rides in the commit batch of its block, and a start reads the records instead of the blocks', async () => {
    const chain = makeChain('spans', 4, 3);
    for (const [i, f] of chain.entries()) {
      // Decided, then committed: the record is attached before the commit starts.
      const written = recordSpans(store, withSpans(f.block, i === 1 ? [span(bh(9), 1, 0)] : []), 256);
      await store.commitBlock(f.block, f.cert);
      await written;
    }
    const { included, blockReads } = await readIncluded(store, 256);
    expect(blockReads).toBe(0);
    expect(included).toEqual([
      { height: 1, hashes: [] },
      { height: 2, hashes: [bh(9)] },
      { height: 3, hashes: [] },
      { height: 4, hashes: [] },
    ]);
  });

  it('reads the stored block for a height without a record (a store older than the records)', async () => {
    const chain = makeChain('old', 3, 2);
    await store.commitBlock(chain[0]!.block, chain[0]!.cert);
    await store.commitBlock(chain[1]!.block, chain[1]!.cert);
    // Too late to attach (height 2 is committed): written on its own.
    await recordSpans(store, withSpans(chain[1]!.block, [span(bh(7), 2, 0)]), 256);
    await store.commitBlock(chain[2]!.block, chain[2]!.cert);
    // A malformed record counts as none.
    await store.sub(BUNDLE_SPANS_PREFIX).put(spanRecordKey(3), new Uint8Array(5));
    const { included, blockReads } = await readIncluded(store, 256);
    expect(blockReads).toBe(2);
    expect(included.map((r) => [r.height, r.hashes])).toEqual([
      [1, []],
      [2, [bh(7)]],
      [3, []],
    ]);
  });

  it('keeps only the last `keep` heights: each record deletes the one that many heights below', async () => {
    const chain = makeChain('keep', 5, 1);
    for (const f of chain) {
      const written = recordSpans(store, withSpans(f.block, [span(bh(f.block.header.height), 1, 0)]), 2);
      await store.commitBlock(f.block, f.cert);
      await written;
    }
    const kv = store.sub(BUNDLE_SPANS_PREFIX);
    const keys: number[] = [];
    for await (const [k] of kv.range({})) keys.push(new DataView(k.buffer, k.byteOffset, 4).getUint32(0));
    expect(keys).toEqual([4, 5]);
    const { included, blockReads } = await readIncluded(store, 2);
    expect(blockReads).toBe(0);
    expect(included.map((r) => r.height)).toEqual([4, 5]);
  });

  it('reads nothing from an empty store', async () => {
    expect(await readIncluded(store, 256)).toEqual({ included: [], blockReads: 0 });
  });
});
