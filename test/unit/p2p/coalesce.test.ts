/**
 * Coalesced socket writes (src/p2p/libp2p/coalesce.ts) on a real loopback socket pair: the chunks of
 * one tick leave together, in order, and back-pressure is reported only past the buffered-bytes bound,
 * with the 'drain' that resumes the sender still emitted.
 */
import { once } from 'node:events';
import { createServer, type Server, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { coalesceWrites, MAX_BUFFERED_BYTES } from '../../../src/p2p/libp2p/coalesce.ts';

interface Conn {
  socket: Socket;
  sendData: (data: Iterable<Uint8Array>) => { sentBytes: number; canSendMore: boolean };
  sendClose: () => Promise<void>;
}

let server: Server | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  if (server !== undefined) await new Promise((r) => server!.close(r));
  server = undefined;
});

async function pair(): Promise<{ client: Socket; received: () => Buffer; ended: Promise<unknown> }> {
  const chunks: Buffer[] = [];
  let resolveEnd: (v: unknown) => void = () => {};
  const ended = new Promise((r) => {
    resolveEnd = r;
  });
  server = createServer((s) => {
    sockets.push(s);
    s.on('data', (b: Buffer) => chunks.push(b));
    s.on('end', () => resolveEnd(undefined));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const client = new Socket();
  sockets.push(client);
  client.connect(port, '127.0.0.1');
  await once(client, 'connect');
  return { client, received: () => Buffer.concat(chunks), ended };
}

function conn(socket: Socket): Conn {
  return {
    socket,
    sendData: () => {
      throw new Error('not replaced');
    },
    sendClose: async () => {
      socket.end();
    },
  };
}

describe('coalesceWrites', () => {
  it('corks for the rest of the synchronous run and delivers every byte in order', async () => {
    const { client, received, ended } = await pair();
    const c = conn(client);
    coalesceWrites(c);
    const parts = [Buffer.from([0, 3]), Buffer.from('abc'), Buffer.from([0, 2]), Buffer.from('de')];
    const written: number[] = [];
    const write = client.write.bind(client);
    client.write = ((b: Uint8Array) => {
      written.push(b.byteLength);
      return write(b);
    }) as typeof client.write;
    const r1 = c.sendData(parts.slice(0, 2));
    const r2 = c.sendData(parts.slice(2));
    expect(r1).toEqual({ sentBytes: 5, canSendMore: true });
    expect(r2).toEqual({ sentBytes: 4, canSendMore: true });
    expect(written).toEqual([]); // collected, not yet written
    await Promise.resolve();
    expect(written).toEqual([2, 3, 2, 2]); // written corked: one writev
    expect(client.writableCorked).toBe(0);
    client.end();
    await ended;
    expect(received().toString('latin1')).toBe(Buffer.concat(parts).toString('latin1'));
  });

  it('asks the sender to wait only past the bound, and the socket still emits drain', async () => {
    const { client, received, ended } = await pair();
    const c = conn(client);
    coalesceWrites(c);
    const chunk = Buffer.alloc(64 * 1024, 7);
    let sent = 0;
    let last = { sentBytes: 0, canSendMore: true };
    while (last.canSendMore) {
      last = c.sendData([chunk]);
      sent += last.sentBytes;
      expect(sent).toBeLessThanOrEqual(MAX_BUFFERED_BYTES + chunk.byteLength);
    }
    // Well past the socket's own 16 KiB high-water mark before the sender is told to wait.
    expect(sent).toBeGreaterThanOrEqual(MAX_BUFFERED_BYTES);
    await once(client, 'drain');
    client.end();
    await ended;
    expect(received().byteLength).toBe(sent);
  });

  it('a graceful close writes what was collected first', async () => {
    const { client, received, ended } = await pair();
    const c = conn(client);
    coalesceWrites(c);
    c.sendData([Buffer.from('last words')]);
    await c.sendClose();
    await ended;
    expect(received().toString('latin1')).toBe('last words');
  });

  it('leaves anything that is not a TCP connection alone', () => {
    const notTcp = { socket: {}, sendData: () => ({ sentBytes: 0, canSendMore: true }) };
    const before = notTcp.sendData;
    coalesceWrites(notTcp);
    expect(notTcp.sendData).toBe(before);
    coalesceWrites(undefined);
  });
});
