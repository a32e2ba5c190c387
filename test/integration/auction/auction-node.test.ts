/**
 * The auction end to end on four in-process validators over libp2p on 127.0.0.1 (testnet genesis with
 * the demo auction, commitOffset raised to 6 so the reveal window spans five blocks): two demo bidders
 * commit through one node's ingress, reveal once their commits are in, and the slot's block opens rollup
 * 1 with the winner's bundle; every node's book settles the slot alike (second price to the treasury,
 * the same auction_hash as the committed header), and a reveal without a commit is refused at admission.
 * On the executed transfer rollup a bid whose bundle the executor finds failing pays its failure penalty
 * (ADR 0320) alike on every node, shown by ordo_getAuction and the metrics. On an EVM rollup a failing
 * bid above an honest one that declares the whole simulation budget is past its bidder's share on every
 * node (not simulated, no penalty) and the honest bid wins the top (ADR 0321).
 * Then one validator is stopped and restarted on its home: its book comes back from the store at the
 * height it had applied and follows the chain again.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createTx } from '@ethereumjs/tx';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBid } from '../../../src/auction/index.ts';
import { AUCTION_NAMESPACE, bundleHash, encodeAuctionTx } from '../../../src/codec/index.ts';
import {
  demoAuctionSeed,
  demoEvmKey,
  demoTransferSeed,
  demoTreasurySeed,
} from '../../../src/config/index.ts';
import { bytesEqual, publicKeyFromSeed } from '../../../src/crypto/index.ts';
import { signTransfer, transferSigner } from '../../../src/exec/index.ts';
import { homePaths } from '../../../src/node/index.ts';
import { OrdoNode } from '../../../src/node/node.ts';
import { createInProcessAdapter } from '../../../src/rollup-adapter/in-process.ts';
import { verifyAuctionPart, verifyNamespaceBlock } from '../../../src/rollup-adapter/sdk/index.ts';
import type { AuctionTx, Bundle } from '../../../src/types.ts';
import { findFreeBasePort, type NetworkLayout, setupNetwork } from '../../../testnet/setup.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordo-auction-node-'));
const chainId = 'it-auction';
let layout: NetworkLayout;
const nodes: OrdoNode[] = [];

beforeAll(async () => {
  const basePort = await findFreeBasePort(4);
  layout = await setupNetwork({
    dir,
    validators: 4,
    fullNodes: 0,
    rollups: 5,
    basePort,
    chainId,
    config: { log: { level: 'warn' } },
  });
  const g = JSON.parse(readFileSync(homePaths(layout.nodes[0]!.home).genesis, 'utf8'));
  g.auction.commitOffset = 6;
  const text = `${JSON.stringify(g, null, 2)}\n`;
  for (const n of layout.nodes) writeFileSync(homePaths(n.home).genesis, text);
  for (const n of layout.nodes)
    nodes.push(OrdoNode.load({ home: n.home, logger: pino({ level: 'warn' }), grpcListen: null }));
  await Promise.all(nodes.map((n) => n.start()));
}, 120_000);

afterAll(async () => {
  for (const n of nodes) await n.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function until<T>(f: () => T | undefined, ms: number): Promise<T> {
  for (let i = 0; i < ms / 50; i++) {
    const v = f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached');
}

type BidPair = ReturnType<typeof bidTxs>;
type Door = NonNullable<OrdoNode['ingress']>;

/** Commit two bids through `door`, reveal them once every node holds both commits, wait for every node's resolution. */
async function commitRevealResolve(nodes: OrdoNode[], via: number, slot: number, a: BidPair, b: BidPair) {
  const door: Door = nodes[via]!.ingress!;
  expect(door.submitTransaction(a.commit, 'in_process')).toMatchObject({ ok: true });
  expect(door.submitTransaction(b.commit, 'in_process')).toMatchObject({ ok: true });
  await until(() => (nodes.every((n) => n.auction!.slot(slot)?.commits === 2) ? true : undefined), 60_000);
  await until(() => (nodes[via]!.auction!.info().appliedHeight >= slot - 6 ? true : undefined), 60_000);
  expect(door.submitTransaction(a.reveal, 'in_process')).toMatchObject({ ok: true });
  expect(door.submitTransaction(b.reveal, 'in_process')).toMatchObject({ ok: true });
  return until(() => {
    const v = nodes.map((n) => n.auction!.slot(slot));
    return v.every((x) => x?.resolved === true) ? v : undefined;
  }, 90_000);
}

