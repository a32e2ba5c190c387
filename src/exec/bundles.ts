/**
 * Execution bundles across rollups (issue #22 rule 3, docs/executor.md "Bundles").
 *
 * A block's spans name, per rollup, the contiguous transactions of each bundle. An `execution` bundle
 * applies iff every transaction of every executed leg that is not listed as reverting ends `success`;
 * otherwise every leg's effects are discarded (each rollup's state is as before its leg) and the
 * bundle's transactions get `voided` receipts (no gas, no nonce bump). Inclusion bundles and opaque
 * legs need nothing here: their transactions run as ordinary ones (or, opaque, not at all).
 *
 * The driver walks the execution bundles in a topological order of "A's span comes before B's span in
 * some rollup" and, per rollup, a cursor that executes transactions in slice order. Before a leg, its
 * rollup's cursor executes everything up to the leg's start (public transactions, inclusion bundles
 * and bundles already decided), then runs the leg under a checkpoint of the block overlay. A leg's
 * outcome depends only on its rollup's prefix, which is fixed by the decisions of the bundles before it
 * in that rollup, so every topological order gives the same result. The sequential reference executor
 * and the parallel executor use the same driver and differ only in who prepares (verifies) each
 * transaction: the caller, or the worker pool.
 */
import { OrdoError } from '../errors.ts';
import type { BundleSpan } from '../types.ts';
import { type AnyVm, applyEffects, invalidOutcome, overlayGet, runTx, toReceipt } from './engine.ts';
import type { SimRun } from './sim-runs.ts';
import type { BlockContext, Bytes, NamespaceResult, Receipt } from './types.ts';
import type { Val } from './view.ts';
import { Slicer } from './yield.ts';

/** One executed leg of an execution bundle, in its rollup's slice. */
export interface ExecLeg {
  namespace: number;
  start: number;
  count: number;
  /** Indices within the leg allowed to revert. */
  reverting: Set<number>;
}

export interface PlannedBundle {
  bundleHash: Uint8Array;
  legs: ExecLeg[];
}

/** How one committed bundle executed (bundles with at least one executed leg). */
export interface BundleOutcome {
  bundleHash: Uint8Array;
  atomicity: 'execution' | 'inclusion';
  /** `reverted`: an execution bundle that did not apply (every receipt `voided`). */
  outcome: 'applied' | 'reverted';
  /** Executed legs, by namespace ascending. */
  legs: { namespace: number; receipts: Receipt[] }[];
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * The execution bundles of a block with executed legs, in a topological order of the span order.
 * Throws EXEC_BAD_SPANS (out of range, overlapping, two legs in one rollup) or EXEC_SPAN_CYCLE:
 * validators reject such blocks, so a certified block never has them.
 */
export function planExecutionBundles(
  spans: readonly BundleSpan[],
  lengths: ReadonlyMap<number, number>,
): PlannedBundle[] {
  const byHash = new Map<string, PlannedBundle>();
  const perNs = new Map<number, { key: string; start: number; count: number }[]>();
  for (const s of spans) {
    if (s.atomicity !== 1) continue;
    const n = lengths.get(s.namespace);
    if (n === undefined) continue; // not an executed rollup: never executed
    if (!Number.isSafeInteger(s.start) || !Number.isSafeInteger(s.count) || s.start < 0 || s.count < 1)
      throw new OrdoError('EXEC_BAD_SPANS', `bad bundle span in namespace ${s.namespace}`);
    if (s.start + s.count > n) {
      throw new OrdoError(
        'EXEC_BAD_SPANS',
        `bundle span [${s.start}, ${s.start + s.count}) is beyond namespace ${s.namespace}'s ${n} transactions`,
      );
    }
    const key = hex(s.bundleHash);
    let b = byHash.get(key);
    if (b === undefined) {
      b = { bundleHash: s.bundleHash, legs: [] };
      byHash.set(key, b);
    }
    if (b.legs.some((l) => l.namespace === s.namespace))
      throw new OrdoError('EXEC_BAD_SPANS', `bundle ${key} has two spans in namespace ${s.namespace}`);
    b.legs.push({ namespace: s.namespace, start: s.start, count: s.count, reverting: new Set(s.reverting) });
    let list = perNs.get(s.namespace);
    if (list === undefined) {
      list = [];
      perNs.set(s.namespace, list);
    }
    list.push({ key, start: s.start, count: s.count });
  }
  if (byHash.size === 0) return [];
  // Edges between consecutive spans of each rollup (enough: order is transitive within a rollup).
  const succ = new Map<string, Set<string>>();
  const indeg = new Map<string, number>();
  for (const k of byHash.keys()) {
    succ.set(k, new Set());
    indeg.set(k, 0);
  }
  for (const [ns, list] of perNs) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 1; i < list.length; i++) {
      const a = list[i - 1]!;
      const b = list[i]!;
      if (a.start + a.count > b.start)
        throw new OrdoError('EXEC_BAD_SPANS', `overlapping bundle spans in namespace ${ns}`);
      if (!succ.get(a.key)!.has(b.key)) {
        succ.get(a.key)!.add(b.key);
        indeg.set(b.key, indeg.get(b.key)! + 1);
      }
    }
  }
  // Kahn's algorithm; ties by first appearance in `spans` (any order gives the same results).
  const ready = [...byHash.keys()].filter((k) => indeg.get(k) === 0);
  const out: PlannedBundle[] = [];
  while (ready.length > 0) {
    const k = ready.shift()!;
    const b = byHash.get(k)!;
    b.legs.sort((x, y) => x.namespace - y.namespace);
    out.push(b);
    for (const n of succ.get(k)!) {
      const d = indeg.get(n)! - 1;
      indeg.set(n, d);
      if (d === 0) ready.push(n);
    }
  }
  if (out.length !== byHash.size)
    throw new OrdoError('EXEC_SPAN_CYCLE', 'the bundle spans of this block order bundles in a cycle');
  return out;
}

