/**
 * The auction methods of the JSON-RPC API (issue #23, docs/rpc.md "Auction", docs/auction.md "Client
 * API"): the searchers' side of the sealed-bid top-of-block auction.
 *
 *   submissions  ordo_submitAuctionTx (raw proto AuctionTx), ordo_sendBidCommit, ordo_sendBidReveal,
 *                ordo_deposit, ordo_withdraw
 *   reads        ordo_getAuctionInfo, ordo_getAuction [height], ordo_getAccount [pubkey]
 *   WebSocket    ordo_subscribe ["auction"] (wired from methods.ts through `subscribeAuction`)
 *
 * A submission is parsed here (hex, sizes, integers; -32602 naming the bad field), built into an
 * `AuctionTx`, checked by the auction's read view at the current head (`AuctionReadView.check`; an
 * `AuctionError` becomes -32001 with its code in `data.code`), encoded, and handed to the node's one
 * ingress as an ordinary transaction in the reserved `AUCTION_NAMESPACE`: its Ordo tx hash is the answer,
 * so `ordo_getTransactionStatus` follows it like any other. Reads render the view: bytes as 0x hex,
 * amounts (bigint) as decimal strings. Without an auction (`auction` absent or disabled in genesis) the
 * submissions answer -32001 `AUCTION_DISABLED` and the reads say `enabled: false`.
 */

import type { AuctionReadView, AuctionSlotView } from '../auction/index.ts';
import { AUCTION_NAMESPACE, decodeAuctionTx, encodeAuctionTx, LIMITS, txHash } from '../codec/index.ts';
import type { Genesis } from '../config/index.ts';
import { fromHex } from '../crypto/index.ts';
import { isOrdoError } from '../errors.ts';
import type { Ingress, IngressResult } from '../ingress/index.ts';
import type { AuctionTx } from '../types.ts';
import { parseBundle } from './bundles.ts';
import { invalidParams, RPC, RpcError } from './errors.ts';
import { hex } from './json.ts';
import type { CallContext, RpcServer } from './server.ts';

export interface AuctionRpcDeps {
  genesis: Genesis;
  ingress: Pick<Ingress, 'submitTransaction' | 'maxTxBytes'>;
  /** The auction's read side; absent = this node runs no auction (disabled in genesis). */
  auction?: AuctionReadView;
  /** The one mapping of ingress refusals to JSON-RPC errors (methods.ts `rpcErrorOf`, handed in). */
  ingressError: (r: Extract<IngressResult, { ok: false }>) => RpcError;
  /**
   * Whether the transaction of this Ordo hash is committed: a resubmission that the auction state now
   * refuses because it was applied (its nonce used, its commit included) answers the same hash with
   * `duplicate: true`, as docs/rpc.md "Auction" promises. Absent: never.
   */
  included?: (hash: Uint8Array) => boolean | Promise<boolean>;
}

/** Every auction method name (docs, fuzz targets). */
export const AUCTION_METHODS = [
  'ordo_submitAuctionTx',
  'ordo_sendBidCommit',
  'ordo_sendBidReveal',
  'ordo_deposit',
  'ordo_withdraw',
  'ordo_getAuctionInfo',
  'ordo_getAuction',
  'ordo_getAccount',
] as const;

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** 0x hex of exactly `size` bytes (checked on the string, before decoding). */
function bytesField(v: unknown, field: string, size: number): Uint8Array {
  if (typeof v !== 'string' || v.length !== 2 + 2 * size || !/^0x[0-9a-fA-F]*$/.test(v))
    throw invalidParams(`${field} must be a 0x-prefixed ${size}-byte hex string`, { field });
  return fromHex(v);
}

function intField(v: unknown, field: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    throw invalidParams(`${field} must be an integer >= ${min} (at most 2^53 - 1)`, { field });
  return v;
}

