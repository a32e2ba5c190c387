/**
 * Issue 24 with viem, unmodified, against an in-process single-validator devnet: deploy the ERC-20
 * fixture (test/fixtures/evm), transfer, wait for receipts, read balances, query and watch logs, watch
 * blocks over WebSocket, five transactions back to back, gas estimates, revert reasons, state
 * overrides, admission refusals with Ethereum's messages, and blocks that survive a restart.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Abi,
  type Chain,
  createPublicClient,
  createWalletClient,
  encodeAbiParameters,
  encodeFunctionData,
  type Hex,
  http,
  keccak256,
  pad,
  parseEther,
  parseEventLogs,
  webSocket,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, demoKey, EVM_CHAIN_ID, startDevnet } from './devnet.ts';

const artifact = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'evm', 'OrdoToken.json'), 'utf8'),
) as { abi: Abi; bytecode: Hex };
const abi = artifact.abi;

let net: Devnet;
let chain: Chain;
const pub = () => createPublicClient({ chain, transport: http(net.url), pollingInterval: 100 });
const wallet = (i: number) =>
  createWalletClient({ chain, transport: http(net.url), account: privateKeyToAccount(demoKey(i)) });

beforeAll(async () => {
  net = await startDevnet();
  chain = {
    id: EVM_CHAIN_ID,
    name: 'ordo-evm',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [net.url], webSocket: [net.wsUrl] } },
  };
});
afterAll(async () => {
  await net?.stop();
});

let token: Hex;
const owner = () => privateKeyToAccount(demoKey(0)).address;

/** Wait (bounded) for the chain to reach `n`. */
async function untilBlock(n: bigint): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await pub().getBlockNumber()) >= n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`block ${n} not reached`);
}

