/**
 * Transport cost per committed transaction, read from the nodes of a benchmark run: polls each node's
 * Prometheus `/metrics` (loopback, one scrape per node every `everyMs`) and answers, for a measured
 * window, what every node received per transaction it committed: gossipsub RPC frames and bytes,
 * published messages per topic (duplicates included), IDONTWANT/IHAVE/IWANT ids, and the first copies
 * that reached validation. Each node's figures are divided by that node's own committed-transaction
 * counter over the same two scrapes, so the window need not line up with the load generator's. Counters a
 * checkout does not export (0.1.0 has no `ordo_p2p_rpc_received_*`) come out as null.
 */

const SCRAPE_TIMEOUT_MS = 1500;
const MAX_SAMPLES = 3600;

type Counters = Map<string, number>;

interface Sample {
  t: number;
  counters: Counters;
}

/** Sum of every series of these metric names, keyed `name` or `name{label="v",...}` as selected below. */
const WANTED: { key: string; name: string; labels?: Record<string, string> }[] = [
  { key: 'committedTxs', name: 'ordo_consensus_committed_txs_total' },
  { key: 'commits', name: 'ordo_consensus_commits_total' },
  { key: 'rpcFrames', name: 'ordo_p2p_rpc_received_total' },
  { key: 'rpcBytes', name: 'ordo_p2p_rpc_received_bytes_total' },
  {
    key: 'txBatchCopies',
    name: 'ordo_p2p_rpc_received_items_total',
    labels: { kind: 'message', topic: 'txs' },
  },
  {
    key: 'consensusCopies',
    name: 'ordo_p2p_rpc_received_items_total',
    labels: { kind: 'message', topic: 'consensus' },
  },
  { key: 'idontwantIds', name: 'ordo_p2p_rpc_received_items_total', labels: { kind: 'idontwant' } },
  { key: 'ihaveIds', name: 'ordo_p2p_rpc_received_items_total', labels: { kind: 'ihave' } },
  { key: 'iwantIds', name: 'ordo_p2p_rpc_received_items_total', labels: { kind: 'iwant' } },
  {
    key: 'txBatchesValidated',
    name: 'ordo_p2p_gossip_messages_total',
    labels: { topic: 'txs', direction: 'in' },
  },
  {
    key: 'txBatchBytesValidated',
    name: 'ordo_p2p_gossip_bytes_total',
    labels: { topic: 'txs', direction: 'in' },
  },
  {
    key: 'consensusValidated',
    name: 'ordo_p2p_gossip_messages_total',
    labels: { topic: 'consensus', direction: 'in' },
  },
];

/** Parse the exposition text for the WANTED series (missing metrics are absent from the map). */
export function parseCounters(text: string): Counters {
  const out: Counters = new Map();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      // A family that exists counts from 0 even before its first labelled series appears.
      const family = line.split(' ')[2];
      for (const w of WANTED) if (w.name === family && !out.has(w.key)) out.set(w.key, 0);
      continue;
    }
    if (line.length === 0 || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.lastIndexOf(' ');
    if (space < 0) continue;
    const name = brace >= 0 && brace < space ? line.slice(0, brace) : line.slice(0, space);
    const labelText = brace >= 0 && brace < space ? line.slice(brace + 1, line.lastIndexOf('}')) : '';
    const value = Number(line.slice(space + 1));
    if (!Number.isFinite(value)) continue;
    for (const w of WANTED) {
      if (w.name !== name) continue;
      if (w.labels !== undefined) {
        let ok = true;
        for (const [k, v] of Object.entries(w.labels)) {
          if (!labelText.includes(`${k}="${v}"`)) ok = false;
        }
        if (!ok) continue;
      }
      out.set(w.key, (out.get(w.key) ?? 0) + value);
    }
  }
  return out;
}

