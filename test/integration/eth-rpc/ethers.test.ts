/**
 * Issue 24 with ethers v6, unmodified, against an in-process single-validator devnet: deploy the ERC-20
 * fixture with a ContractFactory, transfer and wait, read balances, query logs, watch blocks and events
 * over a WebSocketProvider, send five transactions back to back, estimate gas and see a revert's reason.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Contract,
  ContractFactory,
  type InterfaceAbi,
  JsonRpcProvider,
  Network,
  parseEther,
  Wallet,
  WebSocketProvider,
} from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, demoKey, EVM_CHAIN_ID, startDevnet } from './devnet.ts';

const artifact = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'evm', 'OrdoToken.json'), 'utf8'),
) as { abi: InterfaceAbi; bytecode: string };

let net: Devnet;
let provider: JsonRpcProvider;
let token: Contract;

beforeAll(async () => {
  net = await startDevnet();
  const network = new Network('ordo-evm', EVM_CHAIN_ID);
  provider = new JsonRpcProvider(net.url, network, { staticNetwork: network, pollingInterval: 100 });
});
afterAll(async () => {
  provider?.destroy();
  await net?.stop();
});

describe('ethers v6 against /evm/<namespace>', () => {
  it('reads the network, blocks and fee data', async () => {
    expect((await provider.getNetwork()).chainId).toBe(BigInt(EVM_CHAIN_ID));
    const n = await provider.getBlockNumber();
    const b = await provider.getBlock(n);
    expect(b?.number).toBe(n);
    expect(b?.baseFeePerGas).toBe(1_000_000_000n);
    const fee = await provider.getFeeData();
    expect(fee.maxFeePerGas).toBeGreaterThanOrEqual(1_000_000_000n);
  });

  it('deploys the ERC-20, transfers and waits for the receipt', async () => {
    const owner = new Wallet(demoKey(10), provider);
    const factory = new ContractFactory(artifact.abi, artifact.bytecode, owner);
    const deployed = await factory.deploy('Ordo Token', 'ORD', parseEther('1000'));
    await deployed.waitForDeployment();
    token = deployed as unknown as Contract;
    const address = await token.getAddress();
    expect(await provider.getCode(address)).not.toBe('0x');
    expect(await token.getFunction('name')()).toBe('Ordo Token');

    const to = Wallet.createRandom().address;
    const est = await token.getFunction('transfer').estimateGas(to, 500n);
    expect(est).toBeGreaterThan(21_000n);
    const tx = await token.getFunction('transfer')(to, 500n);
    const rc = await tx.wait();
    expect(rc?.status).toBe(1);
    expect(rc?.hash).toBe(tx.hash);
    expect(await token.getFunction('balanceOf')(to)).toBe(500n);
    expect(await token.getFunction('balanceOf')(owner.address)).toBe(parseEther('1000') - 500n);

    const events = await token.queryFilter(token.filters.Transfer!(owner.address, to), 0, 'latest');
    expect(events).toHaveLength(1);
    expect(events[0]?.transactionHash).toBe(tx.hash);
    const fetched = await provider.getTransaction(tx.hash);
    expect(fetched?.from).toBe(owner.address);
    expect(fetched?.blockNumber).toBe(rc?.blockNumber);
  });

  it('sends five transactions back to back from one account', async () => {
    const w = new Wallet(demoKey(11), provider);
    const start = await provider.getTransactionCount(w.address, 'pending');
    const sent = [];
    for (let i = 0; i < 5; i++)
      sent.push(await w.sendTransaction({ to: w.address, value: 1n, nonce: start + i }));
    const rcs = await Promise.all(sent.map((t) => t.wait()));
    expect(rcs.every((r) => r?.status === 1)).toBe(true);
    // provider.send, not getTransactionCount: ethers shares identical requests for 250 ms, and wait()
    // itself asks getTransactionCount(from, 'latest') (replacement check), so the latter can answer
    // with a count read before the last receipt existed.
    expect(Number(await provider.send('eth_getTransactionCount', [w.address, 'latest']))).toBe(start + 5);
  });

  it('waits for a transaction with confirmations', async () => {
    const sender = new Wallet(demoKey(11), provider);
    const tx = await sender.sendTransaction({ to: Wallet.createRandom().address, value: 1n });
    const rc = await provider.waitForTransaction(tx.hash, 3, 30_000);
    expect(rc?.status).toBe(1);
    expect(await rc?.confirmations()).toBeGreaterThanOrEqual(3);
    expect((await provider.getBlock('finalized'))?.number).toBeGreaterThanOrEqual(rc!.blockNumber + 2);
    expect((await provider.getBlock('safe'))?.number).toBeGreaterThanOrEqual(rc!.blockNumber + 2);
  });

  it("surfaces a revert's reason", async () => {
    const stranger = Wallet.createRandom().connect(provider);
    const t = token.connect(stranger) as Contract;
    await expect(t.getFunction('transfer').staticCall(stranger.address, 1n)).rejects.toMatchObject({
      reason: 'OrdoToken: insufficient balance',
    });
    await expect(t.getFunction('transfer').estimateGas(stranger.address, 1n)).rejects.toMatchObject({
      reason: 'OrdoToken: insufficient balance',
    });
  });

  it('watches blocks and Transfer events over a WebSocketProvider', async () => {
    const ws = new WebSocketProvider(net.wsUrl, new Network('ordo-evm', EVM_CHAIN_ID), {
      staticNetwork: true,
    });
    try {
      const blocks: number[] = [];
      const gotBlocks = new Promise<void>((resolve) => {
        void ws.on('block', (n: number) => {
          blocks.push(n);
          if (blocks.length >= 2) resolve();
        });
      });
      const watched = token.connect(ws) as Contract;
      const gotEvent = new Promise<string>((resolve) => {
        void watched.on('Transfer', (_from, _to, _value, ev) => resolve(ev.log.transactionHash));
      });
      await new Promise((r) => setTimeout(r, 300));
      const tx = await token.getFunction('transfer')(Wallet.createRandom().address, 3n);
      await tx.wait();
      await gotBlocks;
      expect(await gotEvent).toBe(tx.hash);
    } finally {
      await ws.destroy();
    }
  });
});
