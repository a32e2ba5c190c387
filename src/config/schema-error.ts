/**
 * Turns zod validation failures into one typed error whose message names every offending field
 * (`rpc.listen: expected host:port`), so an operator can fix a config or genesis file in one pass.
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

export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((i) => {
    const path = i.path.length > 0 ? i.path.map(String).join('.') : '(root)';
    return `${path}: ${i.message}`;
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
  const problems = describeIssues(r.error.issues);
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
