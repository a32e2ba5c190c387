/**
 * The open-loop load generator behind `ordo bench` and `ordo testnet up --load`.
 *
 * Open loop: the offered rate is fixed in advance. Every tick (default 20 ms) the generator works out how
 * many transactions the schedule owes (`rate × elapsed − offered`), spreads them over the healthy
 * targets and sends each share as one `ordo_submitTransactions` call (a JSON-RPC batch of
 * `ordo_submitTransaction` calls to a node without it) on a keep-alive connection, without waiting for
 * earlier batches. When a target already has `maxInFlight` batches outstanding the share is counted
 * as "not sent" instead of being delayed, so a slow network shows up as lost offered load and latency,
 * never as a quietly lower rate (the coordinated-omission trap of closed-loop tools).
 *
 * With `binary`, each share goes instead as one protobuf `TxBatch` to `POST /ordo/v1/tx-batch` (docs/rpc.md,
 * the path for high-rate clients: no JSON envelope and no hex on either side); a node without that route
 * (a 404 or a JSON-RPC parse error, once) gets JSON-RPC from then on.
 *
 * Latency is submit → commit: the send time of each transaction (keyed by its hash, computed locally
 * as sha256(namespace u32 BE || payload), the node's tx id) is matched against the hashes of blocks the
 * shared `BlockFollower` sees, at the time the follower first observed that height.
 */
import { hash as oneShotHash } from 'node:crypto';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { errorMessage } from '../errors.ts';
import type { AckLog } from './acks.ts';
import { encodeTxBatchFast } from './batch-encoder.ts';
import type { BlockFollower, FollowedBlock } from './follower.ts';
import { HttpTarget } from './http.ts';
import type { PayloadSource } from './payloads.ts';
import { LatencySamples, type LatencySummary, WindowSamples } from './stats.ts';

export interface LoadOptions {
  urls: string[];
  /** Offered transactions per second (all targets together). */
  rate: number;
  durationSec: number;
  /**
   * Offer load for this long first without measuring it (nodes warm up, caches fill); the report covers
   * only transactions sent after it. The run lasts warmupSec + durationSec.
   */
  warmupSec?: number;
  sources: PayloadSource[];
  /** Relative share of each source (same order; default equal). Smooth weighted round-robin. */
  weights?: number[];
  follower: BlockFollower;
  tickMs?: number;
  /** Outstanding batches per target before shares are counted as not sent. */
  maxInFlight?: number;
  /** Largest JSON-RPC batch (the server's rpc.maxBatchRequests, default 1000). */
  maxBatch?: number;
  requestTimeoutMs?: number;
  /** After the offered window, wait up to this long for outstanding transactions to commit. */
  drainMs?: number;
  /** How long a target that failed at transport level is skipped. */
  backoffMs?: number;
  logger?: Logger;
  /**
   * Record every transaction seen committed (warm-up included) here: the fault matrix's history
   * checker compares these acknowledgements with every node's final chain (testnet/history.ts).
   */
  acks?: AckLog;
  /** Submit protobuf batches to `POST /ordo/v1/tx-batch` instead of JSON-RPC (default false). */
  binary?: boolean;
  /**
   * Called for every measured transaction seen committed, with its source and target index: benchmarks
   * match it against later events (e.g. the executor's pre-confirmation of that height on that target).
   */
  onCommit?: (c: CommitEvent) => void;
}

export interface CommitEvent {
  /** Index into `sources`. */
  source: number;
  /** Index into `urls`: the node the transaction was submitted to. */
  target: number;
  sentAt: number;
  height: number;
  observedAt: number;
}

/** The figures of one payload source (one namespace of one kind) over the measured window. */
export interface SourceReport {
  namespace: number;
  kind: string;
  sent: number;
  accepted: number;
  rejected: number;
  committedInWindow: number;
  txPerSec: number;
  latencyMs: LatencySummary;
}

export interface TargetReport {
  url: string;
  sent: number;
  accepted: number;
  rejected: number;
  unreachable: number;
  committed: number;
  latencyMs: LatencySummary;
}

