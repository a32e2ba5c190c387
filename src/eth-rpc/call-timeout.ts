/**
 * The wall-clock bound on `eth_call` / `eth_estimateGas` (ADR 0288, config `rpc.ethCallTimeoutMs`): geth's
 * answer when a call runs past it, and the clock the main thread and the call workers share to measure it.
 */
import { RpcError } from '../rpc/index.ts';
import { ETH_SERVER_ERROR } from './admission.ts';

/** geth's `RPCEVMTimeout` default (5 s): the bound unless the config says otherwise. */
export const DEFAULT_CALL_TIMEOUT_MS = 5_000;

/**
 * Milliseconds on one clock for every thread of the process: each thread's `performance.now()` counts from
 * its own start, `timeOrigin + now()` from the same epoch (monotonic within a thread).
 */
export const sharedClock = (): number => performance.timeOrigin + performance.now();

/** A whole number of ms as Go's `time.Duration` prints it (geth's message): 300ms, 5s, 1.5s, 2m0s, 1h0m0s. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1_000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  let out = `${(ms % 60_000) / 1_000}s`;
  if (h > 0 || m > 0) out = `${m}m${out}`;
  if (h > 0) out = `${h}h${out}`;
  return out;
}

/**
 * geth's answer to a call stopped at the bound: `-32000 execution aborted (timeout = 5s)`, no data. Not
 * retryable as such (the same call runs as long again); eth_estimateGas passes it on instead of reading it
 * as "fails at this gas".
 */
export class CallTimeoutError extends RpcError {
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(ETH_SERVER_ERROR, `execution aborted (timeout = ${goDuration(timeoutMs)})`);
    this.name = 'CallTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The answer to a call that was running when two call workers exited on their own (ADR 0316): it is not
 * run a third time (one such call could end every worker in turn) nor on the main thread. Not retryable.
 */
export class CallCrashedError extends RpcError {
  constructor() {
    super(ETH_SERVER_ERROR, 'execution aborted (the call ended its call worker twice)');
    this.name = 'CallCrashedError';
  }
}
