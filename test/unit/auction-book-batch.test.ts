/**
 * ADR 0215: the auction book's per-height records ride in the batch that commits the height's block
 * (`BlockStore.attachToCommit`), and fall back to a write of their own once that commit is under way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OrdoError } from '../../src/errors.ts';
import { type EngineBlockStore, openStore } from '../../src/store/index.ts';
import { makeChain } from './store/helpers.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

describe('store: writes attached to a block commit', () => {
  let dir: string;
  let store: EngineBlockStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ordo-auction-batch-'));
    store = await openStore({ path: join(dir, 'db'), engine: 'leveldb', sync: false });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lands attached writes with the block, in its batch, and refuses a height whose commit started', async () => {
    const chain = makeChain('attach', 3, 2);
    const kv = store.sub('auction');
    const key = (s: string) => store.subKey('auction', enc(s));
    const landed = store.attachToCommit(1, [{ key: key('state'), value: enc('h1') }]);
    expect(landed).toBeDefined();
    let done = false;
    void landed?.then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(done).toBe(false); // waits for the block
    expect(dec(await kv.get(enc('state')))).toBeUndefined();
    await store.commitBlock(chain[0]!.block, chain[0]!.cert);
    await landed;
    expect(dec(await kv.get(enc('state')))).toBe('h1');
    // Height 1 is committed: too late; height 2 while its commit runs: too late as well.
    expect(store.attachToCommit(1, [{ key: key('state'), value: enc('x') }])).toBeUndefined();
    const committing = store.commitBlock(chain[1]!.block, chain[1]!.cert);
    await new Promise((r) => setTimeout(r, 0));
    const late = store.attachToCommit(2, [{ key: key('state'), value: enc('x') }]);
    await committing;
    if (late !== undefined) await late; // the batch was not put together yet: it went in
    expect(store.height()).toBe(2);
    // Non-sub keys are refused (only component state may ride along).
    expect(() => store.attachToCommit(3, [{ key: enc('zz'), value: enc('x') }])).toThrow(OrdoError);
  });

  it('rejects attached writes whose block never commits when the store closes', async () => {
    const p = store.attachToCommit(1, [{ key: store.subKey('auction', enc('state')), value: enc('h1') }]);
    expect(p).toBeDefined();
    const outcome = p!.then(
      () => 'resolved',
      (err: unknown) => (err as OrdoError).code,
    );
    await store.close();
    expect(await outcome).toBe('STORE_CLOSED');
  });
});
