/**
 * One pino root logger per process; every component gets a child with a `module` field.
 * Level policy (docs/operating.md): error = the node cannot do its job without intervention; warn =
 * something was wrong but the node recovered (bad peer input, torn WAL tail, dropped subscriber);
 * info = lifecycle and one line per committed block; debug = per-message detail; trace = hot paths.
 */
import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...base }, timestamp: pino.stdTimeFunctions.isoTime });
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
