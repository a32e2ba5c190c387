/**
 * The RPC server tells a handler whether it runs as an entry of a JSON-RPC batch (`ctx.batch`), so a
 * method may keep batch entries on the calling thread (eth_call with call workers, ADR 0205).
 */
import { describe, expect, it } from 'vitest';
import { RpcServer } from '../../../src/rpc/server.ts';

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
});
