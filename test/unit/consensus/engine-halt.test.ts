/**
 * Fail-stop: the engine halts (signs and sends nothing more, health() says why, a fatal log line,
 * onFatal once) when the core throws or storage fails. Runs a single validator on a manual virtual
 * runtime, so no test waits on the wall clock.
 */

import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createConsensusEngine, type Engine } from '../../../src/consensus/engine.ts';
import { MemoryDisk } from '../../../src/consensus/persistence.ts';
import type { Runtime } from '../../../src/consensus/runtime.ts';
import { fakeSigner, fakeVerify } from '../../../src/consensus/signing.ts';
import { MemoryHub } from '../../../src/consensus/testing/memory-network.ts';
import { MemoryBlockStore } from '../../../src/consensus/testing/memory-store.ts';
import { simpleSource } from '../../../src/consensus/testing/simple-source.ts';
import { makeValidatorSet } from '../../../src/consensus/validators.ts';
import type { Block, CommitCertificate } from '../../../src/types.ts';

/** Timers in virtual time: `advance` fires what falls due, letting promise chains settle in between. */
class ManualRuntime implements Runtime {
  t = 1_000;
  #timers: { at: number; seq: number; fn: () => void; dead: boolean }[] = [];
  #seq = 0;
  now(): number {
    return this.t;
  }
  monotonicMs(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): () => void {
    const e = { at: this.t + ms, seq: this.#seq++, fn, dead: false };
    this.#timers.push(e);
    return () => {
      e.dead = true;
    };
  }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (let i = 0; i < 100_000; i++) {
      await new Promise((r) => setImmediate(r));
      const live = this.#timers.filter((e) => !e.dead && e.at <= end);
      if (live.length === 0) break;
      live.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const e = live[0]!;
      e.dead = true;
      this.#timers = this.#timers.filter((x) => !x.dead);
      this.t = Math.max(this.t, e.at);
      e.fn();
    }
    this.t = end;
    await new Promise((r) => setImmediate(r));
  }
}

class FailingStore extends MemoryBlockStore {
  fail = false;
  override async commitBlock(block: Block, cert: CommitCertificate): Promise<void> {
    if (this.fail) throw new Error('simulated disk full');
    return super.commitBlock(block, cert);
  }
}

async function setup() {
  const rt = new ManualRuntime();
  const signer = fakeSigner(new Uint8Array(32).fill(7));
  const lines: { level: number; code?: string; msg: string }[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, cb) {
        lines.push(JSON.parse(String(chunk)));
        cb();
      },
    }),
  );
  const hub = new MemoryHub();
  const net = hub.create('a');
  const published: Uint8Array[] = [];
  const publish = net.publish.bind(net);
  net.publish = async (topic, data) => {
    published.push(data);
    return publish(topic, data);
  };
  const store = new FailingStore();
  const disk = new MemoryDisk();
  const fatal: unknown[] = [];
  const engine: Engine = await createConsensusEngine({
    chainId: 'ordo-halt',
    validators: makeValidatorSet([{ publicKey: signer.publicKey, votingPower: 1 }]),
    signer,
    verify: fakeVerify,
    network: net,
    store,
    source: simpleSource((h) => [{ namespace: 1, payload: new Uint8Array([h & 255]) }]),
    genesisTimeMs: 0,
    persistence: disk,
    runtime: rt,
    logger,
    timeouts: {
      proposeMs: 100,
      prevoteMs: 50,
      precommitMs: 50,
      deltaMs: 50,
      emptyBlockWaitMs: 10,
      rebroadcastMs: 300,
    },
    minBlockIntervalMs: 50,
    onFatal: (err) => fatal.push(err),
  });
  await engine.start();
  await rt.advance(200);
  return { rt, engine, store, disk, published, fatal, lines };
}

describe('engine fail-stop', () => {
  it('a healthy single validator commits and reports ok', async () => {
    const { engine, store } = await setup();
    expect(store.height()).toBeGreaterThan(1);
    expect(engine.health()).toEqual({ ok: true });
  });

  it.each([
    ['the core throws (invariant)', 'CONSENSUS_INVARIANT'],
    ['a sign-guard write fails', 'STORAGE_SIGN_GUARD'],
    ['a block store commit fails', 'STORAGE_COMMIT'],
  ])('halts when %s: stops signing, unhealthy with %s, fatal log, onFatal once', async (_what, code) => {
    const { rt, engine, store, disk, published, fatal, lines } = await setup();
    const h0 = store.height();
    if (code === 'CONSENSUS_INVARIANT') {
      engine.core.handle = () => {
        throw new Error('invariant broken: two proposals at one height');
      };
    }
    if (code === 'STORAGE_SIGN_GUARD') disk.failGuardWrites = true;
    if (code === 'STORAGE_COMMIT') store.fail = true;
    await rt.advance(300);
    const health = engine.health();
    expect(health.ok).toBe(false);
    if (health.ok) return;
    expect(health.code).toBe(code);
    expect(health.reason.length).toBeGreaterThan(0);
    expect(health.sinceMs).toBeGreaterThanOrEqual(1_000);
    expect(fatal).toHaveLength(1);
    expect(lines.filter((l) => l.level === 60 && l.code === code)).toHaveLength(1);
    // Never continues: nothing more is sent or committed, however long it runs.
    const sent = published.length;
    const height = store.height();
    await rt.advance(5_000);
    expect(published.length).toBe(sent);
    expect(store.height()).toBe(height);
    expect(height).toBeLessThanOrEqual(h0 + 3);
    expect(engine.status().height).toBeLessThanOrEqual(height + 3);
    await engine.stop();
  });

  it.each([
    ['append', 'failWrites'],
    ['fsync', 'failSyncs'],
  ] as const)(
    'a WAL %s fault halts signing without giving up, and resumes once the disk works',
    async (_what, knob) => {
      const { rt, engine, store, disk, published, fatal } = await setup();
      disk[knob] = true;
      await rt.advance(300);
      const health = engine.health();
      expect(health.ok).toBe(false);
      if (!health.ok) expect(health.reason.length).toBeGreaterThan(0);
      // A write fault is not a fail-stop: no onFatal, and nothing leaves the node while it lasts.
      expect(fatal).toHaveLength(0);
      const sent = published.length;
      const height = store.height();
      await rt.advance(3_000);
      expect(published.length).toBe(sent);
      expect(store.height()).toBe(height);
      disk[knob] = false;
      await rt.advance(10_000);
      expect(engine.health()).toEqual({ ok: true });
      expect(store.height()).toBeGreaterThan(height);
      await engine.stop();
    },
  );
});
