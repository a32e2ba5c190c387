/**
 * Issue #25's attacks on the public surfaces of a real `ordo` process, each asserting the bounded
 * behaviour: a clear error or a disconnect for the offender, service for everyone else. Limits are
 * lowered through config.json so that hundreds of connections prove what thousands did. Attackers use
 * other loopback source addresses (127.0.0.2, 127.0.0.3: all of 127.0.0.0/8 is loopback) so the
 * per-address caps hit them and not the test's own client on 127.0.0.1.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type AdapterClient, loadAdapterService } from '../../src/rollup-adapter/wire.ts';
import {
  freePort,
  initLoopbackHome,
  killAll,
  killNode,
  type RunningNode,
  rpc,
  startNode,
  waitFor,
} from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordo-e2e-limits-'));
let node: RunningNode;
let grpcPort = 0;
let bigHeight = 0;

const LIMITS = {
  maxConnections: 200,
  maxConnectionsPerAddress: 20,
  headersTimeoutMs: 1000,
  idleTimeoutMs: 1000,
  maxWsBufferedBytes: 2 * 1024 * 1024,
  maxSubscriptionsPerConnection: 10,
};

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

async function refusals(reason: string): Promise<number> {
  const text = await (await fetch(`${node.rpcUrl}/metrics`)).text();
  const m = new RegExp(`ordo_rpc_refused_total\\{reason="${reason}"\\} (\\d+)`).exec(text);
  return Number(m?.[1] ?? 0);
}

async function adapterFailures(code: string): Promise<number> {
  const text = await (await fetch(`${node.rpcUrl}/metrics`)).text();
  const m = new RegExp(`ordo_adapter_streams_failed_total\\{code="${code}"\\} (\\d+)`).exec(text);
  return Number(m?.[1] ?? 0);
}

const status = () => rpc(node.rpcUrl, 'ordo_status', []) as Promise<{ height: number }>;

function openWs(localAddress: string): Promise<WebSocket> {
  const ws = new WebSocket(node.rpcUrl.replace('http', 'ws'), { localAddress });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const closed = (ws: WebSocket): Promise<void> =>
  ws.readyState === ws.CLOSED ? Promise.resolve() : new Promise((r) => ws.once('close', () => r()));

let bigSeq = 0;
/** A block of about 1 MB: eight transactions of 120 KiB; resolves with its height. */
async function submitBigBlock(): Promise<number> {
  const hashes: string[] = [];
  for (let i = 0; i < 8; i++) {
    const byte = ((bigSeq++ % 200) + 16).toString(16);
    const data = `0x${byte.repeat(120 * 1024)}`;
    const res = (await rpc(node.rpcUrl, 'ordo_submitTransaction', [{ namespace: 1, data }])) as {
      hash: string;
    };
    hashes.push(res.hash);
  }
  const height = await waitFor('the big transactions to commit', async () => {
    const s = (await rpc(node.rpcUrl, 'ordo_getTransactionStatus', [hashes[7]])) as {
      status: string;
      height?: number;
    };
    return s.status === 'committed' ? s.height : undefined;
  });
  // `committed` means decided, which can come a few milliseconds before the store has written the
  // block (docs/rpc.md): wait until ordo_getBlock serves it.
  await waitFor('the big block to be readable', async () =>
    (await rpc(node.rpcUrl, 'ordo_getBlock', [height])) === null ? undefined : true,
  );
  return height;
}

beforeAll(async () => {
  const home = join(dir, 'n0');
  grpcPort = await freePort();
  const r = initLoopbackHome(home, {
    grpcPort,
    logLevel: 'debug',
    // Empty blocks every 200 ms: a stream has enough heights to fill a stalled client's buffers.
    heartbeatMs: 100,
    edit: (cfg) => {
      cfg.rpc = { ...cfg.rpc, ...LIMITS };
      cfg.grpc = { ...cfg.grpc, maxStreamsPerClient: 4, maxInFlightMessages: 2, stallTimeoutMs: 3000 };
    },
  });
  expect(r.status, r.stderr).toBe(0);
  node = await startNode(home);
  bigHeight = await submitBigBlock();
}, 120_000);

