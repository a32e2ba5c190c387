/**
 * The auction JSON-RPC methods (src/rpc/auction.ts) over a fake AuctionReadView and a fake ingress:
 * exact answer shapes, -32602 naming the field for every bad input shape, the view's AuctionError as
 * -32001 with data.code, ingress refusals, AUCTION_DISABLED, and the payload reaching the ingress in
 * AUCTION_NAMESPACE as the encoded AuctionTx.
 */
import { describe, expect, it } from 'vitest';
import {
  AuctionError,
  type AuctionReadView,
  type AuctionSlotView,
  auctionParams,
  signBid,
  signDeposit,
  signWithdraw,
} from '../../src/auction/index.ts';
import {
  AUCTION_NAMESPACE,
  bundleHash,
  canonicalBundle,
  decodeAuctionTx,
  encodeAuctionTx,
  txHash,
  unsignedBundle,
} from '../../src/codec/index.ts';
import { demoRollups, type Genesis } from '../../src/config/index.ts';
import { publicKeyFromSeed, sha256, toHex } from '../../src/crypto/index.ts';
import type { IngressResult } from '../../src/ingress/index.ts';
import { registerAuctionMethods, subscribeAuction } from '../../src/rpc/auction.ts';
import { RpcError } from '../../src/rpc/index.ts';
import { rpcErrorOf } from '../../src/rpc/methods.ts';
import type { AuctionTx, Bundle, TxEnvelope } from '../../src/types.ts';

const CHAIN = 'auc-test';
const genesis = { chainId: CHAIN, rollups: demoRollups() } as unknown as Genesis;
const seed = sha256(new TextEncoder().encode('bidder-0'));
const bidder = publicKeyFromSeed(seed);
const hx = (b: Uint8Array) => `0x${toHex(b)}`;
type Handler = (params: unknown[], ctx?: unknown) => unknown;

