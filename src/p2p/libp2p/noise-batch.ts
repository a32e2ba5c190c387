/**
 * One Noise message for all the yamux frames written to a peer in one event-loop turn (ADRs 0241, 0301).
 *
 * `@chainsafe/libp2p-noise` encrypts every chunk it is handed as its own Noise message, and the yamux
 * muxer hands it every frame on its own: a gossip message to a peer is a data frame (header and body in
 * one chunk), an IDONTWANT another, a window update another, so each costs a 2-byte length prefix, a
 * 16-byte tag, one seal here and one open at the peer (with their fixed per-call costs), even when
 * coalesce.ts (ADR 0210) then writes them in one syscall.
 *
 * `batchNoiseWrites(conn)` replaces the `sendData` of a Noise connection (the encrypted stream the
 * muxer writes to): small chunks are copied into a per-connection buffer and sealed together by a
 * `setImmediate` queued by the first of them, so everything the muxer sends to a peer in one turn of
 * the event loop leaves as one Noise message (and, through coalesce.ts, one `writev`).
 * - Why a turn and not a synchronous run (ADR 0301; a microtask until then): a node answers each
 *   received message on its own — an IDONTWANT to its other mesh peers for every batch, a vote for
 *   every proposal — and under load one poll phase hands it several received messages, each handled
 *   in its own run, so each answer was a Noise message, a seal, a syscall and a peer's read and open of
 *   its own. The check phase that runs the immediate comes right after the poll phase that queued it,
 *   before any timer and before the next wait for I/O: a frame waits at most for the rest of the
 *   current turn's callbacks, never for a clock.
 * - The plaintext the peer decrypts is the same byte sequence (yamux frames carry their own lengths;
 *   the decoder reads frames across message boundaries), so no peer needs to know.
 * - Size: the buffer is `BATCH_BYTES` (16 KiB, below Noise's 65,535-byte message limit); a chunk that
 *   does not fit seals what is collected first; a chunk larger than the buffer is sealed at once after
 *   it, as before (the library splits it into Noise messages).
 * - Order: every chunk goes through the buffer or flushes it before leaving, so bytes keep their order.
 * - Back-pressure: a collected chunk reports the transport's state (`canSendMore` false while the
 *   connection below waits for 'drain', which it then emits), so the muxer pauses its streams as it
 *   would have; at most one buffer's worth more is accepted.
 * - Copying at `sendData` means the caller's buffers may change after the call, as before. The buffer
 *   is reused after each seal: the seal reads it synchronously and returns new ciphertext.
 * - Close flushes first; after an abort what was collected is dropped, as the library drops its queue.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { leanNoiseReads } from './noise-read.ts';

/** The largest plaintext collected into one Noise message (Noise allows 65,535 bytes with the tag). */
export const BATCH_BYTES = 16 * 1024;

interface SendResult {
  sentBytes: number;
  canSendMore: boolean;
}

type Chunk = Uint8Array | Iterable<Uint8Array>;

/** What this module needs of a Noise connection (`@chainsafe/libp2p-noise`'s class is not exported). */
interface EncryptedConnLike {
  status?: string;
  stream?: { writableNeedsDrain?: boolean };
  sendData?: (data: Chunk & { byteLength: number }) => SendResult;
  close?: (options?: unknown) => Promise<void>;
  abort?: (err: Error) => void;
}

const batched = new WeakSet<object>();

/**
 * Make `conn` (a Noise connection as `secureInbound`/`secureOutbound` return it) seal the chunks of one
 * event-loop turn together. Anything without `sendData` and an underlying `stream` is left as it is;
 * calling it twice is harmless.
 */
export function batchNoiseWrites(conn: unknown): void {
  if (typeof conn !== 'object' || conn === null || batched.has(conn)) return;
  const c = conn as EncryptedConnLike;
  const below = c.stream;
  const sendData = c.sendData;
  if (typeof sendData !== 'function' || typeof below !== 'object' || below === null) return;
  batched.add(conn);
  const send = (data: Uint8Array | (Chunk & { byteLength: number })): SendResult => sendData.call(c, data);
  let buf: Uint8Array | undefined;
  let used = 0;
  let queued = false;

  /** Seal and send what is collected, as one Noise message. */
  const flushNow = (): void => {
    if (used === 0 || buf === undefined) return;
    const n = used;
    used = 0;
    send(buf.subarray(0, n));
  };
  const flushQueued = (): void => {
    queued = false;
    if (used === 0) return;
    if (c.status === 'aborted' || c.status === 'reset' || c.status === 'closed') {
      used = 0;
      return;
    }
    try {
      flushNow();
    } catch (err) {
      // What the library's own send queue does when sendData throws.
      c.abort?.(err instanceof Error ? err : new Error(String(err)));
    }
  };

  c.sendData = (data) => {
    const n = data.byteLength;
    if (n > BATCH_BYTES) {
      flushNow();
      return send(data);
    }
    if (used + n > BATCH_BYTES) flushNow();
    buf ??= new Uint8Array(BATCH_BYTES);
    if (data instanceof Uint8Array) {
      buf.set(data, used);
      used += n;
    } else {
      for (const part of data) {
        buf.set(part, used);
        used += part.byteLength;
      }
    }
    if (!queued) {
      queued = true;
      setImmediate(flushQueued);
    }
    return { sentBytes: n, canSendMore: below.writableNeedsDrain !== true };
  };

  // A graceful close ends the connection below: what was collected must be sent before that.
  const close = c.close;
  if (typeof close === 'function') {
    c.close = async (options?: unknown) => {
      flushNow(); // a failure here rejects the close, as the library's own failed send would
      return close.call(c, options);
    };
  }
}

type NoiseInit = Parameters<typeof noise>[0];
type EncrypterFactory = ReturnType<typeof noise>;
type Components = Parameters<EncrypterFactory>[0];

/**
 * `noise(init)` whose secured connections (inbound and outbound) batch their writes and open large
 * received messages without copying them together first (noise-read.ts, ADR 0272).
 */
export function batchingNoise(init?: NoiseInit): EncrypterFactory {
  const factory = noise(init);
  return (components: Components) => {
    const enc = factory(components);
    const secureInbound = enc.secureInbound.bind(enc);
    const secureOutbound = enc.secureOutbound.bind(enc);
    enc.secureInbound = async (conn, options) => {
      const secured = await secureInbound(conn, options);
      batchNoiseWrites(secured.connection);
      leanNoiseReads(secured.connection);
      return secured;
    };
    enc.secureOutbound = async (conn, options) => {
      const secured = await secureOutbound(conn, options);
      batchNoiseWrites(secured.connection);
      leanNoiseReads(secured.connection);
      return secured;
    };
    return enc;
  };
}