export interface LoadReport {
  targets: string[];
  namespaces: number[];
  offeredTxPerSec: number;
  durationSec: number;
  warmupSec: number;
  /** Transactions the schedule called for during the window. */
  offered: number;
  /** Handed to a node (in a request that was sent). */
  sent: number;
  /** Could not be sent: every connection to the target was busy (open loop: not retried later). */
  notSent: number;
  accepted: number;
  duplicates: number;
  rejected: Record<string, number>;
  /** Requests sent a second time after a stale keep-alive connection was reset (not rejections). */
  resent: number;
  /** Accepted transactions seen in a committed block (by the end of the drain period). */
  committedTxs: number;
  /** Of those, committed within the offered window. */
  committedInWindow: number;
  /** Accepted but not seen committed by the end of the drain period. */
  uncommitted: number;
  acceptedTxPerSec: number;
  /** committedInWindow / durationSec: the sustained committed rate. */
  txPerSec: number;
  latencyMs: LatencySummary;
  perTarget: TargetReport[];
  /** The same per payload source (a mixed load's kinds). */
  perSource: SourceReport[];
  /** CPU seconds this process (the generator and whatever shares it) used during the run. */
  generatorCpuSec: number;
  /**
   * The measured window in epoch milliseconds (after the warm-up, until the load stopped): benchmarks
   * sample every process's CPU time over exactly this span (CPU per committed transaction).
   */
  window: { startMs: number; endMs: number };
}

export interface LiveLoad {
  elapsedSec: number;
  offered: number;
  sent: number;
  accepted: number;
  notSent: number;
  rejectedTotal: number;
  committed: number;
  pending: number;
  /** Commits per second over the last few seconds. */
  committedTxPerSec: number;
  latencyMs: LatencySummary;
  perTarget: { url: string; latencyMs: LatencySummary; inFlight: number }[];
}

interface TargetState {
  http: HttpTarget;
  /** The node answered -32601 to `ordo_submitTransactions`: send JSON-RPC batches instead. */
  legacy: boolean;
  /** Send protobuf batches (`binary`), until the node answers 404 to the route. */
  binary: boolean;
  inFlight: number;
  downUntil: number;
  sent: number;
  accepted: number;
  rejected: number;
  unreachable: number;
  committed: number;
  latency: LatencySamples;
  window: WindowSamples;
}

interface Pending {
  t: number;
  target: number;
  /** Index of the payload source. */
  s: number;
  /** Sent after the warm-up: counted in the report. */
  m: boolean;
}

interface Item {
  hash: string;
  src: PayloadSource;
  s: number;
  tag: number;
  m: boolean;
}

/** namespace || payload assembled here for one native one-shot sha256 (payloads are at most 128 KiB). */
let scratch = Buffer.allocUnsafe(4096);

function txHashHex(namespace: number, payload: Uint8Array): string {
  const n = payload.byteLength + 4;
  if (scratch.byteLength < n) scratch = Buffer.allocUnsafe(n);
  scratch.writeUInt32BE(namespace >>> 0, 0);
  scratch.set(payload, 4);
  return `0x${oneShotHash('sha256', scratch.subarray(0, n), 'hex')}`;
}

const TX_BATCH_PATH = '/ordo/v1/tx-batch';

/** The live figures (rate, latency percentiles) cover this much recent time. */
const LIVE_WINDOW_MS = 5000;

