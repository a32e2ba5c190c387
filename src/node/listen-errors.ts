/**
 * Turns the errors of binding a listener (JSON-RPC, gRPC, p2p) into one line an operator can act on:
 * what could not listen, on which address, why, and which flag or config key to change. Libraries
 * report the same failure in many shapes (Node's `EADDRINUSE` on the error or its cause, gRPC's
 * "No address added ...", libp2p's wrapped message with its own advice); this module looks through the
 * cause chain for the system error code and drops everything else.
 */
import { OrdoError } from '../errors.ts';

export interface ListenerInfo {
  /** Human name: "JSON-RPC", "gRPC (rollup adapter)", "p2p". */
  what: string;
  address: string;
  /** Where to change it: e.g. `--rpc HOST:PORT or rpc.listen in /home/config.json`. */
  change: string;
}

const REASONS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use (another node or program listens there)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'this machine has no such address',
};

/** The first system error code (EADDRINUSE, EACCES, EADDRNOTAVAIL) found in the error, its causes or messages. */
export function listenErrorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && e !== undefined && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code in REASONS) return code;
    const msg = e instanceof Error ? e.message : String(e);
    for (const c of Object.keys(REASONS)) if (msg.includes(c)) return c;
    if (/address already in use/i.test(msg)) return 'EADDRINUSE';
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Rewrap a bind failure as `LISTEN_FAILED` naming the listener, the address and what to change. */
export function explainListenError(err: unknown, l: ListenerInfo): unknown {
  const code = listenErrorCode(err);
  if (code === undefined) return err;
  return new OrdoError(
    'LISTEN_FAILED',
    `${l.what} cannot listen on ${l.address}: ${REASONS[code]}; choose another address with ${l.change}`,
    { listener: l.what, address: l.address, reason: code },
  );
}

/** Run a bind step; a failure comes back through `explainListenError`. */
export async function bindListener<T>(l: ListenerInfo, bind: () => Promise<T>): Promise<T> {
  try {
    return await bind();
  } catch (err) {
    throw explainListenError(err, l);
  }
}
