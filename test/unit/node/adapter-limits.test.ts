import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, validateConfig } from '../../../src/config/config.ts';
import { adapterStreamLimits } from '../../../src/node/adapter-limits.ts';
import { AdapterError } from '../../../src/rollup-adapter/errors.ts';
import { namespaceBlockStream } from '../../../src/rollup-adapter/stream.ts';
import { MemorySource } from '../../../src/rollup-adapter/testing/memory-source.ts';

async function refusal(p: Promise<unknown>): Promise<AdapterError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AdapterError);
  return err as AdapterError;
}

describe('the adapter stream limits from config grpc.*', () => {
  it('passes every grpc stream limit, maxFutureBlocks included', () => {
    const c = validateConfig({
      grpc: {
        maxStreams: 7,
        maxStreamsPerClient: 3,
        maxInFlightMessages: 2,
        stallTimeoutMs: 1500,
        maxFutureBlocks: 5,
      },
    });
    expect(adapterStreamLimits(c.grpc)).toEqual({
      maxStreams: 7,
      maxStreamsPerClient: 3,
      maxInFlightMessages: 2,
      stallTimeoutMs: 1500,
      maxFutureBlocks: 5,
    });
    expect(adapterStreamLimits(DEFAULT_CONFIG.grpc).maxFutureBlocks).toBe(1024);
  });

  it('a stream honours the configured maxFutureBlocks: waits up to it, OUT_OF_RANGE past it', async () => {
    const limits = adapterStreamLimits(validateConfig({ grpc: { maxFutureBlocks: 2 } }).grpc);
    const src = new MemorySource();
    src.produceBlock([]); // head 1
    const err = await refusal(
      namespaceBlockStream(src, { namespace: 1, fromHeight: 4 }, { limits })[Symbol.asyncIterator]().next(),
    );
    expect(err.code).toBe('FROM_HEIGHT_TOO_FAR');
    expect(err.data).toMatchObject({ fromHeight: 4, head: 1, maxFutureBlocks: 2 });
    // head + 2 is within the bound: the stream waits for it and serves it once committed.
    const ac = new AbortController();
    const it = namespaceBlockStream(src, { namespace: 1, fromHeight: 3 }, { limits, signal: ac.signal })[
      Symbol.asyncIterator
    ]();
    const first = it.next();
    src.produceBlock([]);
    src.produceBlock([]);
    expect((await first).value?.height).toBe(3);
    ac.abort();
    await it.return?.();
  });

  it('maxFutureBlocks 0: only committed heights', async () => {
    const limits = adapterStreamLimits(validateConfig({ grpc: { maxFutureBlocks: 0 } }).grpc);
    const src = new MemorySource();
    src.produceBlock([]);
    src.produceBlock([]);
    const it = namespaceBlockStream(src, { namespace: 2, fromHeight: 2 }, { limits })[Symbol.asyncIterator]();
    expect((await it.next()).value?.height).toBe(2);
    await it.return?.();
    const err = await refusal(
      namespaceBlockStream(src, { namespace: 2, fromHeight: 3 }, { limits })[Symbol.asyncIterator]().next(),
    );
    expect(err.code).toBe('FROM_HEIGHT_TOO_FAR');
  });
});
