/**
 * The auction state survives kill -9 (issue #23): a devnet validator (the `ordo init` genesis enables the
 * demo auction) takes a stream of signed deposits through JSON-RPC, is SIGKILLed while they commit,
 * restarted on its home, fed more, and stopped. Then the test opens the store itself and checks that the
 * persisted book equals a fresh book re-applying every committed block: every committed deposit credited
 * exactly once (never lost, never twice), the deposit nonce where the blocks leave it, the book at the
 * store's head (after re-applying the quiet heights above its record, as the node does), money conserved.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openAuctionBook, signDeposit } from '../../src/auction/index.ts';
import { AUCTION_NAMESPACE, encodeAuctionTx } from '../../src/codec/index.ts';
import { auctionSetupOf, demoDepositAuthoritySeed, validateGenesis } from '../../src/config/index.ts';
import { homePaths } from '../../src/node/index.ts';
import { openStore } from '../../src/store/index.ts';
import { initLoopbackHome, killAll, killNode, type RunningNode, rpc, startNode, waitFor } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordo-e2e-auction-kill-'));
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

const account = new Uint8Array(32).fill(0x5a);

async function height(n: RunningNode): Promise<number> {
  return ((await rpc(n.rpcUrl, 'ordo_status', [], 5000)) as { height: number }).height;
}

/** Submits deposits `from..to-1`; refusals (a nonce already used after a restart) are fine. */
async function deposits(n: RunningNode, chainId: string, from: number, to: number): Promise<void> {
  for (let nonce = from; nonce < to; nonce++) {
    const d = signDeposit(chainId, demoDepositAuthoritySeed(), { account, amount: 1_000 + nonce, nonce });
    const data = `0x${Buffer.from(encodeAuctionTx({ kind: 'deposit', deposit: d })).toString('hex')}`;
    await rpc(n.rpcUrl, 'ordo_submitTransaction', [{ namespace: AUCTION_NAMESPACE, data }], 5000).catch(
      () => undefined,
    );
  }
}

describe('auction state across kill -9 (real process)', () => {
  it('credits every committed deposit exactly once', async () => {
    const home = join(dir, 'a');
    const r = initLoopbackHome(home);
    expect(r.status, r.stderr).toBe(0);
    const genesis = validateGenesis(JSON.parse(readFileSync(homePaths(home).genesis, 'utf8')));
    const setup = auctionSetupOf(genesis);
    expect(setup).toBeDefined();

    let node = await startNode(home);
    await deposits(node, genesis.chainId, 0, 6);
    await waitFor('deposits committed', async () => ((await height(node)) >= 4 ? true : undefined), 60_000);
    await deposits(node, genesis.chainId, 6, 12);
    await killNode(node, 'SIGKILL');

    node = await startNode(home, {}, 60_000);
    const after = await height(node);
    await deposits(node, genesis.chainId, 0, 16);
    await waitFor('more blocks', async () => ((await height(node)) >= after + 4 ? true : undefined), 60_000);
    await killNode(node, 'SIGTERM');

    const store = await openStore({ path: homePaths(home).db, engine: 'leveldb' });
    try {
      const persisted = await openAuctionBook({ setup: setup!, kv: store.sub('auction') });
      const fresh = await openAuctionBook({ setup: setup! });
      const head = store.height();
      // Quiet heights (no auction transaction, nothing to settle) are not rewritten: the record may be
      // behind the head by those only, and re-applying them (what the node does on start) reaches it.
      const written = persisted.appliedHeight();
      expect(written).toBeLessThanOrEqual(head);
      const empty = (h: number, auctionHash: Uint8Array) => ({
        slot: h,
        invalid: [],
        resolution: { slot: h, winners: [], ranked: [] },
        auctionHash,
      });
      let depositTxs = 0;
      for (let h = 1; h <= head; h++) {
        const block = (await store.getBlock(h))!;
        const auctionTxs = block.txs.filter((t) => t.namespace === AUCTION_NAMESPACE).length;
        depositTxs += auctionTxs;
        await fresh.apply(block, empty(h, block.header.auctionHash));
        if (h > written) {
          expect(auctionTxs, `height ${h} above the persisted record carries auction txs`).toBe(0);
          await persisted.apply(block, empty(h, block.header.auctionHash));
        }
      }
      expect(persisted.appliedHeight()).toBe(head);
      expect(depositTxs).toBeGreaterThanOrEqual(6);
      expect(persisted.account(account)).toEqual(fresh.account(account));
      expect(persisted.info().nextDepositNonce).toBe(fresh.info().nextDepositNonce);
      expect(persisted.info().nextDepositNonce).toBeGreaterThanOrEqual(6);
      // nonces 0..n-1 credited once each: 1000 + nonce
      const n = persisted.info().nextDepositNonce;
      expect(persisted.account(account).available).toBe(BigInt(1_000 * n + (n * (n - 1)) / 2));
      const t = persisted.totals();
      expect(t.held + t.paidOut).toBe(t.supplied);
    } finally {
      await store.close();
    }
  }, 240_000);
});
