/**
 * Yamux window updates only when half the receive window is consumed (src/p2p/libp2p/yamux-window.ts,
 * ADR 0240): two real yamux muxers over an in-memory connection pair exchange many small messages, a
 * transfer larger than the window and a transfer to a paused reader. Every byte arrives, nothing
 * stalls, and the receiver sends far fewer WINDOW_UPDATE frames than it receives data frames (the
 * library alone sends one per data frame, which the same run shows). The shape check fails loudly if
 * the library changes what the policy relies on.
 */
import { yamux } from '@chainsafe/libp2p-yamux';
import { YamuxStream } from '@chainsafe/libp2p-yamux/stream';
import type { Stream, StreamMuxer } from '@libp2p/interface';
import { multiaddrConnectionPair } from '@libp2p/utils';
import { Uint8ArrayList } from 'uint8arraylist';
import { afterEach, describe, expect, it } from 'vitest';
import {
  assertYamuxShape,
  installLazyWindowUpdates,
  lazyWindowUpdatesInstalled,
  uninstallLazyWindowUpdates,
} from '../../../src/p2p/libp2p/yamux-window.ts';

const DATA = 0;
const WINDOW_UPDATE = 1;

/** Counts the yamux frames one side writes (parsed from its byte stream). */
class FrameCounter {
  data = 0;
  windowUpdates = 0;
  /** Window updates carrying no flag: the ones the policy is about. */
  plainWindowUpdates = 0;
  private pending = new Uint8ArrayList();

  feed(chunk: Uint8Array | Uint8ArrayList): void {
    this.pending.append(chunk);
    while (this.pending.byteLength >= 12) {
      const h = this.pending.subarray(0, 12);
      const type = h[1]!;
      const flags = (h[2]! << 8) | h[3]!;
      const length = ((h[8]! << 24) >>> 0) + (h[9]! << 16) + (h[10]! << 8) + h[11]!;
      const size = type === DATA ? 12 + length : 12;
      if (this.pending.byteLength < size) return;
      this.pending.consume(size);
      if (type === DATA) this.data++;
      if (type === WINDOW_UPDATE) {
        this.windowUpdates++;
        if (flags === 0) this.plainWindowUpdates++;
      }
    }
  }
}

interface Conn {
  sendData: (data: Uint8ArrayList) => { sentBytes: number; canSendMore: boolean };
}

const muxers: StreamMuxer[] = [];

afterEach(() => {
  for (const m of muxers.splice(0)) m.abort(new Error('test over'));
  installLazyWindowUpdates();
});

/** A muxer pair over an in-memory connection, with the frames each side writes counted. */
function setup(): { dialer: StreamMuxer; listener: StreamMuxer; out: FrameCounter; back: FrameCounter } {
  const [a, b] = multiaddrConnectionPair();
  const out = new FrameCounter();
  const back = new FrameCounter();
  for (const [conn, counter] of [
    [a, out],
    [b, back],
  ] as const) {
    const c = conn as unknown as Conn;
    const send = c.sendData.bind(conn);
    c.sendData = (data) => {
      counter.feed(data);
      return send(data);
    };
  }
  const factory = yamux()();
  const dialer = factory.createStreamMuxer(a);
  const listener = factory.createStreamMuxer(b);
  muxers.push(dialer, listener);
  return { dialer, listener, out, back };
}

/** Resolves with the bytes received on the listener's first inbound stream once `total` arrived. */
function receive(
  listener: StreamMuxer,
  total: number,
): { done: Promise<Uint8Array>; stream: Promise<Stream> } {
  let onStream: (s: Stream) => void = () => {};
  const stream = new Promise<Stream>((r) => {
    onStream = r;
  });
  const done = new Promise<Uint8Array>((resolve) => {
    listener.addEventListener('stream', (evt) => {
      const s = evt.detail;
      onStream(s);
      const got = new Uint8ArrayList();
      s.addEventListener('message', (m) => {
        got.append(m.data instanceof Uint8Array ? m.data : m.data.subarray());
        if (got.byteLength >= total) resolve(got.subarray());
      });
    });
  });
  return { done, stream };
}

