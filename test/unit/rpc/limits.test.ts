/**
 * The JSON-RPC server's per-client limits in-process (the real-process attacks are in
 * test/e2e/limits.test.ts): response bytes per request and per batch, subscriptions per WebSocket,
 * requests in flight per WebSocket, connections per address, /health and /ready.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { inFlightRefusal, RpcServer } from '../../../src/rpc/server.ts';

let ran = 0;
const server = new RpcServer({
  host: '127.0.0.1',
  port: 0,
  maxResponseBytes: 20_000,
  maxBatchRequests: 1000,
  maxSubscriptionsPerConnection: 3,
  maxConnectionsPerAddress: 4,
  health: { live: () => ({ ok: true, checks: [] }), ready: () => ({ ok: false, failing: 'peers' }) },
});
server.register('big', () => {
  ran++;
  return 'x'.repeat(1000);
});
server.register('huge', () => 'x'.repeat(30_000));
server.register('sub', (_p, ctx) => ctx.subscriptions!.add(() => {}));
server.register('slow', () => new Promise((r) => setTimeout(() => r(1), 200)));

let url = '';
beforeAll(async () => {
  await server.start();
  url = `http://127.0.0.1:${server.port}/`;
});
afterAll(() => server.stop());

const post = async (body: unknown) => {
  const r = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as any };
};

/** From another loopback address (127.0.0.0/8 is all loopback), so fetch's pooled sockets do not count. */
function open(localAddress?: string): Promise<WebSocket> {
  const ws = new WebSocket(url.replace('http', 'ws'), localAddress === undefined ? {} : { localAddress });
  return new Promise((res, rej) => {
    ws.once('open', () => res(ws));
    ws.once('error', rej);
  });
}

describe('RPC limits', () => {
  it('stops a batch whose answer passes maxResponseBytes, without running the rest', async () => {
    ran = 0;
    const batch = Array.from({ length: 300 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'big' }));
    const r = await post(batch);
    expect(r.status).toBe(200);
    expect(r.json.error.code).toBe(-32005);
    expect(r.json.error.data.code).toBe('RESPONSE_TOO_LARGE');
    expect(r.json.error.message).toMatch(/rpc\.maxResponseBytes/);
    expect(ran).toBeLessThan(30);
    // a small batch still works
    const ok = await post(batch.slice(0, 5));
    expect(ok.json).toHaveLength(5);
  });

  it('refuses a single answer over the budget with a clear error', async () => {
    const r = await post({ jsonrpc: '2.0', id: 1, method: 'huge' });
    expect(r.json).toMatchObject({ id: 1, error: { code: -32005, data: { code: 'RESPONSE_TOO_LARGE' } } });
  });

  it('caps subscriptions per WebSocket', async () => {
    const ws = await open();
    try {
      const answers: any[] = [];
      ws.on('message', (d) => answers.push(JSON.parse(d.toString())));
      for (let i = 0; i < 5; i++) ws.send(JSON.stringify({ jsonrpc: '2.0', id: i, method: 'sub' }));
      for (let i = 0; i < 100 && answers.length < 5; i++) await new Promise((r) => setTimeout(r, 20));
      expect(answers.filter((a) => typeof a.result === 'string')).toHaveLength(3);
      const refused = answers.filter((a) => a.error !== undefined);
      expect(refused).toHaveLength(2);
      expect(refused[0].error).toMatchObject({ code: -32005, data: { code: 'TOO_MANY_SUBSCRIPTIONS' } });
    } finally {
      ws.terminate();
    }
  });

  it('refuses requests past rpc.maxWsRequestsInFlight with -32005 TOO_MANY_IN_FLIGHT under their own ids', async () => {
    const ws = await open();
    try {
      const answers: any[] = [];
      ws.on('message', (d) => answers.push(JSON.parse(d.toString())));
      // 64 (the default cap) stay in flight for 200 ms; the next ones are refused at once.
      for (let i = 0; i < 70; i++) ws.send(JSON.stringify({ jsonrpc: '2.0', id: `r${i}`, method: 'slow' }));
      for (let i = 0; i < 200 && answers.length < 70; i++) await new Promise((r) => setTimeout(r, 20));
      expect(answers).toHaveLength(70);
      const refused = answers.filter((a) => a.error !== undefined);
      expect(refused.length).toBeGreaterThanOrEqual(6);
      for (const a of refused) {
        expect(a.error).toMatchObject({ code: -32005, data: { code: 'TOO_MANY_IN_FLIGHT', max: 64 } });
        expect(a.id).toMatch(/^r[0-9]+$/);
      }
      // every request got exactly one answer under its id: a client waiting on an id is never left hanging
      expect(new Set(answers.map((a) => a.id)).size).toBe(70);
    } finally {
      ws.terminate();
    }
  });

  it('answers an in-flight refusal per request of a batch, none to notifications, id null to non-JSON', () => {
    const batch = JSON.parse(
      inFlightRefusal(
        JSON.stringify([
          { jsonrpc: '2.0', id: 1, method: 'a' },
          { jsonrpc: '2.0', method: 'b' },
          { jsonrpc: '2.0', id: 'x', method: 'c' },
        ]),
        'busy',
        2,
      )!,
    );
    expect(batch.map((a: any) => a.id)).toEqual([1, 'x']);
    expect(batch[0].error).toEqual({
      code: -32005,
      message: 'busy',
      data: { code: 'TOO_MANY_IN_FLIGHT', max: 2 },
    });
    expect(inFlightRefusal('{"jsonrpc":"2.0","method":"n"}', 'busy', 2)).toBeUndefined();
    expect(JSON.parse(inFlightRefusal('{not json', 'busy', 2)!).id).toBeNull();
  });

  it('refuses connections past the per-address cap and serves again once they close', async () => {
    const sockets: WebSocket[] = [];
    try {
      for (let i = 0; i < 4; i++) sockets.push(await open('127.0.0.3'));
      await expect(open('127.0.0.3')).rejects.toThrow();
      // another address is not affected
      sockets.push(await open('127.0.0.4'));
      sockets.shift()!.terminate();
      await new Promise((r) => setTimeout(r, 100));
      sockets.push(await open('127.0.0.3'));
    } finally {
      for (const s of sockets) s.terminate();
    }
    await new Promise((r) => setTimeout(r, 100));
    expect((await post({ jsonrpc: '2.0', id: 1, method: 'big' })).json.result).toHaveLength(1000);
  });

  it('answers /health (liveness) and /ready (readiness) with 200 or 503 and the reason', async () => {
    const h = await fetch(`${url}health`);
    expect(h.status).toBe(200);
    const r = await fetch(`${url}ready`);
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({ ok: false, failing: 'peers' });
    expect((await fetch(`${url}health?ready`)).status).toBe(503);
  });
});
