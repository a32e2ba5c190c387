/**
 * Fuzz targets for the JSON-RPC params (issue 25): every `ordo_*` method and every `eth_*` method of an
 * EVM rollup, called through the real method handlers and the real RpcServer dispatch (`handleText`,
 * in process, no socket). Whatever the params, the answer must be a JSON-RPC result or an error object
 * whose code is in the documented set (docs/rpc.md, docs/eth-rpc.md "Errors") with a non-empty message:
 * never a thrown exception, never -32603 (the server's mapping of an untyped throw, i.e. a parser bug).
 *
 * Used by test/fuzz/rpc.test.ts (fixed seed, few cases, every `npm test`) and bench/fuzz.ts
 * (`npm run fuzz`: a time budget per surface, executions reported).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { type AuctionReadView, auctionParams } from '../../src/auction/index.ts';
import { AUCTION_NAMESPACE, txHash } from '../../src/codec/index.ts';
import { demoRollups, makeGenesis } from '../../src/config/index.ts';
import type { ConsensusEngine } from '../../src/consensus/index.ts';
import { toHex } from '../../src/crypto/index.ts';
import { createEthRpc, type EthRpc } from '../../src/eth-rpc/index.ts';
import { createIngress } from '../../src/ingress/index.ts';
import type { AdmitResult, Mempool, TxStatus } from '../../src/mempool/index.ts';
import { type Handler, RPC, RpcServer, registerMethods } from '../../src/rpc/index.ts';
import { type EngineBlockStore, openStore } from '../../src/store/index.ts';
import type { TxEnvelope } from '../../src/types.ts';

/** Codes an `ordo_*` answer may carry (docs/rpc.md); INTERNAL is a bug. */
export const ORDO_CODES: ReadonlySet<number> = new Set(Object.values(RPC).filter((c) => c !== RPC.INTERNAL));
/** Codes an `eth_*` answer may carry (docs/eth-rpc.md "Errors", plus the server's own -326xx/-32005). */
export const ETH_CODES: ReadonlySet<number> = new Set([
  RPC.PARSE_ERROR,
  RPC.INVALID_REQUEST,
  RPC.METHOD_NOT_FOUND,
  RPC.INVALID_PARAMS,
  RPC.OVERLOADED,
  RPC.LIMIT_EXCEEDED,
  -32000,
  3,
]);

export interface RpcSurface {
  name: string;
  methods: string[];
  codes: ReadonlySet<number>;
  /** One call through the server's dispatch; resolves with the parsed JSON-RPC response. */
  call(method: string, params: unknown): Promise<unknown>;
}

export interface RpcFuzzHarness {
  surfaces: RpcSurface[];
  close(): Promise<void>;
}

