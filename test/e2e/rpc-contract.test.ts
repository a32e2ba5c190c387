/**
 * The node's public API contract tried from outside: docs/rpc.md (JSON-RPC over HTTP and WebSocket, the
 * binary `POST /ordo/v1/tx-batch`), the API parts of docs/bundles.md and docs/auction.md, and the byte
 * layouts of docs/wire.md that a client needs (transaction hash, bundle hash, cancel and bid signatures).
 * One real `ordo` process on 127.0.0.1; the test talks to it only with fetch, WebSocket and raw bytes,
 * builds protobuf from proto/ with protobufjs at run time, and hashes and signs with node:crypto — never
 * with the node's own code — so that what it checks is what an outside client written from the docs
 * would see. Every documented method is called; every documented error shape is asserted.
 */

import { execFile, spawnSync } from 'node:child_process';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  initLoopbackHome,
  killAll,
  killNode,
  REPO,
  type RunningNode,
  startNode,
  waitFor,
} from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordo-e2e-rpc-contract-'));
let node: RunningNode;
let url = '';
let chainId = '';

/** Lowered so the limits are reached with little traffic (docs/operating.md "Limits"). */
const MAX_BODY = 2 * 1024 * 1024;
const MAX_RESPONSE = 256 * 1024;
const MAX_SUBS = 3;
const MAX_BATCH = 1000;

// ------------------------------------------------------------------ protobuf from proto/, at run time

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(REPO, 'proto', target);
root.loadSync(['ordo/v1/tx.proto', 'ordo/v1/auction.proto'], { keepCase: true });
const TxBatch = root.lookupType('ordo.v1.TxBatch');
const AuctionTx = root.lookupType('ordo.v1.AuctionTx');

function txBatch(txs: { namespace: number; payload: Uint8Array }[]): Uint8Array {
  return TxBatch.encode(TxBatch.fromObject({ txs })).finish();
}

// ------------------------------------------------------------------ bytes, hashes and keys (node:crypto)

const hex = (b: Uint8Array): string => `0x${Buffer.from(b).toString('hex')}`;
const unhex = (s: string): Buffer => Buffer.from(s.slice(2), 'hex');
const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const u8 = (n: number): Buffer => Buffer.from([n]);
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
const lp = (b: Uint8Array): Buffer => Buffer.concat([u32(b.byteLength), b]);
const ascii = (s: string): Buffer => Buffer.from(s, 'utf8');

/** docs/rpc.md "Transaction hash": sha256(u32be(namespace) || data). */
const txHashOf = (namespace: number, data: Uint8Array): string => hex(sha256(u32(namespace), data));

/** An ed25519 key pair as raw bytes: 32-byte public key and a signer over messages. */
function keyPair(seed?: Uint8Array): { publicKey: Buffer; sign: (m: Uint8Array) => Buffer } {
  const privateKey =
    seed === undefined
      ? generateKeyPairSync('ed25519').privateKey
      : // RFC 8410 PKCS#8 wrapping of a raw 32-byte ed25519 seed
        createPrivateKey({
          key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]),
          format: 'der',
          type: 'pkcs8',
        });
  const raw = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(-32);
  return { publicKey: Buffer.from(raw), sign: (m) => sign(null, m, privateKey) };
}

/** A fresh opaque payload (namespace 1 never executes it). */
const payload = (size = 16): Buffer => randomBytes(size);

/** docs/wire.md "Bundles": bundle_hash over the canonical body. */
function bundleHashOf(b: {
  atomicity: 1 | 2;
  minHeight?: number;
  maxHeight?: number;
  uuid?: Buffer;
  signer?: Buffer;
  legs: { namespace: number; txs: Buffer[]; reverting?: Buffer[] }[];
}): Buffer {
  const legs = [...b.legs].sort((x, y) => x.namespace - y.namespace);
  return sha256(
    ascii('ordo/bundle/v1'),
    lp(ascii(chainId)),
    u8(b.atomicity),
    u64(b.minHeight ?? 0),
    u64(b.maxHeight ?? 0),
    lp(b.uuid ?? Buffer.alloc(0)),
    lp(b.signer ?? Buffer.alloc(0)),
    u32(legs.length),
    ...legs.flatMap((l) => {
      const rev = [...(l.reverting ?? [])].sort(Buffer.compare);
      return [u32(l.namespace), u32(l.txs.length), ...l.txs.map(lp), u32(rev.length), ...rev];
    }),
  );
}

/** docs/wire.md "The namespaced Merkle tree": root commitment over (namespace, leafHash) leaves. */
function nmtRoot(leaves: { ns: number; hash: Buffer }[]): Buffer {
  type N = { min: number; max: number; hash: Buffer };
  const build = (lo: number, hi: number): N => {
    if (hi - lo === 1) {
      const l = leaves[lo]!;
      return { min: l.ns, max: l.ns, hash: sha256(u8(0), u32(l.ns), l.hash) };
    }
    let k = 1;
    while (k * 2 < hi - lo) k *= 2;
    const L = build(lo, lo + k);
    const R = build(lo + k, hi);
    return {
      min: Math.min(L.min, R.min),
      max: Math.max(L.max, R.max),
      hash: sha256(u8(1), u32(L.min), u32(L.max), L.hash, u32(R.min), u32(R.max), R.hash),
    };
  };
  const root = leaves.length === 0 ? { min: 0, max: 0, hash: sha256() } : build(0, leaves.length);
  return sha256(u32(root.min), u32(root.max), root.hash);
}

/** docs/wire.md "data_hash": from an `ordo_getBlock` answer alone. */
function dataHashOf(block: {
  txs: { namespace: number; hash: string }[];
  bundles: {
    bundleHash: string;
    namespace: number;
    start: number;
    count: number;
    atomicity: number;
    reverting: number[];
  }[];
}): string {
  const txsRoot = nmtRoot(block.txs.map((t) => ({ ns: t.namespace, hash: unhex(t.hash) })));
  const spansRoot = nmtRoot(
    block.bundles.map((b) => ({
      ns: b.namespace,
      hash: sha256(
        ascii('ordo/span/v2'),
        unhex(b.bundleHash),
        u32(b.namespace),
        u32(b.start),
        u32(b.count),
        u8(b.atomicity),
        u32(b.reverting.length),
        ...b.reverting.map(u32),
      ),
    })),
  );
  return hex(sha256(ascii('ordo/data/v1'), txsRoot, u32(block.bundles.length), spansRoot));
}

// ------------------------------------------------------------------ transport

interface RpcAnswer {
  jsonrpc: '2.0';
  id: string | number | null;
  result?: any;
  error?: { code: number; message: string; data?: any };
}

async function post(
  body: string | Uint8Array,
  path = '/',
  type = 'application/json',
): Promise<{ status: number; headers: Headers; text: string }> {
  const r = await fetch(`${url}${path}`, { method: 'POST', body, headers: { 'content-type': type } });
  return { status: r.status, headers: r.headers, text: await r.text() };
}

async function call(method: string, params?: unknown, id: number | string = 1): Promise<RpcAnswer> {
  const r = await post(
    JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }),
  );
  expect(r.status).toBe(200);
  return JSON.parse(r.text) as RpcAnswer;
}

async function result(method: string, params: unknown[] = []): Promise<any> {
  const a = await call(method, params);
  if (a.error !== undefined) throw new Error(`${method}: ${JSON.stringify(a.error)}`);
  return a.result;
}

