/**
 * Node-level Prometheus metrics (names `ordo_*`, unit-suffixed, time in seconds). Each node owns one
 * Registry (so several nodes can run in one process in tests) and hands it to every component.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface NodeMetrics {
  registry: Registry;
  height: Gauge;
  blockTxs: Histogram;
  commitLatency: Histogram;
  rpcSubmitted: Counter<'result'>;
}

export function createNodeMetrics(opts: { defaults?: boolean } = {}): NodeMetrics {
  const registry = new Registry();
  if (opts.defaults ?? true) collectDefaultMetrics({ register: registry, prefix: 'ordo_process_' });
  return {
    registry,
    height: new Gauge({
      name: 'ordo_chain_height',
      help: 'Latest committed block height',
      registers: [registry],
    }),
    blockTxs: new Histogram({
      name: 'ordo_block_txs',
      help: 'Transactions per committed block',
      buckets: [0, 1, 10, 100, 1000, 5000, 10000, 20000],
      registers: [registry],
    }),
    commitLatency: new Histogram({
      name: 'ordo_tx_submit_to_commit_seconds',
      help: 'Time from RPC admission to commit, for transactions admitted by this node',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2, 5, 10],
      registers: [registry],
    }),
    rpcSubmitted: new Counter({
      name: 'ordo_rpc_submitted_total',
      help: 'Transactions submitted over RPC by result',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}
