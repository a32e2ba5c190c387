/**
 * The fault matrix's history checker: every transaction the load generator received as committed (its
 * `AckLog`, src/loadgen) must be in every node's chain exactly once, at the height it was acknowledged.
 *
 * Each node's chain is read incrementally (`sync`): batched `ordo_getBlock [h, false]` calls (hashes
 * only, no transaction data) from the last height read up to the node's head, so checking after every
 * fault costs only the new blocks. One index for all nodes keeps, per transaction hash, the height it was
 * first found at and a bit per node that holds it; a second sighting on the same node is a duplicate, a
 * different height on another node a height mismatch (which the safety check also sees as a conflicting
 * block). `check` then walks the acknowledgements: acknowledged at height h, a node that has read past h
 * must hold it (else missing). The index is bounded (`maxTxs`); beyond it the checker says so in
 * `truncated` rather than reporting false missing transactions.
 */
import { Agent } from 'node:http';
import { errorMessage } from '../src/errors.ts';
import type { AckLog } from '../src/loadgen/index.ts';
import { post } from './safety.ts';

export interface HistoryFigures {
  /** Acknowledgements the generator kept (plus `ackDropped` it could not keep). */
  acknowledged: number;
  ackDropped: number;
  /** Found exactly once in every node's chain that reaches its height. */
  foundOnce: number;
  /** Acknowledged but absent from at least one node's chain that reaches its height. */
  missing: number;
  /** Acknowledged and present more than once in at least one node's chain. */
  duplicated: number;
  /** Found at a different height than acknowledged (or than on another node). */
  heightMismatch: number;
  /** Acknowledged above the height some node has read so far (that node is behind or unreachable). */
  notYetVisible: number;
  /** Any transaction (acknowledged or not) present more than once in one node's chain. */
  chainDuplicates: number;
  /** Heights read per node. */
  heights: Record<string, number>;
  /** Nodes that could not be read on the last sync, with the reason. */
  unreachable: Record<string, string>;
  /** Up to 10 examples of each problem. */
  examples: { missing: string[]; duplicated: string[]; heightMismatch: string[] };
  /** The index hit `maxTxs`: later blocks were not indexed, so the figures cover fewer heights. */
  truncated: boolean;
}

interface TxEntry {
  height: number;
  /** Bit i: node i holds it. */
  mask: number;
  /** Bit i: node i holds it more than once. */
  dupMask: number;
  mismatch: boolean;
}

const BATCH = 25;
const MAX_NODES = 31;

export interface HistoryNode {
  id: string;
  rpc: string;
}

