/**
 * The adapter's bundle RPCs over a real gRPC connection (issue #22, docs/adapter.md "Bundles"):
 * `SubmitBundle` admits through a real bundle pool and answers the bundle hash; refusals are gRPC
 * statuses with the pool's code in `ordo-error-code` and `ordo-retryable`; `GetBundleStatus` follows a
 * bundle from pending to committed (height and spans) and answers NOT_FOUND for an unknown one.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { bundleHash, bundleSignBytes, canonicalBundle } from '../../../src/codec/index.ts';
import { Ed25519Signer } from '../../../src/crypto/index.ts';
import { createBundlePool } from '../../../src/mempool/index.ts';
import { type AdapterServer, startAdapterServer } from '../../../src/rollup-adapter/server.ts';
import type { AdapterSource } from '../../../src/rollup-adapter/source.ts';
import { MemorySource } from '../../../src/rollup-adapter/testing/memory-source.ts';
import { type AdapterClient, loadAdapterService, type Wire } from '../../../src/rollup-adapter/wire.ts';
import type { Block, Bundle } from '../../../src/types.ts';

const enc = new TextEncoder();
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(source: AdapterSource): Promise<AdapterClient> {
  const s: AdapterServer = await startAdapterServer({ source });
  cleanups.push(() => s.close());
  const Ctor = loadAdapterService();
  const c = new Ctor(`127.0.0.1:${s.port}`, grpc.credentials.createInsecure()) as unknown as AdapterClient;
  cleanups.push(() => c.close());
  return c;
}

function call(c: AdapterClient, method: 'SubmitBundle' | 'GetBundleStatus', req: Wire): Promise<Wire> {
  return new Promise((resolve, reject) => {
    c[method](req, { deadline: Date.now() + 5000 }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

async function refusal(p: Promise<unknown>): Promise<{ code: number; ordo: string; retryable: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as grpc.ServiceError;
    return {
      code: err.code,
      ordo: String(err.metadata?.get('ordo-error-code')[0] ?? ''),
      retryable: String(err.metadata?.get('ordo-retryable')[0] ?? ''),
    };
  }
  throw new Error('expected a refusal');
}

/** A memory source with a real bundle pool behind SubmitBundle / GetBundleStatus. */
function setup(maxPerSigner = 100) {
  const src = new MemorySource();
  let height = 0;
  const pool = createBundlePool({
    chainId: src.chainId,
    rollups: src.rollups,
    height: () => height,
    limits: { maxPerSigner },
  });
  const source = Object.assign(src, {
    submitBundle: (b: Bundle) => pool.admit(b, 'rpc'),
    bundleStatus: (h: Uint8Array) => pool.status(h),
  });
  const commit = (b: Block['bundles']): void => {
    height++;
    pool.onCommit({ header: { height } as Block['header'], txs: [], bundles: b });
  };
  return { src, source, commit };
}

const legs = (tag: string) => [
  { namespace: 2, txs: [enc.encode(`${tag} b1`)] },
  { namespace: 1, txs: [enc.encode(`${tag} a1`), enc.encode(`${tag} a2`)] },
];

