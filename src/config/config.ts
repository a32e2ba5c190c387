import { z } from 'zod';
import { LIMITS } from '../codec/index.ts';
import { parseOrThrow, readJsonFile } from './schema-error.ts';

const hostPort = z
  .string()
  .regex(/^[a-zA-Z0-9.\-:[\]]+:[0-9]{1,5}$/, 'expected host:port, e.g. 127.0.0.1:8545')
  .refine((s) => {
    const p = Number(s.slice(s.lastIndexOf(':') + 1));
    return p >= 0 && p <= 65535;
  }, 'port must be 0..65535');

const ms = (min: number, max: number) => z.number().int().min(min).max(max);

export const configSchema = z
  .object({
    node: z
      .object({
        moniker: z.string().min(1).max(64),
        mode: z.enum(['validator', 'full']),
      })
      .strict(),
    rpc: z
      .object({
        listen: hostPort,
        maxBodyBytes: z
          .number()
          .int()
          .min(1024)
          .max(64 * 1024 * 1024),
        maxConnections: z.number().int().min(1).max(100_000),
        maxConnectionsPerAddress: z.number().int().min(1).max(100_000),
        maxBatchRequests: z.number().int().min(1).max(10_000),
        requestTimeoutMs: ms(100, 600_000),
        headersTimeoutMs: ms(100, 600_000),
        idleTimeoutMs: ms(100, 24 * 3600_000),
        maxResponseBytes: z
          .number()
          .int()
          .min(1024)
          .max(1024 * 1024 * 1024),
        maxWsBufferedBytes: z
          .number()
          .int()
          .min(1024)
          .max(1024 * 1024 * 1024),
        maxWsRequestsInFlight: z.number().int().min(1).max(100_000),
        maxSubscriptionsPerConnection: z.number().int().min(1).max(100_000),
        ethCallWorkers: z.number().int().min(0).max(16),
        bundleSimulationGasPerSec: z.number().int().min(0).max(480_000_000),
        ethCallTimeoutMs: ms(0, 600_000).refine((v) => v === 0 || v >= 100, {
          message: 'must be 0 (no bound) or at least 100 ms',
        }),
      })
      .strict(),
    grpc: z
      .object({
        listen: hostPort.nullable(),
        maxStreams: z.number().int().min(1).max(100_000),
        maxStreamsPerClient: z.number().int().min(1).max(100_000),
        maxInFlightMessages: z.number().int().min(1).max(10_000),
        stallTimeoutMs: ms(100, 3600_000),
        maxFutureBlocks: z.number().int().min(0).max(1_000_000),
      })
      .strict(),
    health: z
      .object({
        maxBlockAgeMs: ms(1000, 24 * 3600_000),
        readyMaxBlockAgeMs: ms(1000, 24 * 3600_000),
      })
      .strict(),
    p2p: z
      .object({
        listen: z.string().startsWith('/ip', 'expected a multiaddr such as /ip4/127.0.0.1/tcp/26656'),
        bootstrap: z
          .array(z.string().includes('/p2p/', { message: 'bootstrap multiaddrs must end in /p2p/<peer id>' }))
          .max(256),
        announce: z
          .array(z.string().startsWith('/', 'expected a multiaddr such as /dns4/node0.example.org/tcp/26656'))
          .max(16),
        maxConnections: z.number().int().min(1).max(10_000),
        maxGossipMessageBytes: z.number().int().min(1024).max(LIMITS.maxConsensusMessageBytes),
        txBatchMaxTxs: z.number().int().min(1).max(LIMITS.maxBatchTxs),
        txBatchMaxBytes: z.number().int().min(1024).max(LIMITS.maxBatchBytes),
        txBatchFlushMs: ms(1, 10_000),
        gossipForwardDelayMs: z.number().int().min(0).max(1000),
        txGossipForwardDelayMs: z.number().int().min(0).max(1000),
        requestTimeoutMs: ms(100, 600_000),
        gossipPerPeerPerSecond: z.number().int().min(1).max(1_000_000),
        requestsPerPeerPerSecond: z.number().int().min(1).max(100_000),
        duplicatesPerPeerPerSecond: z.number().int().min(1).max(100_000),
        dedupeWindowMs: ms(1, 600_000),
        newIdentitiesPerAddressPerMinute: z.number().int().min(1).max(100_000),
      })
      .strict(),
    mempool: z
      .object({
        maxTotalTxs: z.number().int().min(1).max(10_000_000),
        maxTotalBytes: z
          .number()
          .int()
          .min(1024)
          .max(16 * 1024 * 1024 * 1024),
        ttlMs: ms(1000, 24 * 3600_000),
        highWaterFraction: z.number().gt(0).max(1),
        maxBacklogSeconds: z.number().min(0).max(3600),
        minBacklogTxs: z.number().int().min(1).max(100_000_000),
      })
      .strict(),
    bundles: z
      .object({
        maxBundles: z.number().int().min(1).max(1_000_000),
        maxBytes: z
          .number()
          .int()
          .min(1024)
          .max(16 * 1024 * 1024 * 1024),
        maxPerSigner: z.number().int().min(1).max(1_000_000),
        statusCacheSize: z.number().int().min(2).max(10_000_000),
        selectDelayMs: ms(0, 60_000),
        maxSimulationGasPerBlock: z.number().int().min(0).max(480_000_000),
      })
      .strict(),
    consensus: z
      .object({
        timeoutProposeMs: ms(10, 600_000),
        timeoutVoteMs: ms(10, 600_000),
        timeoutDeltaMs: ms(0, 600_000),
        heartbeatMs: ms(10, 600_000),
        maxBlockBytes: z.number().int().min(1024).max(LIMITS.maxBlockBytes),
        maxBlockTxs: z.number().int().min(1).max(LIMITS.maxBlockTxs),
        compactProposals: z.boolean(),
        busyBlockIntervalMs: ms(0, 10_000),
        busyBlockTxs: z.number().int().min(1).max(LIMITS.maxBlockTxs),
        minBlockIntervalMs: ms(0, 10_000),
        minBlockPeriodMs: ms(0, 10_000),
      })
      .strict()
      .superRefine((c, ctx) => {
        // A proposer that waits this long before proposing must not outlast its peers' patience.
        for (const key of ['busyBlockIntervalMs', 'minBlockIntervalMs', 'minBlockPeriodMs'] as const) {
          if (c[key] >= c.timeoutProposeMs)
            ctx.addIssue({
              code: 'custom',
              path: [key],
              message: 'must be below timeoutProposeMs (peers would time out waiting for the proposal)',
            });
        }
      }),
    store: z
      .object({ engine: z.enum(['lmdb', 'leveldb']), sync: z.boolean(), repairFromPeers: z.boolean() })
      .strict(),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
        format: z.enum(['auto', 'json', 'pretty']),
      })
      .strict(),
  })
  .strict();

