/**
 * The RollupAdapter gRPC service (grpc-js). StreamBlocks runs the shared pull stream (stream.ts) and
 * writes each slice with backpressure: at most `maxInFlightMessages` / `maxInFlightBytes` may sit in
 * the transport not yet taken by HTTP/2 flow control; past that the server waits for the consumer, and
 * a consumer stalled longer than `stallTimeoutMs` gets RESOURCE_EXHAUSTED with trailer
 * `ordo-resume-height`. Per-stream server memory is therefore bounded whatever the client does.
 * Streams are capped per server (`maxStreams`) and per client (`maxStreamsPerClient`, keyed by the
 * remote IP address), so one client opening many streams cannot lock the other rollups out.
 * Closing the server ends every stream with UNAVAILABLE, so SDK clients fail over at once.
 * SubmitBundle / GetBundleStatus translate to the node's ingress and bundle statuses (bundles.ts).
 *
 * The status of a cut-off stream travels behind the messages already written (HTTP/2 sends trailers
 * after DATA), so a consumer that resumes reading gets them and then RESOURCE_EXHAUSTED; one that never
 * reads again would pin that backlog for as long as its connection lives. After another
 * `stallTimeoutMs` the server therefore resets the HTTP/2 stream (RST_STREAM CANCEL), which frees it.
 */
import { constants as http2Constants } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import pino, { type Logger } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import { LIMITS } from '../codec/index.ts';
import { errorMessage } from '../errors.ts';
import { AdapterBundleError, bundleFromWire, bundleStatusToWire } from './bundles.ts';
import { AdapterError, type AdapterErrorCode } from './errors.ts';
import { commitmentStateOf, submitToSource } from './in-process.ts';
import { ResultsCache } from './results.ts';
import { SliceCache } from './slice.ts';
import type { AdapterSource } from './source.ts';
import { namespaceBlockStream } from './stream.ts';
import { DEFAULT_STREAM_LIMITS, type StreamLimits } from './types.ts';
import {
  commitmentToWire,
  loadAdapterService,
  MAX_MESSAGE_BYTES,
  namespaceBlockSize,
  namespaceBlockToWire,
  submitResultToWire,
  txStatusToWire,
  u64,
  type Wire,
} from './wire.ts';

export interface AdapterServerOptions {
  source: AdapterSource;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  limits?: Partial<StreamLimits>;
  logger?: Logger;
  registry?: Registry;
}

export interface AdapterServer {
  port: number;
  activeStreams(): number;
  close(): Promise<void>;
}

const STATUS_OF: Record<AdapterErrorCode, grpc.status> = {
  UNKNOWN_NAMESPACE: grpc.status.NOT_FOUND,
  FROM_HEIGHT_TOO_FAR: grpc.status.OUT_OF_RANGE,
  HEIGHT_PRUNED: grpc.status.FAILED_PRECONDITION,
  CONSUMER_TOO_SLOW: grpc.status.RESOURCE_EXHAUSTED,
  TOO_MANY_STREAMS: grpc.status.RESOURCE_EXHAUSTED,
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  BLOCK_MISSING: grpc.status.DATA_LOSS,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  CLOSED: grpc.status.UNAVAILABLE,
};

/** Map a thrown error to a gRPC status with `ordo-error-code` (and `ordo-resume-height`) trailers. */
export function toServiceError(err: unknown): Partial<grpc.ServiceError> {
  const metadata = new grpc.Metadata();
  if (err instanceof AdapterError) {
    metadata.set('ordo-error-code', err.code);
    const h = err.resumeHeight;
    if (h !== undefined) metadata.set('ordo-resume-height', String(h));
    return { code: STATUS_OF[err.code], details: err.message, metadata };
  }
  if (err instanceof AdapterBundleError) {
    metadata.set('ordo-error-code', err.code);
    metadata.set('ordo-retryable', String(err.retryable));
    return { code: err.grpcStatus, details: err.message, metadata };
  }
  metadata.set('ordo-error-code', 'INTERNAL');
  return { code: grpc.status.INTERNAL, details: errorMessage(err), metadata };
}

/**
 * grpc-js has no public way to reset a server stream; its call object holds the Node HTTP/2 stream
 * (`call.call.stream`, grpc-js 1.10-1.14). If that shape is not found, nothing is done (the backlog is
 * then freed when the connection closes, as before).
 */
function resetIfStuck(call: grpc.ServerWritableStream<Wire, Wire>, graceMs: number): void {
  const h2 = (call as unknown as { call?: { stream?: unknown } }).call?.stream as
    | { closed?: boolean; destroyed?: boolean; close?: (code: number) => void }
    | undefined;
  if (h2 === undefined || typeof h2.close !== 'function') return;
  const t = setTimeout(() => {
    if (h2.closed !== true && h2.destroyed !== true) h2.close?.(http2Constants.NGHTTP2_CANCEL);
  }, graceMs);
  t.unref();
}