function fakeView(opts: { enabled?: boolean; refuse?: AuctionError; slots?: AuctionSlotView[] } = {}) {
  const checked: AuctionTx[] = [];
  const listeners = new Set<(h: number) => void>();
  const view: AuctionReadView = {
    info: () => ({
      enabled: opts.enabled ?? true,
      params: auctionParams(),
      reserves: new Map([[2, 500n]]),
      treasuries: new Map([
        [2, new Uint8Array(32).fill(2)],
        [3, new Uint8Array(32).fill(3)],
      ]),
      depositAuthority: new Uint8Array(32).fill(9),
      forfeitSink: new Uint8Array(32).fill(8),
      nextDepositNonce: 4,
      appliedHeight: 41,
    }),
    slot: (h) => opts.slots?.find((s) => s.height === h),
    account: (a) => ({
      account: a,
      available: 2n ** 60n,
      locked: 1000n,
      pendingWithdrawal: 0n,
      withdrawNonce: 3,
      known: true,
    }),
    check: (tx) => {
      checked.push(tx);
      if (opts.refuse) throw opts.refuse;
    },
    onApplied: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  return { view, checked, listeners };
}

function setup(
  o: {
    enabled?: boolean;
    refuse?: AuctionError;
    slots?: AuctionSlotView[];
    ingress?: Extract<IngressResult, { ok: false }>;
    noAuction?: boolean;
    /** Hashes (hex) of committed transactions. */
    included?: Set<string>;
  } = {},
) {
  const handlers = new Map<string, Handler>();
  const submitted: TxEnvelope[] = [];
  const f = fakeView(o);
  registerAuctionMethods({ register: (m: string, h: Handler) => handlers.set(m, h) } as never, {
    genesis,
    ingress: {
      maxTxBytes: 1000,
      submitTransaction: (tx) => {
        submitted.push(tx);
        if (o.ingress) return { ...o.ingress, hash: txHash(tx) };
        return { ok: true, hash: txHash(tx) };
      },
    },
    ingressError: rpcErrorOf,
    ...(o.noAuction ? {} : { auction: f.view }),
    ...(o.included ? { included: async (h: Uint8Array) => o.included!.has(hx(h)) } : {}),
  });
  const call = (m: string, params: unknown[]) => handlers.get(m)!(params);
  return { call, submitted, ...f, deps: { genesis, auction: f.view } };
}

function rpcErr(f: () => unknown): RpcError {
  try {
    f();
  } catch (e) {
    if (e instanceof RpcError) return e;
    throw e;
  }
  throw new Error('expected an RpcError');
}

const bundle: Bundle = canonicalBundle(
  unsignedBundle([{ namespace: 2, txs: [new Uint8Array([1, 2, 3])], revertingTxHashes: [] }]),
);
const bid = signBid(CHAIN, seed, {
  slot: 10,
  amount: 1234n,
  bundleHash: bundleHash(CHAIN, bundle),
  salt: new Uint8Array(32).fill(5),
});
const commitParams = {
  slot: 10,
  bidder: hx(bidder),
  commitment: hx(bid.commit.commitment),
  signature: hx(bid.commit.signature),
};
const revealParams = {
  slot: 10,
  bidder: hx(bidder),
  amount: '1234',
  bundle: { legs: [{ namespace: 2, txs: ['0x010203'] }] },
  salt: hx(bid.reveal.salt),
  signature: hx(bid.reveal.signature),
};
const deposit = signDeposit(CHAIN, seed, { account: bidder, amount: 5000, nonce: 4 });
const depositParams = {
  account: hx(bidder),
  amount: 5000,
  nonce: 4,
  signature: hx(deposit.signature),
};
const withdraw = signWithdraw(CHAIN, seed, { amount: 7, nonce: 3 });
const withdrawParams = { account: hx(bidder), amount: '7', nonce: 3, signature: hx(withdraw.signature) };

describe('auction RPC submissions', () => {
  it('sends a commit through the ingress in AUCTION_NAMESPACE and answers its tx hash', () => {
    const t = setup();
    const r = t.call('ordo_sendBidCommit', [commitParams]) as { txHash: string };
    expect(t.submitted).toHaveLength(1);
    const env = t.submitted[0]!;
    expect(env.namespace).toBe(AUCTION_NAMESPACE);
    expect(r).toEqual({ txHash: hx(txHash(env)) });
    expect(decodeAuctionTx(env.payload)).toEqual({ kind: 'commit', commit: bid.commit });
    expect(t.checked).toEqual([{ kind: 'commit', commit: bid.commit }]);
  });

  it('sends a reveal whose bundle is ordo_sendBundle’s object, amount as string or number', () => {
    const t = setup();
    t.call('ordo_sendBidReveal', [revealParams]);
    t.call('ordo_sendBidReveal', [{ ...revealParams, amount: 1234 }]);
    expect(t.submitted).toHaveLength(2);
    const tx = decodeAuctionTx(t.submitted[0]!.payload);
    expect(tx.kind).toBe('reveal');
    if (tx.kind !== 'reveal') return;
    expect(tx.reveal.amount).toBe(1234);
    expect(bundleHash(CHAIN, tx.reveal.bundle)).toEqual(bid.reveal.bundleHash);
    expect(tx.reveal.signature).toEqual(bid.reveal.signature);
    expect(t.submitted[1]!.payload).toEqual(t.submitted[0]!.payload);
  });

  it('sends deposits and withdrawals', () => {
    const t = setup();
    t.call('ordo_deposit', [depositParams]);
    t.call('ordo_withdraw', [withdrawParams]);
    expect(decodeAuctionTx(t.submitted[0]!.payload)).toEqual({ kind: 'deposit', deposit });
    expect(decodeAuctionTx(t.submitted[1]!.payload)).toEqual({ kind: 'withdraw', withdraw });
  });

  it('submits raw AuctionTx bytes as sent', () => {
    const t = setup();
    const bytes = encodeAuctionTx({ kind: 'deposit', deposit });
    const r = t.call('ordo_submitAuctionTx', [hx(bytes)]);
    expect(Buffer.from(t.submitted[0]!.payload).equals(Buffer.from(bytes))).toBe(true);
    expect(r).toEqual({ txHash: hx(txHash({ namespace: AUCTION_NAMESPACE, payload: bytes })) });
  });

  it('refuses raw bytes that are not hex, not an AuctionTx, or too large with -32602', () => {
    const t = setup();
    for (const bad of [undefined, 7, '0x1', 'abcd', '0xzz', null]) {
      expect(rpcErr(() => t.call('ordo_submitAuctionTx', [bad])).code).toBe(-32602);
    }
    const notTx = rpcErr(() => t.call('ordo_submitAuctionTx', ['0x']));
    expect(notTx.code).toBe(-32602);
    expect(notTx.message).toContain('AuctionTx');
    expect((notTx.data as { code: string }).code).toMatch(/^DECODE_/);
    const big = rpcErr(() => t.call('ordo_submitAuctionTx', [`0x${'00'.repeat(128 * 1024 + 1)}`]));
    expect(big.code).toBe(-32602);
    expect((big.data as { code: string }).code).toBe('TX_TOO_LARGE');
    expect(t.submitted).toHaveLength(0);
  });

  it('answers -32602 naming the field for every bad input shape', () => {
    const t = setup();
    const cases: [string, unknown[], string][] = [
      ['ordo_sendBidCommit', [], 'expected'],
      ['ordo_sendBidCommit', ['x'], 'expected'],
      ['ordo_sendBidCommit', [[commitParams]], 'expected'],
      ['ordo_sendBidCommit', [{ ...commitParams, slot: -1 }], 'slot'],
      ['ordo_sendBidCommit', [{ ...commitParams, slot: 0 }], 'slot'],
      ['ordo_sendBidCommit', [{ ...commitParams, slot: 1.5 }], 'slot'],
      ['ordo_sendBidCommit', [{ ...commitParams, slot: '10' }], 'slot'],
      ['ordo_sendBidCommit', [{ ...commitParams, bidder: '0x00' }], 'bidder'],
      ['ordo_sendBidCommit', [{ ...commitParams, bidder: undefined }], 'bidder'],
      ['ordo_sendBidCommit', [{ ...commitParams, commitment: `0x${'g'.repeat(64)}` }], 'commitment'],
      ['ordo_sendBidCommit', [{ ...commitParams, signature: hx(new Uint8Array(63)) }], 'signature'],
      ['ordo_sendBidReveal', [{ ...revealParams, amount: 0 }], 'amount'],
      ['ordo_sendBidReveal', [{ ...revealParams, amount: '-5' }], 'amount'],
      ['ordo_sendBidReveal', [{ ...revealParams, amount: '1e3' }], 'amount'],
      ['ordo_sendBidReveal', [{ ...revealParams, amount: 2 ** 53 }], 'amount'],
      ['ordo_sendBidReveal', [{ ...revealParams, amount: '99999999999999999999' }], 'amount'],
      ['ordo_sendBidReveal', [{ ...revealParams, bundle: undefined }], 'bundle'],
      ['ordo_sendBidReveal', [{ ...revealParams, bundle: { legs: [] } }], 'bundle: legs'],
      [
        'ordo_sendBidReveal',
        [{ ...revealParams, bundle: { legs: [{ namespace: 2, txs: ['0x1'] }] } }],
        'bundle: legs[0].txs[0]',
      ],
      ['ordo_sendBidReveal', [{ ...revealParams, salt: '0x00' }], 'salt'],
      ['ordo_sendBidReveal', [{ ...revealParams, slot: null }], 'slot'],
      ['ordo_deposit', [{ ...depositParams, account: 5 }], 'account'],
      ['ordo_deposit', [{ ...depositParams, nonce: -1 }], 'nonce'],
      ['ordo_deposit', [{ ...depositParams, amount: 'ten' }], 'amount'],
      ['ordo_withdraw', [{ ...withdrawParams, signature: '0x' }], 'signature'],
      ['ordo_withdraw', [null], 'expected'],
      ['ordo_getAuction', [], 'height'],
      ['ordo_getAuction', [0], 'height'],
      ['ordo_getAuction', ['latest'], 'height'],
      ['ordo_getAccount', ['0x12'], 'account'],
      ['ordo_getAccount', [], 'account'],
    ];
    for (const [m, p, field] of cases) {
      const e = rpcErr(() => t.call(m, p));
      expect(e.code, `${m} ${JSON.stringify(p).slice(0, 80)}`).toBe(-32602);
      expect(e.message, `${m} ${JSON.stringify(p).slice(0, 80)}`).toContain(field);
    }
    expect(t.submitted).toHaveLength(0);
  });

  it('answers the view’s AuctionError as -32001 with data.code and its data', () => {
    const t = setup({
      refuse: new AuctionError(
        'AUCTION_OUT_OF_WINDOW',
        'a commit for slot 10 is valid only in blocks 1..8, not 9',
        {
          slot: 10,
          height: 9,
          first: 1,
          last: 8,
        },
      ),
    });
    const e = rpcErr(() => t.call('ordo_sendBidCommit', [commitParams]));
    expect(e.code).toBe(-32001);
    expect(e.message).toContain('valid only in blocks');
    expect(e.data).toMatchObject({ code: 'AUCTION_OUT_OF_WINDOW', slot: 10, height: 9, first: 1, last: 8 });
    expect(t.submitted).toHaveLength(0);
    for (const code of [
      'AUCTION_BAD_SIGNATURE',
      'AUCTION_COMMITMENT_MISMATCH',
      'LEDGER_INSUFFICIENT_FUNDS',
    ] as const) {
      const u = setup({ refuse: new AuctionError(code, code) });
      const err = rpcErr(() => u.call('ordo_sendBidReveal', [revealParams]));
      expect([err.code, (err.data as { code: string }).code]).toEqual([-32001, code]);
    }
  });

  it('maps ingress refusals like ordo_submitTransaction and answers duplicates with their hash', () => {
    const lane = setup({ ingress: { ok: false, code: 'LANE_FULL', message: 'lane full', retryable: true } });
    const e1 = rpcErr(() => lane.call('ordo_sendBidCommit', [commitParams]));
    expect([e1.code, (e1.data as { code: string }).code]).toEqual([-32002, 'LANE_FULL']);
    const over = setup({ ingress: { ok: false, code: 'OVERLOADED', message: 'busy', retryable: true } });
    expect(rpcErr(() => over.call('ordo_deposit', [depositParams])).code).toBe(-32003);
    const dup = setup({ ingress: { ok: false, code: 'DUPLICATE', message: 'dup', retryable: false } });
    const r = dup.call('ordo_sendBidCommit', [commitParams]) as { txHash: string; duplicate: boolean };
    expect(r.duplicate).toBe(true);
    expect(r.txHash).toBe(hx(txHash(dup.submitted[0]!)));
  });

  it('answers a resubmission the state refuses as applied (used nonce, included commit) with its hash once it is committed', async () => {
    const first = setup();
    const { txHash: hash } = first.call('ordo_deposit', [depositParams]) as { txHash: string };
    const refuse = new AuctionError('AUCTION_BAD_NONCE', 'deposit nonce 0 is not usable');
    const again = setup({ refuse, included: new Set([hash]) });
    expect(await again.call('ordo_deposit', [depositParams])).toEqual({ txHash: hash, duplicate: true });
    expect(again.submitted).toHaveLength(0);
    // another transaction with the same used nonce is refused as before
    const other = setup({ refuse, included: new Set() });
    await expect(other.call('ordo_deposit', [depositParams])).rejects.toMatchObject({
      code: -32001,
      data: { code: 'AUCTION_BAD_NONCE' },
    });
  });

  it('answers AUCTION_DISABLED (-32001) without an auction or when genesis disables it', () => {
    for (const t of [setup({ noAuction: true }), setup({ enabled: false })]) {
      for (const [m, p] of [
        ['ordo_sendBidCommit', commitParams],
        ['ordo_sendBidReveal', revealParams],
        ['ordo_deposit', depositParams],
        ['ordo_withdraw', withdrawParams],
      ] as const) {
        const e = rpcErr(() => t.call(m, [p]));
        expect([e.code, (e.data as { code: string }).code]).toEqual([-32001, 'AUCTION_DISABLED']);
      }
      const e = rpcErr(() => t.call('ordo_getAccount', [hx(bidder)]));
      expect((e.data as { code: string }).code).toBe('AUCTION_DISABLED');
      expect(t.call('ordo_getAuctionInfo', [])).toEqual({ enabled: false });
      expect(t.call('ordo_getAuction', [5])).toEqual({ height: 5, enabled: false });
      expect(t.submitted).toHaveLength(0);
    }
  });
});

describe('auction RPC reads', () => {
  const slot: AuctionSlotView = {
    height: 12,
    resolved: true,
    commits: 3,
    reveals: 2,
    forfeited: 1,
    auctionHash: new Uint8Array(32).fill(0xaa),
    bids: [
      {
        bidder,
        amount: 1234n,
        namespaces: [2],
        bundleHash: new Uint8Array(32).fill(1),
        commitment: new Uint8Array(32).fill(4),
        commitHeight: 9,
        revealHeight: 11,
      },
      {
        bidder: new Uint8Array(32).fill(6),
        amount: 2n ** 64n - 1n,
        namespaces: [2, 3],
        bundleHash: new Uint8Array(32).fill(7),
        commitment: new Uint8Array(32).fill(8),
        commitHeight: 10,
        revealHeight: 11,
        invalid: 'ABOVE_DEPOSIT',
      },
      {
        bidder: new Uint8Array(32).fill(5),
        amount: 3000n,
        namespaces: [2],
        bundleHash: new Uint8Array(32).fill(10),
        commitment: new Uint8Array(32).fill(11),
        commitHeight: 10,
        revealHeight: 11,
        invalid: 'BUNDLE_FAILS',
        penalty: 300n,
      },
    ],
    winners: [
      {
        namespace: 2,
        bidder,
        commitment: new Uint8Array(32).fill(4),
        bundleHash: new Uint8Array(32).fill(1),
        price: 500n,
        proceeds: 500n,
        treasury: new Uint8Array(32).fill(2),
      },
    ],
  };

  it('ordo_getAuctionInfo renders params, rollups and amounts as decimal strings', () => {
    const t = setup();
    expect(t.call('ordo_getAuctionInfo', [])).toEqual({
      enabled: true,
      params: {
        commitOffset: 2,
        commitHorizon: 64,
        revealOffset: 1,
        maxBidsPerBidder: 5,
        withdrawDelay: 2,
        forfeitFee: '1000',
        maxTopBytes: 524288,
        maxTopTxs: 1000,
        maxSimGas: 10000000,
        failPenaltyBps: 1000,
        bidderSimShareBps: 1000,
      },
      rollups: [
        { namespace: 2, reservePrice: '500', treasury: hx(new Uint8Array(32).fill(2)) },
        { namespace: 3, reservePrice: '0', treasury: hx(new Uint8Array(32).fill(3)) },
      ],
      depositAuthority: hx(new Uint8Array(32).fill(9)),
      forfeitSink: hx(new Uint8Array(32).fill(8)),
      nextDepositNonce: 4,
      appliedHeight: 41,
    });
  });

  it('ordo_getAuction answers a slot, and null for a height the view does not hold', () => {
    const t = setup({ slots: [slot] });
    expect(t.call('ordo_getAuction', [13])).toBeNull();
    const r = t.call('ordo_getAuction', [12]) as Record<string, unknown>;
    expect(r).toMatchObject({
      height: 12,
      enabled: true,
      resolved: true,
      commits: 3,
      reveals: 2,
      forfeited: 1,
      auctionHash: hx(new Uint8Array(32).fill(0xaa)),
      totalProceeds: '500',
      totalPenalties: '300',
    });
    expect(r.bids).toEqual([
      {
        bidder: hx(bidder),
        amount: '1234',
        namespaces: [2],
        bundleHash: hx(new Uint8Array(32).fill(1)),
        commitment: hx(new Uint8Array(32).fill(4)),
        commitHeight: 9,
        revealHeight: 11,
        valid: true,
      },
      expect.objectContaining({ amount: '18446744073709551615', valid: false, reason: 'ABOVE_DEPOSIT' }),
      expect.objectContaining({ amount: '3000', valid: false, reason: 'BUNDLE_FAILS', penalty: '300' }),
    ]);
    // Only a bid that paid a penalty carries the field.
    expect((r.bids as Record<string, unknown>[])[1]).not.toHaveProperty('penalty');
    expect(r.winners).toEqual([
      {
        namespace: 2,
        bidder: hx(bidder),
        commitment: hx(new Uint8Array(32).fill(4)),
        bundleHash: hx(new Uint8Array(32).fill(1)),
        price: '500',
        proceeds: '500',
        treasury: hx(new Uint8Array(32).fill(2)),
      },
    ]);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('ordo_getAccount renders balances as decimal strings', () => {
    const t = setup();
    expect(t.call('ordo_getAccount', [hx(bidder)])).toEqual({
      account: hx(bidder),
      available: (2n ** 60n).toString(),
      locked: '1000',
      pendingWithdrawal: '0',
      withdrawNonce: 3,
      known: true,
    });
  });

  it('ordo_subscribe ["auction"] notifies each applied height with its ordo_getAuction object', () => {
    const t = setup({ slots: [slot] });
    const sent: unknown[] = [];
    const cancels: (() => void)[] = [];
    const ctx = {
      notify: (_m: string, p: unknown) => sent.push(p) > 0,
      subscriptions: {
        add: (c: () => void) => {
          cancels.push(c);
          return '0xid';
        },
        remove: () => true,
      },
    };
    expect(subscribeAuction({ ...t.deps, ingress: {} as never, ingressError: rpcErrorOf }, ctx)).toBe('0xid');
    for (const l of t.listeners) l(12);
    for (const l of t.listeners) l(99);
    expect(sent).toEqual([{ subscription: '0xid', result: t.call('ordo_getAuction', [12]) }]);
    cancels[0]!();
    expect(t.listeners.size).toBe(0);
    expect(() => subscribeAuction({ ...t.deps, ingress: {} as never, ingressError: rpcErrorOf }, {})).toThrow(
      /WebSocket/,
    );
  });
});
