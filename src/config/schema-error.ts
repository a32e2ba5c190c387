/**
 * Turns zod validation failures into one typed error whose message names every offending field, the
 * value found and what is allowed (`rpc.listen: expected host:port, e.g. 127.0.0.1:8545 (got "nope")`),
 * so an operator can fix a config or genesis file in one pass.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { OrdoError } from '../errors.ts';

export type ConfigErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_UNREADABLE'
  | 'GENESIS_INVALID'
  | 'GENESIS_UNREADABLE';

export class ConfigError extends OrdoError<ConfigErrorCode> {
  constructor(code: ConfigErrorCode, message: string, data: Record<string, unknown> = {}, cause?: unknown) {
    super(code, message, data, { cause });
    this.name = 'ConfigError';
  }
}

/** The value at `path` inside `root`, or undefined when the path does not exist. */
function valueAt(root: unknown, path: readonly PropertyKey[]): { found: boolean; value?: unknown } {
  let v: unknown = root;
  for (const k of path) {
    if (v === null || typeof v !== 'object' || !(String(k) in (v as object))) return { found: false };
    v = (v as Record<string, unknown>)[String(k)];
  }
  return { found: true, value: v };
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** One line per issue: `path: what is allowed (got VALUE)`; `input` is the value that was checked. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], input?: unknown): string[] {
  return issues.map((i) => {
    const path = i.path.length > 0 ? i.path.map(String).join('.') : '(root)';
    if (i.code === 'unrecognized_keys') {
      const where = i.path.length > 0 ? `${path}: ` : '';
      return `${where}${i.message} (not a setting here; check the spelling against the reference)`;
    }
    const at = input === undefined ? { found: false } : valueAt(input, i.path);
    const got = at.found ? ` (got ${show(at.value)})` : ' (missing)';
    return `${path}: ${i.message}${got}`;
  });
}

export function parseOrThrow<T>(
  schema: z.ZodType<T>,
  value: unknown,
  code: ConfigErrorCode,
  file: string,
): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const problems = describeIssues(r.error.issues, value);
  throw new ConfigError(code, `${file} is invalid:\n  ${problems.join('\n  ')}`, { file, problems });
}

/** Read and JSON-parse a config-like file; errors name the file and say whether it was unreadable or not JSON. */
export function readJsonFile(
  file: string,
  what: string,
  codes: { unreadable: ConfigErrorCode; invalid: ConfigErrorCode },
): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      codes.unreadable,
      `cannot read ${what} file ${file}: ${(err as Error).message}`,
      { file },
      err,
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      codes.invalid,
      `${what} file ${file} is not valid JSON: ${(err as Error).message}`,
      { file },
      err,
    );
  }
}
