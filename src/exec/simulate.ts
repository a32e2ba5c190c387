/**
 * Bundle simulation (issue #22 rule 4, `ordo_callBundle`): run a bundle's executed legs against the
 * latest executed state, per leg in order, without persisting anything. Uses its own VM instances (a
 * VM is not re-entrant) and reads the committed state maps directly; a block commit in the middle of a
 * simulation is detected (heads moved) and the simulation is retried, then run on the executor's
 * queue, so every result is taken on one consistent height. The result shape is the bundle pool's
 * `SimulatedBundle` (src/mempool/bundle-types.ts), repeated here so the executor stays below the pool.
 *
 * The auction (ADR 0195) simulates on the state after a committed height h that the executor may not
 * have executed yet: `simulateAt` with the committed block h (`PendingBlock`) runs, when the bundle's
 * rollups are still at h - 1, block h's slices of those rollups — and of every rollup an execution
 * bundle of h joins them to — in memory with the sequential reference driver (bundles.ts), then the
 * bundle on top of that overlay. The state, receipts and roots are the ones the executor will persist
 * for h, so the verdict does not depend on whether this node's executor has reached h.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { txHash } from '../codec/index.ts';
import type { RollupConfig } from '../config/index.ts';
import { OrdoError } from '../errors.ts';
import type { Bundle, BundleSpan } from '../types.ts';
import { LaneCursor, type PrepareFn, planExecutionBundles, runBundled } from './bundles.ts';
import { type AnyVm, applyEffects, invalidOutcome, overlayGet, runTx } from './engine.ts';
import type { SimRun } from './sim-runs.ts';
import { chainRoot } from './state.ts';
import type { Bytes, Prepared, TxOutcome } from './types.ts';
import type { Val } from './view.ts';

export interface SimTx {
  hash: Uint8Array;
  status: 'success' | 'revert' | 'invalid';
  gasUsed: bigint;
  error?: string;
  returnData?: Uint8Array;
}

export interface SimResult {
  applies: boolean;
  reason?: string;
  height: number;
  legs: { namespace: number; executed: boolean; txs: SimTx[]; stateRoot?: Uint8Array }[];
}

/** What a simulation reads of a rollup's state (the committed map, or an in-memory block over it). */
export interface StateReader {
  get(key: Bytes): Bytes | undefined;
}

export interface SimLane<S extends StateReader = StateReader> {
  rollup: RollupConfig;
  state: { state: S; height: number; root: Uint8Array };
}

/** A committed block the simulated rollups may not have executed yet (its data as the executor gets it). */
export interface PendingBlock {
  height: number;
  /** The certified header's time (what execution passes the VMs). */
  timeMs: number;
  /** Transactions per namespace, in block order (namespaces that are not executed are ignored). */
  txs: ReadonlyMap<number, readonly Uint8Array[]>;
  spans: readonly BundleSpan[];
}

/**
 * Told each leg transaction's run (its read set, effects and block context), so the block that places
 * the bundle may reuse it (sim-runs.ts, ADR 0220).
 */
export type RecordRun = (namespace: number, payload: Uint8Array, run: SimRun) => void;

/** The bundle limits of docs/wire.md (the pool refuses bigger bundles before they get here). */
const MAX_LEGS = 16;
const MAX_TXS = 100;

/** The rollup's own hash of a leg transaction: keccak256 for EVM rollups, Ordo's txHash otherwise. */
export function legTxHash(rollup: RollupConfig, payload: Uint8Array): Uint8Array {
  if (rollup.kind === 'evm') return keccak_256(payload);
  return txHash({ namespace: rollup.namespace, payload });
}

/** The refusal of a simulation at a height other than the latest executed one. */
export function heightUnavailable(height: number, wanted: number): OrdoError {
  return new OrdoError(
    'EXEC_SIM_HEIGHT_UNAVAILABLE',
    `only the latest executed state (height ${height}) can be simulated, not ${wanted}`,
    { height, wanted },
  );
}

/** Refuse a bundle above the limits of docs/wire.md (EXEC_SIM_TOO_LARGE). */
export function checkSimSize(bundle: Bundle): void {
  const nTxs = bundle.legs.reduce((n, l) => n + l.txs.length, 0);
  if (bundle.legs.length > MAX_LEGS || nTxs > MAX_TXS) {
    throw new OrdoError(
      'EXEC_SIM_TOO_LARGE',
      `a bundle has at most ${MAX_LEGS} legs and ${MAX_TXS} transactions (got ${bundle.legs.length}, ${nTxs})`,
    );
  }
}

