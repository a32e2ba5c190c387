/**
 * Bundle span layout, the pure half of a validator's bundle check: spans sorted by (namespace, start),
 * each non-empty and contiguous inside its namespace's slice, no two overlapping, one span per bundle
 * per namespace. Membership (the span holds exactly the bundle's transactions, the bundle is whole and
 * not included before) needs the bundle source and is checked in builder.ts.
 */
import { latin1Key } from '../crypto/index.ts';
import type { BundleSpan, Namespace, RollupKind, TxEnvelope } from '../types.ts';
import type { ProposalRejectCode } from './types.ts';

export type LayoutProblem = { code: ProposalRejectCode; message: string };

/** Transactions per namespace and the index of each namespace's first transaction in the block. */
export function sliceBounds(txs: TxEnvelope[]): Map<Namespace, { first: number; count: number }> {
  const out = new Map<Namespace, { first: number; count: number }>();
  for (let i = 0; i < txs.length; i++) {
    const ns = txs[i]!.namespace;
    const e = out.get(ns);
    if (e === undefined) out.set(ns, { first: i, count: 1 });
    else e.count++;
  }
  return out;
}

/** The first layout problem of `spans` over `txs`, or null when the layout is sound. */
export function checkSpanLayout(txs: TxEnvelope[], spans: BundleSpan[]): LayoutProblem | null {
  const slices = sliceBounds(txs);
  const seen = new Set<string>();
  let prev: BundleSpan | undefined;
  for (const [i, s] of spans.entries()) {
    if (s.bundleHash.byteLength !== 32 || !Number.isSafeInteger(s.start) || s.start < 0 || s.count < 1)
      return { code: 'SPAN_MALFORMED', message: `span ${i} is empty or malformed` };
    const slice = slices.get(s.namespace);
    if (slice === undefined)
      return {
        code: 'SPAN_MALFORMED',
        message: `span ${i} names namespace ${s.namespace}, absent from the block`,
      };
    if (s.start + s.count > slice.count) {
      return {
        code: 'SPAN_OUT_OF_SLICE',
        message: `span ${i} [${s.start}, ${s.start + s.count}) passes the end of namespace ${s.namespace}'s ${slice.count} transactions`,
      };
    }
    if (prev !== undefined) {
      if (s.namespace < prev.namespace || (s.namespace === prev.namespace && s.start < prev.start))
        return { code: 'SPAN_UNSORTED', message: `span ${i} is not sorted by (namespace, start)` };
      if (s.namespace === prev.namespace && s.start < prev.start + prev.count)
        return { code: 'SPAN_OVERLAP', message: `span ${i} overlaps the span before it` };
    }
    const k = `${s.namespace}/${latin1Key(s.bundleHash)}`;
    if (seen.has(k))
      return {
        code: 'SPAN_DUPLICATE',
        message: `span ${i}: the bundle has two spans in namespace ${s.namespace}`,
      };
    seen.add(k);
    prev = s;
  }
  return null;
}

/**
 * The first problem of the bundles' spans taken together, or null: a span's reverting indices out of
 * order or range (SPAN_MALFORMED), execution atomicity in an opaque namespace (ATOMICITY_UNSUPPORTED;
 * a namespace whose kind `kindOf` does not know is not checked), spans of one bundle that disagree on
 * atomicity or name a reverting index twice (BUNDLE_MISMATCH), a bundle's transaction present twice in
 * the block (BUNDLE_TX_DUPLICATE), and a cycle in the bundle order relation (SPAN_CYCLE). Expects a
 * sound layout (`checkSpanLayout` first).
 */
export function checkBundleSpans(
  txs: TxEnvelope[],
  spans: BundleSpan[],
  kindOf: (ns: Namespace) => RollupKind | undefined,
  hashOf: (tx: TxEnvelope) => Uint8Array,
): LayoutProblem | null {
  if (spans.length === 0) return null;
  const slices = sliceBounds(txs);
  const atomicity = new Map<string, number>();
  for (const [i, s] of spans.entries()) {
    if (s.atomicity !== 1 && s.atomicity !== 2)
      return { code: 'SPAN_MALFORMED', message: `span ${i} has unknown atomicity ${String(s.atomicity)}` };
    for (const [j, r] of s.reverting.entries()) {
      if (!Number.isSafeInteger(r) || r < 0 || r >= s.count || (j > 0 && r <= s.reverting[j - 1]!))
        return {
          code: 'SPAN_MALFORMED',
          message: `span ${i}: reverting indices must be ascending and below ${s.count}`,
        };
    }
    if (s.atomicity === 1 && kindOf(s.namespace) === 'opaque')
      return {
        code: 'ATOMICITY_UNSUPPORTED',
        message: `span ${i} asks for execution atomicity in opaque namespace ${s.namespace}`,
      };
    const k = latin1Key(s.bundleHash);
    const a = atomicity.get(k);
    if (a === undefined) atomicity.set(k, s.atomicity);
    else if (a !== s.atomicity)
      return { code: 'BUNDLE_MISMATCH', message: `span ${i}: the bundle's spans differ in atomicity` };
  }
  // Every transaction of a span must appear exactly once in the whole block.
  const count = new Map<string, number>();
  for (const tx of txs) {
    const k = latin1Key(hashOf(tx));
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  for (const [i, s] of spans.entries()) {
    const first = slices.get(s.namespace)?.first ?? 0;
    for (let j = 0; j < s.count; j++) {
      const tx = txs[first + s.start + j];
      if (tx !== undefined && (count.get(latin1Key(hashOf(tx))) ?? 0) > 1)
        return {
          code: 'BUNDLE_TX_DUPLICATE',
          message: `span ${i}: transaction ${j} appears more than once in the block`,
        };
    }
  }
  return spanCycle(spans);
}

/**
 * SPAN_CYCLE when the relation "A's span comes before B's span in some namespace" is not acyclic
 * (Kahn's algorithm over the bundles; spans are sorted by (namespace, start), so consecutive spans of a
 * namespace give its edges).
 */
function spanCycle(spans: BundleSpan[]): LayoutProblem | null {
  const out = new Map<string, Set<string>>();
  const indegree = new Map<string, number>();
  for (const s of spans) {
    const k = latin1Key(s.bundleHash);
    if (!out.has(k)) out.set(k, new Set());
    if (!indegree.has(k)) indegree.set(k, 0);
  }
  for (let i = 1; i < spans.length; i++) {
    const a = spans[i - 1]!;
    const b = spans[i]!;
    if (a.namespace !== b.namespace) continue;
    const ka = latin1Key(a.bundleHash);
    const kb = latin1Key(b.bundleHash);
    if (ka === kb || out.get(ka)!.has(kb)) continue;
    out.get(ka)!.add(kb);
    indegree.set(kb, indegree.get(kb)! + 1);
  }
  const ready = [...indegree].filter(([, d]) => d === 0).map(([k]) => k);
  let done = 0;
  while (ready.length > 0) {
    const k = ready.pop()!;
    done++;
    for (const n of out.get(k)!) {
      const d = indegree.get(n)! - 1;
      indegree.set(n, d);
      if (d === 0) ready.push(n);
    }
  }
  if (done === indegree.size) return null;
  return {
    code: 'SPAN_CYCLE',
    message: `the bundle order across namespaces has a cycle (${indegree.size - done} bundles on it)`,
  };
}