export type NodeConfig = z.infer<typeof configSchema>;

export const DEFAULT_CONFIG: NodeConfig = {
  node: { moniker: 'ordo-node', mode: 'validator' },
  rpc: {
    listen: '127.0.0.1:8545',
    maxBodyBytes: 4 * 1024 * 1024,
    maxConnections: 1024,
    maxConnectionsPerAddress: 128,
    maxBatchRequests: 1000,
    requestTimeoutMs: 30_000,
    headersTimeoutMs: 10_000,
    idleTimeoutMs: 120_000,
    maxResponseBytes: 16 * 1024 * 1024,
    maxWsBufferedBytes: 32 * 1024 * 1024,
    maxWsRequestsInFlight: 64,
    maxSubscriptionsPerConnection: 64,
    ethCallWorkers: 1,
    bundleSimulationGasPerSec: 5_000_000,
    ethCallTimeoutMs: 5_000,
  },
  grpc: {
    listen: '127.0.0.1:9090',
    maxStreams: 256,
    maxStreamsPerClient: 32,
    maxInFlightMessages: 8,
    stallTimeoutMs: 30_000,
    maxFutureBlocks: 1024,
  },
  health: { maxBlockAgeMs: 60_000, readyMaxBlockAgeMs: 15_000 },
  p2p: {
    listen: '/ip4/127.0.0.1/tcp/26656',
    bootstrap: [],
    announce: [],
    maxConnections: 64,
    maxGossipMessageBytes: LIMITS.maxConsensusMessageBytes,
    txBatchMaxTxs: 1024,
    txBatchMaxBytes: 512 * 1024,
    txBatchFlushMs: 40,
    gossipForwardDelayMs: 20,
    txGossipForwardDelayMs: 100,
    requestTimeoutMs: 10_000,
    gossipPerPeerPerSecond: 2_000,
    requestsPerPeerPerSecond: 50,
    duplicatesPerPeerPerSecond: 50,
    dedupeWindowMs: 2_000,
    newIdentitiesPerAddressPerMinute: 8,
  },
  mempool: {
    maxTotalTxs: 200_000,
    maxTotalBytes: 256 * 1024 * 1024,
    ttlMs: 240_000,
    highWaterFraction: 0.9,
    maxBacklogSeconds: 1,
    minBacklogTxs: 5_000,
  },
  bundles: {
    maxBundles: 10_000,
    maxBytes: 64 * 1024 * 1024,
    maxPerSigner: 100,
    statusCacheSize: 100_000,
    selectDelayMs: 0,
    maxSimulationGasPerBlock: 30_000_000,
  },
  consensus: {
    timeoutProposeMs: 1000,
    timeoutVoteMs: 500,
    timeoutDeltaMs: 500,
    heartbeatMs: 1000,
    maxBlockBytes: 1024 * 1024,
    maxBlockTxs: 5_000,
    compactProposals: true,
    busyBlockIntervalMs: 100,
    busyBlockTxs: 500,
    minBlockIntervalMs: 50,
    minBlockPeriodMs: 250,
  },
  store: { engine: 'leveldb', sync: true, repairFromPeers: true },
  log: { level: 'info', format: 'auto' },
};

