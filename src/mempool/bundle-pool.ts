/**
 * The bundle pool (issue #22, docs/bundles.md): where searchers' bundles wait, whole, until a proposer
 * places them in a block. It is the node's one bundle store and implements four seams:
 *
 *   - `BundleAdmission` (admit / cancel): the ingress's door and bundle gossip's (source `gossip`).
 *     Stateless checks live in bundle-check.ts; here the window, duplicates, replacement by the same
 *     signer and replacement UUID, cancels, committed transactions and the pool limits (bundles, bytes,
 *     bundles per signer — unsigned bundles share one "anonymous" bucket) with a retryable
 *     BUNDLE_POOL_FULL.
 *   - the builder's `BundleSource` (select / lookup), structurally (src/builder/types.ts): `select` picks
 *     whole bundles in their window, oldest first, never two sharing a transaction, within the budget
 *     (and at most `maxSimulationsPerSelect` simulations, started within `maxSimulationMsPerSelect`,
 *     declaring at most `maxSimulationGasPerBlock` EVM gas together),
 *     skipping ones the optional `simulate` hook says would not apply (they stay pending and are dropped
 *     `would-revert` when they expire); `lookup` tells a validator what a span's bundle holds. Known
 *     failers are re-checked with a back-off, and the next height's proposer may run the simulations
 *     early with `presimulate`, right after a commit (ADR 0200).
 *   - `BundleStatusView` and `BundleStatusSink` through the status book (bundle-status.ts).
 *
 * `onCommit(block)` runs for every committed block before the next height is proposed: bundles whose
 * spans are in it become committed; pending bundles holding a transaction the block committed outside
 * their span are dropped `invalid`; bundles past their maxHeight are dropped `expired` (or
 * `would-revert` when the simulation refused them). A bundle is never split: it is admitted, selected,
 * committed and dropped as one unit.
 */