/** The block overlay with an undo journal: `rollback` restores every key set since `checkpoint`. */
export class JournalOverlay extends Map<Bytes, Val> {
  #journal: Map<Bytes, Val | undefined> | undefined;

  override set(k: Bytes, v: Val): this {
    const j = this.#journal;
    if (j !== undefined && !j.has(k)) j.set(k, super.get(k));
    return super.set(k, v);
  }

  checkpoint(): void {
    this.#journal = new Map();
  }

  release(): void {
    this.#journal = undefined;
  }

  rollback(): void {
    const j = this.#journal;
    this.#journal = undefined;
    if (j === undefined) return;
    for (const [k, prev] of j) {
      if (prev === undefined) super.delete(k);
      else super.set(k, prev);
    }
  }
}

/** A transaction's prepared form: the VM's own (sequential) or rebuilt from a worker's proof. */
export type PrepareFn = (i: number) => Promise<{ ok: true; tx: unknown } | { ok: false; error: string }>;

/**
 * A run of transaction i that is still valid at its place in the block (the proposer's simulation of
 * it, sim-runs.ts): `get` answers committed state + the block's writes so far. Undefined: execute it.
 */
export type ReuseFn = (i: number, get: (k: Bytes) => Bytes | undefined) => SimRun | undefined;

/** Executes one rollup's slice in order, from `pos` on, against committed state + the overlay. */
export class LaneCursor {
  readonly overlay = new JournalOverlay();
  readonly receipts: Receipt[] = [];
  readonly get: (k: Bytes) => Bytes | undefined;
  pos = 0;
  readonly #vm: AnyVm;
  readonly #ctx: BlockContext;
  readonly #prepare: PrepareFn;
  readonly #reuse: ReuseFn | undefined;
  readonly #slicer = new Slicer();
  readonly length: number;

  /** Results already persisted for this height (a restart between two rollups' commits): replayed as is. */
  readonly stored: boolean;

  constructor(
    vm: AnyVm,
    committed: Map<Bytes, Bytes>,
    length: number,
    ctx: BlockContext,
    prepare: PrepareFn,
    stored?: Receipt[],
    reuse?: ReuseFn,
  ) {
    this.stored = stored !== undefined;
    this.#reuse = reuse;
    if (stored !== undefined) this.receipts.push(...stored);
    this.#vm = vm;
    this.#ctx = ctx;
    this.#prepare = prepare;
    this.length = length;
    this.get = overlayGet(this.overlay, committed);
  }