type Section = keyof NodeConfig;

/** Merge a partial config (as read from the file) over the defaults, section by section. */
export function mergeConfig(partial: unknown): unknown {
  if (partial === null || typeof partial !== 'object' || Array.isArray(partial)) return partial;
  const out: Record<string, unknown> = {};
  const p = partial as Record<string, unknown>;
  for (const key of Object.keys(p)) {
    const def = DEFAULT_CONFIG[key as Section];
    const val = p[key];
    out[key] =
      def !== undefined && val !== null && typeof val === 'object' && !Array.isArray(val)
        ? { ...def, ...(val as object) }
        : val;
  }
  for (const key of Object.keys(DEFAULT_CONFIG) as Section[]) {
    if (!(key in out)) out[key] = DEFAULT_CONFIG[key];
  }
  // minBlockPeriodMs came after configs with short propose timeouts existed: left unset, it stays below
  // the config's own timeoutProposeMs (at most half of it), so such a config still loads (ADR 0230).
  const c = p.consensus as Record<string, unknown> | undefined;
  if (
    c !== null &&
    typeof c === 'object' &&
    !Array.isArray(c) &&
    !('minBlockPeriodMs' in c) &&
    typeof c.timeoutProposeMs === 'number'
  ) {
    const merged = out.consensus as Record<string, unknown>;
    merged.minBlockPeriodMs = Math.min(
      DEFAULT_CONFIG.consensus.minBlockPeriodMs,
      Math.floor(c.timeoutProposeMs / 2),
    );
  }
  return out;
}

export function validateConfig(value: unknown, file = 'config'): NodeConfig {
  return parseOrThrow(configSchema, mergeConfig(value), 'CONFIG_INVALID', file);
}

export function loadConfig(file: string): NodeConfig {
  return validateConfig(
    readJsonFile(file, 'config', { unreadable: 'CONFIG_UNREADABLE', invalid: 'CONFIG_INVALID' }),
    file,
  );
}

export function parseHostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(s.slice(i + 1)) };
}