/**
 * The IP address of a grpc-js peer string: `1.2.3.4:5`, `::1:5` (grpc-js 1.14 server calls), or with an
 * `ipv4:`/`ipv6:` prefix and brackets (`ipv6:[::1]:5`). The trailing port is dropped.
 */
export function clientAddress(peer: string): string {
  const bare = peer.replace(/^ipv[46]:/, '');
  const m = /^\[?(.*?)\]?:(\d+)$/.exec(bare);
  return m?.[1] ?? bare;
}

interface Metrics {
  streams: Gauge;
  blocks: Counter;
  bytes: Counter;
  ended: Counter<'code'>;
}

function makeMetrics(registry: Registry): Metrics {
  return {
    streams: new Gauge({
      name: 'ordo_adapter_streams_active',
      help: 'Open StreamBlocks calls',
      registers: [registry],
    }),
    blocks: new Counter({
      name: 'ordo_adapter_blocks_sent_total',
      help: 'NamespaceBlocks written',
      registers: [registry],
    }),
    bytes: new Counter({
      name: 'ordo_adapter_sent_bytes_total',
      help: 'Approximate NamespaceBlock bytes written',
      registers: [registry],
    }),
    ended: new Counter({
      name: 'ordo_adapter_streams_failed_total',
      help: 'StreamBlocks calls ended with an error, by code',
      labelNames: ['code'],
      registers: [registry],
    }),
  };
}

