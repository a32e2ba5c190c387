/**
 * On the real network: four consensus engines over libp2p on 127.0.0.1, each with the real block
 * builder, one of them with a Byzantine builder that proposes a bad block whenever it is the proposer
 * (wrong bundle spans, a split bundle, a wrong results commitment, a wrong auction commitment, a data
 * hash that does not cover the spans). The honest validators refuse every one of them with its typed
 * reason, never certify one, and the chain goes on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type BlockBuilder,
  type BundleSource,
  createBlockBuilder,
  type ResultsSource,
} from '../../../src/builder/index.ts';
import {
  computeAuctionHash,
  computeDataHash,
  NO_AUCTION,
  type ResultLeaf,
} from '../../../src/codec/commitments.ts';
import { blockHash } from '../../../src/codec/hashing.ts';
import { createConsensusEngine, type Engine } from '../../../src/consensus/engine.ts';
import type { BlockSource, BuiltBlock } from '../../../src/consensus/index.ts';
import { ed25519Signer } from '../../../src/consensus/signing.ts';
import { MemoryBlockStore } from '../../../src/consensus/testing/memory-store.ts';
import { makeValidatorSet } from '../../../src/consensus/validators.ts';
import { generateKeyPair } from '../../../src/crypto/ed25519.ts';
import { bytesEqual, latin1Key } from '../../../src/crypto/hash.ts';
import { createLibp2pNetwork } from '../../../src/p2p/libp2p/network.ts';
import type { P2pNetwork } from '../../../src/p2p/network.ts';
import type { TxEnvelope } from '../../../src/types.ts';

const CHAIN = 'ordo-byz';
const N = 4;
const BYZ = 2;
const rollups = [1, 2, 3].map((namespace) => ({ namespace, name: `r${namespace}`, maxTxBytes: 1024 }));
const dir = mkdtempSync(join(tmpdir(), 'ordo-byz-'));
const nets: P2pNetwork[] = [];
const engines: Engine[] = [];

afterAll(async () => {
  for (const e of engines) await e.stop();
  for (const n of nets) await n.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every honest node executes the same results (a deterministic function of the height here). */
const results: ResultsSource = {
  results: (h) =>
    Promise.resolve(
      h <= 0
        ? []
        : [2, 3].map(
            (namespace): ResultLeaf => ({
              namespace,
              stateRoot: new Uint8Array(32).fill((h * namespace) & 255),
              receiptsRoot: new Uint8Array(32).fill(h & 255),
            }),
          ),
    ),
};

/** A cross-rollup bundle every node knows (none is offered to honest proposers). */
const bundle = {
  bundleHash: new Uint8Array(32).fill(0xbb),
  txs: [
    { namespace: 1, payload: new TextEncoder().encode('bundle leg 1') },
    { namespace: 2, payload: new TextEncoder().encode('bundle leg 2') },
  ],
};
const bundles: BundleSource = {
  select: () => Promise.resolve([]),
  lookup: (hash) =>
    bytesEqual(hash, bundle.bundleHash)
      ? { kind: 'known', txs: bundle.txs, minHeight: 0, maxHeight: 0, atomicity: 1, reverting: new Set() }
      : { kind: 'unknown' },
};

function mempool(tag: number) {
  let n = 0;
  return {
    reap: () =>
      [1, 2, 3].map((namespace) => ({
        namespace,
        payload: new Uint8Array([tag, namespace, n++ & 255, n >> 8]),
      })),
    stats: () => ({ txs: 3 }),
    get: () => undefined,
  };
}

const BAD_KINDS = ['spans', 'split-bundle', 'results', 'auction', 'data-hash'] as const;

/** Builds an honest block, then breaks it in the next way of BAD_KINDS. */
function byzantineSource(honest: BlockBuilder, built: string[]): BlockSource {
  let next = 0;
  return {
    ...honest,
    verify: () => Promise.resolve({ ok: true }),
    async build(height, maxBytes, maxTxs): Promise<BuiltBlock> {
      const b = await honest.build(height, maxBytes, maxTxs);
      const kind = BAD_KINDS[next++ % BAD_KINDS.length]!;
      built.push(kind);
      const legs = bundle.txs;
      const withBundle = (
        spanTxs: TxEnvelope[][],
        spans: BuiltBlock['bundles'],
        coverSpans = true,
      ): BuiltBlock => {
        const txs = [...b.txs];
        for (const add of spanTxs) for (const t of add) txs.push(t);
        txs.sort((x, y) => x.namespace - y.namespace);
        // Bundle legs go first in their slices: re-sort with them at the top.
        const top = new Set(spanTxs.flat());
        txs.sort((x, y) => x.namespace - y.namespace || Number(top.has(y)) - Number(top.has(x)));
        return { ...b, txs, bundles: spans, dataHash: computeDataHash(txs, coverSpans ? spans : []) };
      };
      switch (kind) {
        case 'spans': // two overlapping spans in rollup 1
          return withBundle(
            [legs],
            [
              {
                bundleHash: bundle.bundleHash,
                namespace: 1,
                start: 0,
                count: 2,
                atomicity: 1,
                reverting: [],
              },
              {
                bundleHash: new Uint8Array(32).fill(1),
                namespace: 1,
                start: 1,
                count: 1,
                atomicity: 1,
                reverting: [],
              },
              {
                bundleHash: bundle.bundleHash,
                namespace: 2,
                start: 0,
                count: 1,
                atomicity: 1,
                reverting: [],
              },
            ],
          );
        case 'split-bundle': // only rollup 1's leg of the cross-rollup bundle
          return withBundle(
            [[legs[0]!]],
            [
              {
                bundleHash: bundle.bundleHash,
                namespace: 1,
                start: 0,
                count: 1,
                atomicity: 1,
                reverting: [],
              },
            ],
          );
        case 'results':
          return { ...b, resultsHash: new Uint8Array(32).fill(0xee) };
        case 'auction':
          return { ...b, auctionHash: computeAuctionHash(height + 1, NO_AUCTION) };
        case 'data-hash': // the whole bundle, but a data hash over the transactions only
          return withBundle(
            [legs],
            [
              {
                bundleHash: bundle.bundleHash,
                namespace: 1,
                start: 0,
                count: 1,
                atomicity: 1,
                reverting: [],
              },
              {
                bundleHash: bundle.bundleHash,
                namespace: 2,
                start: 0,
                count: 1,
                atomicity: 1,
                reverting: [],
              },
            ],
            false,
          );
      }
    },
  };
}

