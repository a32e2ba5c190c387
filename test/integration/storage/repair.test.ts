/**
 * Re-fetching damaged blocks from peers (issue #25 item 9, ADR 0145): a LevelDB store with 256 random
 * bytes in a table file is repaired from a peer over the sync protocol, a peer that sends forged
 * certificates is refused (nothing written), a certified block that does not fit the stored chain is
 * refused by the store, and damage found by a read while the node runs is re-fetched in the background.
 * Real LevelDB stores, the in-memory network double; no timing assertions.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeBlock } from '../../../src/codec/codec.ts';
import { blockDataHash } from '../../../src/codec/commitments.ts';
import { blockHash } from '../../../src/codec/hashing.ts';
import { BlockRepairer, createSyncHandler, repairFromPeers, runsOf } from '../../../src/consensus/sync.ts';
import { MemoryHub } from '../../../src/consensus/testing/memory-network.ts';
import { makeValidatorSet } from '../../../src/consensus/validators.ts';
import { ZERO_HASH } from '../../../src/crypto/hash.ts';
import type { OrdoError } from '../../../src/errors.ts';
import { checkStore, repairAtStart } from '../../../src/node/store-check.ts';
import type { EngineBlockStore } from '../../../src/store/block-store.ts';
import { openStore } from '../../../src/store/index.ts';
import { blockKey, certKey } from '../../../src/store/keys.ts';
import type { Block, CommitCertificate } from '../../../src/types.ts';
import { payload } from '../../unit/store/helpers.ts';

const CHAIN = 'ordo-test';
// Three validators; the certificates carry indexes 0 and 2: 4 of 5 power, a quorum.
const validators = makeValidatorSet([
  { publicKey: new Uint8Array(32).fill(1), votingPower: 2 },
  { publicKey: new Uint8Array(32).fill(2), votingPower: 1 },
  { publicKey: new Uint8Array(32).fill(3), votingPower: 2 },
]);
/** Test signatures: a signature of 0xee bytes is a forgery, anything else verifies. */
const verify = (_pk: Uint8Array, _msg: Uint8Array, sig: Uint8Array): boolean => sig[0] !== 0xee;

interface Link {
  block: Block;
  cert: CommitCertificate;
}

function makeChain(seed: string, count: number, txs: number, sigByte = 1, txBytes = 2000): Link[] {
  const out: Link[] = [];
  let parent: Uint8Array = ZERO_HASH;
  for (let h = 1; h <= count; h++) {
    const block: Block = {
      header: {
        chainId: CHAIN,
        height: h,
        round: 0,
        timeMs: 1_700_000_000_000 + h * 1000,
        parentHash: parent,
        dataHash: ZERO_HASH,
        proposer: new Uint8Array(32).fill(9),
        txCount: txs,
        lastCommitHash: ZERO_HASH,
        resultsHash: ZERO_HASH,
        auctionHash: ZERO_HASH,
      },
      txs: Array.from({ length: txs }, (_, i) => ({ namespace: 1, payload: payload(seed, h, i, txBytes) })),
      bundles: [],
    };
    block.header.dataHash = blockDataHash(block);
    const hash = blockHash(block);
    out.push({
      block,
      cert: {
        height: h,
        round: 0,
        blockHash: hash,
        sigs: [
          { validatorIndex: 0, signature: new Uint8Array(64).fill(sigByte) },
          { validatorIndex: 2, signature: new Uint8Array(64).fill(sigByte) },
        ],
      },
    });
    parent = hash;
  }
  return out;
}

const dirs: string[] = [];
const stores: EngineBlockStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function storeWith(chain: Link[], name: string): Promise<EngineBlockStore> {
  const d = mkdtempSync(join(tmpdir(), `ordo-repair-${name}-`));
  dirs.push(d);
  const s = await openStore({ path: join(d, 'db'), sync: false });
  for (const l of chain) await s.commitBlock(l.block, l.cert);
  stores.push(s);
  return s;
}