/** One executed leg's simulation: its transactions' results and the rollup's root after it. */
export interface LegRun {
  txs: SimTx[];
  stateRoot: Uint8Array;
}

/**
 * Run one leg on `lane`'s state at `lane.state.height` (a fresh overlay: legs never see each other's
 * writes), as the block after it (height + 1, `timeMs`). The executor runs it on the main thread; the
 * Ethereum RPC's call workers run the same function on their replica (src/eth-rpc/bundle-sim-worker.ts).
 */
export async function simulateLeg(
  lane: SimLane,
  vm: AnyVm,
  leg: Bundle['legs'][number],
  timeMs: number,
  prepare?: (namespace: number, payload: Uint8Array) => Prepared<unknown>,
  record?: RecordRun,
): Promise<LegRun> {
  const height = lane.state.height;
  const overlay = new Map<Bytes, Val>();
  const get = overlayGet(overlay, lane.state.state);
  const txs: SimTx[] = [];
  for (const payload of leg.txs) {
    const hash = legTxHash(lane.rollup, payload);
    const p = prepare === undefined ? vm.prepare(payload) : prepare(leg.namespace, payload);
    let o: TxOutcome;
    if (!p.ok) o = invalidOutcome(p.error);
    else {
      const ctx = { height: height + 1, timeMs };
      const r = await runTx(vm, p.tx, get, ctx);
      applyEffects(vm, overlay, get, r.effects.writes, r.effects.credits);
      o = r.outcome;
      record?.(leg.namespace, payload, {
        outcome: o,
        effects: r.effects,
        ctx,
        contextFree: lane.rollup.kind === 'transfer' || o.contextFree === true,
      });
    }
    const t: SimTx = { hash, status: o.status === 'voided' ? 'invalid' : o.status, gasUsed: o.gasUsed };
    if (o.error !== undefined) t.error = o.error;
    if (o.returnData !== undefined) t.returnData = o.returnData;
    txs.push(t);
  }
  const diff: [Bytes, Val][] = [];
  for (const [k, v] of overlay) if ((lane.state.state.get(k) ?? null) !== v) diff.push([k, v]);
  return { txs, stateRoot: chainRoot(leg.namespace, height + 1, lane.state.root, diff) };
}

/**
 * Whether a bundle applies given its legs' results (in bundle order): an `execution` bundle applies iff
 * every transaction not listed in its leg's `revertingTxHashes` ends `success`; the reason names the
 * first that does not. Inclusion bundles always apply.
 */
export function bundleVerdict(
  bundle: Bundle,
  legs: readonly { txs: readonly SimTx[] }[],
): { applies: true } | { applies: false; reason: string } {
  if (bundle.atomicity !== 'execution') return { applies: true };
  for (const [li, leg] of bundle.legs.entries()) {
    const rev = new Set(leg.revertingTxHashes.map((h) => Buffer.from(h).toString('hex')));
    for (const [i, t] of (legs[li]?.txs ?? []).entries()) {
      if (t.status === 'success' || rev.has(Buffer.from(t.hash).toString('hex'))) continue;
      return {
        applies: false,
        reason: `namespace ${leg.namespace} tx ${i} (0x${Buffer.from(t.hash).toString('hex')}) would end ${t.status}${
          t.error === undefined ? '' : `: ${t.error}`
        }`,
      };
    }
  }
  return { applies: true };
}

