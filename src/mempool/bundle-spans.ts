/**
 * The per-height record of which bundles a committed block holds (ADR 0276): at start the bundle pool's
 * inclusion memory (ADR 0250) is rebuilt from these small records instead of decoding up to
 * INCLUDED_MEMORY_HEIGHTS whole stored blocks. A height's record is written in the batch that commits
 * its block (`attachToCommit`), so it is exactly as durable as the block; where that is not possible
 * (the commit already under way, a store without the hook) it is written on its own, and a height
 * without a record (a store written before this record existed, or one lost in a crash) is read from
 * its block as before. A record holds the block's distinct bundle hashes, 32 bytes each, in order of
 * first appearance; an empty record means "no bundles". The record INCLUDED_MEMORY_HEIGHTS below is
 * deleted in the same writes, so at most that many records are kept.
 */
import { latin1Key } from '../crypto/index.ts';
import type { Block } from '../types.ts';

/** The store's sub-view prefix of the records. */
export const BUNDLE_SPANS_PREFIX = 'bundle-spans';
const HASH_LEN = 32;

/** What the records need of the store (structurally satisfied by src/store's BlockStore). */
export interface SpanRecordStore {
  height(): number;
  getBlock(height: number): Promise<Block | undefined>;
  sub(prefix: string): {
    put(key: Uint8Array, value: Uint8Array): Promise<void>;
    batch(writes: { key: Uint8Array; value: Uint8Array | undefined }[]): Promise<void>;
    range(opts: {
      gte?: Uint8Array;
      lt?: Uint8Array;
      limit?: number;
    }): AsyncIterable<[Uint8Array, Uint8Array]>;
  };
  subKey?(prefix: string, key: Uint8Array): Uint8Array;
  attachToCommit?(
    height: number,
    writes: { key: Uint8Array; value: Uint8Array | undefined }[],
  ): Promise<void> | undefined;
}

/** A record's key: the height, 4 bytes big-endian, so keys sort by height. */
export function spanRecordKey(height: number): Uint8Array {
  if (!Number.isInteger(height) || height < 0 || height > 0xffffffff)
    throw new RangeError(`height ${height} out of range`);
  const k = new Uint8Array(4);
  new DataView(k.buffer).setUint32(0, height);
  return k;
}

/** The distinct bundle hashes of a block, in order of first appearance, concatenated. */
export function encodeSpanRecord(block: Block): Uint8Array {
  const seen = new Set<string>();
  const hashes: Uint8Array[] = [];
  for (const s of block.bundles) {
    const k = latin1Key(s.bundleHash);
    if (s.bundleHash.byteLength !== HASH_LEN || seen.has(k)) continue;
    seen.add(k);
    hashes.push(s.bundleHash);
  }
  const out = new Uint8Array(hashes.length * HASH_LEN);
  for (let i = 0; i < hashes.length; i++) out.set(hashes[i]!, i * HASH_LEN);
  return out;
}

/** The hashes of a record; undefined for a malformed one (its height is then read from its block). */
export function decodeSpanRecord(value: Uint8Array): Uint8Array[] | undefined {
  if (value.byteLength % HASH_LEN !== 0) return undefined;
  const out: Uint8Array[] = [];
  for (let i = 0; i < value.byteLength; i += HASH_LEN) out.push(value.slice(i, i + HASH_LEN));
  return out;
}

/**
 * Write block `height`'s record (and delete the one `keepHeights` below) in its commit batch when the
 * store allows, else on its own. Call when the block is decided, before its commit starts. Resolves once
 * written; a failed write only costs a block read at the next start.
 */
export async function recordSpans(store: SpanRecordStore, block: Block, keepHeights: number): Promise<void> {
  const height = block.header.height;
  const writes: { key: Uint8Array; value: Uint8Array | undefined }[] = [
    { key: spanRecordKey(height), value: encodeSpanRecord(block) },
  ];
  if (height - keepHeights >= 1) writes.push({ key: spanRecordKey(height - keepHeights), value: undefined });
  const subKey = store.subKey;
  const attached =
    subKey === undefined
      ? undefined
      : store.attachToCommit?.(
          height,
          writes.map((w) => ({ key: subKey.call(store, BUNDLE_SPANS_PREFIX, w.key), value: w.value })),
        );
  // async: a store refusing the keys rejects instead of throwing into the caller (the decision path).
  await (attached ?? store.sub(BUNDLE_SPANS_PREFIX).batch(writes));
}

/**
 * The bundle hashes of each of the store's last `heights` blocks, oldest first: from the records, and
 * from the block itself for a height without a (well-formed) record. `blockReads` counts the fallbacks.
 */
export async function readIncluded(
  store: SpanRecordStore,
  heights: number,
): Promise<{ included: { height: number; hashes: Uint8Array[] }[]; blockReads: number }> {
  const top = store.height();
  const from = Math.max(1, top - heights + 1);
  const included: { height: number; hashes: Uint8Array[] }[] = [];
  if (top < from) return { included, blockReads: 0 };
  const records = new Map<number, Uint8Array[]>();
  for await (const [k, v] of store.sub(BUNDLE_SPANS_PREFIX).range({
    gte: spanRecordKey(from),
    lt: spanRecordKey(top + 1),
  })) {
    if (k.byteLength !== 4) continue;
    const hashes = decodeSpanRecord(v);
    if (hashes !== undefined) records.set(new DataView(k.buffer, k.byteOffset, 4).getUint32(0), hashes);
  }
  let blockReads = 0;
  for (let h = from; h <= top; h++) {
    let hashes = records.get(h);
    if (hashes === undefined) {
      const block = await store.getBlock(h);
      blockReads++;
      if (block === undefined) continue;
      hashes = block.bundles.map((b) => b.bundleHash); // restoreIncludedHashes ignores repeats
    }
    included.push({ height: h, hashes });
  }
  return { included, blockReads };
}
