/**
 * An in-memory AdapterSource for tests, examples and demos: it builds real blocks (sorted bodies,
 * data, results (of height - 2) and auction commitments as the builder makes them, chained parent and
 * last-commit hashes) and real commit certificates signed with
 * ed25519 by deterministic test validators, so everything the adapter serves verifies exactly as it
 * would on a live network, without consensus. `produceBlock` plays the role of a commit.
 */

import {
  certificateHash,
  computeAuctionHash,
  computeDataHash,
  computeResultsHash,
  headerHash,
  NO_AUCTION,
  type ResultLeaf,
  type RollupAuctionOutcome,
  receiptsRoot,
  resultsHeightFor,
  txHash,
  voteSignBytes,
} from '../../codec/index.ts';
import type { RollupConfig } from '../../config/index.ts';
import { Ed25519Signer, sha256, toHex, ZERO_HASH } from '../../crypto/index.ts';
import type { IngressResult } from '../../ingress/index.ts';
import type { TxStatus } from '../../mempool/index.ts';
import type {
  Block,
  BlockHeader,
  BundleSpan,
  CertifiedBlock,
  CommitCertificate,
  Namespace,
  TxEnvelope,
  Validator,
} from '../../types.ts';
import type { AdapterSource, SubmitOrigin } from '../source.ts';
import type { ExecutionResult } from '../types.ts';

/** Deterministic test validator keys: seed i = sha256("ordo-test-validator/" + i). */
export function testSigners(count: number): Ed25519Signer[] {
  const out: Ed25519Signer[] = [];
  for (let i = 0; i < count; i++)
    out.push(new Ed25519Signer(sha256(new TextEncoder().encode(`ordo-test-validator/${i}`))));
  return out;
}

export function testRollup(
  namespace: number,
  name: string,
  kind: RollupConfig['kind'] = 'opaque',
): RollupConfig {
  return {
    namespace,
    name,
    kind,
    weight: 1,
    maxTxBytes: 64 * 1024,
    maxPendingTxs: 10_000,
    maxPendingBytes: 16 << 20,
  };
}

/** Sign a precommit certificate for `hash` by the given signer indexes (sorted ascending). */
export function signCertificate(
  chainId: string,
  signers: Ed25519Signer[],
  height: number,
  round: number,
  hash: Uint8Array,
  indexes: number[] = signers.map((_, i) => i),
): CommitCertificate {
  const msg = voteSignBytes(chainId, 'precommit', height, round, hash);
  return {
    height,
    round,
    blockHash: hash,
    sigs: [...indexes]
      .sort((a, b) => a - b)
      .map((i) => ({ validatorIndex: i, signature: signers[i]!.sign(msg) })),
  };
}

export interface MemorySourceOptions {
  chainId?: string;
  validatorCount?: number;
  /** Voting power per validator (default 1 each). */
  powers?: number[];
  rollups?: RollupConfig[];
  genesisTimeMs?: number;
  /** Execution for executed rollups: results per (height, namespace) from that namespace's txs. */
  execute?: (height: number, namespace: Namespace, txs: Uint8Array[]) => ExecutionResult;
}

export interface ProduceOptions {
  bundles?: BundleSpan[];
  /** Validator indexes that sign the certificate (default all). */
  signers?: number[];
  round?: number;
  /** The auction ran at this height with this outcome (sorted by namespace): auction_hash kind 1. */
  auction?: RollupAuctionOutcome[];
}

export class MemorySource implements AdapterSource {
  readonly chainId: string;
  readonly validators: Validator[];
  readonly rollups: RollupConfig[];
  readonly signers: Ed25519Signer[];
  readonly #blocks: CertifiedBlock[] = [];
  readonly #pending: TxEnvelope[] = [];
  readonly #statuses = new Map<string, TxStatus>();
  readonly #listeners = new Set<(height: number) => void>();
  readonly #exec = new Map<string, ExecutionResult>();
  readonly #auctions = new Map<number, RollupAuctionOutcome[]>();
  readonly #genesisTimeMs: number;
  readonly #execute: MemorySourceOptions['execute'];
  #base = 1;
  /** Count of getCertifiedBlock calls, for tests that check reads are paced by the consumer. */
  reads = 0;

  constructor(opts: MemorySourceOptions = {}) {
    this.chainId = opts.chainId ?? 'ordo-test';
    const n = opts.validatorCount ?? 4;
    this.signers = testSigners(n);
    this.validators = this.signers.map((s, i) => ({
      publicKey: s.publicKey,
      votingPower: opts.powers?.[i] ?? 1,
    }));
    this.rollups = opts.rollups ?? [testRollup(1, 'alpha'), testRollup(2, 'beta'), testRollup(3, 'gamma')];
    this.#genesisTimeMs = opts.genesisTimeMs ?? 1_700_000_000_000;
    this.#execute = opts.execute;
  }

  height(): number {
    return this.#blocks.length;
  }