/** One attempt over the current committed state; undefined when a commit moved a head meanwhile. */
export async function simulateOnce(
  bundle: Bundle,
  lanes: ReadonlyMap<number, SimLane>,
  vmFor: (ns: number) => Promise<AnyVm>,
  timeMs: number,
  wantHeight: number | undefined,
  prepare?: (namespace: number, payload: Uint8Array) => Prepared<unknown>,
  record?: RecordRun,
): Promise<SimResult | undefined> {
  checkSimSize(bundle);
  const executed = bundle.legs.filter((l) => lanes.has(l.namespace));
  const heights = () => executed.map((l) => lanes.get(l.namespace)!.state.height);
  const before = heights();
  const height = before.length === 0 ? 0 : Math.min(...before);
  if (before.some((h) => h !== height)) return undefined;
  if (wantHeight !== undefined && wantHeight !== height) throw heightUnavailable(height, wantHeight);
  const out: SimResult = { applies: true, height, legs: [] };
  for (const leg of bundle.legs) {
    const lane = lanes.get(leg.namespace);
    if (lane === undefined) {
      out.legs.push({ namespace: leg.namespace, executed: false, txs: [] });
      continue;
    }
    const vm = await vmFor(leg.namespace);
    const run = await simulateLeg(lane, vm, leg, timeMs, prepare, record);
    out.legs.push({ namespace: leg.namespace, executed: true, txs: run.txs, stateRoot: run.stateRoot });
  }
  const verdict = bundleVerdict(bundle, out.legs);
  if (!verdict.applies) {
    out.applies = false;
    out.reason = verdict.reason;
  }
  const after = heights();
  if (after.some((h, i) => h !== before[i])) return undefined;
  return out;
}

/**
 * The last pending block run in memory (`advanceInMemory`), kept for the next simulations on the same
 * block: the auction simulates several bids on the state after h - 1 while the executor is still at
 * h - 2, and each used to run block h - 1 again, up to its full gas (ADR 0298). An entry serves only
 * while the heads it was run over have not moved; the lanes it holds are only read by simulations.
 */
export class AdvanceCache {
  #key: string | undefined;
  #heights: readonly number[] = [];
  #value: Promise<Map<number, SimLane>> | undefined;
  /** Block runs this cache saved (reused) and those it had to do (run). */
  readonly counts = { reused: 0, run: 0 };
  readonly #onCount: ((result: 'run' | 'reused') => void) | undefined;

  constructor(onCount?: (result: 'run' | 'reused') => void) {
    this.#onCount = onCount;
  }

  count(result: 'run' | 'reused'): void {
    this.counts[result]++;
    this.#onCount?.(result);
  }