export interface TransportPerTx {
  /** Nodes whose two scrapes framed the window and committed something in between. */
  nodes: number;
  committedTxsPerNode: number;
  /** Per committed transaction, per node (mean over nodes); null when the checkout lacks the counter. */
  rpcFramesPerTx: number | null;
  rpcBytesPerTx: number | null;
  /** Transaction-batch copies received (duplicates included) per batch that passed validation. */
  txBatchCopiesPerBatch: number | null;
  txBatchesPerTx: number | null;
  txBatchBytesPerTx: number | null;
  consensusCopiesPerMessage: number | null;
  idontwantIdsPerTx: number | null;
  ihaveIdsPerTx: number | null;
  iwantIdsPerTx: number | null;
  /** Blocks committed per second per node over the window (mean over nodes): the per-block work's rate. */
  blocksPerSec: number | null;
  /** Committed transactions per committed block over the window. */
  txsPerBlock: number | null;
}

/** Polls `/metrics` of the given RPC ports until stopped. */
export class NodeMetricsSampler {
  readonly #urls: string[];
  readonly #samples: Sample[][];
  readonly #timer: NodeJS.Timeout;
  #busy = false;

  constructor(rpcPorts: number[], everyMs = 2000) {
    this.#urls = rpcPorts.map((p) => `http://127.0.0.1:${p}/metrics`);
    this.#samples = rpcPorts.map(() => []);
    this.#timer = setInterval(() => void this.#poll(), everyMs);
  }

  async #poll(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      await Promise.all(
        this.#urls.map(async (url, i) => {
          const list = this.#samples[i]!;
          if (list.length >= MAX_SAMPLES) return;
          try {
            const res = await fetch(url, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
            if (!res.ok) return;
            const counters = parseCounters(await res.text());
            list.push({ t: Date.now(), counters });
          } catch {
            // not up yet, or already stopped: no sample
          }
        }),
      );
    } finally {
      this.#busy = false;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Per-node transport figures between the first scrape at/after `startMs` and the last at/before `endMs`. */
  perTx(startMs: number, endMs: number): TransportPerTx | null {
    const per: Map<string, number>[] = [];
    let committed = 0;
    for (const list of this.#samples) {
      const a = list.find((s) => s.t >= startMs);
      const b = list.findLast((s) => s.t <= endMs);
      if (a === undefined || b === undefined || b.t <= a.t) continue;
      const d = new Map<string, number>();
      for (const [k, v] of b.counters) {
        const v0 = a.counters.get(k);
        if (v0 !== undefined) d.set(k, v - v0);
      }
      d.set('@windowMs', b.t - a.t);
      const c = d.get('committedTxs') ?? 0;
      if (c <= 0) continue;
      committed += c;
      per.push(d);
    }
    if (per.length === 0) return null;
    const mean = (num: string, den: string, digits: number): number | null => {
      const xs: number[] = [];
      for (const d of per) {
        const n = d.get(num);
        const q = d.get(den);
        if (n === undefined || q === undefined || q <= 0) return null;
        xs.push(n / q);
      }
      const f = 10 ** digits;
      return Math.round((xs.reduce((s, x) => s + x, 0) / xs.length) * f) / f;
    };
    const perSec = (num: string): number | null => {
      const xs: number[] = [];
      for (const d of per) {
        const n = d.get(num);
        const ms = d.get('@windowMs');
        if (n === undefined || ms === undefined || ms <= 0) return null;
        xs.push((n * 1000) / ms);
      }
      return Math.round((xs.reduce((s, x) => s + x, 0) / xs.length) * 100) / 100;
    };
    return {
      nodes: per.length,
      committedTxsPerNode: Math.round(committed / per.length),
      rpcFramesPerTx: mean('rpcFrames', 'committedTxs', 4),
      rpcBytesPerTx: mean('rpcBytes', 'committedTxs', 1),
      txBatchCopiesPerBatch: mean('txBatchCopies', 'txBatchesValidated', 3),
      txBatchesPerTx: mean('txBatchesValidated', 'committedTxs', 5),
      txBatchBytesPerTx: mean('txBatchBytesValidated', 'committedTxs', 1),
      consensusCopiesPerMessage: mean('consensusCopies', 'consensusValidated', 3),
      idontwantIdsPerTx: mean('idontwantIds', 'committedTxs', 5),
      ihaveIdsPerTx: mean('ihaveIds', 'committedTxs', 5),
      iwantIdsPerTx: mean('iwantIds', 'committedTxs', 5),
      blocksPerSec: perSec('commits'),
      txsPerBlock: mean('committedTxs', 'commits', 1),
    };
  }
}
