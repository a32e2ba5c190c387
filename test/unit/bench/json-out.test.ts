/**
 * bench/lib/json-out.ts: a benchmark's result is the same two-space JSON text, with one trailing newline,
 * on stdout and in `--out FILE`, whose folder is created when missing; no file without `--out`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resultText, writeResult } from '../../../bench/lib/json-out.ts';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('bench result writer', () => {
  it('prints and writes the same text, creating the folder', () => {
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      printed.push(String(s));
      return true;
    });
    const dir = mkdtempSync(join(tmpdir(), 'json-out-'));
    dirs.push(dir);
    const file = join(dir, 'a', 'b', 'r.json');
    const result = { bench: 'x', n: 1, list: [1, 2] };
    const text = writeResult(result, file);
    expect(text).toBe(`${JSON.stringify(result, null, 2)}\n`);
    expect(resultText(result)).toBe(text);
    expect(printed).toEqual([text]);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('writes no file without --out (or with an empty one) and can stay silent', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    writeResult({ a: 1 }, undefined);
    writeResult({ a: 1 }, '');
    expect(write).toHaveBeenCalledTimes(2);
    write.mockClear();
    const dir = mkdtempSync(join(tmpdir(), 'json-out-'));
    dirs.push(dir);
    writeResult({ a: 1 }, join(dir, 'quiet.json'), { print: false });
    expect(write).not.toHaveBeenCalled();
    expect(existsSync(join(dir, 'quiet.json'))).toBe(true);
  });
});
