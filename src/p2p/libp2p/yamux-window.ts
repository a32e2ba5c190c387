/**
 * Yamux receive-window updates only when they matter (ADR 0240).
 *
 * `@chainsafe/libp2p-yamux@8` sends a WINDOW_UPDATE frame after every data frame it receives (its
 * `YamuxStream.sendWindowUpdate` sends whenever any of the window has been consumed). Each one is a
 * separate yamux frame, so a separate Noise message (2-byte length + 12-byte header + 16-byte tag = 30
 * bytes) and, unless something else leaves in the same synchronous run, a separate write syscall; the
 * sender pays a read, a decrypt and a decode for it. go-yamux and rust-yamux send an update only once
 * half the window has been consumed, or when a flag (SYN/ACK) must go out.
 *
 * `installLazyWindowUpdates()` replaces the public class's method with that rule:
 * - a flag due (state Init → SYN, SYNReceived → ACK): send at once, as the library does;
 * - paused (the reader is not keeping up): send nothing, as the library does (the epoch restarts);
 * - otherwise send only when at least half of the current receive window has been consumed. The
 *   library's auto-tuning is kept: when an update is due and the half window was consumed within four
 *   round trips of the previous update, the window doubles (up to the stream's maximum), as in go-yamux.
 *
 * No stall: the sender may still send what the receiver's capacity allows, and the receiver re-checks
 * after every data frame. While the update is held back, more than half the window is still open, so
 * the sender can send, and as soon as it has used the first half the update goes out. A resume after a
 * pause re-checks the same way (a window used up while paused is then more than half consumed).
 *
 * The override is guarded: it is installed only when the class has the methods it relies on, and each
 * call checks the fields it reads; anything unexpected runs the library's own method instead. The unit
 * test (test/unit/p2p/yamux-window.test.ts) fails loudly if the library's shape changes.
 */
import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream';

/** The yamux WINDOW_UPDATE frame type (the specification's value 1). */
const WINDOW_UPDATE = 1;

/** The fields of a `YamuxStream` the policy reads and writes (private in the library's typings). */
interface StreamFields {
  state: StreamState;
  streamId: number;
  recvWindow: number;
  recvWindowCapacity: number;
  maxStreamWindowSize: number;
  epochStart: number;
  getRTT: () => number;
  sendFrame: (header: { type: number; flag: number; streamID: number; length: number }) => boolean;
  getSendFlags: () => number;
}

type SendWindowUpdate = (this: YamuxStream) => void;

const proto = YamuxStream.prototype as unknown as Record<string, unknown>;
let original: SendWindowUpdate | undefined;

/** True when `s` has every field the policy uses, with the expected types. */
function hasExpectedShape(s: Partial<StreamFields>): s is StreamFields {
  return (
    typeof s.state === 'number' &&
    typeof s.streamId === 'number' &&
    typeof s.recvWindow === 'number' &&
    typeof s.recvWindowCapacity === 'number' &&
    typeof s.maxStreamWindowSize === 'number' &&
    typeof s.epochStart === 'number' &&
    typeof s.getRTT === 'function' &&
    typeof s.sendFrame === 'function' &&
    typeof s.getSendFlags === 'function'
  );
}

/** The update policy for one stream; a stream of unexpected shape runs the library's method. */
function lazySendWindowUpdate(this: YamuxStream): void {
  const s = this as unknown as Partial<StreamFields>;
  if (!hasExpectedShape(s)) {
    original?.call(this);
    return;
  }
  if (s.state === StreamState.Paused) {
    s.epochStart = Date.now();
    return;
  }
  const flagDue = s.state === StreamState.Init || s.state === StreamState.SYNReceived;
  const consumed = s.recvWindow - s.recvWindowCapacity;
  if (!flagDue && consumed * 2 < s.recvWindow) return;
  const flags = s.getSendFlags();
  const now = Date.now();
  const rtt = s.getRTT();
  if (flags === 0 && rtt > -1 && now - s.epochStart <= rtt * 4) {
    s.recvWindow = Math.min(s.recvWindow * 2, s.maxStreamWindowSize);
  }
  const delta = s.recvWindow - s.recvWindowCapacity;
  s.recvWindowCapacity = s.recvWindow;
  s.epochStart = now;
  s.sendFrame({ type: WINDOW_UPDATE, flag: flags, streamID: s.streamId, length: delta });
}

/** Why the policy could not be installed: the library no longer has the shape it relies on. */
export class YamuxShapeError extends Error {
  readonly code = 'P2P_YAMUX_SHAPE';
  constructor(message: string) {
    super(message);
    this.name = 'YamuxShapeError';
  }
}

/**
 * Install the policy on `YamuxStream` (idempotent). Returns false, leaving the library untouched, when
 * the class does not have the methods the policy relies on.
 */
export function installLazyWindowUpdates(): boolean {
  if (original !== undefined) return true;
  const current = proto.sendWindowUpdate;
  if (
    typeof current !== 'function' ||
    typeof proto.getSendFlags !== 'function' ||
    typeof proto.handleData !== 'function' ||
    typeof proto.sendResume !== 'function' ||
    StreamState.Paused === undefined ||
    StreamState.SYNReceived === undefined
  ) {
    return false;
  }
  original = current as SendWindowUpdate;
  proto.sendWindowUpdate = lazySendWindowUpdate;
  return true;
}

/** Put the library's own method back (tests compare the two). */
export function uninstallLazyWindowUpdates(): void {
  if (original === undefined) return;
  proto.sendWindowUpdate = original;
  original = undefined;
}

/** Whether the policy is installed. */
export function lazyWindowUpdatesInstalled(): boolean {
  return original !== undefined;
}

/**
 * Throws `YamuxShapeError` when a fresh stream lacks a field the policy reads (the library changed):
 * the policy would then silently fall back to one update per data frame.
 */
export function assertYamuxShape(stream: unknown): void {
  if (typeof stream !== 'object' || stream === null || !hasExpectedShape(stream as Partial<StreamFields>)) {
    throw new YamuxShapeError('YamuxStream no longer has the fields the window-update policy reads');
  }
}
