/**
 * Storage write faults under the consensus engine (issue #25 item 1): a failing WAL (ENOSPC on append,
 * EIO on fsync) or block store halts signing with health() not ok, nothing is published while halted,
 * and consensus resumes by itself once writes succeed again, leaving a WAL that opens cleanly.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { blockHash } from '../../../src/codec/hashing.ts';
import { createConsensusEngine, type Engine } from '../../../src/consensus/engine.ts';
import { ed25519Signer } from '../../../src/consensus/signing.ts';
import { MemoryHub } from '../../../src/consensus/testing/memory-network.ts';
import { MemoryBlockStore } from '../../../src/consensus/testing/memory-store.ts';
import { simpleSource } from '../../../src/consensus/testing/simple-source.ts';
import type { BlockSource } from '../../../src/consensus/types.ts';
import { makeValidatorSet } from '../../../src/consensus/validators.ts';
import { nodeWalIo, Wal, type WalIo } from '../../../src/consensus/wal.ts';
import { generateKeyPair } from '../../../src/crypto/ed25519.ts';
import { toHex } from '../../../src/crypto/hash.ts';
import { OrdoError } from '../../../src/errors.ts';
import type { Block, CommitCertificate } from '../../../src/types.ts';

const CHAIN = 'ordo-test';
const dirs: string[] = [];
const engines: Engine[] = [];

afterEach(async () => {
  for (const e of engines.splice(0)) await e.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'ordo-csf-'));
  dirs.push(d);
  return d;
}

async function until(cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const fast = {
  proposeMs: 300,
  prevoteMs: 100,
  precommitMs: 100,
  deltaMs: 100,
  emptyBlockWaitMs: 10,
  rebroadcastMs: 300,
};

const source: BlockSource = simpleSource(() => [{ namespace: 1, payload: new Uint8Array([7]) }]);

function errno(code: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: injected fault`);
  e.code = code;
  return e;
}

/** node:fs with a switch: every write fails with ENOSPC / every fsync with EIO while set. */
class FaultyIo implements WalIo {
  full = false;
  eio = false;
  failures = 0;
  write(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
    if (this.full) {
      this.failures++;
      // Half the record reaches the disk before the device fills up: a torn record.
      nodeWalIo.write(fd, buf, offset, Math.floor(length / 2), position);
      throw errno('ENOSPC');
    }
    return nodeWalIo.write(fd, buf, offset, length, position);
  }
  fdatasync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void {
    if (this.eio) {
      this.failures++;
      queueMicrotask(() => cb(errno('EIO')));
      return;
    }
    nodeWalIo.fdatasync(fd, cb);
  }
  ftruncate(fd: number, length: number): void {
    nodeWalIo.ftruncate(fd, length);
  }
  read(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
    return nodeWalIo.read(fd, buf, offset, length, position);
  }
}

/** A memory store whose commits fail (STORE_WRITE_FAILED, as the real store reports ENOSPC) while set. */
class FaultyStore extends MemoryBlockStore {
  full = false;
  failures = 0;
  override async commitBlock(block: Block, cert: CommitCertificate): Promise<void> {
    if (this.full) {
      this.failures++;
      throw new OrdoError('STORE_WRITE_FAILED', 'writing block failed: IO error: No space left on device');
    }
    return super.commitBlock(block, cert);
  }
}

async function single(
  opts: {
    io?: WalIo;
    store?: MemoryBlockStore;
    dataDir?: string;
    kp?: ReturnType<typeof generateKeyPair>;
  } = {},
) {
  const kp = opts.kp ?? generateKeyPair();
  const set = makeValidatorSet([{ publicKey: kp.publicKey, votingPower: 10 }]);
  const hub = new MemoryHub();
  const net = hub.create('a');
  await net.start();
  let published = 0;
  const publish = net.publish.bind(net);
  net.publish = (topic, data) => {
    published++;
    return publish(topic, data);
  };
  const store = opts.store ?? new MemoryBlockStore();
  const dataDir = opts.dataDir ?? tmp();
  const fatal: unknown[] = [];
  const e = await createConsensusEngine({
    chainId: CHAIN,
    validators: set,
    signer: ed25519Signer(kp.seed),
    network: net,
    store,
    source,
    genesisTimeMs: 0,
    dataDir,
    timeouts: fast,
    storageProbeMinMs: 5,
    storageProbeMaxMs: 40,
    onFatal: (err) => fatal.push(err),
    ...(opts.io === undefined ? {} : { walIo: opts.io }),
  });
  engines.push(e);
  return { e, store, dataDir, fatal, kp, published: () => published };
}

function chainIsValid(store: MemoryBlockStore): void {
  for (let i = 0; i < store.blocks.length; i++) {
    expect(store.blocks[i]!.header.height).toBe(i + 1);
    if (i > 0) expect(toHex(store.blocks[i]!.header.parentHash)).toBe(toHex(blockHash(store.blocks[i - 1]!)));
  }
}

