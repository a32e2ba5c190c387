/**
 * A fake node for tests of the load generator and the dashboard: the real JSON-RPC server
 * (src/rpc/server.ts) with a handful of `ordo_*` methods backed by an array of blocks. Submitted
 * transactions are committed into a new block every `blockMs`; `ordo_subscribe ["newHeads"]` notifies
 * over WebSocket. It has no consensus and no peers; it exists so tests need no running network.
 */
import { createHash } from 'node:crypto';
import { decodeTxBatch } from '../../src/codec/index.ts';
import { RpcError, RpcServer } from '../../src/rpc/index.ts';

export interface FakeNodeOptions {
  blockMs?: number;
  /** Reject every Nth submission with MEMPOOL_FULL (-32002) to exercise rejection accounting. */
  rejectEvery?: number;
  moniker?: string;
  /** Mixed into block hashes: two fake nodes with different salts disagree at every height. */
  hashSalt?: string;
  /** Serve only `ordo_submitTransaction` (a node from before `ordo_submitTransactions`). */
  legacySubmitOnly?: boolean;
  /** Also serve the binary batch route `POST /ordo/v1/tx-batch` (default: only without legacySubmitOnly). */
  binaryBatch?: boolean;
}

interface FakeBlock {
  height: number;
  hash: string;
  txs: { index: number; namespace: number; hash: string; data: string }[];
  timeMs: number;
}

export class FakeNode {
  readonly blocks: FakeBlock[] = [];
  /** Transactions that came through the binary batch route. */
  binarySubmissions = 0;
  readonly #rpc: RpcServer;
  readonly #o: Required<FakeNodeOptions>;
  readonly #listeners = new Set<(h: number) => void>();
  #pending: FakeBlock['txs'] = [];
  #timer: NodeJS.Timeout | undefined;
  #submissions = 0;

  constructor(o: FakeNodeOptions = {}) {
    this.#o = {
      blockMs: 100,
      rejectEvery: 0,
      moniker: 'fake',
      hashSalt: '',
      legacySubmitOnly: false,
      binaryBatch: o.legacySubmitOnly !== true,
      ...o,
    };
    this.#rpc = new RpcServer({
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 8 * 1024 * 1024,
      maxConnections: 256,
      maxBatchRequests: 1000,
      requestTimeoutMs: 10_000,
    });
    const submit = (p: { namespace: number; data: string }): { hash: string } => {
      this.#submissions++;
      if (this.#o.rejectEvery > 0 && this.#submissions % this.#o.rejectEvery === 0) {
        throw new RpcError(-32002, 'mempool full', { code: 'MEMPOOL_FULL', retryable: true });
      }
      const ns = Buffer.alloc(4);
      ns.writeUInt32BE(p.namespace);
      const hash = `0x${createHash('sha256')
        .update(ns)
        .update(Buffer.from(p.data.slice(2), 'hex'))
        .digest('hex')}`;
      this.#pending.push({ index: 0, namespace: p.namespace, hash, data: p.data });
      return { hash };
    };
    this.#rpc.register('ordo_submitTransaction', (params) =>
      submit(params[0] as { namespace: number; data: string }),
    );
    if (!this.#o.legacySubmitOnly) {
      this.#rpc.register('ordo_submitTransactions', (params) => {
        const list = params[0] as { namespace: number; data: string }[];
        const rejected: {
          index: number;
          code: string;
          rpcCode: number;
          message: string;
          retryable: boolean;
        }[] = [];
        list.forEach((p, index) => {
          try {
            submit(p);
          } catch (err) {
            const e = err as RpcError;
            const data = e.data as { code: string; retryable: boolean };
            rejected.push({
              index,
              code: data.code,
              rpcCode: e.code,
              message: e.message,
              retryable: data.retryable,
            });
          }
        });
        return { accepted: list.length - rejected.length, duplicates: [], rejected };
      });
    }
    if (this.#o.binaryBatch) {
      this.#rpc.postBinary('/ordo/v1/tx-batch', (body) => {
        const rejected: { index: number; code: string; message: string; retryable: boolean }[] = [];
        const txs = decodeTxBatch(body);
        txs.forEach((tx, index) => {
          try {
            submit({ namespace: tx.namespace, data: `0x${Buffer.from(tx.payload).toString('hex')}` });
          } catch (err) {
            const e = err as RpcError;
            const data = e.data as { code: string; retryable: boolean };
            rejected.push({ index, code: data.code, message: e.message, retryable: data.retryable });
          }
        });
        this.binarySubmissions += txs.length;
        return { status: 200, body: { accepted: txs.length - rejected.length, duplicates: [], rejected } };
      });
    }
    this.#rpc.register('ordo_status', () => ({
      chainId: 'fake',
      nodeId: 'fake-node',
      moniker: this.#o.moniker,
      height: this.blocks.length,
      round: 0,
      step: 'propose',
      validators: [],
      peers: 0,
      mempool: {
        txs: this.#pending.length,
        bytes: 0,
        lanes: [{ namespace: 1, txs: this.#pending.length, bytes: 0 }],
      },
      rollups: [
        { namespace: 1, name: 'demo-opaque', kind: 'opaque' },
        { namespace: 2, name: 'demo-transfer', kind: 'transfer' },
        { namespace: 3, name: 'demo-evm', kind: 'evm' },
      ],
    }));
    this.#rpc.register('ordo_getBlock', (params) => {
      const p = params[0];
      const h = p === 'latest' ? this.blocks.length : (p as number);
      const b = this.blocks[h - 1];
      if (b === undefined) return null;
      return {
        height: b.height,
        hash: b.hash,
        header: { height: b.height, round: 0, timeMs: b.timeMs, proposer: '0x00', txCount: b.txs.length },
        txs: b.txs,
        bundles: [],
        certificate: null,
      };
    });
    this.#rpc.register('ordo_subscribe', (params, ctx) => {
      if (params[0] !== 'newHeads' || ctx.notify === undefined)
        throw new RpcError(-32602, 'bad subscription');
      const notify = ctx.notify;
      const l = (height: number): void => {
        notify('ordo_subscription', { subscription: 'newHeads', result: { height } });
      };
      this.#listeners.add(l);
      ctx.onClose?.(() => this.#listeners.delete(l));
      return 'newHeads';
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.#rpc.port}`;
  }

  get port(): number {
    return this.#rpc.port;
  }

  async start(): Promise<void> {
    await this.#rpc.start();
    const tick = (): void => {
      this.commit();
      this.#timer = setTimeout(tick, this.#o.blockMs);
    };
    this.#timer = setTimeout(tick, this.#o.blockMs);
  }

  /** Seal the pending transactions into the next block. */
  commit(): void {
    const height = this.blocks.length + 1;
    const txs = this.#pending.map((t, index) => ({ ...t, index }));
    this.#pending = [];
    const hash = `0x${createHash('sha256').update(`block-${height}${this.#o.hashSalt}`).digest('hex')}`;
    this.blocks.push({ height, hash, txs, timeMs: Date.now() });
    for (const l of this.#listeners) l(height);
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#rpc.stop();
  }
}
