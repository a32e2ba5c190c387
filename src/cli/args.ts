/**
 * Argument parsing shared by the subcommands, on node:util's parseArgs: strict (unknown flags are
 * errors), with `--help` on every command and typed helpers for numbers and lists.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

export class UsageError extends Error {
  readonly usage: string;
  constructor(message: string, usage: string) {
    super(message);
    this.name = 'UsageError';
    this.usage = usage;
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  help: boolean;
}

export function parse(argv: string[], options: Options, usage: string, allowPositionals = false): Parsed {
  try {
    const r = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      strict: true,
    });
    const values = r.values as Record<string, string | boolean | undefined>;
    return { values, positionals: r.positionals, help: values.help === true };
  } catch (err) {
    throw new UsageError((err as Error).message, usage);
  }
}

export function intArg(
  p: Parsed,
  name: string,
  def: number,
  usage: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const v = p.values[name];
  if (v === undefined) return def;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer in ${min}..${max}, got "${String(v)}"`, usage);
  }
  return n;
}

export function strArg(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}