/** Close, write 256 deterministic "random" bytes a quarter into the largest table file, reopen. */
async function damageTable(s: EngineBlockStore, where = 0.25): Promise<EngineBlockStore> {
  const path = s.path;
  await s.close();
  // Reopening turns LevelDB's log into a table file.
  await (await openStore({ path, sync: false })).close();
  const tables = readdirSync(path)
    .filter((f) => f.endsWith('.ldb'))
    .map((f) => join(path, f))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  const file = tables[0]!;
  const bytes = readFileSync(file);
  let x = 0x12345678;
  const at = Math.floor(bytes.length * where);
  for (let i = 0; i < 256; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[at + i] = x >>> 24;
  }
  writeFileSync(file, bytes);
  const reopened = await openStore({ path, sync: false });
  stores.push(reopened);
  return reopened;
}

/** Close and open again: the recent-block cache is empty, every read goes to the database. */
async function reopen(s: EngineBlockStore): Promise<EngineBlockStore> {
  await s.close();
  const again = await openStore({ path: s.path, sync: false });
  stores.push(again);
  return again;
}

function serve(hub: MemoryHub, id: string, store: EngineBlockStore): void {
  const net = hub.create(id);
  net.handle('sync', createSyncHandler({ store, chainId: CHAIN }));
  void net.start();
}

function same(a: Block | undefined, b: Block): boolean {
  return a !== undefined && Buffer.from(encodeBlock(a)).equals(Buffer.from(encodeBlock(b)));
}

