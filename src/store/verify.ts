/**
 * `verifyStore`: scan a block store for damage (ADR 0089) and say which heights are affected. Two
 * depths: `quick` (the node's start-up check) walks the block, certificate and hash ranges in key
 * order and checks that every height up to the head is present and passes its checksum, without
 * decoding; `deep` (`ordo store verify`) also decodes every block and certificate and checks that the
 * block's hash, the stored hash, the certificate and the parent links agree (this also covers heights
 * written before checksums existed), and checks the shape of every tx-index entry. Read errors from
 * the engine (LevelDB reports some damaged table blocks) are damage at that height, not a crash.
 */
import { blockHash, decodeBlock, decodeCertificate } from '../codec/index.ts';
import { bytesEqual } from '../crypto/index.ts';
import { errorMessage } from '../errors.ts';
import {
  BLOCK_RANGE_HI,
  BLOCK_RANGE_LO,
  blockKey,
  CERT_RANGE_HI,
  CERT_RANGE_LO,
  certKey,
  decodeTxLocation,
  HASH_BYTES,
  HASH_RANGE_HI,
  HASH_RANGE_LO,
  hashKey,
  heightOfKey,
  TX_RANGE_HI,
  TX_RANGE_LO,
} from './keys.ts';

/** What the scan needs from the store (EngineBlockStore.verifyAccess()). */
export interface VerifyAccess {
  path: string;
  engineName: string;
  head: number;
  /** Decode a stored b/c/h value at `height`: its payload, or undefined when its checksum fails. */
  open(height: number, v: Uint8Array): Uint8Array | undefined;
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  iterate(lo: Uint8Array, hi: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]>;
}

export interface VerifyProgress {
  phase: 'blocks' | 'certificates' | 'hashes' | 'tx-index';
  height: number;
  head: number;
  damaged: number;
}

export interface VerifyOptions {
  deep?: boolean;
  /** Called about every `progressEvery` heights (default 1000) and at the end of each phase. */
  onProgress?: (p: VerifyProgress) => void;
  progressEvery?: number;
  /** Stop listing problems after this many damaged heights (default 10,000); the count stays exact. */
  maxListed?: number;
}

export interface VerifyReport {
  path: string;
  engine: string;
  head: number;
  deep: boolean;
  ok: boolean;
  /** Damaged heights, ascending (at most `maxListed`). */
  damagedHeights: number[];
  damagedCount: number;
  /** Per height: what is wrong (at most `maxListed` heights). */
  problems: Record<number, string[]>;
  /** Damage not tied to one height (tx index, unreadable ranges). */
  other: string[];
  /**
   * The database files that hold the damaged values, with their heights (LevelDB: table files from
   * its MANIFEST, or its log when no table covers the key; LMDB: data.mdb). Empty when unknown.
   */
  files: { file: string; heights: number[] }[];
  checked: { blocks: number; certificates: number; hashes: number; txIndex: number };
}

const PHASES = [
  { phase: 'blocks', what: 'block', lo: BLOCK_RANGE_LO, hi: BLOCK_RANGE_HI, key: blockKey },
  { phase: 'certificates', what: 'certificate', lo: CERT_RANGE_LO, hi: CERT_RANGE_HI, key: certKey },
  { phase: 'hashes', what: 'block hash', lo: HASH_RANGE_LO, hi: HASH_RANGE_HI, key: hashKey },
] as const;

