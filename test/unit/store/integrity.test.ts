/**
 * Store integrity (issue #25 item 9): per-value checksums, missing values below the head, the layout
 * 1 -> 2 upgrade, `verify`, LevelDB table-file corruption, and recovery after a failed write.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeBlock, encodeCertificate } from '../../../src/codec/codec.ts';
import type { OrdoError } from '../../../src/errors.ts';
import { EngineBlockStore } from '../../../src/store/block-store.ts';
import type { Engine } from '../../../src/store/engine.ts';
import { openStore } from '../../../src/store/index.ts';
import {
  blockKey,
  CRC_FROM_KEY,
  certKey,
  encodeHead,
  encodeU32,
  HEAD_KEY,
  hashKey,
  VERSION_KEY,
} from '../../../src/store/keys.ts';
import { LevelEngine } from '../../../src/store/leveldb.ts';
import type { KvWrite } from '../../../src/store/types.ts';
import { makeChain } from './helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'ordo-integrity-'));
  dirs.push(d);
  return d;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as OrdoError).code;
  }
}

describe.each(['leveldb', 'lmdb'] as const)('store checksums (%s)', (engine) => {
  it('a value that fails its checksum or is missing below the head is STORE_CORRUPT, and verify names the heights', async () => {
    const path = join(tmp(), 'db');
    const chain = makeChain('crc', 6, 3);
    const store = await openStore({ path, engine, sync: false });
    for (const f of chain) await store.commitBlock(f.block, f.cert);
    await store.close();
    const s2 = await openStore({ path, engine, sync: false }); // fresh: nothing served from the recent cache
    // Flip one byte of block 2's stored value, drop block 5's hash entry.
    const raw = (await s2.readKey(blockKey(2), 'b'))!.slice();
    raw[raw.length - 3] = raw[raw.length - 3]! ^ 0x40;
    await s2.writeBatch([
      { key: blockKey(2), value: raw },
      { key: hashKey(5), value: undefined },
    ]);
    expect(await codeOf(s2.getBlock(2))).toBe('STORE_CORRUPT');
    expect(await codeOf(s2.getBlockHash(5))).toBe('STORE_CORRUPT');
    expect((await s2.getBlock(3))!.header.height).toBe(3);
    const quick = await s2.verify();
    expect(quick.ok).toBe(false);
    expect(quick.damagedHeights).toEqual([2, 5]);
    expect(quick.problems[2]).toEqual(['block fails its checksum']);
    expect(quick.problems[5]).toEqual(['block hash missing']);
    const deep = await s2.verify({ deep: true });
    expect(deep.damagedHeights).toEqual([2, 5]);
    await s2.close();
  });
});

describe('store integrity', () => {
  it('deep verify passes on an intact store and reports progress', async () => {
    const path = join(tmp(), 'db');
    const store = await openStore({ path, sync: false });
    for (const f of makeChain('ok', 25, 2)) await store.commitBlock(f.block, f.cert);
    const seen: number[] = [];
    const r = await store.verify({ deep: true, progressEvery: 10, onProgress: (p) => seen.push(p.height) });
    expect(r.ok).toBe(true);
    expect(r.checked).toMatchObject({ blocks: 25, certificates: 25, hashes: 25, txIndex: 50 });
    expect(seen).toContain(10);
    expect(seen).toContain(25);
    await store.close();
  });

  it('opens a layout-1 store (no checksums), upgrades it in place and checksums only new heights', async () => {
    const path = join(tmp(), 'db');
    const chain = makeChain('legacy', 5, 2);
    // A layout-1 database as 0.1.0 wrote it: raw values, version 1.
    const eng = new LevelEngine(path);
    await eng.open();
    const writes: KvWrite[] = [{ key: VERSION_KEY, value: encodeU32(1) }];
    for (const f of chain.slice(0, 3)) {
      const h = f.block.header.height;
      writes.push({ key: blockKey(h), value: encodeBlock(f.block) });
      writes.push({ key: certKey(h), value: encodeCertificate(f.cert) });
      writes.push({ key: hashKey(h), value: f.hash });
    }
    writes.push({ key: HEAD_KEY, value: encodeHead({ height: 3, hash: chain[2]!.hash }) });
    await eng.write(writes, true);
    await eng.close();

    const store = await openStore({ path, sync: false });
    expect(store.height()).toBe(3);
    expect((await store.getBlock(2))!.header.height).toBe(2);
    for (const f of chain.slice(3)) await store.commitBlock(f.block, f.cert);
    await store.close();
    const again = await openStore({ path, sync: false });
    for (let h = 1; h <= 5; h++) expect((await again.getBlock(h))!.header.height).toBe(h);
    expect((await again.readKey(CRC_FROM_KEY, 'crcfrom'))!.byteLength).toBe(8);
    // Old values are raw, new ones sealed (4 bytes longer).
    expect((await again.readKey(hashKey(3), 'h'))!.byteLength).toBe(32);
    expect((await again.readKey(hashKey(4), 'h'))!.byteLength).toBe(36);
    expect((await again.verify({ deep: true })).ok).toBe(true);
    await again.close();
  });

  it('LevelDB table file with 256 random bytes: verify reports it and no height is served as a hole', async () => {
    const path = join(tmp(), 'db');
    const chain = makeChain('ldb', 120, 8);
    let store = await openStore({ path, sync: false });
    for (const f of chain) await store.commitBlock(f.block, f.cert);
    await store.close();
    // Reopening turns LevelDB's log into a table file.
    store = await openStore({ path, sync: false });
    await store.close();
    const tables = readdirSync(path)
      .filter((f) => f.endsWith('.ldb'))
      .map((f) => join(path, f))
      .sort((a, b) => statSync(b).size - statSync(a).size);
    expect(tables.length).toBeGreaterThan(0);
    const file = tables[0]!;
    const bytes = readFileSync(file);
    // Deterministic "random" bytes a quarter into the file (inside the block range: b keys come first).
    let x = 0x12345678;
    const at = Math.floor(bytes.length / 4);
    for (let i = 0; i < 256; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      bytes[at + i] = x >>> 24;
    }
    writeFileSync(file, bytes);

    let opened: EngineBlockStore | undefined;
    try {
      opened = await openStore({ path, sync: false });
    } catch (err) {
      // Refusing to open is acceptable too, as long as it says the database is damaged.
      expect((err as OrdoError).code).toBe('STORE_CORRUPT');
      return;
    }
    const r = await opened.verify({ deep: true });
    expect(r.ok).toBe(false);
    expect(r.damagedCount).toBeGreaterThan(0);
    // The damaged table file is named (read from LevelDB's MANIFEST), with the heights it holds.
    const named = r.files.find((f) => f.file === file);
    expect(named).toBeDefined();
    expect(named!.heights.length).toBeGreaterThan(0);
    const quick = await opened.verify();
    expect(quick.files.map((f) => f.file)).toContain(file);
    // Every height is either served intact or refused with STORE_CORRUPT: never missing, never altered.
    let served = 0;
    for (const f of chain) {
      const h = f.block.header.height;
      try {
        const b = await opened.getBlock(h);
        expect(b).toBeDefined();
        expect(Buffer.from(encodeBlock(b!)).equals(Buffer.from(encodeBlock(f.block)))).toBe(true);
        served++;
      } catch (err) {
        expect((err as OrdoError).code).toBe('STORE_CORRUPT');
        expect(r.damagedHeights).toContain(h);
      }
    }
    expect(served).toBeLessThan(chain.length);
    await opened.close();
  });
});

/** LevelDB under a switch that fails writes with ENOSPC, counting opens. */
class FullDiskEngine implements Engine {
  readonly name = 'leveldb' as const;
  full = false;
  opens = 0;
  readonly inner: LevelEngine;
  constructor(path: string) {
    this.inner = new LevelEngine(path);
  }
  async open(): Promise<void> {
    this.opens++;
    await this.inner.open();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.inner.get(key);
  }
  async write(writes: KvWrite[], sync: boolean): Promise<void> {
    if (this.full) throw new Error('IO error: /x/000003.log: No space left on device');
    await this.inner.write(writes, sync);
  }
  iterate(lo: Uint8Array, hi: Uint8Array | undefined, reverse: boolean, limit: number) {
    return this.inner.iterate(lo, hi, reverse, limit);
  }
}