describe('bundles over the gRPC adapter', () => {
  it('submits a bundle, refuses the duplicate, and follows it from pending to committed', async () => {
    const { src, source, commit } = setup();
    const c = await serve(source);
    const res = await call(c, 'SubmitBundle', { legs: legs('one') });
    const domain = canonicalBundle({
      legs: legs('one').map((l) => ({ ...l, revertingTxHashes: [] })),
      atomicity: 'inclusion', // opaque rollups: the default is inclusion
      minHeight: 0,
      maxHeight: 0,
      replacementUuid: new Uint8Array(0),
      signer: new Uint8Array(0),
      signature: new Uint8Array(0),
    });
    const hash = bundleHash(src.chainId, domain);
    expect(Buffer.from(res.bundleHash as Uint8Array).equals(Buffer.from(hash))).toBe(true);

    expect(await refusal(call(c, 'SubmitBundle', { legs: legs('one') }))).toEqual({
      code: grpc.status.ALREADY_EXISTS,
      ordo: 'DUPLICATE',
      retryable: 'false',
    });

    expect((await call(c, 'GetBundleStatus', { bundleHash: hash })).status).toBe('BUNDLE_STATUS_PENDING');
    commit(
      domain.legs.map((l) => ({
        bundleHash: hash,
        namespace: l.namespace,
        start: 0,
        count: l.txs.length,
        atomicity: 2 as const,
        reverting: [],
      })),
    );
    const s = await call(c, 'GetBundleStatus', { bundleHash: hash });
    expect(s.status).toBe('BUNDLE_STATUS_COMMITTED');
    expect(s.height).toBe('1');
    expect((s.spans as Wire[]).map((x) => [x.namespace, x.count])).toEqual([
      [1, 2],
      [2, 1],
    ]);
    expect(s.outcome).toBe('BUNDLE_OUTCOME_NONE');

    expect(await refusal(call(c, 'GetBundleStatus', { bundleHash: new Uint8Array(32) }))).toMatchObject({
      code: grpc.status.NOT_FOUND,
      ordo: 'BUNDLE_UNKNOWN',
    });
    expect(await refusal(call(c, 'GetBundleStatus', { bundleHash: new Uint8Array(3) }))).toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
  });

  it('answers each bad input with INVALID_ARGUMENT and the pool code, and keeps what was admitted', async () => {
    const { source } = setup();
    const c = await serve(source);
    const kept = await call(c, 'SubmitBundle', { legs: legs('kept') });
    const bad = (req: Wire) => refusal(call(c, 'SubmitBundle', req));
    expect(await bad({ legs: [] })).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      ordo: 'BUNDLE_MALFORMED',
      retryable: 'false',
    });
    expect(await bad({ legs: [{ namespace: 9, txs: [enc.encode('x')] }] })).toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      ordo: 'UNKNOWN_NAMESPACE',
    });
    expect(await bad({ legs: legs('exec'), atomicity: 'BUNDLE_ATOMICITY_EXECUTION' })).toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      ordo: 'ATOMICITY_UNSUPPORTED',
    });
    const many = Array.from({ length: 101 }, (_, i) => enc.encode(`t${i}`));
    expect(await bad({ legs: [{ namespace: 1, txs: many }] })).toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      ordo: 'BUNDLE_TOO_LARGE',
    });
    const signer = new Ed25519Signer(new Uint8Array(32).fill(4));
    expect(
      await bad({ legs: legs('sig'), signer: signer.publicKey, signature: new Uint8Array(64) }),
    ).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, ordo: 'BAD_SIGNATURE' });
    expect(await bad({ legs: legs('uuid'), replacementUuid: new Uint8Array(16) })).toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      ordo: 'BUNDLE_MALFORMED',
    });
    const status = await call(c, 'GetBundleStatus', { bundleHash: kept.bundleHash });
    expect(status.status).toBe('BUNDLE_STATUS_PENDING');
  });

  it('accepts a signed bundle and answers RESOURCE_EXHAUSTED (retryable) when the signer bucket is full', async () => {
    const { src, source } = setup(1);
    const c = await serve(source);
    const signer = new Ed25519Signer(new Uint8Array(32).fill(5));
    const signedReq = (tag: string): Wire => {
      const b = canonicalBundle({
        legs: legs(tag).map((l) => ({ ...l, revertingTxHashes: [] })),
        atomicity: 'inclusion',
        minHeight: 0,
        maxHeight: 0,
        replacementUuid: new Uint8Array(0),
        signer: signer.publicKey,
        signature: new Uint8Array(0),
      });
      const signature = signer.sign(bundleSignBytes(bundleHash(src.chainId, b)));
      return { legs: legs(tag), signer: signer.publicKey, signature };
    };
    await call(c, 'SubmitBundle', signedReq('s1'));
    expect(await refusal(call(c, 'SubmitBundle', signedReq('s2')))).toEqual({
      code: grpc.status.RESOURCE_EXHAUSTED,
      ordo: 'BUNDLE_POOL_FULL',
      retryable: 'true',
    });
  });

  it('answers UNIMPLEMENTED on a node without a bundle pool', async () => {
    const c = await serve(new MemorySource());
    expect(await refusal(call(c, 'SubmitBundle', { legs: legs('x') }))).toMatchObject({
      code: grpc.status.UNIMPLEMENTED,
      ordo: 'BUNDLES_DISABLED',
    });
    expect(await refusal(call(c, 'GetBundleStatus', { bundleHash: new Uint8Array(32) }))).toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
  });
});
