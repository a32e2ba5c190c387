/**
 * Pre-confirmations (issue #22 rule 5): after each executed block, for every committed bundle with an
 * executed leg, the node signs `preconfSignBytes` (bundle hash, height, block hash, outcome, per leg the
 * rollup's state root and receipts root after the block — the ResultLeaf values that results_hash at
 * height + 2 certifies) with its ed25519 key and reports execution and pre-confirmation to the bundle
 * status sink (the pool's status tracker). When the header at height + 2 commits to results equal to
 * this node's, the sink hears `certified(height)`; a mismatch is logged as an error and never
 * certified. Validators sign with their validator key, full nodes with their p2p identity key.
 *
 * The node calls `committed` from its commit listener, `executed` from the executor's subscription
 * (before executeBlock resolves, so before the adapter hands the block out) and `certify` on the
 * execution chain just before executing height + 2's block.
 */
import type { Logger } from 'pino';
import { Histogram, type Registry } from 'prom-client';
import {
  computeResultsHash,
  type Preconfirmation,
  type PreconfLeg,
  preconfSignBytes,
  type ResultLeaf,
  receiptsRoot,
} from '../codec/index.ts';
import { bytesEqual } from '../crypto/index.ts';
import { type BundleOutcome, encodeReceipt, type NamespaceResult } from '../exec/index.ts';
import type { BundleExecution, BundleStatusSink } from '../mempool/index.ts';

export interface PreconfSigner {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export interface PreconfirmerOptions {
  chainId: string;
  /**
   * The node's ed25519 key: the validator key, or a full node's p2p identity key (its pre-confirmations
   * verify against that key, not the validator set). Undefined: none is signed.
   */
  signer: PreconfSigner | undefined;
  /** Where statuses go; read on each use (the pool may be wired after this). */
  sink: () => BundleStatusSink | undefined;
  logger: Logger;
  registry?: Registry;
  /** Monotonic clock in ms (default performance.now). */
  now?: () => number;
}

/** Heights whose block hash, commit time and result leaves are remembered (execution lags commits). */
const KEEP = 16;

export class Preconfirmer {
  readonly #o: PreconfirmerOptions;
  readonly #now: () => number;
  readonly #blocks = new Map<number, { hash: Uint8Array; at: number }>();
  /** Result leaves of executed heights that held bundles, for the certification check. */
  readonly #leaves = new Map<number, ResultLeaf[]>();
  readonly #latency: Histogram;
  /** Set once the node's key is known (a full node's p2p identity is loaded after the executor). */
  signer: PreconfSigner | undefined;

  constructor(o: PreconfirmerOptions) {
    this.#o = o;
    this.signer = o.signer;
    this.#now = o.now ?? (() => performance.now());
    this.#latency = new Histogram({
      name: 'ordo_bundle_preconfirm_seconds',
      help: 'Time from a block commit to the signed pre-confirmation of a bundle it holds',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5],
      registers: o.registry === undefined ? [] : [o.registry],
    });
  }

  /** A block was committed: remember its hash and when (latency of its pre-confirmations). */
  committed(height: number, blockHash: Uint8Array): void {
    this.#blocks.set(height, { hash: blockHash, at: this.#now() });
    for (const h of this.#blocks.keys()) if (this.#blocks.size > KEEP) this.#blocks.delete(h);
  }

  /** A block was executed: sign and report every bundle with an executed leg. Returns what was signed. */
  executed(
    height: number,
    results: ReadonlyMap<number, NamespaceResult>,
    bundles: readonly BundleOutcome[],
  ): Preconfirmation[] {
    if (bundles.length === 0) return [];
    const leaves = [...results.values()]
      .sort((a, b) => a.namespace - b.namespace)
      .map((r) => ({
        namespace: r.namespace,
        stateRoot: r.stateRoot,
        receiptsRoot: receiptsRoot(r.namespace, r.receipts.map(encodeReceipt)),
      }));
    this.#leaves.set(height, leaves);
    for (const h of this.#leaves.keys()) if (this.#leaves.size > KEEP) this.#leaves.delete(h);
    const block = this.#blocks.get(height);
    const out: Preconfirmation[] = [];
    for (const b of bundles) {
      const execution: BundleExecution = {
        outcome: b.outcome,
        legs: b.legs.map((l) => ({
          namespace: l.namespace,
          receipts: l.receipts.map((r) => {
            const x: BundleExecution['legs'][number]['receipts'][number] = {
              index: r.index,
              status: r.status,
              gasUsed: r.gasUsed,
            };
            if (r.error !== undefined) x.error = r.error;
            return x;
          }),
        })),
      };
      let p: Preconfirmation | undefined;
      const signer = this.signer;
      if (signer !== undefined && block !== undefined) {
        const legs: PreconfLeg[] = b.legs.map((l) => {
          const leaf = leaves.find((x) => x.namespace === l.namespace)!;
          return { namespace: l.namespace, stateRoot: leaf.stateRoot, receiptsRoot: leaf.receiptsRoot };
        });
        const body = {
          chainId: this.#o.chainId,
          bundleHash: b.bundleHash,
          height,
          blockHash: block.hash,
          outcome: b.outcome,
          legs,
        };
        p = { ...body, signer: signer.publicKey, signature: signer.sign(preconfSignBytes(body)) };
        this.#latency.observe(Math.max(0, this.#now() - block.at) / 1000);
        out.push(p);
      }
      try {
        this.#o.sink()?.executed(b.bundleHash, height, execution, p);
      } catch (err) {
        this.#o.logger.warn({ err, height }, 'bundle status sink failed');
      }
    }
    return out;
  }

  /**
   * The header of height + 2 committed to `resultsHash`: if this node's results of `height` (which held
   * bundles) give the same hash, the sink hears `certified(height)`.
   */
  certify(height: number, resultsHash: Uint8Array): boolean {
    const leaves = this.#leaves.get(height);
    if (leaves === undefined) return false;
    this.#leaves.delete(height);
    const mine = computeResultsHash({ height, results: leaves });
    if (!bytesEqual(mine, resultsHash)) {
      this.#o.logger.error(
        { height },
        "this node's execution results differ from the certified results_hash; its pre-confirmations of this height are wrong",
      );
      return false;
    }
    try {
      this.#o.sink()?.certified(height);
    } catch (err) {
      this.#o.logger.warn({ err, height }, 'bundle status sink failed');
    }
    return true;
  }
}
