/**
 * Ingress metrics: `ordo_ingress_submitted_total{origin,kind,result}` (result = accepted, duplicate,
 * rejected) and `ordo_ingress_rejected_total{origin,kind,code}`. Counts are tallied in plain numbers on
 * the submit path (tens of thousands a second under load) and flushed into prom-client at scrape, so a
 * submission never pays for prom-client's label hashing. Label values come from closed sets (origins,
 * kinds, `IngressErrorCode`), so a client cannot grow the series count.
 */
import { Counter, type Registry } from 'prom-client';
import type { BundleRejectCode } from '../mempool/index.ts';
import {
  INGRESS_ORIGINS,
  type IngressBundleCode,
  type IngressErrorCode,
  type IngressOrigin,
} from './types.ts';

/** Codes a bundle submission can be refused with (closed set). */
type BundleSubmitCode = BundleRejectCode | IngressBundleCode;

/** What is submitted: transactions and bundles; bids add theirs. */
export type IngressKind = 'tx' | 'bundle';
export type SubmitOutcome = 'accepted' | 'duplicate' | 'rejected';

export interface IngressMetrics {
  count(
    origin: IngressOrigin,
    kind: IngressKind,
    outcome: SubmitOutcome,
    code?: IngressErrorCode | BundleSubmitCode,
  ): void;
}

const OUTCOMES: readonly SubmitOutcome[] = ['accepted', 'duplicate', 'rejected'];
const KINDS: readonly IngressKind[] = ['tx', 'bundle'];

export function createIngressMetrics(registry: Registry | undefined): IngressMetrics {
  const registers = registry === undefined ? [] : [registry];
  // Tallies since the last scrape: submitted[origin][kind][outcome], rejected[origin][kind][code].
  const submitted = {} as Record<string, Record<string, Record<string, number>>>;
  const rejected = {} as Record<string, Record<string, Record<string, number>>>;
  for (const o of INGRESS_ORIGINS) {
    submitted[o] = {};
    rejected[o] = {};
    for (const k of KINDS) {
      // Every origin × kind × outcome appears at 0 from the first scrape.
      submitted[o]![k] = Object.fromEntries(OUTCOMES.map((r) => [r, 0]));
      rejected[o]![k] = {};
    }
  }
  const flush = (
    tallies: Record<string, Record<string, Record<string, number>>>,
    c: Counter<string>,
    last: 'result' | 'code',
  ): void => {
    for (const [origin, byKind] of Object.entries(tallies))
      for (const [kind, byValue] of Object.entries(byKind))
        for (const [value, n] of Object.entries(byValue)) {
          c.inc({ origin, kind, [last]: value }, n);
          byValue[value] = 0;
        }
  };
  new Counter({
    name: 'ordo_ingress_submitted_total',
    help: 'Submissions through the ingress by origin (jsonrpc, grpc, in_process, eth_rpc), kind and result (accepted, duplicate, rejected)',
    labelNames: ['origin', 'kind', 'result'],
    registers,
    collect() {
      flush(submitted, this, 'result');
    },
  });
  new Counter({
    name: 'ordo_ingress_rejected_total',
    help: 'Submissions refused by the ingress, by origin, kind and error code',
    labelNames: ['origin', 'kind', 'code'],
    registers,
    collect() {
      flush(rejected, this, 'code');
    },
  });
  return {
    count(origin, kind, outcome, code) {
      const s = submitted[origin]![kind]!;
      s[outcome] = (s[outcome] ?? 0) + 1;
      if (outcome === 'rejected' && code !== undefined) {
        const r = rejected[origin]![kind]!;
        r[code] = (r[code] ?? 0) + 1;
      }
    },
  };
}
