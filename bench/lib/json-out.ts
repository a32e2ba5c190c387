/**
 * How a benchmark hands back its result: indented JSON (two spaces, one trailing newline) on stdout and,
 * with `--out FILE`, the same text in FILE (its folder created when missing). One place for what the
 * benchmarks each wrote by hand, so every result file has the same shape.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The text of a result as benchmarks write it. */
export function resultText(result: unknown): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}

/**
 * Print `result` (unless `print` is false) and write it to `out` when given (an empty string is none).
 * Returns the text.
 */
export function writeResult(
  result: unknown,
  out: string | undefined,
  opts: { print?: boolean } = {},
): string {
  const text = resultText(result);
  if (opts.print ?? true) process.stdout.write(text);
  if (out !== undefined && out !== '') {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, text);
  }
  return text;
}
