/**
 * CPU accounting for benchmarks that run real processes: samples the user + system CPU time of a
 * process and all its descendants from /proc (Linux), so a benchmark can charge exactly the CPU spent
 * in its measured window to the transactions committed in it (`cpuMicrosPerTx`), and a calibration that
 * makes the figure comparable across hosts: one core's ed25519 verify time through node:crypto
 * (`verifyEquivalentsPerTx` = CPU per transaction / verify time), and the tree's read/write syscall
 * counts (/proc/<pid>/io), the per-message transport cost a profile charges to socket writes.
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

/** Syscall and byte counts of a process from /proc/<pid>/io (reads and writes of files and sockets). */
export interface ProcIo {
  syscr: number;
  syscw: number;
  rchar: number;
  wchar: number;
}

function readIo(pid: number): ProcIo | undefined {
  try {
    const io: ProcIo = { syscr: 0, syscw: 0, rchar: 0, wchar: 0 };
    for (const line of readFileSync(`/proc/${pid}/io`, 'utf8').split('\n')) {
      const [k, v] = line.split(': ');
      if (k === 'syscr' || k === 'syscw' || k === 'rchar' || k === 'wchar') io[k] = Number(v);
    }
    return io;
  } catch {
    return undefined;
  }
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

/** CPU seconds (user + system) process `pid` has used so far, not its children; 0 once it is gone. */
export function processCpuSeconds(pid: number): number {
  return (readStat(pid)?.ticks ?? 0) / ticksPerSecond();
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
  io: Map<number, ProcIo>;
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
    const ticks = treeTicks(this.#root, sysTicks);
    const io = new Map<number, ProcIo>();
    for (const pid of ticks.keys()) {
      const x = readIo(pid);
      if (x !== undefined) io.set(pid, x);
    }
    this.#samples.push({ t: Date.now(), ticks, sysTicks, io });
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

  /** `cpuSecondsBetween` of the root process alone (in bench:testnet the orchestrator with its load generator). */
  rootSecondsBetween(startMs: number, endMs: number): number | undefined {
    return this.#between(startMs, endMs, 'ticks', this.#root);
  }

  /** The kernel part (stime) of `cpuSecondsBetween`. */
  systemSecondsBetween(startMs: number, endMs: number): number | undefined {
    return this.#between(startMs, endMs, 'sysTicks');
  }

  /**
   * read/write syscalls and bytes of the whole tree over the window (same sample choice as CPU): socket
   * reads and writes of gossip and RPC, plus file I/O of the stores.
   */
  ioBetween(startMs: number, endMs: number): ProcIo | undefined {
    const [a, b] = this.#frame(startMs, endMs);
    if (a === undefined || b === undefined) return undefined;
    const sum: ProcIo = { syscr: 0, syscw: 0, rchar: 0, wchar: 0 };
    for (const [pid, x] of b.io) {
      const x0 = a.io.get(pid);
      for (const k of ['syscr', 'syscw', 'rchar', 'wchar'] as const) sum[k] += x[k] - (x0?.[k] ?? 0);
    }
    return sum;
  }

  #frame(startMs: number, endMs: number): [Sample | undefined, Sample | undefined] {
    let a: Sample | undefined;
    let b: Sample | undefined;
    for (const s of this.#samples) {
      if (s.t <= startMs) a = s;
      if (s.t >= endMs && b === undefined) b = s;
    }
    return [a, b];
  }

  #between(startMs: number, endMs: number, which: 'ticks' | 'sysTicks', only?: number): number | undefined {
    let a: Sample | undefined;
    let b: Sample | undefined;
    for (const s of this.#samples) {
      if (s.t <= startMs) a = s;
      if (s.t >= endMs && b === undefined) b = s;
    }
    if (a === undefined || b === undefined) return undefined;
    let ticks = 0;
    for (const [pid, t] of b[which])
      if (only === undefined || pid === only) ticks += t - (a[which].get(pid) ?? 0);
    return ticks / ticksPerSecond();
  }
}

/**
 * One core's ed25519 verify time through node:crypto, in microseconds of this process's CPU time (user +
 * system, `process.cpuUsage`): the median of `rounds` batches of `perRound` verifies of a 32-byte
 * message. CPU time, not wall time: on a shared host the wall time of a round includes every moment the
 * scheduler gave the core to another process (it varied 249–1,964 µs within single runs at load 15–30),
 * while the CPU time charged to this process only grows while it verifies. The host-speed yardstick for
 * CPU-per-transaction figures.
 */
export function ed25519VerifyMicros(rounds = 7, perRound = 4000): number {
  return ed25519VerifyCalibration(rounds, perRound).cpuMicros;
}

/** The calibration with its wall-clock counterpart and the spread of the CPU-time rounds. */
export function ed25519VerifyCalibration(
  rounds = 7,
  perRound = 4000,
): { cpuMicros: number; wallMicros: number; cpuMicrosMin: number; cpuMicrosMax: number } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const msg = Buffer.alloc(32, 7);
  const sig = sign(null, msg, privateKey);
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) {
      if (!verify(null, msg, publicKey, sig)) throw new Error('calibration signature failed to verify');
    }
    wall.push(Number(process.hrtime.bigint() - t0) / 1000 / perRound);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / perRound);
  }
  const med = (xs: number[]): number => {
    const s = [...xs].sort((x, y) => x - y);
    return Math.round(s[s.length >> 1]! * 1000) / 1000;
  };
  const round3 = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    cpuMicros: med(cpu),
    wallMicros: med(wall),
    cpuMicrosMin: round3(Math.min(...cpu)),
    cpuMicrosMax: round3(Math.max(...cpu)),
  };
}
