/**
 * The Ethereum RPC on a real multi-process testnet (`ordo testnet up`, 3 validators): the banner prints
 * each EVM rollup's URL; a transaction sent with viem to one node gets the same receipt, block number
 * and block hash from every node (rollup blocks are derived from certified data only); the testnet
 * stops cleanly and leaves no process behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Chain, createPublicClient, createWalletClient, http } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, describe, expect, it } from 'vitest';
import { demoEvmKey } from '../../src/config/demo-accounts.ts';
import {
  freeBasePort,
  killMatching,
  pidsMatching,
  runOrdo,
  waitFor,
  withTestnetLock,
} from './testnet/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordo-eth-e2e-'));
afterAll(() => {
  killMatching(dir);
  rmSync(dir, { recursive: true, force: true });
});

describe('Ethereum RPC on a 3-validator testnet (real processes)', () => {
  it(
    'serves the same rollup blocks and receipts from every node',
    () =>
      withTestnetLock(async () => {
        const base = await freeBasePort(3);
        const run = runOrdo([
          'testnet',
          'up',
          '--validators',
          '3',
          '--load',
          '0',
          '--duration',
          '25',
          '--dashboard',
          '0',
          '--base-port',
          String(base),
          '--dir',
          dir,
        ]);
        try {
          const banner = await waitFor(
            () =>
              /ethereum rpc \S+ \(chain id (\d+)\): (http:\/\/127\.0\.0\.1:\d+\/evm\/3)/.exec(run.out()) ??
              undefined,
            120_000,
            'the testnet banner with the Ethereum RPC URL',
          );
          const chainId = Number(banner[1]);
          const urls = [0, 1, 2].map((i) => `http://127.0.0.1:${base + 10 * i}/evm/3`);
          expect(banner[2]).toBe(urls[0]);
          const chain: Chain = {
            id: chainId,
            name: 'ordo-evm',
            nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
            rpcUrls: { default: { http: [urls[0]!] } },
          };
          const clients = urls.map((u) =>
            createPublicClient({ chain, transport: http(u), pollingInterval: 100 }),
          );
          const wallet = createWalletClient({
            chain,
            transport: http(urls[0]),
            account: privateKeyToAccount(`0x${Buffer.from(demoEvmKey(7)).toString('hex')}`),
          });
          const hash = await wallet.sendTransaction({
            to: '0x000000000000000000000000000000000000dEaD',
            value: 5n,
          });
          // the receipt as another node serves it
          const rc = await clients[2]!.waitForTransactionReceipt({ hash, timeout: 60_000 });
          expect(rc.status).toBe('success');
          const receipts = await Promise.all(
            clients.map((c) =>
              waitFor(
                () => c.getTransactionReceipt({ hash }).catch(() => undefined),
                30_000,
                'receipt on every node',
              ),
            ),
          );
          for (const r of receipts) expect(r).toEqual(rc);
          const blocks = await Promise.all(clients.map((c) => c.getBlock({ blockNumber: rc.blockNumber })));
          for (const b of blocks) expect(b).toEqual(blocks[0]);
          expect(blocks[0]!.hash).toBe(rc.blockHash);
        } finally {
          const code = await run.exited;
          expect(code, run.out().slice(-3000)).toBe(0);
        }
        expect(pidsMatching(dir)).toEqual([]);
      }),
    420_000,
  );
});
