/**
 * The bundle world of the consensus simulator (issue #22): a seeded set of bundles (single- and
 * cross-rollup, execution and inclusion, some with reverting txs, some pairs sharing a tx), a bundle
 * source per honest node (a model of the pool: it knows every bundle, forgets one whose tx was committed
 * outside it, reports bundles its chain included), the REAL block builder for honest nodes, Byzantine
 * proposers that split, reorder, truncate, duplicate or drop bundle legs, build cycles or change a span's
 * atomicity or reverting list, and the invariant checked over every decided block: no partial bundle.
 */
import {
  assemble,
  type BundleLookup,
  type BundleSource,
  checkBundleSpans,
  createBlockBuilder,
  type SelectedBundle,
} from '../../src/builder/index.ts';
import {
  computeAuctionHash,
  computeDataHash,
  computeResultsHash,
  NO_AUCTION,
  resultsHeightFor,
  txHash,
} from '../../src/codec/index.ts';
import type { BlockSource, BuiltBlock } from '../../src/consensus/index.ts';
import type { SimTxPool } from '../../src/consensus/sim/block-source.ts';
import { Rng } from '../../src/consensus/sim/rng.ts';
import { latin1Key } from '../../src/crypto/index.ts';
import type { Block, BundleSpan, Namespace, RollupKind, TxEnvelope } from '../../src/types.ts';
import { countingSource } from './world-config.ts';

export const ROLLUPS: { namespace: number; name: string; maxTxBytes: number; kind: RollupKind }[] = [
  { namespace: 1, name: 'opaque', maxTxBytes: 64, kind: 'opaque' },
  { namespace: 2, name: 'transfer', maxTxBytes: 64, kind: 'transfer' },
  { namespace: 3, name: 'evm', maxTxBytes: 64, kind: 'evm' },
];

export type Mutation =
  | 'split'
  | 'reorder'
  | 'truncate'
  | 'duplicate'
  | 'drop-leg'
  | 'cycle'
  | 'atomicity'
  | 'reverting'
  | 'honest';
const MUTATIONS: Mutation[] = [
  'split',
  'reorder',
  'truncate',
  'duplicate',
  'drop-leg',
  'cycle',
  'atomicity',
  'reverting',
  'honest',
];

/** One namespace's run of transactions in a block under construction: a bundle leg (with span) or public. */
interface Segment {
  ns: Namespace;
  txs: TxEnvelope[];
  span?: { bundleHash: Uint8Array; atomicity: 1 | 2; reverting: number[] };
}

const key = (b: Uint8Array): string => latin1Key(b);

export class BundleWorld {
  readonly bundles: SelectedBundle[] = [];
  readonly #byHash = new Map<string, SelectedBundle>();
  /** Per honest node: bundle → height its chain included it; txs its chain committed. */
  readonly #included = new Map<number, Map<string, number>>();
  readonly #committed = new Map<number, Set<string>>();
  /** Bundles included anywhere (the Byzantine proposer's omniscient view). */
  readonly #anywhere = new Set<string>();
  readonly rng: Rng;
  /** Verdicts of honest validators, by code (ok included). */
  readonly verdicts = new Map<string, number>();
  /** Mutations the Byzantine proposers made. */
  readonly mutations = new Map<Mutation, number>();
  /** Invariant violations found over decided blocks. */
  readonly violations: string[] = [];
  /** Decided blocks checked, and bundles seen committed in them (counted once per height). */
  blocksChecked = 0;
  readonly committedBundles = new Set<string>();

  constructor(seed: number, count = 40) {
    this.rng = new Rng(seed ^ 0xb0d1e);
    let n = 0;
    const fresh = (ns: Namespace): TxEnvelope => {
      n++;
      return { namespace: ns, payload: new Uint8Array([0xbb, n & 255, (n >> 8) & 255, ns]) };
    };
    for (let i = 0; i < count; i++) {
      const nss = this.rng.chance(0.6)
        ? this.rng.pick([
            [2, 3],
            [1, 2],
            [1, 3],
            [1, 2, 3],
          ])
        : [this.rng.int(1, 3)];
      const txs: TxEnvelope[] = [];
      for (const ns of nss) for (let k = 0, c = this.rng.int(1, 3); k < c; k++) txs.push(fresh(ns));
      // A few bundles share a transaction with the bundle before them (the proposer picks one of the two).
      const prev = this.bundles.at(-1);
      if (prev !== undefined && this.rng.chance(0.1)) {
        const shared = prev.txs[0]!;
        if (!txs.some((t) => t.namespace === shared.namespace)) txs.push(shared);
        else txs[txs.findIndex((t) => t.namespace === shared.namespace)] = shared;
        txs.sort((a, b) => a.namespace - b.namespace);
      }
      const opaque = txs.some((t) => t.namespace === 1);
      const reverting = new Set<number>();
      for (let j = 0; j < txs.length; j++) if (this.rng.chance(0.15)) reverting.add(j);
      const bundleHash = this.rng.bytes(32);
      const b: SelectedBundle = { bundleHash, txs, atomicity: opaque ? 2 : 1, reverting };
      this.bundles.push(b);
      this.#byHash.set(key(bundleHash), b);
    }
  }

