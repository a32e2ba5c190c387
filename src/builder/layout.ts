/**
 * Bundle span layout, the pure half of a validator's bundle check: spans sorted by (namespace, start),
 * each non-empty and contiguous inside its namespace's slice, no two overlapping, one span per bundle
 * per namespace. Membership (the span holds exactly the bundle's transactions, the bundle is whole and
 * not included before) needs the bundle source and is checked in builder.ts.
 */
import { latin1Key } from '../crypto/index.ts';
import type { BundleSpan, Namespace, TxEnvelope } from '../types.ts';
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