export class ChainHistory {
  readonly #nodes: HistoryNode[];
  readonly #read: number[];
  readonly #txs = new Map<string, TxEntry>();
  readonly #maxTxs: number;
  readonly #unreachable = new Map<string, string>();
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 2 });
  #chainDuplicates = 0;
  #truncated = false;
  /** Heights indexed on every node beyond which `#truncated` stopped indexing. */
  #cap: number = Number.POSITIVE_INFINITY;

  constructor(nodes: HistoryNode[], maxTxs = 2_000_000) {
    if (nodes.length > MAX_NODES)
      throw new RangeError(`the history checker handles at most ${MAX_NODES} nodes`);
    this.#nodes = nodes;
    this.#read = nodes.map(() => 0);
    this.#maxTxs = maxTxs;
  }

  close(): void {
    this.#agent.destroy();
  }

  /** Read every node's new blocks (up to its head, or `upTo`); a node that fails is noted and retried next time. */
  async sync(upTo = Number.POSITIVE_INFINITY): Promise<void> {
    await Promise.all(this.#nodes.map((n, i) => this.#syncNode(n, i, upTo)));
  }

  async #syncNode(n: HistoryNode, i: number, upTo: number): Promise<void> {
    // Reads are idempotent: a reused keep-alive socket the node closed at that moment ("socket hang up",
    // ECONNRESET) is tried again on a fresh one before the node counts as unreachable. Bounded: 3 tries.
    for (let attempt = 1; ; attempt++) {
      await this.#syncOnce(n, i, upTo);
      const e = this.#unreachable.get(n.id);
      if (e === undefined || attempt >= 3 || !/socket hang up|ECONNRESET|EPIPE/.test(e)) return;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }

  async #syncOnce(n: HistoryNode, i: number, upTo: number): Promise<void> {
    const url = new URL(n.rpc);
    try {
      const st = JSON.parse(
        await post(this.#agent, url, '{"jsonrpc":"2.0","id":1,"method":"ordo_status","params":[]}', 5000),
      ) as { result?: { height?: number } };
      const head = Math.min(upTo, this.#cap, Number(st.result?.height ?? 0));
      // Bounded: at most one batch per BATCH heights between what was read and the head.
      while ((this.#read[i] ?? 0) < head) {
        const from = (this.#read[i] ?? 0) + 1;
        const to = Math.min(head, from + BATCH - 1);
        const calls = [];
        for (let h = from; h <= to; h++)
          calls.push(`{"jsonrpc":"2.0","id":${h},"method":"ordo_getBlock","params":[${h},false]}`);
        const res = JSON.parse(await post(this.#agent, url, `[${calls.join(',')}]`, 60_000)) as {
          id: number;
          result?: { height?: number; txs?: { hash?: string }[] } | null;
        }[];
        if (!Array.isArray(res)) throw new Error('batch ordo_getBlock answered with a non-array');
        const byHeight = new Map<number, { hash?: string }[]>();
        for (const r of res)
          if (typeof r.id === 'number' && Array.isArray(r.result?.txs)) byHeight.set(r.id, r.result.txs);
        for (let h = from; h <= to; h++) {
          const txs = byHeight.get(h);
          if (txs === undefined) throw new Error(`no block ${h} in the answer`);
          if (!this.#index(i, h, txs)) return;
          this.#read[i] = h;
        }
      }
      this.#unreachable.delete(n.id);
    } catch (err) {
      this.#unreachable.set(n.id, errorMessage(err));
    }
  }

  /** Index one block of node `i`; false when the index is full (indexing stops at the previous height). */
  #index(i: number, h: number, txs: { hash?: string }[]): boolean {
    const bit = 1 << i;
    for (const t of txs) {
      if (typeof t.hash !== 'string') continue;
      const e = this.#txs.get(t.hash);
      if (e === undefined) {
        if (this.#txs.size >= this.#maxTxs) {
          this.#truncated = true;
          this.#cap = Math.min(this.#cap, h - 1);
          return false;
        }
        this.#txs.set(t.hash, { height: h, mask: bit, dupMask: 0, mismatch: false });
        continue;
      }
      if ((e.mask & bit) !== 0) {
        if ((e.dupMask & bit) === 0) this.#chainDuplicates++;
        e.dupMask |= bit;
      } else {
        e.mask |= bit;
        if (e.height !== h) e.mismatch = true; // this node has it first at another height
      }
    }
    return true;
  }

  /** Compare the acknowledgements with what has been read (call `sync` first). */
  check(acks: AckLog): HistoryFigures {
    const f: HistoryFigures = {
      acknowledged: acks.size,
      ackDropped: acks.dropped,
      foundOnce: 0,
      missing: 0,
      duplicated: 0,
      heightMismatch: 0,
      notYetVisible: 0,
      chainDuplicates: this.#chainDuplicates,
      heights: Object.fromEntries(this.#nodes.map((n, i) => [n.id, this.#read[i] ?? 0])),
      unreachable: Object.fromEntries(this.#unreachable),
      examples: { missing: [], duplicated: [], heightMismatch: [] },
      truncated: this.#truncated,
    };
    for (const a of acks.entries()) {
      const e = this.#txs.get(a.hash);
      let expect = 0;
      let behind = false;
      for (let i = 0; i < this.#nodes.length; i++) {
        if ((this.#read[i] ?? 0) >= a.height) expect |= 1 << i;
        else behind = true;
      }
      if (behind) f.notYetVisible++;
      const have = e?.mask ?? 0;
      if ((have & expect) !== expect) {
        f.missing++;
        if (f.examples.missing.length < 10) f.examples.missing.push(`${a.hash}@${a.height}`);
        continue;
      }
      if (e === undefined) continue; // no node reaches its height yet (counted in notYetVisible)
      let bad = false;
      if (e.dupMask !== 0) {
        f.duplicated++;
        bad = true;
        if (f.examples.duplicated.length < 10) f.examples.duplicated.push(`${a.hash}@${a.height}`);
      }
      if (e.mismatch || e.height !== a.height) {
        f.heightMismatch++;
        bad = true;
        if (f.examples.heightMismatch.length < 10)
          f.examples.heightMismatch.push(`${a.hash} acked@${a.height} found@${e.height}`);
      }
      if (!bad && !behind) f.foundOnce++;
    }
    return f;
  }
}

/** Problems in the figures: missing, duplicated or misplaced acknowledged transactions, or a truncated check. */
export function historyProblems(f: HistoryFigures): string[] {
  const out: string[] = [];
  if (f.missing > 0) out.push(`${f.missing} acknowledged transactions missing`);
  if (f.duplicated > 0) out.push(`${f.duplicated} acknowledged transactions duplicated`);
  if (f.heightMismatch > 0)
    out.push(`${f.heightMismatch} transactions at a different height than acknowledged`);
  if (f.chainDuplicates > 0) out.push(`${f.chainDuplicates} transactions twice in one chain`);
  if (f.truncated) out.push('history index full: later heights not checked');
  if (f.ackDropped > 0) out.push(`${f.ackDropped} acknowledgements not kept (log full)`);
  return out;
}