  baseHeight(): number {
    return this.#base;
  }

  /** Pretend blocks below `height` were pruned. */
  prune(height: number): void {
    this.#base = Math.max(this.#base, height);
  }

  async getCertifiedBlock(height: number): Promise<CertifiedBlock | undefined> {
    this.reads++;
    if (height < this.#base) return undefined;
    return this.#blocks[height - 1];
  }

  async getAuctionOutcome(height: number): Promise<readonly RollupAuctionOutcome[] | undefined> {
    return this.#auctions.get(height);
  }

  async getExecResults(height: number, namespace: Namespace): Promise<ExecutionResult | undefined> {
    return this.#exec.get(`${height}/${namespace}`);
  }

  onCommit(listener: (height: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  listenerCount(): number {
    return this.#listeners.size;
  }

  /** A stand-in for the node's ingress: namespace and size checks, then a pending set. */
  submit(tx: TxEnvelope, _origin?: SubmitOrigin): IngressResult {
    const rollup = this.rollups.find((r) => r.namespace === tx.namespace);
    if (rollup === undefined)
      return {
        ok: false,
        code: 'UNKNOWN_NAMESPACE',
        message: `unknown namespace ${tx.namespace}`,
        retryable: false,
      };
    if (tx.payload.byteLength === 0 || tx.payload.byteLength > rollup.maxTxBytes)
      return { ok: false, code: 'TX_TOO_LARGE', message: 'payload empty or too large', retryable: false };
    const hash = txHash(tx);
    const key = toHex(hash);
    const st = this.#statuses.get(key);
    if (st?.status === 'pending')
      return { ok: false, code: 'DUPLICATE', message: 'already pending', retryable: false };
    if (st?.status === 'committed')
      return { ok: false, code: 'ALREADY_COMMITTED', message: 'already committed', retryable: false };
    this.#pending.push(tx);
    this.#statuses.set(key, { status: 'pending' });
    return { ok: true, hash };
  }

  status(hash: Uint8Array): TxStatus {
    return this.#statuses.get(toHex(hash)) ?? { status: 'unknown' };
  }

  pendingCount(): number {
    return this.#pending.length;
  }

  /** Build, certify, store and announce the next block; `txs` default to everything pending. */
  produceBlock(txs?: TxEnvelope[], opts: ProduceOptions = {}): CertifiedBlock {
    const body = (txs ?? this.#pending.splice(0)).map((tx, i) => ({ tx, i }));
    body.sort((a, b) => a.tx.namespace - b.tx.namespace || a.i - b.i);
    const sorted = body.map((e) => e.tx);
    const height = this.#blocks.length + 1;
    const prev = this.#blocks[height - 2];
    const round = opts.round ?? 0;
    const bundles = opts.bundles ?? [];
    const rh = resultsHeightFor(height);
    const results: ResultLeaf[] = [];
    for (const r of [...this.rollups].sort((a, b) => a.namespace - b.namespace)) {
      const e = rh < 1 || r.kind === 'opaque' ? undefined : this.#exec.get(`${rh}/${r.namespace}`);
      if (e !== undefined)
        results.push({
          namespace: r.namespace,
          stateRoot: e.stateRoot,
          receiptsRoot: receiptsRoot(r.namespace, e.receipts),
        });
    }
    const header: BlockHeader = {
      chainId: this.chainId,
      height,
      round,
      timeMs: this.#genesisTimeMs + height * 1000,
      parentHash: prev === undefined ? ZERO_HASH : headerHash(prev.block.header),
      dataHash: computeDataHash(sorted, bundles),
      proposer: this.validators[height % this.validators.length]!.publicKey,
      txCount: sorted.length,
      lastCommitHash: prev === undefined ? new Uint8Array(0) : certificateHash(prev.certificate),
      resultsHash: computeResultsHash({ height: rh, results }),
      auctionHash: computeAuctionHash(
        height,
        opts.auction === undefined ? NO_AUCTION : { kind: 'auction', rollups: opts.auction },
      ),
    };
    const block: Block = { header, txs: sorted, bundles };
    if (opts.auction !== undefined) this.#auctions.set(height, opts.auction);
    const certificate = signCertificate(
      this.chainId,
      this.signers,
      height,
      round,
      headerHash(header),
      opts.signers,
    );
    const cb = { block, certificate };
    this.#blocks.push(cb);
    sorted.forEach((tx, index) => {
      const key = toHex(txHash(tx));
      this.#statuses.set(key, { status: 'committed', height, index });
    });
    if (this.#execute !== undefined) {
      for (const r of this.rollups) {
        if (r.kind === 'opaque') continue;
        const payloads = sorted.filter((t) => t.namespace === r.namespace).map((t) => t.payload);
        this.#exec.set(`${height}/${r.namespace}`, this.#execute(height, r.namespace, payloads));
      }
    }
    for (const l of [...this.#listeners]) l(height);
    return cb;
  }
}
