/**
 * Node-level Prometheus metrics (names `ordo_*`, unit-suffixed, time in seconds). Each node owns one
 * Registry (so several nodes can run in one process in tests) and hands it to every component; each
 * component registers its own metrics there once (docs/operating.md lists them all). Only what belongs
 * to no component lives here: the process defaults and the block-size distribution.
 */
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export interface NodeMetrics {
  registry: Registry;
  blockTxs: Histogram;
}

export function createNodeMetrics(opts: { defaults?: boolean } = {}): NodeMetrics {
  const registry = new Registry();
  if (opts.defaults ?? true) collectDefaultMetrics({ register: registry, prefix: 'ordo_process_' });
  return {
    registry,
    blockTxs: new Histogram({
      name: 'ordo_block_txs',
      help: 'Transactions per committed block',
      buckets: [0, 1, 10, 100, 1000, 5000, 10000, 20000],
      registers: [registry],
    }),
  };
}