export async function verifyStore(a: VerifyAccess, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const deep = opts.deep === true;
  const every = Math.max(1, opts.progressEvery ?? 1000);
  const maxListed = opts.maxListed ?? 10_000;
  const damaged = new Set<number>();
  const problems: Record<number, string[]> = {};
  const other: string[] = [];
  const checked = { blocks: 0, certificates: 0, hashes: 0, txIndex: 0 };
  const bad = (h: number, what: string): void => {
    damaged.add(h);
    if (damaged.size > maxListed && problems[h] === undefined) return;
    const list = problems[h] ?? [];
    list.push(what);
    problems[h] = list;
  };
  const head = a.head;

  // Pass 1, per range: presence and checksum of every height up to the head, in key order.
  for (const ph of PHASES) {
    let expected = 1;
    const count = (): void => {
      if (ph.phase === 'blocks') checked.blocks++;
      else if (ph.phase === 'certificates') checked.certificates++;
      else checked.hashes++;
    };
    const check = (h: number, v: Uint8Array): void => {
      count();
      const p = a.open(h, v);
      if (p === undefined) bad(h, `${ph.what} fails its checksum`);
      else if (ph.phase === 'hashes' && p.byteLength !== HASH_BYTES)
        bad(h, `${ph.what} has ${p.byteLength} bytes`);
    };
    try {
      for await (const [k, v] of a.iterate(ph.lo, ph.hi)) {
        const h = heightOfKey(k);
        if (h === undefined || h < 1) {
          other.push(`${ph.what} range holds a malformed key of ${k.byteLength} bytes`);
          continue;
        }
        if (h > head) break; // above the head: not committed (batches are atomic), never served
        for (; expected < h; expected++) bad(expected, `${ph.what} missing`);
        check(h, v);
        expected = h + 1;
        if (h % every === 0) opts.onProgress?.({ phase: ph.phase, height: h, head, damaged: damaged.size });
      }
    } catch (err) {
      // The engine could not read on (a damaged table block): check the rest one height at a time.
      other.push(`reading the ${ph.what} range failed after height ${expected - 1}: ${errorMessage(err)}`);
      for (; expected <= head; expected++) {
        try {
          const v = await a.get(ph.key(expected));
          if (v === undefined) bad(expected, `${ph.what} missing`);
          else check(expected, v);
        } catch (e) {
          bad(expected, `${ph.what} unreadable: ${errorMessage(e)}`);
        }
      }
    }
    for (; expected <= head; expected++) bad(expected, `${ph.what} missing`);
    opts.onProgress?.({ phase: ph.phase, height: head, head, damaged: damaged.size });
  }

  if (deep) {
    // Pass 2: decode and cross-check every height (also those stored before checksums existed).
    let parent: Uint8Array | undefined;
    for (let h = 1; h <= head; h++) {
      if (damaged.has(h)) {
        parent = undefined;
        continue;
      }
      try {
        const b = a.open(h, (await a.get(blockKey(h)))!);
        const c = a.open(h, (await a.get(certKey(h)))!);
        const hv = a.open(h, (await a.get(hashKey(h)))!);
        if (b === undefined || c === undefined || hv === undefined)
          throw new Error('changed during the scan');
        const block = decodeBlock(b);
        const cert = decodeCertificate(c);
        const hash = blockHash(block);
        if (block.header.height !== h) bad(h, `block claims height ${block.header.height}`);
        if (!bytesEqual(hash, hv)) bad(h, 'block does not hash to the stored block hash');
        if (cert.height !== h || !bytesEqual(cert.blockHash, hash))
          bad(h, 'certificate is for another block');
        if (parent !== undefined && !bytesEqual(block.header.parentHash, parent))
          bad(h, "block's parent hash is not the previous block's hash");
        parent = hash;
      } catch (err) {
        bad(h, `does not decode: ${errorMessage(err)}`);
        parent = undefined;
      }
      if (h % every === 0) opts.onProgress?.({ phase: 'blocks', height: h, head, damaged: damaged.size });
    }
    // Pass 3: the tx index (12-byte locations at or below the head).
    let badTx = 0;
    try {
      for await (const [k, v] of a.iterate(TX_RANGE_LO, TX_RANGE_HI)) {
        checked.txIndex++;
        const loc = decodeTxLocation(v);
        if (k.byteLength !== 1 + HASH_BYTES || loc === undefined || loc.height < 1) badTx++;
        if (checked.txIndex % (every * 100) === 0)
          opts.onProgress?.({ phase: 'tx-index', height: checked.txIndex, head, damaged: damaged.size });
      }
    } catch (err) {
      other.push(`reading the tx index failed after ${checked.txIndex} entries: ${errorMessage(err)}`);
    }
    if (badTx > 0) other.push(`${badTx} malformed tx-index entries`);
  }

  const damagedHeights = [...damaged].sort((x, y) => x - y).slice(0, maxListed);
  return {
    path: a.path,
    engine: a.engineName,
    head,
    deep,
    ok: damaged.size === 0 && other.length === 0,
    damagedHeights,
    damagedCount: damaged.size,
    problems,
    other,
    files: [],
    checked,
  };
}

/** The b/c/h keys of the values a height's problems name (a decode problem names block and cert). */
export function damagedKeys(height: number, problems: string[]): Uint8Array[] {
  const keys = new Map<string, Uint8Array>();
  for (const p of problems) {
    const ks = p.startsWith('block hash')
      ? [hashKey(height)]
      : p.startsWith('certificate')
        ? [certKey(height)]
        : p.startsWith('block ') && !p.startsWith("block's")
          ? [blockKey(height)]
          : [blockKey(height), certKey(height), hashKey(height)];
    for (const k of ks) keys.set(Buffer.from(k).toString('hex'), k);
  }
  return [...keys.values()];
}

/** "3, 7-9, 12" for a sorted list of heights. */
export function formatHeights(heights: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < heights.length; ) {
    let j = i;
    while (j + 1 < heights.length && heights[j + 1] === heights[j]! + 1) j++;
    parts.push(i === j ? `${heights[i]}` : `${heights[i]}-${heights[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}
