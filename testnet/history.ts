/**
 * What the dashboard charts: a rolling history of the testnet, one sample a second (the orchestrator's
 * poll), kept for the last `maxSamples` seconds, plus the validators' record. Fed by the BlockFollower
 * (every committed block once) and by each poll (nodes' mempools, the load generator's live window).
 *
 *   throughput        committed tx/s over the sample, total and per rollup
 *   latency           submit → commit p50 / p99 of the load generator's recent window (ms)
 *   block interval    mean gap between consecutive block times (header timeMs) within the sample
 *   pending           largest mempool over the running nodes, and submitted-not-yet-committed of the load
 *
 * Validators are named from genesis; "signed" counts the blocks whose commit certificate (as served by
 * the node the follower reads) carries that validator's signature, "proposed" the blocks it proposed.
 * A validator missing from a certificate may still have voted late: the certificate holds the first
 * +2/3 seen.
 */
import type { FollowedBlock } from '../src/loadgen/index.ts';

export interface HistorySample {
  t: number;
  txPerSec: number;
  perRollup: Record<string, number>;
  p50: number | null;
  p99: number | null;
  blockIntervalMs: number | null;
  mempoolPending: number | null;
  loadPending: number | null;
}

export interface ValidatorRecord {
  index: number;
  name: string;
  publicKey: string;
  proposed: number;
  signed: number;
  lastSignedHeight: number | null;
}

export interface SampleInputs {
  /** Mempool sizes of the running nodes (txs), per rollup lane. */
  mempools: { txs: number; lanes: { namespace: number; txs: number }[] }[];
  load: { pending: number; latencyMs: { p50: number; p99: number; count: number } } | null;
}

const strip = (h: string): string => h.toLowerCase().replace(/^0x/, '');

export class DashboardHistory {
  readonly #max: number;
  readonly #samples: HistorySample[] = [];
  readonly #validators: ValidatorRecord[];
  readonly #byKey = new Map<string, number>();
  #blocksSeen = 0;
  #lastSampleAt: number;
  #txs = 0;
  #perRollup: Record<string, number> = {};
  #intervals: number[] = [];
  #lastBlockTime: number | undefined;
  #pendingPerRollup: Record<string, number> = {};
  #committedPerRollup: Record<string, number> = {};

  constructor(validators: { name: string; publicKey: string }[], maxSamples = 300, now = Date.now()) {
    this.#max = maxSamples;
    this.#lastSampleAt = now;
    this.#validators = validators.map((v, index) => ({
      index,
      name: v.name,
      publicKey: strip(v.publicKey),
      proposed: 0,
      signed: 0,
      lastSignedHeight: null,
    }));
    for (const v of this.#validators) this.#byKey.set(v.publicKey, v.index);
  }

  /** The validator's genesis name for a public key (hex), or a shortened key when unknown. */
  nameOf(publicKey: string): string {
    const i = this.#byKey.get(strip(publicKey));
    return i === undefined ? `${strip(publicKey).slice(0, 10)}…` : this.#validators[i]!.name;
  }

  onBlock(b: FollowedBlock): void {
    this.#blocksSeen++;
    this.#txs += b.txs.length;
    for (const tx of b.txs) {
      const ns = String(tx.namespace);
      this.#perRollup[ns] = (this.#perRollup[ns] ?? 0) + 1;
      this.#committedPerRollup[ns] = (this.#committedPerRollup[ns] ?? 0) + 1;
    }
    if (this.#lastBlockTime !== undefined && b.timeMs >= this.#lastBlockTime)
      this.#intervals.push(b.timeMs - this.#lastBlockTime);
    this.#lastBlockTime = b.timeMs;
    const p = this.#byKey.get(strip(b.proposer));
    if (p !== undefined) this.#validators[p]!.proposed++;
    for (const i of b.signers ?? []) {
      const v = this.#validators[i];
      if (v === undefined) continue;
      v.signed++;
      v.lastSignedHeight = b.height;
    }
  }

  /** Close the current sample (call once a second). */
  sample(inputs: SampleInputs, now = Date.now()): HistorySample {
    const secs = Math.max(0.001, (now - this.#lastSampleAt) / 1000);
    const perRollup: Record<string, number> = {};
    for (const [ns, n] of Object.entries(this.#perRollup)) perRollup[ns] = round1(n / secs);
    const pendingPerRollup: Record<string, number> = {};
    for (const m of inputs.mempools)
      for (const l of m.lanes)
        pendingPerRollup[l.namespace] = Math.max(pendingPerRollup[l.namespace] ?? 0, l.txs);
    this.#pendingPerRollup = pendingPerRollup;
    const lat = inputs.load !== null && inputs.load.latencyMs.count > 0 ? inputs.load.latencyMs : null;
    const s: HistorySample = {
      t: now,
      txPerSec: round1(this.#txs / secs),
      perRollup,
      p50: lat?.p50 ?? null,
      p99: lat?.p99 ?? null,
      blockIntervalMs:
        this.#intervals.length === 0
          ? null
          : Math.round(this.#intervals.reduce((a, b) => a + b, 0) / this.#intervals.length),
      mempoolPending: inputs.mempools.length === 0 ? null : Math.max(...inputs.mempools.map((m) => m.txs)),
      loadPending: inputs.load?.pending ?? null,
    };
    this.#samples.push(s);
    while (this.#samples.length > this.#max) this.#samples.shift();
    this.#lastSampleAt = now;
    this.#txs = 0;
    this.#perRollup = {};
    this.#intervals = [];
    return s;
  }

  toJSON(): {
    samples: HistorySample[];
    validators: ValidatorRecord[];
    blocksSeen: number;
    rollups: Record<string, { committed: number; pending: number }>;
  } {
    const rollups: Record<string, { committed: number; pending: number }> = {};
    for (const ns of new Set([
      ...Object.keys(this.#committedPerRollup),
      ...Object.keys(this.#pendingPerRollup),
    ]))
      rollups[ns] = {
        committed: this.#committedPerRollup[ns] ?? 0,
        pending: this.#pendingPerRollup[ns] ?? 0,
      };
    return {
      samples: [...this.#samples],
      validators: this.#validators.map((v) => ({ ...v })),
      blocksSeen: this.#blocksSeen,
      rollups,
    };
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