  async advance(to: number): Promise<void> {
    if (this.stored) {
      this.pos = Math.max(this.pos, to);
      return;
    }
    while (this.pos < to) {
      // A bundled block runs every transaction here, on the main thread: yield now and then (yield.ts).
      if (this.#slicer.due()) await this.#slicer.yield();
      const i = this.pos;
      const run = this.#reuse?.(i, this.get);
      if (run !== undefined) {
        // Same values read (and the same or no block context): the simulated run is this run.
        applyEffects(this.#vm, this.overlay, this.get, run.effects.writes, run.effects.credits);
        this.receipts.push(toReceipt(i, run.outcome));
        this.pos++;
        continue;
      }
      const p = await this.#prepare(i);
      if (!p.ok) {
        this.receipts.push(toReceipt(i, invalidOutcome(p.error)));
      } else {
        const { outcome, effects } = await runTx(this.#vm, p.tx, this.get, this.#ctx);
        applyEffects(this.#vm, this.overlay, this.get, effects.writes, effects.credits);
        this.receipts.push(toReceipt(i, outcome));
      }
      this.pos++;
    }
  }
}

/** Run the execution bundles of `plan` and the rest of every slice through the cursors. */
export async function runBundled(plan: PlannedBundle[], cursors: Map<number, LaneCursor>): Promise<void> {
  for (const b of plan) {
    let failed: string | undefined;
    for (const leg of b.legs) {
      const c = cursors.get(leg.namespace)!;
      await c.advance(leg.start);
      c.overlay.checkpoint();
      await c.advance(leg.start + leg.count);
      if (failed !== undefined) continue;
      for (let j = 0; j < leg.count; j++) {
        const r = c.receipts[leg.start + j]!;
        if (r.status === 'voided') {
          // A stored leg (restart mid-block) already carries the decision and its reason.
          failed = r.error ?? 'bundle voided';
          break;
        }
        if (r.status !== 'success' && !leg.reverting.has(j)) {
          failed = `bundle voided: namespace ${leg.namespace} tx ${leg.start + j} ended ${r.status}${
            r.error === undefined ? '' : `: ${r.error}`
          }`;
          break;
        }
      }
    }
    for (const leg of b.legs) {
      const c = cursors.get(leg.namespace)!;
      if (failed === undefined) {
        c.overlay.release();
        continue;
      }
      c.overlay.rollback();
      for (let j = leg.start; j < leg.start + leg.count; j++) {
        c.receipts[j] = { index: j, status: 'voided', gasUsed: 0n, logs: [], error: failed };
      }
    }
  }
  for (const c of cursors.values()) await c.advance(c.length);
}

/**
 * Per-bundle outcomes of an executed block, derived from the spans and the receipts alone (so stored
 * results give the same answer after a restart): an execution bundle whose receipts are `voided`
 * did not apply. Only bundles with at least one executed leg are reported.
 */
export function bundleOutcomes(
  spans: readonly BundleSpan[],
  results: ReadonlyMap<number, NamespaceResult>,
): BundleOutcome[] {
  const out = new Map<string, BundleOutcome>();
  for (const s of spans) {
    const r = results.get(s.namespace);
    if (r === undefined) continue;
    const key = hex(s.bundleHash);
    let o = out.get(key);
    if (o === undefined) {
      o = {
        bundleHash: s.bundleHash,
        atomicity: s.atomicity === 1 ? 'execution' : 'inclusion',
        outcome: 'applied',
        legs: [],
      };
      out.set(key, o);
    }
    const receipts = r.receipts.slice(s.start, s.start + s.count);
    if (receipts.some((x) => x.status === 'voided')) o.outcome = 'reverted';
    o.legs.push({ namespace: s.namespace, receipts });
  }
  for (const o of out.values()) o.legs.sort((a, b) => a.namespace - b.namespace);
  return [...out.values()];
}
