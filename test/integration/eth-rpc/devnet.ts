/**
 * An in-process single-validator devnet for the Ethereum RPC tests: `ordo init`'s genesis (demo rollups,
 * EVM rollup namespace 3 with funded demo accounts), listening on 127.0.0.1 only, fast empty blocks.
 * Always `stop()` it (afterAll).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { demoEvmKey, evmAddress } from '../../../src/config/demo-accounts.ts';
import { initHome } from '../../../src/node/home-init.ts';
import { OrdoNode } from '../../../src/node/node.ts';

export const EVM_NS = 3;
export const EVM_CHAIN_ID = 900_001;

export interface Devnet {
  node: OrdoNode;
  home: string;
  /** http://127.0.0.1:PORT/evm/3 */
  url: string;
  wsUrl: string;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

export const demoKey = (i: number): `0x${string}` => `0x${Buffer.from(demoEvmKey(i)).toString('hex')}`;
export const demoAddress = (i: number): string => evmAddress(demoEvmKey(i));

export async function startDevnet(): Promise<Devnet> {
  const dir = mkdtempSync(join(tmpdir(), 'ordo-eth-rpc-'));
  const home = join(dir, 'n0');
  initHome({
    home,
    config: {
      // One call worker, so viem's and ethers' calls and estimates also go through it (ADR 0205).
      rpc: { listen: '127.0.0.1:0', ethCallWorkers: 1 },
      grpc: { listen: null },
      p2p: { listen: '/ip4/127.0.0.1/tcp/0' },
      consensus: { heartbeatMs: 150 },
    },
  });
  const logger = pino({ level: 'silent' });
  let node = OrdoNode.load({ home, logger });
  await node.start();
  const d: Devnet = {
    node,
    home,
    url: '',
    wsUrl: '',
    async stop() {
      await node.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      const port = new URL(node.rpcUrl).port;
      await node.stop();
      node = OrdoNode.load({ home, logger, rpcListen: `127.0.0.1:${port}` });
      await node.start();
      d.node = node;
    },
  };
  d.url = `${node.rpcUrl}/evm/${EVM_NS}`;
  d.wsUrl = d.url.replace('http://', 'ws://');
  return d;
}