/** Rejections logged by one honest engine: builder codes and the core's own data-hash refusals. */
function capture(into: string[]) {
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) {
        if (line === '') continue;
        const o = JSON.parse(line) as { msg?: string; code?: string; reason?: string };
        if (o.msg === 'proposal rejected by the builder' && o.code !== undefined) into.push(o.code);
        if (o.msg === 'prevoting nil: invalid proposal' && o.reason?.includes('data hash'))
          into.push('core:data-hash');
      }
      cb();
    },
  });
  return pino({ level: 'info' }, stream);
}

describe('a Byzantine proposer on the real network', () => {
  it('honest validators refuse every bad block, with its typed reason, and the chain goes on', async () => {
    const keys = Array.from({ length: N }, () => generateKeyPair());
    const set = makeValidatorSet(keys.map((k) => ({ publicKey: k.publicKey, votingPower: 1 })));
    const stores = keys.map(() => new MemoryBlockStore());
    const refused: string[][] = keys.map(() => []);
    const badBuilt: string[] = [];
    for (let i = 0; i < N; i++) {
      const net = await createLibp2pNetwork({
        chainId: CHAIN,
        listen: '/ip4/127.0.0.1/tcp/0',
        bootstrap: nets.map((p) => p.addresses()[0]!),
        identityKeyPath: join(dir, `node${i}.key`),
        heartbeatMs: 100,
        reconnect: { initialMs: 100, maxMs: 1000 },
      });
      await net.start();
      nets.push(net);
    }
    for (let i = 0; i < N; i++) {
      const honest = createBlockBuilder({ rollups, mempool: mempool(i), results, bundles });
      const e = await createConsensusEngine({
        chainId: CHAIN,
        validators: set,
        signer: ed25519Signer(keys[i]!.seed),
        network: nets[i]!,
        store: stores[i]!,
        source: i === BYZ ? byzantineSource(honest, badBuilt) : honest,
        genesisTimeMs: 0,
        dataDir: join(dir, `data${i}`),
        timeouts: {
          proposeMs: 400,
          prevoteMs: 150,
          precommitMs: 150,
          deltaMs: 100,
          emptyBlockWaitMs: 20,
          rebroadcastMs: 300,
        },
        logger: capture(refused[i]!),
      });
      engines.push(e);
    }
    for (const e of engines) await e.start();
    const honestIdx = [0, 1, 2, 3].filter((i) => i !== BYZ);
    const want = new Set([
      'SPAN_OVERLAP',
      'BUNDLE_PARTIAL',
      'RESULTS_HASH_MISMATCH',
      'AUCTION_HASH_MISMATCH',
      'core:data-hash',
    ]);
    const deadline = Date.now() + 120_000;
    while (
      Date.now() < deadline &&
      !(honestIdx.every((i) => [...want].every((c) => refused[i]!.includes(c))) && stores[0]!.height() >= 12)
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    // Every honest validator refused every kind of bad block, with the typed reason.
    for (const i of honestIdx) expect(new Set(refused[i]!.filter((c) => want.has(c)))).toEqual(want);
    expect(new Set(badBuilt)).toEqual(new Set(BAD_KINDS));
    // The chain went on, and no block it certified is one the honest builder refuses.
    expect(stores[0]!.height()).toBeGreaterThanOrEqual(12);
    const checker = createBlockBuilder({ rollups, mempool: mempool(9), results, bundles });
    const byzKey = keys[BYZ]!.publicKey;
    for (const b of stores[0]!.blocks) {
      expect(await checker.verify(b), `block ${b.header.height}`).toEqual({ ok: true });
      expect(b.bundles).toEqual([]);
      // Every block the Byzantine builder made was bad: none of its own was certified.
      expect(bytesEqual(b.header.proposer, byzKey)).toBe(false);
    }
    // All honest stores hold the same chain.
    const h = Math.min(...honestIdx.map((i) => stores[i]!.height()));
    for (let k = 0; k < h; k++) {
      const hashes = new Set(honestIdx.map((i) => latin1Key(blockHash(stores[i]!.blocks[k]!))));
      expect(hashes.size).toBe(1);
    }
  }, 150_000);
});
