import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { txHash } from '../../../src/codec/hashing.ts';
import { demoRollups, makeGenesis } from '../../../src/config/genesis.ts';
import type { ConsensusEngine } from '../../../src/consensus/types.ts';
import { toHex } from '../../../src/crypto/hash.ts';
import { createIngress } from '../../../src/ingress/index.ts';
import { type BundleStatusJson, WsBundleFeed } from '../../../src/loadgen/bundle-feed.ts';
import type { BundleStatus } from '../../../src/mempool/index.ts';
import type { AdmitResult, Mempool, TxStatus } from '../../../src/mempool/types.ts';
import { registerMethods } from '../../../src/rpc/methods.ts';
import { RpcServer } from '../../../src/rpc/server.ts';
import type { BlockStore } from '../../../src/store/types.ts';
import type { TxEnvelope } from '../../../src/types.ts';

const pending = new Map<string, TxEnvelope>();
let overloaded = false;
const mempool: Mempool = {
  add(tx): AdmitResult {
    if (overloaded)
      return { ok: false, code: 'OVERLOADED', message: 'node overloaded; retry later', retryable: true };
    const h = txHash(tx);
    pending.set(toHex(h), tx);
    return { ok: true, hash: h };
  },
  reap: () => [],
  update: () => {},
  status: (h): TxStatus => (pending.has(toHex(h)) ? { status: 'pending' } : { status: 'unknown' }),
  stats: () => ({ txs: pending.size, bytes: 0, lanes: [] }),
};
const store = {
  height: () => 0,
  getTxLocation: async () => undefined,
  getBlock: async () => undefined,
  getCertificate: async () => undefined,
} as unknown as BlockStore;
const consensus = {
  status: () => ({ height: 1, round: 0, step: 'propose', lastCommitMs: 0 }),
  evidence: async () => [],
  health: () => ({ ok: true }),
} as unknown as ConsensusEngine;

const heads = new Set<(h: number) => void>();
const bundleListeners = new Set<(s: BundleStatus) => void>();
const server = new RpcServer({
  host: '127.0.0.1',
  port: 0,
  maxBodyBytes: 4096,
  maxConnections: 64,
  maxBatchRequests: 10,
  requestTimeoutMs: 5000,
});
registerMethods(server, {
  genesis: makeGenesis({
    chainId: 'rpc-test',
    validators: [{ name: 'v', publicKey: 'ab'.repeat(32) }],
    rollups: demoRollups(),
  }),
  nodeId: 'n0',
  moniker: 'n0',
  mempool,
  store,
  consensus,
  peers: () => [],
  ingress: createIngress({ rollups: demoRollups(), mempool, gossip: { push: () => {} }, maxTxBytes: 1000 }),
  maxSubmitBatch: 5,
  onCommit: (l) => {
    heads.add(l);
    return () => heads.delete(l);
  },
  transferAccount: (ns, pk) =>
    ns !== 2 ? undefined : { balance: BigInt(pk[0]!) * 10n ** 20n, nonce: 3n, height: 9 },
  bundles: {
    status: () => undefined,
    subscribe: (_h, l) => {
      bundleListeners.add(l);
      return () => bundleListeners.delete(l);
    },
  },
});
let url = '';
beforeAll(async () => {
  await server.start();
  url = `http://127.0.0.1:${server.port}/`;
});
afterAll(async () => {
  await server.stop();
});

async function post(body: string): Promise<{ status: number; json: any }> {
  const r = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { status: r.status, json: await r.json() };
}
const call = (method: string, params: unknown) =>
  post(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }));

