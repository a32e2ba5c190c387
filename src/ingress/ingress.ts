/**
 * The ingress: the one door every client submission goes through, whatever the entry point (JSON-RPC
 * `ordo_submitTransaction(s)`, the gRPC adapter's `SubmitTransaction`, the in-process adapter). One
 * pipeline, so the entry points cannot drift apart again (0.1.0's gRPC submissions were admitted but
 * never gossiped):
 *
 *   entry point (wire decode, size-checked) ─▶ check (namespace, size, shape) ─▶ admit (mempool, source
 *   `rpc`) ─▶ gossip (batched, `TxGossip.push`) ─▶ track (submit → commit latency) ─▶ metrics by origin
 *
 * Transactions received from peers do not come through here: p2p's TxGossip hands them straight to
 * mempool admission (source `gossip`) and gossipsub forwards the batch they came in, so the node never
 * re-gossips them itself.
 *
 * Extending it (the bundle, auction and Ethereum RPC issues): each new kind adds one method beside
 * `submitTransaction`, with the same shape — `submitBundle(bundle, origin)`, `submitBid(commit|reveal,
 * origin)`, `submitEthRawTransaction(raw, origin)` — that runs its own checks, admits to its own pool
 * (bundle pool, auction) or, for raw Ethereum transactions, decodes to a `TxEnvelope` of the rollup
 * registered for its chain id and calls the transaction path. Each gets its dependency as one more
 * narrow field of `IngressDeps` (an `admit` and a gossip sink), adds its codes to `IngressErrorCode`,
 * returns `IngressResult`, and counts under a new `kind` label value of the same metrics. Entry points
 * stay thin translators of wire formats.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { LIMITS, txHash } from '../codec/index.ts';
import type { AdmitResult, BundleAdmission, BundleCancel } from '../mempool/index.ts';
import type { Bundle, TxEnvelope } from '../types.ts';
import { createIngressMetrics } from './metrics.ts';
import type {
  BundleCancelSubmitResult,
  BundleSubmitResult,
  Ingress,
  IngressErrorCode,
  IngressOrigin,
  IngressResult,
} from './types.ts';

/** What the ingress needs from the rest of the node, and nothing more. */
export interface IngressDeps {
  /** The rollup registry: which namespaces exist and the largest payload each accepts. */
  rollups: readonly { namespace: number; maxTxBytes: number }[];
  /** Mempool admission (the pool applies lanes, limits, nonces and admission control). */
  mempool: { add(tx: TxEnvelope, source: 'rpc'): AdmitResult };
  /** Batched transaction gossip (p2p's `TxGossip` fits). */
  gossip: { push(tx: TxEnvelope): void };
  /**
   * Kind-specific admission after the ingress's own checks and before the mempool (the Ethereum RPC's
   * checks for raw transactions of EVM rollups: chain id, signature, intrinsic gas, fee floor, nonce,
   * balance). Synchronous; undefined = go on.
   */
  admission?: (tx: TxEnvelope) => { code: IngressErrorCode; message: string } | undefined;
  /** The bundle pool (absent: bundles are refused with BUNDLES_DISABLED). */
  bundles?: BundleAdmission;
  /** Bundle gossip: admitted bundles and cancels go to peers whole. */
  bundleGossip?: { push(bundle: Bundle): void; pushCancel(req: BundleCancel): void };
  /** Told about every admitted transaction (submit → commit latency). */
  submissions?: { submitted(hash: Uint8Array): void };
  /** Cap on one payload below the protocol limit (default `LIMITS.maxTxBytes`). */
  maxTxBytes?: number;
  registry?: Registry;
  logger?: Logger;
}

const MAX_NAMESPACE = 0xffff_ffff;

function refuse(code: IngressErrorCode, message: string, retryable: boolean): IngressResult {
  return { ok: false, code, message, retryable };
}

