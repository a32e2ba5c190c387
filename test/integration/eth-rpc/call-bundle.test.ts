/**
 * `eth_callBundle` (Flashbots' shape) issued as a raw JSON-RPC call by viem's `client.request` against an
 * in-process devnet: per-transaction results in order (each on the state the previous left), a
 * reverting second transaction reported with its reason, totals and the keccak bundle hash, nothing
 * persisted, and -32602 for malformed bundles. The simulations run on the rollup's call worker (ADR 0305).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Abi,
  type Chain,
  concat,
  createPublicClient,
  createWalletClient,
  encodeFunctionData,
  encodeFunctionResult,
  type Hex,
  http,
  keccak256,
  parseEther,
  toHex,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, demoKey, EVM_CHAIN_ID, startDevnet } from './devnet.ts';

const artifact = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'evm', 'OrdoToken.json'), 'utf8'),
) as { abi: Abi; bytecode: Hex };
const abi = artifact.abi;

interface CallBundleResult {
  results: {
    txHash: Hex;
    gasUsed: number;
    gasPrice: string;
    gasFees: string;
    fromAddress: string;
    toAddress: string | null;
    value?: Hex;
    error?: string;
    revert?: string;
    revertData?: Hex;
  }[];
  bundleHash: Hex;
  bundleGasPrice: string;
  gasFees: string;
  totalGasUsed: number;
  stateBlockNumber: number;
  applies: boolean;
  reason?: string;
}

let net: Devnet;
let chain: Chain;
let token: Hex;
const pub = () => createPublicClient({ chain, transport: http(net.url), pollingInterval: 100 });
const account = (i: number) => privateKeyToAccount(demoKey(i));
const wallet = (i: number) => createWalletClient({ chain, transport: http(net.url), account: account(i) });

/** eth_callBundle through viem's raw request (an EIP-1193 call viem does not know). */
const callBundle = (bundle: unknown) =>
  pub().request({ method: 'eth_callBundle', params: [bundle] } as never) as Promise<CallBundleResult>;

/** A signed ERC-20 transfer from demo account `i` (explicit nonce and gas: nothing is estimated). */
async function signedTransfer(i: number, to: Hex, amount: bigint, nonce: number): Promise<Hex> {
  return wallet(i).signTransaction({
    to: token,
    data: encodeFunctionData({ abi, functionName: 'transfer', args: [to, amount] }),
    nonce,
    gas: 200_000n,
    maxFeePerGas: 2_000_000_000n,
    maxPriorityFeePerGas: 1_000_000_000n,
    chain,
  });
}

const tokenBalance = (who: Hex) =>
  pub().readContract({ address: token, abi, functionName: 'balanceOf', args: [who] }) as Promise<bigint>;

beforeAll(async () => {
  net = await startDevnet();
  chain = {
    id: EVM_CHAIN_ID,
    name: 'ordo-evm',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [net.url] } },
  };
  const hash = await wallet(0).deployContract({
    abi,
    bytecode: artifact.bytecode,
    args: ['Ordo Token', 'ORD', parseEther('1000000')],
  });
  const rc = await pub().waitForTransactionReceipt({ hash });
  token = rc.contractAddress!;
}, 60_000);
afterAll(async () => {
  await net?.stop();
});