  get(key: string, heights: readonly number[]): Promise<Map<number, SimLane>> | undefined {
    if (key !== this.#key || heights.some((h, i) => h !== this.#heights[i])) return undefined;
    return this.#value;
  }

  set(key: string, heights: readonly number[], value: Promise<Map<number, SimLane>>): void {
    this.#key = key;
    this.#heights = heights;
    this.#value = value;
    // A failed run is not kept: the next simulation runs the block again.
    value.catch(() => {
      if (this.#value === value) this.#key = undefined;
    });
  }
}

/**
 * `simulateOnce` on the state after `wantHeight`, also when the bundle's rollups have executed only
 * `wantHeight - 1`: then `pending` (block `wantHeight`, committed) is run first on an in-memory overlay
 * of the rollups it concerns (`advanceInMemory`). Undefined when a commit moved a head meanwhile or the
 * heads are between two heights (the executor is committing): the caller retries.
 */
export async function simulateAt(
  bundle: Bundle,
  lanes: ReadonlyMap<number, SimLane<Map<Bytes, Bytes>>>,
  vmFor: (ns: number) => Promise<AnyVm>,
  timeMs: number,
  wantHeight: number | undefined,
  prepare?: (namespace: number, payload: Uint8Array) => Prepared<unknown>,
  pending?: PendingBlock,
  prepareBlockTx?: (namespace: number, payload: Uint8Array) => Prepared<unknown>,
  record?: RecordRun,
  cache?: AdvanceCache,
): Promise<SimResult | undefined> {
  if (pending === undefined || wantHeight === undefined || pending.height !== wantHeight)
    return simulateOnce(bundle, lanes, vmFor, timeMs, wantHeight, prepare, record);
  const named = [...new Set(bundle.legs.map((l) => l.namespace))].filter((ns) => lanes.has(ns));
  const at = named.map((ns) => lanes.get(ns)!.state.height);
  if (at.every((h) => h === wantHeight))
    return simulateOnce(bundle, lanes, vmFor, timeMs, wantHeight, prepare, record);
  if (!at.every((h) => h === wantHeight - 1)) {
    // Some at wantHeight - 1, some at wantHeight: the executor is committing wantHeight right now.
    if (at.every((h) => h === wantHeight - 1 || h === wantHeight)) return undefined;
    return simulateOnce(bundle, lanes, vmFor, timeMs, wantHeight, prepare, record); // refuses a lagging state
  }
  const read = blockClosure(named, lanes, pending.spans);
  const heights = () => read.map((ns) => lanes.get(ns)!.state.height);
  const before = heights();
  if (before.some((h) => h !== wantHeight - 1)) return undefined;
  // A committed block per height: its height, time and the lanes run over name the run.
  const key = `${pending.height}/${pending.timeMs}/${read.join(',')}`;
  let run = cache?.get(key, before);
  if (run === undefined) {
    run = advanceInMemory(read, lanes, vmFor, pending, prepareBlockTx ?? prepare);
    cache?.set(key, before, run);
    cache?.count('run');
  } else cache?.count('reused');
  const advanced = await run;
  if (heights().some((h, i) => h !== before[i])) return undefined;
  const r = await simulateOnce(bundle, advanced, vmFor, timeMs, wantHeight, prepare, record);
  if (heights().some((h, i) => h !== before[i])) return undefined;
  return r;
}

/**
 * The executed rollups whose block results `namespaces` depend on: `namespaces` and, transitively,
 * every rollup an execution bundle of the block spans together with one of them (a bundle's effects
 * in one rollup depend on its success in the others, docs/executor.md "Bundles").
 */
export function blockClosure(
  namespaces: readonly number[],
  lanes: ReadonlyMap<number, unknown>,
  spans: readonly BundleSpan[],
): number[] {
  const set = new Set(namespaces.filter((ns) => lanes.has(ns)));
  const exec = spans.filter((s) => s.atomicity === 1 && lanes.has(s.namespace));
  const key = (s: BundleSpan) => Buffer.from(s.bundleHash).toString('latin1');
  for (let grew = true; grew; ) {
    grew = false;
    const joined = new Set(exec.filter((s) => set.has(s.namespace)).map(key));
    for (const s of exec) {
      if (!set.has(s.namespace) && joined.has(key(s))) {
        set.add(s.namespace);
        grew = true;
      }
    }
  }
  return [...set].sort((a, b) => a - b);
}

/**
 * Block `pending` run in memory over the lanes `read` (all at `pending.height - 1`; `read` closed under
 * the block's execution bundles, see `blockClosure`) with the sequential reference driver the executor
 * uses for bundled blocks: lanes as they will be after `pending.height`, root chained as `RollupState`
 * commits it. Nothing is persisted; the executor's maps are only read.
 */
export async function advanceInMemory(
  read: readonly number[],
  lanes: ReadonlyMap<number, SimLane<Map<Bytes, Bytes>>>,
  vmFor: (ns: number) => Promise<AnyVm>,
  pending: PendingBlock,
  prepare?: (namespace: number, payload: Uint8Array) => Prepared<unknown>,
): Promise<Map<number, SimLane>> {
  const ctx = { height: pending.height, timeMs: pending.timeMs };
  const lengths = new Map(read.map((ns) => [ns, (pending.txs.get(ns) ?? []).length]));
  // Spans of rollups outside `read` are left out (not executed here); `read` is closed, so no execution
  // bundle of `read` loses a leg.
  const plan = planExecutionBundles(pending.spans, lengths);
  const cursors = new Map<number, LaneCursor>();
  for (const ns of read) {
    const lane = lanes.get(ns)!;
    const vm = await vmFor(ns);
    const payloads = pending.txs.get(ns) ?? [];
    const prep: PrepareFn = async (i) =>
      prepare === undefined ? vm.prepare(payloads[i]!) : prepare(ns, payloads[i]!);
    cursors.set(ns, new LaneCursor(vm, lane.state.state, payloads.length, ctx, prep));
  }
  await runBundled(plan, cursors);
  const out = new Map<number, SimLane>();
  for (const ns of read) {
    const lane = lanes.get(ns)!;
    const c = cursors.get(ns)!;
    const base = lane.state.state;
    const diff: [Bytes, Val][] = [];
    for (const [k, v] of c.overlay) if ((base.get(k) ?? null) !== v) diff.push([k, v]);
    out.set(ns, {
      rollup: lane.rollup,
      state: {
        state: { get: overlayGet(c.overlay, base) },
        height: pending.height,
        root: chainRoot(ns, pending.height, lane.state.root, diff),
      },
    });
  }
  return out;
}