export function createIngress(deps: IngressDeps): Ingress {
  const metrics = createIngressMetrics(deps.registry);
  const cap = Math.min(deps.maxTxBytes ?? LIMITS.maxTxBytes, LIMITS.maxTxBytes);
  const limitOf = new Map(deps.rollups.map((r) => [r.namespace, Math.min(r.maxTxBytes, cap)]));
  const maxTxBytes = Math.max(0, ...limitOf.values());
  const log = deps.logger?.child({ module: 'ingress' });
  let stopped = false;

  function check(tx: TxEnvelope): IngressResult | undefined {
    const ns = tx.namespace;
    if (!Number.isInteger(ns) || ns < 1 || ns > MAX_NAMESPACE)
      return refuse('INVALID_NAMESPACE', `namespace must be an integer in 1..${MAX_NAMESPACE}`, false);
    const limit = limitOf.get(ns);
    if (limit === undefined)
      return refuse('UNKNOWN_NAMESPACE', `unknown namespace ${ns}: it is not in the rollup registry`, false);
    if (!(tx.payload instanceof Uint8Array) || tx.payload.byteLength === 0)
      return refuse('EMPTY_TX', 'transaction payload is empty', false);
    if (tx.payload.byteLength > limit)
      return refuse(
        'TX_TOO_LARGE',
        `transaction is ${tx.payload.byteLength} bytes; rollup ${ns} accepts at most ${limit}`,
        false,
      );
    return undefined;
  }

  function kindCheck(tx: TxEnvelope): IngressResult | undefined {
    const bad = deps.admission?.(tx);
    return bad === undefined ? undefined : refuse(bad.code, bad.message, false);
  }

  return {
    maxTxBytes,
    submitTransaction(tx, origin: IngressOrigin) {
      let r: IngressResult;
      if (stopped) {
        r = refuse('SHUTTING_DOWN', 'the node is shutting down; submit to another node', true);
      } else {
        r = check(tx) ?? kindCheck(tx) ?? deps.mempool.add(tx, 'rpc');
      }
      if (r.ok) {
        deps.gossip.push(tx);
        deps.submissions?.submitted(r.hash);
        metrics.count(origin, 'tx', 'accepted');
        return r;
      }
      if (r.code === 'DUPLICATE' || r.code === 'ALREADY_COMMITTED') {
        metrics.count(origin, 'tx', 'duplicate');
        // Duplicates keep their hash: a client retrying after a lost answer learns what to poll.
        return r.hash === undefined ? { ...r, hash: txHash(tx) } : r;
      }
      metrics.count(origin, 'tx', 'rejected', r.code);
      return r;
    },
    submitBundle(bundle, origin: IngressOrigin): BundleSubmitResult {
      const r: BundleSubmitResult = stopped
        ? {
            ok: false,
            code: 'SHUTTING_DOWN',
            message: 'the node is shutting down; submit to another node',
            retryable: true,
          }
        : deps.bundles === undefined
          ? { ok: false, code: 'BUNDLES_DISABLED', message: 'this node has no bundle pool', retryable: false }
          : deps.bundles.admit(bundle, 'rpc');
      if (r.ok) {
        deps.bundleGossip?.push(bundle);
        metrics.count(origin, 'bundle', 'accepted');
      } else if (r.code === 'DUPLICATE') metrics.count(origin, 'bundle', 'duplicate');
      else metrics.count(origin, 'bundle', 'rejected', r.code);
      return r;
    },
    cancelBundle(req: BundleCancel, _origin: IngressOrigin): BundleCancelSubmitResult {
      if (stopped)
        return {
          ok: false,
          code: 'SHUTTING_DOWN',
          message: 'the node is shutting down; submit to another node',
          retryable: true,
        };
      if (deps.bundles === undefined)
        return {
          ok: false,
          code: 'BUNDLES_DISABLED',
          message: 'this node has no bundle pool',
          retryable: false,
        };
      const r = deps.bundles.cancel(req);
      if (r.ok) deps.bundleGossip?.pushCancel(req);
      return r;
    },
    start() {
      stopped = false;
    },
    stop() {
      if (!stopped) log?.debug('ingress stopped: submissions are refused from now on');
      stopped = true;
    },
  };
}
