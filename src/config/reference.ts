/**
 * The config reference: one description per key of `config.json`, rendered with the default value and
 * what the schema allows into docs/config.md (`ordo config reference`). JSON has no comments, so the
 * commented reference lives in the docs, generated from the schema itself so it cannot drift: a unit
 * test fails when a key has no description or docs/config.md differs from `configReference()`.
 */
import { z } from 'zod';
import { configSchema, DEFAULT_CONFIG } from './config.ts';

/** `section.key` → what it does. Every key of DEFAULT_CONFIG must be here (unit-tested). */
export const CONFIG_DESCRIPTIONS: Record<string, string> = {
  'rpc.maxConnectionsPerAddress':
    'Connections (HTTP and WebSocket together) one remote IP may hold; more are closed at once. Behind a proxy, raise it.',
  'rpc.headersTimeoutMs':
    'A connection whose request headers are not complete (or that sent nothing) after this many ms is closed (slowloris).',
  'rpc.idleTimeoutMs':
    'A WebSocket with no message and no subscription for this many ms is closed; sockets with subscriptions are pinged instead.',
  'rpc.maxResponseBytes':
    'Largest answer (request, batch or WebSocket message), bytes; past it the answer is -32005 RESPONSE_TOO_LARGE and the rest of a batch is not run.',
  'rpc.maxWsBufferedBytes': 'Bytes a WebSocket client may leave unread before it is disconnected.',
  'rpc.maxWsRequestsInFlight': 'Requests one WebSocket may have in flight at once (-32005 past it).',
  'rpc.maxSubscriptionsPerConnection':
    'Subscriptions one WebSocket may hold (-32005 TOO_MANY_SUBSCRIPTIONS past it).',
  'rpc.ethCallWorkers':
    "Worker threads per EVM rollup that run eth_call and eth_estimateGas off the main thread (and the EVM legs of bundle simulations: ordo_callBundle / eth_callBundle, ADR 0305, and the proposer's presimulation of bundles declaring at least 1 M EVM gas, ADR 0313), each with a replica of that rollup's state (memory: one copy each, plus one for the seed replica they load from, ADR 0315); 1 (default: measured faster than the main thread alone, ADR 0205 and 0226); 0 runs them on the main thread.",
  'rpc.bundleSimulationGasPerSec':
    'EVM gas per second that ordo_callBundle and eth_callBundle requests may declare together (their EVM legs run on the call workers, ADR 0305, else on the main thread); past it -32003 EXEC_SIM_BUSY with retryAfterMs (ADR 0297); 0 = no bound.',
  'rpc.ethCallTimeoutMs':
    "Wall-clock bound on one eth_call (or bundle leg of ordo_callBundle / eth_callBundle, ADR 0305, or of a presimulation, ADR 0313) a call worker runs, and on one eth_estimateGas request, ms (geth's RPCEVMTimeout, default 5,000): past it the answer is -32000 `execution aborted (timeout = 5s)` and the worker is replaced (ADR 0288). Calls the main thread runs (`ethCallWorkers: 0`, or no worker ready) cannot be stopped. 0 = no bound; otherwise at least 100.",
  'grpc.maxStreams':
    'Block streams the adapter serves at once, all clients together (RESOURCE_EXHAUSTED past it).',
  'grpc.maxStreamsPerClient':
    'Block streams one client IP may hold at once (RESOURCE_EXHAUSTED, TOO_MANY_STREAMS past it).',
  'grpc.maxInFlightMessages':
    'Messages a stream may have unacknowledged by the transport before the consumer counts as stalled.',
  'grpc.stallTimeoutMs':
    'A stream stalled this long ends with RESOURCE_EXHAUSTED and ordo-resume-height; after as long again it is reset.',
  'grpc.maxFutureBlocks':
    'How far above the head a StreamBlocks from_height may be (the stream waits for it); beyond it OUT_OF_RANGE, FROM_HEIGHT_TOO_FAR. 0: only committed heights.',
  'health.maxBlockAgeMs': '`/health` (liveness) fails when the height has not advanced for this many ms.',
  'health.readyMaxBlockAgeMs':
    '`/ready` (readiness) fails when the height has not advanced for this many ms.',
  'p2p.gossipPerPeerPerSecond':
    'Gossip messages accepted per peer per second; more are ignored and the peer is penalised.',
  'p2p.requestsPerPeerPerSecond':
    'Request/response calls served per peer per second; more are refused (P2P_RATE_LIMITED).',
  'p2p.duplicatesPerPeerPerSecond':
    'Replayed gossip (same content, fresh id) tolerated per peer per second before it is penalised as spam.',
  'p2p.dedupeWindowMs':
    'How long gossip content is remembered by hash, so a replay under a fresh id is ignored.',
  'p2p.newIdentitiesPerAddressPerMinute':
    'New peer ids accepted per remote IP per minute (loopback exempt); a ban uses up the budget.',
  'node.moniker': 'Human-readable node name, shown in logs, metrics and `ordo_status`.',
  'node.mode':
    '`validator` signs votes with keys/validator.json (its key must be in genesis); `full` follows the chain without voting.',
  'rpc.listen':
    'JSON-RPC (HTTP + WebSocket, /metrics, /health) listen address. Unauthenticated: keep it on loopback or a private network. CLI: `--rpc`.',
  'rpc.maxBodyBytes': 'Largest HTTP request body or WebSocket message, bytes.',
  'rpc.maxConnections': 'Concurrent HTTP connections the server accepts.',
  'rpc.maxBatchRequests': 'Requests in one JSON-RPC batch, and transactions in one batch submission.',
  'rpc.requestTimeoutMs': 'Time allowed to receive one whole HTTP request, ms.',
  'grpc.listen':
    'Rollup adapter gRPC (`ordo.adapter.v1`) listen address; `null` turns the adapter off. CLI: `--grpc` (`off` for null).',
  'p2p.listen':
    'libp2p TCP listen multiaddr; other validators must reach it (use 0.0.0.0 and open the port). CLI: `--p2p`.',
  'p2p.bootstrap':
    'Peers to dial at start: full multiaddrs ending in `/p2p/<peer id>` (`ordo testnet peer-id` prints a peer id). Give at least two.',
  'p2p.announce':
    'Addresses this node tells its peers to reach it at, instead of the listen addresses libp2p finds itself: set them when those are not reachable by the others (a container behind published ports, NAT), e.g. `/dns4/node0.example.org/tcp/26656` or `/ip4/203.0.113.7/tcp/26656`, without `/p2p/`. Empty: the listen addresses (0.0.0.0 expands to every interface address).',
  'p2p.maxConnections': 'Most open peer connections.',
  'p2p.maxGossipMessageBytes':
    'Largest consensus gossip message accepted; larger ones are rejected before decoding.',
  'p2p.txBatchMaxTxs': 'Transactions per gossip batch; a full batch is sent at once.',
  'p2p.txBatchMaxBytes': 'Bytes per gossip batch; a full batch is sent at once.',
  'p2p.txBatchFlushMs': 'Longest wait before a partly filled transaction batch is sent, ms.',
  'p2p.gossipForwardDelayMs':
    'Delay before forwarding received gossip, so duplicates can be suppressed, ms (ADR 0064).',
  'p2p.txGossipForwardDelayMs':
    'Delay before forwarding a received transaction batch (gossipForwardDelayMs for the txs topic), so the IDONTWANTs of peers that got it from its author arrive first even on a busy host, ms (ADR 0190).',
  'p2p.requestTimeoutMs': 'Timeout of one request/response exchange (block sync, tx lookup), ms.',
  'mempool.maxTotalTxs': 'Pending transactions over all rollups; above it admission answers OVERLOADED.',
  'mempool.maxTotalBytes': 'Pending transaction bytes over all rollups.',
  'mempool.ttlMs': 'A pending transaction not committed within this time is dropped (status: expired), ms.',
  'mempool.highWaterFraction':
    'Fraction of a limit at which new submissions are refused as OVERLOADED (retryable) before the pool is full.',
  'mempool.maxBacklogSeconds':
    'Admission control: refuse new transactions when the backlog exceeds this many seconds of the measured commit rate (ADR 0063); 0 turns it off.',
  'bundles.maxBundles':
    'Pending bundles the bundle pool holds; past it admission answers BUNDLE_POOL_FULL (retryable).',
  'bundles.maxBytes': 'Pending bundle transaction bytes the bundle pool holds (BUNDLE_POOL_FULL past it).',
  'bundles.maxPerSigner':
    'Pending bundles one signer may hold; all unsigned bundles share one "anonymous" bucket (BUNDLE_POOL_FULL past it).',
  'bundles.statusCacheSize':
    'Statuses of finished bundles (committed, dropped) remembered for ordo_getBundleStatus; older ones are forgotten.',
  'bundles.maxSimulationGasPerBlock':
    "EVM gas the proposer's bundle simulations may declare per block; a bundle declaring more is refused (BUNDLE_TOO_LARGE), and ordo_callBundle / eth_callBundle refuse it too (ADR 0297).",
  'bundles.selectDelayMs':
    'A proposer does not place a bundle received less than this many ms ago (time for gossip to reach the other validators), ms.',
  'mempool.minBacklogTxs': 'Admission control never refuses while fewer transactions than this are pending.',
  'consensus.timeoutProposeMs': 'How long validators wait for a proposal before prevoting nil, ms.',
  'consensus.timeoutVoteMs': 'How long validators wait for more votes after seeing +2/3 of any, ms.',
  'consensus.timeoutDeltaMs': 'Added to each timeout per round, so slow rounds converge, ms.',
  'consensus.heartbeatMs':
    'With no transactions pending, an empty block is proposed after this long (the chain keeps a pulse), ms.',
  'consensus.maxBlockBytes':
    'Largest block body, bytes. With the auction on, at least genesis auction.maxTopBytes + 2048 (the node refuses to start otherwise).',
  'consensus.maxBlockTxs':
    'Most transactions per block. With the auction on, at least genesis auction.maxTopTxs (the node refuses to start otherwise).',
  'consensus.compactProposals':
    'Proposals carry transaction hashes that peers fill from their pools, instead of full bodies (ADR 0043).',
  'consensus.busyBlockIntervalMs':
    'Under load, the proposer waits this long for a fuller block unless busyBlockTxs are pending, ms (ADR 0065). Must be below timeoutProposeMs.',
  'consensus.busyBlockTxs': 'Pending transactions that make the proposer stop waiting for a fuller block.',
  'consensus.minBlockIntervalMs':
    'Floor between blocks at any load, ms (ADR 0067). Must be below timeoutProposeMs.',
  'consensus.minBlockPeriodMs':
    "Floor between successive blocks' proposal times, ms (ADR 0230): light load makes fewer, fuller blocks; heights that already take this long are not slowed. 0 = off. Must be below timeoutProposeMs; when unset in a config that sets timeoutProposeMs, it is at most half of it.",
  'store.engine':
    'Embedded database: `leveldb` (default) or `lmdb` (ADR 0002). Cannot be changed on an existing home.',
  'store.sync': 'fsync every block write. Turning it off risks losing the last blocks on power loss.',
  'store.repairFromPeers':
    'Re-fetch damaged heights (missing, failing their checksum) from peers and rewrite them, at start and while running (ADR 0145). `false`: a damaged store refuses to start, naming the files and heights.',
  'log.level':
    'Least severe level logged. Policy: error = needs intervention; warn = recovered from bad input; info = lifecycle and one line per block. CLI: `--log-level`.',
  'log.format':
    '`json` (one object per line, for log shippers), `pretty` (pino-pretty), or `auto`: pretty on a terminal, JSON otherwise. CLI: `--log-format`.',
};

