/**
 * The `ordo_*` JSON-RPC methods, registered on an RpcServer by the node. Each validates its positional
 * params and answers with a clear -32602 when they are wrong. Submissions are only decoded here (JSON →
 * `TxEnvelope`, size-checked first) and then go through the node's one ingress, whose error codes map
 * to JSON-RPC errors in `rpcErrorOf`. See docs/rpc.md for the reference.
 */
import type { AuctionReadView } from '../auction/index.ts';
import type { Genesis } from '../config/index.ts';
import type { ConsensusEngine } from '../consensus/index.ts';
import { fromHex } from '../crypto/index.ts';
import type { Ingress, IngressResult } from '../ingress/index.ts';
import type { BundleSimulator, BundleStatusView, Mempool, TxStatus } from '../mempool/index.ts';
import type { BlockStore } from '../store/index.ts';
import { registerAuctionMethods, subscribeAuction } from './auction.ts';
import { bundleStatusJson, registerBundleMethods } from './bundles.ts';
import { invalidParams, RPC, RpcError, toRpcError } from './errors.ts';
import { blockJson, evidenceJson, hex } from './json.ts';
import type { RpcServer } from './server.ts';
import { TX_BATCH_PATH, txBatchHandler } from './tx-batch.ts';

export interface RpcDeps {
  genesis: Genesis;
  nodeId: string;
  moniker: string;
  mempool: Mempool;
  store: BlockStore;
  consensus: ConsensusEngine;
  peers: () => string[];
  /** The one door for submissions (check, admit, gossip); origin `jsonrpc`. */
  ingress: Ingress;
  /** Most transactions one `ordo_submitTransactions` call may carry. */
  maxSubmitBatch: number;
  /** Subscribe to committed heights (WebSocket `ordo_subscribe ["newHeads"]`); returns an unsubscribe. */
  onCommit?: (listener: (height: number) => void) => () => void;
  /** The bundle pool's statuses (`ordo_getBundleStatus`, `ordo_subscribe ["bundleStatus", hash]`). */
  bundles?: BundleStatusView;
  /** The executor's bundle simulator (`ordo_callBundle`). */
  bundleSimulator?: BundleSimulator;
  /** The auction's read side (`ordo_getAuction*`, `ordo_getAccount`, bid submissions); absent = disabled. */
  auction?: AuctionReadView;
  /**
   * A transfer rollup's account in executed state (`ordo_getTransferAccount`); undefined when the
   * namespace is not a transfer rollup.
   */
  transferAccount?: (
    namespace: number,
    publicKey: Uint8Array,
  ) => { balance: bigint; nonce: bigint; height: number } | undefined;
}

function parseHash(v: unknown, what = 'hash'): Uint8Array {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(v))
    throw invalidParams(`${what} must be a 0x-prefixed 32-byte hex string`);
  return fromHex(v);
}

export function statusJson(s: TxStatus): Record<string, unknown> {
  return { ...s };
}