describe('viem against /evm/<namespace>', () => {
  it('reports the chain: id, version, blocks linked by parent hash', async () => {
    const c = pub();
    expect(await c.getChainId()).toBe(EVM_CHAIN_ID);
    const n = await c.getBlockNumber();
    await untilBlock(n + 2n);
    const b = await c.getBlock({ blockNumber: n + 2n });
    const parent = await c.getBlock({ blockHash: b.parentHash });
    expect(parent.number).toBe(n + 1n);
    expect(b.timestamp).toBeGreaterThanOrEqual(parent.timestamp);
    expect(b.baseFeePerGas).toBe(1_000_000_000n);
    expect(b.gasLimit).toBe(30_000_000n); // the rollup's block gas limit (genesis default, ADR 0285)
    expect((await c.getBlock({ blockNumber: 0n })).number).toBe(0n);
    expect(await c.request({ method: 'net_version' as never })).toBe(String(EVM_CHAIN_ID));
    expect(await c.request({ method: 'eth_syncing' as never })).toBe(false);
  });

  it('deploys the ERC-20 and reads it', async () => {
    const hash = await wallet(0).deployContract({
      abi,
      bytecode: artifact.bytecode,
      args: ['Ordo Token', 'ORD', parseEther('1000000')],
    });
    const rc = await pub().waitForTransactionReceipt({ hash });
    expect(rc.status).toBe('success');
    expect(rc.contractAddress).toMatch(/^0x[0-9a-f]{40}$/);
    token = rc.contractAddress!;
    expect(rc.logs).toHaveLength(1); // Transfer(0 → owner)
    expect(rc.cumulativeGasUsed).toBeGreaterThanOrEqual(rc.gasUsed);
    expect(rc.effectiveGasPrice).toBeGreaterThanOrEqual(1_000_000_000n);
    const code = await pub().getCode({ address: token });
    expect(code?.length ?? 0).toBeGreaterThan(100);
    expect(await pub().readContract({ address: token, abi, functionName: 'symbol' })).toBe('ORD');
    expect(
      await pub().readContract({ address: token, abi, functionName: 'balanceOf', args: [owner()] }),
    ).toBe(parseEther('1000000'));
    // storage slot 2 = totalSupply
    const slot = await pub().getStorageAt({ address: token, slot: '0x2' });
    expect(BigInt(slot!)).toBe(parseEther('1000000'));
    const tx = await pub().getTransaction({ hash });
    expect(tx.hash).toBe(hash);
    expect(tx.from).toBe(owner().toLowerCase());
    expect(tx.blockNumber).toBe(rc.blockNumber);
  });

  it('transfers, with a receipt whose logs, indexes and bloom are right, and queries the logs', async () => {
    const to = privateKeyToAccount(demoKey(5)).address;
    const gas = await pub().estimateContractGas({
      address: token,
      abi,
      functionName: 'transfer',
      args: [to, 1234n],
      account: owner(),
    });
    expect(gas).toBeGreaterThan(21_000n);
    expect(gas).toBeLessThan(100_000n);
    const hash = await wallet(0).writeContract({
      address: token,
      abi,
      functionName: 'transfer',
      args: [to, 1234n],
    });
    const rc = await pub().waitForTransactionReceipt({ hash });
    expect(rc.status).toBe('success');
    expect(rc.gasUsed).toBeLessThanOrEqual(gas);
    const [ev] = parseEventLogs({ abi, logs: rc.logs, eventName: 'Transfer' });
    expect(ev?.args).toMatchObject({ from: owner(), to, value: 1234n });
    expect(ev?.logIndex).toBe(0);
    expect(ev?.transactionHash).toBe(hash);
    expect(rc.logsBloom).not.toMatch(/^0x0+$/);
    expect(await pub().readContract({ address: token, abi, functionName: 'balanceOf', args: [to] })).toBe(
      1234n,
    );

    const logs = await pub().getContractEvents({
      address: token,
      abi,
      eventName: 'Transfer',
      args: { to },
      fromBlock: 0n,
      toBlock: 'latest',
    });
    expect(logs.map((l) => l.transactionHash)).toEqual([hash]);
    const block = await pub().getBlock({ blockNumber: rc.blockNumber, includeTransactions: true });
    expect(block.transactions.map((t) => t.hash)).toContain(hash);
    expect(await pub().getTransactionReceipt({ hash })).toMatchObject({ blockHash: block.hash });
  });

  it('sends five transactions back to back from one account; all commit in nonce order', async () => {
    const w = wallet(1);
    const c = pub();
    const start = await c.getTransactionCount({ address: w.account.address, blockTag: 'pending' });
    const hashes: Hex[] = [];
    for (let i = 0; i < 5; i++) {
      hashes.push(
        await w.sendTransaction({
          to: '0x000000000000000000000000000000000000bEEF',
          value: BigInt(i + 1),
          nonce: start + i,
        }),
      );
      // the pending count follows the in-flight transactions
      expect(await c.getTransactionCount({ address: w.account.address, blockTag: 'pending' })).toBe(
        start + i + 1,
      );
    }
    const receipts = await Promise.all(hashes.map((hash) => c.waitForTransactionReceipt({ hash })));
    expect(receipts.every((r) => r.status === 'success')).toBe(true);
    const txs = await Promise.all(hashes.map((hash) => c.getTransaction({ hash })));
    expect(txs.map((t) => t.nonce)).toEqual([0, 1, 2, 3, 4].map((i) => start + i));
    const order = receipts.map((r) => [r.blockNumber, r.transactionIndex] as const);
    const sorted = [...order].sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] < b[0] ? -1 : 1));
    expect(order).toEqual(sorted);
    expect(await c.getTransactionCount({ address: w.account.address })).toBe(start + 5);
    expect(await c.getBalance({ address: '0x000000000000000000000000000000000000bEEF' })).toBe(15n);
  });

  it("shows a revert's reason for calls and estimates (error 3 with the revert data)", async () => {
    const poor = privateKeyToAccount(generatePrivateKey()).address;
    await expect(
      pub().simulateContract({
        address: token,
        abi,
        functionName: 'transfer',
        args: [owner(), 1n],
        account: poor,
      }),
    ).rejects.toThrow(/OrdoToken: insufficient balance/);
    await expect(
      pub().estimateContractGas({
        address: token,
        abi,
        functionName: 'transfer',
        args: [owner(), 1n],
        account: poor,
      }),
    ).rejects.toThrow(/OrdoToken: insufficient balance/);
    const raw = await fetch(net.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'eth_call',
        params: [
          {
            from: poor,
            to: token,
            data: encodeFunctionData({ abi, functionName: 'transfer', args: [owner(), 1n] }),
          },
          'latest',
        ],
      }),
    }).then((r) => r.json() as Promise<{ error: { code: number; message: string; data: string } }>);
    expect(raw.error.code).toBe(3);
    expect(raw.error.message).toBe('execution reverted: OrdoToken: insufficient balance');
    expect(raw.error.data.startsWith('0x08c379a0')).toBe(true);
  });

  it('applies eth_call state overrides without changing state', async () => {
    const ghost = privateKeyToAccount(generatePrivateKey()).address;
    // balanceOf is the mapping at slot 3: balanceOf[ghost] lives at keccak256(abi.encode(ghost, 3)).
    const slot = keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [ghost, 3n]));
    const { data } = await pub().call({
      account: ghost,
      to: token,
      data: encodeFunctionData({ abi, functionName: 'balanceOf', args: [ghost] }),
      stateOverride: [{ address: token, stateDiff: [{ slot, value: pad('0x2a') }] }],
    });
    expect(BigInt(data!)).toBe(42n);
    expect(await pub().readContract({ address: token, abi, functionName: 'balanceOf', args: [ghost] })).toBe(
      0n,
    );
    // and the owner's real balance is untouched by a stateDiff elsewhere
    expect(
      await pub().readContract({ address: token, abi, functionName: 'balanceOf', args: [owner()] }),
    ).toBeGreaterThan(0n);
    const bal = await pub().request({
      method: 'eth_call' as never,
      params: [
        { to: ghost, data: '0x' },
        'latest',
        { [ghost]: { code: '0x3331600052602060006000f0', balance: '0x10' } },
      ] as never,
    });
    expect(typeof bal).toBe('string');
    expect(await pub().getBalance({ address: ghost })).toBe(0n);
  });

  it('refuses what can never execute, with the messages viem classifies', async () => {
    const unfunded = createWalletClient({
      chain,
      transport: http(net.url),
      account: privateKeyToAccount(generatePrivateKey()),
    });
    await expect(
      unfunded.sendTransaction({
        to: owner(),
        value: 1n,
        gas: 21_000n,
        maxFeePerGas: 2_000_000_000n,
        maxPriorityFeePerGas: 0n,
      }),
    ).rejects.toThrow(/insufficient funds/i);
    const w = wallet(2);
    const nonce = await pub().getTransactionCount({ address: w.account.address });
    if (nonce === 0) {
      const h = await w.sendTransaction({ to: owner(), value: 1n });
      await pub().waitForTransactionReceipt({ hash: h });
    }
    await expect(w.sendTransaction({ to: owner(), value: 1n, nonce: 0 })).rejects.toThrow(
      /nonce.*(too low|lower)/i,
    );
    await expect(w.sendTransaction({ to: owner(), value: 1n, gas: 20_000n })).rejects.toThrow(
      /intrinsic gas too low|gas.*too low/i,
    );
    await expect(
      w.sendTransaction({ to: owner(), value: 1n, maxFeePerGas: 1n, maxPriorityFeePerGas: 0n }),
    ).rejects.toThrow(/max fee per gas less than block base fee|fee cap/i);
    await expect(w.sendTransaction({ to: owner(), value: 1n, gas: 30_000_001n })).rejects.toThrow(
      /exceeds block gas limit/,
    );
    await expect(w.sendTransaction({ to: owner(), value: 1n, nonce: 10_000 })).rejects.toThrow(
      /nonce.*(too high|higher)/i,
    );
    const signed = await privateKeyToAccount(demoKey(2)).signTransaction({
      chainId: 1234,
      type: 'eip1559',
      to: owner(),
      value: 1n,
      nonce: 100,
      gas: 21_000n,
      maxFeePerGas: 2_000_000_000n,
      maxPriorityFeePerGas: 0n,
    });
    await expect(pub().sendRawTransaction({ serializedTransaction: signed })).rejects.toThrow(
      /invalid chain id/,
    );
  });

  it('bounds an endless loop: a call by the RPC gas cap or the call timeout, a transaction by the block gas limit', async () => {
    // JUMPDEST PUSH1 0 JUMP as init code: runs until its gas is gone. Before ADR 0285 a transaction like
    // this one with a gas limit of 10^12 held every executor, and so the chain, for hours.
    const loop = '0x5b600056' as const;
    await expect(
      pub().request({ method: 'eth_call', params: [{ data: loop, gas: '0x38d7ea4c68000' }, 'latest'] }),
      // Either bound ends it: the RPC gas cap (50 M gas, ~4-13 s here) or, on a busy host, the wall-clock
      // bound rpc.ethCallTimeoutMs (5 s, ADR 0288) first. Which one comes first depends on the host's speed.
    ).rejects.toThrow(/out of gas|execution aborted \(timeout/);
    const w = wallet(5);
    await expect(w.sendTransaction({ data: loop, gas: 10n ** 12n })).rejects.toThrow(
      /exceeds block gas limit/,
    );
    const hash = await w.sendTransaction({ data: loop, gas: 30_000_000n });
    const r = await pub().waitForTransactionReceipt({ hash, timeout: 60_000 });
    expect(r.status).toBe('reverted');
    expect(r.gasUsed).toBe(30_000_000n);
    // The chain goes on.
    await untilBlock(r.blockNumber + 2n);
  }, 120_000);

  it('watches blocks and logs over WebSocket (eth_subscribe)', async () => {
    const ws = createPublicClient({ chain, transport: webSocket(net.wsUrl) });
    try {
      const heads: bigint[] = [];
      const logs: Hex[] = [];
      const gotHeads = new Promise<void>((resolve) => {
        const un = ws.watchBlocks({
          onBlock: (b) => {
            heads.push(b.number);
            if (heads.length >= 3) {
              un();
              resolve();
            }
          },
        });
      });
      const gotLog = new Promise<void>((resolve) => {
        const un = ws.watchContractEvent({
          address: token,
          abi,
          eventName: 'Transfer',
          onLogs: (ls) => {
            for (const l of ls) logs.push(l.transactionHash!);
            un();
            resolve();
          },
        });
      });
      await new Promise((r) => setTimeout(r, 200)); // let the subscriptions register
      const hash = await wallet(0).writeContract({
        address: token,
        abi,
        functionName: 'transfer',
        args: [owner(), 1n],
      });
      await Promise.all([gotHeads, gotLog]);
      expect(heads[1]! - heads[0]!).toBe(1n);
      expect(logs).toContain(hash);
    } finally {
      await ws.transport.getRpcClient?.().then((c) => c.close());
    }
  });

  it('serves polling filters', async () => {
    const c = pub();
    const bf = await c.createBlockFilter();
    const ef = await c.createContractEventFilter({ address: token, abi, eventName: 'Transfer' });
    const hash = await wallet(0).writeContract({
      address: token,
      abi,
      functionName: 'transfer',
      args: [owner(), 2n],
    });
    const rc = await c.waitForTransactionReceipt({ hash });
    await untilBlock(rc.blockNumber + 1n);
    const blocks = await c.getFilterChanges({ filter: bf });
    expect(blocks.length).toBeGreaterThan(0);
    const evs = await c.getFilterChanges({ filter: ef });
    expect(evs.map((e) => e.transactionHash)).toContain(hash);
    expect(await c.uninstallFilter({ filter: bf })).toBe(true);
    await expect(c.getFilterChanges({ filter: bf })).rejects.toThrow(/filter not found/);
  });

  it("takes clients' less common paths: safe/finalized/earliest tags, getLogs from 'earliest', batched HTTP, fee estimates", async () => {
    const c = pub();
    const latest = await c.getBlock();
    for (const blockTag of ['safe', 'finalized', 'pending'] as const) {
      const b = await c.getBlock({ blockTag });
      expect(b.number).toBeGreaterThanOrEqual(latest.number); // BFT blocks are final: = latest
    }
    expect((await c.getBlock({ blockTag: 'earliest' })).number).toBe(0n);
    // The devnet is young (fewer than 1,000 blocks): the whole chain is one bounded query.
    const logs = await c.getLogs({ address: token, fromBlock: 'earliest', toBlock: 'latest' });
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.every((l) => l.address.toLowerCase() === token.toLowerCase())).toBe(true);
    // viem's JSON-RPC batching: the calls of one tick go as one HTTP batch and are answered item by item.
    const batched = createPublicClient({ chain, transport: http(net.url, { batch: true }) });
    const [id, n, bal] = await Promise.all([
      batched.getChainId(),
      batched.getBlockNumber(),
      batched.readContract({ address: token, abi, functionName: 'balanceOf', args: [owner()] }),
    ]);
    expect(id).toBe(EVM_CHAIN_ID);
    expect(n).toBeGreaterThan(0n);
    expect(typeof bal).toBe('bigint');
    const fees = await c.estimateFeesPerGas();
    expect(fees.maxFeePerGas).toBeGreaterThanOrEqual(1_000_000_000n);
    expect(fees.maxPriorityFeePerGas).toBe(0n);
    const hist = await c.getFeeHistory({ blockCount: 4, rewardPercentiles: [50] });
    expect(hist.baseFeePerGas).toHaveLength(5);
    expect(hist.reward).toHaveLength(4);
  });

  it('keeps block numbers, hashes and receipts across a restart', async () => {
    const c = pub();
    const hash = await wallet(3).sendTransaction({ to: owner(), value: 7n });
    const rc = await c.waitForTransactionReceipt({ hash });
    const before = await c.getBlock({ blockNumber: rc.blockNumber });
    await net.restart();
    const after = pub();
    expect(await after.getBlock({ blockNumber: rc.blockNumber })).toEqual(before);
    expect(await after.getTransactionReceipt({ hash })).toEqual(rc);
    expect((await after.getBlock({ blockHash: before.hash })).number).toBe(rc.blockNumber);
  });
});