interface BlockJson {
  header: { auctionHash: string };
  txs: { namespace: number; data: string }[];
  bundles: { bundleHash: string; namespace: number; start: number }[];
}

const enc = new TextEncoder();
function bidTxs(i: number, slot: number, amount: number, legs?: Bundle['legs']) {
  const bundle: Bundle = {
    legs: legs ?? [{ namespace: 1, txs: [enc.encode(`auction top ${i} ${slot}`)], revertingTxHashes: [] }],
    atomicity: legs === undefined ? 'inclusion' : 'execution',
    minHeight: 0,
    maxHeight: 0,
    replacementUuid: new Uint8Array(0),
    signer: new Uint8Array(0),
    signature: new Uint8Array(0),
  };
  const { commit, reveal } = signBid(chainId, demoAuctionSeed(i), {
    slot,
    amount: BigInt(amount),
    bundleHash: bundleHash(chainId, bundle),
    salt: new Uint8Array(32).fill(i + 1),
  });
  const env = (t: AuctionTx) => ({ namespace: AUCTION_NAMESPACE, payload: encodeAuctionTx(t) });
  return {
    bundle,
    commit: env({ kind: 'commit', commit }),
    reveal: env({ kind: 'reveal', reveal: { ...reveal, amount, bundle } }),
  };
}