/** The error of a call, checked against docs/rpc.md: code, a message naming what was wrong, data.code. */
async function refused(
  method: string,
  params: unknown,
  code: number,
  message: RegExp,
  dataCode?: string,
): Promise<RpcAnswer['error']> {
  const a = await call(method, params);
  expect(a.result, `${method} ${JSON.stringify(params)} answered a result`).toBeUndefined();
  expect(a.error?.code, `${method} ${JSON.stringify(params)}: ${a.error?.message}`).toBe(code);
  expect(a.error?.message).toMatch(message);
  if (dataCode !== undefined) expect(a.error?.data?.code).toBe(dataCode);
  return a.error;
}

function openWs(path = '/'): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}${path}`);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** A WebSocket client: requests by id, notifications collected per subscription. */
function wsClient(ws: WebSocket) {
  const waiting = new Map<string | number | null, (a: RpcAnswer) => void>();
  const notes: { subscription: string; result: any }[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString()) as RpcAnswer & { method?: string; params?: any };
    if (m.method === 'ordo_subscription') notes.push(m.params);
    else waiting.get(m.id ?? null)?.(m);
  });
  let next = 1;
  return {
    notes,
    call(method: string, params: unknown[] = []): Promise<RpcAnswer> {
      const id = next++;
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no answer to ${method} over WebSocket`)), 15_000);
        waiting.set(id, (a) => {
          clearTimeout(t);
          waiting.delete(id);
          resolve(a);
        });
      });
    },
    raw(): Promise<RpcAnswer> {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no answer over WebSocket')), 15_000);
        waiting.set(null, (a) => {
          clearTimeout(t);
          waiting.delete(null);
          resolve(a);
        });
      });
    },
  };
}

const committed = (hash: string) =>
  waitFor(
    `${hash} committed`,
    async () => {
      const s = await result('ordo_getTransactionStatus', [hash]);
      return s.status === 'committed' ? s : undefined;
    },
    30_000,
  );

// ------------------------------------------------------------------ node

beforeAll(async () => {
  const home = join(dir, 'home');
  const init = initLoopbackHome(home, {
    logLevel: 'warn',
    edit: (cfg) => {
      Object.assign(cfg.rpc!, {
        maxBodyBytes: MAX_BODY,
        maxResponseBytes: MAX_RESPONSE,
        maxSubscriptionsPerConnection: MAX_SUBS,
        maxBatchRequests: MAX_BATCH,
      });
    },
  });
  expect(init.status, init.stderr).toBe(0);
  node = await startNode(home, { ORDO_ADMIN_RPC: '1' }, 60_000);
  url = node.rpcUrl;
  chainId = (await result('ordo_status')).chainId;
  await waitFor('height 2', async () => ((await result('ordo_status')).height >= 2 ? true : undefined));
}, 90_000);

afterAll(async () => {
  if (node !== undefined) await killNode(node, 'SIGTERM');
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

// ------------------------------------------------------------------ the tests

describe('every documented method is served', () => {
  it('no method of the docs/rpc.md table answers -32601', async () => {
    const doc = readFileSync(join(REPO, 'docs', 'rpc.md'), 'utf8');
    const methods = [...doc.matchAll(/^\| `(ordo_[A-Za-z_]+)` \|/gm)].map((m) => m[1]!);
    expect(methods.length).toBeGreaterThanOrEqual(22);
    for (const m of methods) {
      const a = await call(m, []);
      expect(a.error?.code, `${m}: ${a.error?.message}`).not.toBe(-32601);
    }
  });
});

describe('JSON-RPC envelope (docs/rpc.md "Errors")', () => {
  it('answers -32700 for a body that is not JSON, with id null', async () => {
    for (const body of ['not json', '', '{"jsonrpc":"2.0",']) {
      const r = await post(body);
      expect(r.status).toBe(200);
      const a = JSON.parse(r.text) as RpcAnswer;
      expect(a).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
      expect(a.error!.message).toMatch(/parse error/);
    }
  });

  it('answers -32600 for what is not a JSON-RPC 2.0 request, saying which field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ jsonrpc: '1.0', id: 1, method: 'ordo_status' }, /"jsonrpc" must be "2.0"/],
      [{ id: 1, method: 'ordo_status' }, /"jsonrpc" must be "2.0"/],
      [{ jsonrpc: '2.0', id: 1, method: 7 }, /"method" must be a string/],
      [{ jsonrpc: '2.0', id: {}, method: 'ordo_status' }, /"id" must be a string, number or null/],
      [42, /expected a JSON-RPC object/],
    ];
    for (const [body, msg] of cases) {
      const a = JSON.parse((await post(JSON.stringify(body))).text) as RpcAnswer;
      expect(a.error?.code, JSON.stringify(body)).toBe(-32600);
      expect(a.error?.message).toMatch(msg);
    }
  });

  it('answers -32601 naming an unknown method, and -32602 for params that are not an array', async () => {
    await refused('ordo_noSuchMethod', [], -32601, /ordo_noSuchMethod/);
    await refused('ordo_status', { a: 1 }, -32602, /positional/);
    // params left out are an empty array
    expect((await call('ordo_status')).result.chainId).toBe(chainId);
  });

  it('keeps string ids, and answers nothing (204) to a notification', async () => {
    expect((await call('ordo_status', [], 'abc')).id).toBe('abc');
    const r = await post(JSON.stringify({ jsonrpc: '2.0', method: 'ordo_status', params: [] }));
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
  });

  it('answers a batch entry by entry, with a content-length, and refuses empty or oversized batches', async () => {
    const r = await post(
      JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'ordo_status', params: [] },
        { jsonrpc: '2.0', id: 2, method: 'ordo_nope', params: [] },
        { jsonrpc: '2.0', method: 'ordo_status', params: [] },
        { jsonrpc: '2.0', id: 3, method: 'ordo_getBlock', params: ['soon'] },
        'x',
      ]),
    );
    expect(r.status).toBe(200);
    expect(Number(r.headers.get('content-length'))).toBe(Buffer.byteLength(r.text));
    const out = JSON.parse(r.text) as RpcAnswer[];
    expect(out.map((a) => [a.id, a.error?.code ?? 'ok'])).toEqual([
      [1, 'ok'],
      [2, -32601],
      [3, -32602],
      [null, -32600],
    ]);
    const empty = JSON.parse((await post('[]')).text) as RpcAnswer;
    expect(empty.error).toMatchObject({ code: -32600, message: expect.stringMatching(/empty batch/) });
    const many = Array.from({ length: MAX_BATCH + 1 }, (_, i) => ({
      jsonrpc: '2.0',
      id: i,
      method: 'ordo_status',
    }));
    const over = JSON.parse((await post(JSON.stringify(many))).text) as RpcAnswer;
    expect(over.error).toMatchObject({ code: -32600, message: expect.stringMatching(/maxBatchRequests/) });
  });

  it('answers HTTP 413 with -32600 for a body over rpc.maxBodyBytes', async () => {
    const big = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'ordo_submitTransaction',
      params: [{ namespace: 1, data: `0x${'ab'.repeat(MAX_BODY)}` }],
    });
    const r = await post(big);
    expect(r.status).toBe(413);
    const a = JSON.parse(r.text) as RpcAnswer;
    expect(a.error).toMatchObject({ code: -32600, message: expect.stringMatching(/rpc\.maxBodyBytes/) });
  });

  it('answers -32005 RESPONSE_TOO_LARGE when a batch answer passes rpc.maxResponseBytes', async () => {
    const many = Array.from({ length: 800 }, (_, i) => ({
      jsonrpc: '2.0',
      id: i,
      method: 'ordo_status',
      params: [],
    }));
    const a = JSON.parse((await post(JSON.stringify(many))).text) as RpcAnswer;
    expect(a.error?.code).toBe(-32005);
    expect(a.error?.data?.code).toBe('RESPONSE_TOO_LARGE');
    expect(a.error?.message).toMatch(/rpc\.maxResponseBytes/);
  });

  it('serves GET /health, /ready and /metrics, and refuses other paths and verbs with a clear answer', async () => {
    for (const p of ['/health', '/ready']) {
      const r = await fetch(`${url}${p}`);
      expect(r.status).toBe(200);
      expect(((await r.json()) as { ok: boolean }).ok).toBe(true);
    }
    const m = await fetch(`${url}/metrics`);
    expect(m.status).toBe(200);
    expect(await m.text()).toMatch(/^ordo_ingress_submitted_total/m);
    expect((await fetch(`${url}/nothing-here`)).status).toBe(404);
    expect((await fetch(`${url}/`, { method: 'PUT', body: '{}' })).status).toBe(405);
    // JSON-RPC is POST / (and /evm/<namespace> for EVM rollups): another path is not silently served
    const other = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ordo_status' }), '/rpc');
    expect(other.status).toBe(404);
    const noRollup = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId' }), '/evm/99');
    expect(noRollup.status).toBe(404);
    expect(noRollup.text).toMatch(/\/evm\/99/);
  });
});