  #includedBy(node: number): Map<string, number> {
    let m = this.#included.get(node);
    if (m === undefined) {
      m = new Map();
      this.#included.set(node, m);
    }
    return m;
  }

  #committedBy(node: number): Set<string> {
    let s = this.#committed.get(node);
    if (s === undefined) {
      s = new Set();
      this.#committed.set(node, s);
    }
    return s;
  }

  /** An honest node's pool model, structurally the builder's BundleSource. */
  source(node: number): BundleSource {
    const dead = (b: SelectedBundle): boolean => {
      const c = this.#committedBy(node);
      return b.txs.some((t) => c.has(key(txHash(t))));
    };
    return {
      select: (height) => {
        const inc = this.#includedBy(node);
        const open = this.bundles.filter((b) => !inc.has(key(b.bundleHash)) && !dead(b));
        // Node-dependent choice, so proposers differ; at most 3 per block.
        const start = open.length === 0 ? 0 : (height * 7 + node) % open.length;
        return Promise.resolve([...open.slice(start), ...open.slice(0, start)].slice(0, 3));
      },
      lookup: (hash): BundleLookup => {
        const at = this.#includedBy(node).get(key(hash));
        if (at !== undefined) return { kind: 'included', height: at };
        const b = this.#byHash.get(key(hash));
        if (b === undefined || dead(b)) return { kind: 'unknown' };
        return {
          kind: 'known',
          txs: b.txs,
          minHeight: 0,
          maxHeight: 0,
          atomicity: b.atomicity,
          reverting: b.reverting,
        };
      },
    };
  }

  /** The honest node's block source: the real builder over this world's bundle source. */
  blockSource(node: number, rng: Rng, pool: SimTxPool): BlockSource {
    let n = 0;
    const builder = createBlockBuilder({
      rollups: ROLLUPS,
      bundles: this.source(node),
      results: { results: () => Promise.resolve([]) },
      mempool: {
        reap: ({ maxTxs }) => {
          const out: TxEnvelope[] = [];
          for (let k = 0, c = Math.min(maxTxs, rng.int(0, 2)); k < c; k++) {
            n++;
            const tx = {
              namespace: rng.int(1, 3),
              payload: new Uint8Array([0xaa, node, n & 255, rng.int(0, 255)]),
            };
            pool.add(node, tx);
            out.push(tx);
          }
          // Sometimes the public mempool also holds a bundle's transaction: the block carries it once.
          if (rng.chance(0.2)) out.push(rng.pick(this.bundles).txs[0]!);
          return out.sort((a, b) => a.namespace - b.namespace);
        },
        stats: () => ({ txs: 1 }),
        get: (hash) => pool.find(node, hash),
      },
    });
    return countingSource(builder, node, pool, this.verdicts);
  }

  /** A Byzantine proposer's block: honest bundles and public txs, then one seeded mutation. */
  byzantineBuild(node: number, height: number, _round: number, rng: Rng): BuiltBlock {
    const open = this.bundles.filter((b) => !this.#anywhere.has(key(b.bundleHash)));
    const chosen: SelectedBundle[] = [];
    const used = new Set<string>();
    for (const b of rng.shuffle([...open])) {
      if (chosen.length >= 3) break;
      const ks = b.txs.map((t) => key(txHash(t)));
      if (ks.some((k) => used.has(k))) continue;
      for (const k of ks) used.add(k);
      chosen.push(b);
    }
    const pub: TxEnvelope[] = [
      { namespace: 2, payload: new Uint8Array([0xcc, node, height & 255, rng.int(0, 255)]) },
    ];
    const segs = segmentsOf(assemble(chosen, pub));
    const m = rng.pick(MUTATIONS);
    if (mutate(segs, m, rng, this.bundles)) this.mutations.set(m, (this.mutations.get(m) ?? 0) + 1);
    const { txs, spans } = serialize(segs);
    let dataHash: Uint8Array;
    try {
      dataHash = computeDataHash(txs, spans);
    } catch {
      dataHash = rng.bytes(32);
    }
    return {
      txs,
      bundles: spans,
      dataHash,
      resultsHash: computeResultsHash({ height: resultsHeightFor(height), results: [] }),
      auctionHash: computeAuctionHash(height, NO_AUCTION),
    };
  }

  /** Called for every block an honest node decides: update its pool model and check the invariant. */
  decided(node: number, block: Block): void {
    const inc = this.#includedBy(node);
    const c = this.#committedBy(node);
    for (const tx of block.txs) c.add(key(txHash(tx)));
    for (const s of block.bundles) {
      const k = key(s.bundleHash);
      if (inc.has(k) && inc.get(k) !== block.header.height)
        this.violations.push(
          `node ${node}: bundle included at heights ${inc.get(k)} and ${block.header.height} (split across blocks)`,
        );
      inc.set(k, block.header.height);
      this.#anywhere.add(k);
      this.committedBundles.add(k);
    }
    this.blocksChecked++;
    for (const v of partialBundles(block, this.#byHash))
      this.violations.push(`node ${node} h${block.header.height}: ${v}`);
  }
}

/**
 * The invariant, checked independently of the builder: every bundle named by a span is a known bundle,
 * present whole (one span per leg, each holding exactly the leg's transactions in order, with the
 * bundle's atomicity and reverting indices), none of its transactions appears elsewhere in the block,
 * and the bundle order across namespaces is acyclic.
 */
export function partialBundles(block: Block, known: ReadonlyMap<string, SelectedBundle>): string[] {
  const out: string[] = [];
  const first = new Map<Namespace, number>();
  for (const [i, tx] of block.txs.entries()) if (!first.has(tx.namespace)) first.set(tx.namespace, i);
  const spansOf = new Map<string, BundleSpan[]>();
  for (const s of block.bundles) {
    const l = spansOf.get(key(s.bundleHash)) ?? [];
    l.push(s);
    spansOf.set(key(s.bundleHash), l);
  }
  const inSpan = new Set<number>();
  for (const [k, spans] of spansOf) {
    const b = known.get(k);
    if (b === undefined) {
      out.push('a span names an unknown bundle');
      continue;
    }
    const legs = new Map<Namespace, { txs: TxEnvelope[]; reverting: number[] }>();
    for (const [i, tx] of b.txs.entries()) {
      const l = legs.get(tx.namespace) ?? { txs: [], reverting: [] };
      if (b.reverting.has(i)) l.reverting.push(l.txs.length);
      l.txs.push(tx);
      legs.set(tx.namespace, l);
    }
    if (spans.length !== legs.size) out.push(`bundle has ${spans.length} of its ${legs.size} legs`);
    for (const s of spans) {
      const leg = legs.get(s.namespace);
      const at = (first.get(s.namespace) ?? 0) + s.start;
      if (leg === undefined || leg.txs.length !== s.count) {
        out.push(`span in namespace ${s.namespace} is not a whole leg`);
        continue;
      }
      for (let i = 0; i < s.count; i++) {
        const tx = block.txs[at + i];
        inSpan.add(at + i);
        if (tx === undefined || tx.namespace !== s.namespace || key(txHash(tx)) !== key(txHash(leg.txs[i]!)))
          out.push(`span in namespace ${s.namespace} does not hold the leg's transaction ${i}`);
      }
      if (s.atomicity !== b.atomicity || s.reverting.join() !== leg.reverting.join())
        out.push(`span in namespace ${s.namespace} has the wrong atomicity or reverting list`);
    }
  }
  const bundleTx = new Set<string>();
  for (const b of known.values())
    if (spansOf.has(key(b.bundleHash))) for (const t of b.txs) bundleTx.add(key(txHash(t)));
  for (const [i, tx] of block.txs.entries())
    if (!inSpan.has(i) && bundleTx.has(key(txHash(tx))))
      out.push(`a bundle's transaction also appears at ${i}`);
  const cycle = checkBundleSpans(block.txs, block.bundles, () => undefined, txHash);
  if (cycle?.code === 'SPAN_CYCLE') out.push(cycle.message);
  return out;
}

function segmentsOf(body: { txs: TxEnvelope[]; spans: BundleSpan[] }): Segment[] {
  const out: Segment[] = [];
  const first = new Map<Namespace, number>();
  const count = new Map<Namespace, number>();
  for (const [i, tx] of body.txs.entries()) {
    if (!first.has(tx.namespace)) first.set(tx.namespace, i);
    count.set(tx.namespace, (count.get(tx.namespace) ?? 0) + 1);
  }
  for (const ns of [...first.keys()].sort((a, b) => a - b)) {
    const f = first.get(ns)!;
    const spans = body.spans.filter((s) => s.namespace === ns);
    let at = 0;
    for (const s of spans) {
      if (s.start > at) out.push({ ns, txs: body.txs.slice(f + at, f + s.start) });
      out.push({
        ns,
        txs: body.txs.slice(f + s.start, f + s.start + s.count),
        span: { bundleHash: s.bundleHash, atomicity: s.atomicity, reverting: [...s.reverting] },
      });
      at = s.start + s.count;
    }
    if (at < count.get(ns)!) out.push({ ns, txs: body.txs.slice(f + at, f + count.get(ns)!) });
  }
  return out;
}

function serialize(segs: Segment[]): { txs: TxEnvelope[]; spans: BundleSpan[] } {
  const txs: TxEnvelope[] = [];
  const spans: BundleSpan[] = [];
  const sorted = segs.map((s, i) => ({ s, i })).sort((a, b) => a.s.ns - b.s.ns || a.i - b.i);
  let ns = -1;
  let off = 0;
  for (const { s } of sorted) {
    if (s.txs.length === 0) continue;
    if (s.ns !== ns) {
      ns = s.ns;
      off = 0;
    }
    if (s.span !== undefined)
      spans.push({
        ...s.span,
        namespace: s.ns,
        start: off,
        count: s.txs.length,
        reverting: s.span.reverting.filter((r) => r < s.txs.length),
      });
    txs.push(...s.txs);
    off += s.txs.length;
  }
  return { txs, spans };
}

/** Applies one mutation in place; false when the block offered nothing to mutate that way. */
function mutate(segs: Segment[], m: Mutation, rng: Rng, all: SelectedBundle[]): boolean {
  const legs = segs.filter((s) => s.span !== undefined);
  const crossLegs = legs.filter((s) =>
    legs.some((o) => o !== s && key(o.span!.bundleHash) === key(s.span!.bundleHash)),
  );
  switch (m) {
    case 'split': {
      if (crossLegs.length === 0) return false;
      rng.pick(crossLegs).span = undefined; // the txs stay, the span is gone: half a bundle
      return true;
    }
    case 'drop-leg': {
      if (crossLegs.length === 0) return false;
      const s = rng.pick(crossLegs);
      segs.splice(segs.indexOf(s), 1);
      return true;
    }
    case 'reorder': {
      const long = legs.filter((s) => s.txs.length >= 2);
      if (long.length === 0) return false;
      const s = rng.pick(long);
      [s.txs[0], s.txs[1]] = [s.txs[1]!, s.txs[0]!];
      return true;
    }
    case 'truncate': {
      // A one-tx leg of a one-leg bundle truncated is no bundle at all (whole, not partial): skip those.
      const cut = legs.filter((s) => s.txs.length >= 2 || crossLegs.includes(s));
      if (cut.length === 0) return false;
      const s = rng.pick(cut);
      s.txs.pop();
      return true;
    }
    case 'duplicate': {
      if (legs.length === 0) return false;
      const s = rng.pick(legs);
      segs.push({ ns: s.ns, txs: [s.txs[0]!] });
      return true;
    }
    case 'atomicity': {
      if (legs.length === 0) return false;
      const s = rng.pick(legs);
      s.span = { ...s.span!, atomicity: s.span!.atomicity === 1 ? 2 : 1 };
      return true;
    }
    case 'reverting': {
      if (legs.length === 0) return false;
      const s = rng.pick(legs);
      s.span = { ...s.span!, reverting: s.span!.reverting.length === 0 ? [0] : [] };
      return true;
    }
    case 'cycle': {
      // Two bundles over rollups 2 and 3, in opposite orders in the two rollups.
      const pair = all.filter(
        (b) =>
          b.txs.every((t) => t.namespace === 2 || t.namespace === 3) &&
          new Set(b.txs.map((t) => t.namespace)).size === 2,
      );
      if (pair.length < 2) return false;
      const [a, b] = rng.shuffle([...pair]).slice(0, 2) as [SelectedBundle, SelectedBundle];
      if (a.txs.some((t) => b.txs.some((u) => key(txHash(t)) === key(txHash(u))))) return false;
      const leg = (x: SelectedBundle, ns: Namespace): Segment => {
        const reverting: number[] = [];
        const txs: TxEnvelope[] = [];
        for (const [i, t] of x.txs.entries()) {
          if (t.namespace !== ns) continue;
          if (x.reverting.has(i)) reverting.push(txs.length);
          txs.push(t);
        }
        return { ns, txs, span: { bundleHash: x.bundleHash, atomicity: x.atomicity, reverting } };
      };
      segs.length = 0;
      segs.push(leg(a, 2), leg(b, 2), leg(b, 3), leg(a, 3));
      return true;
    }
    case 'honest':
      return false;
  }
}
