import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createFeeMarket1559TxFromRLP } from '@ethereumjs/tx';
import { afterEach, describe, expect, it } from 'vitest';
import { demoEvmKey, evmAddress } from '../../../src/config/index.ts';
import {
  BlockFollower,
  chooseRollups,
  LoadGenerator,
  runLoad,
  summarize,
} from '../../../src/loadgen/index.ts';
import { Erc20Payloads, OpaquePayloads, TransferPayloads } from '../../../src/loadgen/payloads.ts';
import { WindowSamples } from '../../../src/loadgen/stats.ts';
import { FakeNode } from '../../../testnet/testing/fake-node.ts';

describe('percentiles', () => {
  it('uses nearest rank and handles empty input', () => {
    expect(summarize([])).toEqual({ count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 });
    const s = summarize(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(s.p50).toBe(50);
    expect(s.p90).toBe(90);
    expect(s.p99).toBe(99);
    expect(s.max).toBe(100);
    expect(s.mean).toBe(50.5);
  });
});

describe('window samples', () => {
  it('keeps only the window and at most maxSamples, newest first', () => {
    const w = new WindowSamples(1000, 4);
    w.add(100, 0);
    w.add(1, 1500);
    w.add(2, 1600);
    expect(w.summary(2000)).toMatchObject({ count: 2, max: 2 }); // the sample at t=0 is out of the window
    for (let i = 0; i < 10; i++) w.add(10 + i, 1700 + i);
    const s = w.summary(2000);
    expect(s.count).toBe(4); // the ring keeps the 4 newest
    expect(s.max).toBe(19);
    expect(s.p50).toBe(17);
  });
});

describe('payload sources', () => {
  it('opaque payloads are unique, sized, and reject sizes below 16', () => {
    const src = new OpaquePayloads(1, 200);
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const { payload } = src.next();
      expect(payload.byteLength).toBe(200);
      seen.add(Buffer.from(payload).toString('hex'));
    }
    expect(seen.size).toBe(1000);
    expect(() => new OpaquePayloads(1, 8)).toThrow(/>= 16/);
  });

  it('transfer payloads rewind a nonce on rejection so the resend is identical', () => {
    const src = new TransferPayloads(2, 2);
    const a0 = src.next();
    src.next();
    src.rejected(a0.tag, 'MEMPOOL_FULL');
    const again = src.next(); // account 0 again, nonce 0 again
    expect(Buffer.from(again.payload).equals(Buffer.from(a0.payload))).toBe(true);
  });
});

describe('ERC-20 payloads', () => {
  it('sign transfer(to, 1) calls to the token from the given accounts and start nonces', () => {
    const token = '0x00000000000000000000000000000000000000aa';
    const hot = '0x000000000000000000000000000000000000beef';
    const spread = new Erc20Payloads({
      namespace: 3,
      evmChainId: 900_001,
      token,
      accounts: [5, 9],
      startNonces: [7],
    });
    const contended = new Erc20Payloads({
      namespace: 4,
      evmChainId: 900_002,
      token,
      accounts: [5],
      hotRecipient: hot,
    });
    const txs = [spread.next(), spread.next(), contended.next()].map((x) => x.payload);
    expect(txs[0]![0]).toBe(0x02); // EIP-1559
    const hex = txs.map((t) => Buffer.from(t).toString('hex'));
    // transfer selector, recipient padded to 32 bytes, amount 1
    const to9 = evmAddress(demoEvmKey(9)).slice(2).toLowerCase();
    const to5 = evmAddress(demoEvmKey(5)).slice(2).toLowerCase();
    expect(hex[0]).toContain(`a9059cbb${to9.padStart(64, '0')}${'1'.padStart(64, '0')}`);
    expect(hex[1]).toContain(`a9059cbb${to5.padStart(64, '0')}`);
    expect(hex[2]).toContain(`a9059cbb${'beef'.padStart(64, '0')}`);
    expect(hex[0]).toContain(token.slice(2));
    const common = (chainId: number) =>
      createCustomCommon({ chainId }, Mainnet, { hardfork: Hardfork.Prague });
    const decoded = txs.map((t, i) =>
      createFeeMarket1559TxFromRLP(t, { common: common(i < 2 ? 900_001 : 900_002) }),
    );
    expect(decoded.map((t) => t.nonce)).toEqual([7n, 0n, 0n]);
    expect(decoded[2]!.getSenderAddress().toString()).toBe(evmAddress(demoEvmKey(5)).toLowerCase());
  });
});

