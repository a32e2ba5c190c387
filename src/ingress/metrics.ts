/**
 * Ingress metrics: `ordo_ingress_submitted_total{origin,kind,result}` (result = accepted, duplicate,
 * rejected) and `ordo_ingress_rejected_total{origin,kind,code}`. Counts are tallied in plain numbers on
 * the submit path (tens of thousands a second under load) and flushed into prom-client at scrape, so a
 * submission never pays for prom-client's label hashing. Label values come from closed sets (origins,
 * kinds, `IngressErrorCode`), so a client cannot grow the series count.
 */
import { Counter, type Registry } from 'prom-client';
import { INGRESS_ORIGINS, type IngressErrorCode, type IngressOrigin } from './types.ts';

/** What is submitted: `tx` today; bundles, bids and raw Ethereum transactions add theirs. */
export type IngressKind = 'tx';
export type SubmitOutcome = 'accepted' | 'duplicate' | 'rejected';

export interface IngressMetrics {
  count(origin: IngressOrigin, kind: IngressKind, outcome: SubmitOutcome, code?: IngressErrorCode): void;
}

const OUTCOMES: readonly SubmitOutcome[] = ['accepted', 'duplicate', 'rejected'];
const KINDS: readonly IngressKind[] = ['tx'];

export function createIngressMetrics(registry: Registry | undefined): IngressMetrics {
  const registers = registry === undefined ? [] : [registry];
  const submitted = new Map<string, number>();
  const rejected = new Map<string, number>();
  // Every origin × kind × outcome appears at 0 from the start, so a scrape shows the full set.
  for (const o of INGRESS_ORIGINS)
    for (const k of KINDS) for (const r of OUTCOMES) submitted.set(`${o}\u0000${k}\u0000${r}`, 0);
  const flush = (
    m: Map<string, number>,
    c: Counter<string>,
    names: readonly [string, string, string],
  ): void => {
    for (const [key, n] of m) {
      const [a, b, v] = key.split('\u0000') as [string, string, string];
      c.inc({ [names[0]]: a, [names[1]]: b, [names[2]]: v }, n);
      m.set(key, 0);
    }
  };
  new Counter({
    name: 'ordo_ingress_submitted_total',
    help: 'Submissions through the ingress by origin (jsonrpc, grpc, in_process, eth_rpc), kind and result (accepted, duplicate, rejected)',
    labelNames: ['origin', 'kind', 'result'],
    registers,
    collect() {
      flush(submitted, this, ['origin', 'kind', 'result']);
    },
  });
  new Counter({
    name: 'ordo_ingress_rejected_total',
    help: 'Submissions refused by the ingress, by origin, kind and error code',
    labelNames: ['origin', 'kind', 'code'],
    registers,
    collect() {
      flush(rejected, this, ['origin', 'kind', 'code']);
    },
  });
  const bump = (m: Map<string, number>, key: string): void => {
    m.set(key, (m.get(key) ?? 0) + 1);
  };
  return {
    count(origin, kind, outcome, code) {
      bump(submitted, `${origin}\u0000${kind}\u0000${outcome}`);
      if (outcome === 'rejected' && code !== undefined) bump(rejected, `${origin}\u0000${kind}\u0000${code}`);
    },
  };
}
