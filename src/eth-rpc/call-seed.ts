/**
 * The seed replica of one EVM rollup's call workers (ADR 0315): a worker thread that holds a copy of the
 * rollup's committed state, kept current by the same diff feed as the call workers, and runs no call. A
 * call worker (re)spawned by the pool gets its state from here, over a MessageChannel, instead of from a
 * snapshot the main thread builds of the executor's whole state: a respawn then costs the main thread a
 * thread start and one message, whatever the state's size. No client code runs here, so a call that runs
 * to the wall-clock bound (or crashes its worker) cannot take the seed with it. It loads no EVM.
 *
 * Messages in:  {t:'load', height, state}   the main thread's snapshot (first message; at start, or when
 *                                           this thread is replaced)
 *               {t:'diff', height, diff}    a committed height's net diff (null = deleted)
 *               {t:'give', port}            post this replica, at the height reached, on `port`
 * Messages out: {t:'ready'} after the snapshot. On a `give` port: {t:'load', height, state} (call-worker.ts).
 *
 * Messages are handled in arrival order, one at a time: a `give` posted after a height's diff sends that
 * height's state, and the pool posts every later diff to the new call worker itself.
 */
import { type MessagePort, parentPort } from 'node:worker_threads';

export type CallSeedIn =
  | { t: 'load'; height: number; state: Map<string, string> }
  | { t: 'diff'; height: number; diff: readonly [string, string | null][] }
  | { t: 'give'; port: MessagePort };

const port = parentPort;
if (port === null) throw new Error('the call seed must run in a worker thread');

let replica = new Map<string, string>();
let height = -1;

port.on('message', (m: CallSeedIn) => {
  if (m.t === 'load') {
    replica = m.state;
    height = m.height;
    port.postMessage({ t: 'ready' });
  } else if (m.t === 'diff') {
    if (m.height <= height) return; // already in the snapshot
    // A height's diff went missing: this replica is wrong from here on. End the thread; the pool
    // replaces it from a fresh snapshot.
    if (m.height !== height + 1) process.exit(1);
    for (const [k, v] of m.diff) {
      if (v === null) replica.delete(k);
      else replica.set(k, v);
    }
    height = m.height;
  } else {
    // The structured clone of the whole replica runs on this thread, its rebuild on the receiving one.
    // Posting on a port whose worker is gone drops the message; closing it after the post still delivers
    // it (a close is queued behind it), and this thread keeps no port of a worker (ADR 0303).
    m.port.postMessage({ t: 'load', height, state: replica });
    m.port.close();
  }
});
