/**
 * The parallel executor: optimistic execution in a pool of worker_threads with in-order commit.
 *
 * Each worker holds a replica of every executed rollup's committed state (a full snapshot when it
 * starts, then each block's net diff) and its own VM instances. A block's slice is cut into chunks of
 * consecutive transactions (hundreds of µs to tens of ms of work each, so message cost is noise). A
 * worker executes its chunk in order against replica + the chunk's own earlier writes and returns, per
 * transaction, the recovered-sender proof, the outcome, the read set (values seen), the write set and
 * commutative credits. The coordinator walks transactions in block order: a transaction whose every
 * read still equals the current value (committed state + writes committed earlier in this block) is
 * committed as is; otherwise it is re-executed on the coordinator against current state, reusing the
 * worker's sender recovery. When a chunk conflicts heavily, the next chunks are dispatched in "prepare"
 * mode (signature work only) for a while, since speculative execution there is wasted work.
 * A worker that crashes is replaced, its in-flight chunks are re-queued; a chunk that fails twice is
 * executed by the coordinator. Nothing is lost: results are only committed in order by the coordinator.
 * The exact algorithm and its correctness argument are in docs/executor.md.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { RollupConfig } from '../config/index.ts';
import {
  type AnyVm,
  applyEffects,
  type BlockExecution,
  executeInOrder,
  invalidOutcome,
  overlayGet,
  runTx,
  toReceipt,
  type VmOptions,
} from './engine.ts';
import type { BlockContext, Bytes, Receipt, TxOutcome } from './types.ts';
import type { Val } from './view.ts';
import { Slicer } from './yield.ts';

export type JobMode = 'spec' | 'prep';

export interface JobSpec {
  namespace: number;
  start: number;
  payloads: Uint8Array[];
  /** The coordinator's proofs for some payloads (null: none), so the worker skips their signature work. */
  proofs?: (string | null)[];
  ctx: BlockContext;
  /** Evaluated when the job is dispatched (adaptive mode). */
  mode: () => JobMode;
  /** Lower runs first (chunk index). */
  priority: number;
  /**
   * Told the worker's result as it arrives, before the pool dispatches the next job (whose `mode` may
   * then depend on it; ADR 0330). A throwing hook is ignored.
   */
  onResult?: (out: FlatResult) => void;
}

/** Worker output per transaction, flattened (see worker.ts). */
export type FlatResult = unknown[];

interface PendingJob {
  spec: JobSpec;
  attempts: number;
  resolve: (r: FlatResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  inflight: Map<number, PendingJob>;
  dead: boolean;
}

export interface WorkerPoolOptions {
  size: number;
  rollups: RollupConfig[];
  vm: VmOptions;
  snapshot: () => { namespace: number; state: Map<Bytes, Bytes> }[];
  chunkSize: { transfer?: number; evm?: number };
  logger: Logger;
  /** In-flight jobs per worker (default 2, so a worker never idles waiting for the coordinator). */
  depth?: number;
}

const MAX_ATTEMPTS = 2;
/** How long a stopping worker may take to finish its running job and exit before it is terminated. */
const STOP_GRACE_MS = 10_000;

/**
 * Stops an executor worker by asking it to exit ({t:'stop'}, ADR 0331), not by `worker.terminate()`: a
 * thread that loaded the native secp256k1 addon and is terminated can abort the whole process. Only a
 * worker that does not exit within STOP_GRACE_MS (a stuck job) is terminated, as the last resort.
 */
async function stopWorker(worker: Worker, logger: Logger): Promise<void> {
  if (worker.threadId === -1) return; // already exited
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.postMessage({ t: 'stop' });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), STOP_GRACE_MS);
  });
  const r = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (r === 'late') {
    logger.warn({ graceMs: STOP_GRACE_MS }, 'executor worker did not exit when asked; terminating it');
    await worker.terminate();
  }
}

export class WorkerPool {
  readonly #o: WorkerPoolOptions;
  readonly #slots: Slot[] = [];
  readonly #queue: PendingJob[] = [];
  #nextId = 1;
  #stopping = false;
  #crashNext = false;
  respawns = 0;

