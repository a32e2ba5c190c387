/**
 * One Noise message per event-loop turn of yamux frames (src/p2p/libp2p/noise-batch.ts, ADRs 0241, 0301): a
 * real Noise handshake (with Ordo's cipher) over an in-memory connection pair, yamux on top. Frames
 * written together leave as one Noise message, every byte arrives in order (small messages, a transfer
 * far larger than a Noise message, several streams at once), no message exceeds Noise's limit,
 * back-pressure still pauses and resumes the sender, and a close sends what was collected first.
 */
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Stream, StreamMuxer } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { multiaddrConnectionPair } from '@libp2p/utils';
import { Uint8ArrayList } from 'uint8arraylist';
import { afterEach, describe, expect, it } from 'vitest';
import { BATCH_BYTES, batchingNoise } from '../../../src/p2p/libp2p/noise-batch.ts';
import { noiseCrypto } from '../../../src/p2p/libp2p/noise-crypto.ts';
import { noiseLengthOrWait } from '../../../src/p2p/libp2p/noise-read.ts';
import { installLazyWindowUpdates } from '../../../src/p2p/libp2p/yamux-window.ts';

/** Counts the Noise messages one side writes (2-byte big-endian length, then the ciphertext). */
class NoiseCounter {
  messages = 0;
  largest = 0;
  private pending = new Uint8ArrayList();
  feed(chunk: Uint8Array | Uint8ArrayList): void {
    this.pending.append(chunk instanceof Uint8Array ? chunk : chunk.subarray());
    while (this.pending.byteLength >= 2) {
      const len = (this.pending.get(0) << 8) | this.pending.get(1);
      if (this.pending.byteLength < 2 + len) return;
      this.pending.consume(2 + len);
      this.messages++;
      this.largest = Math.max(this.largest, len);
    }
  }
}

interface RawConn {
  sendData: (data: Uint8ArrayList) => { sentBytes: number; canSendMore: boolean };
}

const muxers: StreamMuxer[] = [];
afterEach(() => {
  for (const m of muxers.splice(0)) m.abort(new Error('test over'));
});

interface Pair {
  dialer: StreamMuxer;
  listener: StreamMuxer;
  /** Noise messages the dialer's side wrote since the handshake. */
  out: NoiseCounter;
  encrypted: [unknown, unknown];
}

async function setup(batch: boolean): Promise<Pair> {
  installLazyWindowUpdates();
  const [a, b] = multiaddrConnectionPair();
  let counting = false;
  const out = new NoiseCounter();
  const raw = a as unknown as RawConn;
  const send = raw.sendData.bind(a);
  raw.sendData = (data) => {
    if (counting) out.feed(data);
    return send(data);
  };
  const [ka, kb] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')]);
  const components = (privateKey: typeof ka, log: typeof a.log) => ({
    privateKey,
    logger: { forComponent: () => log },
    upgrader: { getStreamMuxers: () => new Map() },
  });
  const factory = batch
    ? batchingNoise({ crypto: noiseCrypto })
    : (await import('@chainsafe/libp2p-noise')).noise({ crypto: noiseCrypto });
  const ea = factory(components(ka, a.log) as any);
  const eb = factory(components(kb, b.log) as any);
  const [sa, sb] = await Promise.all([
    ea.secureOutbound(a, { remotePeer: peerIdFromPrivateKey(kb), skipStreamMuxerNegotiation: true }),
    eb.secureInbound(b, { skipStreamMuxerNegotiation: true }),
  ]);
  counting = true;
  const mux = yamux({ enableKeepAlive: false })();
  const dialer = mux.createStreamMuxer(sa.connection as any);
  const listener = mux.createStreamMuxer(sb.connection as any);
  muxers.push(dialer, listener);
  return { dialer, listener, out, encrypted: [sa.connection, sb.connection] };
}

/** Collects what arrives on every inbound stream, by stream protocol-less index. */
function collect(listener: StreamMuxer): { streams: Uint8ArrayList[]; total: () => number } {
  const streams: Uint8ArrayList[] = [];
  listener.addEventListener('stream', (evt) => {
    const got = new Uint8ArrayList();
    streams.push(got);
    evt.detail.addEventListener('message', (m) => {
      got.append(m.data instanceof Uint8Array ? m.data : m.data.subarray());
    });
  });
  return { streams, total: () => streams.reduce((n, s) => n + s.byteLength, 0) };
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 2));
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 7) & 0xff;
  return b;
}

async function openStreams(m: StreamMuxer, n: number): Promise<Stream[]> {
  const streams: Stream[] = [];
  for (let i = 0; i < n; i++) {
    const s = await m.createStream();
    s.send(new Uint8Array([i]));
    streams.push(s);
  }
  return streams;
}

