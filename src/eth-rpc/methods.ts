/**
 * The Ethereum JSON-RPC method table of one EVM rollup (served at `/evm/<namespace>`): chain and fee
 * queries, state reads, calls and gas estimates, raw transaction submission through the ingress,
 * transactions and receipts by keccak hash, logs, polling filters and WebSocket subscriptions.
 *
 * Errors follow Ethereum clients' expectations: -32602 for any malformed param (saying which and why),
 * -32601 naming an unknown method (the RPC server), 3 with the revert data for reverted calls, -32000
 * with geth's wording for transaction-pool refusals and unavailable state; unknown hashes are `null`.
 */
import { randomBytes } from 'node:crypto';
import type { Common } from '@ethereumjs/common';
import type { TypedTransaction } from '@ethereumjs/tx';
import type { Logger } from 'pino';
import type { BundleSubmitResult, IngressResult } from '../ingress/index.ts';
import type { TxStatus } from '../mempool/index.ts';
import type { CallContext, Handler, Params } from '../rpc/index.ts';
import { concurrentInBatch, invalidParams, RPC, RpcError } from '../rpc/index.ts';
import type { Bundle } from '../types.ts';
import { type Decoded, type EvmAdmission, ethError } from './admission.ts';
import { EthBundles } from './bundles.ts';
import { type BundleSimulate, callBundle } from './call-bundle.ts';
import type { Simulator } from './call-pool.ts';
import { CallTimeoutError, sharedClock } from './call-timeout.ts';
import type { EthBlock, EvmChain } from './chain.ts';
import { blockLogs, Filters, logMatches } from './filters.ts';
import {
  type AccountOverride,
  arity,
  type BlockRef,
  type CallRequest,
  data,
  describe,
  type LogFilter,
  parseAddress,
  parseBlockRef,
  parseBool,
  parseCallRequest,
  parseData,
  parseHash32,
  parseLogFilter,
  parseQuantity,
  parseStateOverrides,
  qty,
} from './params.ts';
import { blockJson, type RenderContext, receiptJson, txJson } from './render.ts';
import { DEFAULT_GAS_CAP, type EvmStateReader, revertError } from './state.ts';

export interface RollupRpcDeps {
  namespace: number;
  chainId: bigint;
  common: Common;
  baseFee: bigint;
  /** 0x address credited with fees (the blocks' `miner`). */
  feeRecipient: string;
  chain: EvmChain;
  state: EvmStateReader;
  /** Runs eth_call / eth_estimateGas simulations (call workers, ADR 0205); default: `state` itself. */
  simulator?: Simulator;
  /**
   * `rpc.ethCallTimeoutMs` (ADR 0288): one eth_estimateGas request's budget for all its simulations (the
   * simulator bounds each eth_call itself). 0 or absent: none.
   */
  callTimeoutMs?: number;
  /** Told of each eth_call / eth_estimateGas / eth_callBundle request answered CallTimeoutError (the metric). */
  onCallTimeout?: (method: 'eth_call' | 'eth_estimateGas' | 'eth_callBundle') => void;
  /** The mempool's view of senders and transactions. */
  mempool: {
    nextNonce(namespace: number, sender: string): bigint | undefined;
    status(hash: Uint8Array): TxStatus;
  };
  /** Ethereum admission of this rollup (also the ingress's hook for it). */
  admission: EvmAdmission;
  /** The node's one door (origin `eth_rpc`). */
  submit: (payload: Uint8Array) => IngressResult;
  /** The node's one door for bundles (origin `eth_rpc`); without it the bundle methods are refused. */
  submitBundle?: (bundle: Bundle) => BundleSubmitResult;
  /** The executor's bundle simulation; without it eth_callBundle is refused (-32601). */
  simulateBundle?: BundleSimulate;
  maxTxBytes: number;
  /** The rollup's block gas limit (ADR 0285): eth_estimateGas's ceiling, the blocks' `gasLimit`. */
  blockGasLimit: bigint;
  clientVersion: string;
  /** eth_getLogs: most blocks one query may span (default 1000) and most logs it may return (10,000). */
  maxBlockRange?: number;
  maxLogs?: number;
  /** Most subscriptions one WebSocket connection may hold (default 100). */
  maxSubscriptionsPerConnection?: number;
  logger?: Logger;
}

