/**
 * The TypeScript client SDK for rollups. `OrdoRollupClient` is an async iterable of verified blocks of
 * one rollup: every slice is checked (header hash, commit certificate against the validator set the
 * rollup got from genesis, namespace completeness proofs of transactions and bundle spans against
 * header.dataHash, certified results of height - 2 against header.resultsHash) before it is yielded,
 * and heights are strictly consecutive. On a transport failure it reconnects with exponential backoff,
 * rotating through `endpoints`, and resumes from the height after the last block it yielded, so the
 * consumer sees no gap and no duplicate across node restarts and failovers.
 * A slice that fails verification throws a `VerificationError` (or, with `failoverOnInvalid`, makes
 * the client drop that node and try the next).
 */
import * as grpc from '@grpc/grpc-js';
import pino, { type Logger } from 'pino';
import { errorMessage } from '../../errors.ts';
import type { TxStatus } from '../../mempool/index.ts';
import type { BlockHeader, Namespace, Validator } from '../../types.ts';
import { AdapterError, type AdapterErrorCode, VerificationError } from '../errors.ts';
import type { SubmitResult } from '../in-process.ts';
import type { CommitmentState, NamespaceBlock } from '../types.ts';
import { verifyNamespaceBlock } from '../verify.ts';
import {
  type AdapterClient,
  type AdapterUnaryMethod,
  commitmentFromWire,
  loadAdapterService,
  MAX_MESSAGE_BYTES,
  namespaceBlockFromWire,
  submitResultFromWire,
  txStatusFromWire,
  type Wire,
} from '../wire.ts';

/** A slice that passed verification; `header` is decoded from the verified header bytes. */
export type VerifiedBlock = NamespaceBlock & { header: BlockHeader };

export interface OrdoRollupClientOptions {
  /** host:port of one or more Ordo nodes; the client fails over in this order. */
  endpoints: string[];
  namespace: Namespace;
  chainId: string;
  /** The validator set from genesis (never taken from the node). */
  validators: Validator[];
  /** First height to yield (default 1). */
  fromHeight?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** Give up after this many failed attempts in a row without a verified block (default: never). */
  maxConsecutiveFailures?: number;
  /** On an invalid slice, drop that node and try the next instead of throwing (default false). */
  failoverOnInvalid?: boolean;
  /**
   * Fail over when a node sends nothing for this long while the stream is open (a node stuck behind
   * the chain looks exactly like a quiet chain to it). Default 30 s; 0 disables.
   */
  idleTimeoutMs?: number;
  /** Deadline for unary calls (default 10 s). */
  callTimeoutMs?: number;
  logger?: Logger;
}

/** Errors a node reports that retrying elsewhere cannot fix. */
const FATAL: Partial<Record<grpc.status, AdapterErrorCode>> = {
  [grpc.status.NOT_FOUND]: 'UNKNOWN_NAMESPACE',
  [grpc.status.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
};

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === 'number';
}

export class OrdoRollupClient implements AsyncIterable<VerifiedBlock> {
  readonly #opts: OrdoRollupClientOptions;
  readonly #log: Logger;
  readonly #clients = new Map<string, grpc.Client>();
  #next: number;
  #endpoint = 0;
  #call: grpc.ClientReadableStream<Wire> | undefined;
  #closed = false;
  #wakeSleep: (() => void) | undefined;
  #iterating = false;