/** A node's RPC in process: the ordo methods over a fake mempool/store, and one EVM rollup over an empty store. */
export async function openRpcHarness(): Promise<RpcFuzzHarness> {
  const pending = new Map<string, TxEnvelope>();
  const mempool: Mempool = {
    add(tx): AdmitResult {
      const h = txHash(tx);
      if (pending.size < 1000) pending.set(toHex(h), tx);
      return { ok: true, hash: h };
    },
    reap: () => [],
    update: () => {},
    status: (h): TxStatus => (pending.has(toHex(h)) ? { status: 'pending' } : { status: 'unknown' }),
    stats: () => ({ txs: pending.size, bytes: 0, lanes: [] }),
  };
  const dir = mkdtempSync(join(tmpdir(), 'ordo-rpcfuzz-'));
  let store: EngineBlockStore | undefined;
  let eth: EthRpc | undefined;
  try {
    store = await openStore({ path: dir, sync: false });
    const rollups = demoRollups();
    const server = new RpcServer({
      host: '127.0.0.1',
      port: 0,
      maxBatchRequests: 10,
      requestTimeoutMs: 5000,
    });
    const ordoMethods: string[] = [];
    const register = server.register.bind(server);
    server.register = (name: string, h: Handler) => {
      ordoMethods.push(name);
      register(name, h);
    };
    // The auction namespace is admitted like a rollup's, so auction submissions reach the mempool.
    const ingress = createIngress({
      rollups: [...rollups, { namespace: AUCTION_NAMESPACE, maxTxBytes: 1000 }],
      mempool,
      gossip: { push: () => {} },
      maxTxBytes: 1000,
    });
    registerMethods(server, {
      genesis: makeGenesis({
        chainId: 'rpc-fuzz',
        validators: [{ name: 'v', publicKey: 'ab'.repeat(32) }],
        rollups,
      }),
      nodeId: 'n0',
      moniker: 'n0',
      mempool,
      store,
      consensus: {
        status: () => ({ height: 1, round: 0, step: 'propose' }),
        evidence: async () => [],
      } as unknown as ConsensusEngine,
      peers: () => [],
      ingress,
      maxSubmitBatch: 5,
      onCommit: () => () => {},
      auction: fuzzAuctionView(),
    });
    const s = store;
    eth = createEthRpc({
      rollups,
      executor: {
        stateGetter: () => () => undefined,
        getResult: async () => undefined,
        head: () => ({ height: 0 }),
        subscribe: () => () => {},
      },
      store: {
        baseHeight: () => s.baseHeight(),
        getBlock: (h) => s.getBlock(h),
        getBlockHash: (h) => s.getBlockHash(h),
        sub: (p, o) => s.sub(p, o),
      },
      mempool: { nextNonce: () => undefined, status: mempool.status },
      ingress: {
        submitTransaction: (tx) => ingress.submitTransaction(tx, 'jsonrpc'),
        maxTxBytes: 1000,
      },
      genesisTimeMs: 1_700_000_000_000,
    });
    await eth.start();
    const tables: ReadonlyMap<string, Handler>[] = [];
    eth.mount({ mount: (_path, m) => tables.push(m) });
    const ethTable = tables[0];
    if (ethTable === undefined) throw new Error('demoRollups() serves no EVM rollup');
    const call =
      (table?: ReadonlyMap<string, Handler>) =>
      (method: string, params: unknown): Promise<unknown> =>
        server.handleText(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }), {}, table);
    const e = eth;
    return {
      surfaces: [
        { name: 'ordo', methods: ordoMethods, codes: ORDO_CODES, call: call() },
        { name: 'eth', methods: [...ethTable.keys()], codes: ETH_CODES, call: call(ethTable) },
      ],
      async close() {
        await e.stop();
        await s.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await eth?.stop();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** An enabled auction that admits everything its parsers let through and holds one slot (height 1). */
function fuzzAuctionView(): AuctionReadView {
  const key = new Uint8Array(32).fill(1);
  return {
    info: () => ({
      enabled: true,
      params: auctionParams(),
      reserves: new Map([[1, 10n]]),
      treasuries: new Map([[1, key]]),
      depositAuthority: key,
      forfeitSink: key,
      nextDepositNonce: 0,
      appliedHeight: 1,
    }),
    slot: (h) =>
      h === 1
        ? { height: 1, resolved: true, commits: 0, reveals: 0, bids: [], winners: [], forfeited: 0 }
        : undefined,
    account: (account) => ({
      account,
      available: 0n,
      locked: 0n,
      pendingWithdrawal: 0n,
      withdrawNonce: 0,
      known: false,
    }),
    check: () => {},
    onApplied: () => () => {},
  };
}

/** Throws unless `res` is one JSON-RPC response with a result, or an error with a code in `codes` and a message. */
export function expectRpcAnswer(res: unknown, codes: ReadonlySet<number>, what: string): void {
  const r = res as {
    jsonrpc?: unknown;
    id?: unknown;
    result?: unknown;
    error?: { code?: unknown; message?: unknown };
  };
  if (r === null || typeof r !== 'object' || Array.isArray(r) || r.jsonrpc !== '2.0' || r.id !== 1)
    throw new Error(`${what}: not a JSON-RPC response: ${JSON.stringify(res)?.slice(0, 300)}`);
  if ('result' in r && !('error' in r)) return;
  const e = r.error;
  if (e === undefined || typeof e.code !== 'number' || !codes.has(e.code))
    throw new Error(`${what}: error code outside the documented set: ${JSON.stringify(res)?.slice(0, 300)}`);
  if (typeof e.message !== 'string' || e.message.length === 0)
    throw new Error(`${what}: error without a message: ${JSON.stringify(res)?.slice(0, 300)}`);
}

const hexOf = (n: number) =>
  fc.uint8Array({ minLength: n, maxLength: n }).map((b) => `0x${Buffer.from(b).toString('hex')}`);
const address = hexOf(20);
const hash = hexOf(32);
const quantity = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 300n }).map((n) => `0x${n.toString(16)}`),
  fc.constantFrom('0x', '0x0', '0x00', '0x01', '-0x1', '0xg', '0X1', '1', '', ' 0x1'),
);
const tag = fc.constantFrom(
  'latest',
  'pending',
  'earliest',
  'safe',
  'finalized',
  'LATEST',
  'newHeads',
  'logs',
);
const odd = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 53), 1e308, '', '0x', [], {}),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  hexOf(1),
  hexOf(19),
  hexOf(33),
  fc.stringMatching(/^0x[0-9a-fA-F]{0,130}$/),
);
/** Values shaped like real params, so the parsers get past their first check. */
const leaf = fc.oneof(address, hash, quantity, tag, odd);
const nearObject = fc.dictionary(
  fc.constantFrom(
    'to',
    'from',
    'data',
    'input',
    'gas',
    'gasPrice',
    'maxFeePerGas',
    'maxPriorityFeePerGas',
    'value',
    'nonce',
    'fromBlock',
    'toBlock',
    'blockHash',
    'blockNumber',
    'address',
    'topics',
    'namespace',
    'hashes',
    'balance',
    'code',
    'state',
    'stateDiff',
    'accessList',
    'requireCanonical',
    // auction methods (ordo_sendBidCommit / ordo_sendBidReveal / ordo_deposit / ordo_withdraw)
    'slot',
    'bidder',
    'commitment',
    'signature',
    'amount',
    'bundle',
    'salt',
    'account',
    'legs',
  ),
  fc.oneof(
    leaf,
    fc.array(fc.oneof(leaf, fc.constant(null), fc.array(leaf, { maxLength: 3 })), { maxLength: 4 }),
  ),
  { maxKeys: 6 },
);
const nearParam = fc.oneof(
  { weight: 4, arbitrary: leaf },
  { weight: 3, arbitrary: nearObject },
  { weight: 1, arbitrary: fc.dictionary(address, nearObject, { maxKeys: 2 }) },
  { weight: 1, arbitrary: fc.array(fc.oneof(leaf, nearObject), { maxLength: 4 }) },
);

/** Params near the valid shapes: a positional array of 0–4 plausible values. */
export const nearValidParams: fc.Arbitrary<unknown> = fc.array(nearParam, { maxLength: 4 });
/** Anything JSON: arrays of random values, objects, scalars, or no params at all. */
export const randomParams: fc.Arbitrary<unknown> = fc.oneof(
  fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 4 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constant(undefined),
);