describe('store write faults', () => {
  it('a failed commit is STORE_WRITE_FAILED with the errno; reads go on; the engine is reopened before the next write', async () => {
    const path = join(tmp(), 'db');
    const engine = new FullDiskEngine(path);
    const store = new EngineBlockStore(engine, { path, sync: false });
    await store.open();
    const chain = makeChain('full', 4, 2);
    await store.commitBlock(chain[0]!.block, chain[0]!.cert);
    engine.full = true;
    let err: OrdoError | undefined;
    try {
      await store.commitBlock(chain[1]!.block, chain[1]!.cert);
    } catch (e) {
      err = e as OrdoError;
    }
    expect(err?.code).toBe('STORE_WRITE_FAILED');
    expect(err?.data.errno).toBe('ENOSPC');
    expect(store.height()).toBe(1);
    expect((await store.getBlock(1))!.header.height).toBe(1);
    const opensBefore = engine.opens;
    // Still full: the retry reopens and fails again.
    expect(await codeOf(store.commitBlock(chain[1]!.block, chain[1]!.cert))).toBe('STORE_WRITE_FAILED');
    engine.full = false;
    await store.commitBlock(chain[1]!.block, chain[1]!.cert);
    await store.commitBlock(chain[2]!.block, chain[2]!.cert);
    expect(engine.opens).toBeGreaterThan(opensBefore);
    expect(store.height()).toBe(3);
    await store.close();
    const again = await openStore({ path, sync: false });
    expect(again.height()).toBe(3);
    expect((await again.verify({ deep: true })).ok).toBe(true);
    await again.close();
  });
});