type JsonSchema = {
  type?: string | string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
};

const fmt = (n: number): string => (Number.isInteger(n) ? n.toLocaleString('en-US') : String(n));

/** What the schema allows for one key, in words. */
export function allowedText(s: JsonSchema): string {
  if (s.anyOf !== undefined) return s.anyOf.map(allowedText).join(' or ');
  if (s.enum !== undefined) return `one of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  switch (s.type) {
    case 'null':
      return 'null';
    case 'boolean':
      return 'true or false';
    case 'integer':
    case 'number': {
      const kind = s.type === 'integer' ? 'integer' : 'number';
      if (s.exclusiveMinimum === undefined && s.exclusiveMaximum === undefined)
        return `${kind} ${s.minimum !== undefined ? fmt(s.minimum) : ''}..${s.maximum !== undefined ? fmt(s.maximum) : ''}`;
      const lo =
        s.exclusiveMinimum !== undefined
          ? `> ${fmt(s.exclusiveMinimum)}`
          : s.minimum !== undefined
            ? `>= ${fmt(s.minimum)}`
            : '';
      const hi =
        s.exclusiveMaximum !== undefined
          ? `< ${fmt(s.exclusiveMaximum)}`
          : s.maximum !== undefined
            ? `<= ${fmt(s.maximum)}`
            : '';
      return `${kind} ${[lo, hi].filter(Boolean).join(' and ')}`;
    }
    case 'string':
      if (s.pattern?.includes(':[0-9]')) return '"host:port" (port 0 = any free port)';
      if (s.pattern?.startsWith('^\\/ip')) return 'a multiaddr, e.g. "/ip4/0.0.0.0/tcp/26656"';
      if (s.pattern?.includes('p2p')) return 'a multiaddr ending in /p2p/<peer id>';
      return s.minLength !== undefined || s.maxLength !== undefined
        ? `string of ${s.minLength ?? 0}..${s.maxLength ?? '∞'} characters`
        : 'string';
    case 'array':
      return `list of up to ${s.maxItems ?? '∞'} items, each ${s.items !== undefined ? allowedText(s.items) : 'any'}`;
    default:
      return 'see src/config/config.ts';
  }
}

/** docs/config.md, generated. */
export function configReference(): string {
  const js = z.toJSONSchema(configSchema, { unrepresentable: 'any', io: 'input' }) as JsonSchema;
  const out: string[] = [
    '# Node configuration reference',
    '',
    '<!-- Generated by `ordo config reference > docs/config.md` from src/config/config.ts and',
    '     src/config/reference.ts; test/unit/config/reference.test.ts fails when it is out of date. -->',
    '',
    '`config.json` in the node home (ADR 0082). Every key is optional: a key missing from the file, or',
    'from a section, takes the default shown here, so an older file keeps working when settings are added.',
    'Unknown keys are errors (they are usually typos). Check a file without starting the node:',
    '',
    '    ordo config validate [--home DIR]      # or --file FILE',
    '',
    'An error names the key, the value found and what is allowed, for example',
    '`rpc.listen: expected host:port, e.g. 127.0.0.1:8545 (got "8545")`.',
    '',
    'The sections below are the whole file at its defaults, each key with a comment (JSON itself has no',
    'comments: do not copy them into config.json).',
    '',
  ];
  const defaults = DEFAULT_CONFIG as unknown as Record<string, Record<string, unknown>>;
  for (const [section, values] of Object.entries(defaults)) {
    const props = js.properties?.[section]?.properties ?? {};
    out.push(`## \`${section}\``, '', '```jsonc', `"${section}": {`);
    const keys = Object.keys(values);
    keys.forEach((key, i) => {
      const desc = CONFIG_DESCRIPTIONS[`${section}.${key}`] ?? '(undocumented)';
      const allowed = props[key] !== undefined ? allowedText(props[key]) : 'see src/config/config.ts';
      out.push(`  // ${desc}`, `  // allowed: ${allowed}`);
      out.push(`  "${key}": ${JSON.stringify(values[key])}${i < keys.length - 1 ? ',' : ''}`);
    });
    out.push('}', '```', '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
