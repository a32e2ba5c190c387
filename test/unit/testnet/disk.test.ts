/**
 * The fault matrix's small disk (testnet/disk.ts) on a real tmpfs: filled to ENOSPC, freed, unmounted.
 * Needs root and mount permission; elsewhere the probe says why and the test is skipped, as the
 * matrix's disk-full case is.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fillDisk, freeDisk, mountsUnder, mountTmpfs, probeMount, unmount } from '../../../testnet/disk.ts';

const probe = probeMount();
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) {
    for (const m of mountsUnder(d)) unmount(m);
    rmSync(d, { recursive: true, force: true });
  }
});

describe('small disk', () => {
  it('the probe answers ok or names the reason', () => {
    if (!probe.ok) expect(probe.reason).toMatch(/root|mount/);
    else expect(probe).toEqual({ ok: true });
  });

  it.skipIf(!probe.ok)('fills a 4 MiB tmpfs to the last byte, frees it, and unmounts it', () => {
    const root = mkdtempSync(join(tmpdir(), 'ordo-disk-'));
    dirs.push(root);
    const data = join(root, 'node', 'data');
    mountTmpfs(data, 4);
    expect(mountsUnder(root)).toEqual([data]);
    const bytes = fillDisk(data, 64 * 1024 * 1024);
    expect(bytes).toBeGreaterThan(3 * 1024 * 1024);
    expect(bytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(() => writeFileSync(join(data, 'more'), Buffer.alloc(8192))).toThrow(/ENOSPC/);
    freeDisk(data);
    writeFileSync(join(data, 'more'), Buffer.alloc(8192));
    expect(unmount(data)).toBeUndefined();
    expect(mountsUnder(root)).toEqual([]);
  });
});