describe('JSON-RPC', () => {
  it('submits a transaction and reports it pending', async () => {
    const r = await call('ordo_submitTransaction', [{ namespace: 1, data: '0x0102' }]);
    expect(r.json.result.hash).toMatch(/^0x[0-9a-f]{64}$/);
    const s = await call('ordo_getTransactionStatus', [r.json.result.hash]);
    expect(s.json.result).toEqual({ status: 'pending' });
    const u = await call('ordo_getTransactionStatus', [`0x${'00'.repeat(32)}`]);
    expect(u.json.result).toEqual({ status: 'unknown' });
  });

  it('reads a transfer account (balance, nonce, executed height) and refuses other namespaces', async () => {
    const r = await call('ordo_getTransferAccount', [2, `0x07${'00'.repeat(31)}`]);
    expect(r.json.result).toEqual({ balance: '700000000000000000000', nonce: '3', height: 9 });
    expect((await call('ordo_getTransferAccount', [1, `0x${'00'.repeat(32)}`])).json.error.code).toBe(-32602);
    expect((await call('ordo_getTransferAccount', [2, '0x1234'])).json.error.code).toBe(-32602);
    expect((await call('ordo_getTransferAccount', [0, `0x${'00'.repeat(32)}`])).json.error.code).toBe(-32602);
  });

  it('answers -32700 for malformed JSON', async () => {
    const r = await post('{"jsonrpc": "2.0", ');
    expect(r.json.error.code).toBe(-32700);
    expect(r.json.error.message).toMatch(/parse error/);
  });

  it('answers -32600 for invalid requests and oversized bodies', async () => {
    expect((await post('42')).json.error.code).toBe(-32600);
    expect((await post('{"jsonrpc":"1.0","id":1,"method":"ordo_status"}')).json.error.message).toMatch(
      /"jsonrpc" must be "2.0"/,
    );
    expect((await post('[]')).json.error.code).toBe(-32600);
    const big = await call('ordo_submitTransaction', [{ namespace: 1, data: `0x${'00'.repeat(5000)}` }]);
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe(-32600);
    expect(big.json.error.message).toMatch(/exceeds 4096 bytes/);
    const batch = JSON.stringify(
      Array.from({ length: 11 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'ordo_status' })),
    );
    expect((await post(batch)).json.error.message).toMatch(/batch of 11 exceeds 10/);
  });

  it('answers -32601 for unknown methods', async () => {
    const r = await call('eth_mine', []);
    expect(r.json.error.code).toBe(-32601);
    expect(r.json.error.message).toMatch(/eth_mine/);
  });

  it('answers -32602 for bad params and unknown namespaces', async () => {
    const cases: unknown[] = [
      { x: 1 },
      [],
      [{ namespace: 99, data: '0x01' }],
      [{ namespace: 1, data: 'zz' }],
      [{ namespace: 1, data: '0x' }],
      [{ namespace: 1.5, data: '0x01' }],
      [{ namespace: 1, data: `0x${'00'.repeat(1001)}` }],
    ];
    for (const params of cases) {
      const r = await call('ordo_submitTransaction', params);
      expect(r.json.error.code, JSON.stringify(params)).toBe(-32602);
      expect(r.json.error.message.length).toBeGreaterThan(10);
    }
    expect((await call('ordo_getTransactionStatus', ['0x12'])).json.error.code).toBe(-32602);
    expect((await call('ordo_getBlock', [-1])).json.error.code).toBe(-32602);
    expect(
      (await call('ordo_submitTransaction', [{ namespace: 99, data: '0x01' }])).json.error.message,
    ).toMatch(/unknown namespace 99/);
  });

  it('submits many transactions in one call and lists refusals by index', async () => {
    const r = await call('ordo_submitTransactions', [
      [
        { namespace: 1, data: '0x0a01' },
        { namespace: 99, data: '0x01' },
        { namespace: 1, data: 'zz' },
        { namespace: 1, data: '0x0a02' },
      ],
    ]);
    const res = r.json.result;
    expect(res.accepted).toBe(2);
    expect(res.duplicates).toEqual([]);
    expect(res.rejected.map((x: { index: number; code: string }) => [x.index, x.code])).toEqual([
      [1, 'UNKNOWN_NAMESPACE'],
      [2, 'INVALID_PARAMS'],
    ]);
    expect(res.rejected[1].rpcCode).toBe(-32602);
    expect(res.rejected[1].message).toMatch(/0x-prefixed hex/);
    expect(res.hashes).toHaveLength(4);
    expect(res.hashes[0]).toMatch(/^0x[0-9a-f]{64}$/);
    expect(res.hashes[1]).toBeNull();
    const s = await call('ordo_getTransactionStatus', [res.hashes[3]]);
    expect(s.json.result).toEqual({ status: 'pending' });

    overloaded = true;
    const o = await call('ordo_submitTransactions', [[{ namespace: 1, data: '0x0a03' }], { hashes: false }]);
    overloaded = false;
    expect(o.json.result).toEqual({
      accepted: 0,
      duplicates: [],
      rejected: [
        {
          index: 0,
          code: 'OVERLOADED',
          rpcCode: -32003,
          message: 'node overloaded; retry later',
          retryable: true,
        },
      ],
    });
    const bad: unknown[] = [[], [[]], [{ namespace: 1 }], [[{ namespace: 1, data: '0x01' }], { hashes: 1 }]];
    for (const params of bad) {
      expect((await call('ordo_submitTransactions', params)).json.error.code, JSON.stringify(params)).toBe(
        -32602,
      );
    }
    const six = Array.from({ length: 6 }, (_, i) => ({ namespace: 1, data: `0x0b0${i}` }));
    expect((await call('ordo_submitTransactions', [six])).json.error.message).toMatch(/the limit is 5/);
  });

  it('answers a documented retryable error when overloaded, then keeps serving', async () => {
    overloaded = true;
    const r = await call('ordo_submitTransaction', [{ namespace: 1, data: '0x0909' }]);
    overloaded = false;
    expect(r.json.error.code).toBe(-32003);
    expect(r.json.error.data.retryable).toBe(true);
    const s = await call('ordo_status', []);
    expect(s.json.result.chainId).toBe('rpc-test');
  });

  it('serves batches and WebSocket calls with newHeads subscriptions', async () => {
    const b = await post(
      JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'ordo_status' },
        { jsonrpc: '2.0', id: 2, method: 'nope' },
      ]),
    );
    expect(b.json).toHaveLength(2);
    const ws = new WebSocket(url.replace('http', 'ws'));
    try {
      await new Promise((res, rej) => {
        ws.once('open', res);
        ws.once('error', rej);
      });
      const messages: any[] = [];
      ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
      ws.send('{bad');
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ordo_subscribe', params: ['newHeads'] }));
      for (let i = 0; i < 100 && messages.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(messages.find((m) => m.error?.code === -32700)).toBeDefined();
      const id = messages.find((m) => m.id === 7)?.result;
      expect(id).toMatch(/^0x[0-9a-f]{32}$/);
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'ordo_subscribe', params: ['newHeads'] }));
      for (let i = 0; i < 100 && messages.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
      const id2 = messages.find((m) => m.id === 8)?.result;
      expect(id2).not.toBe(id);
      for (const l of heads) l(5);
      for (let i = 0; i < 100 && messages.length < 5; i++) await new Promise((r) => setTimeout(r, 20));
      const notes = messages.filter((m) => m.method === 'ordo_subscription');
      expect(notes.map((m) => m.params.subscription).sort()).toEqual([id, id2].sort());
      expect(notes[0]).toMatchObject({ params: { result: { height: 5 } } });
      // unsubscribe one: only the other is notified
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ordo_unsubscribe', params: [id] }));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 10, method: 'ordo_unsubscribe', params: [id] }));
      for (let i = 0; i < 100 && messages.length < 7; i++) await new Promise((r) => setTimeout(r, 20));
      expect(messages.find((m) => m.id === 9)?.result).toBe(true);
      expect(messages.find((m) => m.id === 10)?.result).toBe(false);
      for (const l of heads) l(6);
      for (let i = 0; i < 100 && messages.length < 8; i++) await new Promise((r) => setTimeout(r, 20));
      const later = messages.filter((m) => m.method === 'ordo_subscription' && m.params.result.height === 6);
      expect(later.map((m) => m.params.subscription)).toEqual([id2]);
    } finally {
      ws.terminate();
    }
  });
  it('notifies bundleStatus subscribers of status changes over WebSocket', async () => {
    const ws = new WebSocket(url.replace('http', 'ws'));
    try {
      await new Promise((res, rej) => {
        ws.once('open', res);
        ws.once('error', rej);
      });
      const messages: any[] = [];
      ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
      ws.send(
        JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ordo_subscribe', params: ['bundleStatus', '0x12'] }),
      );
      const hash = `0x${'07'.repeat(32)}`;
      ws.send(
        JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ordo_subscribe', params: ['bundleStatus', hash] }),
      );
      for (let i = 0; i < 100 && messages.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(messages.find((m) => m.id === 1)?.error?.code).toBe(-32602);
      const id = messages.find((m) => m.id === 2)?.result;
      expect(id).toMatch(/^0x[0-9a-f]{32}$/);
      for (const l of bundleListeners) l({ status: 'dropped', reason: 'expired' });
      for (let i = 0; i < 100 && messages.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
      expect(messages.find((m) => m.method === 'ordo_subscription')).toMatchObject({
        params: { subscription: id, result: { status: 'dropped', reason: 'expired' } },
      });
    } finally {
      ws.terminate();
    }
  });

  it("the load's WsBundleFeed subscribes, hears status changes, sends requests and unsubscribes", async () => {
    const feed = new WsBundleFeed({ perConnection: 1 });
    try {
      const seen: BundleStatusJson[] = [];
      const unsub = await feed.subscribe(url, `0x${'08'.repeat(32)}`, (st) => seen.push(st));
      const unsub2 = await feed.subscribe(url, `0x${'09'.repeat(32)}`, () => {}); // a second connection
      const after = bundleListeners.size;
      expect(after).toBeGreaterThanOrEqual(2);
      for (const l of bundleListeners) l({ status: 'committed', height: 4 });
      for (let i = 0; i < 100 && seen.length < 1; i++) await new Promise((r) => setTimeout(r, 20));
      expect(seen[0]).toMatchObject({ status: 'committed', height: 4 });
      expect(await feed.request(url, 'ordo_getBundleStatus', [`0x${'08'.repeat(32)}`], 2000)).toBeNull();
      await expect(feed.request(url, 'ordo_getBundleStatus', ['0x12'], 2000)).rejects.toThrow(/bundleHash/);
      unsub();
      unsub2();
      for (let i = 0; i < 100 && bundleListeners.size > after - 2; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(bundleListeners.size).toBeLessThanOrEqual(after - 2);
    } finally {
      feed.close();
    }
  });
});