  constructor(opts: OrdoRollupClientOptions) {
    if (opts.endpoints.length === 0)
      throw new AdapterError('INVALID_ARGUMENT', 'at least one endpoint is needed');
    if (opts.validators.length === 0)
      throw new AdapterError('INVALID_ARGUMENT', 'the validator set is empty');
    this.#opts = opts;
    this.#next = Math.max(1, opts.fromHeight ?? 1);
    this.#log = (opts.logger ?? pino({ level: 'silent' })).child({
      module: 'rollup-sdk',
      namespace: opts.namespace,
    });
  }

  /** The next height the client will yield (last yielded + 1). Persist it to resume after a restart. */
  get nextHeight(): number {
    return this.#next;
  }

  /** The endpoint the client reads from now. */
  get endpoint(): string {
    return this.#opts.endpoints[this.#endpoint]!;
  }

  #client(endpoint: string): grpc.Client {
    let c = this.#clients.get(endpoint);
    if (c === undefined) {
      const Ctor = loadAdapterService();
      c = new Ctor(endpoint, grpc.credentials.createInsecure(), {
        'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
        'grpc.keepalive_time_ms': 30_000,
        'grpc.keepalive_timeout_ms': 10_000,
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 2_000,
      });
      this.#clients.set(endpoint, c);
    }
    return c;
  }

  #rotate(): void {
    this.#endpoint = (this.#endpoint + 1) % this.#opts.endpoints.length;
  }

  async #sleep(ms: number): Promise<void> {
    if (this.#closed) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#wakeSleep = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.#wakeSleep = undefined;
  }

  [Symbol.asyncIterator](): AsyncIterator<VerifiedBlock> {
    return this.blocks();
  }

  /** Verified blocks from `nextHeight` on, forever, until `close()` or a fatal error. */
  async *blocks(): AsyncGenerator<VerifiedBlock, void, undefined> {
    if (this.#iterating) throw new AdapterError('INVALID_ARGUMENT', 'the client is already being iterated');
    this.#iterating = true;
    const { namespace, chainId, validators } = this.#opts;
    const initial = this.#opts.backoff?.initialMs ?? 100;
    const maxDelay = this.#opts.backoff?.maxMs ?? 5_000;
    const maxFailures = this.#opts.maxConsecutiveFailures ?? Number.POSITIVE_INFINITY;
    let delay = initial;
    let failures = 0;
    let fatalInARow = 0;
    try {
      while (!this.#closed) {
        const endpoint = this.endpoint;
        const call = (this.#client(endpoint) as AdapterClient).StreamBlocks({
          namespace,
          fromHeight: String(this.#next),
        }) as grpc.ClientReadableStream<Wire>;
        this.#call = call;
        let lastError: unknown;
        const idleMs = this.#opts.idleTimeoutMs ?? 30_000;
        let idle = false;
        let timer: NodeJS.Timeout | undefined;
        const arm = (): void => {
          if (idleMs > 0)
            timer = setTimeout(() => {
              idle = true;
              call.cancel();
            }, idleMs);
        };
        arm();
        try {
          for await (const w of call) {
            clearTimeout(timer);
            const nb = namespaceBlockFromWire(w);
            if (nb.height !== this.#next) {
              throw new VerificationError(
                'UNEXPECTED_HEIGHT',
                `node ${endpoint} sent height ${nb.height}, expected ${this.#next}`,
                { height: nb.height, expected: this.#next },
              );
            }
            const header = verifyNamespaceBlock(nb, { chainId, namespace, validators });
            this.#next++;
            failures = 0;
            fatalInARow = 0;
            delay = initial;
            yield { ...nb, header };
            arm();
          }
          lastError = new AdapterError('UNAVAILABLE', `node ${endpoint} ended the stream`);
        } catch (err) {
          lastError = idle
            ? new AdapterError('UNAVAILABLE', `node ${endpoint} sent nothing for ${idleMs} ms`)
            : err;
        } finally {
          clearTimeout(timer);
          this.#call = undefined;
          call.cancel();
        }
        if (this.#closed) return;
        if (lastError instanceof VerificationError) {
          this.#log.warn(
            { endpoint, code: lastError.code, err: lastError.message },
            'invalid block from node',
          );
          if (this.#opts.failoverOnInvalid !== true || this.#opts.endpoints.length === 1) throw lastError;
          this.#rotate();
          if (++failures >= maxFailures) throw lastError;
          continue;
        }
        if (isServiceError(lastError)) {
          const fatal = FATAL[lastError.code];
          if (fatal !== undefined) throw new AdapterError(fatal, lastError.details || lastError.message);
          const meta = lastError.metadata?.get('ordo-error-code')[0];
          if (lastError.code === grpc.status.RESOURCE_EXHAUSTED && meta === 'CONSUMER_TOO_SLOW') {
            // The node cut us off for reading too slowly: resume at once from our own height.
            this.#log.info({ endpoint, next: this.#next }, 'stream ended for a slow consumer; resuming');
            if (++failures >= maxFailures) throw new AdapterError('CONSUMER_TOO_SLOW', lastError.details);
            continue;
          }
          if (
            lastError.code === grpc.status.OUT_OF_RANGE ||
            lastError.code === grpc.status.FAILED_PRECONDITION
          ) {
            // This node cannot serve the height (behind us, or pruned); another may.
            if (++fatalInARow >= this.#opts.endpoints.length) {
              throw new AdapterError(
                lastError.code === grpc.status.OUT_OF_RANGE ? 'FROM_HEIGHT_TOO_FAR' : 'HEIGHT_PRUNED',
                lastError.details,
                { nextHeight: this.#next },
              );
            }
          }
        }
        this.#log.info(
          { endpoint, err: errorMessage(lastError), retryInMs: delay },
          'stream lost; failing over',
        );
        if (++failures >= maxFailures) {
          throw new AdapterError(
            'UNAVAILABLE',
            `no node served height ${this.#next}: ${errorMessage(lastError)}`,
            {
              nextHeight: this.#next,
            },
          );
        }
        this.#rotate();
        await this.#sleep(delay);
        delay = Math.min(maxDelay, delay * 2);
      }
    } finally {
      this.#iterating = false;
    }
  }

  async #unary<T>(method: AdapterUnaryMethod, req: Wire, decode: (w: Wire) => T): Promise<T> {
    let lastErr: unknown;
    const n = this.#opts.endpoints.length;
    for (let i = 0; i < n; i++) {
      const endpoint = this.#opts.endpoints[(this.#endpoint + i) % n]!;
      try {
        const res = await new Promise<Wire>((resolve, reject) => {
          (this.#client(endpoint) as AdapterClient)[method](
            req,
            { deadline: Date.now() + (this.#opts.callTimeoutMs ?? 10_000) },
            (err: grpc.ServiceError | null, r: Wire) => (err ? reject(err) : resolve(r)),
          );
        });
        return decode(res);
      } catch (err) {
        lastErr = err;
        if (isServiceError(err) && FATAL[err.code] !== undefined)
          throw new AdapterError(FATAL[err.code]!, err.details || err.message);
      }
    }
    throw new AdapterError('UNAVAILABLE', `${method} failed on every endpoint: ${errorMessage(lastErr)}`);
  }

  /** Submit one transaction of this rollup; tries the endpoints in order until one answers. */
  submitTransaction(payload: Uint8Array): Promise<SubmitResult> {
    return this.#unary(
      'SubmitTransaction',
      { namespace: this.#opts.namespace, payload },
      submitResultFromWire,
    );
  }

  getTransactionStatus(txHash: Uint8Array): Promise<TxStatus> {
    return this.#unary('GetTransactionStatus', { txHash }, txStatusFromWire);
  }

  /** The node's view of the latest soft (BFT-committed) and firm heights. Not verified: informational. */
  getCommitmentState(): Promise<CommitmentState> {
    return this.#unary('GetCommitmentState', {}, commitmentFromWire);
  }

  close(): void {
    this.#closed = true;
    this.#call?.cancel();
    this.#wakeSleep?.();
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }
}
