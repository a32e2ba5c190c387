/**
 * The auction JSON-RPC methods through the real RPC server (HTTP and WebSocket), the real ingress and
 * the real signing and verification of src/auction: a searcher deposits, commits, reveals and reads its
 * account, and the node answers window, signature and commitment refusals with -32001 and the
 * AuctionError code. The auction's state is a small stand-in view (verifies with the real
 * verifyCommit / verifyReveal / verifyDeposit at a head height the test moves): the consensus side is
 * tested where it is built.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  AuctionError,
  type AuctionReadView,
  type AuctionSlotView,
  auctionParams,
  signBid,
  signDeposit,
  verifyCommit,
  verifyDeposit,
  verifyReveal,
  verifyWithdraw,
} from '../../../src/auction/index.ts';
import { AUCTION_NAMESPACE, bundleHash, LIMITS, txHash } from '../../../src/codec/index.ts';
import {
  demoAuctionSeed,
  demoDepositAuthoritySeed,
  demoRollups,
  makeGenesis,
} from '../../../src/config/index.ts';
import type { ConsensusEngine } from '../../../src/consensus/index.ts';
import { bytesEqual, publicKeyFromSeed, toHex } from '../../../src/crypto/index.ts';
import { createIngress } from '../../../src/ingress/index.ts';
import type { AdmitResult, Mempool, TxStatus } from '../../../src/mempool/index.ts';
import { parseBundle } from '../../../src/rpc/bundles.ts';
import { RpcServer, registerMethods, rpcCall } from '../../../src/rpc/index.ts';
import type { BlockStore } from '../../../src/store/index.ts';
import type { BidCommit } from '../../../src/types.ts';

const CHAIN = 'auction-rpc-it';
const params = auctionParams();
const authority = publicKeyFromSeed(demoDepositAuthoritySeed());
const seed = demoAuctionSeed(0);
const bidder = publicKeyFromSeed(seed);
const hx = (b: Uint8Array) => `0x${toHex(b)}`;
const genesis = makeGenesis({
  chainId: CHAIN,
  validators: [{ name: 'v', publicKey: 'ab'.repeat(32) }],
  rollups: demoRollups(),
});

let head = 5;
const commits: BidCommit[] = [];
const applied = new Set<(h: number) => void>();
const slots = new Map<number, AuctionSlotView>();
const view: AuctionReadView = {
  info: () => ({
    enabled: true,
    params,
    reserves: new Map([[2, 100n]]),
    treasuries: new Map([[2, new Uint8Array(32).fill(2)]]),
    depositAuthority: authority,
    forfeitSink: new Uint8Array(32).fill(3),
    nextDepositNonce: 0,
    appliedHeight: head,
  }),
  slot: (h) => slots.get(h),
  account: (account) => ({
    account,
    available: bytesEqual(account, bidder) ? 1_000_000_000n : 0n,
    locked: 0n,
    pendingWithdrawal: 0n,
    withdrawNonce: 0,
    known: bytesEqual(account, bidder),
  }),
  check(tx) {
    const at = head + 1;
    switch (tx.kind) {
      case 'commit':
        verifyCommit(CHAIN, tx.commit, at, params);
        commits.push(tx.commit);
        return;
      case 'reveal': {
        const r = tx.reveal;
        const c = commits.find((x) => x.slot === r.slot && bytesEqual(x.bidder, r.bidder));
        if (c === undefined)
          throw new AuctionError('AUCTION_COMMITMENT_MISMATCH', 'no commit included for this reveal');
        verifyReveal(
          CHAIN,
          { ...r, amount: BigInt(r.amount), bundleHash: bundleHash(CHAIN, r.bundle) },
          c,
          at,
          params,
        );
        return;
      }
      case 'deposit':
        verifyDeposit(CHAIN, tx.deposit, authority);
        return;
      case 'withdraw':
        verifyWithdraw(CHAIN, tx.withdraw);
        return;
    }
  },
  onApplied: (l) => {
    applied.add(l);
    return () => applied.delete(l);
  },
};

const pending = new Map<string, number>();
const mempool: Mempool = {
  add(tx): AdmitResult {
    const h = txHash(tx);
    if (pending.has(toHex(h))) return { ok: false, code: 'DUPLICATE', message: 'dup', retryable: false };
    pending.set(toHex(h), tx.namespace);
    return { ok: true, hash: h };
  },
  reap: () => [],
  update: () => {},
  status: (h): TxStatus => (pending.has(toHex(h)) ? { status: 'pending' } : { status: 'unknown' }),
  stats: () => ({ txs: pending.size, bytes: 0, lanes: [] }),
};
const server = new RpcServer({ host: '127.0.0.1', port: 0, requestTimeoutMs: 5000 });
registerMethods(server, {
  genesis,
  nodeId: 'n0',
  moniker: 'n0',
  mempool,
  store: { height: () => head, getTxLocation: async () => undefined } as unknown as BlockStore,
  consensus: { status: () => ({ height: head, round: 0, step: 'propose' }) } as unknown as ConsensusEngine,
  peers: () => [],
  ingress: createIngress({
    rollups: [...demoRollups(), { namespace: AUCTION_NAMESPACE, maxTxBytes: LIMITS.maxAuctionTxBytes }],
    mempool,
    gossip: { push: () => {} },
  }),
  maxSubmitBatch: 5,
  auction: view,
});
let url = '';
beforeAll(async () => {
  await server.start();
  url = `http://127.0.0.1:${server.port}/`;
});
afterAll(async () => {
  await server.stop();
});

async function rpcError(method: string, p: unknown[]): Promise<{ code: number; message: string; data: any }> {
  try {
    await rpcCall(url, method, p, 5000);
  } catch (e) {
    const err = e as { rpcCode: number; message: string; data: { rpcData: unknown } };
    return { code: err.rpcCode, message: err.message, data: err.data.rpcData };
  }
  throw new Error(`${method} succeeded`);
}

const bundleJson = { legs: [{ namespace: 2, txs: ['0x0a0b0c'] }] };
const bundle = parseBundle(bundleJson, genesis, 1000);

describe('auction JSON-RPC through the server', () => {
  it('reads info and a known account', async () => {
    const info = (await rpcCall(url, 'ordo_getAuctionInfo', [])) as Record<string, unknown>;
    expect(info).toMatchObject({ enabled: true, depositAuthority: hx(authority), appliedHeight: 5 });
    const acc = await rpcCall(url, 'ordo_getAccount', [hx(bidder)]);
    expect(acc).toMatchObject({ available: '1000000000', known: true });
  });

  it('admits a deposit signed by the authority and refuses one signed by anyone else', async () => {
    const d = signDeposit(CHAIN, demoDepositAuthoritySeed(), { account: bidder, amount: 500, nonce: 0 });
    const p = { account: hx(bidder), amount: '500', nonce: 0, signature: hx(d.signature) };
    const r = (await rpcCall(url, 'ordo_deposit', [p])) as { txHash: string };
    expect(await rpcCall(url, 'ordo_getTransactionStatus', [r.txHash])).toEqual({ status: 'pending' });
    expect(pending.get(r.txHash.slice(2))).toBe(AUCTION_NAMESPACE);
    const again = (await rpcCall(url, 'ordo_deposit', [p])) as { txHash: string; duplicate?: boolean };
    expect(again).toEqual({ txHash: r.txHash, duplicate: true });
    const forged = signDeposit(CHAIN, seed, { account: bidder, amount: 500, nonce: 1 });
    const e = await rpcError('ordo_deposit', [{ ...p, nonce: 1, signature: hx(forged.signature) }]);
    expect([e.code, e.data.code]).toEqual([-32001, 'AUCTION_BAD_SIGNATURE']);
  });

  it('runs commit then reveal in their windows, with the refusals a searcher meets', async () => {
    const slot = 9; // commits valid in blocks <= 7, reveals in block 8
    const b = signBid(CHAIN, seed, {
      slot,
      amount: 777n,
      bundleHash: bundleHash(CHAIN, bundle),
      salt: new Uint8Array(32).fill(1),
    });
    const revealP = {
      slot,
      bidder: hx(bidder),
      amount: 777,
      bundle: bundleJson,
      salt: hx(b.reveal.salt),
      signature: hx(b.reveal.signature),
    };
    // A reveal before any commit: nothing to match.
    const early = await rpcError('ordo_sendBidReveal', [revealP]);
    expect([early.code, early.data.code]).toEqual([-32001, 'AUCTION_COMMITMENT_MISMATCH']);
    const commitP = {
      slot,
      bidder: hx(bidder),
      commitment: hx(b.commit.commitment),
      signature: hx(b.commit.signature),
    };
    const bad = await rpcError('ordo_sendBidCommit', [{ ...commitP, signature: hx(new Uint8Array(64)) }]);
    expect([bad.code, bad.data.code]).toEqual([-32001, 'AUCTION_BAD_SIGNATURE']);
    const c = (await rpcCall(url, 'ordo_sendBidCommit', [commitP])) as { txHash: string };
    expect(c.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    // Still in the commit window: the reveal is too early.
    const tooEarly = await rpcError('ordo_sendBidReveal', [revealP]);
    expect(tooEarly.code).toBe(-32001);
    expect(tooEarly.data).toMatchObject({
      code: 'AUCTION_OUT_OF_WINDOW',
      slot,
      height: 6,
      first: 8,
      last: 8,
    });
    head = 7; // the next block is 8: the reveal window
    const late = await rpcError('ordo_sendBidCommit', [commitP]);
    expect(late.data).toMatchObject({ code: 'AUCTION_OUT_OF_WINDOW', height: 8, last: 7 });
    const wrong = await rpcError('ordo_sendBidReveal', [{ ...revealP, amount: 778 }]);
    expect(wrong.data.code).toBe('AUCTION_COMMITMENT_MISMATCH');
    const r = (await rpcCall(url, 'ordo_sendBidReveal', [revealP])) as { txHash: string };
    expect(r.txHash).not.toBe(c.txHash);
    const badShape = await rpcError('ordo_sendBidReveal', [{ ...revealP, salt: '0x01' }]);
    expect(badShape.code).toBe(-32602);
    expect(badShape.message).toContain('salt');
  });

  it('serves slots by height and notifies ordo_subscribe ["auction"] over WebSocket', async () => {
    expect(await rpcCall(url, 'ordo_getAuction', [9])).toBeNull();
    slots.set(9, {
      height: 9,
      resolved: true,
      commits: 1,
      reveals: 1,
      forfeited: 0,
      bids: [],
      winners: [
        {
          namespace: 2,
          bidder,
          commitment: new Uint8Array(32),
          bundleHash: new Uint8Array(32),
          price: 100n,
          proceeds: 100n,
          treasury: new Uint8Array(32).fill(2),
        },
      ],
    });
    const ws = new WebSocket(url.replace('http', 'ws'));
    try {
      await new Promise((res, rej) => {
        ws.once('open', res);
        ws.once('error', rej);
      });
      const messages: any[] = [];
      ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ordo_subscribe', params: ['auction'] }));
      for (let i = 0; i < 200 && messages.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
      const id = messages[0]?.result;
      expect(id).toMatch(/^0x/);
      for (const l of applied) l(9);
      for (let i = 0; i < 200 && messages.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      expect(messages[1]).toMatchObject({
        method: 'ordo_subscription',
        params: {
          subscription: id,
          result: { height: 9, totalProceeds: '100', winners: [{ price: '100' }] },
        },
      });
      expect(messages[1].params.result).toEqual(await rpcCall(url, 'ordo_getAuction', [9]));
    } finally {
      ws.terminate();
    }
    for (let i = 0; i < 200 && applied.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(applied.size).toBe(0);
  });
});