  constructor(opts: WorkerPoolOptions) {
    this.#o = opts;
  }

  get size(): number {
    return this.#o.size;
  }

  chunkSizeFor(kind: 'transfer' | 'evm', n: number): number {
    const configured =
      kind === 'transfer' ? (this.#o.chunkSize.transfer ?? 512) : (this.#o.chunkSize.evm ?? 48);
    // Small blocks: still spread over every worker.
    return Math.max(1, Math.min(configured, Math.ceil(n / this.#o.size)));
  }

  async start(): Promise<void> {
    this.#stopping = false;
    await Promise.all(Array.from({ length: this.#o.size }, (_, i) => this.#spawn(i)));
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    const err = new Error('executor stopped');
    for (const j of this.#queue.splice(0)) j.reject(err);
    await Promise.all(
      this.#slots.map(async (s) => {
        for (const j of s.inflight.values()) j.reject(err);
        s.inflight.clear();
        s.dead = true;
        await stopWorker(s.worker, this.#o.logger);
      }),
    );
    this.#slots.length = 0;
  }

  injectCrash(): void {
    this.#crashNext = true;
  }

  broadcastDiff(namespace: number, diff: [Bytes, Val][]): void {
    // An empty diff changes no replica (workers keep no height): not worth waking every worker for it,
    // which an idle executed rollup did at every height (ADR 0345).
    if (diff.length === 0) return;
    for (const s of this.#slots) if (!s.dead) s.worker.postMessage({ t: 'diff', ns: namespace, diff });
  }

  run(spec: JobSpec): Promise<FlatResult> {
    return new Promise((resolve, reject) => {
      this.#enqueue({ spec, attempts: 0, resolve, reject });
      this.#pump();
    });
  }

  #enqueue(j: PendingJob): void {
    let i = this.#queue.length;
    while (i > 0 && this.#queue[i - 1]!.spec.priority > j.spec.priority) i--;
    this.#queue.splice(i, 0, j);
  }

  #spawn(index: number): Promise<void> {
    const worker = new Worker(new URL('./worker.ts', import.meta.url), {
      workerData: { rollups: this.#o.rollups, vm: this.#o.vm },
    });
    const slot: Slot = { worker, ready: false, inflight: new Map(), dead: false };
    this.#slots[index] = slot;
    // The snapshot is taken now; later diffs are posted after it, so the replica stays in order.
    for (const { namespace, state } of this.#o.snapshot()) {
      worker.postMessage({ t: 'load', ns: namespace, entries: [...state] });
    }
    return new Promise((resolve) => {
      worker.on('message', (m: { t: string; id?: number; out?: FlatResult; error?: string }) => {
        if (m.t === 'ready') {
          slot.ready = true;
          resolve();
          this.#pump();
          return;
        }
        const job = m.id === undefined ? undefined : slot.inflight.get(m.id);
        if (job === undefined) return;
        slot.inflight.delete(m.id!);
        if (m.t === 'result') {
          try {
            job.spec.onResult?.(m.out!);
          } catch {
            // advisory only: the result itself is what counts
          }
          job.resolve(m.out!);
        } else job.reject(new Error(m.error ?? 'worker job failed'));
        this.#pump();
      });
      worker.on('error', (err) => this.#o.logger.warn({ err, worker: index }, 'executor worker error'));
      worker.on('exit', (code) => {
        if (slot.dead) return;
        slot.dead = true;
        resolve();
        if (this.#stopping) return;
        this.#o.logger.warn({ worker: index, code }, 'executor worker exited; respawning');
        for (const j of slot.inflight.values()) {
          j.attempts++;
          if (j.attempts >= MAX_ATTEMPTS) j.reject(new Error('worker crashed twice on this chunk'));
          else this.#enqueue(j);
        }
        slot.inflight.clear();
        this.respawns++;
        void this.#spawn(index);
      });
    });
  }

  #pump(): void {
    const depth = this.#o.depth ?? 2;
    while (this.#queue.length > 0) {
      let best: Slot | undefined;
      for (const s of this.#slots) {
        if (s === undefined || s.dead || !s.ready || s.inflight.size >= depth) continue;
        if (best === undefined || s.inflight.size < best.inflight.size) best = s;
      }
      if (best === undefined) return;
      const job = this.#queue.shift()!;
      const id = this.#nextId++;
      best.inflight.set(id, job);
      const crash = this.#crashNext;
      this.#crashNext = false;
      best.worker.postMessage({
        t: 'job',
        id,
        ns: job.spec.namespace,
        mode: job.spec.mode(),
        payloads: job.spec.payloads,
        ...(job.spec.proofs !== undefined ? { proofs: job.spec.proofs } : {}),
        ctx: job.spec.ctx,
        crash,
      });
    }
  }
}

/**
 * The proofs the coordinator's VM already holds for `payloads` (ADR 0180), or undefined when it holds
 * none (the job message then carries no proofs field).
 */
export function knownProofs(vm: AnyVm, payloads: Uint8Array[]): (string | null)[] | undefined {
  if (vm.knownProof === undefined) return undefined;
  let any = false;
  const out = payloads.map((p) => {
    const proof = vm.knownProof!(p);
    if (proof === undefined) return null;
    any = true;
    return proof;
  });
  return any ? out : undefined;
}

/** Conflict share of a speculative chunk above which the next chunks only prepare. */
const CONFLICT_SWITCH = 0.5;
/** Chunks dispatched in prepare mode before speculation is tried again (doubled per failed probe). */
const PREP_RUN = 8;
/** Most chunks one back-off keeps in prepare mode. */
const PREP_RUN_MAX = 64;
/** In SpecPolicy's write log: a credited key (its value depends on the base) / no known writer. */
const CREDITED = Symbol('credited');
const NONE = Symbol('none');

/**
 * When to speculate (ADR 0330). A speculative chunk's transaction whose read set holds a key that an
 * earlier chunk of the block wrote (or credited) will fail validation: the worker's replica does not
 * have that write. Known as soon as the results are back, before the coordinator's in-order walk
 * reaches them, so a contended block stops speculating after its first conflicting result instead of
 * after the coordinator re-executed it (by then the workers had run far ahead, all speculatively).
 * After a back-off, one chunk probes: the others stay in prepare mode until its result says whether
 * speculation pays again; each failed probe doubles the next back-off.
 */
class SpecPolicy {
  /** Chunks below this index are dispatched in prepare mode. */
  specFrom = 0;
  /** The chunk probing after a back-off, while its result is out. */
  #probe: number | undefined;
  /** Set by a back-off: the next chunk dispatched in speculative mode is a probe. */
  #needProbe = false;
  #failedProbes = 0;
  /**
   * Per key, what the speculative results back so far left in it: [chunk index, final value in that
   * chunk] pairs, in arrival order (`CREDITED` for a credit, whose result depends on the base).
   */
  readonly #written = new Map<Bytes, [number, Val | typeof CREDITED][]>();

  mode(idx: number, speculate: boolean): JobMode {
    if (!speculate || idx < this.specFrom) return 'prep';
    if (this.#probe !== undefined) return idx === this.#probe ? 'spec' : 'prep';
    if (this.#needProbe) {
      this.#needProbe = false;
      this.#probe = idx;
    }
    return 'spec';
  }

  /**
   * What the closest earlier chunk known to write `key` left there, or NONE. A read of a different
   * value fails validation (the coordinator's value then is that one, unless a chunk in between whose
   * writes are not known here wrote it too: the coordinator still checks every read).
   */
  #before(key: Bytes, idx: number): Val | typeof CREDITED | typeof NONE {
    const ws = this.#written.get(key);
    if (ws === undefined) return NONE;
    let best = -1;
    let v: Val | typeof CREDITED | typeof NONE = NONE;
    for (const [i, x] of ws) {
      if (i < idx && i > best) {
        best = i;
        v = x;
      }
    }
    return v;
  }

  /** A speculative chunk's result arrived: record its writes, and back off if it is mostly doomed. */
  arrived(idx: number, out: FlatResult): void {
    let o = 0;
    let txs = 0;
    let doomed = 0;
    const last = new Map<Bytes, Val | typeof CREDITED>();
    while (o < out.length) {
      const kind = out[o++];
      if (kind !== 1) {
        o++;
        continue;
      }
      txs++;
      o += 2; // proof, outcome
      const nReads = out[o++] as number;
      let hit = false;
      for (let r = 0; r < nReads; r++, o += 2) {
        if (hit) continue;
        const w = this.#before(out[o] as Bytes, idx);
        if (w !== NONE && w !== out[o + 1]) hit = true;
      }
      if (hit) doomed++;
      const nWrites = out[o++] as number;
      for (let w = 0; w < nWrites; w++, o += 2) last.set(out[o] as Bytes, out[o + 1] as Val);
      const nCredits = out[o++] as number;
      for (let w = 0; w < nCredits; w++, o += 2) last.set(out[o] as Bytes, CREDITED);
    }
    for (const [k, v] of last) {
      const ws = this.#written.get(k);
      if (ws === undefined) this.#written.set(k, [[idx, v]]);
      else ws.push([idx, v]);
    }
    if (txs > 0 && doomed > CONFLICT_SWITCH * txs) this.backOff(idx);
    else if (idx === this.#probe) {
      this.#probe = undefined;
      this.#failedProbes = 0;
    }
  }

  /** Chunk `idx` conflicted: prepare only for a while (longer after each failed probe). */
  backOff(idx: number): void {
    if (idx === this.#probe) {
      this.#probe = undefined;
      this.#failedProbes++;
    }
    const run = Math.min(PREP_RUN_MAX, PREP_RUN * 2 ** this.#failedProbes);
    this.specFrom = Math.max(this.specFrom, idx + 1 + run);
    this.#needProbe = this.#probe === undefined;
  }

  /** The probe's job failed (no result): let the next chunk probe. */
  lost(idx: number): void {
    if (idx === this.#probe) this.#probe = undefined;
  }
}

export interface ParallelExecution extends BlockExecution {
  reexecuted: number;
  specChunks: number;
  prepChunks: number;
}

export async function executeParallel(
  pool: WorkerPool,
  vm: AnyVm,
  namespace: number,
  committed: Map<Bytes, Bytes>,
  payloads: Uint8Array[],
  ctx: BlockContext,
): Promise<ParallelExecution> {
  const overlay = new Map<Bytes, Val>();
  const get = overlayGet(overlay, committed);
  const receipts: Receipt[] = [];
  let reexecuted = 0;
  let specChunks = 0;
  let prepChunks = 0;
  const size = pool.chunkSizeFor(vm.kind, payloads.length);
  const policy = new SpecPolicy();
  const chunks: { start: number; promise: Promise<FlatResult | undefined>; mode: JobMode }[] = [];
  for (let start = 0, i = 0; start < payloads.length; start += size, i++) {
    const idx = i;
    const chunk = {
      start,
      mode: 'spec' as JobMode,
      promise: Promise.resolve<FlatResult | undefined>(undefined),
    };
    const slice = payloads.slice(start, start + size);
    const proofs = knownProofs(vm, slice);
    chunk.promise = pool
      .run({
        namespace,
        start,
        payloads: slice,
        ...(proofs !== undefined ? { proofs } : {}),
        ctx,
        priority: idx,
        mode: () => {
          chunk.mode = policy.mode(idx, vm.speculate);
          return chunk.mode;
        },
        onResult: (out) => {
          if (chunk.mode === 'spec') policy.arrived(idx, out);
        },
      })
      .catch(() => {
        policy.lost(idx);
        return undefined;
      });
    chunks.push(chunk);
  }

  /** Execute transaction i here against current state (prepared by a worker: its proof is reused). */
  const executeHere = async (i: number, proof: string): Promise<TxOutcome> => {
    let tx: unknown;
    try {
      tx = vm.restore(payloads[i]!, proof);
    } catch (err) {
      return invalidOutcome(err instanceof Error ? err.message : String(err));
    }
    const { outcome, effects } = await runTx(vm, tx, get, ctx);
    applyEffects(vm, overlay, get, effects.writes, effects.credits);
    return outcome;
  };

  const slicer = new Slicer();
  for (let c = 0; c < chunks.length; c++) {
    const chunk = chunks[c]!;
    const out = await chunk.promise;
    const end = Math.min(chunk.start + size, payloads.length);
    if (out === undefined) {
      // The chunk could not be run by any worker: execute it here, from scratch.
      for (let i = chunk.start; i < end; i++) {
        receipts.push(await executeInOrder(vm, payloads[i]!, i, overlay, get, ctx));
        if (slicer.due()) await slicer.yield();
      }
      continue;
    }
    let o = 0;
    let conflicts = 0;
    for (let i = chunk.start; i < end; i++) {
      // Re-executions here can add up to seconds per chunk on a busy host: let I/O through meanwhile.
      if (slicer.due()) await slicer.yield();
      const kind = out[o++] as number;
      if (kind === 0) {
        receipts.push(toReceipt(i, invalidOutcome(out[o++] as string)));
        continue;
      }
      const proof = out[o++] as string;
      if (kind === 2) {
        receipts.push(toReceipt(i, await executeHere(i, proof)));
        continue;
      }
      const outcome = out[o++] as TxOutcome;
      const nReads = out[o++] as number;
      let valid = true;
      for (let r = 0; r < nReads; r++) {
        const k = out[o++] as Bytes;
        const v = out[o++] as Val;
        if (valid && (get(k) ?? null) !== v) valid = false;
      }
      const nWrites = out[o++] as number;
      const wStart = o;
      o += nWrites * 2;
      const nCredits = out[o++] as number;
      const cStart = o;
      o += nCredits * 2;
      if (!valid) {
        conflicts++;
        reexecuted++;
        receipts.push(toReceipt(i, await executeHere(i, proof)));
        continue;
      }
      for (let w = wStart; w < wStart + nWrites * 2; w += 2) overlay.set(out[w] as Bytes, out[w + 1] as Val);
      for (let w = cStart; w < cStart + nCredits * 2; w += 2) {
        const k = out[w] as Bytes;
        overlay.set(k, vm.applyCredit(get(k), out[w + 1] as bigint) ?? null);
      }
      receipts.push(toReceipt(i, outcome));
    }
    if (chunk.mode === 'spec') specChunks++;
    else prepChunks++;
    if (chunk.mode === 'spec' && conflicts > CONFLICT_SWITCH * (end - chunk.start)) policy.backOff(c);
    // Let worker results and dispatches through between chunks.
    await yieldToLoop();
  }
  return { receipts, writes: overlay, reexecuted, specChunks, prepChunks };
}

/**
 * Bundle blocks (src/exec/bundles.ts): every transaction of the slice is prepared (decoded, signature
 * verified or sender recovered) by the workers in parallel, in `prep` mode; the coordinator executes in
 * order, bundle legs under checkpoints. Returns the prepare function of the slice's `LaneCursor`.
 */
export function preparedByPool(
  pool: WorkerPool,
  vm: AnyVm,
  namespace: number,
  payloads: Uint8Array[],
  ctx: BlockContext,
): (i: number) => Promise<{ ok: true; tx: unknown } | { ok: false; error: string }> {
  const size = pool.chunkSizeFor(vm.kind, payloads.length);
  const chunks: Promise<FlatResult | undefined>[] = [];
  for (let start = 0, c = 0; start < payloads.length; start += size, c++) {
    const slice = payloads.slice(start, start + size);
    const proofs = knownProofs(vm, slice);
    chunks.push(
      pool
        .run({
          namespace,
          start,
          payloads: slice,
          ...(proofs !== undefined ? { proofs } : {}),
          ctx,
          priority: c,
          mode: () => 'prep',
        })
        .catch(() => undefined),
    );
  }
  return async (i) => {
    const out = await chunks[Math.floor(i / size)]!;
    if (out === undefined) return vm.prepare(payloads[i]!);
    const o = (i % size) * 2;
    if (out[o] === 0) return { ok: false, error: out[o + 1] as string };
    try {
      return { ok: true, tx: vm.restore(payloads[i]!, out[o + 1] as string) };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  };
}