describe('chooseRollups', () => {
  const reg = [
    { namespace: 1, kind: 'opaque' as const },
    { namespace: 2, kind: 'transfer' as const },
    { namespace: 4, kind: 'opaque' as const },
  ];
  it('defaults to every opaque rollup and rejects unknown namespaces', () => {
    expect(chooseRollups(reg, undefined, 1).map((r) => r.namespace)).toEqual([1, 4]);
    expect(() => chooseRollups(reg, [9], 1)).toThrow(/not in the network's registry/);
  });
});

describe('open-loop load against fake nodes', () => {
  const nodes: FakeNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
  });

  it('offers the fixed rate, matches commits by hash and counts rejections by reason', async () => {
    const a = new FakeNode({ blockMs: 50 });
    const b = new FakeNode({ blockMs: 50, rejectEvery: 10 });
    nodes.push(a, b);
    await Promise.all(nodes.map((n) => n.start()));
    const progress: { offered: number; committed: number; rate: number }[] = [];
    const r = await runLoad({
      urls: [a.url, b.url],
      rate: 400,
      durationSec: 1,
      sizeBytes: 64,
      drainMs: 2000,
      progressMs: 200,
      onProgress: (l) =>
        progress.push({ offered: l.offered, committed: l.committed, rate: l.committedTxPerSec }),
    });
    expect(r.namespaces).toEqual([1]);
    expect(r.offered).toBeGreaterThan(300);
    expect(r.sent + r.notSent).toBe(r.offered);
    expect(r.rejected.MEMPOOL_FULL).toBeGreaterThan(0);
    expect(r.accepted + (r.rejected.MEMPOOL_FULL ?? 0)).toBe(r.sent);
    // Only node a's follower view is used: b's accepted txs never appear in a's blocks.
    expect(r.committedTxs).toBe(r.perTarget[0]!.accepted);
    expect(r.latencyMs.count).toBe(r.committedTxs);
    expect(r.latencyMs.p99).toBeGreaterThanOrEqual(0);
    expect(progress.length).toBeGreaterThan(0);
    // The live commit rate counts the commits seen so far (all within its 5 s window here).
    const last = progress[progress.length - 1]!;
    expect(last.committed).toBeGreaterThan(0);
    expect(last.rate).toBeGreaterThan(0);
    expect(progress.every((p) => p.rate === 0 || p.committed > 0)).toBe(true);
  });

  it('falls back to JSON-RPC batches for a node without ordo_submitTransactions', async () => {
    const a = new FakeNode({ blockMs: 50, rejectEvery: 7, legacySubmitOnly: true });
    nodes.push(a);
    await a.start();
    const r = await runLoad({ urls: [a.url], rate: 300, durationSec: 1, sizeBytes: 64, drainMs: 2000 });
    expect(r.sent).toBeGreaterThan(200);
    expect(r.rejected.MEMPOOL_FULL).toBeGreaterThan(0);
    // The first -32601 answer switches the target to JSON-RPC batches and that share is resent: none lost.
    expect(r.rejected.RPC_METHOD_NOT_FOUND ?? 0).toBe(0);
    expect(r.accepted + (r.rejected.MEMPOOL_FULL ?? 0)).toBe(r.sent);
    expect(r.committedTxs).toBe(r.accepted);
  });

  it('submits binary batches to POST /ordo/v1/tx-batch and matches their commits by hash', async () => {
    const a = new FakeNode({ blockMs: 50, rejectEvery: 9 });
    nodes.push(a);
    await a.start();
    const r = await runLoad({
      urls: [a.url],
      rate: 300,
      durationSec: 1,
      sizeBytes: 64,
      drainMs: 2000,
      binary: true,
    });
    expect(r.sent).toBeGreaterThan(200);
    expect(a.binarySubmissions).toBe(r.sent);
    expect(r.rejected.MEMPOOL_FULL).toBeGreaterThan(0);
    expect(r.accepted + (r.rejected.MEMPOOL_FULL ?? 0)).toBe(r.sent);
    expect(r.committedTxs).toBe(r.accepted);
  });

  it('falls back to JSON-RPC for a node without the binary batch route', async () => {
    const a = new FakeNode({ blockMs: 50, binaryBatch: false });
    nodes.push(a);
    await a.start();
    const r = await runLoad({
      urls: [a.url],
      rate: 300,
      durationSec: 1,
      sizeBytes: 64,
      drainMs: 2000,
      binary: true,
    });
    expect(r.sent).toBeGreaterThan(200);
    expect(a.binarySubmissions).toBe(0);
    // The 404 switches the target to JSON-RPC and that share is resent: none lost.
    expect(r.accepted).toBe(r.sent);
    expect(r.committedTxs).toBe(r.accepted);
  });

  it('counts an unreachable target and keeps loading the others', async () => {
    const a = new FakeNode({ blockMs: 50 });
    nodes.push(a);
    await a.start();
    const r = await runLoad({
      urls: [a.url, 'http://127.0.0.1:1'],
      rollups: [{ namespace: 1, kind: 'opaque' }],
      rate: 200,
      durationSec: 1,
      sizeBytes: 32,
      drainMs: 1000,
    });
    expect(r.rejected.UNREACHABLE).toBeGreaterThan(0);
    expect(r.perTarget[0]!.committed).toBeGreaterThan(100);
  });

  it('splits the offered load by weight', async () => {
    const a = new FakeNode({ blockMs: 50 });
    nodes.push(a);
    await a.start();
    const follower = new BlockFollower({ urls: [a.url], fromHeight: 0 });
    await follower.start();
    const gen = new LoadGenerator({
      urls: [a.url],
      rate: 400,
      durationSec: 1,
      drainMs: 1000,
      sources: [new OpaquePayloads(1, 32), new OpaquePayloads(4, 32)],
      weights: [3, 1],
      follower,
    });
    await gen.run();
    follower.stop();
    const per = new Map<number, number>();
    for (const b of a.blocks) for (const t of b.txs) per.set(t.namespace, (per.get(t.namespace) ?? 0) + 1);
    const n1 = per.get(1) ?? 0;
    const n4 = per.get(4) ?? 0;
    expect(n1 + n4).toBeGreaterThan(300);
    expect(Math.abs(n1 - 3 * n4)).toBeLessThanOrEqual(4);
  });

  it('reports per payload source and hands every measured commit to onCommit', async () => {
    const a = new FakeNode({ blockMs: 50 });
    nodes.push(a);
    await a.start();
    const follower = new BlockFollower({ urls: [a.url], fromHeight: 0 });
    await follower.start();
    const events: { source: number; target: number; height: number; lat: number }[] = [];
    const gen = new LoadGenerator({
      urls: [a.url],
      rate: 400,
      durationSec: 1,
      drainMs: 1000,
      sources: [new OpaquePayloads(1, 32), new OpaquePayloads(4, 32)],
      weights: [1, 1],
      follower,
      onCommit: (c) =>
        events.push({ source: c.source, target: c.target, height: c.height, lat: c.observedAt - c.sentAt }),
    });
    const r = await gen.run();
    follower.stop();
    expect(r.perSource.map((s) => s.namespace)).toEqual([1, 4]);
    expect(r.perSource[0]!.sent + r.perSource[1]!.sent).toBe(r.sent);
    expect(r.perSource[0]!.accepted + r.perSource[1]!.accepted).toBe(r.accepted);
    expect(r.perSource[0]!.committedInWindow + r.perSource[1]!.committedInWindow).toBe(r.committedInWindow);
    expect(events.length).toBe(r.committedTxs);
    expect(events.filter((e) => e.source === 1).length).toBe(r.perSource[1]!.latencyMs.count);
    expect(events.every((e) => e.target === 0 && e.height > 0 && e.lat >= 0)).toBe(true);
  });

  it('leaves the warm-up out of the report', async () => {
    const a = new FakeNode({ blockMs: 50 });
    nodes.push(a);
    await a.start();
    const r = await runLoad({
      urls: [a.url],
      rollups: [{ namespace: 1, kind: 'opaque' }],
      rate: 200,
      warmupSec: 1,
      durationSec: 1,
      sizeBytes: 32,
      drainMs: 1000,
    });
    expect(r.warmupSec).toBe(1);
    expect(r.offered).toBeGreaterThan(150);
    expect(r.offered).toBeLessThan(300);
    expect(r.committedTxs).toBe(r.accepted);
    expect(r.durationSec).toBeLessThan(1.6);
  });

  it('the follower hands over blocks in height order with an observed time', async () => {
    const a = new FakeNode({ blockMs: 30 });
    nodes.push(a);
    await a.start();
    const f = new BlockFollower({ urls: [a.url], pollMs: 50, fromHeight: 0 });
    const heights: number[] = [];
    f.onBlock((blk) => {
      expect(blk.observedAt).toBeGreaterThan(0);
      heights.push(blk.height);
    });
    await f.start();
    for (let i = 0; i < 50 && heights.length < 5; i++) await new Promise((r) => setTimeout(r, 50));
    f.stop();
    expect(heights.length).toBeGreaterThanOrEqual(5);
    expect(heights).toEqual(heights.map((_, i) => i + 1));
  });
});
