import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpTarget } from '../../../src/loadgen/http.ts';

const OK =
  'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n{}';

/**
 * A raw HTTP server: `onRequest(socket, n)` is told the socket's request number (1, 2, ...) and either
 * answers or resets the connection (RST), which is what a server closing an idle keep-alive socket as a
 * request arrives looks like to the client.
 */
async function rawServer(
  onRequest: (socket: Socket, n: number) => void,
): Promise<{ server: Server; url: string }> {
  const server = createServer((socket) => {
    let n = 0;
    socket.on('data', (chunk) => {
      if (!chunk.toString().includes('\r\n\r\n')) return; // bodies are tiny: headers and body arrive together
      onRequest(socket, ++n);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { server, url: `http://127.0.0.1:${port}/` };
}

describe('load generator HTTP target', () => {
  const servers: Server[] = [];
  const targets: HttpTarget[] = [];
  afterEach(async () => {
    for (const t of targets.splice(0)) t.close();
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });

  it('resends once on a fresh connection when a reused keep-alive socket is reset', async () => {
    let connections = 0;
    const { server, url } = await rawServer((socket, n) => {
      if (n === 1) socket.write(OK);
      else socket.resetAndDestroy();
    });
    server.on('connection', () => connections++);
    servers.push(server);
    const t = new HttpTarget(url, 1);
    targets.push(t);
    expect((await t.post('{}', 2000)).status).toBe(200);
    expect((await t.post('{}', 2000)).status).toBe(200);
    expect(t.retries).toBe(1);
    expect(connections).toBe(2);
  });

  it('reports a reset on a fresh connection without resending', async () => {
    const { server, url } = await rawServer((socket) => socket.resetAndDestroy());
    servers.push(server);
    const t = new HttpTarget(url, 1);
    targets.push(t);
    await expect(t.post('{}', 2000)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(t.retries).toBe(0);
  });
});
