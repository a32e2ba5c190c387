/**
 * Runs the counter rollup as a process:
 *   node examples/counter-rollup/main.ts config.json
 * where config.json is
 *   { "endpoints": ["127.0.0.1:9090"], "namespace": 1, "chainId": "ordo-local",
 *     "validators": [{ "publicKey": "<64 hex>", "votingPower": 1 }, ...],
 *     "dataDir": "./counter-data", "httpPort": 8081 }
 * The validator set must come from the chain's genesis file, never from the node being read.
 */
import { readFileSync } from 'node:fs';
import { fromHex } from '@ordo/sdk';
import pino from 'pino';
import { CounterRollup } from './rollup.ts';

interface Config {
  endpoints: string[];
  namespace: number;
  chainId: string;
  validators: { publicKey: string; votingPower: number }[];
  dataDir: string;
  httpPort?: number;
}

const path = process.argv[2];
if (path === undefined) {
  process.stderr.write('usage: node examples/counter-rollup/main.ts <config.json>\n');
  process.exit(2);
}
const cfg = JSON.parse(readFileSync(path, 'utf8')) as Config;
const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
const rollup = new CounterRollup({
  endpoints: cfg.endpoints,
  namespace: cfg.namespace,
  chainId: cfg.chainId,
  validators: cfg.validators.map((v) => ({ publicKey: fromHex(v.publicKey), votingPower: v.votingPower })),
  dataDir: cfg.dataDir,
  httpPort: cfg.httpPort ?? 8081,
  logger,
});
const port = await rollup.start();
logger.info({ url: `http://127.0.0.1:${port}/state` }, 'serving state');
const stop = async (): Promise<void> => {
  await rollup.stop();
  process.exit(0);
};
// `on`, and stop() runs once: under npm one Ctrl-C arrives twice (from the terminal and from npm).
let stopping = false;
const onSignal = (): void => {
  if (stopping) return;
  stopping = true;
  void stop();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
