/**
 * The RPC surface against its contract, docs/rpc.md: every method the node registers is in the
 * reference's method table and every method of the table is registered (the e2e contract test,
 * test/e2e/rpc-contract.test.ts, calls them on a real node); and only documented paths are served,
 * any other answering 404 (ADR 0255).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RpcDeps } from '../../../src/rpc/methods.ts';
import { registerMethods } from '../../../src/rpc/methods.ts';
import { type Handler, RpcServer } from '../../../src/rpc/server.ts';
import { TX_BATCH_PATH } from '../../../src/rpc/tx-batch.ts';

const REPO = join(import.meta.dirname, '..', '..', '..');
const doc = readFileSync(join(REPO, 'docs', 'rpc.md'), 'utf8');
const documented = new Set([...doc.matchAll(/^\| `(ordo_[A-Za-z_]+)` \|/gm)].map((m) => m[1]!));

describe('docs/rpc.md lists exactly the methods the node registers', () => {
  it('registerMethods and the node’s admin method match the method table, and the binary route is documented', () => {
    const names: string[] = [];
    const binary: string[] = [];
    const deps = new Proxy({}, { get: () => undefined }) as unknown as RpcDeps;
    registerMethods(
      {
        register: (name: string) => names.push(name),
        postBinary: (path: string) => binary.push(path),
      } as unknown as RpcServer,
      {
        ...deps,
        genesis: { rollups: [] } as unknown as RpcDeps['genesis'],
        ingress: {} as RpcDeps['ingress'],
      },
    );
    // registered by the node itself with ORDO_ADMIN_RPC=1 (src/node/node.ts)
    const node = readFileSync(join(REPO, 'src', 'node', 'node.ts'), 'utf8');
    names.push(...[...node.matchAll(/rpc\.register\('(ordo_[A-Za-z_]+)'/g)].map((m) => m[1]!));
    expect(names.length).toBeGreaterThanOrEqual(22);
    expect([...new Set(names)].sort()).toEqual([...documented].sort());
    expect(binary).toEqual([TX_BATCH_PATH]);
    expect(doc).toContain(`POST ${TX_BATCH_PATH}`);
  });
});

describe('only documented paths are served', () => {
  const server = new RpcServer({ host: '127.0.0.1', port: 0 });
  server.register('ordo_ping', () => 'pong');
  server.mount('/evm/3', new Map<string, Handler>([['eth_chainId', () => '0x1']]));
  let base = '';
  beforeAll(async () => {
    await server.start();
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.stop();
  });
  const post = async (path: string, method: string) => {
    const r = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method }),
    });
    return { status: r.status, json: (await r.json()) as any };
  };

  it('serves / and mounted paths (a trailing slash ignored), and answers 404 naming them elsewhere', async () => {
    expect((await post('/', 'ordo_ping')).json.result).toBe('pong');
    expect((await post('/?x=1', 'ordo_ping')).json.result).toBe('pong');
    expect((await post('/evm/3/', 'eth_chainId')).json.result).toBe('0x1');
    for (const path of ['/rpc', '/evm/99', '/evm']) {
      const r = await post(path, 'ordo_ping');
      expect(r.status, path).toBe(404);
      expect(r.json.error).toMatch(new RegExp(`no route POST ${path}; JSON-RPC is served at / .*/evm/3`));
    }
    const get = await fetch(`${base}/nothing`);
    expect(get.status).toBe(404);
    expect(((await get.json()) as { error: string }).error).toMatch(/no route GET \/nothing/);
  });

  it('refuses a WebSocket upgrade on an unserved path with 404, and upgrades on / and mounts', async () => {
    const status = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`${base.replace('http', 'ws')}${path}`);
        ws.once('open', () => {
          ws.close();
          resolve(101);
        });
        ws.once('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.once('error', (err) => {
          if (!String(err.message).includes('Unexpected server response')) reject(err);
        });
      });
    expect(await status('/')).toBe(101);
    expect(await status('/evm/3')).toBe(101);
    expect(await status('/evm/99')).toBe(404);
  });
});
