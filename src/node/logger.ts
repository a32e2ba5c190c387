/**
 * One pino root logger per process; every component gets a child with a `module` field.
 * Level policy (docs/operating.md): error = the node cannot do its job without intervention; warn =
 * something was wrong but the node recovered (bad peer input, torn WAL tail, dropped subscriber);
 * info = lifecycle and one line per committed block; debug = per-message detail; trace = hot paths.
 *
 * Formats (`--log-format`, config `log.format`): `json` is one JSON object per line with the level
 * as a word (`"level":"info"`, for log shippers); `pretty` is pino's own pretty printer (pino-pretty) with readable levels and times;
 * `auto` (the default) is pretty on a terminal and JSON otherwise. Pretty output is written
 * synchronously in this thread (no transport worker), so nothing is lost at exit.
 */
import { type Logger, pino } from 'pino';
import { PinoPretty } from 'pino-pretty';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** `auto` resolves to pretty on a terminal, JSON otherwise. */
export function resolveLogFormat(
  format: LogFormat,
  isTty = process.stdout.isTTY === true,
): 'json' | 'pretty' {
  return format === 'auto' ? (isTty ? 'pretty' : 'json') : format;
}

export function createLogger(
  level: string,
  base: Record<string, unknown> = {},
  format: LogFormat = 'json',
): Logger {
  const opts = { level, base: { pid: process.pid, ...base }, timestamp: pino.stdTimeFunctions.isoTime };
  // JSON says "level":"info" rather than pino's numeric 30, so a log line reads without a lookup table.
  if (resolveLogFormat(format) === 'json')
    return pino({ ...opts, formatters: { level: (label: string) => ({ level: label }) } });
  const pretty = PinoPretty({
    colorize: process.stdout.isTTY === true,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,node,module',
    singleLine: true,
    messageFormat: '{if module}[{module}] {end}{msg}',
  });
  return pino(opts, pretty);
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