export class LoadGenerator {
  readonly #o: Required<Omit<LoadOptions, 'logger' | 'acks' | 'onCommit'>>;
  readonly #onCommit: ((c: CommitEvent) => void) | undefined;
  readonly #perSource: {
    sent: number;
    accepted: number;
    rejected: number;
    committedInWindow: number;
    latency: LatencySamples;
  }[];
  readonly #acks: AckLog | undefined;
  readonly #log: Logger;
  readonly #targets: TargetState[];
  readonly #pending = new Map<string, Pending>();
  readonly #latency = new LatencySamples();
  readonly #window = new WindowSamples(LIVE_WINDOW_MS);
  /**
   * Commits of the last LIVE_WINDOW_MS, one entry per followed block (not per transaction: at
   * 10,000 tx/s a per-transaction list trimmed with shift() cost a quarter of the generator's CPU).
   */
  readonly #recentCommits: { at: number; count: number }[] = [];
  #recentCommitted = 0;
  readonly #rejected: Record<string, number> = {};
  #t0 = 0;
  #tMeasure = 0;
  #tEnd = 0;
  #scheduled = 0;
  #cpu0: NodeJS.CpuUsage | undefined;
  #offered = 0;
  #sent = 0;
  #notSent = 0;
  #accepted = 0;
  #duplicates = 0;
  #committed = 0;
  #committedInWindow = 0;
  #credit: number[] = [];
  #targetRr = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;
  #stopResolve: (() => void) | undefined;
  readonly #inFlightAll = new Set<Promise<void>>();

  constructor(o: LoadOptions) {
    if (o.urls.length === 0) throw new RangeError('load generator needs at least one target URL');
    if (o.sources.length === 0) throw new RangeError('load generator needs at least one namespace');
    if (!(o.rate >= 0)) throw new RangeError('rate must be >= 0');
    this.#o = {
      tickMs: 20,
      warmupSec: 0,
      maxInFlight: 32,
      maxBatch: 1000,
      requestTimeoutMs: 10_000,
      drainMs: 5000,
      backoffMs: 1000,
      ...o,
    } as Required<Omit<LoadOptions, 'logger' | 'acks' | 'onCommit'>>;
    this.#acks = o.acks;
    this.#onCommit = o.onCommit;
    this.#perSource = o.sources.map(() => ({
      sent: 0,
      accepted: 0,
      rejected: 0,
      committedInWindow: 0,
      latency: new LatencySamples(),
    }));
    this.#log = o.logger ?? pino({ level: 'silent' });
    if (
      o.weights !== undefined &&
      (o.weights.length !== o.sources.length || o.weights.some((w) => !(w > 0)))
    ) {
      throw new RangeError('weights must be positive, one per source');
    }
    this.#credit = o.sources.map(() => 0);
    this.#targets = o.urls.map((url) => ({
      http: new HttpTarget(url, this.#o.maxInFlight),
      legacy: false,
      binary: o.binary === true,
      inFlight: 0,
      downUntil: 0,
      sent: 0,
      accepted: 0,
      rejected: 0,
      unreachable: 0,
      committed: 0,
      latency: new LatencySamples(),
      window: new WindowSamples(LIVE_WINDOW_MS),
    }));
    o.follower.onBlock((b) => this.#onBlock(b));
  }

  /** Offer load for `durationSec`, drain, and report. */
  async run(): Promise<LoadReport> {
    this.start();
    await new Promise<void>((resolve) => {
      this.#stopResolve = resolve;
      // An unbounded run (durationSec = Infinity) ends only through stop().
      const total = (this.#o.warmupSec + this.#o.durationSec) * 1000;
      if (Number.isFinite(total)) setTimeout(resolve, total).unref();
    });
    return this.finish();
  }

  start(): void {
    this.#t0 = Date.now();
    this.#tMeasure = this.#t0 + this.#o.warmupSec * 1000;
    this.#cpu0 = process.cpuUsage();
    this.#stopped = false;
    this.#tick();
  }

  /** Stop offering now (the window ends early); `run` then drains and reports. */
  stop(): void {
    this.#stopResolve?.();
  }

  async finish(): Promise<LoadReport> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#tEnd = Date.now();
    await Promise.allSettled([...this.#inFlightAll]);
    const deadline = Date.now() + this.#o.drainMs;
    while (this.#pending.size > 0 && Date.now() < deadline) await sleep(100);
    for (const t of this.#targets) t.http.close();
    return this.report();
  }

  report(): LoadReport {
    const end = this.#tEnd || Date.now();
    const dur = this.#t0 === 0 ? 0 : Math.max(0, (end - this.#tMeasure) / 1000);
    return {
      targets: this.#o.urls,
      namespaces: this.#o.sources.map((s) => s.namespace),
      offeredTxPerSec: this.#o.rate,
      durationSec: round1(dur),
      warmupSec: this.#o.warmupSec,
      offered: this.#offered,
      sent: this.#sent,
      notSent: this.#notSent,
      accepted: this.#accepted,
      duplicates: this.#duplicates,
      rejected: { ...this.#rejected },
      resent: this.#targets.reduce((n, t) => n + t.http.retries, 0),
      committedTxs: this.#committed,
      committedInWindow: this.#committedInWindow,
      uncommitted: countMeasured(this.#pending),
      acceptedTxPerSec: dur > 0 ? round1(this.#accepted / dur) : 0,
      txPerSec: dur > 0 ? round1(this.#committedInWindow / dur) : 0,
      latencyMs: this.#latency.summary(),
      perTarget: this.#targets.map((t) => ({
        url: t.http.url.origin,
        sent: t.sent,
        accepted: t.accepted,
        rejected: t.rejected,
        unreachable: t.unreachable,
        committed: t.committed,
        latencyMs: t.latency.summary(),
      })),
      perSource: this.#perSource.map((x, i) => ({
        namespace: this.#o.sources[i]!.namespace,
        kind: this.#o.sources[i]!.kind,
        sent: x.sent,
        accepted: x.accepted,
        rejected: x.rejected,
        committedInWindow: x.committedInWindow,
        txPerSec: dur > 0 ? round1(x.committedInWindow / dur) : 0,
        latencyMs: x.latency.summary(),
      })),
      generatorCpuSec: (() => {
        const c = process.cpuUsage(this.#cpu0);
        return round1((c.user + c.system) / 1e6);
      })(),
      window: { startMs: this.#tMeasure, endMs: end },
    };
  }

  live(): LiveLoad {
    const now = Date.now();
    this.#trimRecentCommits(now);
    let rejectedTotal = 0;
    for (const v of Object.values(this.#rejected)) rejectedTotal += v;
    const span = Math.min(LIVE_WINDOW_MS / 1000, Math.max(0.001, (now - this.#t0) / 1000));
    return {
      elapsedSec: round1((now - this.#t0) / 1000),
      offered: this.#offered,
      sent: this.#sent,
      accepted: this.#accepted,
      notSent: this.#notSent,
      rejectedTotal,
      committed: this.#committed,
      pending: this.#pending.size,
      committedTxPerSec: round1(this.#recentCommitted / span),
      latencyMs: this.#window.summary(now),
      perTarget: this.#targets.map((t) => ({
        url: t.http.url.origin,
        latencyMs: t.window.summary(now),
        inFlight: t.inFlight,
      })),
    };
  }

  #tick(): void {
    if (this.#stopped) return;
    const now = Date.now();
    const due = Math.floor((this.#o.rate * (now - this.#t0)) / 1000) - this.#scheduled;
    if (due > 0) {
      this.#scheduled += due;
      if (now >= this.#tMeasure) this.#offered += due;
      this.#dispatch(due, now);
    }
    this.#timer = setTimeout(() => this.#tick(), this.#o.tickMs);
  }

  #dispatch(count: number, now: number): void {
    const healthy: number[] = [];
    for (let i = 0; i < this.#targets.length; i++)
      if ((this.#targets[i]?.downUntil ?? 0) <= now) healthy.push(i);
    if (healthy.length === 0) {
      if (now >= this.#tMeasure) this.#notSent += count;
      return;
    }
    const per = Math.floor(count / healthy.length);
    let extra = count - per * healthy.length;
    for (let k = 0; k < healthy.length; k++) {
      const idx = healthy[(this.#targetRr + k) % healthy.length]!;
      let n = per + (extra > 0 ? 1 : 0);
      if (extra > 0) extra--;
      while (n > 0) {
        const m = Math.min(n, this.#o.maxBatch);
        this.#sendBatch(idx, m, now);
        n -= m;
      }
    }
    this.#targetRr++;
  }

  #sendBatch(idx: number, count: number, now: number): void {
    const target = this.#targets[idx]!;
    const m = now >= this.#tMeasure;
    if (target.inFlight >= this.#o.maxInFlight) {
      if (m) this.#notSent += count;
      return;
    }
    const sources = this.#o.sources;
    const items: Item[] = new Array(count);
    const envs: { namespace: number; payload: Uint8Array }[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const s = this.#pickSource();
      const src = sources[s]!;
      const { payload, tag } = src.next();
      const hash = txHashHex(src.namespace, payload);
      items[i] = { hash, src, s, tag, m };
      envs[i] = { namespace: src.namespace, payload };
      this.#pending.set(hash, { t: now, target: idx, s, m });
      if (m) this.#perSource[s]!.sent++;
    }
    if (m) {
      this.#sent += count;
      target.sent += count;
    }
    target.inFlight++;
    const p = this.#post(target, envs)
      .then(
        (res) => this.#onResponse(target, items, res.status, res.text, res.batched),
        (err) => {
          if (m) target.unreachable += count;
          target.downUntil = Date.now() + this.#o.backoffMs;
          this.#log.debug({ err: errorMessage(err), url: target.http.url.origin }, 'batch failed');
          this.#reject(target, items, errorCode(err));
        },
      )
      .finally(() => {
        target.inFlight--;
        this.#inFlightAll.delete(p);
      });
    this.#inFlightAll.add(p);
  }

  /** Smooth weighted round-robin: each source is picked in proportion to its weight, evenly spread. */
  #pickSource(): number {
    const w = this.#o.weights;
    const n = this.#o.sources.length;
    let total = 0;
    let best = 0;
    for (let i = 0; i < n; i++) {
      const wi = w?.[i] ?? 1;
      total += wi;
      this.#credit[i] = (this.#credit[i] ?? 0) + wi;
      if ((this.#credit[i] ?? 0) > (this.#credit[best] ?? 0)) best = i;
    }
    this.#credit[best] = (this.#credit[best] ?? 0) - total;
    return best;
  }

  /**
   * Send one share: `ordo_submitTransactions` (one call, refusals listed by index), or a JSON-RPC batch
   * of `ordo_submitTransaction` calls for a node that does not know that method (answered -32601 once,
   * then remembered per target).
   */
  async #post(
    target: TargetState,
    envs: { namespace: number; payload: Uint8Array }[],
  ): Promise<{ status: number; text: string; batched: boolean }> {
    const timeout = this.#o.requestTimeoutMs;
    if (target.binary) {
      const res = await target.http.postBytes(TX_BATCH_PATH, encodeTxBatchFast(envs), timeout);
      // The answer is the JSON-RPC method's result without its envelope.
      // A node without the route answers 404, or (0.1.0, which serves JSON-RPC at every path) a JSON-RPC
      // parse error: fall back for good, and resend this share as JSON.
      const noRoute = res.status === 404 || (res.text.length < 1024 && res.text.includes('"jsonrpc":"2.0"'));
      if (!noRoute && res.status === 200)
        return { status: 200, text: `{"result":${res.text}}`, batched: true };
      if (!noRoute) return { ...res, batched: true };
      this.#log.warn({ url: target.http.url.origin }, 'node has no binary batch route: using JSON-RPC');
      target.binary = false;
    }
    const txs = envs.map(
      (e) =>
        `{"namespace":${e.namespace},"data":"0x${Buffer.from(e.payload.buffer, e.payload.byteOffset, e.payload.byteLength).toString('hex')}"}`,
    );
    if (!target.legacy) {
      const res = await target.http.post(
        `{"jsonrpc":"2.0","id":0,"method":"ordo_submitTransactions","params":[[${txs.join(',')}],{"hashes":false}]}`,
        timeout,
      );
      if (!isMethodNotFound(res.text)) return { ...res, batched: true };
      target.legacy = true;
    }
    const calls = txs.map(
      (t, i) => `{"jsonrpc":"2.0","id":${i},"method":"ordo_submitTransaction","params":[${t}]}`,
    );
    const res = await target.http.post(`[${calls.join(',')}]`, timeout);
    return { ...res, batched: false };
  }

  #onResponse(target: TargetState, items: Item[], status: number, text: string, batched: boolean): void {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      this.#reject(target, items, `HTTP_${status}`);
      return;
    }
    if (batched) {
      const b = body as { result?: SubmitManyResult; error?: RpcErr };
      if (b.result === undefined || !Array.isArray(b.result.rejected)) {
        this.#reject(target, items, b.error?.data?.code ?? `RPC_${b.error?.code ?? status}`);
        return;
      }
      const refused = new Uint8Array(items.length);
      for (const r of b.result.rejected) {
        const it = items[r.index];
        if (it === undefined || refused[r.index] === 1) continue;
        refused[r.index] = 1;
        this.#rejectOne(target, it, r.code ?? `RPC_${r.rpcCode}`);
      }
      const dup = new Set(b.result.duplicates ?? []);
      for (let i = 0; i < items.length; i++) {
        if (refused[i] === 1 || !items[i]!.m) continue;
        this.#accepted++;
        this.#perSource[items[i]!.s]!.accepted++;
        target.accepted++;
        if (dup.has(i)) this.#duplicates++;
      }
      return;
    }
    if (!Array.isArray(body)) {
      const e = (body as { error?: { code?: number; data?: { code?: string } } }).error;
      this.#reject(target, items, e?.data?.code ?? `RPC_${e?.code ?? status}`);
      return;
    }
    const seen = new Uint8Array(items.length);
    for (const r of body as { id?: unknown; result?: { duplicate?: boolean }; error?: RpcErr }[]) {
      const i = typeof r.id === 'number' ? r.id : -1;
      const it = items[i];
      if (it === undefined || seen[i] === 1) continue;
      seen[i] = 1;
      if (r.error !== undefined) {
        this.#rejectOne(target, it, r.error.data?.code ?? `RPC_${r.error.code}`);
      } else if (it.m) {
        this.#accepted++;
        this.#perSource[it.s]!.accepted++;
        target.accepted++;
        if (r.result?.duplicate === true) this.#duplicates++;
      }
    }
    for (let i = 0; i < items.length; i++) {
      if (seen[i] === 0) this.#rejectOne(target, items[i]!, 'NO_ANSWER');
    }
  }

  #reject(target: TargetState, items: Item[], code: string): void {
    for (const it of items) this.#rejectOne(target, it, code);
  }

  #rejectOne(target: TargetState, it: Item, code: string): void {
    // A transaction may already have been seen committed (e.g. a timeout after it was admitted).
    if (!this.#pending.delete(it.hash)) return;
    it.src.rejected(it.tag, code);
    if (!it.m) return;
    this.#rejected[code] = (this.#rejected[code] ?? 0) + 1;
    target.rejected++;
    this.#perSource[it.s]!.rejected++;
  }

  #trimRecentCommits(now: number): void {
    const cut = now - LIVE_WINDOW_MS;
    while (this.#recentCommits.length > 0 && (this.#recentCommits[0]?.at ?? 0) < cut)
      this.#recentCommitted -= this.#recentCommits.shift()?.count ?? 0;
  }

  #onBlock(b: FollowedBlock): void {
    let counted = 0;
    for (const tx of b.txs) {
      const p = this.#pending.get(tx.hash);
      if (p === undefined) continue;
      this.#pending.delete(tx.hash);
      this.#acks?.record(tx.hash, b.height);
      if (!p.m) continue;
      const ms = Math.max(0, b.observedAt - p.t);
      this.#latency.add(ms);
      this.#window.add(ms, b.observedAt);
      this.#committed++;
      counted++;
      const ps = this.#perSource[p.s]!;
      ps.latency.add(ms);
      if (this.#tEnd === 0 || b.observedAt <= this.#tEnd) {
        this.#committedInWindow++;
        ps.committedInWindow++;
      }
      this.#onCommit?.({
        source: p.s,
        target: p.target,
        sentAt: p.t,
        height: b.height,
        observedAt: b.observedAt,
      });
      const t = this.#targets[p.target];
      if (t !== undefined) {
        t.committed++;
        t.latency.add(ms);
        t.window.add(ms, b.observedAt);
      }
    }
    if (counted > 0) {
      this.#recentCommits.push({ at: b.observedAt, count: counted });
      this.#recentCommitted += counted;
      this.#trimRecentCommits(b.observedAt);
    }
  }
}

/** The result of `ordo_submitTransactions` (docs/rpc.md). */
interface SubmitManyResult {
  accepted: number;
  duplicates?: number[];
  rejected: { index: number; code?: string; rpcCode?: number }[];
}

/** A -32601 answer (small: only errors are short) to a method this node does not serve. */
function isMethodNotFound(text: string): boolean {
  if (text.length > 1024 || !text.includes('-32601')) return false;
  try {
    return (JSON.parse(text) as { error?: { code?: number } }).error?.code === -32601;
  } catch {
    return false;
  }
}

interface RpcErr {
  code: number;
  message: string;
  data?: { code?: string };
}

function errorCode(err: unknown): string {
  const c = (err as { code?: unknown }).code;
  if (c === 'LOADGEN_TIMEOUT') return 'TIMEOUT';
  if (c === 'ECONNREFUSED' || c === 'ECONNRESET' || c === 'EPIPE') return 'UNREACHABLE';
  return typeof c === 'string' ? c : 'UNREACHABLE';
}

function countMeasured(pending: Map<string, Pending>): number {
  let n = 0;
  for (const p of pending.values()) if (p.m) n++;
  return n;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
