/**
 * batchViews (ADR 0344): sub() views of one store share one atomic write; anything else is written view
 * by view. And the recent heights' block hashes come from memory, equal to the stored ones (ADR 0343).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryKv } from '../../../src/exec/memory-kv.ts';
import { RECENT_BLOCKS } from '../../../src/store/block-store.ts';
import { batchViews, type EngineBlockStore, JointBatches, openStore } from '../../../src/store/index.ts';
import { makeChain } from './helpers.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

describe('batchViews', () => {
  let dir: string;
  const open: EngineBlockStore[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ordo-batch-views-'));
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  async function store(name = 'db'): Promise<EngineBlockStore> {
    const s = await openStore({ path: join(dir, name), sync: false });
    open.push(s);
    return s;
  }

  it('writes sub() views of one store with one engine batch, each under its own prefix', async () => {
    const s = await store();
    const a = s.sub('exec/2', { sync: false });
    const b = s.sub('exec/3', { sync: false });
    const spy = vi.spyOn(s, 'writeBatch');
    await batchViews([
      { kv: a, writes: [{ key: enc('k'), value: enc('a1') }] },
      {
        kv: b,
        writes: [
          { key: enc('k'), value: enc('b1') },
          { key: enc('x'), value: enc('b2') },
        ],
      },
      { kv: a, writes: [] },
    ]);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0]![0]).toHaveLength(3);
    expect(spy.mock.calls[0]![1]).toBe(false);
    expect(dec(await a.get(enc('k')))).toBe('a1');
    expect(dec(await b.get(enc('k')))).toBe('b1');
    expect(dec(await b.get(enc('x')))).toBe('b2');
    expect(await a.get(enc('x'))).toBeUndefined();
    // Deletes pass through too.
    await batchViews([
      { kv: a, writes: [{ key: enc('k'), value: undefined }] },
      { kv: b, writes: [{ key: enc('x'), value: undefined }] },
    ]);
    expect(await a.get(enc('k'))).toBeUndefined();
    expect(await b.get(enc('x'))).toBeUndefined();
    expect(dec(await b.get(enc('k')))).toBe('b1');
  });

  it('writes views of different sync settings, stores or kinds one by one', async () => {
    const s = await store('one');
    const t = await store('two');
    const mem = new MemoryKv();
    const durable = s.sub('d', { sync: true });
    const fast = s.sub('f', { sync: false });
    const other = t.sub('f', { sync: false });
    const spyS = vi.spyOn(s, 'writeBatch');
    await batchViews([
      { kv: durable, writes: [{ key: enc('k'), value: enc('1') }] },
      { kv: fast, writes: [{ key: enc('k'), value: enc('2') }] },
      { kv: other, writes: [{ key: enc('k'), value: enc('3') }] },
      { kv: mem, writes: [{ key: enc('k'), value: enc('4') }] },
    ]);
    expect(spyS).toHaveBeenCalledTimes(2);
    expect(dec(await durable.get(enc('k')))).toBe('1');
    expect(dec(await fast.get(enc('k')))).toBe('2');
    expect(dec(await other.get(enc('k')))).toBe('3');
    expect(dec(await mem.get(enc('k')))).toBe('4');
  });

  it('does nothing for no writes', async () => {
    const s = await store();
    const spy = vi.spyOn(s, 'writeBatch');
    await batchViews([]);
    await batchViews([{ kv: s.sub('a'), writes: [] }]);
    expect(spy).not.toHaveBeenCalled();
  });

  it('answers recent block hashes from memory and older ones from the database, the same bytes', async () => {
    const s = await store();
    const chain = makeChain('bh', RECENT_BLOCKS + 4, 2);
    for (const f of chain) await s.commitBlock(f.block, f.cert);
    const spy = vi.spyOn(s, 'readKey');
    const last = chain.at(-1)!;
    const got = await s.getBlockHash(last.block.header.height);
    expect(got).toEqual(last.hash);
    expect(spy).not.toHaveBeenCalled();
    // A caller changing the answer does not change the next one.
    got!.fill(0);
    expect(await s.getBlockHash(last.block.header.height)).toEqual(last.hash);
    expect(await s.getBlockHash(1)).toEqual(chain[0]!.hash);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('JointBatches writes the batches asked for in one turn together, later ones on their own', async () => {
    const s = await store();
    const joint = new JointBatches();
    const a = joint.view(s.sub('eth/3', { sync: false }));
    const b = joint.view(s.sub('eth/4', { sync: false }));
    const spy = vi.spyOn(s, 'writeBatch');
    await Promise.all([
      a.batch([{ key: enc('h'), value: enc('1') }]),
      b.batch([{ key: enc('h'), value: enc('2') }]),
    ]);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(dec(await a.get(enc('h')))).toBe('1');
    expect(dec(await b.get(enc('h')))).toBe('2');
    await a.batch([{ key: enc('h'), value: enc('3') }]);
    await b.batch([{ key: enc('h'), value: enc('4') }]);
    expect(spy).toHaveBeenCalledTimes(3);
    expect(dec(await a.get(enc('h')))).toBe('3');
    expect(dec(await b.get(enc('h')))).toBe('4');
    // Reads, puts and ranges go to the view itself.
    await a.put(enc('p'), enc('5'));
    expect(dec(await s.sub('eth/3').get(enc('p')))).toBe('5');
  });

  it('JointBatches fails every batch of a failed joint write', async () => {
    const s = await store();
    const joint = new JointBatches();
    const a = joint.view(s.sub('x', { sync: false }));
    const b = joint.view(s.sub('y', { sync: false }));
    vi.spyOn(s, 'writeBatch').mockRejectedValueOnce(new Error('disk full'));
    const results = await Promise.allSettled([
      a.batch([{ key: enc('k'), value: enc('1') }]),
      b.batch([{ key: enc('k'), value: enc('2') }]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await a.get(enc('k'))).toBeUndefined();
  });
});
