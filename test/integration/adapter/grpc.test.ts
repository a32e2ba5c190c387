import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256 } from '../../../src/crypto/hash.ts';
import { AdapterError, VerificationError } from '../../../src/rollup-adapter/errors.ts';
import { OrdoRollupClient, type VerifiedBlock } from '../../../src/rollup-adapter/sdk/client.ts';
import { type AdapterServer, startAdapterServer } from '../../../src/rollup-adapter/server.ts';
import type { AdapterSource } from '../../../src/rollup-adapter/source.ts';
import { MemorySource } from '../../../src/rollup-adapter/testing/memory-source.ts';
import { type AdapterClient, loadAdapterService } from '../../../src/rollup-adapter/wire.ts';
import type { TxEnvelope } from '../../../src/types.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const tx = (namespace: number, s: string): TxEnvelope => ({ namespace, payload: enc.encode(s) });

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(
  source: AdapterSource,
  port = 0,
  limits = {},
  registry?: Registry,
): Promise<AdapterServer> {
  const s = await startAdapterServer({ source, port, limits, ...(registry ? { registry } : {}) });
  cleanups.push(() => s.close());
  return s;
}

function client(
  src: MemorySource,
  endpoints: string[],
  extra: Partial<ConstructorParameters<typeof OrdoRollupClient>[0]> = {},
) {
  const c = new OrdoRollupClient({
    endpoints,
    namespace: 1,
    chainId: src.chainId,
    validators: src.validators,
    backoff: { initialMs: 20, maxMs: 100 },
    ...extra,
  });
  cleanups.push(() => c.close());
  return c;
}

/** Produce blocks in the background until `until` blocks exist. */
function producer(src: MemorySource, until: number, everyMs = 5): () => void {
  const t = setInterval(() => {
    if (src.height() >= until) return clearInterval(t);
    const h = src.height() + 1;
    src.produceBlock(h % 3 === 0 ? [] : [tx(1, `a${h}`), tx(2, `b${h}`), tx(1, `c${h}`)]);
  }, everyMs);
  cleanups.push(() => clearInterval(t));
  return () => clearInterval(t);
}

async function take(c: OrdoRollupClient, n: number, onBlock?: (b: VerifiedBlock) => Promise<void> | void) {
  const out: VerifiedBlock[] = [];
  for await (const b of c) {
    out.push(b);
    await onBlock?.(b);
    if (out.length >= n) break;
  }
  return out;
}