describe('eth_callBundle', () => {
  it('simulates in order on the state each tx leaves; a reverting second tx is reported with its reason', async () => {
    const c = pub();
    const head = await c.getBlockNumber();
    const a7 = account(7).address;
    const a8 = account(8).address;
    const n0 = await c.getTransactionCount({ address: account(0).address, blockTag: 'pending' });
    const n7 = await c.getTransactionCount({ address: a7, blockTag: 'pending' });

    // 1. owner → a7 (10 tokens), then a7 → a8 (4 tokens): the second only works on the first's state.
    const ok1 = await signedTransfer(0, a7, 10n, n0);
    const ok2 = await signedTransfer(7, a8, 4n, n7);
    const good = await callBundle({ txs: [ok1, ok2], blockNumber: toHex(head + 1n) });
    const yes = encodeFunctionResult({ abi, functionName: 'transfer', result: true });
    expect(good.applies).toBe(true);
    expect(good.results.map((r) => [r.txHash, r.value, r.error])).toEqual([
      [keccak256(ok1), yes, undefined],
      [keccak256(ok2), yes, undefined],
    ]);
    expect(good.results[0]!.fromAddress).toBe(account(0).address.toLowerCase());
    expect(good.results[1]!.fromAddress).toBe(a7.toLowerCase());
    expect(good.results[0]!.toAddress).toBe(token.toLowerCase());
    for (const r of good.results) {
      expect(r.gasUsed).toBeGreaterThan(21_000);
      expect(r.gasUsed).toBeLessThan(200_000);
      // EIP-1559: base fee 1 gwei + tip 1 gwei (max fee 2 gwei)
      expect(r.gasPrice).toBe('2000000000');
      expect(BigInt(r.gasFees)).toBe(BigInt(r.gasUsed) * 2_000_000_000n);
    }
    expect(good.totalGasUsed).toBe(good.results[0]!.gasUsed + good.results[1]!.gasUsed);
    expect(BigInt(good.gasFees)).toBe(BigInt(good.totalGasUsed) * 2_000_000_000n);
    expect(good.bundleGasPrice).toBe('2000000000');
    expect(good.bundleHash).toBe(keccak256(concat([keccak256(ok1), keccak256(ok2)])));
    expect(good.stateBlockNumber).toBeGreaterThanOrEqual(Number(head));

    // 2. owner → a7 (10 tokens) succeeds, then a7 → a8 (100 tokens) reverts: insufficient balance.
    const bad2 = await signedTransfer(7, a8, 100n, n7);
    const bad = await callBundle({
      txs: [ok1, bad2],
      blockNumber: toHex(head + 1n),
      stateBlockNumber: 'latest',
      timestamp: Math.floor(Date.now() / 1000),
    });
    expect(bad.applies).toBe(false);
    expect(bad.reason).toContain('tx 1');
    expect(bad.results[0]).toMatchObject({ txHash: keccak256(ok1), value: yes });
    expect(bad.results[0]!.error).toBeUndefined();
    expect(bad.results[1]).toMatchObject({
      txHash: keccak256(bad2),
      error: 'execution reverted',
      revert: 'OrdoToken: insufficient balance',
    });
    expect(bad.results[1]!.revertData?.startsWith('0x08c379a0')).toBe(true);
    expect(bad.results[1]!.value).toBeUndefined();
    expect(bad.results[1]!.gasUsed).toBeGreaterThan(21_000);

    // Nothing was persisted: balances and nonces are where they were.
    expect(await tokenBalance(a7)).toBe(0n);
    expect(await tokenBalance(a8)).toBe(0n);
    expect(await c.getTransactionCount({ address: a7 })).toBe(n7);
    // Both ran on the rollup's call worker, not on the main thread (ADR 0305).
    const sims = await net.node.metrics.registry.getSingleMetric('ordo_rpc_bundle_simulations_total')?.get();
    const ran = (thread: string) => sims?.values.find((v) => v.labels.thread === thread)?.value ?? 0;
    expect(ran('worker')).toBeGreaterThanOrEqual(2);
    expect(ran('main')).toBe(0);
  });

  it('simulates at the latest state by number, and refuses an older one', async () => {
    const c = pub();
    const n0 = await c.getTransactionCount({ address: account(0).address, blockTag: 'pending' });
    const tx = await signedTransfer(0, account(9).address, 1n, n0);
    // The index may trail the executor by a height: find the state height from a tag first.
    let first = await callBundle({ txs: [tx], blockNumber: '0x1' });
    // An older state to refuse needs at least two executed heights (empty blocks keep coming).
    for (let i = 0; i < 200 && first.stateBlockNumber < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      first = await callBundle({ txs: [tx], blockNumber: '0x1' });
    }
    const again = await callBundle({
      txs: [tx],
      blockNumber: '0x1',
      stateBlockNumber: toHex(first.stateBlockNumber),
    }).catch((e: unknown) => e as Error);
    // Blocks keep coming: either it ran at exactly that height, or it said that height is gone.
    if (again instanceof Error) expect(again.message).toMatch(/only the latest executed state/);
    else expect(again.stateBlockNumber).toBe(first.stateBlockNumber);
    const older = toHex(first.stateBlockNumber - 1);
    await expect(callBundle({ txs: [tx], blockNumber: '0x1', stateBlockNumber: older })).rejects.toThrow(
      /only the latest executed state/,
    );
  });

  it('refuses malformed bundles with -32602 naming what was wrong', async () => {
    const cases: [unknown, RegExp][] = [
      [{ txs: [], blockNumber: '0x1' }, /txs must be a non-empty array/],
      [{ txs: ['0x01'] }, /blockNumber/],
      [{ txs: ['0xzz'], blockNumber: '0x1' }, /txs\[0\]/],
      [{ txs: ['0x02c0'], blockNumber: '0x1' }, /txs\[0\]: transaction is not valid RLP/],
      [{ txs: ['0x01'], blockNumber: '0x1', timestamp: 'soon' }, /timestamp/],
      [{ txs: ['0x01'], blockNumber: '0x1', stateBlockNumber: 'yesterday' }, /stateBlockNumber/],
    ];
    for (const [bundle, message] of cases) {
      const r = await fetch(net.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_callBundle', params: [bundle] }),
      }).then((x) => x.json() as Promise<{ error?: { code: number; message: string } }>);
      expect(r.error?.code, JSON.stringify(bundle)).toBe(-32602);
      expect(r.error?.message).toMatch(message);
    }
  });
});
