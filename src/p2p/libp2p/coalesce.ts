/**
 * Fewer, larger socket writes for libp2p's TCP connections (ADR 0210).
 *
 * `@libp2p/tcp` hands every chunk of a send to `socket.write` on its own, and the layers above send
 * small chunks: each yamux frame becomes one Noise message, and each Noise message is two chunks (its
 * 2-byte length prefix and the ciphertext). So one gossip message to one peer cost four write
 * syscalls, and a validator made ~1,200 of them a second at 5,000 tx/s (strace: 2-, 28- and 16-byte
 * writes), each a full pass through the kernel's loopback TCP path.
 *
 * `coalescingTcp` wraps the transport and replaces `sendData` of every TCP connection it makes or
 * accepts: the chunks are collected and written in a microtask queued by the first of them (corked, so
 * several leave in one `writev`): everything sent in one synchronous run is one syscall. A microtask,
 * not `process.nextTick`:
 * Node runs next-tick callbacks only once the whole microtask queue is empty, so under load a long
 * chain of promise callbacks (a batch admitted in the gossip validator) would hold a corked IDONTWANT
 * or vote back for its whole length. The bytes on the wire and their order are unchanged; only the
 * syscall boundaries move.
 *
 * Back-pressure: the stream above is told to wait once the socket's buffer plus the collected chunks
 * reach `MAX_BUFFERED_BYTES`; the flush then leaves the socket above its 16 KiB high-water mark, so its
 * write() returns false and it emits the 'drain' that resumes the stream. Below the bound no 'drain'
 * round trip happens (a corked socket would report "full" past 16 KiB although nothing was tried, and
 * every such report costs a 'drain' event through libp2p's streams). A slow peer can make a
 * connection buffer at most the bound plus one send.
 */
import { Socket } from 'node:net';
import { tcp } from '@libp2p/tcp';

/** Above this many buffered bytes a connection tells its sender to wait for 'drain'. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;

type TcpInit = Parameters<typeof tcp>[0];
type TransportFactory = ReturnType<typeof tcp>;
type Components = Parameters<TransportFactory>[0];

interface SendResult {
  sentBytes: number;
  canSendMore: boolean;
}

/** What this module needs of a TCP MultiaddrConnection (`@libp2p/tcp`'s class is not exported). */
interface TcpConnLike {
  socket?: unknown;
  sendData?: (data: Iterable<Uint8Array>) => SendResult;
  sendClose?: (options?: unknown) => Promise<void>;
}

/**
 * Make `conn` (a `@libp2p/tcp` connection) coalesce its writes. Anything that is not one (no
 * net.Socket, no sendData) is left as it is; calling it twice is harmless.
 */
export function coalesceWrites(conn: unknown): void {
  if (typeof conn !== 'object' || conn === null) return;
  const c = conn as TcpConnLike;
  const socket = c.socket;
  if (!(socket instanceof Socket) || typeof c.sendData !== 'function') return;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = (): void => {
    const bufs = pending;
    pending = [];
    pendingBytes = 0;
    if (socket.destroyed || socket.writableEnded) return;
    if (bufs.length === 1) {
      socket.write(bufs[0]!);
      return;
    }
    socket.cork();
    for (const b of bufs) socket.write(b);
    socket.uncork(); // one writev
  };
  c.sendData = (data: Iterable<Uint8Array>): SendResult => {
    let sentBytes = 0;
    for (const buf of data) {
      if (pending.length === 0) queueMicrotask(flush);
      pending.push(buf);
      pendingBytes += buf.byteLength;
      sentBytes += buf.byteLength;
    }
    // Past the bound the flush's last write() returns false, so the socket will emit 'drain'.
    return { sentBytes, canSendMore: socket.writableLength + pendingBytes < MAX_BUFFERED_BYTES };
  };
  // A graceful close ends the socket: what was collected must be written before that.
  const sendClose = c.sendClose;
  if (typeof sendClose === 'function') {
    c.sendClose = (options?: unknown) => {
      if (pending.length > 0) flush();
      return sendClose.call(c, options);
    };
  }
}

interface UpgraderLike {
  upgradeInbound(conn: unknown, opts?: unknown): Promise<unknown>;
  upgradeOutbound(conn: unknown, opts?: unknown): Promise<unknown>;
}

/** The upgrader handed to the TCP transport, coalescing each connection's writes before the upgrade. */
function wrapUpgrader<U extends UpgraderLike>(u: U): U {
  const w = Object.create(u) as U;
  w.upgradeInbound = (conn, opts) => {
    coalesceWrites(conn);
    return u.upgradeInbound(conn, opts);
  };
  w.upgradeOutbound = (conn, opts) => {
    coalesceWrites(conn);
    return u.upgradeOutbound(conn, opts);
  };
  return w;
}

/** `tcp(init)` whose connections (dialled and accepted) coalesce their socket writes. */
export function coalescingTcp(init?: TcpInit): TransportFactory {
  const factory = tcp(init);
  return (components: Components) => {
    const t = factory(components);
    const dial = t.dial.bind(t);
    const createListener = t.createListener.bind(t);
    t.dial = (ma, options) => dial(ma, { ...options, upgrader: wrapUpgrader(options.upgrader) });
    t.createListener = (options) => createListener({ ...options, upgrader: wrapUpgrader(options.upgrader) });
    return t;
  };
}
