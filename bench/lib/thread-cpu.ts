/**
 * CPU by thread for benchmarks of real node processes (Linux /proc): user + system ticks of every thread
 * of a process summed by thread name (/proc/<pid>/task/<tid>/comm: `MainThread`, `WorkerThread` for
 * worker_threads, `V8Worker` for V8's GC and compiler helpers, `libuv-worker`), and the difference of two
 * snapshots in CPU seconds. The same reading as bench:eth's threadCpuMicrosPerTx, for bench:bundles.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let hz = 0;
/** Clock ticks per second (getconf CLK_TCK; 100 when it cannot be read). */
export function ticksPerSecond(): number {
  if (hz === 0) {
    try {
      hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      hz = 100;
    }
  }
  return hz;
}

function statTicks(path: string): number {
  const s = readFileSync(path, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

/** user + system ticks of each thread of `pid`, summed by thread name; empty once the process is gone. */
export function ticksByThreadName(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out.set(name, (out.get(name) ?? 0) + statTicks(`/proc/${pid}/task/${tid}/stat`));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** One snapshot per process: `ticksByThreadName` of each pid. */
export function snapshotThreads(pids: number[]): Map<string, number>[] {
  return pids.map((p) => ticksByThreadName(p));
}

/**
 * CPU seconds per thread name used between two snapshots of the same pids, summed over the processes.
 * A thread that ended inside the window loses its ticks (they are not in the second snapshot); a thread
 * that started inside it counts from zero.
 */
export function threadSecondsBetween(
  a: Map<string, number>[],
  b: Map<string, number>[],
): Record<string, number> {
  const out: Record<string, number> = {};
  b.forEach((after, k) => {
    for (const [name, t] of after) {
      const d = t - (a[k]?.get(name) ?? 0);
      if (d > 0) out[name] = (out[name] ?? 0) + d / ticksPerSecond();
    }
  });
  return out;
}
