/**
 * Four engines with the real block builder, one of them a validator whose executor never finishes
 * a height past 1: it waits (bounded) for the results each proposal commits to, then refuses it with
 * RESULTS_NOT_READY (a nil prevote when the height is still open), and proposes nothing itself; the
 * other three (> 2/3) keep committing blocks that commit to the results of h - 2, and it still follows
 * the certified chain.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createBlockBuilder, type ExecutorView, executorResults } from '../../../src/builder/index.ts';
import { computeResultsHash, receiptsRoot } from '../../../src/codec/commitments.ts';
import { createConsensusEngine, type Engine } from '../../../src/consensus/engine.ts';
import { ed25519Signer } from '../../../src/consensus/signing.ts';
import { MemoryHub } from '../../../src/consensus/testing/memory-network.ts';
import { MemoryBlockStore } from '../../../src/consensus/testing/memory-store.ts';
import { makeValidatorSet } from '../../../src/consensus/validators.ts';
import { generateKeyPair } from '../../../src/crypto/ed25519.ts';
import { fakeExecutorView } from './fake-executor.ts';

const CHAIN = 'ordo-lag';
const dir = mkdtempSync(join(tmpdir(), 'ordo-lag-'));
const engines: Engine[] = [];
afterAll(async () => {
  for (const e of engines) await e.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** An executor of one rollup (namespace 2) that "executes" each committed height, up to `cap`. */
function fakeExecutor(cap: number): ExecutorView & { executed(h: number): void } {
  const view = fakeExecutorView();
  return Object.assign(view, {
    executed(h: number) {
      if (h <= cap && h === view.height + 1) view.advance(h);
    },
  });
}

describe('a validator whose executor lags', () => {
  it('refuses proposals with RESULTS_NOT_READY after the bounded wait, and the others go on', async () => {
    const keys = Array.from({ length: 4 }, () => generateKeyPair());
    const set = makeValidatorSet(keys.map((k) => ({ publicKey: k.publicKey, votingPower: 1 })));
    const hub = new MemoryHub();
    const stores = keys.map(() => new MemoryBlockStore());
    const LAGGING = 3;
    const registry = new Registry();
    const notReady = async (): Promise<number> => {
      const m = (await registry.getMetricsAsJSON()).find((x) => x.name === 'ordo_builder_verify_total');
      return m?.values.find((v) => v.labels.verdict === 'RESULTS_NOT_READY')?.value ?? 0;
    };
    let n = 0;
    for (let i = 0; i < 4; i++) {
      const net = hub.create(`n${i}`);
      await net.start();
      const ex = fakeExecutor(i === LAGGING ? 1 : Number.MAX_SAFE_INTEGER);
      const builder = createBlockBuilder({
        rollups: [1, 2].map((namespace) => ({ namespace, name: `r${namespace}`, maxTxBytes: 64 })),
        mempool: {
          reap: () => [{ namespace: 1, payload: new Uint8Array([i, n++ & 255, n >> 8]) }],
          stats: () => ({ txs: 1 }),
          get: () => undefined,
        },
        results: executorResults(ex),
        resultsWaitMs: 30,
        ...(i === LAGGING ? { registry } : {}),
      });
      const e = await createConsensusEngine({
        chainId: CHAIN,
        validators: set,
        signer: ed25519Signer(keys[i]!.seed),
        network: net,
        store: stores[i]!,
        source: builder,
        genesisTimeMs: 0,
        dataDir: join(dir, `d${i}`),
        timeouts: {
          proposeMs: 300,
          prevoteMs: 100,
          precommitMs: 100,
          deltaMs: 100,
          emptyBlockWaitMs: 20,
          rebroadcastMs: 300,
        },
      });
      // "Execute" every committed block (the lagging one stops after height 1).
      e.onCommit((b) => ex.executed(b.header.height));
      engines.push(e);
    }
    for (const e of engines) await e.start();
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(stores[0]!.height() >= 10 && (await notReady()) >= 3)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(stores[0]!.height()).toBeGreaterThanOrEqual(10);
    // The lagging validator refused proposals as "not ready" (its verdicts, counted by the builder).
    expect(await notReady()).toBeGreaterThanOrEqual(3);
    expect(stores[LAGGING]!.height()).toBeGreaterThanOrEqual(3); // it still follows the certified chain
    // Certified headers commit to the results of h - 2 (as the honest executors computed them).
    for (const b of stores[0]!.blocks.slice(2)) {
      const h = b.header.height - 2;
      const leaf = {
        namespace: 2,
        stateRoot: new Uint8Array(32).fill(h & 255),
        receiptsRoot: receiptsRoot(2, []),
      };
      expect(b.header.resultsHash).toEqual(computeResultsHash({ height: h, results: [leaf] }));
    }
  }, 90_000);
});