export async function startAdapterServer(opts: AdapterServerOptions): Promise<AdapterServer> {
  const { source } = opts;
  const log = (opts.logger ?? pino({ level: 'silent' })).child({ module: 'rollup-adapter' });
  const limits: StreamLimits = { ...DEFAULT_STREAM_LIMITS, ...opts.limits };
  const metrics = makeMetrics(opts.registry ?? new Registry());
  const cache = new SliceCache(16);
  const results = new ResultsCache();
  const active = new Set<AbortController>();
  const perClient = new Map<string, number>();
  let closing = false;

  const server = new grpc.Server({
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_receive_message_length': 1024 * 1024,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
  });

  async function streamBlocks(call: grpc.ServerWritableStream<Wire, Wire>): Promise<void> {
    if (closing) {
      call.emit('error', toServiceError(new AdapterError('CLOSED', 'the adapter is shutting down')));
      return;
    }
    if (active.size >= limits.maxStreams) {
      call.emit(
        'error',
        toServiceError(
          new AdapterError('UNAVAILABLE', `too many streams (${limits.maxStreams}); try another node`),
        ),
      );
      return;
    }
    const client = clientAddress(call.getPeer());
    const mine = perClient.get(client) ?? 0;
    if (mine >= limits.maxStreamsPerClient) {
      metrics.ended.inc({ code: 'TOO_MANY_STREAMS' });
      call.emit(
        'error',
        toServiceError(
          new AdapterError(
            'TOO_MANY_STREAMS',
            `this client already has ${mine} open streams (grpc.maxStreamsPerClient); close one first`,
            { maxStreamsPerClient: limits.maxStreamsPerClient },
          ),
        ),
      );
      return;
    }
    perClient.set(client, mine + 1);
    const ac = new AbortController();
    active.add(ac);
    metrics.streams.inc();
    call.on('cancelled', () => ac.abort());
    call.on('error', () => ac.abort());
    // In-flight accounting: write callbacks fire when HTTP/2 has taken the message.
    let inFlight = 0;
    let inFlightBytes = 0;
    let drained: (() => void) | undefined;
    const onWritten = (size: number) => (): void => {
      inFlight--;
      inFlightBytes -= size;
      const d = drained;
      drained = undefined;
      d?.();
    };
    let lastSent = 0;
    try {
      const req = { namespace: Number(call.request?.namespace ?? 0), fromHeight: 0 };
      const rawFrom: unknown = call.request?.fromHeight ?? 0;
      try {
        req.fromHeight = u64('from_height', rawFrom);
      } catch {
        // A valid uint64 above 2^53 - 1 is a height no chain reaches: far ahead of any head, so the
        // documented OUT_OF_RANGE, not INVALID_ARGUMENT (a Go client may send math.MaxUint64).
        if (typeof rawFrom === 'string' && /^\d+$/.test(rawFrom))
          throw new AdapterError(
            'FROM_HEIGHT_TOO_FAR',
            `from_height ${rawFrom} is more than ${limits.maxFutureBlocks} blocks ahead of the head ${source.height()}`,
            { head: source.height(), maxFutureBlocks: limits.maxFutureBlocks },
          );
        throw new AdapterError('INVALID_ARGUMENT', 'from_height must be a non-negative integer');
      }
      lastSent = Math.max(1, req.fromHeight) - 1;
      const stream = namespaceBlockStream(source, req, { signal: ac.signal, limits, cache, results });
      for await (const nb of stream) {
        const size = namespaceBlockSize(nb);
        inFlight++;
        inFlightBytes += size;
        call.write(namespaceBlockToWire(nb), onWritten(size));
        lastSent = nb.height;
        metrics.blocks.inc();
        metrics.bytes.inc(size);
        while (
          !ac.signal.aborted &&
          (inFlight >= limits.maxInFlightMessages || inFlightBytes >= limits.maxInFlightBytes)
        ) {
          const ok = await new Promise<boolean>((resolve) => {
            const t = setTimeout(() => resolve(false), limits.stallTimeoutMs);
            const done = (): void => {
              clearTimeout(t);
              ac.signal.removeEventListener('abort', done);
              resolve(true);
            };
            drained = done;
            ac.signal.addEventListener('abort', done);
          });
          if (!ok) {
            throw new AdapterError(
              'CONSUMER_TOO_SLOW',
              `consumer stopped reading for ${limits.stallTimeoutMs} ms; resume from height ${lastSent + 1}`,
              { resumeHeight: lastSent + 1 },
            );
          }
        }
      }
      if (closing)
        throw new AdapterError('CLOSED', `the adapter is shutting down; resume from height ${lastSent + 1}`, {
          resumeHeight: lastSent + 1,
        });
      if (!call.cancelled) call.end();
    } catch (err) {
      const e = toServiceError(err);
      metrics.ended.inc({ code: err instanceof AdapterError ? err.code : 'INTERNAL' });
      if (!(err instanceof AdapterError)) log.error({ err: errorMessage(err) }, 'StreamBlocks failed');
      else log.debug({ code: err.code, msg: err.message }, 'StreamBlocks ended');
      if (!call.cancelled) call.emit('error', e);
      if (err instanceof AdapterError && err.code === 'CONSUMER_TOO_SLOW')
        resetIfStuck(call, limits.stallTimeoutMs);
    } finally {
      active.delete(ac);
      const left = (perClient.get(client) ?? 1) - 1;
      if (left <= 0) perClient.delete(client);
      else perClient.set(client, left);
      metrics.streams.dec();
    }
  }

  const unary =
    <T extends Wire>(fn: (req: Wire) => Promise<T>) =>
    (call: grpc.ServerUnaryCall<Wire, Wire>, cb: grpc.sendUnaryData<Wire>): void => {
      fn(call.request).then(
        (res) => cb(null, res),
        (err: unknown) => cb(toServiceError(err)),
      );
    };

  server.addService(loadAdapterService().service, {
    StreamBlocks: streamBlocks,
    SubmitTransaction: unary(async (req) => {
      // Wire decode only (size-bounded by grpc.max_receive_message_length); every check is the ingress's.
      const namespace = Number(req?.namespace ?? 0);
      const payload = req?.payload instanceof Uint8Array ? new Uint8Array(req.payload) : new Uint8Array(0);
      return submitResultToWire(await submitToSource(source, { namespace, payload }, 'grpc'));
    }),
    GetTransactionStatus: unary(async (req) => {
      const h = req?.txHash;
      if (!(h instanceof Uint8Array) || h.byteLength !== 32)
        throw new AdapterError('INVALID_ARGUMENT', 'tx_hash must be 32 bytes');
      return txStatusToWire(await source.status(new Uint8Array(h)));
    }),
    GetCommitmentState: unary(async () => commitmentToWire(await commitmentStateOf(source))),
    // Bundles (docs/adapter.md "Bundles"): the meaning of ordo_sendBundle / ordo_getBundleStatus.
    SubmitBundle: unary(async (req) => {
      if (source.submitBundle === undefined)
        throw new AdapterBundleError('BUNDLES_DISABLED', 'this node takes no bundles');
      const bundle = bundleFromWire(req, source.rollups, source.maxTxBytes ?? LIMITS.maxTxBytes);
      const r = source.submitBundle(bundle, 'grpc');
      if (!r.ok) throw new AdapterBundleError(r.code, r.message, r.retryable);
      return { bundleHash: r.bundleHash, replaced: r.replaced ?? new Uint8Array(0) };
    }),
    GetBundleStatus: unary(async (req) => {
      const h = req?.bundleHash;
      if (!(h instanceof Uint8Array) || h.byteLength !== 32)
        throw new AdapterError('INVALID_ARGUMENT', 'bundle_hash must be 32 bytes');
      const s = source.bundleStatus?.(new Uint8Array(h));
      if (s === undefined)
        throw new AdapterBundleError('BUNDLE_UNKNOWN', 'this node does not know the bundle (or forgot it)');
      return bundleStatusToWire(s);
    }),
  });

  const host = opts.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${opts.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    );
  });
  log.info({ host, port }, 'rollup adapter listening');

  return {
    port,
    activeStreams: () => active.size,
    async close() {
      if (closing) return;
      closing = true;
      for (const ac of active) ac.abort();
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2_000);
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      });
      log.info({ port }, 'rollup adapter stopped');
    },
  };
}
