/**
 * Shared compliance suite for the block store, run against both engines (LevelDB and LMDB): commit/read
 * round trip, tx index, height/cert/parent checks, reopen, closed and corrupt databases, metadata and
 * sub() key/value views.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeBlock, encodeCertificate } from '../../../src/codec/codec.ts';
import { txHash } from '../../../src/codec/hashing.ts';
import { OrdoError } from '../../../src/errors.ts';
import { RECENT_BLOCKS } from '../../../src/store/block-store.ts';
import { type EngineBlockStore, type EngineName, openStore } from '../../../src/store/index.ts';
import { makeBlock, makeChain } from './helpers.ts';

const ENGINES: EngineName[] = ['leveldb', 'lmdb'];
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

async function collect(it: AsyncIterable<[Uint8Array, Uint8Array]>): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of it) out.push(`${dec(k)}=${dec(v)}`);
  return out;
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<OrdoError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OrdoError);
  expect((err as OrdoError).code).toBe(code);
  return err as OrdoError;
}

describe.each(ENGINES)('block store (%s)', (engine) => {
  let dir: string;
  let path: string;
  const open: EngineBlockStore[] = [];

  async function openHere(): Promise<EngineBlockStore> {
    const s = await openStore({ path, engine, sync: false });
    open.push(s);
    return s;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), `ordo-store-${engine}-`));
    path = join(dir, 'db');
  });

  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits blocks and reads back blocks, certificates and hashes', async () => {
    const store = await openHere();
    expect(store.height()).toBe(0);
    expect(store.baseHeight()).toBe(1);
    const chain = makeChain('rt', 3, 20);
    for (const f of chain) await store.commitBlock(f.block, f.cert);
    expect(store.height()).toBe(3);
    for (const f of chain) {
      const h = f.block.header.height;
      const block = await store.getBlock(h);
      expect(block).toBeDefined();
      expect(encodeBlock(block!)).toEqual(encodeBlock(f.block));
      const cert = await store.getCertificate(h);
      expect(encodeCertificate(cert!)).toEqual(encodeCertificate(f.cert));
      expect(await store.getBlockHash(h)).toEqual(f.hash);
    }
    expect(await store.getBlock(4)).toBeUndefined();
    expect(await store.getBlock(0)).toBeUndefined();
    expect(await store.getCertificate(-1)).toBeUndefined();
    expect(await store.getBlockHash(1.5)).toBeUndefined();
  });

  it('serves the most recent blocks as committed and older ones from the database', async () => {
    const store = await openHere();
    const chain = makeChain('rc', RECENT_BLOCKS + 4, 3);
    for (const f of chain) await store.commitBlock(f.block, f.cert);
    const last = chain.at(-1)!;
    expect(await store.getBlock(last.block.header.height)).toBe(last.block);
    expect(await store.getCertificate(last.block.header.height)).toBe(last.cert);
    const old = await store.getBlock(1);
    expect(old).not.toBe(chain[0]!.block);
    expect(encodeBlock(old!)).toEqual(encodeBlock(chain[0]!.block));
    expect(encodeCertificate((await store.getCertificate(1))!)).toEqual(encodeCertificate(chain[0]!.cert));
    await store.close();
    const again = await openHere();
    const fromDisk = await again.getBlock(last.block.header.height);
    expect(fromDisk).not.toBe(last.block);
    expect(encodeBlock(fromDisk!)).toEqual(encodeBlock(last.block));
  });

  it('indexes every transaction by hash', async () => {
    const store = await openHere();
    const chain = makeChain('tx', 2, 30);
    for (const f of chain) await store.commitBlock(f.block, f.cert);
    for (const f of chain) {
      for (let i = 0; i < f.block.txs.length; i++) {
        expect(await store.getTxLocation(txHash(f.block.txs[i]!))).toEqual({
          height: f.block.header.height,
          index: i,
        });
      }
    }
    expect(await store.getTxLocation(new Uint8Array(32).fill(7))).toBeUndefined();
    expect(await store.getTxLocation(new Uint8Array(5))).toBeUndefined();
  });

  it('commits an empty block', async () => {
    const store = await openHere();
    const [f] = makeChain('empty', 1, 0);
    await store.commitBlock(f!.block, f!.cert);
    expect(store.height()).toBe(1);
    expect((await store.getBlock(1))!.txs).toEqual([]);
  });

  it('rejects a block that is not at height()+1, a foreign certificate and a wrong parent', async () => {
    const store = await openHere();
    const chain = makeChain('hm', 3, 5);
    const e1 = await rejectsWith(store.commitBlock(chain[1]!.block, chain[1]!.cert), 'STORE_HEIGHT_MISMATCH');
    expect(e1.message).toContain(path);
    await store.commitBlock(chain[0]!.block, chain[0]!.cert);
    await rejectsWith(store.commitBlock(chain[0]!.block, chain[0]!.cert), 'STORE_HEIGHT_MISMATCH');
    await rejectsWith(store.commitBlock(chain[2]!.block, chain[2]!.cert), 'STORE_HEIGHT_MISMATCH');
    await rejectsWith(store.commitBlock(chain[1]!.block, chain[2]!.cert), 'STORE_CERT_MISMATCH');
    await rejectsWith(
      store.commitBlock(chain[1]!.block, { ...chain[1]!.cert, blockHash: new Uint8Array(32) }),
      'STORE_CERT_MISMATCH',
    );
    const orphan = makeBlock('hm', 2, new Uint8Array(32).fill(9), 5);
    await rejectsWith(store.commitBlock(orphan.block, orphan.cert), 'STORE_PARENT_MISMATCH');
    expect(store.height()).toBe(1);
    await store.commitBlock(chain[1]!.block, chain[1]!.cert);
    expect(store.height()).toBe(2);
  });

  it('serializes concurrent commits', async () => {
    const store = await openHere();
    const chain = makeChain('cc', 6, 10);
    await Promise.all(chain.map((f) => store.commitBlock(f.block, f.cert)));
    expect(store.height()).toBe(6);
    for (const f of chain) expect(await store.getBlockHash(f.block.header.height)).toEqual(f.hash);
    // Out of order: the later block is checked after the earlier one lands, so only the gap fails.
    const more = makeBlock('cc', 7, chain[5]!.hash, 3);
    const after = makeBlock('cc', 8, more.hash, 3);
    const results = await Promise.allSettled([
      store.commitBlock(after.block, after.cert),
      store.commitBlock(more.block, more.cert),
    ]);
    expect(results[0]!.status).toBe('rejected');
    expect(results[1]!.status).toBe('fulfilled');
    expect(store.height()).toBe(7);
  });

  it('keeps height and data across close and reopen', async () => {
    const store = await openHere();
    const chain = makeChain('ro', 4, 8);
    for (const f of chain) await store.commitBlock(f.block, f.cert);
    await store.putMeta('genesis', enc('g1'));
    await store.sub('exec').put(enc('k'), enc('v'));
    await store.close();
    await rejectsWith(store.getBlock(1), 'STORE_CLOSED');
    expect(() => store.commitBlock(chain[0]!.block, chain[0]!.cert)).toThrow(OrdoError);

    const again = await openHere();
    expect(again.height()).toBe(4);
    expect(await again.getBlockHash(4)).toEqual(chain[3]!.hash);
    expect(dec(await again.getMeta('genesis'))).toBe('g1');
    expect(dec(await again.sub('exec').get(enc('k')))).toBe('v');
    const next = makeBlock('ro', 5, chain[3]!.hash, 2);
    await again.commitBlock(next.block, next.cert);
    expect(again.height()).toBe(5);
  });

  it('stores node metadata', async () => {
    const store = await openHere();
    expect(await store.getMeta('nope')).toBeUndefined();
    await store.putMeta('a', enc('1'));
    await store.putMeta('a', enc('2'));
    expect(dec(await store.getMeta('a'))).toBe('2');
    await expect(store.putMeta('', enc('x'))).rejects.toThrow(OrdoError);
  });

  it('gives sub() views get/put/del/batch/range isolated by prefix', async () => {
    const store = await openHere();
    const a = store.sub('exec');
    const b = store.sub('exec/2');
    await a.batch([
      { key: enc('k1'), value: enc('a1') },
      { key: enc('k2'), value: enc('a2') },
      { key: enc('k3'), value: enc('a3') },
      { key: enc('k4'), value: enc('a4') },
    ]);
    await b.put(enc('k1'), enc('b1'));
    expect(dec(await a.get(enc('k1')))).toBe('a1');
    expect(dec(await b.get(enc('k1')))).toBe('b1');
    expect(await a.get(enc('missing'))).toBeUndefined();

    expect(await collect(a.range({}))).toEqual(['k1=a1', 'k2=a2', 'k3=a3', 'k4=a4']);
    expect(await collect(b.range({}))).toEqual(['k1=b1']);
    expect(await collect(a.range({ gte: enc('k2'), lt: enc('k4') }))).toEqual(['k2=a2', 'k3=a3']);
    expect(await collect(a.range({ gte: enc('k2'), lt: enc('k4'), reverse: true }))).toEqual([
      'k3=a3',
      'k2=a2',
    ]);
    expect(await collect(a.range({ reverse: true, limit: 2 }))).toEqual(['k4=a4', 'k3=a3']);
    expect(await collect(a.range({ limit: 1 }))).toEqual(['k1=a1']);
    expect(await collect(a.range({ limit: 0 }))).toEqual([]);
    expect(await collect(a.range({ lt: enc('k2'), reverse: true }))).toEqual(['k1=a1']);

    await a.del(enc('k2'));
    await a.batch([
      { key: enc('k3'), value: undefined },
      { key: enc('k5'), value: enc('a5') },
    ]);
    expect(await collect(a.range({}))).toEqual(['k1=a1', 'k4=a4', 'k5=a5']);
    expect(() => store.sub('')).toThrow(OrdoError);
    await expect(a.put(new Uint8Array(5000), enc('x'))).rejects.toThrow(OrdoError);
  });

  it('commits extra writes in the block batch, visible through sub()', async () => {
    const store = await openHere();
    const [f] = makeChain('ex', 1, 3);
    await store.sub('exec').put(enc('gone'), enc('x'));
    await store.commitBlock(f!.block, f!.cert, [
      { key: store.subKey('exec', enc('root')), value: enc('r1') },
      { key: store.subKey('exec', enc('gone')), value: undefined },
    ]);
    expect(dec(await store.sub('exec').get(enc('root')))).toBe('r1');
    expect(await store.sub('exec').get(enc('gone'))).toBeUndefined();
  });

  it('refuses extra writes that would touch store-owned keys', async () => {
    const store = await openHere();
    const [f] = makeChain('xk', 1, 2);
    for (const key of [enc('phead'), enc('b12345678'), new Uint8Array(33).fill(0x74), new Uint8Array(0)]) {
      await rejectsWith(store.commitBlock(f!.block, f!.cert, [{ key, value: enc('x') }]), 'STORE_BAD_KEY');
    }
    expect(store.height()).toBe(0);
    await store.commitBlock(f!.block, f!.cert, [{ key: store.subKey('a', enc('k')), value: enc('v') }]);
    expect(store.height()).toBe(1);
  });

  it('exports commit metrics to a registry, also across reopen', async () => {
    const registry = new Registry();
    const first = await openStore({ path, engine, sync: false, registry });
    open.push(first);
    const chain = makeChain('met', 2, 4);
    await first.commitBlock(chain[0]!.block, chain[0]!.cert);
    await first.close();
    const second = await openStore({ path, engine, sync: false, registry });
    open.push(second);
    await second.commitBlock(chain[1]!.block, chain[1]!.cert);
    const text = await registry.metrics();
    expect(text).toContain('ordo_chain_height 2');
    expect(text).toContain('ordo_store_committed_txs_total 8');
    expect(text).toContain('ordo_store_commit_seconds_count 2');
  });

  it('refuses a database directory of the other engine', async () => {
    const store = await openHere();
    await store.close();
    const other: EngineName = engine === 'lmdb' ? 'leveldb' : 'lmdb';
    const err = await rejectsWith(openStore({ path, engine: other, sync: false }), 'STORE_ENGINE_MISMATCH');
    expect(err.message).toContain(path);
    // Without an explicit engine the existing one is detected.
    const detected = await openStore({ path, sync: false });
    open.push(detected);
    expect(detected.engineName).toBe(engine);
  });

  it('reports a path that cannot hold a database', async () => {
    writeFileSync(path, 'not a directory');
    const err = await rejectsWith(openStore({ path, engine, sync: false }), 'STORE_OPEN_FAILED');
    expect(err.message).toContain(path);
  });

  it.each(['garbage', 'truncated'])('reports a corrupted database (%s file) with its path', async (kind) => {
    const store = await openHere();
    const chain = makeChain('cor', 2, 3);
    for (const f of chain) await store.commitBlock(f.block, f.cert);
    await store.close();
    // Damage the engine's main file.
    const victim = join(path, engine === 'lmdb' ? 'data.mdb' : 'CURRENT');
    if (kind === 'garbage') writeFileSync(victim, Buffer.alloc(8192, 0xab));
    else writeFileSync(victim, readFileSync(victim).subarray(0, 7));
    const err = await openStore({ path, engine, sync: false }).then(
      (s) => {
        open.push(s);
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OrdoError);
    expect(['STORE_CORRUPT', 'STORE_OPEN_FAILED']).toContain((err as OrdoError).code);
    expect((err as OrdoError).message).toContain(path);
  });
});