/** An amount: a decimal string or a safe integer, > 0 and at most 2^53 - 1 (it travels as a safe integer). */
export function amountField(v: unknown, field = 'amount'): number {
  let n: number | undefined;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^[0-9]{1,16}$/.test(v)) n = Number(v);
  if (n === undefined || !Number.isSafeInteger(n) || n <= 0)
    throw invalidParams(`${field} must be a positive integer (decimal string or number) at most 2^53 - 1`, {
      field,
    });
  return n;
}

function objectParam(params: unknown[], shape: string): Record<string, unknown> {
  const p = params[0];
  if (!isObj(p)) throw invalidParams(`expected [${shape}]`);
  return p;
}

/** Parse `ordo_sendBidCommit`'s object. */
export function parseCommit(p: Record<string, unknown>): AuctionTx {
  return {
    kind: 'commit',
    commit: {
      slot: intField(p.slot, 'slot', 1),
      bidder: bytesField(p.bidder, 'bidder', 32),
      commitment: bytesField(p.commitment, 'commitment', 32),
      signature: bytesField(p.signature, 'signature', 64),
    },
  };
}

/** Parse `ordo_sendBidReveal`'s object; the bundle is `ordo_sendBundle`'s object (errors say `bundle.…`). */
export function parseReveal(p: Record<string, unknown>, genesis: Genesis, maxTxBytes: number): AuctionTx {
  const slot = intField(p.slot, 'slot', 1);
  const bidder = bytesField(p.bidder, 'bidder', 32);
  const amount = amountField(p.amount);
  let bundle: ReturnType<typeof parseBundle>;
  try {
    bundle = parseBundle(p.bundle, genesis, Math.max(maxTxBytes, 1));
  } catch (err) {
    if (err instanceof RpcError && err.code === RPC.INVALID_PARAMS) {
      const rest = err.message.replace(/^invalid params: /, '');
      throw new RpcError(RPC.INVALID_PARAMS, `invalid params: bundle: ${rest}`, {
        field: 'bundle',
        ...(isObj(err.data) ? err.data : {}),
      });
    }
    throw err;
  }
  return {
    kind: 'reveal',
    reveal: {
      slot,
      bidder,
      amount,
      bundle,
      salt: bytesField(p.salt, 'salt', 32),
      signature: bytesField(p.signature, 'signature', 64),
    },
  };
}

/** Parse `ordo_deposit` / `ordo_withdraw`'s object. */
export function parseMove(kind: 'deposit' | 'withdraw', p: Record<string, unknown>): AuctionTx {
  const move = {
    account: bytesField(p.account, 'account', 32),
    amount: amountField(p.amount),
    nonce: intField(p.nonce, 'nonce', 0),
    signature: bytesField(p.signature, 'signature', 64),
  };
  return kind === 'deposit' ? { kind, deposit: move } : { kind, withdraw: move };
}

function disabled(): RpcError {
  return new RpcError(RPC.TX_REJECTED, 'the auction is not enabled on this network (genesis.auction)', {
    code: 'AUCTION_DISABLED',
    retryable: false,
  });
}

/** The auction's view when it is enabled, else undefined. */
function enabledView(d: AuctionRpcDeps): AuctionReadView | undefined {
  const a = d.auction;
  return a?.info().enabled ? a : undefined;
}

/** A submission's answer: the Ordo hash of the auction transaction. */
type Submitted = { txHash: string; duplicate?: true };

/**
 * Check an auction transaction at the head, encode it and hand it to the ingress in AUCTION_NAMESPACE.
 * `payload` is given when the client sent the encoded bytes (submitted as sent).
 */
