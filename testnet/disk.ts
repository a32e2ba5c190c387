/**
 * A small disk for the fault matrix's disk-full case: a tmpfs mounted over one node's data directory
 * before it starts (`mount -t tmpfs -o size=... tmpfs DIR`, root only), filled to the last byte with a
 * filler file while the node runs, then freed. Where mounting is not possible (not root, no mount
 * permission, no `mount` binary) `probeMount` says why and the matrix skips the case with that message;
 * it never fails for that reason. Every mount made here is listed so the caller unmounts it on every
 * exit path, and `mountsUnder` finds leftovers of an earlier run before its directory is wiped.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { errorMessage } from '../src/errors.ts';

const FILL = '.ordo-disk-fill';

/** Can this process mount a tmpfs? `{ ok: false, reason }` when not. */
export function probeMount(): { ok: true } | { ok: false; reason: string } {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { ok: false, reason: 'not root (mounting a small tmpfs needs root)' };
  }
  const dir = mkdtempSync(join(tmpdir(), 'ordo-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe', timeout: 10_000 });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return { ok: false, reason: `cannot mount a tmpfs here: ${firstLine(err)}` };
  }
  unmount(dir);
  rmSync(dir, { recursive: true, force: true });
  return { ok: true };
}

export function mountTmpfs(dir: string, sizeMb: number): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755`, 'tmpfs', dir], {
    stdio: 'pipe',
    timeout: 10_000,
  });
}

/** Unmount; lazily (`-l`) when the mount is still busy. Never throws. */
export function unmount(dir: string): string | undefined {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe', timeout: 10_000 });
    return undefined;
  } catch (err) {
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe', timeout: 10_000 });
      return undefined;
    } catch (err2) {
      return `umount ${dir} failed: ${firstLine(err)}; lazy umount: ${firstLine(err2)}`;
    }
  }
}

/** Mount points strictly below `dir` (from /proc/mounts), deepest first. */
export function mountsUnder(dir: string): string[] {
  const root = `${resolve(dir)}/`;
  let text: string;
  try {
    text = readFileSync('/proc/mounts', 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((l) => (l.split(' ')[1] ?? '').replace(/\\040/g, ' '))
    .filter((m) => m.startsWith(root))
    .sort((a, b) => b.length - a.length);
}

/**
 * Fill the filesystem holding `dir` to the last byte: write a filler file until ENOSPC (1 MiB chunks,
 * then 4 KiB ones). Bounded by `maxBytes`. Returns the bytes written.
 */
export function fillDisk(dir: string, maxBytes: number): number {
  const fd = openSync(join(dir, FILL), 'w');
  let written = 0;
  try {
    for (const chunk of [Buffer.alloc(1 << 20), Buffer.alloc(4096)]) {
      while (written < maxBytes) {
        try {
          written += writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

export function freeDisk(dir: string): void {
  rmSync(join(dir, FILL), { force: true });
}

function firstLine(err: unknown): string {
  const e = err as { stderr?: Buffer | string };
  const text =
    e.stderr !== undefined && String(e.stderr).trim() !== '' ? String(e.stderr) : errorMessage(err);
  return text.trim().split('\n')[0] ?? '';
}