afterAll(async () => {
  if (node !== undefined) await killNode(node, 'SIGTERM');
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('public-surface limits on a real node (issue #25)', () => {
  it('answers a batch of 300 × ordo_getBlock of a ~1 MB block with a clear error, not gigabytes', async () => {
    const block = (await rpc(node.rpcUrl, 'ordo_getBlock', [bigHeight])) as { txs: unknown[] };
    expect(block.txs.length).toBeGreaterThan(0);
    const before = rssMb(node.proc.pid!);
    const batch = Array.from({ length: 300 }, (_, i) => ({
      jsonrpc: '2.0',
      id: i,
      method: 'ordo_getBlock',
      params: [bigHeight],
    }));
    const res = await fetch(`${node.rpcUrl}/`, { method: 'POST', body: JSON.stringify(batch) });
    const body = (await res.json()) as { error: { code: number; message: string; data: { code: string } } };
    expect(body.error.code).toBe(-32005);
    expect(body.error.data.code).toBe('RESPONSE_TOO_LARGE');
    expect(body.error.message).toMatch(/rpc\.maxResponseBytes/);
    // The node built at most its 16 MiB budget, not 300 MB of JSON (0.1.0: 2 GB RSS).
    expect(rssMb(node.proc.pid!) - before).toBeLessThan(400);
    expect((await status()).height).toBeGreaterThanOrEqual(bigHeight);
  });

  it('disconnects a WebSocket client that never reads, and keeps serving others', async () => {
    const ws = await openWs('127.0.0.2');
    ws.on('error', () => {});
    ws.pause(); // never read
    const before = rssMb(node.proc.pid!);
    for (let i = 0; i < 300 && ws.readyState === ws.OPEN; i++) {
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: i, method: 'ordo_getBlock', params: [bigHeight] }));
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 20));
    }
    await waitFor('the server to close the non-reading socket', async () =>
      (await refusals('ws_buffered')) >= 1 ? true : undefined,
    );
    ws.resume();
    await closed(ws);
    expect(rssMb(node.proc.pid!) - before).toBeLessThan(400);
    expect((await status()).height).toBeGreaterThanOrEqual(bigHeight);
  });

  it('caps idle WebSockets per address and closes them when idle; new clients still get in', async () => {
    const opened: WebSocket[] = [];
    let refused = 0;
    await Promise.all(
      Array.from({ length: 60 }, () =>
        openWs('127.0.0.2').then(
          (ws) => {
            ws.on('error', () => {});
            opened.push(ws);
          },
          () => {
            refused++;
          },
        ),
      ),
    );
    expect(opened.length).toBeLessThanOrEqual(LIMITS.maxConnectionsPerAddress);
    expect(refused).toBeGreaterThanOrEqual(60 - LIMITS.maxConnectionsPerAddress);
    // everyone else is served, over HTTP and WebSocket
    expect((await status()).height).toBeGreaterThan(0);
    const other = await openWs('127.0.0.1');
    other.terminate();
    // the idle ones are closed by the server (idleTimeoutMs 1 s; generous bound)
    await Promise.all(opened.map(closed));
    expect(await refusals('ws_idle')).toBeGreaterThanOrEqual(1);
  });

  it('drops slowloris connections (per-address cap, header timeout) while ordo_status answers', async () => {
    const sockets: Socket[] = [];
    const silent: Socket[] = [];
    const closedSockets: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) {
      const port = Number(new URL(node.rpcUrl).port);
      const s = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.3' });
      s.on('error', () => {});
      closedSockets.push(new Promise((r) => s.once('close', () => r())));
      s.once('connect', () => s.write('POST / HTTP/1.1\r\nHost: x\r\n'));
      sockets.push(s);
    }
    // and some that send nothing at all, from another address
    for (let i = 0; i < 10; i++) {
      const port = Number(new URL(node.rpcUrl).port);
      const s = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.4' });
      s.on('error', () => {});
      closedSockets.push(new Promise((r) => s.once('close', () => r())));
      silent.push(s);
    }
    const drip = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write('X-Slow: 1\r\n');
    }, 300);
    try {
      // served while the attack runs
      for (let i = 0; i < 3; i++) {
        expect((await status()).height).toBeGreaterThan(0);
        await new Promise((r) => setTimeout(r, 200));
      }
      // every attacking socket is closed: at once past the cap, the rest at the header timeout
      await Promise.all(closedSockets);
    } finally {
      clearInterval(drip);
      for (const s of [...sockets, ...silent]) s.destroy();
    }
    expect(await refusals('per_address')).toBeGreaterThanOrEqual(40);
  });

  it('caps subscriptions per WebSocket; ordo_unsubscribe frees a slot', async () => {
    const ws = await openWs('127.0.0.1');
    try {
      const answers: { id?: number; result?: unknown; error?: { code: number; data?: { code: string } } }[] =
        [];
      ws.on('message', (d) => answers.push(JSON.parse(d.toString())));
      // In chunks below rpc.maxWsRequestsInFlight (64), so every refusal is the subscription cap's, not
      // the in-flight cap's (a slow host can hold 64 subscribes in flight at once).
      for (let sent = 0; sent < 200; ) {
        const upTo = Math.min(200, sent + 50);
        for (; sent < upTo; sent++)
          ws.send(
            JSON.stringify({ jsonrpc: '2.0', id: sent, method: 'ordo_subscribe', params: ['newHeads'] }),
          );
        await waitFor(`${upTo} answers`, async () =>
          answers.filter((a) => a.id !== undefined).length >= upTo ? true : undefined,
        );
      }
      const ids = answers.filter((a) => typeof a.result === 'string').map((a) => a.result as string);
      expect(new Set(ids).size).toBe(LIMITS.maxSubscriptionsPerConnection);
      const refused = answers.filter((a) => a.error !== undefined);
      expect(refused).toHaveLength(200 - LIMITS.maxSubscriptionsPerConnection);
      expect(refused[0]!.error).toMatchObject({ code: -32005, data: { code: 'TOO_MANY_SUBSCRIPTIONS' } });
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1000, method: 'ordo_unsubscribe', params: [ids[0]] }));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1001, method: 'ordo_subscribe', params: ['newHeads'] }));
      await waitFor('answers', async () => (answers.some((a) => a.id === 1001) ? true : undefined));
      expect(answers.find((a) => a.id === 1000)?.result).toBe(true);
      expect(typeof answers.find((a) => a.id === 1001)?.result).toBe('string');
    } finally {
      ws.terminate();
    }
  });

  it('caps gRPC streams per client, not per server, and cuts off a consumer that stops reading', async () => {
    expect(grpcPort).toBeGreaterThan(0);
    const Ctor = loadAdapterService();
    const a = new Ctor(
      `127.0.0.1:${grpcPort}`,
      grpc.credentials.createInsecure(),
    ) as unknown as AdapterClient;
    // A second client from another address: through a relay that dials from 127.0.0.5.
    const upstream: Socket[] = [];
    const relay = createServer((c) => {
      const u = connect({ host: '127.0.0.1', port: grpcPort, localAddress: '127.0.0.5' });
      upstream.push(u);
      c.on('error', () => u.destroy());
      u.on('error', () => c.destroy());
      c.pipe(u).pipe(c);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    const relayPort = (relay.address() as { port: number }).port;
    const b = new Ctor(
      `127.0.0.1:${relayPort}`,
      grpc.credentials.createInsecure(),
    ) as unknown as AdapterClient;
    const calls: grpc.ClientReadableStream<unknown>[] = [];
    const open = (c: AdapterClient) => {
      const call = c.StreamBlocks({ namespace: 1, fromHeight: '1' }) as grpc.ClientReadableStream<unknown>;
      call.on('error', () => {});
      calls.push(call);
      return {
        call,
        first: new Promise<'data' | grpc.StatusObject>((resolve) => {
          call.once('data', () => resolve('data'));
          call.once('status', resolve);
        }),
      };
    };
    try {
      const mine = [open(a), open(a), open(a), open(a)];
      for (const s of mine) expect(await s.first).toBe('data');
      // the fifth on a separate connection from the same address: still this client
      const a2 = new Ctor(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
      }) as unknown as AdapterClient;
      const fifth = await open(a2).first;
      a2.close();
      expect(fifth).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
      expect((fifth as grpc.StatusObject).metadata.get('ordo-error-code')[0]).toBe('TOO_MANY_STREAMS');
      // another client is served
      const other = open(b);
      expect(await other.first).toBe('data');

      // A consumer that stops reading at the TCP level (grpc-js clients themselves keep taking data
      // from the socket; HTTP/2 flow control in Node does not push back): the relay stops reading
      // while ~1 MB blocks are committed, until the kernel buffers are full, the server's writes stop
      // completing and the stall timer cuts the stream off. Reading again, the client gets the backlog
      // and then RESOURCE_EXHAUSTED CONSUMER_TOO_SLOW with ordo-resume-height.
      for (const s of [...mine.slice(1), other]) s.call.cancel();
      const h0 = (await status()).height;
      const stalled = b.StreamBlocks({
        namespace: 1,
        fromHeight: String(h0 + 1),
      }) as grpc.ClientReadableStream<unknown>;
      calls.push(stalled);
      stalled.on('error', () => {});
      const st = new Promise<grpc.StatusObject>((resolve) => stalled.on('status', resolve));
      stalled.on('data', () => {});
      await waitFor('the stream to start', async () => (upstream.length > 0 ? true : undefined));
      for (const u of upstream) u.pause();
      // ~1 MB per block until the kernel's socket buffers are full; after each, give the stall timer
      // (stallTimeoutMs = 3 s) its time before adding more.
      const stallUntil = async (n: number): Promise<number> => {
        let bigBlocks = 0;
        for (let i = 0; i < 20 && (await adapterFailures('CONSUMER_TOO_SLOW')) < n; i++) {
          await submitBigBlock();
          bigBlocks++;
          for (let j = 0; j < 20 && (await adapterFailures('CONSUMER_TOO_SLOW')) < n; j++) {
            await new Promise((r) => setTimeout(r, 250));
          }
        }
        return bigBlocks;
      };
      expect(await stallUntil(1)).toBeGreaterThan(0);
      expect(await adapterFailures('CONSUMER_TOO_SLOW')).toBe(1);
      for (const u of upstream) u.resume();
      const s = await st;
      expect(s.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(s.metadata.get('ordo-error-code')[0]).toBe('CONSUMER_TOO_SLOW');
      expect(Number(s.metadata.get('ordo-resume-height')[0])).toBeGreaterThan(h0);

      // One that never reads again: after another stallTimeoutMs the node resets the stream, so the
      // backlog is not pinned for the connection's lifetime; the client then sees CANCELLED.
      const c = new Ctor(`127.0.0.1:${relayPort}`, grpc.credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
      }) as unknown as AdapterClient;
      const before = upstream.length;
      const gone = c.StreamBlocks({
        namespace: 1,
        fromHeight: String((await status()).height + 1),
      }) as grpc.ClientReadableStream<unknown>;
      calls.push(gone);
      gone.on('error', () => {});
      gone.on('data', () => {});
      const goneStatus = new Promise<grpc.StatusObject>((resolve) => gone.on('status', resolve));
      await waitFor('its connection', async () => (upstream.length > before ? true : undefined));
      const mineUp = upstream.slice(before);
      for (const u of mineUp) u.pause();
      await stallUntil(2);
      await new Promise((r) => setTimeout(r, 3_000 + 2_000));
      for (const u of mineUp) u.resume();
      expect((await goneStatus).code).toBe(grpc.status.CANCELLED);
      c.close();
    } finally {
      for (const c of calls) c.cancel();
      a.close();
      b.close();
      relay.close();
    }
  }, 300_000);

  it('answers /health and /ready with 200 on a committing node', async () => {
    const live = await fetch(`${node.rpcUrl}/health`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ ok: true, kind: 'liveness' });
    const ready = await fetch(`${node.rpcUrl}/ready`);
    expect(ready.status).toBe(200);
  });
});
