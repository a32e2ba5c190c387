/**
 * Polling filters (eth_newFilter / eth_newBlockFilter / eth_getFilterChanges / eth_uninstallFilter) and
 * log matching shared with eth_getLogs and `logs` subscriptions. Filters live in memory, fed by newly
 * indexed blocks; they are bounded (count, buffered changes) and expire when not polled for
 * `idleMs` (default 5 minutes, as geth).
 */
import { randomBytes } from 'node:crypto';
import { RpcError } from '../rpc/index.ts';
import type { EthBlock } from './chain.ts';
import type { LogFilter } from './params.ts';
import { data } from './params.ts';
import { logJson } from './render.ts';

const eq = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

/** Whether a log matches a filter's addresses and topics. */
export function logMatches(
  f: Pick<LogFilter, 'addresses' | 'topics'>,
  address: Uint8Array,
  topics: Uint8Array[],
): boolean {
  if (f.addresses.length > 0 && !f.addresses.some((a) => eq(a, address))) return false;
  for (let i = 0; i < f.topics.length; i++) {
    const want = f.topics[i];
    if (want === null || want === undefined) continue;
    const t = topics[i];
    if (t === undefined || !want.some((w) => eq(w, t))) return false;
  }
  return true;
}

/** The matching logs of one block, rendered. */
export function blockLogs(
  b: EthBlock,
  f: Pick<LogFilter, 'addresses' | 'topics'>,
): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const t of b.txs) {
    t.receipt.logs.forEach((l, i) => {
      if (logMatches(f, l.address, l.topics)) out.push(logJson(l, b, t, t.firstLogIndex + i));
    });
  }
  return out;
}

interface Filter {
  kind: 'block' | 'log';
  log?: LogFilter;
  /** Numeric bounds of a log filter (tags mean "no bound"). */
  from?: number;
  to?: number;
  changes: unknown[];
  polledAt: number;
}

export interface FilterOptions {
  maxFilters?: number;
  maxBuffered?: number;
  idleMs?: number;
  now?: () => number;
}

export class Filters {
  readonly #filters = new Map<string, Filter>();
  readonly #max: number;
  readonly #maxBuffered: number;
  readonly #idleMs: number;
  readonly #now: () => number;

  constructor(o: FilterOptions = {}) {
    this.#max = o.maxFilters ?? 1000;
    this.#maxBuffered = o.maxBuffered ?? 10_000;
    this.#idleMs = o.idleMs ?? 5 * 60_000;
    this.#now = o.now ?? Date.now;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [id, f] of this.#filters) if (now - f.polledAt > this.#idleMs) this.#filters.delete(id);
  }

  #install(f: Omit<Filter, 'changes' | 'polledAt'>): string {
    this.#sweep();
    if (this.#filters.size >= this.#max)
      throw new RpcError(-32000, `too many filters installed (limit ${this.#max}); uninstall some first`);
    const id = data(randomBytes(16));
    this.#filters.set(id, { ...f, changes: [], polledAt: this.#now() });
    return id;
  }

  newBlockFilter(): string {
    return this.#install({ kind: 'block' });
  }

  newLogFilter(log: LogFilter, from?: number, to?: number): string {
    return this.#install({
      kind: 'log',
      log,
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
    });
  }

  /** The filter's log criteria (eth_getFilterLogs). */
  logFilter(id: string): LogFilter {
    this.#sweep();
    const f = this.#filters.get(id);
    if (f === undefined || f.kind !== 'log') throw new RpcError(-32000, 'filter not found');
    f.polledAt = this.#now();
    return f.log!;
  }

  changes(id: string): unknown[] {
    this.#sweep();
    const f = this.#filters.get(id);
    if (f === undefined) throw new RpcError(-32000, 'filter not found');
    f.polledAt = this.#now();
    const out = f.changes;
    f.changes = [];
    return out;
  }

  uninstall(id: string): boolean {
    this.#sweep();
    return this.#filters.delete(id);
  }

  size(): number {
    return this.#filters.size;
  }

  /** A block was indexed: append to every filter's changes (oldest dropped past the bound). */
  onBlock(b: EthBlock): void {
    // Expired filters go now, not at the next install or poll: nothing is buffered for them.
    this.#sweep();
    for (const f of this.#filters.values()) {
      if (f.kind === 'block') f.changes.push(data(b.hash));
      else {
        if ((f.from !== undefined && b.number < f.from) || (f.to !== undefined && b.number > f.to)) continue;
        for (const l of blockLogs(b, f.log!)) f.changes.push(l);
      }
      if (f.changes.length > this.#maxBuffered) f.changes.splice(0, f.changes.length - this.#maxBuffered);
    }
  }
}