export function registerMethods(rpc: RpcServer, d: RpcDeps): void {
  const auctionDeps = {
    genesis: d.genesis,
    ingress: d.ingress,
    ingressError: rpcErrorOf,
    ...(d.auction ? { auction: d.auction } : {}),
    // Committed only: a pending copy the state now refuses (its window passed) is answered with the
    // refusal, which says why that copy will not be included either.
    included: async (hash: Uint8Array) =>
      d.mempool.status(hash).status === 'committed' || (await d.store.getTxLocation(hash)) !== undefined,
  };
  /** Decode one `{namespace, data}` submission and pass it to the ingress; throws an RpcError saying why not. */
  const submit = (p: unknown): { hash: Uint8Array; duplicate?: true } => {
    if (p === null || typeof p !== 'object' || Array.isArray(p)) {
      throw invalidParams('expected {namespace: number, data: "0x…"}');
    }
    const { namespace, data } = p as { namespace?: unknown; data?: unknown };
    if (typeof namespace !== 'number') throw invalidParams('namespace must be an integer in 1..4294967295');
    const badHex = 'data must be a 0x-prefixed hex string with an even number of digits';
    if (typeof data !== 'string' || !data.startsWith('0x') || data.length % 2 !== 0) {
      throw invalidParams(badHex);
    }
    // Size before decoding: an oversized string is refused without touching its digits.
    const max = d.ingress.maxTxBytes;
    if ((data.length - 2) / 2 > max) {
      throw invalidParams(`transaction is ${(data.length - 2) / 2} bytes; the limit is ${max}`, {
        code: 'TX_TOO_LARGE',
      });
    }
    let payload: Uint8Array;
    try {
      payload = fromHex(data);
    } catch {
      throw invalidParams(badHex);
    }
    const r = d.ingress.submitTransaction({ namespace, payload }, 'jsonrpc');
    if (r.ok) return { hash: r.hash };
    if ((r.code === 'DUPLICATE' || r.code === 'ALREADY_COMMITTED') && r.hash !== undefined)
      return { hash: r.hash, duplicate: true };
    throw rpcErrorOf(r);
  };

  rpc.register('ordo_submitTransaction', (params) => {
    if (params[0] === null || typeof params[0] !== 'object' || Array.isArray(params[0])) {
      throw invalidParams('expected [{namespace: number, data: "0x…"}]');
    }
    const r = submit(params[0]);
    return r.duplicate ? { hash: hex(r.hash), duplicate: true } : { hash: hex(r.hash) };
  });

  // Many transactions in one call: one request to parse and one answer to write instead of a JSON-RPC
  // batch's envelope, dispatch and result object per transaction. Each transaction is admitted on its
  // own (one refusal does not fail the others); the answer lists refusals by index.
  rpc.register('ordo_submitTransactions', (params) => {
    const list = params[0];
    if (!Array.isArray(list)) throw invalidParams('expected [[{namespace, data}, …], {hashes?: boolean}]');
    if (list.length === 0) throw invalidParams('no transactions');
    if (list.length > d.maxSubmitBatch) {
      throw invalidParams(`${list.length} transactions in one call; the limit is ${d.maxSubmitBatch}`);
    }
    const opts = params[1] ?? {};
    if (opts === null || typeof opts !== 'object' || Array.isArray(opts))
      throw invalidParams('the second param must be an object {hashes?: boolean}');
    const withHashes = (opts as { hashes?: unknown }).hashes ?? true;
    if (typeof withHashes !== 'boolean') throw invalidParams('hashes must be a boolean');
    const hashes: (string | null)[] = [];
    const duplicates: number[] = [];
    const rejected: { index: number; code: string; rpcCode: number; message: string; retryable: boolean }[] =
      [];
    let accepted = 0;
    for (let i = 0; i < list.length; i++) {
      try {
        const r = submit(list[i]);
        accepted++;
        if (r.duplicate) duplicates.push(i);
        if (withHashes) hashes.push(hex(r.hash));
      } catch (err) {
        const e = toRpcError(err);
        const data = e.data as { code?: string; retryable?: boolean } | undefined;
        rejected.push({
          index: i,
          code: data?.code ?? (e.code === RPC.INVALID_PARAMS ? 'INVALID_PARAMS' : 'REJECTED'),
          rpcCode: e.code,
          message: e.message,
          retryable: data?.retryable === true,
        });
        if (withHashes) hashes.push(null);
      }
    }
    return { accepted, duplicates, rejected, ...(withHashes ? { hashes } : {}) };
  });

  // The binary batch path for high-rate clients (protobuf TxBatch in, same answer as above): src/rpc/tx-batch.ts.
  rpc.postBinary(TX_BATCH_PATH, txBatchHandler(d.ingress, d.maxSubmitBatch));

  rpc.register('ordo_getTransactionStatus', async (params) => {
    const hash = parseHash(params[0]);
    const s = d.mempool.status(hash);
    if (s.status !== 'unknown') return statusJson(s);
    const loc = await d.store.getTxLocation(hash);
    if (loc !== undefined) return { status: 'committed', height: loc.height, index: loc.index };
    return { status: 'unknown' };
  });

  rpc.register('ordo_getBlock', async (params) => {
    const p = params[0] ?? 'latest';
    let height: number;
    if (p === 'latest') height = d.store.height();
    else if (typeof p === 'number' && Number.isSafeInteger(p) && p >= 1) height = p;
    else throw invalidParams('height must be a positive integer or "latest"');
    const withData = params[1] ?? true;
    if (typeof withData !== 'boolean')
      throw invalidParams('the second param (include transaction data) must be a boolean');
    if (height === 0) return null;
    const block = await d.store.getBlock(height);
    if (block === undefined) return null;
    const cert = await d.store.getCertificate(height);
    return blockJson(block, cert, withData);
  });

  rpc.register('ordo_status', () => {
    const c = d.consensus.status();
    return {
      chainId: d.genesis.chainId,
      nodeId: d.nodeId,
      moniker: d.moniker,
      height: d.store.height(),
      round: c.round,
      step: c.step,
      validators: d.genesis.validators.map((v) => ({
        name: v.name,
        publicKey: `0x${v.publicKey}`,
        votingPower: v.votingPower,
      })),
      peers: d.peers().length,
      mempool: d.mempool.stats(),
      rollups: d.genesis.rollups.map((r) => ({
        namespace: r.namespace,
        name: r.name,
        kind: r.kind,
        // EVM rollups: their Ethereum JSON-RPC path on this port (src/eth-rpc) and chain id.
        ...(r.kind === 'evm' ? { ethRpc: `/evm/${r.namespace}`, evmChainId: r.evmChainId } : {}),
      })),
    };
  });

  // A transfer rollup's account (balance and next nonce) in the latest executed state (docs/rpc.md).
  rpc.register('ordo_getTransferAccount', (params) => {
    const ns = params[0];
    if (typeof ns !== 'number' || !Number.isInteger(ns) || ns < 1 || ns > 0xffffffff)
      throw invalidParams('namespace must be an integer in 1..4294967295');
    const pk = params[1];
    if (typeof pk !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(pk))
      throw invalidParams('account must be a 0x-prefixed 32-byte ed25519 public key');
    const a = d.transferAccount?.(ns, fromHex(pk));
    if (a === undefined) throw invalidParams(`namespace ${ns} is not a transfer rollup`);
    return { balance: a.balance.toString(), nonce: a.nonce.toString(), height: a.height };
  });

  rpc.register('ordo_getEvidence', async () => (await d.consensus.evidence()).map(evidenceJson));

  // Subscriptions (WebSocket only): each gets a unique id, capped per connection by the server
  // (rpc.maxSubscriptionsPerConnection), cancelled by `ordo_unsubscribe [id]` or when the socket closes.
  rpc.register('ordo_subscribe', (params, ctx) => {
    // Over HTTP every subscription is -32600, whatever its params (docs/rpc.md).
    if (ctx.notify === undefined || ctx.subscriptions === undefined)
      throw new RpcError(RPC.INVALID_REQUEST, 'subscriptions need a WebSocket connection');
    if (params[0] === 'bundleStatus') return subscribeBundle(params, ctx);
    if (params[0] === 'auction') return subscribeAuction(auctionDeps, ctx);
    if (params[0] !== 'newHeads')
      throw invalidParams('subscriptions are "newHeads", "bundleStatus" and "auction"');
    const subs = ctx.subscriptions;
    if (ctx.notify === undefined || subs === undefined || d.onCommit === undefined) {
      throw new RpcError(RPC.INVALID_REQUEST, 'subscriptions need a WebSocket connection');
    }
    const notify = ctx.notify;
    let id = '';
    const unsubscribe = d.onCommit((height) => {
      notify('ordo_subscription', { subscription: id, result: { height } });
    });
    id = subs.add(unsubscribe);
    return id;
  });

  /** `ordo_subscribe ["bundleStatus", bundleHash]`: one notification per change of that bundle's status. */
  const subscribeBundle = (
    params: unknown[],
    ctx: Parameters<Parameters<RpcServer['register']>[1]>[1],
  ): string => {
    const hash = parseHash(params[1], 'bundleHash');
    const subs = ctx.subscriptions;
    if (ctx.notify === undefined || subs === undefined || d.bundles === undefined) {
      throw new RpcError(
        RPC.INVALID_REQUEST,
        'bundle subscriptions need a WebSocket connection and a bundle pool',
      );
    }
    const notify = ctx.notify;
    let id = '';
    const unsubscribe = d.bundles.subscribe(hash, (st) => {
      notify('ordo_subscription', { subscription: id, result: bundleStatusJson(st) });
    });
    id = subs.add(unsubscribe);
    return id;
  };

  registerBundleMethods(rpc, {
    genesis: d.genesis,
    ingress: d.ingress,
    ...(d.bundles ? { bundles: d.bundles } : {}),
    ...(d.bundleSimulator ? { simulator: d.bundleSimulator } : {}),
  });

  registerAuctionMethods(rpc, auctionDeps);

  rpc.register('ordo_unsubscribe', (params, ctx) => {
    if (ctx.subscriptions === undefined) {
      throw new RpcError(RPC.INVALID_REQUEST, 'subscriptions need a WebSocket connection');
    }
    if (typeof params[0] !== 'string') throw invalidParams('expected [subscriptionId]');
    return ctx.subscriptions.remove(params[0]);
  });
}

/** The one mapping from ingress error codes to JSON-RPC errors (docs/rpc.md, "Errors"). */
export function rpcErrorOf(r: Extract<IngressResult, { ok: false }>): RpcError {
  const data = { code: r.code, retryable: r.retryable, ...(r.retryable ? { retryAfterMs: 200 } : {}) };
  switch (r.code) {
    case 'INVALID_NAMESPACE':
    case 'UNKNOWN_NAMESPACE':
    case 'EMPTY_TX':
    case 'TX_TOO_LARGE':
      return invalidParams(r.message, data);
    case 'OVERLOADED':
    case 'SHUTTING_DOWN':
      return new RpcError(RPC.OVERLOADED, r.message, data);
    case 'MEMPOOL_FULL':
    case 'LANE_FULL':
      return new RpcError(RPC.MEMPOOL_FULL, r.message, data);
    default:
      return new RpcError(RPC.TX_REJECTED, r.message, data);
  }
}
