/**
 * A self-contained demo of the counter rollup: an in-memory Ordo chain (real blocks and certificates
 * from 4 test validators, one block every 500 ms), the adapter gRPC server in front of it, and the
 * counter rollup following its verified stream. Stop with Ctrl-C; run again and the rollup resumes from
 * its saved height (the in-memory chain starts over, so use a fresh DATA_DIR for a fresh chain).
 *   node examples/counter-rollup/demo.ts        then   curl http://127.0.0.1:8081/state
 * Env: ADAPTER_PORT (default 9090), HTTP_PORT (8081), DATA_DIR (./.ordo/counter-demo-<time>).
 */
import pino from 'pino';
import { MemorySource, startAdapterServer } from '../../src/rollup-adapter/index.ts';
import { CounterRollup } from './rollup.ts';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
const source = new MemorySource({ chainId: 'ordo-demo' });
const server = await startAdapterServer({ source, port: Number(process.env.ADAPTER_PORT ?? 9090), logger });
const rollup = new CounterRollup({
  endpoints: [`127.0.0.1:${server.port}`],
  namespace: 1,
  chainId: source.chainId,
  validators: source.validators,
  dataDir: process.env.DATA_DIR ?? `./.ordo/counter-demo-${Date.now()}`,
  httpPort: Number(process.env.HTTP_PORT ?? 8081),
  logger,
});
const httpPort = await rollup.start();
const enc = new TextEncoder();
let n = 0;
const timer = setInterval(() => {
  for (let i = 0; i < 3; i++) {
    n++;
    const key = ['apples', 'pears', 'plums'][n % 3]!;
    source.submit({ namespace: 1, payload: enc.encode(JSON.stringify({ key, add: 1 + (n % 5) })) });
  }
  source.submit({ namespace: 2, payload: enc.encode(`another rollup's tx ${n}`) });
  source.produceBlock();
  if (source.height() % 10 === 0)
    logger.info({ height: source.height(), state: rollup.state.counters }, 'progress');
}, 500);
logger.info(
  { adapter: `127.0.0.1:${server.port}`, state: `http://127.0.0.1:${httpPort}/state` },
  'demo running',
);
const stop = async (): Promise<void> => {
  clearInterval(timer);
  await rollup.stop();
  await server.close();
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