describe('transactions', () => {
  it('the documented hash example holds, and a submission answers that hash', async () => {
    // docs/rpc.md: namespace 1, data 0x01020304
    expect(txHashOf(1, Buffer.from([1, 2, 3, 4]))).toBe(
      '0xca670b674e6e9446029dd72810721a7d12ba18df86bc70e26021c1894a3a11e1',
    );
    const data = payload();
    const r = await result('ordo_submitTransaction', [{ namespace: 1, data: hex(data) }]);
    expect(r).toEqual({ hash: txHashOf(1, data) });
    const again = await result('ordo_submitTransaction', [{ namespace: 1, data: hex(data) }]);
    expect(again).toEqual({ hash: txHashOf(1, data), duplicate: true });
    const s = await committed(r.hash);
    expect(s).toEqual({ status: 'committed', height: expect.any(Number), index: expect.any(Number) });
    const block = await waitFor(
      'the block',
      async () => (await result('ordo_getBlock', [s.height])) ?? undefined,
    );
    expect(block.txs[s.index]).toEqual({ index: s.index, namespace: 1, hash: r.hash, data: hex(data) });
    const lean = await result('ordo_getBlock', [s.height, false]);
    expect(lean.txs[s.index]).toEqual({ index: s.index, namespace: 1, hash: r.hash, size: data.byteLength });
    // committed, so a resubmission is still a duplicate with the same hash
    expect(await result('ordo_submitTransaction', [{ namespace: 1, data: hex(data) }])).toEqual({
      hash: r.hash,
      duplicate: true,
    });
  });

  it('refuses malformed submissions with -32602 saying what was wrong', async () => {
    const s = 'ordo_submitTransaction';
    await refused(s, [], -32602, /expected \[\{namespace/);
    await refused(s, ['0x01'], -32602, /expected \[\{namespace/);
    await refused(s, [{ namespace: '1', data: '0x01' }], -32602, /namespace must be an integer/);
    await refused(s, [{ namespace: 1, data: '0102' }], -32602, /data must be a 0x-prefixed hex/);
    await refused(s, [{ namespace: 1, data: '0x123' }], -32602, /even number of digits/);
    await refused(s, [{ namespace: 1, data: '0xzz' }], -32602, /data must be a 0x-prefixed hex/);
    await refused(s, [{ namespace: 1 }], -32602, /data must be/);
    await refused(s, [{ namespace: 0, data: '0x01' }], -32602, /1\.\.4294967295/, 'INVALID_NAMESPACE');
    await refused(s, [{ namespace: 1.5, data: '0x01' }], -32602, /integer/, 'INVALID_NAMESPACE');
    await refused(s, [{ namespace: 2 ** 32, data: '0x01' }], -32602, /integer/, 'INVALID_NAMESPACE');
    await refused(s, [{ namespace: 99, data: '0x01' }], -32602, /99/, 'UNKNOWN_NAMESPACE');
    await refused(s, [{ namespace: 1, data: '0x' }], -32602, /empty/, 'EMPTY_TX');
    const big = `0x${'00'.repeat(128 * 1024 + 1)}`;
    await refused(s, [{ namespace: 1, data: big }], -32602, /131073 bytes/, 'TX_TOO_LARGE');
  });

  it('ordo_submitTransactions admits each on its own and lists refusals by index', async () => {
    const a = payload();
    const b = payload();
    await result('ordo_submitTransaction', [{ namespace: 1, data: hex(b) }]);
    const r = await result('ordo_submitTransactions', [
      [
        { namespace: 1, data: hex(a) },
        { namespace: 1, data: hex(b) },
        { namespace: 99, data: '0x01' },
        { namespace: 1, data: 'nope' },
        null,
      ],
    ]);
    expect(r.accepted).toBe(2);
    expect(r.duplicates).toEqual([1]);
    expect(r.hashes).toEqual([txHashOf(1, a), txHashOf(1, b), null, null, null]);
    expect(r.rejected).toEqual([
      {
        index: 2,
        code: 'UNKNOWN_NAMESPACE',
        rpcCode: -32602,
        message: expect.stringMatching(/99/),
        retryable: false,
      },
      {
        index: 3,
        code: 'INVALID_PARAMS',
        rpcCode: -32602,
        message: expect.stringMatching(/data/),
        retryable: false,
      },
      {
        index: 4,
        code: 'INVALID_PARAMS',
        rpcCode: -32602,
        message: expect.stringMatching(/namespace/),
        retryable: false,
      },
    ]);
    const lean = await result('ordo_submitTransactions', [
      [{ namespace: 1, data: hex(payload()) }],
      { hashes: false },
    ]);
    expect(lean).toEqual({ accepted: 1, duplicates: [], rejected: [] });
    const t = 'ordo_submitTransactions';
    await refused(t, [], -32602, /expected \[\[/);
    await refused(t, [[]], -32602, /no transactions/);
    await refused(
      t,
      [[{ namespace: 1, data: '0x01' }], { hashes: 'yes' }],
      -32602,
      /hashes must be a boolean/,
    );
    await refused(t, [[{ namespace: 1, data: '0x01' }], 5], -32602, /second param/);
    const tooMany = Array.from({ length: MAX_BATCH + 1 }, () => ({ namespace: 1, data: '0x01' }));
    await refused(t, [tooMany], -32602, /1001 transactions in one call; the limit is 1000/);
  });

  it('ordo_getTransactionStatus and ordo_getBlock answer the documented shapes and errors', async () => {
    expect(await result('ordo_getTransactionStatus', [hex(Buffer.alloc(32, 0xee))])).toEqual({
      status: 'unknown',
    });
    await refused('ordo_getTransactionStatus', ['0x12'], -32602, /hash must be a 0x-prefixed 32-byte/);
    await refused('ordo_getTransactionStatus', [], -32602, /hash/);
    const latest = await result('ordo_getBlock', ['latest']);
    expect(Object.keys(latest).sort()).toEqual(['bundles', 'certificate', 'hash', 'header', 'height', 'txs']);
    expect(Object.keys(latest.header).sort()).toEqual(
      [
        'auctionHash',
        'chainId',
        'dataHash',
        'height',
        'lastCommitHash',
        'parentHash',
        'proposer',
        'resultsHash',
        'round',
        'timeMs',
        'txCount',
      ].sort(),
    );
    expect(latest.header.chainId).toBe(chainId);
    expect(latest.certificate).toMatchObject({ height: latest.height, blockHash: latest.hash });
    expect(await result('ordo_getBlock', [10 ** 9])).toBeNull();
    await refused('ordo_getBlock', [0], -32602, /positive integer or "latest"/);
    await refused('ordo_getBlock', [1.5], -32602, /positive integer or "latest"/);
    await refused('ordo_getBlock', ['1'], -32602, /positive integer or "latest"/);
    await refused('ordo_getBlock', [1, 'no'], -32602, /must be a boolean/);
    await refused('ordo_getBlock', [10 ** 9, 'no'], -32602, /must be a boolean/);
  });

  it('ordo_status, ordo_getTransferAccount and ordo_getEvidence answer the documented shapes', async () => {
    const s = await result('ordo_status');
    for (const k of [
      'chainId',
      'nodeId',
      'moniker',
      'height',
      'round',
      'step',
      'validators',
      'peers',
      'mempool',
      'rollups',
    ])
      expect(s, k).toHaveProperty(k);
    expect(s.mempool.backlogLimit).toEqual(expect.any(Number));
    // the nested shapes docs/rpc.md gives
    expect(s.peers).toEqual(expect.any(Number));
    for (const v of s.validators) expect(Object.keys(v).sort()).toEqual(['name', 'publicKey', 'votingPower']);
    expect(s.validators[0].publicKey).toMatch(/^0x[0-9a-f]{64}$/);
    expect(s.mempool).toMatchObject({ txs: expect.any(Number), bytes: expect.any(Number) });
    for (const l of s.mempool.lanes) expect(Object.keys(l).sort()).toEqual(['bytes', 'namespace', 'txs']);
    for (const r of s.rollups)
      expect(r).toMatchObject({ namespace: expect.any(Number), name: expect.any(String) });
    const evm = s.rollups.find((r: { kind: string }) => r.kind === 'evm');
    expect(evm.ethRpc).toBe(`/evm/${evm.namespace}`);
    expect(evm.evmChainId).toEqual(expect.any(Number));
    const transfer = s.rollups.find((r: { kind: string }) => r.kind === 'transfer').namespace;
    const opaque = s.rollups.find((r: { kind: string }) => r.kind === 'opaque').namespace;
    const a = await result('ordo_getTransferAccount', [transfer, hex(keyPair().publicKey)]);
    expect(a).toEqual({ balance: '0', nonce: '0', height: expect.any(Number) });
    const g = 'ordo_getTransferAccount';
    await refused(g, [opaque, hex(Buffer.alloc(32))], -32602, /not a transfer rollup/);
    await refused(g, [transfer, '0x12'], -32602, /32-byte ed25519 public key/);
    await refused(g, [0, hex(Buffer.alloc(32))], -32602, /namespace must be an integer/);
    expect(await result('ordo_getEvidence')).toEqual([]);
  });

  it('ordo_admin_setBlockedPeers (ORDO_ADMIN_RPC=1) answers the blocked list and refuses bad params', async () => {
    expect(await result('ordo_admin_setBlockedPeers', [[]])).toEqual({ blocked: [] });
    await refused('ordo_admin_setBlockedPeers', ['peer'], -32602, /peerIds/);
  });
});

describe('POST /ordo/v1/tx-batch (protobuf TxBatch from proto/ordo/v1/tx.proto)', () => {
  const PATH = '/ordo/v1/tx-batch';
  const send = async (body: Uint8Array, type = 'application/x-protobuf') => {
    const r = await post(body, PATH, type);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    return { status: r.status, json: JSON.parse(r.text) };
  };

  it('answers 200 with accepted, duplicates and per-index refusals, and the hashes a client computes', async () => {
    const a = payload();
    const b = payload();
    const r = await send(
      txBatch([
        { namespace: 1, payload: a },
        { namespace: 1, payload: a },
        { namespace: 99, payload: Buffer.from([1]) },
        { namespace: 1, payload: b },
        { namespace: 0, payload: Buffer.from([1]) },
        { namespace: 1, payload: Buffer.alloc(0) },
      ]),
    );
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      accepted: 3,
      duplicates: [1],
      rejected: [
        { index: 2, code: 'UNKNOWN_NAMESPACE', message: expect.stringMatching(/99/), retryable: false },
        {
          index: 4,
          code: 'INVALID_NAMESPACE',
          message: expect.stringMatching(/namespace/),
          retryable: false,
        },
        { index: 5, code: 'EMPTY_TX', message: expect.stringMatching(/empty/), retryable: false },
      ],
    });
    await committed(txHashOf(1, b));
    // octet-stream is accepted too
    const o = await send(txBatch([{ namespace: 1, payload: payload() }]), 'application/octet-stream');
    expect(o).toEqual({ status: 200, json: { accepted: 1, duplicates: [], rejected: [] } });
  });

  it('answers 400 with a codec code, admitting nothing, for a body that is not a valid batch', async () => {
    const before = payload();
    const cases: [Uint8Array, string][] = [
      [Buffer.from([0xff, 0xff, 0xff, 0xff]), 'DECODE_MALFORMED'],
      [new Uint8Array(0), 'DECODE_EMPTY'],
      [
        txBatch(Array.from({ length: MAX_BATCH + 1 }, (_, i) => ({ namespace: 1, payload: u32(i) }))),
        'DECODE_INVALID_FIELD',
      ],
      [
        txBatch([
          { namespace: 1, payload: before },
          { namespace: 1, payload: Buffer.alloc(128 * 1024 + 1, 1) },
        ]),
        'DECODE_TOO_LARGE',
      ],
      [
        txBatch(
          Array.from({ length: 12 }, (_, i) => ({ namespace: 1, payload: Buffer.alloc(100_000, i + 1) })),
        ),
        'DECODE_TOO_LARGE',
      ],
    ];
    for (const [body, code] of cases) {
      const r = await send(body);
      expect(r.status, code).toBe(400);
      expect(r.json).toEqual({ error: { code, message: expect.any(String) } });
      expect(r.json.error.message.length).toBeGreaterThan(10);
    }
    expect((await result('ordo_getTransactionStatus', [txHashOf(1, before)])).status).toBe('unknown');
  });

  it('answers 413 over rpc.maxBodyBytes and 415 for another content type', async () => {
    const big = await send(Buffer.alloc(MAX_BODY + 1, 0x0a));
    expect(big.status).toBe(413);
    expect(big.json).toEqual({
      error: { code: 'BODY_TOO_LARGE', message: expect.stringMatching(/rpc\.maxBodyBytes/) },
    });
    const json = await send(txBatch([{ namespace: 1, payload: payload() }]), 'application/json');
    expect(json.status).toBe(415);
    expect(json.json).toEqual({
      error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.stringMatching(/application\/x-protobuf/) },
    });
  });
});

describe('WebSocket', () => {
  it('serves the same methods; subscriptions notify, cap, and unsubscribe as documented', async () => {
    const ws = await openWs();
    try {
      const c = wsClient(ws);
      expect((await c.call('ordo_status')).result.chainId).toBe(chainId);
      const sub = await c.call('ordo_subscribe', ['newHeads']);
      expect(sub.result).toMatch(/^0x[0-9a-f]{32}$/);
      const head = await waitFor('a newHeads notification', async () =>
        c.notes.find((n) => n.subscription === sub.result),
      );
      expect(head.result).toEqual({ height: expect.any(Number) });
      const auction = await c.call('ordo_subscribe', ['auction']);
      expect(auction.result).toMatch(/^0x[0-9a-f]{32}$/);
      const slot = await waitFor('an auction notification', async () =>
        c.notes.find((n) => n.subscription === auction.result),
      );
      expect(slot.result).toMatchObject({ height: expect.any(Number), enabled: true, bids: [], winners: [] });
      const bundle = await c.call('ordo_subscribe', ['bundleStatus', hex(Buffer.alloc(32, 1))]);
      expect(bundle.result).toMatch(/^0x[0-9a-f]{32}$/);
      expect(new Set([sub.result, auction.result, bundle.result]).size).toBe(3);
      const over = await c.call('ordo_subscribe', ['newHeads']);
      expect(over.error).toMatchObject({ code: -32005, data: { code: 'TOO_MANY_SUBSCRIPTIONS' } });
      expect((await c.call('ordo_subscribe', ['oldHeads'])).error?.code).toBe(-32602);
      expect((await c.call('ordo_subscribe', ['bundleStatus', '0x12'])).error?.code).toBe(-32602);
      expect((await c.call('ordo_unsubscribe', [sub.result])).result).toBe(true);
      expect((await c.call('ordo_unsubscribe', [sub.result])).result).toBe(false);
      expect((await c.call('ordo_unsubscribe', [])).error?.code).toBe(-32602);
      const waiting = c.raw();
      ws.send(Buffer.from([1, 2, 3]), { binary: true });
      expect((await waiting).error).toMatchObject({ code: -32600, message: expect.stringMatching(/binary/) });
      const parse = c.raw();
      ws.send('{');
      expect((await parse).error?.code).toBe(-32700);
    } finally {
      ws.close();
    }
  });

  it('closes a socket whose frame passes rpc.maxBodyBytes (1009), and refuses an unserved path (404)', async () => {
    const ws = await openWs();
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send(`"${'x'.repeat(MAX_BODY)}"`);
    expect(await closed).toBe(1009);
    const status = await new Promise<number>((resolve, reject) => {
      const bad = new WebSocket(`${url.replace('http', 'ws')}/evm/99`);
      bad.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        bad.terminate();
      });
      bad.once('open', () => reject(new Error('upgraded on /evm/99')));
      bad.once('error', () => {});
    });
    expect(status).toBe(404);
  });

  it('subscriptions over HTTP are refused with the documented code', async () => {
    await refused('ordo_subscribe', ['newHeads'], -32600, /WebSocket/);
    await refused('ordo_unsubscribe', ['0x00'], -32600, /WebSocket/);
    // whatever the params: the transport is what is wrong
    await refused('ordo_subscribe', ['bundleStatus', '0x12'], -32600, /WebSocket/);
    await refused('ordo_subscribe', ['nope'], -32600, /WebSocket/);
    await refused('ordo_unsubscribe', [], -32600, /WebSocket/);
  });
});

describe('bundles (docs/rpc.md "Bundles", hash from docs/wire.md)', () => {
  it('sends a bundle whose hash a client computes, follows it to committed, and shows its span in the block', async () => {
    const tx = payload(12);
    const r = await result('ordo_sendBundle', [{ legs: [{ namespace: 1, txs: [hex(tx)] }] }]);
    // an opaque leg: the default atomicity is inclusion (2)
    expect(r).toEqual({
      bundleHash: hex(bundleHashOf({ atomicity: 2, legs: [{ namespace: 1, txs: [tx] }] })),
    });
    const st = await waitFor('bundle committed', async () => {
      const s = await result('ordo_getBundleStatus', [r.bundleHash]);
      return s?.status === 'committed' ? s : undefined;
    });
    expect(st.height).toEqual(expect.any(Number));
    const block = await waitFor(
      'the bundle block',
      async () => (await result('ordo_getBlock', [st.height])) ?? undefined,
    );
    expect(block.bundles).toContainEqual(
      expect.objectContaining({ bundleHash: r.bundleHash, namespace: 1, atomicity: 2, reverting: [] }),
    );
    // the header's data_hash is recomputed from the answer alone (docs/wire.md "data_hash")
    expect(dataHashOf(block)).toBe(block.header.dataHash);
    const empty = await result('ordo_getBlock', [1]);
    expect(dataHashOf(empty)).toBe(empty.header.dataHash);
    expect(block.txs.map((t: { hash: string }) => t.hash)).toContain(txHashOf(1, tx));
    expect(await result('ordo_getBundleStatus', [hex(Buffer.alloc(32, 0xab))])).toBeNull();
  });

  it('a transfer bundle built from docs/executor.md is executed and pre-confirmed by a signature docs/wire.md verifies', async () => {
    const st0 = await result('ordo_status');
    const ns = st0.rollups.find((r: { kind: string }) => r.kind === 'transfer').namespace;
    // docs/executor.md "transfer": version 1 || from || to || u64 amount || u64 fee || u64 nonce, then an
    // ed25519 signature over "ordo/transfer/v1" || u32be(namespace) || those 89 bytes. A fresh account
    // sending 0 with fee 0 at nonce 0 succeeds without funds.
    const from = keyPair();
    const body = Buffer.concat([u8(1), from.publicKey, keyPair().publicKey, u64(0), u64(0), u64(0)]);
    const tx = Buffer.concat([body, from.sign(Buffer.concat([ascii('ordo/transfer/v1'), u32(ns), body]))]);
    expect(tx.byteLength).toBe(153);
    // every leg executed: the default atomicity is execution (1); a transfer's gas is 1 (docs/executor.md)
    const hash = hex(bundleHashOf({ atomicity: 1, legs: [{ namespace: ns, txs: [tx] }] }));
    expect(await result('ordo_sendBundle', [{ legs: [{ namespace: ns, txs: [hex(tx)] }] }])).toEqual({
      bundleHash: hash,
    });
    const st = await waitFor('bundle pre-confirmed', async () => {
      const s = await result('ordo_getBundleStatus', [hash]);
      return s?.preconfirmation !== undefined ? s : undefined;
    });
    expect(st).toMatchObject({
      status: 'committed',
      execution: {
        outcome: 'applied',
        legs: [{ namespace: ns, receipts: [{ index: expect.any(Number), status: 'success', gasUsed: '1' }] }],
      },
    });
    const p = st.preconfirmation;
    expect(Object.keys(p).sort()).toEqual(
      ['blockHash', 'bundleHash', 'chainId', 'height', 'legs', 'outcome', 'signature', 'signer'].sort(),
    );
    expect(p).toMatchObject({ chainId, bundleHash: hash, height: st.height, outcome: 'applied' });
    const block = await result('ordo_getBlock', [st.height, false]);
    expect(p.blockHash).toBe(block.hash);
    // a validator node signs with its genesis key
    expect(st0.validators.map((v: { publicKey: string }) => v.publicKey)).toContain(p.signer);
    // docs/wire.md preconf_bytes, signed as they are (not hashed first)
    const preconfBytes = Buffer.concat([
      ascii('ordo/preconf/v1'),
      lp(ascii(chainId)),
      unhex(p.bundleHash),
      u64(p.height),
      unhex(p.blockHash),
      u8(p.outcome === 'applied' ? 1 : 2),
      u32(p.legs.length),
      ...p.legs.flatMap((l: { namespace: number; stateRoot: string; receiptsRoot: string }) => [
        u32(l.namespace),
        unhex(l.stateRoot),
        unhex(l.receiptsRoot),
      ]),
    ]);
    const signerKey = createPublicKey({
      key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), unhex(p.signer)]),
      format: 'der',
      type: 'spki',
    });
    expect(verify(null, preconfBytes, signerKey, unhex(p.signature))).toBe(true);
    preconfBytes[preconfBytes.length - 1]! ^= 1;
    expect(verify(null, preconfBytes, signerKey, unhex(p.signature))).toBe(false);
    // certified once height + 2 commits to the results
    await waitFor('bundle certified', async () =>
      (await result('ordo_getBundleStatus', [hash]))?.certified === true ? true : undefined,
    );
  });

  // The same contract from another language: test/e2e/clients/docs_client.py (Python 3, standard library
  // only) builds its hashes from docs/rpc.md and docs/wire.md. Skipped where no python3 is installed.
  const hasPython = spawnSync('python3', ['--version']).status === 0;
  it.skipIf(!hasPython)('a Python client written from the docs alone agrees on every hash', async () => {
    const script = join(REPO, 'test', 'e2e', 'clients', 'docs_client.py');
    const { stdout } = await promisify(execFile)('python3', [script, `${url}/`], { timeout: 60_000 });
    expect(stdout).toMatch(/^ok: tx hash, bundle hash, span and data_hash/);
  });

  it('replaces and cancels a signed bundle with signatures made from docs/wire.md', async () => {
    const k = keyPair();
    const uuid = '6f1c2a4e-8b3d-4c5e-9f60-7a8b9c0d1e2f';
    const uuidBytes = Buffer.from(uuid.replaceAll('-', ''), 'hex');
    const tx = payload(12);
    const head = (await result('ordo_status')).height;
    const minHeight = head + 1000; // stays pending: cancellable
    const hash = bundleHashOf({
      atomicity: 2,
      minHeight,
      uuid: uuidBytes,
      signer: k.publicKey,
      legs: [{ namespace: 1, txs: [tx] }],
    });
    const signature = k.sign(Buffer.concat([ascii('ordo/bundle-sig/v1'), hash]));
    const bundle = {
      legs: [{ namespace: 1, txs: [hex(tx)] }],
      atomicity: 'inclusion',
      minHeight,
      replacementUuid: uuid,
      signer: hex(k.publicKey),
      signature: hex(signature),
    };
    expect(await result('ordo_sendBundle', [bundle])).toEqual({ bundleHash: hex(hash) });
    expect((await result('ordo_getBundleStatus', [hex(hash)])).status).toBe('pending');
    // a bad signature is refused for good (-32001 BAD_SIGNATURE)
    await refused(
      'ordo_sendBundle',
      [{ ...bundle, minHeight: minHeight + 1 }],
      -32001,
      /signature/,
      'BAD_SIGNATURE',
    );
    // the same signer and UUID with another body replaces it; the answer names the bundle it replaced
    const tx2 = payload(13);
    const hash2 = bundleHashOf({
      atomicity: 2,
      minHeight,
      uuid: uuidBytes,
      signer: k.publicKey,
      legs: [{ namespace: 1, txs: [tx2] }],
    });
    const bundle2 = {
      ...bundle,
      legs: [{ namespace: 1, txs: [hex(tx2)] }],
      signature: hex(k.sign(Buffer.concat([ascii('ordo/bundle-sig/v1'), hash2]))),
    };
    expect(await result('ordo_sendBundle', [bundle2])).toEqual({
      bundleHash: hex(hash2),
      replaced: hex(hash),
    });
    expect(await result('ordo_getBundleStatus', [hex(hash)])).toMatchObject({
      status: 'dropped',
      reason: 'replaced',
    });
    const cancelSig = k.sign(
      Buffer.concat([ascii('ordo/bundle-cancel/v1'), lp(ascii(chainId)), lp(uuidBytes)]),
    );
    const c = await result('ordo_cancelBundle', [
      { replacementUuid: uuid, signer: hex(k.publicKey), signature: hex(cancelSig) },
    ]);
    expect(c).toEqual({ cancelled: [hex(hash2)] });
    expect(await result('ordo_getBundleStatus', [hex(hash2)])).toMatchObject({
      status: 'dropped',
      reason: 'cancelled',
    });
  });

  it('refuses malformed bundles with -32602 naming the field, and pool refusals with their codes', async () => {
    const s = 'ordo_sendBundle';
    const leg = { namespace: 1, txs: ['0x0a01'] };
    const bad = async (p: unknown, msg: RegExp, code = 'BUNDLE_MALFORMED') => {
      const e = await refused(s, [p], -32602, msg, code);
      expect(e?.data?.retryable).toBe(false);
    };
    await bad(undefined, /expected \[\{legs/);
    await bad({ legs: [] }, /legs must be a non-empty array/);
    await bad({ legs: [leg, { namespace: 2, txs: ['0x0'] }] }, /legs\[1\]\.txs\[0\]/);
    await bad({ legs: [{ namespace: 1, txs: [] }] }, /legs\[0\]\.txs must be a non-empty array/);
    await bad({ legs: [leg, { ...leg }] }, /appears in two legs/);
    await bad({ legs: [leg], atomicity: 'all' }, /atomicity must be "execution" or "inclusion"/);
    await bad({ legs: [leg], minHeight: -1 }, /minHeight must be a non-negative integer/);
    await bad({ legs: [leg], replacementUuid: 'x' }, /replacementUuid must be a UUID/);
    await bad(
      { legs: [leg], replacementUuid: '6f1c2a4e-8b3d-4c5e-9f60-7a8b9c0d1e2f' },
      /replacementUuid needs a signed bundle/,
    );
    await bad({ legs: [leg], signer: '0x12', signature: hex(Buffer.alloc(64)) }, /signer must be 32 bytes/);
    await bad({ legs: [leg], signer: hex(Buffer.alloc(32)) }, /signer and signature/);
    await bad(
      { legs: Array.from({ length: 17 }, (_, i) => ({ namespace: i + 1, txs: ['0x01'] })) },
      /limit is 16/,
      'BUNDLE_TOO_LARGE',
    );
    await bad(
      { legs: [{ namespace: 1, txs: Array.from({ length: 101 }, () => '0x01') }] },
      /more than 100/,
      'BUNDLE_TOO_LARGE',
    );
    await bad({ legs: [{ namespace: 77, txs: ['0x01'] }] }, /77/, 'UNKNOWN_NAMESPACE');
    await bad({ legs: [leg], atomicity: 'execution' }, /opaque/, 'ATOMICITY_UNSUPPORTED');
    await bad(
      { legs: [{ ...leg, revertingTxHashes: [hex(Buffer.alloc(32, 1))] }] },
      /not a transaction of that leg/,
      'REVERTING_HASH_UNKNOWN',
    );
    await refused(
      s,
      [{ legs: [{ namespace: 1, txs: [hex(payload())] }], maxHeight: 1 }],
      -32001,
      /maxHeight/,
      'WINDOW_PASSED',
    );
    const c = 'ordo_cancelBundle';
    await refused(c, [], -32602, /expected \[\{replacementUuid/);
    await refused(c, [{ replacementUuid: 'x', signer: '0x', signature: '0x' }], -32602, /replacementUuid/);
    await refused('ordo_getBundleStatus', ['0x12'], -32602, /bundleHash must be 32 bytes/);
  });

  it('ordo_callBundle simulates against the pending state, and refuses a height it cannot simulate', async () => {
    const s = await result('ordo_status');
    const transfer = s.rollups.find((r: { kind: string }) => r.kind === 'transfer').namespace;
    const sim = await result('ordo_callBundle', [
      { legs: [{ namespace: transfer, txs: ['0x0a01'] }] },
      { height: 'pending' },
    ]);
    expect(sim).toMatchObject({
      applies: false,
      reason: expect.any(String),
      height: expect.any(Number),
      legs: [
        {
          namespace: transfer,
          executed: true,
          txs: [{ hash: expect.stringMatching(/^0x/), status: 'invalid', gasUsed: '0' }],
        },
      ],
    });
    await refused(
      'ordo_callBundle',
      [{ legs: [{ namespace: transfer, txs: ['0x0a01'] }] }, { height: 'x' }],
      -32602,
      /height/,
    );
    // a past height's state is not kept: bad input, not an internal error
    const e = await refused(
      'ordo_callBundle',
      [{ legs: [{ namespace: transfer, txs: ['0x0a01'] }] }, { height: 1 }],
      -32602,
      /height/,
    );
    expect(e?.data?.code).toBe('EXEC_SIM_HEIGHT_UNAVAILABLE');
  });
});

describe('auction (docs/rpc.md "Auction", bytes from proto/ and docs/wire.md)', () => {
  it('reads the documented shapes', async () => {
    const info = await result('ordo_getAuctionInfo');
    expect(Object.keys(info).sort()).toEqual(
      [
        'appliedHeight',
        'depositAuthority',
        'enabled',
        'forfeitSink',
        'nextDepositNonce',
        'params',
        'rollups',
      ].sort(),
    );
    // The field lists are read from docs/rpc.md "Auction" itself, so a field added to the code or the
    // doc alone fails here (failPenaltyBps and totalPenalties were once in the doc and code but not here).
    const doc = readFileSync(join(REPO, 'docs', 'rpc.md'), 'utf8').replace(/\s+/g, ' ');
    const paramsDoc = /`ordo_getAuctionInfo \[\]` → `\{enabled: true, params: \{([^}]+)\}/.exec(doc)?.[1];
    expect(paramsDoc, 'docs/rpc.md lists ordo_getAuctionInfo params').toBeDefined();
    expect(Object.keys(info.params).sort()).toEqual(
      paramsDoc!
        .split(',')
        .map((f) => f.trim())
        .sort(),
    );
    const slot = await result('ordo_getAuction', [1]);
    expect(slot).toMatchObject({
      height: 1,
      enabled: true,
      resolved: true,
      bids: [],
      winners: [],
      totalProceeds: '0',
      totalPenalties: '0',
    });
    // docs/rpc.md: `ordo_getAuction [height]` → `{height, enabled: true, resolved, …, totalPenalties}`
    const slotDoc = /`ordo_getAuction \[height\]` → `\{(.+?)\}`/.exec(doc)?.[1];
    expect(slotDoc, 'docs/rpc.md lists ordo_getAuction fields').toBeDefined();
    const topLevel = slotDoc!
      .replace(/\[[^\]]*\]/g, '')
      .split(',')
      .map((f) => f.trim().split(':')[0]!.trim())
      .filter((f) => f !== '');
    const optional = topLevel.filter((f) => f.endsWith('?')).map((f) => f.slice(0, -1));
    const required = topLevel.filter((f) => !f.endsWith('?'));
    for (const f of required) expect(slot, `ordo_getAuction field ${f}`).toHaveProperty(f);
    for (const f of Object.keys(slot))
      expect([...required, ...optional], `undocumented field ${f}`).toContain(f);
    expect(await result('ordo_getAuction', [10 ** 9])).toBeNull();
    await refused('ordo_getAuction', [0], -32602, /height must be an integer >= 1/);
    const k = keyPair();
    expect(await result('ordo_getAccount', [hex(k.publicKey)])).toEqual({
      account: hex(k.publicKey),
      available: '0',
      locked: '0',
      pendingWithdrawal: '0',
      withdrawNonce: 0,
      known: false,
    });
    await refused('ordo_getAccount', ['0x12'], -32602, /32-byte hex/);
  });

  it('checks a commit signed per docs/wire.md and answers the auction code', async () => {
    const info = await result('ordo_getAuctionInfo');
    const k = keyPair();
    const head = (await result('ordo_status')).height;
    const slot = head + 1 + info.params.commitOffset + 5;
    const commitment = sha256(ascii('commitment'));
    const signature = k.sign(
      sha256(ascii('ordo/bid-commit/v1'), lp(ascii(chainId)), u64(slot), k.publicKey, commitment),
    );
    const commit = { slot, bidder: hex(k.publicKey), commitment: hex(commitment), signature: hex(signature) };
    // well signed, but the bidder cannot lock the bond: the signature passed, the funds did not
    await refused('ordo_sendBidCommit', [commit], -32001, /./, 'LEDGER_INSUFFICIENT_FUNDS');
    await refused(
      'ordo_sendBidCommit',
      [{ ...commit, signature: hex(Buffer.alloc(64, 1)) }],
      -32001,
      /./,
      'AUCTION_BAD_SIGNATURE',
    );
    const out = await refused(
      'ordo_sendBidCommit',
      [{ ...commit, slot: 1 }],
      -32001,
      /./,
      'AUCTION_OUT_OF_WINDOW',
    );
    expect(out?.data).toMatchObject({
      slot: 1,
      height: expect.any(Number),
      first: expect.any(Number),
      last: expect.any(Number),
    });
    // the same commit encoded by the client from proto/ordo/v1/auction.proto
    const bytes = AuctionTx.encode(
      AuctionTx.fromObject({ commit: { slot, bidder: k.publicKey, commitment, signature } }),
    ).finish();
    await refused('ordo_submitAuctionTx', [hex(bytes)], -32001, /./, 'LEDGER_INSUFFICIENT_FUNDS');
    // through the plain transaction door the auction's code leads the message of INVALID_TX
    const e = await refused(
      'ordo_submitTransaction',
      [{ namespace: 0xffffffff, data: hex(bytes) }],
      -32001,
      /^LEDGER_INSUFFICIENT_FUNDS: /,
      'INVALID_TX',
    );
    expect(e?.data?.retryable).toBe(false);
  });

  it('refuses malformed auction params with -32602 naming the field', async () => {
    const b32 = hex(Buffer.alloc(32, 1));
    const b64 = hex(Buffer.alloc(64, 1));
    await refused('ordo_sendBidCommit', [], -32602, /expected \[\{slot/);
    await refused(
      'ordo_sendBidCommit',
      [{ slot: 0, bidder: b32, commitment: b32, signature: b64 }],
      -32602,
      /slot must be an integer >= 1/,
    );
    await refused(
      'ordo_sendBidCommit',
      [{ slot: 5, bidder: '0x12', commitment: b32, signature: b64 }],
      -32602,
      /bidder must be a 0x-prefixed 32-byte hex string/,
    );
    const reveal = { slot: 5, bidder: b32, amount: '10', salt: b32, signature: b64 };
    await refused(
      'ordo_sendBidReveal',
      [{ ...reveal, bundle: { legs: [{ namespace: 1, txs: ['0xzz'] }] } }],
      -32602,
      /^invalid params: bundle: legs\[0\]\.txs\[0\]/,
    );
    await refused(
      'ordo_sendBidReveal',
      [{ ...reveal, amount: '-1', bundle: { legs: [{ namespace: 1, txs: ['0x01'] }] } }],
      -32602,
      /amount must be a positive integer/,
    );
    const move = { account: b32, amount: 10, nonce: 0, signature: b64 };
    await refused('ordo_deposit', [{ ...move, amount: 2 ** 53 }], -32602, /amount/);
    await refused('ordo_withdraw', [{ ...move, nonce: -1 }], -32602, /nonce must be an integer >= 0/);
    await refused('ordo_deposit', [move], -32001, /./, 'AUCTION_BAD_SIGNATURE');
    await refused('ordo_withdraw', [move], -32001, /./, 'AUCTION_BAD_SIGNATURE');
    await refused('ordo_submitAuctionTx', ['0x0102'], -32602, /AuctionTx/, 'DECODE_MALFORMED');
    await refused('ordo_submitAuctionTx', ['0x'], -32602, /AuctionTx/, 'DECODE_EMPTY');
    await refused('ordo_submitAuctionTx', ['0102'], -32602, /0x-prefixed/);
    await refused(
      'ordo_submitAuctionTx',
      [`0x${'00'.repeat(128 * 1024 + 1)}`],
      -32602,
      /limit/,
      'TX_TOO_LARGE',
    );
  });
});

describe('auction round trip from outside (demo keys of docs/auction.md "Genesis")', () => {
  it('deposits, commits, reveals, reads the outcome and withdraws, with bytes and signatures from docs/wire.md', async () => {
    const info = await result('ordo_getAuctionInfo');
    // the devnet's deposit authority: seed sha256("ordo-demo-auction-deposit-authority") (devnets only)
    const authority = keyPair(sha256(ascii('ordo-demo-auction-deposit-authority')));
    expect(hex(authority.publicKey)).toBe(info.depositAuthority);
    const me = keyPair();
    const amount = 1_000_000;
    const nonce = info.nextDepositNonce;
    const moveBytes = (tag: string, account: Buffer, amt: number, n: number) =>
      sha256(ascii(tag), lp(ascii(chainId)), account, u64(amt), u64(n));
    const deposit = {
      account: hex(me.publicKey),
      amount: String(amount),
      nonce,
      signature: hex(authority.sign(moveBytes('ordo/auction-deposit/v1', me.publicKey, amount, nonce))),
    };
    const d = await result('ordo_deposit', [deposit]);
    const depositTx = AuctionTx.encode(
      AuctionTx.fromObject({
        deposit: { account: me.publicKey, amount, nonce, signature: unhex(deposit.signature) },
      }),
    ).finish();
    expect(d).toEqual({ txHash: txHashOf(0xffffffff, depositTx) });
    await committed(d.txHash);
    // a resubmission answers the same hash (also once included)
    expect(await result('ordo_deposit', [deposit])).toEqual({ txHash: d.txHash, duplicate: true });
    // and through the plain transaction door, as docs/rpc.md "Errors" says of duplicates
    expect(await result('ordo_submitTransaction', [{ namespace: 0xffffffff, data: hex(depositTx) }])).toEqual(
      { hash: d.txHash, duplicate: true },
    );
    await waitFor('the deposit applied', async () => {
      const a = await result('ordo_getAccount', [hex(me.publicKey)]);
      return a.available === String(amount) ? a : undefined;
    });
    expect(await result('ordo_getAccount', [hex(me.publicKey)])).toMatchObject({
      known: true,
      withdrawNonce: 0,
    });

    // a bid: commit for a slot a few blocks ahead, reveal in its window (retried when the chain outran us)
    const p = info.params;
    const bundleTx = payload(10);
    const bundle = { legs: [{ namespace: 1, txs: [hex(bundleTx)] }], atomicity: 'inclusion' };
    const bHash = bundleHashOf({ atomicity: 2, legs: [{ namespace: 1, txs: [bundleTx] }] });
    const bid = 5_000;
    let slot = 0;
    let revealed: { txHash: string } | undefined;
    for (let attempt = 0; attempt < 3 && revealed === undefined; attempt++) {
      const head = (await result('ordo_status')).height;
      slot = head + 1 + p.commitOffset + 2;
      const salt = randomBytes(32);
      const commitment = sha256(
        ascii('ordo/bid/v1'),
        lp(ascii(chainId)),
        u64(slot),
        me.publicKey,
        u64(bid),
        bHash,
        salt,
      );
      const commitSig = me.sign(
        sha256(ascii('ordo/bid-commit/v1'), lp(ascii(chainId)), u64(slot), me.publicKey, commitment),
      );
      const c = await call('ordo_sendBidCommit', [
        { slot, bidder: hex(me.publicKey), commitment: hex(commitment), signature: hex(commitSig) },
      ]);
      if (c.error?.data?.code === 'AUCTION_OUT_OF_WINDOW') continue;
      expect(c.error).toBeUndefined();
      await committed(c.result.txHash);
      const reveal = {
        slot,
        bidder: hex(me.publicKey),
        amount: String(bid),
        bundle,
        salt: hex(salt),
        signature: hex(me.sign(sha256(ascii('ordo/bid-reveal/v1'), lp(ascii(chainId)), commitment))),
      };
      // the reveal window: blocks slot - commitOffset + 1 ..= slot - revealOffset
      const first = slot - p.commitOffset + 1;
      await waitFor('the reveal window', async () =>
        (await result('ordo_status')).height + 1 >= first ? true : undefined,
      );
      const r = await call('ordo_sendBidReveal', [reveal]);
      if (r.error?.data?.code === 'AUCTION_OUT_OF_WINDOW') continue;
      expect(r.error, JSON.stringify(r.error)).toBeUndefined();
      revealed = r.result;
    }
    expect(revealed?.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    const outcome = await waitFor(
      'the slot resolved',
      async () => {
        const o = await result('ordo_getAuction', [slot]);
        return o?.resolved === true ? o : undefined;
      },
      30_000,
    );
    expect(outcome.bids).toContainEqual(
      expect.objectContaining({ bidder: hex(me.publicKey), amount: String(bid), bundleHash: hex(bHash) }),
    );
    expect(outcome.bids).toContainEqual(expect.objectContaining({ bidder: hex(me.publicKey), valid: true }));
    expect(outcome.winners).toContainEqual(
      expect.objectContaining({ namespace: 1, bidder: hex(me.publicKey), bundleHash: hex(bHash) }),
    );
    expect(outcome.totalProceeds).toMatch(/^[0-9]+$/);

    // withdraw: signed by the account, nonce = withdrawNonce
    const acct = await result('ordo_getAccount', [hex(me.publicKey)]);
    const w = {
      account: hex(me.publicKey),
      amount: 1000,
      nonce: acct.withdrawNonce,
      signature: hex(me.sign(moveBytes('ordo/auction-withdraw/v1', me.publicKey, 1000, acct.withdrawNonce))),
    };
    const wr = await result('ordo_withdraw', [w]);
    await committed(wr.txHash);
    expect(await result('ordo_withdraw', [w])).toEqual({ txHash: wr.txHash, duplicate: true });
  });
});
