/**
 * JSON answers over HTTP carry a content-length (ADR 0245): Node then sends status line, headers and
 * body in one write instead of a chunked answer, and a client reads exactly that many bytes. The
 * length is in bytes (UTF-8), CORS headers stay, and keep-alive answers follow each other on one socket.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RpcServer } from '../../../src/rpc/server.ts';

const servers: RpcServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

/** Two requests on one keep-alive socket; the raw bytes that came back once both answers are in. */
function twoOnOneSocket(port: number, bodies: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    sock.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      if ((got.match(/HTTP\/1\.1 /g) ?? []).length === bodies.length && got.endsWith('}')) {
        sock.destroy();
        resolve(got);
      }
    });
    sock.on('error', reject);
    for (const b of bodies) {
      const bytes = Buffer.from(b);
      sock.write(
        `POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${bytes.length}\r\n\r\n`,
      );
      sock.write(bytes);
    }
  });
}

describe('HTTP JSON answers', () => {
  it('carry a content-length in bytes, no chunking, and the CORS headers', async () => {
    const server = new RpcServer({ host: '127.0.0.1', port: 0 });
    server.register('echo', (p) => p[0]);
    servers.push(server);
    await server.start();
    const raw = await twoOnOneSocket(server.port, [
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: ['ascii'] }),
      JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'echo', params: ['é€'] }),
    ]);
    const answers = raw.split(/(?=HTTP\/1\.1 )/);
    expect(answers).toHaveLength(2);
    for (const [i, a] of answers.entries()) {
      const [head, body] = a.split('\r\n\r\n') as [string, string];
      expect(head).toMatch(/^HTTP\/1\.1 200 /);
      expect(head.toLowerCase()).not.toContain('transfer-encoding');
      expect(head.toLowerCase()).toContain('access-control-allow-origin: *');
      const len = Number(/\r\ncontent-length: ([0-9]+)/i.exec(head)?.[1]);
      expect(Buffer.byteLength(body, 'latin1')).toBe(len);
      expect(JSON.parse(Buffer.from(body, 'latin1').toString('utf8'))).toEqual({
        jsonrpc: '2.0',
        id: i + 1,
        result: i === 0 ? 'ascii' : 'é€',
      });
    }
  });

  it('give errors and health answers a content-length too', async () => {
    const server = new RpcServer({ host: '127.0.0.1', port: 0 });
    servers.push(server);
    await server.start();
    const res = await fetch(`http://127.0.0.1:${server.port}/`, { method: 'POST', body: '{not json' });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    expect(JSON.parse(text).error.code).toBe(-32700);
    const health = await fetch(`http://127.0.0.1:${server.port}/health`);
    const h = await health.text();
    expect(health.headers.get('content-length')).toBe(String(Buffer.byteLength(h)));
    expect(JSON.parse(h)).toEqual({ ok: true });
  });
});