describe('re-fetching damaged blocks from peers', () => {
  it('repairs a LevelDB table file hit by 256 random bytes; a forging peer is refused first', async () => {
    const chain = makeChain('r', 60, 8);
    const healthy = await storeWith(chain, 'peer');
    // The forger has the same blocks, but its certificates carry forged signatures.
    const forged = makeChain('r', 60, 8, 0xee);
    const forger = await storeWith(forged, 'forger');
    const damaged = await damageTable(await storeWith(chain, 'victim'));
    const before = await damaged.verify();
    expect(before.ok).toBe(false);
    expect(before.damagedCount).toBeGreaterThan(0);

    const hub = new MemoryHub();
    serve(hub, 'forger', forger); // asked first (peers() keeps insertion order)
    serve(hub, 'peer', healthy);
    const me = hub.create('me');
    await me.start();
    const r = await repairFromPeers(before.damagedHeights, {
      net: me,
      store: damaged,
      chainId: CHAIN,
      validators,
      verify,
    });
    expect(r.failed).toEqual([]);
    expect(r.repaired.sort((a, b) => a - b)).toEqual(before.damagedHeights);
    const after = await damaged.verify({ deep: true });
    expect(after.ok, JSON.stringify(after.problems)).toBe(true);
    for (const l of chain) expect(same(await damaged.getBlock(l.block.header.height), l.block)).toBe(true);
    // Writes go on after the repair, and the repair survives a reopen.
    const next = makeChain('r', 61, 8)[60]!;
    await damaged.commitBlock(next.block, next.cert);
    const path = damaged.path;
    await damaged.close();
    const again = await openStore({ path, sync: false });
    stores.push(again);
    expect((await again.verify({ deep: true })).ok).toBe(true);
    expect(again.height()).toBe(61);
  });

  it('unreadable LevelDB table blocks: tables rebuilt, heights re-fetched, compaction and writes go on', async () => {
    // Small transactions: LevelDB compresses these table blocks, and 256 random bytes make them
    // unreadable ("corrupted compressed block contents"), which a rewrite alone cannot mend: the next
    // compaction of the damaged file would fail and LevelDB would refuse every later write.
    const chain = makeChain('t', 121, 8, 1, 64);
    const healthy = await storeWith(chain, 'peer');
    const victim = await damageTable(await storeWith(chain.slice(0, 120), 'victim'), 0.2);
    const log = pino({ level: 'silent' });
    const raw = await victim.verify();
    expect(raw.ok).toBe(false);
    expect(raw.other.join(' ')).toMatch(/range failed/);
    const report = await checkStore(victim, '/home/x', log, { allowRepair: true });
    expect(report.other).toEqual([]);
    expect(report.damagedCount).toBeGreaterThan(0);
    expect(
      Object.values(report.problems)
        .flat()
        .every((p) => p.endsWith('missing')),
    ).toBe(true);
    const hub = new MemoryHub();
    serve(hub, 'peer', healthy);
    const me = hub.create('me');
    await me.start();
    await repairAtStart(report, {
      store: victim,
      net: me,
      chainId: CHAIN,
      validators,
      home: '/home/x',
      log,
      verify,
      timeoutMs: 10_000,
    });
    // Compact everything (reads every table), then write: both work on the rebuilt tables.
    const db = (
      victim as unknown as { engine: { db: { compactRange(a: Uint8Array, b: Uint8Array): Promise<void> } } }
    ).engine.db;
    await db.compactRange(new Uint8Array([0]), new Uint8Array([0xff, 0xff]));
    await victim.commitBlock(chain[120]!.block, chain[120]!.cert);
    const again = await reopen(victim);
    const deep = await again.verify({ deep: true });
    expect(deep.ok, JSON.stringify([deep.other, deep.problems])).toBe(true);
    for (const l of chain) expect(same(await again.getBlock(l.block.header.height), l.block)).toBe(true);
  });

  it('scattered damage is fetched in few requests and only damaged heights are written', async () => {
    expect(runsOf([1, 3, 12, 30, 31, 200], 64)).toEqual([
      [1, 12],
      [30, 31],
      [200, 200],
    ]);
    const chain = makeChain('g', 40, 2);
    const healthy = await storeWith(chain, 'peer');
    const victim = await reopen(await storeWith(chain, 'victim'));
    const damaged = [2, 4, 6, 8, 10, 12, 14, 16, 30];
    await victim.writeBatch(damaged.map((h) => ({ key: blockKey(h), value: undefined })));
    const hub = new MemoryHub();
    serve(hub, 'peer', healthy);
    const me = hub.create('me');
    await me.start();
    let requests = 0;
    const request = me.request.bind(me);
    me.request = (...a) => {
      requests++;
      return request(...a);
    };
    const r = await repairFromPeers(damaged, { net: me, store: victim, chainId: CHAIN, validators, verify });
    expect(r.failed).toEqual([]);
    expect(r.repaired).toEqual(damaged);
    expect(requests).toBe(2);
    expect((await victim.verify({ deep: true })).ok).toBe(true);
  });

  it('while running: a compaction that meets an unreadable table block is rebuilt and the lost heights re-fetched', async () => {
    const chain = makeChain('c', 122, 8, 1, 64);
    const healthy = await storeWith(chain, 'peer');
    const victim = await damageTable(await storeWith(chain.slice(0, 120), 'victim'), 0.2);
    const hub = new MemoryHub();
    serve(hub, 'peer', healthy);
    const me = hub.create('me');
    await me.start();
    const repairer = new BlockRepairer({ net: me, store: victim, chainId: CHAIN, validators, verify });
    victim.onDamage = (h) => repairer.report(h);
    try {
      // LevelDB compacts the damaged file: it fails, and LevelDB refuses the next write.
      const db = (
        victim as unknown as {
          engine: { db: { compactRange(a: Uint8Array, b: Uint8Array): Promise<void> } };
        }
      ).engine.db;
      await db.compactRange(new Uint8Array([0]), new Uint8Array([0xff, 0xff]));
      const first = await victim.commitBlock(chain[120]!.block, chain[120]!.cert).then(
        () => undefined,
        (e: OrdoError) => e.code,
      );
      expect(first).toBe('STORE_WRITE_FAILED');
      // The next write rebuilds the tables, the heights the rebuild dropped are re-fetched.
      await victim.commitBlock(chain[120]!.block, chain[120]!.cert);
      await victim.commitBlock(chain[121]!.block, chain[121]!.cert);
      for (let i = 0; i < 400 && (repairer.pending().length > 0 || (await damagedCount(victim)) > 0); i++)
        await new Promise((r) => setTimeout(r, 25));
      const deep = await victim.verify({ deep: true });
      expect(deep.ok, JSON.stringify([deep.other, deep.problems])).toBe(true);
      for (const l of chain) expect(same(await victim.getBlock(l.block.header.height), l.block)).toBe(true);
    } finally {
      repairer.stop();
    }
  });

  it('nothing is written when only a forging peer answers, and a certified block of another chain is refused', async () => {
    const chain = makeChain('f', 20, 2);
    const victim = await reopen(await storeWith(chain, 'victim'));
    await victim.writeBatch([
      { key: blockKey(7), value: undefined },
      { key: certKey(7), value: undefined },
    ]);
    const hub = new MemoryHub();
    serve(hub, 'forger', await storeWith(makeChain('f', 20, 2, 0xee), 'forger'));
    const me = hub.create('me');
    await me.start();
    const r = await repairFromPeers([7], { net: me, store: victim, chainId: CHAIN, validators, verify });
    expect(r.repaired).toEqual([]);
    expect(r.failed[0]?.height).toBe(7);
    expect(r.failed[0]?.reason).toMatch(/invalid block/);
    await expect(victim.getBlock(7)).rejects.toMatchObject({ code: 'STORE_CORRUPT' });

    // A validly certified block of another chain at height 7 does not fit: the store refuses it.
    const other = makeChain('other', 20, 2)[6]!;
    const code = await victim.repairBlock(other.block, other.cert).then(
      () => undefined,
      (e: OrdoError) => e.code,
    );
    expect(code).toBe('STORE_REPAIR_MISMATCH');
    expect((await victim.verify()).damagedHeights).toEqual([7]);
  });

  it('a damaged read while running is re-fetched in the background (BlockRepairer)', async () => {
    const chain = makeChain('b', 30, 3);
    const healthy = await storeWith(chain, 'peer');
    const reopened = await reopen(await storeWith(chain, 'victim'));
    await reopened.writeBatch([{ key: blockKey(12), value: undefined }]);
    const hub = new MemoryHub();
    serve(hub, 'peer', healthy);
    const me = hub.create('me');
    await me.start();
    const repairer = new BlockRepairer({ net: me, store: reopened, chainId: CHAIN, validators, verify });
    reopened.onDamage = (h) => repairer.report(h);
    try {
      // The read that finds the damage fails: never a hole.
      await expect(reopened.getBlock(12)).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
      for (let i = 0; i < 200 && repairer.pending().length + (await damagedCount(reopened)) > 0; i++)
        await new Promise((r) => setTimeout(r, 25));
      expect(same(await reopened.getBlock(12), chain[11]!.block)).toBe(true);
      expect((await reopened.verify({ deep: true })).ok).toBe(true);
    } finally {
      repairer.stop();
    }
  });

  it('at start: repaired from peers, or refused naming the heights when no peer can serve them', async () => {
    const chain = makeChain('s', 25, 2);
    const healthy = await storeWith(chain, 'peer');
    const victim = await storeWith(chain, 'victim');
    await victim.writeBatch([{ key: blockKey(3), value: undefined }]);
    const log = pino({ level: 'silent' });
    const report = await checkStore(victim, '/home/x', log, { allowRepair: true });
    expect(report.ok).toBe(false);
    expect(report.damagedHeights).toEqual([3]);
    // Without permission to repair: the refusal names the heights.
    await expect(checkStore(victim, '/home/x', log)).rejects.toMatchObject({ code: 'STORE_CORRUPT' });

    // No peer at all within the budget: refused, saying so.
    const lonely = new MemoryHub().create('me');
    await lonely.start();
    const err = await repairAtStart(report, {
      store: victim,
      net: lonely,
      chainId: CHAIN,
      validators,
      home: '/home/x',
      log,
      timeoutMs: 300,
    }).then(
      () => undefined,
      (e: OrdoError) => e,
    );
    expect(err?.code).toBe('STORE_CORRUPT');
    expect(err?.message).toContain('1 of 25 heights (3)');
    expect(err?.message).toContain('no peer connected');

    const hub = new MemoryHub();
    serve(hub, 'peer', healthy);
    const me = hub.create('me');
    await me.start();
    await repairAtStart(report, {
      store: victim,
      net: me,
      chainId: CHAIN,
      validators,
      home: '/home/x',
      log,
      verify,
      timeoutMs: 5000,
    });
    expect(same(await victim.getBlock(3), chain[2]!.block)).toBe(true);
    expect((await victim.verify({ deep: true })).ok).toBe(true);
  });
});

async function damagedCount(s: EngineBlockStore): Promise<number> {
  return (await s.verify()).damagedCount;
}