describe('batched Noise writes (ADR 0241)', () => {
  it('frames of one synchronous run leave as one Noise message; the library sends one each', async () => {
    const counts: number[] = [];
    for (const batch of [true, false]) {
      const { dialer, listener, out } = await setup(batch);
      const got = collect(listener);
      const streams = await openStreams(dialer, 3);
      await until(() => got.streams.length === 3 && got.total() === 3);
      const before = out.messages;
      // One synchronous run: 3 streams × 10 small messages.
      for (let k = 0; k < 10; k++) for (const [i, s] of streams.entries()) s.send(pattern(60, i * 10 + k));
      await until(() => got.total() === 3 + 3 * 10 * 60);
      counts.push(out.messages - before);
      for (const [i, rx] of got.streams.entries()) {
        const want = new Uint8ArrayList(new Uint8Array([i]));
        for (let k = 0; k < 10; k++) want.append(pattern(60, i * 10 + k));
        expect(Buffer.from(rx.subarray()).equals(Buffer.from(want.subarray())), `stream ${i}`).toBe(true);
      }
      for (const m of muxers.splice(0)) m.abort(new Error('next'));
    }
    const [batched, library] = counts;
    expect(batched).toBe(1);
    // (Fewer than 30: the in-memory pair makes streams queue some sends; still several per run.)
    expect(library).toBeGreaterThanOrEqual(3);
  });

  it('frames of several runs in one event-loop turn leave as one Noise message (ADR 0301)', async () => {
    const { dialer, listener, out, encrypted } = await setup(true);
    // Both sides read message lengths without exceptions (ADR 0302).
    for (const e of encrypted) {
      expect((e as { decoder: { lengthDecoder: unknown } }).decoder.lengthDecoder).toBe(noiseLengthOrWait);
    }
    const got = collect(listener);
    const streams = await openStreams(dialer, 3);
    await until(() => got.streams.length === 3 && got.total() === 3);
    const before = out.messages;
    // Three answers, each in its own callback of one turn (as a node answers each message a poll phase
    // hands it): the microtasks between callbacks would have sealed each on its own.
    await new Promise<void>((resolve) => {
      for (const [i, s] of streams.entries()) {
        setImmediate(() => {
          s.send(pattern(40, i));
          if (i === streams.length - 1) resolve();
        });
      }
    });
    await until(() => got.total() === 3 + 3 * 40);
    expect(out.messages - before).toBe(1);
    for (const [i, rx] of got.streams.entries()) {
      expect(Buffer.from(rx.subarray(1)).equals(Buffer.from(pattern(40, i))), `stream ${i}`).toBe(true);
    }
  });

  it('a transfer far larger than a Noise message arrives whole; no message exceeds the limit', async () => {
    const { dialer, listener, out } = await setup(true);
    const got = collect(listener);
    const [s] = await openStreams(dialer, 1);
    const chunks = [
      ...Array.from({ length: 200 }, (_, i) => pattern(100 + (i % 50), i)),
      pattern(3 * 65_536 + 17, 1),
      pattern(BATCH_BYTES, 2),
      pattern(BATCH_BYTES + 1, 3),
      ...Array.from({ length: 200 }, (_, i) => pattern(1000 + i, i + 9)),
      pattern(2 * 1024 * 1024, 4),
    ];
    let total = 1;
    for (const [i, c] of chunks.entries()) {
      total += c.byteLength;
      if (!s!.send(c)) await s!.onDrain();
      if (i % 7 === 0) await new Promise((r) => setImmediate(r));
    }
    await until(() => got.total() === total);
    const want = new Uint8ArrayList(new Uint8Array([0]), ...chunks);
    expect(Buffer.from(got.streams[0]!.subarray()).equals(Buffer.from(want.subarray()))).toBe(true);
    expect(out.largest).toBeLessThanOrEqual(65_535);
  });

  it('back-pressure: a sender told to wait for drain is resumed, and close sends what was collected', async () => {
    const { dialer, listener, encrypted } = await setup(true);
    const got = collect(listener);
    const [s] = await openStreams(dialer, 1);
    await until(() => got.total() === 1);
    // The connection below reports "full": a collected chunk must say so too.
    const below = (encrypted[0] as { stream: { writableNeedsDrain: boolean } }).stream;
    const conn = encrypted[0] as { sendData: (d: Uint8Array) => { canSendMore: boolean } };
    below.writableNeedsDrain = true;
    expect(conn.sendData(new Uint8Array(0)).canSendMore).toBe(false);
    below.writableNeedsDrain = false;
    expect(conn.sendData(new Uint8Array(0)).canSendMore).toBe(true);
    const payload = pattern(5000, 5);
    s!.send(payload);
    // Closed in the same synchronous run as the send: the collected frames still leave first.
    const closing = (encrypted[0] as { close: () => Promise<void> }).close();
    await until(() => got.total() === 1 + payload.byteLength);
    await closing;
    expect(Buffer.from(got.streams[0]!.subarray(1)).equals(Buffer.from(payload))).toBe(true);
  });
});
