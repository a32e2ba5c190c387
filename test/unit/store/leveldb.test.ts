import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LevelEngine, MIN_WRITE_BUFFER_BYTES, writeBufferSize } from '../../../src/store/leveldb.ts';

const MIB = 1024 * 1024;

describe('LevelDB memtable size', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('is 8 MiB plus a random part below 8 MiB', () => {
    expect(MIN_WRITE_BUFFER_BYTES).toBe(8 * MIB);
    expect(writeBufferSize(() => 0)).toBe(8 * MIB);
    expect(writeBufferSize(() => 0.5)).toBe(12 * MIB);
    expect(writeBufferSize(() => 1)).toBeLessThan(16 * MIB);
    expect(writeBufferSize(() => -3)).toBe(8 * MIB);
    // Two opens on one machine almost never share a size (that is what spreads their compactions).
    const sizes = new Set(Array.from({ length: 20 }, () => writeBufferSize()));
    expect(sizes.size).toBeGreaterThan(1);
  });

  it('opens with the chosen size and still reads back what it wrote', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ordo-ldb-'));
    dirs.push(dir);
    const fixed = new LevelEngine(join(dir, 'a'), { writeBufferSize: 9 * MIB });
    expect(fixed.writeBufferSize).toBe(9 * MIB);
    const chosen = new LevelEngine(join(dir, 'b'));
    expect(chosen.writeBufferSize).toBeGreaterThanOrEqual(8 * MIB);
    expect(chosen.writeBufferSize).toBeLessThan(16 * MIB);
    await fixed.open();
    await fixed.write([{ key: new Uint8Array([1]), value: new Uint8Array([2, 3]) }], true);
    expect(await fixed.get(new Uint8Array([1]))).toEqual(new Uint8Array([2, 3]));
    await fixed.close();
  });
});