export function submitAuctionTx(
  d: AuctionRpcDeps,
  tx: AuctionTx,
  payload?: Uint8Array,
): Submitted | Promise<Submitted> {
  const view = enabledView(d);
  if (view === undefined) throw disabled();
  const bytes = payload ?? encodeAuctionTx(tx);
  try {
    view.check(tx);
  } catch (err) {
    if (!isOrdoError(err)) throw err;
    const refusal = new RpcError(RPC.TX_REJECTED, err.message, {
      ...err.data,
      code: err.code,
      retryable: false,
    });
    const included = d.included;
    if (included === undefined) throw refusal;
    // The state refuses what it has already applied (a used nonce, an included commit): a client
    // retrying after a lost answer learns the hash, as for any transaction.
    const hash = txHash({ namespace: AUCTION_NAMESPACE, payload: bytes });
    return Promise.resolve(included(hash)).then((yes): Submitted => {
      if (yes) return { txHash: hex(hash), duplicate: true };
      throw refusal;
    });
  }
  if (bytes.byteLength > LIMITS.maxAuctionTxBytes)
    throw invalidParams(
      `the auction transaction is ${bytes.byteLength} bytes; the limit is ${LIMITS.maxAuctionTxBytes} (a bid's bundle must fit)`,
      { code: 'TX_TOO_LARGE' },
    );
  const r = d.ingress.submitTransaction({ namespace: AUCTION_NAMESPACE, payload: bytes }, 'jsonrpc');
  if (r.ok) return { txHash: hex(r.hash) };
  if ((r.code === 'DUPLICATE' || r.code === 'ALREADY_COMMITTED') && r.hash !== undefined)
    return { txHash: hex(r.hash), duplicate: true };
  throw d.ingressError(r);
}

/** `ordo_getAuctionInfo`'s answer. */
export function auctionInfoJson(view: AuctionReadView | undefined): Record<string, unknown> {
  const i = view?.info();
  if (i === undefined || !i.enabled) return { enabled: false };
  const namespaces = [...new Set([...i.reserves.keys(), ...i.treasuries.keys()])].sort((a, b) => a - b);
  return {
    enabled: true,
    params: {
      commitOffset: i.params.commitOffset,
      commitHorizon: i.params.commitHorizon,
      revealOffset: i.params.revealOffset,
      maxBidsPerBidder: i.params.maxBidsPerBidder,
      withdrawDelay: i.params.withdrawDelay,
      forfeitFee: i.params.forfeitFee.toString(),
      maxTopBytes: i.params.maxTopBytes,
      maxTopTxs: i.params.maxTopTxs,
      maxSimGas: i.params.maxSimGas,
      failPenaltyBps: i.params.failPenaltyBps,
      bidderSimShareBps: i.params.bidderSimShareBps,
    },
    rollups: namespaces.map((ns) => {
      const t = i.treasuries.get(ns);
      return {
        namespace: ns,
        reservePrice: (i.reserves.get(ns) ?? 0n).toString(),
        ...(t !== undefined ? { treasury: hex(t) } : {}),
      };
    }),
    depositAuthority: hex(i.depositAuthority),
    forfeitSink: hex(i.forfeitSink),
    nextDepositNonce: i.nextDepositNonce,
    appliedHeight: i.appliedHeight,
  };
}

/** `ordo_getAuction`'s answer for a known slot (also the `auction` subscription's notification). */
export function auctionSlotJson(s: AuctionSlotView): Record<string, unknown> {
  let total = 0n;
  for (const w of s.winners) total += w.proceeds;
  let penalties = 0n;
  for (const b of s.bids) penalties += b.penalty ?? 0n;
  return {
    height: s.height,
    enabled: true,
    resolved: s.resolved,
    commits: s.commits,
    reveals: s.reveals,
    forfeited: s.forfeited,
    ...(s.auctionHash !== undefined ? { auctionHash: hex(s.auctionHash) } : {}),
    bids: s.bids.map((b) => ({
      bidder: hex(b.bidder),
      amount: b.amount.toString(),
      namespaces: b.namespaces,
      bundleHash: hex(b.bundleHash),
      commitment: hex(b.commitment),
      commitHeight: b.commitHeight,
      revealHeight: b.revealHeight,
      valid: b.invalid === undefined,
      ...(b.invalid !== undefined ? { reason: b.invalid } : {}),
      ...(b.penalty !== undefined ? { penalty: b.penalty.toString() } : {}),
    })),
    winners: s.winners.map((w) => ({
      namespace: w.namespace,
      bidder: hex(w.bidder),
      commitment: hex(w.commitment),
      bundleHash: hex(w.bundleHash),
      price: w.price.toString(),
      proceeds: w.proceeds.toString(),
      treasury: hex(w.treasury),
    })),
    totalProceeds: total.toString(),
    totalPenalties: penalties.toString(),
  };
}

