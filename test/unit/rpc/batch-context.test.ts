/**
 * The RPC server tells a handler whether it runs as an entry of a JSON-RPC batch (`ctx.batch`), so a
 * method may keep batch entries on the calling thread (eth_call with call workers, ADR 0205).
 */
import { describe, expect, it } from 'vitest';
import { BATCH_WINDOW, concurrentInBatch, RpcServer } from '../../../src/rpc/server.ts';

describe('CallContext.batch', () => {
  it('is true for batch entries only', async () => {
    const server = new RpcServer({ host: '127.0.0.1', port: 0 });
    server.register('probe', (_p, ctx) => ctx.batch === true);
    const single = await server.handleText(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'probe' }), {});
    expect(single).toEqual({ jsonrpc: '2.0', id: 1, result: false });
    const batch = await server.handleText(
      JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'probe' },
        { jsonrpc: '2.0', id: 2, method: 'probe' },
      ]),
      {},
    );
    expect(batch).toEqual([
      { jsonrpc: '2.0', id: 1, result: true },
      { jsonrpc: '2.0', id: 2, result: true },
    ]);
    // the caller's own context is not changed
    const ctx = {};
    await server.handleText(JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'probe' }]), ctx);
    expect(ctx).toEqual({});
  });

  it('runs consecutive concurrentInBatch entries together, a window at a time, answers in order (ADR 0287)', async () => {
    const server = new RpcServer({ host: '127.0.0.1', port: 0 });
    let running = 0;
    let most = 0;
    const log: string[] = [];
    // Answers after a turn of the event loop: entries that run together overlap.
    const slow = (name: string) => async (p: unknown[]) => {
      running++;
      most = Math.max(most, running);
      log.push(`${name}:${p[0]}`);
      await new Promise<void>((r) => setImmediate(r));
      running--;
      return p[0];
    };
    server.register('read', concurrentInBatch(slow('read')));
    server.register('write', slow('write'));
    const req = (method: string, i: number) => ({ jsonrpc: '2.0', id: i, method, params: [i] });
    const n = BATCH_WINDOW * 2 + 3;
    const entries = [
      ...Array.from({ length: n }, (_, i) => req('read', i)),
      req('write', n),
      req('write', n + 1),
      req('read', n + 2),
    ];
    const out = (await server.handleText(JSON.stringify(entries), {})) as { id: number; result: number }[];
    expect(out.map((o) => o.result)).toEqual(entries.map((e) => e.id));
    expect(most).toBe(BATCH_WINDOW); // never more than one window at once
    // The plain method's entries ran one after another, each after every read before it.
    expect(log.indexOf(`write:${n}`)).toBe(n);
    expect(log.indexOf(`write:${n + 1}`)).toBe(n + 1);
  });

  it('stops at the answer budget with concurrent entries as with others', async () => {
    const server = new RpcServer({ host: '127.0.0.1', port: 0, maxResponseBytes: 2_000 });
    server.register(
      'big',
      concurrentInBatch(() => 'x'.repeat(300)),
    );
    const entries = Array.from({ length: 40 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'big' }));
    const out = (await server.handleText(JSON.stringify(entries), {})) as { error?: { message: string } };
    // 300-character answers: the budget passes at the 6th entry (as one at a time), inside the first window of 16.
    expect(out.error?.message).toMatch(/passed 2000 bytes \(rpc.maxResponseBytes\) at entry 6 of 40/);
  });
});
