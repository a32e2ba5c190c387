/**
 * CPU accounting for benchmarks that run real processes: samples the user + system CPU time of a
 * process and all its descendants from /proc (Linux), so a benchmark can charge exactly the CPU spent
 * in its measured window to the transactions committed in it (`cpuMicrosPerTx`), and a calibration that
 * makes the figure comparable across hosts: one core's ed25519 verify time through node:crypto
 * (`verifyEquivalentsPerTx` = CPU per transaction / verify time).
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

let clkTck = 0;
function ticksPerSecond(): number {
  if (clkTck === 0) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

interface ProcStat {
  ppid: number;
  /** utime + stime in clock ticks. */
  ticks: number;
  /** stime alone (time in the kernel on the process's behalf). */
  sysTicks: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]), sysTicks: Number(rest[12]) };
  } catch {
    return undefined;
  }
}

/** CPU ticks of `root` and every descendant, per pid (`sys`, when given, gets the kernel part). */
export function treeTicks(root: number, sys?: Map<number, number>): Map<number, number> {
  const stats = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const st = readStat(pid);
    if (st !== undefined) stats.set(pid, st);
  }
  const children = new Map<number, number[]>();
  for (const [pid, st] of stats) {
    const list = children.get(st.ppid) ?? [];
    list.push(pid);
    children.set(st.ppid, list);
  }
  const out = new Map<number, number>();
  const todo = [root];
  for (let i = 0; i < todo.length && i < 10_000; i++) {
    const pid = todo[i]!;
    const st = stats.get(pid);
    if (st === undefined) continue;
    out.set(pid, st.ticks);
    sys?.set(pid, st.sysTicks);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

interface Sample {
  t: number;
  ticks: Map<number, number>;
  sysTicks: Map<number, number>;
}

/** Samples a process tree's CPU every `everyMs` until stopped; answers CPU seconds over a time window. */
export class TreeCpuSampler {
  readonly #root: number;
  readonly #samples: Sample[] = [];
  readonly #timer: NodeJS.Timeout;

  constructor(root: number, everyMs = 500) {
    this.#root = root;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), everyMs);
  }

  #sample(): void {
    // Bounded: an hour at 2 samples a second.
    if (this.#samples.length >= 7200) return;
    const sysTicks = new Map<number, number>();
    this.#samples.push({ t: Date.now(), ticks: treeTicks(this.#root, sysTicks), sysTicks });
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /**
   * CPU seconds the tree used between the last sample at or before `startMs` and the first sample at or
   * after `endMs` (the window is widened by at most one sampling interval at each end). A process that
   * started inside the window counts from zero. Undefined when the window was not sampled.
   */
  cpuSecondsBetween(startMs: number, endMs: number): number | undefined {
    return this.#between(startMs, endMs, 'ticks');
  }

  /** The kernel part (stime) of `cpuSecondsBetween`. */
  systemSecondsBetween(startMs: number, endMs: number): number | undefined {
    return this.#between(startMs, endMs, 'sysTicks');
  }

  #between(startMs: number, endMs: number, which: 'ticks' | 'sysTicks'): number | undefined {
    let a: Sample | undefined;
    let b: Sample | undefined;
    for (const s of this.#samples) {
      if (s.t <= startMs) a = s;
      if (s.t >= endMs && b === undefined) b = s;
    }
    if (a === undefined || b === undefined) return undefined;
    let ticks = 0;
    for (const [pid, t] of b[which]) ticks += t - (a[which].get(pid) ?? 0);
    return ticks / ticksPerSecond();
  }
}

/**
 * One core's ed25519 verify time through node:crypto, in microseconds: the median of `rounds` batches
 * of `perRound` verifies of a 32-byte message. The host-speed yardstick for CPU-per-transaction figures.
 */
export function ed25519VerifyMicros(rounds = 5, perRound = 4000): number {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const msg = Buffer.alloc(32, 7);
  const sig = sign(null, msg, privateKey);
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) {
      if (!verify(null, msg, publicKey, sig)) throw new Error('calibration signature failed to verify');
    }
    times.push(Number(process.hrtime.bigint() - t0) / 1000 / perRound);
  }
  times.sort((x, y) => x - y);
  return Math.round(times[times.length >> 1]! * 1000) / 1000;
}