import pino, { type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { bundleCancelBytes, bundleEvmGas, TX_OVERHEAD_BYTES, txHash } from '../codec/index.ts';
import { latin1Key, toHex, verifySignature } from '../crypto/index.ts';
import type { AtomicityCode, Block, Bundle, BundleSpan, Namespace, TxEnvelope } from '../types.ts';
import {
  type BundlePayloadCheck,
  type BundleRollup,
  type CheckedBundle,
  checkBundle,
  ordoTxHash,
  type RollupTxHash,
} from './bundle-check.ts';
import { type BundlePoolMetrics, createBundlePoolMetrics } from './bundle-metrics.ts';
import { BundleStatusBook } from './bundle-status.ts';
import type {
  BundleAdmission,
  BundleAdmitResult,
  BundleCancel,
  BundleCancelResult,
  BundleDropReason,
  BundleRejectCode,
  BundleStatus,
  BundleStatusSink,
  BundleStatusView,
} from './bundle-types.ts';
import { RecentMap } from './recent.ts';

export interface BundlePoolLimits {
  /** Pending bundles in all. */
  maxBundles: number;
  /** Pending transaction payload bytes in all. */
  maxBytes: number;
  /** Pending bundles of one signer; unsigned bundles count under one shared "anonymous" bucket. */
  maxPerSigner: number;
  /** Finished statuses (committed, dropped) remembered; older ones are forgotten (status unknown). */
  statusCacheSize: number;
  /** A bundle is not selected until it has been in the pool this long, ms (time for gossip to spread). */
  selectDelayMs: number;
  /** At most this many simulations per `select` (the rest wait for the next height). */
  maxSimulationsPerSelect: number;
  /**
   * `select` starts no further simulation once its simulations took this long, ms (the rest wait for the
   * next height): the proposal waits for them.
   */
  maxSimulationMsPerSelect: number;
  /**
   * The EVM gas the simulations of one `select` (and of one `presimulate`) may declare together: a
   * simulation runs on the node's main thread and cannot be cut short, so the time bound above cannot
   * bound the last one it starts. A bundle declaring more is refused at admission (ADR 0297).
   */
  maxSimulationGasPerBlock: number;
}

export const DEFAULT_BUNDLE_POOL_LIMITS: BundlePoolLimits = {
  maxBundles: 10_000,
  maxBytes: 64 * 1024 * 1024,
  maxPerSigner: 100,
  statusCacheSize: 100_000,
  selectDelayMs: 0,
  // A simulation costs one run of each leg (ADR 0175: admission already prepared it), well under a
  // millisecond for a transfer: a slow chain may take more bundles a block; the time bound caps the
  // proposal's wait when the simulations are heavier.
  maxSimulationsPerSelect: 256,
  maxSimulationMsPerSelect: 250,
  maxSimulationGasPerBlock: 30_000_000,
};

/**
 * The simulation hook (src/exec provides it): would this bundle apply on top of the pending state?
 * `height`, when given, is the executed height of the state it simulated on; `thread`, where it ran
 * (default `main`: the presimulation hook may run EVM legs on the call workers, ADR 0313).
 */
export type BundleSimulateHook = (
  bundle: Bundle,
  height: number,
) => Promise<{
  applies: boolean;
  reason?: string;
  height?: number;
  thread?: 'worker' | 'main';
  /**
   * The simulation ran past its time bound on a worker (ADR 0332): no verdict on whether it applies, but
   * `select` must not run it on the main thread (it would hold the proposal as long). The pool treats it
   * as refused (`reason`), re-checked with the back-off of bundles known to fail, on the workers only.
   */
  slow?: boolean;
}>;

export interface BundlePoolOptions {
  chainId: string;
  rollups: readonly BundleRollup[];
  /** The last committed height (the next block is height() + 1). */
  height: () => number;
  /** The rollup's own tx hash for reverting hashes (default: Ordo's txHash for every rollup). */
  rollupTxHash?: RollupTxHash;
  /** Executed rollups' payload check (INVALID_TX when it answers a string). */
  checkPayload?: BundlePayloadCheck;
  /** Is this Ordo tx hash (src/codec txHash) already committed? (the mempool's memory). */
  txCommitted?: (hash: Uint8Array) => boolean;
  /** Optional simulation before selection; also settable later with `setSimulator`. */
  simulate?: BundleSimulateHook;
  /**
   * The hook `presimulate` uses (default: `simulate`); also settable later with `setPresimulator`. The
   * node's sends heavy bundles' EVM legs to the call workers (ADR 0313).
   */
  presimulate?: BundleSimulateHook;
  limits?: Partial<BundlePoolLimits>;
  now?: () => number;
  logger?: Logger;
  registry?: Registry;
}

/** A bundle chosen for a block (structurally the builder's SelectedBundle). */
export interface PoolSelectedBundle {
  bundleHash: Uint8Array;
  txs: TxEnvelope[];
  atomicity: AtomicityCode;
  reverting: ReadonlySet<number>;
}

/** What the pool knows of a bundle named by a span (structurally the builder's BundleLookup). */
export type PoolBundleLookup =
  | {
      kind: 'known';
      txs: TxEnvelope[];
      minHeight: number;
      maxHeight: number;
      atomicity: AtomicityCode;
      reverting: ReadonlySet<number>;
    }
  | { kind: 'included'; height: number }
  | { kind: 'unknown' };

interface Entry extends CheckedBundle {
  receivedAt: number;
  /** Limits bucket: signer hex, or "anonymous". */
  bucket: string;
  /** Signer hex + UUID hex when replaceable. */
  uuidKey: string | undefined;
  /** Why the last simulation said it would not apply (dropped `would-revert` when it expires). */
  wouldRevert: string | undefined;
  /** The committed height when its last simulation ran (undefined: never simulated). */
  simulatedAt: number | undefined;
  /** The committed height when it was admitted. */
  admittedAt: number;
  /**
   * Its would-revert verdict may be stale: it was taken on an executed state older than the chain the
   * bundle arrived on (the state may miss, e.g., its sender's previous transaction). Such a bundle is
   * simulated again with the fresh candidates, not after the ones known to fail.
   */
  unsure: boolean;
  /**
   * Consecutive simulations that said it would not apply on a state at least as new as the bundle (its
   * re-checks back off: see RECHECK_MAX_GAP).
   */
  failStreak: number;
  /** This pool's selection (`#selections`) from which it may be re-checked when known to fail. */
  recheckFrom: number;
  /** Its last verdict came from `presimulate` (before the proposal's `select`). */
  presimulated: boolean;
  /** The gas its EVM transactions declare: what one simulation of it may cost (ADR 0297). */
  simGas: number;
  /**
   * Its last simulation ran past the bound on a worker (ADR 0332): `select` never simulates it (that would
   * be on the main thread, as long); only a later presimulation, with the known failers' back-off, does.
   */
  slow: boolean;
  /**
   * A presimulation of it is queued or running on the call workers' lane (ADR 0333): `select` leaves it
   * out for this height instead of waiting, and no second simulation of it starts meanwhile.
   */
  onWorkers: boolean;
  /**
   * Its presimulations on the call workers answered `stale` this many times in a row (each outlasted the
   * height it started at): the next one waits `recheckGap(staleStreak)` of this node's selections, from
   * `staleRetryFrom` (ADR 0333), so a bundle that never fits does not keep a call worker busy.
   */
  staleStreak: number;
  staleRetryFrom: number;
}

/** What `onCommit` remembers of a block's first pass (ADR 0349). */
interface FirstPass {
  block: Block;
  /** `#inserts` when the pass began: later insertions were not checked against this block. */
  from: number;
  /** The block's transactions' Ordo hash keys, when the pass computed them. */
  txKeys: string[] | undefined;
}

/**
 * A bundle known to fail is simulated again only at this node's 2nd, 4th, … selection (at most this
 * many) after its last simulation. Counted in the node's own selections, not in heights: with the
 * proposer rotating over n validators a node selects every n-th height, and a gap in heights would
 * hardly ever skip. Re-checking every known failer at every selection (a tenth of the load's bundles,
 * each waiting 30 heights for its window to pass, and simulated by every proposer in turn) was about
 * half of all simulations — time the proposal waits for (ADR 0200).
 */
export const RECHECK_MAX_GAP = 8;

/**
 * Heights a bundle's inclusion is remembered for, by every node alike (ADR 0250): what `lookup` answers
 * (`included`, so validators refuse BUNDLE_ALREADY_INCLUDED), what `admit` refuses and what `select`
 * never places. Kept apart from the status cache (bounded by count, and its content differs per node:
 * dropped bundles, gossip refusals), rebuilt from the store's last blocks at start (`restoreIncluded`),
 * so a restarted node and one whose status cache rolled over answer as the others do.
 */
export const INCLUDED_MEMORY_HEIGHTS = 256;
/** Heights a cancel is remembered for, so a cancelled bundle arriving late by gossip is not admitted. */
const CANCEL_MEMORY_HEIGHTS = 16;
/**
 * Heights whose first `onCommit` pass is remembered until the same block comes again (the engine keeps at
 * most 3 commits in flight); a block repeated later than this is processed in full, as before ADR 0349.
 */
const REPEAT_MEMORY_HEIGHTS = 8;
const ANONYMOUS = 'anonymous';

export class BundlePool implements BundleAdmission, BundleStatusView, BundleStatusSink {
  readonly #chainId: string;
  readonly #rollups: ReadonlyMap<Namespace, BundleRollup>;
  readonly #heightFn: () => number;
  readonly #rollupTxHash: RollupTxHash;
  readonly #checkPayload: BundlePayloadCheck | undefined;
  readonly #txCommitted: (hash: Uint8Array) => boolean;
  #simulate: BundleSimulateHook | undefined;
  #presimulate: BundleSimulateHook | undefined;
  /**
   * Bundles declaring at least this much EVM gas are simulated by the presimulation hook only (its call
   * workers), never by `select` on the main thread (ADR 0332); set with `setPresimulator`.
   */
  #presimOnlyFromGas = Number.POSITIVE_INFINITY;
  /** Main-thread simulations, one at a time (`select`'s and presimulations' below `#presimOnlyFromGas`). */
  #simLock: Promise<void> = Promise.resolve();
  /**
   * Presimulations of bundles from `#presimOnlyFromGas` up (their EVM legs on the call workers only, ADR
   * 0332), one at a time, apart from the main-thread lock: `select` never waits for them (ADR 0333).
   */
  #workerSimLock: Promise<void> = Promise.resolve();
  readonly #limits: BundlePoolLimits;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #metrics: BundlePoolMetrics;
  /** Pending bundles in arrival order (oldest first). */
  readonly #pending = new Map<string, Entry>();
  /** Ordo tx hash key → pending bundles holding that transaction. */
  readonly #byTx = new Map<string, Set<string>>();
  /** Replacement UUID hex → its pending bundle and signer. */
  readonly #byUuid = new Map<string, { bucket: string; key: string }>();
  readonly #perBucket = new Map<string, number>();
  /** Signer hex + UUID hex of committed bundles → height (cancel answers ALREADY_COMMITTED). */
  readonly #committedUuids: RecentMap<string, number>;
  /** Signer hex + UUID hex of recent cancels → height of the cancel. */
  readonly #cancels = new Map<string, number>();
  /**
   * Bundles included in the last INCLUDED_MEMORY_HEIGHTS committed blocks: key → height, in commit
   * order (pruned from the front as heights pass).
   */
  readonly #included = new Map<string, number>();
  /** Heights `onCommit` processed whose block may come again (decided, then durable), oldest first. */
  readonly #firstPasses = new Map<number, FirstPass>();
  /** Bundles inserted while a first pass is remembered; `#insertLog[0]` was insert number `#insertLogBase`. */
  #insertLog: Entry[] = [];
  #insertLogBase = 0;
  /** Bundles inserted into the pending set so far. */
  #inserts = 0;
  #bytes = 0;
  #lastCommitted = 0;
  /** Selections made at distinct heights (the clock of known failers' re-checks), and the last height. */
  #selections = 0;
  #selectedHeight = 0;
  /** `select` calls in progress (a presimulation stops when one starts). */
  #selecting = 0;
  readonly #book: BundleStatusBook;

  constructor(opts: BundlePoolOptions) {
    this.#chainId = opts.chainId;
    this.#rollups = new Map(opts.rollups.map((r) => [r.namespace, r]));
    this.#heightFn = opts.height;
    this.#rollupTxHash = opts.rollupTxHash ?? ordoTxHash;
    this.#checkPayload = opts.checkPayload;
    this.#txCommitted = opts.txCommitted ?? (() => false);
    this.#simulate = opts.simulate;
    this.#presimulate = opts.presimulate;
    this.#limits = { ...DEFAULT_BUNDLE_POOL_LIMITS, ...opts.limits };
    this.#now = opts.now ?? Date.now;
    this.#log = (opts.logger ?? pino({ level: 'silent' })).child({ module: 'bundle-pool' });
    this.#metrics = createBundlePoolMetrics(opts.registry);
    this.#committedUuids = new RecentMap(this.#limits.statusCacheSize);
    this.#book = new BundleStatusBook(
      this.#limits.statusCacheSize,
      (key) => this.#pending.has(key),
      (err) => this.#log.warn({ err }, 'bundle status listener failed'),
    );
  }

  /** Set (or clear) the simulation hook after construction (the executor is built elsewhere). */
  setSimulator(hook: BundleSimulateHook | undefined): void {
    this.#simulate = hook;
  }

  /**
   * Set (or clear: back to the `select` hook) the presimulation's hook (the call workers are started
   * after the pool). Presimulation runs only while a `select` hook is set. `onlyFromGas`: bundles declaring
   * at least this much EVM gas are simulated by this hook only, never by `select` (ADR 0332: the node's
   * hook runs them on the call workers; `select` runs on the main thread, on the proposal's path).
   */
  setPresimulator(hook: BundleSimulateHook | undefined, opts: { onlyFromGas?: number } = {}): void {
    this.#presimulate = hook;
    this.#presimOnlyFromGas =
      hook === undefined ? Number.POSITIVE_INFINITY : (opts.onlyFromGas ?? Number.POSITIVE_INFINITY);
  }

  /** Pending bundles and their transaction bytes. */
  stats(): { bundles: number; bytes: number } {
    return { bundles: this.#pending.size, bytes: this.#bytes };
  }

  // ------------------------------------------------------------------ admission

  admit(bundle: Bundle, source: 'rpc' | 'gossip'): BundleAdmitResult {
    const r = this.#admit(bundle, source);
    if (r.ok) this.#metrics.admitted.inc({ source });
    else this.#metrics.rejected.inc({ code: r.code });
    return r;
  }

  #admit(bundle: Bundle, source: 'rpc' | 'gossip'): BundleAdmitResult {
    const checked = checkBundle(this.#chainId, bundle, this.#rollups, this.#rollupTxHash, this.#checkPayload);
    if (!checked.ok) return { ...checked, retryable: false };
    const c = checked.checked;
    const no = (code: BundleRejectCode, message: string, retryable = false): BundleAdmitResult => ({
      ok: false,
      code,
      message,
      retryable,
      bundleHash: c.hash,
    });
    const simGas = bundleEvmGas(bundle.legs, (ns) => this.#rollups.get(ns)?.kind === 'evm');
    if (simGas > this.#limits.maxSimulationGasPerBlock)
      return no(
        'BUNDLE_TOO_LARGE',
        `the bundle's EVM transactions declare ${simGas} gas; this node simulates at most ${this.#limits.maxSimulationGasPerBlock} gas of bundles per block (bundles.maxSimulationGasPerBlock)`,
      );
    const height = this.#height();
    if (bundle.maxHeight !== 0 && bundle.maxHeight <= height)
      return no('WINDOW_PASSED', `maxHeight ${bundle.maxHeight} has passed (height ${height} is committed)`);
    if (this.#pending.has(c.key)) return no('DUPLICATE', 'the bundle is already pending');
    const at = this.#included.get(c.key);
    if (at !== undefined) return no('DUPLICATE', `the bundle is already committed at height ${at}`);
    const fin = this.#book.finished(c.key);
    if (fin !== undefined)
      return no(
        'DUPLICATE',
        fin.status === 'committed'
          ? `the bundle is already committed at height ${fin.height}`
          : `the bundle was already seen and dropped (${fin.reason})`,
      );
    const bucket = bundle.signer.byteLength === 0 ? ANONYMOUS : toHex(bundle.signer);
    let replaced: Entry | undefined;
    let uuidKey: string | undefined;
    if (bundle.replacementUuid.byteLength !== 0) {
      const uuid = toHex(bundle.replacementUuid);
      uuidKey = `${bucket}/${uuid}`;
      const holder = this.#byUuid.get(uuid);
      if (holder !== undefined && holder.bucket !== bucket)
        return no('REPLACEMENT_FORBIDDEN', `replacement UUID ${uuid} belongs to another signer`);
      if (holder !== undefined) replaced = this.#pending.get(holder.key);
      if (source === 'gossip' && this.#cancels.has(uuidKey))
        return no('DUPLICATE', `its signer cancelled replacement UUID ${uuid}`);
    }
    for (const [i, tx] of c.txs.entries()) {
      if (this.#txCommitted(ordoTxHashOf(tx)))
        return no(
          'TX_ALREADY_COMMITTED',
          `transaction ${i} (namespace ${tx.namespace}) is already committed`,
        );
    }
    const freed = replaced === undefined ? 0 : 1;
    const freedBytes = replaced?.bytes ?? 0;
    if (this.#pending.size - freed + 1 > this.#limits.maxBundles)
      return no(
        'BUNDLE_POOL_FULL',
        `the bundle pool holds ${this.#limits.maxBundles} bundles; retry later`,
        true,
      );
    if (this.#bytes - freedBytes + c.bytes > this.#limits.maxBytes)
      return no(
        'BUNDLE_POOL_FULL',
        `the bundle pool holds ${this.#limits.maxBytes} bytes; retry later`,
        true,
      );
    if ((this.#perBucket.get(bucket) ?? 0) - freed + 1 > this.#limits.maxPerSigner)
      return no(
        'BUNDLE_POOL_FULL',
        `${bucket === ANONYMOUS ? 'unsigned bundles' : 'this signer'} already hold ${this.#limits.maxPerSigner} pending bundles; retry later`,
        true,
      );
    if (replaced !== undefined) this.#drop(replaced, 'replaced', `replaced by 0x${toHex(c.hash)}`);
    const e: Entry = {
      ...c,
      receivedAt: this.#now(),
      bucket,
      uuidKey,
      wouldRevert: undefined,
      simulatedAt: undefined,
      admittedAt: height,
      unsure: false,
      failStreak: 0,
      recheckFrom: 0,
      presimulated: false,
      simGas,
      slow: false,
      onWorkers: false,
      staleStreak: 0,
      staleRetryFrom: 0,
    };
    this.#insert(e);
    this.#book.pending(e.key);
    return replaced === undefined
      ? { ok: true, bundleHash: c.hash }
      : { ok: true, bundleHash: c.hash, replaced: replaced.hash };
  }

  cancel(req: BundleCancel, source: 'rpc' | 'gossip' = 'rpc'): BundleCancelResult {
    const r = this.#cancel(req, source);
    if (!r.ok) this.#metrics.rejected.inc({ code: r.code });
    return r;
  }

  #cancel(req: BundleCancel, _source: 'rpc' | 'gossip'): BundleCancelResult {
    const no = (code: BundleRejectCode, message: string): BundleCancelResult => ({
      ok: false,
      code,
      message,
      retryable: false,
    });
    if (req.replacementUuid.byteLength !== 16)
      return no('BUNDLE_MALFORMED', 'replacementUuid must be 16 bytes');
    if (req.signer.byteLength !== 32)
      return no('BAD_SIGNATURE', 'signer must be a 32-byte ed25519 public key');
    if (req.signature.byteLength !== 64) return no('BAD_SIGNATURE', 'signature must be 64 bytes (ed25519)');
    if (!verifySignature(req.signer, bundleCancelBytes(this.#chainId, req.replacementUuid), req.signature))
      return no('BAD_SIGNATURE', 'the cancel signature does not verify against signer');
    const uuid = toHex(req.replacementUuid);
    const bucket = toHex(req.signer);
    const uuidKey = `${bucket}/${uuid}`;
    // Remembered even when nothing is pending here yet: the bundle may still arrive by gossip.
    this.#cancels.delete(uuidKey);
    this.#cancels.set(uuidKey, this.#height());
    while (this.#cancels.size > this.#limits.maxBundles)
      this.#cancels.delete(this.#cancels.keys().next().value!);
    const holder = this.#byUuid.get(uuid);
    const e = holder !== undefined && holder.bucket === bucket ? this.#pending.get(holder.key) : undefined;
    if (e === undefined) {
      const at = this.#committedUuids.get(uuidKey);
      if (at !== undefined)
        return no(
          'ALREADY_COMMITTED',
          `the bundle with replacement UUID ${uuid} is already committed at height ${at}`,
        );
      return no('UNKNOWN_BUNDLE', `no pending bundle of this signer with replacement UUID ${uuid}`);
    }
    this.#drop(e, 'cancelled', 'cancelled by its signer');
    return { ok: true, cancelled: [e.hash] };
  }

  // ------------------------------------------------------------------ builder seam

  async select(height: number, budget: { maxBytes: number; maxTxs: number }): Promise<PoolSelectedBundle[]> {
    const out: PoolSelectedBundle[] = [];
    // A presimulation still running stops at its next candidate: the proposal goes first.
    this.#selecting++;
    if (this.#pending.size === 0) {
      this.#selecting--;
      return out;
    }
    const endTimer = this.#metrics.select.startTimer();
    try {
      return await this.#select(height, budget, out);
    } finally {
      endTimer();
      this.#selecting--;
    }
  }

  /**
   * The node is the proposer of block `height` (the next one): simulate its fresh candidates now, while
   * the proposer waits out the block interval, so that `select` finds their verdicts (taken at this
   * committed height) instead of simulating while the proposal waits. The same simulations `select`
   * would run, in its order and within its time budget, only earlier; stops once `select` starts.
   * Candidates known to fail are left to `select` (their back-off counts selections).
   *
   * Runs through the presimulation hook when one is set (the node's puts heavy bundles' EVM legs on the
   * call workers, ADR 0313). Its answer may come late: one that arrives after a later height committed
   * is discarded (`ordo_bundle_simulations_total{verdict="stale"}`), never taken as that height's verdict.
   * Bundles from `onlyFromGas` up (the call workers only, ADR 0332) are queued on the workers' lane and
   * not awaited in turn: the main-thread candidates after them go on meanwhile, and `select` leaves such
   * a bundle out while its simulation is in flight (ADR 0333). Resolves once those it queued answered.
   */
  async presimulate(height: number): Promise<number> {
    if (this.#simulate === undefined) return 0;
    const sim = this.#presimulate ?? this.#simulate;
    if (this.#pending.size === 0 || this.#selecting > 0) return 0;
    const committed = this.#height();
    const t0 = this.#now();
    let n = 0;
    let gasLeft = this.#limits.maxSimulationGasPerBlock;
    const onWorkers: Promise<boolean>[] = [];
    for (const e of [...this.#pending.values()]) {
      if (this.#selecting > 0 || this.#height() !== committed) break;
      if (n > 0 && this.#now() - t0 >= this.#limits.maxSimulationMsPerSelect) break;
      if (n >= this.#limits.maxSimulationsPerSelect) break;
      // Known failers are left to `select`, except slow or heavy ones whose re-check is due: only this
      // hook may run those (ADR 0332).
      const workersOnly = e.slow || e.simGas >= this.#presimOnlyFromGas;
      if (e.wouldRevert !== undefined && !e.unsure && !(workersOnly && this.#selections >= e.recheckFrom))
        continue;
      if (e.simulatedAt === committed || !inWindow(e.bundle, height) || !this.#pending.has(e.key)) continue;
      if (e.onWorkers) continue; // an earlier presimulation's, still in flight
      if (e.staleStreak > 0 && this.#selections < e.staleRetryFrom) continue; // outlasted its heights
      if (this.#now() - e.receivedAt < this.#limits.selectDelayMs) continue;
      if (e.simGas > gasLeft) continue;
      gasLeft -= e.simGas;
      n++;
      if (e.simGas >= this.#presimOnlyFromGas) onWorkers.push(this.#simulateEntry(e, sim, height, true));
      else await this.#simulateEntry(e, sim, height, true);
    }
    await Promise.all(onWorkers);
    return n;
  }

  async #select(
    height: number,
    budget: { maxBytes: number; maxTxs: number },
    out: PoolSelectedBundle[],
  ): Promise<PoolSelectedBundle[]> {
    const used = new Set<string>();
    let bytesLeft = budget.maxBytes;
    let txsLeft = budget.maxTxs;
    let simulations = 0;
    let simGasLeft = this.#limits.maxSimulationGasPerBlock;
    const now = this.#now();
    // Candidates not known to fail first: re-simulating bundles that would revert (they wait for their
    // window to pass) must not use up the simulation budget before the others. A verdict taken on a state
    // older than the bundle (`unsure`: e.g. its sender's previous transaction not executed yet) does not
    // count as known: under a steady flow such bundles would otherwise wait until the flow stops.
    // Among those known to fail, the verdict simulated longest ago first: when the budget does not reach
    // them all, each is re-checked in turn (oldest-admitted first kept a refused one waiting behind the
    // older built-to-fail bundles until they expired: a 37-s p99).
    const known = (e: Entry): number => (e.wouldRevert !== undefined && !e.unsure ? 1 : 0);
    const order = [...this.#pending.values()].sort(
      (a, b) => known(a) - known(b) || (known(a) === 1 ? (a.simulatedAt ?? 0) - (b.simulatedAt ?? 0) : 0),
    );
    // One selection per height: a later round at the same height is not another chance to re-check.
    if (height > this.#selectedHeight) {
      this.#selectedHeight = height;
      this.#selections++;
    }
    const skip = (reason: string): void => this.#metrics.skipped.inc({ reason });
    for (const e of order) {
      if (!inWindow(e.bundle, height)) continue;
      if (now - e.receivedAt < this.#limits.selectDelayMs) continue;
      const size = e.bytes + e.txs.length * TX_OVERHEAD_BYTES;
      if (txsLeft <= 0 || e.txs.length > txsLeft || size > bytesLeft) {
        skip('room');
        continue;
      }
      if (e.txKeys.some((k) => used.has(k))) {
        skip('conflict');
        continue;
      }
      const sim = this.#simulate;
      // Simulated once per committed height: a proposer that builds again at the same height (a later
      // round, or waiting for transactions) reuses the verdict.
      // A presimulation's `unsure` refusal is taken again: execution may have caught up since.
      if (sim !== undefined && (e.simulatedAt !== this.#height() || (e.unsure && e.presimulated))) {
        // Its presimulation is in flight on the call workers: left out of this block rather than waited
        // for (ADR 0333); a later height places it once a verdict taken at that height lands.
        if (e.onWorkers) {
          skip('in-flight');
          continue;
        }
        // Known to fail: re-checked with a back-off (it most likely still fails; it stays pending).
        if (known(e) === 1 && this.#selections < e.recheckFrom) {
          skip('backoff');
          continue;
        }
        // Its simulation ran past the bound on a worker, or it is heavy enough that only the workers
        // simulate it: not run here, on the proposal's path (ADR 0332). It waits for a presimulation.
        if (e.slow) {
          skip('slow');
          continue;
        }
        if (e.simGas >= this.#presimOnlyFromGas) {
          skip('heavy');
          continue;
        }
        // Wall time: the proposal waits for select. (Yielding the event loop between simulations was
        // tried and measured worse: the proposal waited for whatever else the node ran, ADR 0200.)
        if (
          simulations >= this.#limits.maxSimulationsPerSelect ||
          (simulations > 0 && this.#now() - now >= this.#limits.maxSimulationMsPerSelect) ||
          e.simGas > simGasLeft
        ) {
          skip('budget');
          continue;
        }
        simulations++;
        simGasLeft -= e.simGas;
        if (!(await this.#simulateEntry(e, sim, height))) {
          skip('error');
          continue;
        }
        if (!this.#pending.has(e.key)) continue; // cancelled or replaced while simulating
      }
      if (e.wouldRevert !== undefined) {
        skip('would-revert');
        continue;
      }
      // Committed, cancelled or replaced while an earlier candidate's simulation was awaited.
      if (!this.#pending.has(e.key) || this.#included.has(e.key)) continue;
      for (const k of e.txKeys) used.add(k);
      bytesLeft -= size;
      txsLeft -= e.txs.length;
      out.push({ bundleHash: e.hash, txs: e.txs, atomicity: e.atomicity, reverting: e.reverting });
    }
    return out;
  }

  /**
   * Simulate one entry on top of the latest executed state for block `height`; false when the
   * simulation threw (the bundle is skipped this time and simulated again later).
   */
  async #simulateEntry(e: Entry, sim: BundleSimulateHook, height: number, pre = false): Promise<boolean> {
    // One main-thread simulation at a time (the simulator's VM instances are not re-entrant). A
    // presimulation that runs on the call workers only (ADR 0332) takes the workers' own lane, one at a
    // time too (the pool never queues more than one on them), so `select` never waits for it (ADR 0333).
    const onWorkers = pre && e.simGas >= this.#presimOnlyFromGas;
    const prev = onWorkers ? this.#workerSimLock : this.#simLock;
    let release = (): void => {};
    const lock = new Promise<void>((r) => {
      release = r;
    });
    if (onWorkers) {
      this.#workerSimLock = lock;
      e.onWorkers = true;
    } else this.#simLock = lock;
    await prev;
    const at = this.#height();
    // Simulated meanwhile at this height (a presimulation and `select` met on the lock); or, queued on
    // the workers' lane while heights passed, no longer a candidate of the height it would answer for.
    if (
      (e.simulatedAt === at && !(e.unsure && e.presimulated && !pre)) ||
      (onWorkers && (!this.#pending.has(e.key) || !inWindow(e.bundle, Math.max(height, at + 1))))
    ) {
      if (onWorkers) e.onWorkers = false;
      release();
      return true;
    }
    const candidate = e.wouldRevert !== undefined && !e.unsure ? 'known' : 'fresh';
    try {
      const r = await sim(e.bundle, onWorkers ? Math.max(height, at + 1) : height);
      if (pre) this.#metrics.presimulations.inc({ thread: r.thread ?? 'main' });
      // A presimulation's answer for an older committed height (it ran on a worker while the next block
      // committed): not this height's verdict. The entry keeps what it had; `select` simulates it (a
      // light one), or a later presimulation does, after a back-off (one on the workers, ADR 0333).
      if (pre && this.#height() !== at) {
        this.#metrics.simulations.inc({ verdict: 'stale', candidate });
        if (onWorkers) {
          e.staleStreak++;
          e.staleRetryFrom = this.#selections + recheckGap(e.staleStreak);
        }
        return true;
      }
      if (onWorkers) e.staleStreak = 0;
      if (r.slow === true) {
        // No verdict, but a known failer's treatment: left out, re-checked with back-off, on workers only.
        e.wouldRevert = r.reason ?? 'its simulation ran past the time bound';
        e.unsure = false;
        e.slow = true;
        e.failStreak++;
        e.recheckFrom = this.#selections + recheckGap(e.failStreak);
        e.simulatedAt = at;
        e.presimulated = pre;
        this.#metrics.simulations.inc({ verdict: 'slow', candidate });
        return true;
      }
      e.slow = false;
      e.wouldRevert = r.applies ? undefined : (r.reason ?? 'the simulation says it would not apply');
      e.unsure = !r.applies && r.height !== undefined && r.height < e.admittedAt;
      e.failStreak = r.applies || e.unsure ? 0 : e.failStreak + 1;
      e.recheckFrom = this.#selections + recheckGap(e.failStreak);
      e.simulatedAt = at;
      e.presimulated = pre;
      if (pre) this.#metrics.presimulated.inc();
      const verdict = r.applies ? 'applies' : e.unsure ? 'unsure' : 'would-revert';
      this.#metrics.simulations.inc({ verdict, candidate });
      return true;
    } catch (err) {
      this.#metrics.simulations.inc({ verdict: 'error', candidate });
      this.#log.warn({ err, bundle: toHex(e.hash) }, 'bundle simulation failed; bundle skipped this height');
      return false;
    } finally {
      if (onWorkers) e.onWorkers = false;
      release();
    }
  }

  /** Transactions of pending bundles not known to fail simulation (the proposer's "something to place"). */
  pendingTxs(): number {
    let n = 0;
    const next = this.#lastCommitted + 1;
    for (const e of this.#pending.values())
      if (e.wouldRevert === undefined && inWindow(e.bundle, next)) n += e.txs.length;
    return n;
  }

  lookup(bundleHash: Uint8Array, _height: number): PoolBundleLookup {
    const key = latin1Key(bundleHash);
    // Inclusion first, from the committed blocks alone (the same answer on every node, ADR 0250).
    const at = this.#included.get(key);
    if (at !== undefined) return { kind: 'included', height: at };
    const e = this.#pending.get(key);
    if (e !== undefined)
      return {
        kind: 'known',
        txs: e.txs,
        minHeight: e.bundle.minHeight,
        maxHeight: e.bundle.maxHeight,
        atomicity: e.atomicity,
        reverting: e.reverting,
      };
    return { kind: 'unknown' };
  }

  /** A pending bundle's transaction by Ordo tx hash (peers rebuilding a compact proposal need it). */
  tx(hash: Uint8Array): TxEnvelope | undefined {
    const k = latin1Key(hash);
    const keys = this.#byTx.get(k);
    if (keys === undefined) return undefined;
    for (const key of keys) {
      const e = this.#pending.get(key);
      const i = e?.txKeys.indexOf(k) ?? -1;
      if (e !== undefined && i >= 0) return e.txs[i];
    }
    return undefined;
  }

  // ------------------------------------------------------------------ commits

  /**
   * A block committed (called before the next height is proposed). The node calls it twice per block,
   * when decided and when durable (the second covers a block reaching only the commit listeners): the
   * second call of the same block redoes only what bundles admitted since the first could change (ADR
   * 0349), not the scan of the block's transactions and of every pending bundle.
   */
  onCommit(block: Block): void {
    const height = block.header.height;
    const first = this.#firstPasses.get(height);
    if (first !== undefined && first.block === block) {
      this.#repeatCommit(block, first);
      return;
    }
    const pass: FirstPass = { block, from: this.#inserts, txKeys: undefined };
    if (this.#firstPasses.size === 0) {
      this.#insertLog = [];
      this.#insertLogBase = this.#inserts;
    }
    this.#firstPasses.delete(height);
    this.#firstPasses.set(height, pass);
    if (this.#firstPasses.size > REPEAT_MEMORY_HEIGHTS)
      this.#forgetFirstPass(this.#firstPasses.keys().next().value!);
    if (height > this.#lastCommitted) this.#lastCommitted = height;
    this.#commitSpans(block);
    if (this.#pending.size > 0 && block.txs.length > 0) {
      const txKeys: string[] = [];
      for (const tx of block.txs) txKeys.push(latin1Key(ordoTxHashOf(tx)));
      pass.txKeys = txKeys;
      this.#dropConflicts(block, txKeys);
    }
    this.#expire([...this.#pending.values()], height);
    this.#pruneCancels(height);
    this.#pruneIncluded();
  }

  /**
   * The same block again: bundles pending at its first pass were already checked against it, so only the
   * ones admitted since (by a listener even during that pass) can still be committed, conflict or expire
   * here. Statuses and drops are those a full pass would give.
   */
  #repeatCommit(block: Block, first: FirstPass): void {
    const height = block.header.height;
    const fresh = this.#insertLog.slice(first.from - this.#insertLogBase);
    this.#forgetFirstPass(height);
    this.#commitSpans(block);
    const live = (e: Entry): boolean => this.#pending.get(e.key) === e;
    if (block.txs.length > 0 && fresh.some(live)) {
      const txKeys = first.txKeys ?? block.txs.map((tx) => latin1Key(ordoTxHashOf(tx)));
      this.#dropConflicts(block, txKeys);
    }
    this.#expire(fresh.filter(live), height);
    this.#pruneCancels(height);
    this.#pruneIncluded();
  }

  /** Bundles whose spans are in the block become committed (and included). */
  #commitSpans(block: Block): void {
    const height = block.header.height;
    const spansOf = new Map<string, BundleSpan[]>();
    for (const s of block.bundles) {
      const k = latin1Key(s.bundleHash);
      const l = spansOf.get(k);
      if (l === undefined) spansOf.set(k, [s]);
      else l.push(s);
    }
    for (const [key, spans] of spansOf) {
      if (!this.#included.has(key)) this.#included.set(key, height);
      const e = this.#pending.get(key);
      if (e !== undefined) {
        this.#metrics.admitToCommit.observe(Math.max(0, this.#now() - e.receivedAt) / 1000);
        this.#metrics.commitHeights.observe(Math.max(0, height - e.admittedAt));
        this.#remove(e);
        if (e.uuidKey !== undefined) this.#committedUuids.set(e.uuidKey, height);
      }
      if (this.#book.finished(key)?.status !== 'committed') {
        this.#metrics.committed.inc();
        this.#book.finish(key, { status: 'committed', height, spans });
      }
    }
  }

  /** Pending bundles holding a transaction the block committed outside their span leave `invalid`. */
  #dropConflicts(block: Block, txKeys: readonly string[]): void {
    const height = block.header.height;
    for (const [i, k] of txKeys.entries()) {
      const keys = this.#byTx.get(k);
      if (keys === undefined) continue;
      for (const key of [...keys]) {
        const e = this.#pending.get(key);
        if (e !== undefined)
          this.#drop(
            e,
            'invalid',
            `a transaction of namespace ${block.txs[i]!.namespace} was committed at height ${height} outside the bundle`,
          );
      }
    }
  }

  /** Of `entries`, the pending bundles whose maxHeight is at or below `height` leave. */
  #expire(entries: readonly Entry[], height: number): void {
    for (const e of entries) {
      if (e.bundle.maxHeight === 0 || e.bundle.maxHeight > height) continue;
      if (this.#pending.get(e.key) !== e) continue;
      if (e.wouldRevert !== undefined) this.#drop(e, 'would-revert', e.wouldRevert);
      else this.#drop(e, 'expired', `maxHeight ${e.bundle.maxHeight} passed without inclusion`);
    }
  }

  #pruneCancels(height: number): void {
    for (const [k, at] of this.#cancels) {
      if (at > height - CANCEL_MEMORY_HEIGHTS) break;
      this.#cancels.delete(k);
    }
  }

  /** A height's first pass is no longer awaited again: the admissions log keeps only what others need. */
  #forgetFirstPass(height: number): void {
    this.#firstPasses.delete(height);
    const oldest = this.#firstPasses.values().next().value;
    if (oldest === undefined) {
      this.#insertLog = [];
      this.#insertLogBase = this.#inserts;
      return;
    }
    // Passes are kept in the order they ran, so the oldest admitted-from mark is the first one's.
    if (oldest.from > this.#insertLogBase) {
      this.#insertLog.splice(0, oldest.from - this.#insertLogBase);
      this.#insertLogBase = oldest.from;
    }
  }

  /**
   * At start, one stored block at a time in ascending height: its bundles (committed before this
   * process ran) become included, as they are on the nodes that saw them commit (ADR 0250). No status
   * changes; a block not above the last one restored or committed is ignored.
   */
  restoreIncluded(block: Block): void {
    this.restoreIncludedHashes(
      block.header.height,
      block.bundles.map((s) => s.bundleHash),
    );
  }

  /** `restoreIncluded` from a height's bundle hashes alone (its span record, ADR 0276). */
  restoreIncludedHashes(height: number, bundleHashes: readonly Uint8Array[]): void {
    if (height <= this.#lastCommitted) return;
    this.#lastCommitted = height;
    for (const h of bundleHashes) {
      const key = latin1Key(h);
      if (!this.#included.has(key)) this.#included.set(key, height);
      const e = this.#pending.get(key);
      if (e !== undefined) this.#remove(e);
    }
    this.#pruneIncluded();
  }

  /** The newest height this pool saw committed (decided). */
  committedHeight(): number {
    return this.#lastCommitted;
  }

  /** Inclusions older than INCLUDED_MEMORY_HEIGHTS below the newest committed height leave. */
  #pruneIncluded(): void {
    const floor = this.#lastCommitted - INCLUDED_MEMORY_HEIGHTS;
    for (const [k, at] of this.#included) {
      if (at > floor) break;
      this.#included.delete(k);
    }
  }

  // ------------------------------------------------------------------ statuses

  status(bundleHash: Uint8Array): BundleStatus | undefined {
    return this.#book.status(bundleHash);
  }

  subscribe(bundleHash: Uint8Array, listener: (s: BundleStatus) => void): () => void {
    return this.#book.subscribe(bundleHash, listener);
  }

  executed(...args: Parameters<BundleStatusSink['executed']>): void {
    this.#book.executed(...args);
  }

  certified(height: number): void {
    this.#book.certified(height);
  }

  // ------------------------------------------------------------------ internals

  #height(): number {
    return Math.max(this.#heightFn(), this.#lastCommitted);
  }

  #insert(e: Entry): void {
    this.#pending.set(e.key, e);
    if (this.#firstPasses.size > 0) this.#insertLog.push(e);
    this.#inserts++;
    for (const k of e.txKeys) {
      const s = this.#byTx.get(k);
      if (s === undefined) this.#byTx.set(k, new Set([e.key]));
      else s.add(e.key);
    }
    if (e.uuidKey !== undefined)
      this.#byUuid.set(toHex(e.bundle.replacementUuid), { bucket: e.bucket, key: e.key });
    this.#perBucket.set(e.bucket, (this.#perBucket.get(e.bucket) ?? 0) + 1);
    this.#bytes += e.bytes;
    this.#gauges();
  }

  #remove(e: Entry): void {
    if (!this.#pending.delete(e.key)) return;
    for (const k of e.txKeys) {
      const s = this.#byTx.get(k);
      if (s === undefined) continue;
      s.delete(e.key);
      if (s.size === 0) this.#byTx.delete(k);
    }
    if (e.uuidKey !== undefined) {
      const uuid = toHex(e.bundle.replacementUuid);
      if (this.#byUuid.get(uuid)?.key === e.key) this.#byUuid.delete(uuid);
    }
    const n = (this.#perBucket.get(e.bucket) ?? 1) - 1;
    if (n <= 0) this.#perBucket.delete(e.bucket);
    else this.#perBucket.set(e.bucket, n);
    this.#bytes -= e.bytes;
    this.#gauges();
  }

  #drop(e: Entry, reason: BundleDropReason, detail: string): void {
    this.#remove(e);
    this.#metrics.dropped.inc({ reason });
    this.#log.debug({ bundle: toHex(e.hash), reason, detail }, 'bundle dropped');
    this.#book.finish(e.key, { status: 'dropped', reason, detail });
  }

  #gauges(): void {
    this.#metrics.pending.set(this.#pending.size);
    this.#metrics.pendingBytes.set(this.#bytes);
  }
}

/** This node's selections between two simulations of a bundle that failed `streak` times in a row. */
export function recheckGap(streak: number): number {
  return Math.min(RECHECK_MAX_GAP, 2 ** Math.max(1, streak));
}

function inWindow(b: Bundle, height: number): boolean {
  return height >= b.minHeight && (b.maxHeight === 0 || height <= b.maxHeight);
}

/** Ordo's tx hash, memoised on the envelope by the codec. */
function ordoTxHashOf(tx: TxEnvelope): Uint8Array {
  return txHash(tx);
}

/** Build the pool. */
export function createBundlePool(opts: BundlePoolOptions): BundlePool {
  return new BundlePool(opts);
}