describe('auction on a 4-validator network', () => {
  it('settles a slot alike on every node, the winner at the top of its rollup', async () => {
    await until(
      () => (nodes.every((n) => (n.auction?.info().appliedHeight ?? 0) >= 2) ? true : undefined),
      60_000,
    );
    const at = Math.max(...nodes.map((n) => n.height));
    const slot = at + 9; // commits valid up to slot - 6, reveals in slot - 5 ..= slot - 1
    const a = bidTxs(0, slot, 5_000);
    const b = bidTxs(1, slot, 3_000);
    const door = nodes[1]!.ingress!;
    // a reveal before its commit is included: refused at admission
    expect(door.submitTransaction(a.reveal, 'in_process')).toMatchObject({ ok: false, code: 'INVALID_TX' });
    const views = await commitRevealResolve(nodes, 1, slot, a, b);
    const winner = publicKeyFromSeed(demoAuctionSeed(0));
    for (const v of views) {
      expect(v).toMatchObject({ commits: 2, reveals: 2, forfeited: 0 });
      expect(v!.winners).toHaveLength(1);
      expect(bytesEqual(v!.winners[0]!.bidder, winner)).toBe(true);
      expect(v!.winners[0]!.price).toBe(3_000n);
      expect(bytesEqual(v!.auctionHash!, views[0]!.auctionHash!)).toBe(true);
    }
    // the committed header carries the same auction_hash; rollup 1's slice opens with the winner's bundle
    const res = await fetch(nodes[0]!.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ordo_getBlock', params: [slot, true] }),
      signal: AbortSignal.timeout(10_000),
    });
    const block = ((await res.json()) as { result: BlockJson }).result;
    expect(block.header.auctionHash).toBe(`0x${Buffer.from(views[0]!.auctionHash!).toString('hex')}`);
    const top = block.txs.find((t) => t.namespace === 1);
    expect(top?.data).toBe(`0x${Buffer.from(a.bundle.legs[0]!.txs[0]!).toString('hex')}`);
    expect(block.bundles.find((s) => s.namespace === 1)).toMatchObject({
      bundleHash: `0x${Buffer.from(bundleHash(chainId, a.bundle)).toString('hex')}`,
      start: 0,
    });
    // The adapter hands rollup 1 its part of the outcome, provable against the certified header.
    const ac = new AbortController();
    for await (const nb of createInProcessAdapter(nodes[2]!.adapterSource()).streamBlocks(
      { namespace: 1, fromHeight: slot },
      { signal: ac.signal },
    )) {
      const ctx = { chainId, namespace: 1, validators: nodes[2]!.adapterSource().validators };
      verifyNamespaceBlock(nb, ctx);
      const mine = verifyAuctionPart(nb.auction!, nb.header, 1);
      expect(bytesEqual(mine!.winner.bidder, winner)).toBe(true);
      expect(mine!.price).toBe(3_000n);
      expect(mine!.proceeds).toBe(3_000n);
      break;
    }
    ac.abort();
    for (const n of nodes) {
      expect(n.auction!.account(winner)).toMatchObject({ available: 1_000_000_000n - 3_000n, locked: 0n });
      expect(n.auction!.account(publicKeyFromSeed(demoTreasurySeed(1))).available).toBe(3_000n);
    }
  }, 240_000);

  it('bids on an executed rollup get the same executor verdicts on every node (state after h - 1, ADR 0195)', async () => {
    // Demo transfer account 40 pays 41 on rollup 2 (transfer): nonce 0 applies, nonce 5 cannot.
    const pay = (nonce: bigint) => [
      {
        namespace: 2,
        txs: [
          signTransfer(transferSigner(demoTransferSeed(40)), 2, {
            to: publicKeyFromSeed(demoTransferSeed(41)),
            amount: 5n,
            fee: 1n,
            nonce,
          }),
        ],
        revertingTxHashes: [],
      },
    ];
    await until(
      () => (nodes.every((n) => (n.auction?.info().appliedHeight ?? 0) >= 2) ? true : undefined),
      60_000,
    );
    const at = Math.max(...nodes.map((n) => n.height));
    const slot = at + 9;
    const good = bidTxs(2, slot, 4_000, pay(0n));
    const failing = bidTxs(3, slot, 9_000, pay(5n));
    const views = await commitRevealResolve(nodes, 0, slot, good, failing);
    const winner = publicKeyFromSeed(demoAuctionSeed(2));
    const loser = publicKeyFromSeed(demoAuctionSeed(3));
    for (const [i, v] of views.entries()) {
      expect(v).toMatchObject({ commits: 2, reveals: 2 });
      // The failing bid paid ceil(9,000 × 1,000 / 10,000) = 900 (the default failPenaltyBps, ADR 0320)
      // to rollup 2's treasury on every node; its bond and the rest of its amount came back.
      expect(v!.bids.find((b) => b.amount === 9_000n)).toMatchObject({
        invalid: 'BUNDLE_FAILS',
        penalty: 900n,
      });
      expect(v!.bids.find((b) => b.amount === 4_000n)?.penalty).toBeUndefined();
      const acc = nodes[i]!.auction!.account(loser);
      expect(acc.available + acc.locked + acc.pendingWithdrawal).toBe(1_000_000_000n - 900n);
      expect(v!.winners).toHaveLength(1);
      expect(bytesEqual(v!.winners[0]!.bidder, winner)).toBe(true);
      expect(v!.winners[0]!.price).toBe(100n); // the only valid bid pays the reserve
      expect(bytesEqual(v!.auctionHash!, views[0]!.auctionHash!)).toBe(true);
    }
    const res = await fetch(nodes[1]!.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ordo_getBlock', params: [slot, true] }),
      signal: AbortSignal.timeout(10_000),
    });
    const block = ((await res.json()) as { result: BlockJson }).result;
    expect(block.header.auctionHash).toBe(`0x${Buffer.from(views[0]!.auctionHash!).toString('hex')}`);
    const slotRes = await fetch(nodes[1]!.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ordo_getAuction', params: [slot] }),
      signal: AbortSignal.timeout(10_000),
    });
    const slotJson = ((await slotRes.json()) as { result: { totalPenalties: string; bids: unknown[] } })
      .result;
    expect(slotJson.totalPenalties).toBe('900');
    expect(slotJson.bids).toContainEqual(
      expect.objectContaining({ amount: '9000', reason: 'BUNDLE_FAILS', penalty: '900' }),
    );
    const top = block.txs.find((t) => t.namespace === 2);
    expect(top?.data).toBe(`0x${Buffer.from(good.bundle.legs[0]!.txs[0]!).toString('hex')}`);
    // Every node simulated the bids (on its executed state or on block slot - 1 run in memory).
    for (const n of nodes) {
      const m = await n.metrics.registry.getSingleMetric('ordo_auction_simulation_state_total')!.get();
      const byState = Object.fromEntries(m.values.map((v) => [v.labels.state, v.value]));
      expect((byState.executed ?? 0) + (byState.in_memory ?? 0)).toBeGreaterThanOrEqual(2);
      const p = await n.metrics.registry.getSingleMetric('ordo_auction_penalty_amount_total')!.get();
      expect(p.values[0]?.value).toBe(900);
    }
  }, 240_000);

  it("a failing EVM bid declaring the whole simulation budget is past its bidder's share on every node; the honest top sells (ADR 0321)", async () => {
    const g = JSON.parse(readFileSync(homePaths(layout.nodes[0]!.home).genesis, 'utf8')) as {
      rollups: { namespace: number; kind?: string; evmChainId?: number }[];
    };
    const evm = g.rollups.find((r) => r.kind === 'evm')!;
    const common = createCustomCommon({ chainId: evm.evmChainId! }, Mainnet, { hardfork: Hardfork.Prague });
    const evmLeg = (key: number, nonce: bigint, gasLimit: bigint) => [
      {
        namespace: evm.namespace,
        txs: [
          createTx(
            {
              type: 2,
              nonce,
              to: new Uint8Array(20).fill(0x42),
              value: 1n,
              gasLimit,
              maxFeePerGas: 10_000_000_000n,
              maxPriorityFeePerGas: 0n,
            },
            { common },
          )
            .sign(demoEvmKey(key))
            .serialize(),
        ],
        revertingTxHashes: [],
      },
    ];
    const at = Math.max(...nodes.map((n) => n.height));
    const slot = at + 9;
    // Bidder 5 pays 1 wei (21,000 gas, applies); bidder 6, above it, declares the whole default maxSimGas
    // with a nonce its account cannot have (it would fail if simulated).
    const honest = bidTxs(5, slot, 4_000, evmLeg(7, 0n, 21_000n));
    const attack = bidTxs(6, slot, 9_000, evmLeg(8, 5n, 10_000_000n));
    const views = await commitRevealResolve(nodes, 1, slot, honest, attack);
    const winner = publicKeyFromSeed(demoAuctionSeed(5));
    const attacker = publicKeyFromSeed(demoAuctionSeed(6));
    for (const [i, v] of views.entries()) {
      // Not simulated (past its bidder's 1,000,000-gas share), so it takes no part and pays nothing.
      expect(v!.bids.find((b) => b.amount === 9_000n)).toMatchObject({ invalid: 'SIM_BUDGET_EXHAUSTED' });
      expect(v!.bids.find((b) => b.amount === 9_000n)?.penalty).toBeUndefined();
      const acc = nodes[i]!.auction!.account(attacker);
      expect(acc.available + acc.locked + acc.pendingWithdrawal).toBe(1_000_000_000n);
      expect(v!.winners.map((w) => w.namespace)).toEqual([evm.namespace]);
      expect(bytesEqual(v!.winners[0]!.bidder, winner)).toBe(true);
      expect(bytesEqual(v!.auctionHash!, views[0]!.auctionHash!)).toBe(true);
    }
    for (const n of nodes) {
      const m = await n.metrics.registry.getSingleMetric('ordo_auction_simulations_total')!.get();
      const by = Object.fromEntries(m.values.map((x) => [x.labels.verdict, x.value]));
      expect(by['over-share']).toBeGreaterThanOrEqual(1);
    }
  }, 240_000);

  it('a restarted validator reloads its book from the store and follows the chain', async () => {
    const node = nodes[3]!;
    const before = node.auction!.info().appliedHeight;
    const winnerView = node.auction!.slot(before);
    await node.stop();
    const again = OrdoNode.load({
      home: layout.nodes[3]!.home,
      logger: pino({ level: 'warn' }),
      grpcListen: null,
    });
    nodes[3] = again;
    await again.start();
    expect(again.auction!.info().appliedHeight).toBeGreaterThanOrEqual(before);
    expect(again.auction!.slot(before)).toEqual(winnerView);
    const target = Math.max(...nodes.slice(0, 3).map((n) => n.height)) + 2;
    await until(() => (again.auction!.info().appliedHeight >= target ? true : undefined), 90_000);
    const other = nodes[0]!.auction!;
    await until(() => (other.info().appliedHeight >= target ? true : undefined), 60_000);
    expect(again.auction!.slot(target)?.auctionHash).toEqual(other.slot(target)?.auctionHash);
  }, 240_000);
});