export function registerAuctionMethods(rpc: Pick<RpcServer, 'register'>, d: AuctionRpcDeps): void {
  rpc.register('ordo_submitAuctionTx', (params) => {
    const v = params[0];
    const bad = 'expected ["0x<AuctionTx bytes>"]: a 0x-prefixed hex string with an even number of digits';
    if (typeof v !== 'string' || !v.startsWith('0x') || v.length % 2 !== 0) throw invalidParams(bad);
    // Size before decoding: an oversized string is refused without touching its digits.
    const n = (v.length - 2) / 2;
    if (n > LIMITS.maxAuctionTxBytes)
      throw invalidParams(`the auction transaction is ${n} bytes; the limit is ${LIMITS.maxAuctionTxBytes}`, {
        code: 'TX_TOO_LARGE',
      });
    if (!/^0x[0-9a-fA-F]*$/.test(v)) throw invalidParams(bad);
    const bytes = fromHex(v);
    let tx: AuctionTx;
    try {
      tx = decodeAuctionTx(bytes);
    } catch (err) {
      if (isOrdoError(err))
        throw invalidParams(`not an AuctionTx: ${err.message}`, { ...err.data, code: err.code });
      throw err;
    }
    return submitAuctionTx(d, tx, bytes);
  });

  rpc.register('ordo_sendBidCommit', (params) =>
    submitAuctionTx(d, parseCommit(objectParam(params, '{slot, bidder, commitment, signature}'))),
  );

  rpc.register('ordo_sendBidReveal', (params) =>
    submitAuctionTx(
      d,
      parseReveal(
        objectParam(params, '{slot, bidder, amount, bundle, salt, signature}'),
        d.genesis,
        d.ingress.maxTxBytes,
      ),
    ),
  );

  rpc.register('ordo_deposit', (params) =>
    submitAuctionTx(d, parseMove('deposit', objectParam(params, '{account, amount, nonce, signature}'))),
  );

  rpc.register('ordo_withdraw', (params) =>
    submitAuctionTx(d, parseMove('withdraw', objectParam(params, '{account, amount, nonce, signature}'))),
  );

  rpc.register('ordo_getAuctionInfo', () => auctionInfoJson(d.auction));

  rpc.register('ordo_getAuction', (params) => {
    const height = intField(params[0], 'height', 1);
    const view = enabledView(d);
    if (view === undefined) return { height, enabled: false };
    const s = view.slot(height);
    return s === undefined ? null : auctionSlotJson(s);
  });

  rpc.register('ordo_getAccount', (params) => {
    const account = bytesField(params[0], 'account', 32);
    const view = enabledView(d);
    if (view === undefined) throw disabled();
    const a = view.account(account);
    return {
      account: hex(a.account),
      available: a.available.toString(),
      locked: a.locked.toString(),
      pendingWithdrawal: a.pendingWithdrawal.toString(),
      withdrawNonce: a.withdrawNonce,
      known: a.known,
    };
  });
}

/**
 * `ordo_subscribe ["auction"]` (WebSocket only): one notification per applied height, carrying the
 * `ordo_getAuction` object of that height (slots the view no longer holds are skipped).
 */
export function subscribeAuction(d: AuctionRpcDeps, ctx: CallContext): string {
  const subs = ctx.subscriptions;
  if (ctx.notify === undefined || subs === undefined)
    throw new RpcError(RPC.INVALID_REQUEST, 'subscriptions need a WebSocket connection');
  const view = enabledView(d);
  if (view === undefined) throw disabled();
  const notify = ctx.notify;
  let id = '';
  const unsubscribe = view.onApplied((height) => {
    const s = view.slot(height);
    if (s !== undefined) notify('ordo_subscription', { subscription: id, result: auctionSlotJson(s) });
  });
  id = subs.add(unsubscribe);
  return id;
}