/**
 * Sends every chunk, waiting for 'drain' whenever the stream asks; `spaced` lets the event loop turn
 * between chunks, so each leaves as its own data frame (as gossip messages do).
 */
async function sendAll(s: Stream, chunks: Uint8Array[], spaced = false): Promise<void> {
  for (const c of chunks) {
    if (!s.send(c)) await s.onDrain();
    if (spaced) await new Promise((r) => setImmediate(r));
  }
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  return new Uint8ArrayList(...chunks).subarray();
}

describe('yamux window updates (ADR 0240)', () => {
  it('is installed on the library class, and a fresh stream has the fields it reads', async () => {
    expect(installLazyWindowUpdates()).toBe(true);
    expect(lazyWindowUpdatesInstalled()).toBe(true);
    expect(typeof YamuxStream.prototype.sendWindowUpdate).toBe('function');
    const { dialer } = setup();
    const s = await dialer.createStream();
    expect(s).toBeInstanceOf(YamuxStream);
    expect(() => assertYamuxShape(s)).not.toThrow();
    expect(() => assertYamuxShape({})).toThrow(/no longer has the fields/);
  });

  it('many small messages: all arrive, in order, with almost no window updates', async () => {
    installLazyWindowUpdates();
    const { dialer, listener, out, back } = setup();
    const chunks = Array.from({ length: 3000 }, (_, i) => pattern(150, i));
    const want = concat(chunks);
    const { done } = receive(listener, want.byteLength);
    const s = await dialer.createStream();
    await sendAll(s, chunks, true);
    expect(Buffer.from(await done).equals(Buffer.from(want))).toBe(true);
    expect(out.data).toBeGreaterThanOrEqual(3000);
    // 450 kB through a 256 KiB window: one update per half window, not one per data frame.
    expect(back.plainWindowUpdates).toBeLessThanOrEqual(4);
    expect(back.plainWindowUpdates).toBeGreaterThanOrEqual(1);
    expect(back.windowUpdates).toBeLessThan(out.data / 100);
  });

  it('a transfer several times the window arrives whole without stalling', async () => {
    installLazyWindowUpdates();
    const { dialer, listener, out, back } = setup();
    const chunks = Array.from({ length: 48 }, (_, i) => pattern(64 * 1024, i));
    const want = concat(chunks);
    const { done } = receive(listener, want.byteLength);
    const s = await dialer.createStream();
    await sendAll(s, chunks);
    expect(Buffer.from(await done).equals(Buffer.from(want))).toBe(true);
    expect(back.plainWindowUpdates).toBeGreaterThanOrEqual(1);
    expect(back.windowUpdates).toBeLessThan(out.data);
  });

  it('a reader paused past the window resumes and gets everything', async () => {
    installLazyWindowUpdates();
    const { dialer, listener } = setup();
    const chunks = Array.from({ length: 16 }, (_, i) => pattern(64 * 1024, i + 7));
    const want = concat(chunks);
    const { done, stream } = receive(listener, want.byteLength);
    const s = await dialer.createStream();
    const first = s.send(chunks[0]!);
    const inbound = await stream;
    inbound.pause();
    const sending = sendAll(s, chunks.slice(1));
    // The sender runs out of window while the reader is paused.
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (s.writeBufferLength > 0) resolve();
        else setTimeout(check, 5);
      };
      check();
    });
    expect(first).toBe(true);
    inbound.resume();
    await sending;
    expect(Buffer.from(await done).equals(Buffer.from(want))).toBe(true);
  });

  it('the library alone sends one window update per data frame (what the policy removes)', async () => {
    uninstallLazyWindowUpdates();
    expect(lazyWindowUpdatesInstalled()).toBe(false);
    const { dialer, listener, out, back } = setup();
    const chunks = Array.from({ length: 500 }, (_, i) => pattern(150, i));
    const { done } = receive(listener, 500 * 150);
    const s = await dialer.createStream();
    await sendAll(s, chunks, true);
    await done;
    expect(out.data).toBeGreaterThanOrEqual(500);
    expect(back.plainWindowUpdates).toBeGreaterThanOrEqual(out.data - 2);
  });
});