interface PendingTx {
  tx: TypedTransaction;
  from: Uint8Array;
  ordoHash: Uint8Array;
}

const MAX_PENDING_TRACKED = 50_000;

export class RollupRpc {
  readonly #d: RollupRpcDeps;
  readonly #render: RenderContext;
  readonly filters = new Filters();
  /** Transactions admitted here and not indexed yet, by keccak hash (eth_getTransactionByHash). */
  readonly #pending = new Map<string, PendingTx>();
  readonly #subs = new Map<string, (b: EthBlock) => void>();
  readonly #unsubscribeChain: () => void;

  constructor(d: RollupRpcDeps) {
    this.#d = d;
    this.#render = {
      chainId: d.chainId,
      baseFee: d.baseFee,
      miner: d.feeRecipient,
      gasLimit: d.blockGasLimit,
    };
    this.#unsubscribeChain = d.chain.onBlock((b) => {
      for (const t of b.txs) this.#pending.delete(data(t.hash));
      this.filters.onBlock(b);
      for (const fn of this.#subs.values()) fn(b);
    });
  }

  close(): void {
    this.#unsubscribeChain();
    this.#subs.clear();
  }

  /** The method table mounted on the RPC server. */
  methods(): Map<string, Handler> {
    const m = new Map<string, Handler>();
    const d = this.#d;
    const chain = d.chain;
    /** A method without params: check that none were sent, then answer. */
    const plain = (name: string, answer: () => unknown): void => {
      m.set(name, (p) => {
        arity(p, 0, 0, `no params for ${name}`);
        return answer();
      });
    };

    plain('eth_chainId', () => qty(d.chainId));
    plain('net_version', () => d.chainId.toString());
    plain('net_listening', () => true);
    plain('net_peerCount', () => '0x0');
    plain('web3_clientVersion', () => d.clientVersion);
    plain('eth_syncing', () => false);
    plain('eth_accounts', () => []);
    plain('eth_blockNumber', () => qty(chain.head()));
    plain('eth_gasPrice', () => qty(d.baseFee));
    // Ordo orders by fair selection, not by tip: no tip is needed to be included.
    plain('eth_maxPriorityFeePerGas', () => '0x0');

    m.set('eth_getBlockByNumber', async (p) => {
      arity(p, 1, 2, '[block, fullTransactions?]');
      const full = parseBool(p[1], 'fullTransactions', false);
      const b = await this.#block(parseBlockRef(p[0], 'block'));
      return b === undefined ? null : blockJson(b, full, this.#render);
    });
    m.set('eth_getBlockByHash', async (p) => {
      arity(p, 1, 2, '[blockHash, fullTransactions?]');
      const hash = parseHash32(p[0], 'blockHash');
      const full = parseBool(p[1], 'fullTransactions', false);
      const b = await this.#block({ hash });
      return b === undefined ? null : blockJson(b, full, this.#render);
    });
    m.set('eth_getBlockTransactionCountByNumber', async (p) => {
      arity(p, 1, 1, '[block]');
      const b = await this.#block(parseBlockRef(p[0], 'block'));
      return b === undefined ? null : qty(b.txs.length);
    });
    m.set('eth_getBlockTransactionCountByHash', async (p) => {
      arity(p, 1, 1, '[blockHash]');
      const b = await this.#block({ hash: parseHash32(p[0], 'blockHash') });
      return b === undefined ? null : qty(b.txs.length);
    });
    m.set('eth_getUncleCountByBlockNumber', async (p) => {
      arity(p, 1, 1, '[block]');
      return (await this.#block(parseBlockRef(p[0], 'block'))) === undefined ? null : '0x0';
    });
    m.set('eth_getUncleCountByBlockHash', async (p) => {
      arity(p, 1, 1, '[blockHash]');
      return (await this.#block({ hash: parseHash32(p[0], 'blockHash') })) === undefined ? null : '0x0';
    });
    m.set('eth_getBlockReceipts', async (p) => {
      arity(p, 1, 1, '[block]');
      const b = await this.#block(parseBlockRef(p[0], 'block'));
      return b === undefined ? null : b.txs.map((t) => receiptJson(b, t));
    });
    m.set('eth_getTransactionByBlockNumberAndIndex', async (p) => {
      arity(p, 2, 2, '[block, index]');
      const ref = parseBlockRef(p[0], 'block');
      const index = Number(parseQuantity(p[1], 'index', 0xffff_ffffn));
      const b = await this.#block(ref);
      const t = b?.txs[index];
      return b === undefined || t === undefined
        ? null
        : txJson(t.tx, t.hash, t.from, this.#render, { block: b, tx: t });
    });
    m.set('eth_getTransactionByBlockHashAndIndex', async (p) => {
      arity(p, 2, 2, '[blockHash, index]');
      const hash = parseHash32(p[0], 'blockHash');
      const index = Number(parseQuantity(p[1], 'index', 0xffff_ffffn));
      const b = await this.#block({ hash });
      const t = b?.txs[index];
      return b === undefined || t === undefined
        ? null
        : txJson(t.tx, t.hash, t.from, this.#render, { block: b, tx: t });
    });

    m.set('eth_getBalance', async (p) => {
      arity(p, 1, 2, '[address, block?]');
      const a = parseAddress(p[0]);
      await this.#stateAt(parseBlockRef(p[1]));
      return qty(d.state.account(a).balance);
    });
    m.set('eth_getTransactionCount', async (p) => {
      arity(p, 1, 2, '[address, block?]');
      const a = parseAddress(p[0]);
      const ref = parseBlockRef(p[1]);
      await this.#stateAt(ref);
      const latest = d.state.account(a).nonce;
      if ('tag' in ref && ref.tag === 'pending') {
        // The mempool's next nonce is never below the executed one, except while execution catches up.
        const next = d.mempool.nextNonce(d.namespace, data(a));
        if (next !== undefined && next > latest) return qty(next);
      }
      return qty(latest);
    });
    m.set('eth_getCode', async (p) => {
      arity(p, 1, 2, '[address, block?]');
      const a = parseAddress(p[0]);
      await this.#stateAt(parseBlockRef(p[1]));
      return data(d.state.code(a));
    });
    m.set('eth_getStorageAt', async (p) => {
      arity(p, 2, 3, '[address, slot, block?]');
      const a = parseAddress(p[0]);
      const slot = parseQuantity(p[1], 'slot');
      await this.#stateAt(parseBlockRef(p[2]));
      const s = Buffer.alloc(32);
      let v = slot;
      for (let i = 31; i >= 0; i--) {
        s[i] = Number(v & 0xffn);
        v >>= 8n;
      }
      return data(d.state.storage(a, new Uint8Array(s)));
    });

    /** A call method whose CallTimeoutError answers are counted (ordo_eth_call_timeouts_total). */
    const timed =
      (
        method: 'eth_call' | 'eth_estimateGas' | 'eth_callBundle',
        h: (p: Params, ctx: CallContext) => Promise<unknown>,
      ) =>
      async (p: Params, ctx: CallContext): Promise<unknown> => {
        try {
          return await h(p, ctx);
        } catch (err) {
          if (err instanceof CallTimeoutError) d.onCallTimeout?.(method);
          throw err;
        }
      };
    // Batch entries of these two run together, a window at a time (ADR 0287): they read, in no order,
    // and their EVM work goes to a call worker as one message per window.
    m.set(
      'eth_call',
      concurrentInBatch(
        timed('eth_call', async (p, ctx) => {
          const { req, overrides } = await this.#callArgs(p);
          // geth's RPCGasCap: a call names at most DEFAULT_GAS_CAP, so one call's EVM work is bounded.
          const gas = req.gas === undefined || req.gas > DEFAULT_GAS_CAP ? DEFAULT_GAS_CAP : req.gas;
          const r = await this.#simulate(req, overrides, gas, ctx.batch === true);
          if (!r.ok)
            throw r.error === 'revert' ? revertError(r.returnValue) : ethError(r.error ?? 'execution failed');
          return data(r.returnValue);
        }),
      ),
    );
    m.set(
      'eth_estimateGas',
      concurrentInBatch(
        timed('eth_estimateGas', async (p, ctx) => {
          const { req, overrides } = await this.#callArgs(p);
          return qty(await this.#estimate(req, overrides, ctx.batch === true));
        }),
      ),
    );

    m.set('eth_feeHistory', async (p) => {
      arity(p, 2, 3, '[blockCount, newestBlock, rewardPercentiles?]');
      // A hex quantity, or as geth also takes it, a JSON number or a decimal string.
      const count =
        typeof p[0] === 'number' && Number.isSafeInteger(p[0]) && p[0] >= 0
          ? p[0]
          : typeof p[0] === 'string' && /^[0-9]{1,10}$/.test(p[0])
            ? Number(p[0])
            : Number(parseQuantity(p[0], 'blockCount', 1n << 32n));
      const newest = await this.#block(parseBlockRef(p[1], 'newestBlock'));
      const pct = p[2] ?? [];
      if (
        !Array.isArray(pct) ||
        pct.length > 100 ||
        !pct.every(
          (x, i) => typeof x === 'number' && x >= 0 && x <= 100 && (i === 0 || x >= (pct[i - 1] as number)),
        )
      )
        throw invalidParams('rewardPercentiles must be an increasing array of at most 100 numbers in 0..100');
      if (newest === undefined) throw ethError('newestBlock is not known');
      const n = Math.min(count, 1024, newest.number + 1);
      const oldest = newest.number - n + 1;
      const gasUsedRatio: number[] = [];
      const reward: string[][] = [];
      for (let h = oldest; h <= newest.number; h++) {
        const b = await chain.block(h);
        gasUsedRatio.push(b === undefined ? 0 : Number(b.gasUsed) / 2 ** 50);
        const tips = (b?.txs ?? [])
          .map((t) => t.effectiveGasPrice - d.baseFee)
          .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
        reward.push(
          (pct as number[]).map((q) =>
            qty(
              tips.length === 0 ? 0n : tips[Math.min(tips.length - 1, Math.floor((q / 100) * tips.length))]!,
            ),
          ),
        );
      }
      return {
        oldestBlock: qty(oldest),
        baseFeePerGas: Array.from({ length: n + 1 }, () => qty(d.baseFee)),
        gasUsedRatio,
        ...(pct.length > 0 ? { reward } : {}),
      };
    });

    m.set('eth_sendRawTransaction', (p) => {
      arity(p, 1, 1, '[signedTransactionData]');
      if (typeof p[0] === 'string' && (p[0].length - 2) / 2 > d.maxTxBytes)
        throw ethError(`oversized data: ${(p[0].length - 2) / 2} bytes, the limit is ${d.maxTxBytes}`);
      const raw = parseData(p[0], 'signedTransactionData', d.maxTxBytes);
      return data(this.#admit(raw));
    });

    m.set('eth_getTransactionByHash', async (p) => {
      arity(p, 1, 1, '[transactionHash]');
      const hash = parseHash32(p[0], 'transactionHash');
      const loc = await chain.txLocation(hash);
      if (loc !== undefined) {
        const b = await chain.block(loc.height);
        const t = b?.txs[loc.index];
        if (b !== undefined && t !== undefined)
          return txJson(t.tx, t.hash, t.from, this.#render, { block: b, tx: t });
      }
      const key = data(hash);
      const pend = this.#pending.get(key);
      if (pend === undefined) return null;
      const s = d.mempool.status(pend.ordoHash);
      if (s.status === 'dropped' || s.status === 'unknown') {
        this.#pending.delete(key);
        return null;
      }
      return txJson(pend.tx, hash, pend.from, this.#render);
    });
    m.set('eth_getTransactionReceipt', async (p) => {
      arity(p, 1, 1, '[transactionHash]');
      const loc = await chain.txLocation(parseHash32(p[0], 'transactionHash'));
      if (loc === undefined) return null;
      const b = await chain.block(loc.height);
      const t = b?.txs[loc.index];
      return b === undefined || t === undefined ? null : receiptJson(b, t);
    });

    m.set('eth_getLogs', async (p) => {
      arity(p, 1, 1, '[filter]');
      return this.#logs(parseLogFilter(p[0]));
    });
    m.set('eth_newFilter', (p) => {
      arity(p, 1, 1, '[filter]');
      const f = parseLogFilter(p[0]);
      const num = (r: BlockRef | undefined) => (r !== undefined && 'number' in r ? r.number : undefined);
      return this.filters.newLogFilter(f, num(f.fromBlock), num(f.toBlock));
    });
    plain('eth_newBlockFilter', () => this.filters.newBlockFilter());
    m.set('eth_newPendingTransactionFilter', () => {
      throw ethError('pending transaction filters are not supported');
    });
    m.set('eth_getFilterChanges', (p) => {
      arity(p, 1, 1, '[filterId]');
      return this.filters.changes(parseFilterId(p[0]));
    });
    m.set('eth_getFilterLogs', (p) => {
      arity(p, 1, 1, '[filterId]');
      return this.#logs(this.filters.logFilter(parseFilterId(p[0])));
    });
    m.set('eth_uninstallFilter', (p) => {
      arity(p, 1, 1, '[filterId]');
      return this.filters.uninstall(parseFilterId(p[0]));
    });

    m.set('eth_subscribe', (p, ctx) => this.#subscribe(p, ctx));
    m.set('eth_unsubscribe', (p, ctx) => {
      arity(p, 1, 1, '[subscriptionId]');
      const id = parseFilterId(p[0]);
      // Only a subscription of this connection (as in geth); another's id is unknown here: false.
      const owned = (ctx as { ethSubs?: Set<string> }).ethSubs;
      if (owned === undefined || !owned.delete(id)) return false;
      return this.#subs.delete(id);
    });

    const submitBundle = this.#d.submitBundle;
    if (submitBundle !== undefined) {
      const bundles = new EthBundles({
        namespace: this.#d.namespace,
        maxTxBytes: this.#d.maxTxBytes,
        submitBundle,
      });
      m.set('eth_sendBundle', (p) => bundles.sendBundle(p));
      m.set('eth_cancelBundle', () => bundles.cancelBundle());
    }
    const simulate = this.#d.simulateBundle;
    if (simulate !== undefined) {
      const cb = {
        namespace: d.namespace,
        common: d.common,
        chainId: d.chainId,
        baseFee: d.baseFee,
        maxTxBytes: d.maxTxBytes,
        blockGasLimit: d.blockGasLimit,
        simulate,
      };
      // Its EVM legs run on the call workers, bounded as eth_call (ADR 0305).
      m.set(
        'eth_callBundle',
        timed('eth_callBundle', (p) => callBundle(cb, p)),
      );
    }
    for (const name of ['eth_sendBundle', 'eth_callBundle', 'eth_cancelBundle']) {
      if (m.has(name)) continue;
      m.set(name, () => {
        throw new RpcError(
          RPC.METHOD_NOT_FOUND,
          `${name} is not available on this node: it has no bundle ${name === 'eth_callBundle' ? 'simulator' : 'pool'} (docs/eth-rpc.md)`,
        );
      });
    }
    return m;
  }

  /** Block by reference; `pending` is the latest block (Ordo builds no local pending block). */
  async #block(ref: BlockRef): Promise<EthBlock | undefined> {
    const chain = this.#d.chain;
    if ('hash' in ref) {
      const h = await chain.heightOfHash(ref.hash);
      return h === undefined ? undefined : chain.block(h);
    }
    if ('number' in ref) return chain.block(ref.number);
    return chain.block(ref.tag === 'earliest' ? 0 : chain.head());
  }

  /** State queries: only the current state exists. */
  async #stateAt(ref: BlockRef): Promise<void> {
    const head = this.#d.chain.head();
    if ('tag' in ref) {
      if (ref.tag === 'earliest' && head !== 0)
        throw ethError('historical state is not available: only the latest block’s state is kept');
      return;
    }
    const h = 'hash' in ref ? await this.#d.chain.heightOfHash(ref.hash) : ref.number;
    if (h === undefined) throw ethError('header not found');
    if (h > head) throw ethError(`block ${h} is not known yet (head is ${head})`);
    if (h < head)
      throw ethError(
        `historical state is not available: block ${h} is older than the head ${head}; query "latest"`,
      );
  }

  /** eth_call's and eth_estimateGas's params `[transaction, block?, stateOverrides?]`, checked in order. */
  async #callArgs(p: Params): Promise<{ req: CallRequest; overrides: AccountOverride[] }> {
    arity(p, 1, 3, '[transaction, block?, stateOverrides?]');
    const req = parseCallRequest(p[0], this.#d.maxTxBytes);
    await this.#stateAt(parseBlockRef(p[1]));
    return { req, overrides: parseStateOverrides(p[2], this.#d.maxTxBytes) };
  }

  /**
   * `here`: a batch entry, run on this thread (ADR 0205). `deadline` (on sharedClock()): an
   * eth_estimateGas request's budget, which a call worker enforces (ADR 0288).
   */
  #simulate(
    req: Parameters<EvmStateReader['simulate']>[0],
    overrides: Parameters<EvmStateReader['simulate']>[1],
    gas: bigint,
    here = false,
    deadline?: number,
  ) {
    const head = this.#d.chain.head();
    const at = Math.floor(Date.now() / 1000);
    const sim = this.#d.simulator;
    return sim === undefined
      ? this.#d.state.simulate(req, overrides, gas, head + 1, at)
      : sim.simulate(
          req,
          overrides,
          gas,
          head + 1,
          at,
          deadline === undefined ? { here } : { here, deadline },
        );
  }

  /**
   * Lowest gas limit with which the call succeeds: one run at the cap, then a bounded binary search.
   * The wall-clock bound applies to the request, not to each of its up to 42 simulations (ADR 0288): past
   * it no further simulation starts, and a worker stops the one running.
   */
  async #estimate(
    req: Parameters<EvmStateReader['simulate']>[0],
    overrides: Parameters<EvmStateReader['simulate']>[1],
    here = false,
  ): Promise<bigint> {
    // No transaction may declare more than the block gas limit (ADR 0285): the estimate's ceiling.
    const limit = this.#d.blockGasLimit;
    const cap = req.gas === undefined || req.gas > limit ? limit : req.gas;
    const budget = this.#d.callTimeoutMs ?? 0;
    const deadline = budget > 0 ? sharedClock() + budget : undefined;
    const run = (g: bigint) => {
      if (deadline !== undefined && sharedClock() >= deadline) throw new CallTimeoutError(budget);
      return this.#simulate(req, overrides, g, here, deadline);
    };
    const first = await run(cap);
    if (!first.ok) {
      if (first.error === 'revert') throw revertError(first.returnValue);
      throw ethError(
        `gas required exceeds allowance (${cap}) or the call always fails: ${first.error ?? 'failed'}`,
      );
    }
    let lo = first.gasUsed - 1n;
    let hi = cap;
    const tryAt = async (g: bigint): Promise<boolean> => {
      try {
        return (await run(g)).ok;
      } catch (err) {
        if (err instanceof CallTimeoutError) throw err; // the request's budget is spent, not "fails at g"
        // The node is overloaded (no room for the simulation): a retryable answer, not "fails at g" —
        // read as a failure it pushed the bisection up and returned too high an estimate.
        if (err instanceof RpcError && err.code === RPC.OVERLOADED) throw err;
        return false; // below intrinsic gas
      }
    };
    if (await tryAt(first.gasUsed)) return first.gasUsed;
    for (let i = 0; i < 40 && hi - lo > 1n; i++) {
      const mid = (lo + hi) / 2n;
      if (await tryAt(mid)) hi = mid;
      else lo = mid;
    }
    return hi;
  }

  async #logs(f: LogFilter): Promise<unknown[]> {
    const d = this.#d;
    const max = d.maxBlockRange ?? 1000;
    const maxLogs = d.maxLogs ?? 10_000;
    if (f.blockHash !== undefined) {
      const b = await this.#block({ hash: f.blockHash });
      if (b === undefined) throw ethError('unknown block');
      return blockLogs(b, f);
    }
    const head = d.chain.head();
    const num = (r: BlockRef | undefined): number => {
      if (r === undefined) return head;
      if ('number' in r) return r.number;
      if ('tag' in r) return r.tag === 'earliest' ? 0 : head;
      throw invalidParams('fromBlock/toBlock cannot be block hashes; use blockHash');
    };
    const from = num(f.fromBlock);
    const asked = num(f.toBlock);
    if (from > asked) throw invalidParams(`fromBlock ${from} is after toBlock ${asked}`);
    // The bound applies to what was asked for, so an answer never depends on how far the chain has got.
    if (asked - from + 1 > max)
      throw ethError(
        `query spans ${asked - from + 1} blocks; the limit is ${max} (narrow fromBlock/toBlock)`,
      );
    const to = Math.min(asked, head);
    const out: unknown[] = [];
    for (let h = from; h <= to; h++) {
      // Most blocks hold no matching log: look at the receipts before building (decoding) the block.
      if (!(await d.chain.mayHaveLogs(h, (a, t) => logMatches(f, a, t)))) continue;
      const b = await d.chain.block(h);
      if (b === undefined) continue;
      for (const l of blockLogs(b, f)) {
        out.push(l);
        if (out.length > maxLogs)
          throw ethError(`query returned more than ${maxLogs} logs; narrow the block range or the filter`);
      }
    }
    return out;
  }

  #admit(raw: Uint8Array): Uint8Array {
    const d = this.#d;
    const dec: Decoded = d.admission.check(raw);
    const r = d.submit(raw);
    if (!r.ok) {
      switch (r.code) {
        case 'DUPLICATE':
          // Another transaction of this sender holds the nonce: Ordo keeps the first one seen (no
          // replacement by fee). geth's word for a refused replacement, not "already known", which
          // viem would report as a nonce too low.
          if (!this.#pending.has(data(dec.hash)) && r.message.includes('from this sender is already pending'))
            throw ethError(
              `replacement transaction underpriced: nonce ${dec.tx.nonce} of ${dec.fromHex} is taken by a pending transaction, and Ordo keeps the first one seen`,
            );
          throw ethError('already known');
        case 'ALREADY_COMMITTED':
          throw ethError('already known');
        case 'NONCE_TOO_LOW':
          throw ethError(`nonce too low: ${r.message}`);
        case 'NONCE_GAP_TOO_LARGE':
          throw ethError(`nonce too high: ${r.message}`);
        case 'TX_TOO_LARGE':
          throw ethError(`oversized data: ${r.message}`);
        case 'MEMPOOL_FULL':
        case 'LANE_FULL':
          throw ethError(`txpool is full: ${r.message}`, { code: r.code, retryable: true });
        case 'OVERLOADED':
        case 'SHUTTING_DOWN':
          throw new RpcError(RPC.OVERLOADED, r.message, { code: r.code, retryable: true });
        default:
          throw ethError(r.message, { code: r.code });
      }
    }
    if (this.#pending.size >= MAX_PENDING_TRACKED) {
      const oldest = this.#pending.keys().next().value;
      if (oldest !== undefined) this.#pending.delete(oldest);
    }
    // A getter: the ethereumjs object is built only if someone asks for this pending transaction.
    this.#pending.set(data(dec.hash), {
      get tx() {
        return dec.tx;
      },
      from: dec.from,
      ordoHash: r.hash,
    });
    return dec.hash;
  }

  #subscribe(p: Params, ctx: CallContext): string {
    arity(p, 1, 2, '["newHeads"] or ["logs", filter?]');
    if (ctx.notify === undefined || ctx.onClose === undefined)
      throw new RpcError(RPC.INVALID_REQUEST, 'eth_subscribe needs a WebSocket connection');
    const notify = ctx.notify;
    const kind = p[0];
    const owned = (ctx as { ethSubs?: Set<string> }).ethSubs ?? new Set<string>();
    if ((ctx as { ethSubs?: Set<string> }).ethSubs === undefined) {
      (ctx as { ethSubs?: Set<string> }).ethSubs = owned;
      ctx.onClose(() => {
        for (const id of owned) this.#subs.delete(id);
      });
    }
    for (const id of owned) if (!this.#subs.has(id)) owned.delete(id);
    if (owned.size >= (this.#d.maxSubscriptionsPerConnection ?? 100))
      throw ethError('too many subscriptions on this connection');
    const id = data(randomBytes(16));
    let fn: (b: EthBlock) => void;
    if (kind === 'newHeads') {
      arity(p, 1, 1, '["newHeads"]');
      fn = (b) => {
        const { transactions: _t, ...head } = blockJson(b, false, this.#render);
        notify('eth_subscription', { subscription: id, result: head });
      };
    } else if (kind === 'logs') {
      const f = parseLogFilter(p[1], 'filter', false);
      fn = (b) => {
        for (const l of blockLogs(b, f)) notify('eth_subscription', { subscription: id, result: l });
      };
    } else {
      throw invalidParams(`unsupported subscription ${describe(kind)}: "newHeads" and "logs" are supported`);
    }
    this.#subs.set(id, fn);
    owned.add(id);
    return id;
  }
}

function parseFilterId(v: unknown): string {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(v))
    throw invalidParams(`filter id must be a 0x-prefixed hex string, got ${describe(v)}`);
  return v.toLowerCase();
}