describe('RollupAdapter over gRPC', () => {
  it('streams verified blocks and resumes across a node restart with no gaps or duplicates', async () => {
    const src = new MemorySource();
    for (let i = 0; i < 5; i++) src.produceBlock([tx(1, `pre${i}`)]);
    let server = await serve(src);
    const port = server.port;
    producer(src, 60);
    const c = client(src, [`127.0.0.1:${port}`]);
    let restarted = false;
    const blocks = await take(c, 60, async (b) => {
      if (b.height === 20 && !restarted) {
        restarted = true;
        await server.close();
        await new Promise((r) => setTimeout(r, 50));
        server = await serve(src, port);
      }
    });
    expect(restarted).toBe(true);
    expect(blocks.map((b) => b.height)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(dec.decode(blocks[0]!.transactions[0]!)).toBe('pre0');
    const b7 = blocks[6]!;
    expect(b7.transactions.map((t) => dec.decode(t))).toEqual(['a7', 'c7']);
    expect(blocks[8]!.transactions).toEqual([]); // height 9: no transactions, still delivered
    expect(c.nextHeight).toBe(61);
  });

  it('fails over to another node when one goes away', async () => {
    const src = new MemorySource();
    const a = await serve(src);
    const b = await serve(src);
    producer(src, 40);
    const c = client(src, [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]);
    const blocks = await take(c, 40, async (blk) => {
      if (blk.height === 10) await a.close();
    });
    expect(blocks.map((x) => x.height)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(c.endpoint).toBe(`127.0.0.1:${b.port}`);
  });

  it('fails over from a node stuck behind the chain after the idle timeout', async () => {
    const src = new MemorySource();
    for (let h = 1; h <= 10; h++) src.produceBlock([tx(1, `s${h}`)]);
    const stuck: AdapterSource = {
      chainId: src.chainId,
      validators: src.validators,
      rollups: src.rollups,
      height: () => Math.min(5, src.height()),
      onCommit: () => () => {},
      submit: (t) => src.submit(t),
      status: (h) => src.status(h),
      getCertifiedBlock: (h) => src.getCertifiedBlock(h),
    };
    const a = await serve(stuck);
    const b = await serve(src);
    const c = client(src, [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`], { idleTimeoutMs: 200 });
    const blocks = await take(c, 10);
    expect(blocks.map((x) => x.height)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(c.endpoint).toBe(`127.0.0.1:${b.port}`);
  });

  it('throws a VerificationError for a tampered slice, or fails over to an honest node', async () => {
    const src = new MemorySource();
    for (let h = 1; h <= 6; h++) src.produceBlock([tx(1, `x${h}`), tx(1, `y${h}`), tx(2, `z${h}`)]);
    // A lying node drops one of the rollup's transactions from block 3 (header and certificate intact).
    const liar: AdapterSource = {
      chainId: src.chainId,
      validators: src.validators,
      rollups: src.rollups,
      height: () => src.height(),
      onCommit: (l) => src.onCommit(l),
      submit: (t) => src.submit(t),
      status: (h) => src.status(h),
      getCertifiedBlock: async (h: number) => {
        const cb = await src.getCertifiedBlock(h);
        if (cb === undefined || h !== 3) return cb;
        return { ...cb, block: { ...cb.block, txs: cb.block.txs.slice(1) } };
      },
    };
    const bad = await serve(liar);
    const good = await serve(src);
    const c1 = client(src, [`127.0.0.1:${bad.port}`]);
    const err = await take(c1, 6).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VerificationError);
    expect((err as VerificationError).code).toBe('PROOF_INVALID');
    expect(c1.nextHeight).toBe(3);

    const c2 = client(src, [`127.0.0.1:${bad.port}`, `127.0.0.1:${good.port}`], { failoverOnInvalid: true });
    const blocks = await take(c2, 6);
    expect(blocks.map((b) => b.height)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(blocks[2]!.transactions.map((t) => dec.decode(t))).toEqual(['x3', 'y3']);
  });

  it('reports unknown namespaces and heights too far ahead as typed errors', async () => {
    const src = new MemorySource();
    src.produceBlock([]);
    const s = await serve(src, 0, { maxFutureBlocks: 10 });
    const ep = `127.0.0.1:${s.port}`;
    const e1 = await take(client(src, [ep], { namespace: 77 }), 1).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(AdapterError);
    expect((e1 as AdapterError).code).toBe('UNKNOWN_NAMESPACE');
    const e2 = await take(client(src, [ep], { fromHeight: 50 }), 1).catch((e: unknown) => e);
    expect((e2 as AdapterError).code).toBe('FROM_HEIGHT_TOO_FAR');
    // Within the bound the stream waits for the height to commit.
    const c = client(src, [ep], { fromHeight: 4 });
    const p = take(c, 1);
    for (let i = 0; i < 3; i++) src.produceBlock([tx(1, `late${i}`)]);
    expect((await p)[0]!.height).toBe(4);
  });

  it('keeps server memory bounded for a consumer that stops reading, then ends the stream resumably', async () => {
    const src = new MemorySource();
    const big = new Uint8Array(60 * 1024).fill(7);
    for (let h = 1; h <= 200; h++)
      src.produceBlock([
        { namespace: 1, payload: sha256(big, enc.encode(String(h))).map(() => h) },
        { namespace: 1, payload: big.map((_, i) => (i + h) & 0xff) },
      ]);
    const registry = new Registry();
    const s = await serve(
      src,
      0,
      {
        maxInFlightMessages: 4,
        maxInFlightBytes: 256 * 1024,
        stallTimeoutMs: 800,
      },
      registry,
    );
    const Ctor = loadAdapterService();
    const raw = new Ctor(`127.0.0.1:${s.port}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 8 << 20,
    }) as unknown as AdapterClient;
    cleanups.push(() => raw.close());
    const call = raw.StreamBlocks({ namespace: 1, fromHeight: '1' });
    cleanups.push(() => call.cancel());
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('error', () => {});
    await new Promise<void>((resolve) => call.once('data', () => resolve()));
    call.pause();
    // Wait until the server has filled its budget and stopped reading (on a loaded host that can take more
    // than a fixed 250 ms): two samples 150 ms apart that agree, at most 40 tries.
    let stalledAt = src.reads;
    for (let i = 0; i < 40; i++) {
      await new Promise((r) => setTimeout(r, 150));
      if (src.reads === stalledAt) break;
      stalledAt = src.reads;
    }
    await new Promise((r) => setTimeout(r, 250));
    // While the consumer does not read, the server reads nothing more: it holds only its in-flight
    // budget (4 messages / 256 KiB) plus what HTTP/2 flow control and the client's own buffer took.
    expect(src.reads).toBe(stalledAt);
    expect(stalledAt).toBeLessThan(40);
    // (The stream may already be gone here on a slow host: the stall timeout, 800 ms, ends it, below.)
    for (let i = 0; i < 60 && s.activeStreams() > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(s.activeStreams()).toBe(0);
    call.resume();
    const st = await status;
    expect(st.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(st.details).toMatch(/resume from height \d+/);
    expect(Number(st.metadata.get('ordo-resume-height')[0])).toBeGreaterThan(1);

    // The SDK turns the same cut-off into a transparent resume: a slow consumer still sees every block.
    const c = client(src, [`127.0.0.1:${s.port}`]);
    let slept = false;
    const blocks = await take(c, 200, async (b) => {
      if (b.height === 2 && !slept) {
        slept = true;
        await new Promise((r) => setTimeout(r, 1100));
      }
    });
    expect(blocks.map((b) => b.height)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const failed = await registry.getSingleMetric('ordo_adapter_streams_failed_total')!.get();
    const slow = failed.values.find((v) => v.labels.code === 'CONSUMER_TOO_SLOW');
    expect(slow?.value).toBe(2); // the raw call above, and the SDK's first stream
  });

  it('refuses streams past maxStreams with UNAVAILABLE and rejects malformed unary requests', async () => {
    const src = new MemorySource();
    src.produceBlock([]);
    const s = await serve(src, 0, { maxStreams: 1 });
    const Ctor = loadAdapterService();
    const raw = new Ctor(
      `127.0.0.1:${s.port}`,
      grpc.credentials.createInsecure(),
    ) as unknown as AdapterClient;
    cleanups.push(() => raw.close());
    const first = raw.StreamBlocks({ namespace: 1, fromHeight: '1' });
    cleanups.push(() => first.cancel());
    first.on('error', () => {});
    await new Promise<void>((resolve) => first.once('data', () => resolve()));
    const second = raw.StreamBlocks({ namespace: 1, fromHeight: '1' });
    const st = await new Promise<grpc.StatusObject>((resolve) => {
      second.on('error', () => {});
      second.on('status', resolve);
    });
    expect(st.code).toBe(grpc.status.UNAVAILABLE);
    const err = await new Promise<grpc.ServiceError | null>((resolve) =>
      raw.GetTransactionStatus({ txHash: Buffer.alloc(5) }, (e: grpc.ServiceError | null) => resolve(e)),
    );
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('submits transactions and reports status and commitment state', async () => {
    const src = new MemorySource();
    const s = await serve(src);
    const c = client(src, [`127.0.0.1:${s.port}`]);
    const r = await c.submitTransaction(enc.encode('hello'));
    expect(r.accepted).toBe(true);
    expect(await c.getTransactionStatus(r.txHash)).toEqual({ status: 'pending' });
    const dup = await c.submitTransaction(enc.encode('hello'));
    expect(dup).toMatchObject({ accepted: false, rejectCode: 'DUPLICATE' });
    const cb = src.produceBlock();
    expect(await c.getTransactionStatus(r.txHash)).toEqual({ status: 'committed', height: 1, index: 0 });
    const cs = await c.getCommitmentState();
    expect(cs.chainId).toBe(src.chainId);
    expect(cs.soft.height).toBe(1);
    expect(cs.soft.blockHash).toEqual(cb.certificate.blockHash);
    expect(cs.firm.height).toBe(0);
    expect(await c.getTransactionStatus(new Uint8Array(32))).toEqual({ status: 'unknown' });
  });
});
