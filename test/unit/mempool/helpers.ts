/**
 * Shared fixtures for the mempool unit tests: rollup configs, distinct transactions, a fake clock, a
 * seeded pseudo-random sequence.
 */
import type { RollupConfig } from '../../../src/config/genesis-types.ts';
import { createMempool, type MempoolOptions } from '../../../src/mempool/index.ts';
import type { TxEnvelope } from '../../../src/types.ts';

export function rollup(namespace: number, over: Partial<RollupConfig> = {}): RollupConfig {
  return {
    namespace,
    name: `r${namespace}`,
    kind: 'opaque',
    weight: 1,
    maxTxBytes: 1024,
    maxPendingTxs: 100,
    maxPendingBytes: 100 * 1024,
    ...over,
  };
}

let counter = 0;
/** A transaction with a unique payload of `size` bytes. */
export function tx(namespace: number, size = 32, tag?: string): TxEnvelope {
  const payload = new Uint8Array(size);
  const text = new TextEncoder().encode(tag ?? `tx-${counter++}`);
  payload.set(text.subarray(0, size));
  return { namespace, payload };
}

export function fakeClock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    advance(ms) {
      t += ms;
    },
  };
}

export function makePool(over: Partial<MempoolOptions> = {}) {
  const clock = fakeClock();
  const pool = createMempool({
    rollups: [rollup(1), rollup(2), rollup(3)],
    clock: clock.now,
    ...over,
    limits: { maxTotalTxs: 1000, maxTotalBytes: 1024 * 1024, ...over.limits },
  });
  return { pool, clock };
}

/** A transfer-style payload carrying sender and nonce in clear text, with the matching classifier. */
export function nonceTx(namespace: number, sender: string, nonce: number, extra = ''): TxEnvelope {
  return { namespace, payload: new TextEncoder().encode(`${sender}:${nonce}:${extra}`) };
}

export function classifyNonceTx(t: TxEnvelope): { sender: string; nonce: bigint } | { error: string } {
  const [sender, nonce] = new TextDecoder().decode(t.payload).split(':');
  if (!sender || nonce === undefined || !/^\d+$/.test(nonce)) return { error: 'bad transfer encoding' };
  return { sender, nonce: BigInt(nonce) };
}

/** Deterministic pseudo-random sequence (xorshift32) in [0, 1). */
export function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}
