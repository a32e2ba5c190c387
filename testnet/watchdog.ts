/**
 * Preloaded into every testnet node (`node --import testnet/watchdog.ts bin/ordo.js start ...`): the
 * orchestrator hands each node the read end of a pipe as file descriptor 3 and never writes to it. When
 * the orchestrator dies for any reason — even SIGKILL — the pipe closes, and this hook sends the node a
 * SIGTERM (its normal graceful shutdown), then exits hard if that takes longer than 15 s. So a testnet
 * never leaves orphaned nodes behind. Without fd 3 (a node started by hand) it does nothing.
 */
import { fstatSync } from 'node:fs';
import { Socket } from 'node:net';

const FD = 3;

function watchParent(): void {
  try {
    if (!fstatSync(FD).isFIFO() && !fstatSync(FD).isSocket()) return;
  } catch {
    return;
  }
  const s = new Socket({ fd: FD, readable: true, writable: false });
  const gone = (): void => {
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.exit(1), 15_000).unref();
  };
  s.on('error', gone);
  s.on('close', gone);
  s.resume();
  s.unref();
}

watchParent();