describe('consensus engine on storage write faults', () => {
  it('WAL disk full: halts signing (health not ok), publishes nothing, resumes when space is back', async () => {
    const io = new FaultyIo();
    const { e, store, dataDir, fatal, published } = await single({ io });
    await e.start();
    await until(() => store.height() >= 3);
    expect(e.health()).toEqual({ ok: true });

    io.full = true;
    await until(() => !e.health().ok);
    const h = e.health();
    expect(h.ok).toBe(false);
    if (!h.ok) {
      expect(h.code).toBe('WAL_WRITE_FAILED');
      expect(h.reason).toMatch(/ENOSPC/);
      expect(h.sinceMs).toBeGreaterThan(0);
    }
    const pubAtHalt = published();
    const heightAtHalt = store.height();
    // Several probes fail while the disk stays full: nothing is signed or published meanwhile.
    const f0 = io.failures;
    await until(() => io.failures >= f0 + 4);
    expect(published()).toBe(pubAtHalt);
    expect(store.height()).toBeLessThanOrEqual(heightAtHalt + 1); // a block already decided may land
    expect(fatal).toEqual([]);

    io.full = false;
    await until(() => e.health().ok && store.height() >= heightAtHalt + 3);
    chainIsValid(store);
    await e.stop();
    engines.splice(engines.indexOf(e), 1);
    // The torn records were cut back at once: the log opens without a torn tail or corruption.
    const { wal } = Wal.open(join(dataDir, 'cs.wal'));
    wal.close();
  });

  it('WAL fsync EIO: halts, then repairs the log and resumes', async () => {
    const io = new FaultyIo();
    const { e, store, published } = await single({ io });
    await e.start();
    await until(() => store.height() >= 2);
    io.eio = true;
    await until(() => !e.health().ok);
    const h = e.health();
    expect(h.ok === false && h.code).toBe('WAL_SYNC_FAILED');
    const pub = published();
    const f0 = io.failures;
    await until(() => io.failures >= f0 + 3);
    expect(published()).toBe(pub);
    io.eio = false;
    const at = store.height();
    await until(() => e.health().ok && store.height() >= at + 3);
    chainIsValid(store);
  });

  it('store commit fails: halts without shutting down, keeps serving reads, resumes by itself', async () => {
    const store = new FaultyStore();
    const { e, fatal } = await single({ store });
    await e.start();
    await until(() => store.height() >= 2);
    store.full = true;
    await until(() => !e.health().ok);
    const h = e.health();
    expect(h.ok === false && h.code).toBe('STORE_WRITE_FAILED');
    const f0 = store.failures;
    await until(() => store.failures >= f0 + 4);
    const stuck = store.height();
    // Reads keep working while halted.
    expect(await store.getBlock(1)).toBeDefined();
    expect(e.status().height).toBeLessThanOrEqual(stuck + 3);
    store.full = false;
    await until(() => e.health().ok && store.height() >= stuck + 3);
    expect(fatal).toEqual([]);
    chainIsValid(store);
  });

  it('restart after a disk-full halt: the WAL opens cleanly, replays, and the chain goes on', async () => {
    const io = new FaultyIo();
    const store = new MemoryBlockStore();
    const first = await single({ io, store });
    await first.e.start();
    await until(() => store.height() >= 2);
    io.full = true;
    await until(() => !first.e.health().ok);
    await first.e.stop();
    engines.splice(engines.indexOf(first.e), 1);
    const at = store.height();
    // Same key, store and WAL; the disk has space again.
    const again = await single({ store, dataDir: first.dataDir, kp: first.kp });
    await again.e.start();
    expect(again.e.health()).toEqual({ ok: true });
    await until(() => store.height() >= at + 3);
    chainIsValid(store);
  });
});

describe('one of four validators runs out of disk', () => {
  it('the other three go on; the halted one signs nothing, then resumes and catches up', async () => {
    const keys = [0, 1, 2, 3].map(() => generateKeyPair());
    const set = makeValidatorSet(keys.map((k) => ({ publicKey: k.publicKey, votingPower: 1 })));
    const hub = new MemoryHub();
    const io = new FaultyIo();
    const stores = keys.map(() => new MemoryBlockStore());
    let sentByZero = 0;
    const es: Engine[] = [];
    for (let i = 0; i < 4; i++) {
      const net = hub.create(`n${i}`);
      await net.start();
      if (i === 0) {
        const publish = net.publish.bind(net);
        net.publish = (topic, data) => {
          sentByZero++;
          return publish(topic, data);
        };
      }
      const e = await createConsensusEngine({
        chainId: CHAIN,
        validators: set,
        signer: ed25519Signer(keys[i]!.seed),
        network: net,
        store: stores[i]!,
        source,
        genesisTimeMs: 0,
        dataDir: tmp(),
        timeouts: fast,
        storageProbeMinMs: 5,
        storageProbeMaxMs: 40,
        ...(i === 0 ? { walIo: io } : {}),
      });
      engines.push(e);
      es.push(e);
    }
    for (const e of es) await e.start();
    await until(() => stores.every((s) => s.height() >= 3));
    io.full = true;
    await until(() => !es[0]!.health().ok);
    const sent = sentByZero;
    const h0 = stores[0]!.height();
    const others = stores[1]!.height();
    await until(() => stores[1]!.height() >= others + 5);
    expect(sentByZero).toBe(sent);
    expect(stores[0]!.height()).toBeLessThanOrEqual(h0 + 1);
    expect(es.slice(1).every((e) => e.health().ok)).toBe(true);
    io.full = false;
    await until(() => es[0]!.health().ok && stores[0]!.height() >= stores[1]!.height() - 1);
    const min = Math.min(...stores.map((s) => s.height()));
    for (let h = 1; h <= min; h++) {
      expect(new Set(stores.map((s) => toHex(blockHash(s.blocks[h - 1]!)))).size).toBe(1);
    }
  });
});
