/**
 * Bad input on /evm/<namespace>: every malformed param shape gets -32602 saying what was wrong, an
 * unknown method -32601 naming it, unknown hashes null, and the node keeps answering afterwards.
 */

import fc from 'fast-check';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type Devnet, demoKey, EVM_CHAIN_ID, EVM_NS, startDevnet } from './devnet.ts';

let net: Devnet;
beforeAll(async () => {
  net = await startDevnet();
});
afterAll(async () => {
  await net?.stop();
});

interface Answer {
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

async function call(method: string, params: unknown): Promise<Answer> {
  const r = await fetch(net.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return (await r.json()) as Answer;
}

const ADDR = '0x000000000000000000000000000000000000dEaD';
const HASH = `0x${'ab'.repeat(32)}`;

const BAD: [string, unknown[], RegExp][] = [
  ['eth_chainId', [1], /no params/],
  ['eth_blockNumber', ['latest'], /no params/],
  ['eth_getBalance', [], /expected \[address, block\?\]/],
  ['eth_getBalance', ['0x1234', 'latest'], /address must be a 0x-prefixed 20-byte hex address/],
  ['eth_getBalance', [42, 'latest'], /address/],
  ['eth_getBalance', [ADDR, 'newest'], /block must be a block number/],
  ['eth_getBalance', [ADDR, '0xzz'], /block must be a block number/],
  ['eth_getBalance', [ADDR, { blockHash: '0x12' }], /blockHash must be a 0x-prefixed 32-byte hex/],
  ['eth_getBalance', [ADDR, 'latest', 'extra'], /expected \[address, block\?\]/],
  ['eth_getTransactionCount', [null], /address/],
  ['eth_getCode', [{}], /address/],
  ['eth_getStorageAt', [ADDR], /expected \[address, slot, block\?\]/],
  ['eth_getStorageAt', [ADDR, 'slot0'], /slot must be a 0x-prefixed hex quantity/],
  ['eth_getStorageAt', [ADDR, `0x${'f'.repeat(65)}`], /slot/],
  ['eth_getBlockByNumber', [], /expected \[block, fullTransactions\?\]/],
  ['eth_getBlockByNumber', ['latest', 'yes'], /fullTransactions must be a boolean/],
  ['eth_getBlockByNumber', [-1, false], /block must be a block number/],
  ['eth_getBlockByHash', ['0x00', false], /blockHash must be a 0x-prefixed 32-byte hex string/],
  ['eth_getTransactionByHash', [123], /transactionHash must be a 0x-prefixed 32-byte hex string/],
  ['eth_getTransactionReceipt', [`0x${'g'.repeat(64)}`], /transactionHash/],
  [
    'eth_getTransactionByBlockNumberAndIndex',
    ['latest', 'first'],
    /index must be a 0x-prefixed hex quantity/,
  ],
  ['eth_call', [], /expected \[transaction, block\?, stateOverrides\?\]/],
  ['eth_call', ['0xdead'], /transaction must be an object/],
  ['eth_call', [{ to: '0x12' }], /transaction.to must be a 0x-prefixed 20-byte hex address/],
  [
    'eth_call',
    [{ to: ADDR, data: '0x123' }],
    /transaction.data must be 0x-prefixed hex with an even number of digits/,
  ],
  ['eth_call', [{ to: ADDR, value: 'lots' }], /transaction.value must be a 0x-prefixed hex quantity/],
  ['eth_call', [{ to: ADDR, gas: `0x${'f'.repeat(20)}` }], /transaction.gas .* exceeds/],
  ['eth_call', [{ to: ADDR, input: '0x00', data: '0x01' }], /input and transaction.data differ/],
  [
    'eth_call',
    [{ to: ADDR }, 'latest', { [ADDR]: { balance: 'x' } }],
    /balance must be a 0x-prefixed hex quantity/,
  ],
  ['eth_call', [{ to: ADDR }, 'latest', { '0x12': {} }], /key must be a 0x-prefixed 20-byte hex address/],
  ['eth_call', [{ to: ADDR }, 'latest', { [ADDR]: { nonsense: 1 } }], /unknown field "nonsense"/],
  ['eth_call', [{ to: ADDR }, 'latest', { [ADDR]: { state: {}, stateDiff: {} } }], /mutually exclusive/],
  [
    'eth_call',
    [{ to: ADDR }, 'latest', { [ADDR]: { stateDiff: { '0x1': HASH } } }],
    /stateDiff slot must be a 0x-prefixed 32-byte/,
  ],
  ['eth_estimateGas', [[]], /transaction must be an object/],
  ['eth_feeHistory', ['0x4'], /expected \[blockCount, newestBlock, rewardPercentiles\?\]/],
  ['eth_feeHistory', ['many', 'latest'], /blockCount must be a 0x-prefixed hex quantity/],
  ['eth_feeHistory', ['0x4', 'latest', [50, 10]], /rewardPercentiles must be an increasing array/],
  ['eth_feeHistory', ['0x4', 'latest', 'p50'], /rewardPercentiles/],
  ['eth_sendRawTransaction', [], /expected \[signedTransactionData\]/],
  ['eth_sendRawTransaction', ['deadbeef'], /signedTransactionData must be 0x-prefixed hex/],
  ['eth_sendRawTransaction', ['0x'], /empty transaction/],
  ['eth_sendRawTransaction', ['0x02c0'], /not valid RLP|could not be decoded/],
  ['eth_sendRawTransaction', ['0xdeadbeef'], /not valid RLP|could not be decoded/],
  ['eth_getLogs', ['latest'], /filter must be an object/],
  ['eth_getLogs', [{ address: '0x12' }], /filter.address must be a 0x-prefixed 20-byte hex address/],
  ['eth_getLogs', [{ address: [ADDR, 7] }], /filter.address\[1\]/],
  ['eth_getLogs', [{ topics: 'x' }], /filter.topics must be an array of at most 4 entries/],
  ['eth_getLogs', [{ topics: [null, null, null, null, null] }], /at most 4 entries/],
  ['eth_getLogs', [{ topics: [['0x12']] }], /filter.topics\[0\]\[0\] must be a 0x-prefixed 32-byte/],
  ['eth_getLogs', [{ fromBlock: 'yesterday' }], /filter.fromBlock must be a block number/],
  ['eth_getLogs', [{ blockHash: HASH, fromBlock: '0x1' }], /blockHash cannot be combined/],
  ['eth_getLogs', [{ fromBlock: '0x5', toBlock: '0x1' }], /fromBlock 5 is after toBlock 1/],
  ['eth_newFilter', [{ address: 1 }], /filter.address/],
  ['eth_getFilterChanges', [17], /filter id must be a 0x-prefixed hex string/],
  ['eth_uninstallFilter', [], /expected \[filterId\]/],
  ['eth_subscribe', ['newHeads'], /needs a WebSocket connection/],
  ['eth_unsubscribe', [{}], /filter id must be/],
];

describe('malformed input on the Ethereum RPC', () => {
  it.each(BAD)('%s %j → -32602 saying what was wrong', async (method, params, message) => {
    const a = await call(method, params);
    expect(a.result).toBeUndefined();
    if (method === 'eth_subscribe') expect(a.error?.code).toBe(-32600);
    else expect(a.error?.code).toBe(-32602);
    expect(a.error?.message).toMatch(message);
  });

  it('names an unknown method with -32601; bundle methods refuse bad params and unsigned cancel', async () => {
    expect((await call('eth_doesNotExist', [])).error).toEqual({
      code: -32601,
      message: 'method not found: eth_doesNotExist',
    });
    expect((await call('eth_callBundle', [{}])).error?.code).toBe(-32602);
    expect((await call('eth_sendBundle', [{}])).error?.code).toBe(-32602);
    const c = (await call('eth_cancelBundle', [{ replacementUuid: '0f8fad5b-d9cb-469f-a165-70867728950e' }]))
      .error;
    expect(c?.code).toBe(-32602);
    expect(c?.message).toContain('ordo_cancelBundle');
  });

  it('is listed by ordo_status and the node (what `ordo status` and the testnet banner print)', async () => {
    const r = await fetch(net.node.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ordo_status', params: [] }),
    });
    const s = (await r.json()) as {
      result: { rollups: { namespace: number; ethRpc?: string; evmChainId?: number }[] };
    };
    expect(s.result.rollups.find((x) => x.namespace === EVM_NS)).toMatchObject({
      ethRpc: `/evm/${EVM_NS}`,
      evmChainId: EVM_CHAIN_ID,
    });
    // Every EVM rollup of the genesis is served (the default testnet has two).
    const evm = s.result.rollups.filter((x) => x.ethRpc !== undefined);
    expect(evm.length).toBeGreaterThanOrEqual(1);
    for (const x of evm) expect(x.ethRpc).toBe(`/evm/${x.namespace}`);
    expect(net.node.ethRpcUrls).toHaveLength(evm.length);
    expect(net.node.ethRpcUrls).toContainEqual({
      namespace: EVM_NS,
      name: expect.any(String),
      chainId: EVM_CHAIN_ID,
      url: net.url,
    });
  });

  it('answers null for unknown hashes and blocks', async () => {
    expect((await call('eth_getTransactionByHash', [HASH])).result).toBeNull();
    expect((await call('eth_getTransactionReceipt', [HASH])).result).toBeNull();
    expect((await call('eth_getBlockByHash', [HASH, false])).result).toBeNull();
    expect((await call('eth_getBlockByNumber', ['0xffffffff', false])).result).toBeNull();
  });

  it('refuses bounded-range violations and historical state with -32000', async () => {
    const r = await call('eth_getLogs', [{ fromBlock: '0x0', toBlock: '0xfffff' }]);
    expect(r.error?.code).toBe(-32000);
    expect(r.error?.message).toMatch(/the limit is 1000/);
    for (let i = 0; i < 100; i++) {
      const n = (await call('eth_blockNumber', [])).result as string;
      if (BigInt(n) >= 2n) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const old = await call('eth_getBalance', [ADDR, '0x1']);
    expect(old.error?.code).toBe(-32000);
    expect(old.error?.message).toMatch(/historical state is not available/);
  });

  it('gives raw EVM transactions sent through ordo_submitTransaction the same Ethereum checks', async () => {
    const raw = await privateKeyToAccount(generatePrivateKey()).signTransaction({
      chainId: EVM_CHAIN_ID,
      type: 'eip1559',
      to: ADDR,
      value: 1n,
      nonce: 0,
      gas: 21_000n,
      maxFeePerGas: 2_000_000_000n,
      maxPriorityFeePerGas: 0n,
    });
    const r = await fetch(net.node.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'ordo_submitTransaction',
        params: [{ namespace: EVM_NS, data: raw }],
      }),
    });
    const a = (await r.json()) as Answer;
    expect(a.error?.code).toBe(-32001);
    expect(a.error?.message).toMatch(
      /^insufficient funds for gas \* price \+ value: address 0x[0-9a-f]{40} have 0 want/,
    );
    expect(a.error?.data).toMatchObject({ code: 'INVALID_TX' });
  });

  it('never fails internally, whatever JSON comes in as params (property)', async () => {
    const methods = [
      'eth_chainId',
      'eth_blockNumber',
      'eth_getBalance',
      'eth_getTransactionCount',
      'eth_getCode',
      'eth_getStorageAt',
      'eth_getBlockByNumber',
      'eth_getBlockByHash',
      'eth_getBlockReceipts',
      'eth_getTransactionByHash',
      'eth_getTransactionReceipt',
      'eth_getTransactionByBlockNumberAndIndex',
      'eth_call',
      'eth_estimateGas',
      'eth_feeHistory',
      'eth_sendRawTransaction',
      'eth_getLogs',
      'eth_newFilter',
      'eth_getFilterChanges',
      'eth_getFilterLogs',
      'eth_uninstallFilter',
      'eth_subscribe',
      'eth_unsubscribe',
      'eth_gasPrice',
      'eth_maxPriorityFeePerGas',
      'net_version',
      'web3_clientVersion',
    ];
    const hexish = fc.oneof(
      fc.constantFrom('latest', 'pending', 'earliest', '0x', '0x0', ADDR, HASH, `0x${'f'.repeat(80)}`),
      fc.string({ maxLength: 80 }).map((x) => `0x${Buffer.from(x).toString('hex')}`),
    );
    const value = fc.oneof(
      hexish,
      fc.jsonValue({ maxDepth: 3 }),
      fc.dictionary(
        fc.constantFrom(
          'to',
          'from',
          'data',
          'input',
          'gas',
          'value',
          'address',
          'topics',
          'fromBlock',
          'toBlock',
          'blockHash',
          ADDR,
        ),
        fc.oneof(hexish, fc.jsonValue({ maxDepth: 2 })),
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...methods),
        fc.array(value, { maxLength: 4 }),
        async (method, params) => {
          const a = await call(method, params);
          if (a.error !== undefined) expect([-32602, -32000, -32600, -32601, 3]).toContain(a.error.code);
          else expect('result' in a).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('answers -32602 for every malformed shape of every eth_* param, never an internal error (property)', async () => {
    // Valid params per method, with the position and kind of every hex-string field in them. One
    // field (or the param count) is broken at a time: the answer must be -32602; the untouched
    // template may answer anything but an internal error (-32603).
    const raw = await privateKeyToAccount(generatePrivateKey()).signTransaction({
      chainId: EVM_CHAIN_ID,
      type: 'eip1559',
      to: ADDR,
      value: 1n,
      nonce: 0,
      gas: 21_000n,
      maxFeePerGas: 2_000_000_000n,
      maxPriorityFeePerGas: 0n,
    });
    type Kind = 'addr' | 'hash' | 'qty' | 'data' | 'block' | 'bool' | 'obj' | 'count' | 'pct';
    type Path = (number | string)[];
    const T: [string, unknown[], number, [Path, Kind][]][] = [
      // method, params, most params, fields
      [
        'eth_getBalance',
        [ADDR, 'latest'],
        2,
        [
          [[0], 'addr'],
          [[1], 'block'],
        ],
      ],
      [
        'eth_getTransactionCount',
        [ADDR, 'pending'],
        2,
        [
          [[0], 'addr'],
          [[1], 'block'],
        ],
      ],
      [
        'eth_getCode',
        [ADDR, { blockHash: HASH }],
        2,
        [
          [[0], 'addr'],
          [[1, 'blockHash'], 'hash'],
        ],
      ],
      [
        'eth_getStorageAt',
        [ADDR, '0x0', 'latest'],
        3,
        [
          [[0], 'addr'],
          [[1], 'qty'],
          [[2], 'block'],
        ],
      ],
      [
        'eth_getBlockByNumber',
        ['latest', false],
        2,
        [
          [[0], 'block'],
          [[1], 'bool'],
        ],
      ],
      [
        'eth_getBlockByHash',
        [HASH, true],
        2,
        [
          [[0], 'hash'],
          [[1], 'bool'],
        ],
      ],
      ['eth_getBlockTransactionCountByNumber', ['0x1'], 1, [[[0], 'block']]],
      ['eth_getBlockTransactionCountByHash', [HASH], 1, [[[0], 'hash']]],
      ['eth_getBlockReceipts', ['earliest'], 1, [[[0], 'block']]],
      ['eth_getTransactionByHash', [HASH], 1, [[[0], 'hash']]],
      ['eth_getTransactionReceipt', [HASH], 1, [[[0], 'hash']]],
      [
        'eth_getTransactionByBlockNumberAndIndex',
        ['latest', '0x0'],
        2,
        [
          [[0], 'block'],
          [[1], 'qty'],
        ],
      ],
      [
        'eth_getTransactionByBlockHashAndIndex',
        [HASH, '0x0'],
        2,
        [
          [[0], 'hash'],
          [[1], 'qty'],
        ],
      ],
      [
        'eth_call',
        [
          { from: ADDR, to: ADDR, data: '0x12', gas: '0x5208', value: '0x0' },
          'latest',
          { [ADDR]: { balance: '0x1', nonce: '0x2', code: '0x00', stateDiff: { [HASH]: HASH } } },
        ],
        3,
        [
          [[0], 'obj'],
          [[0, 'from'], 'addr'],
          [[0, 'to'], 'addr'],
          [[0, 'data'], 'data'],
          [[0, 'gas'], 'qty'],
          [[0, 'value'], 'qty'],
          [[1], 'block'],
          [[2], 'obj'],
          [[2, ADDR], 'obj'],
          [[2, ADDR, 'balance'], 'qty'],
          [[2, ADDR, 'nonce'], 'qty'],
          [[2, ADDR, 'code'], 'data'],
          [[2, ADDR, 'stateDiff', HASH], 'hash'],
        ],
      ],
      [
        'eth_estimateGas',
        [{ to: ADDR, input: '0x', maxFeePerGas: '0x1', maxPriorityFeePerGas: '0x0' }],
        3,
        [
          [[0, 'to'], 'addr'],
          [[0, 'input'], 'data'],
          [[0, 'maxFeePerGas'], 'qty'],
          [[0, 'maxPriorityFeePerGas'], 'qty'],
        ],
      ],
      [
        'eth_feeHistory',
        ['0x4', 'latest', [25, 75]],
        3,
        [
          // blockCount: hex or decimal (geth's HexOrDecimal64), so a bare "4" is valid there.
          [[0], 'count'],
          [[1], 'block'],
        ],
      ],
      ['eth_sendRawTransaction', [raw], 1, [[[0], 'data']]],
      [
        'eth_getLogs',
        [{ fromBlock: '0x0', toBlock: 'latest', address: [ADDR], topics: [HASH, null, [HASH]] }],
        1,
        [
          [[0], 'obj'],
          [[0, 'fromBlock'], 'block'],
          [[0, 'toBlock'], 'block'],
          [[0, 'address', 0], 'addr'],
          [[0, 'topics', 0], 'hash'],
          [[0, 'topics', 2, 0], 'hash'],
        ],
      ],
      [
        'eth_newFilter',
        [{ address: ADDR, topics: [HASH] }],
        1,
        [
          [[0, 'address'], 'addr'],
          [[0, 'topics', 0], 'hash'],
        ],
      ],
      ['eth_getFilterChanges', ['0x1'], 1, [[[0], 'qty']]],
      ['eth_getFilterLogs', ['0x1'], 1, [[[0], 'qty']]],
      ['eth_uninstallFilter', ['0x1'], 1, [[[0], 'qty']]],
      ['eth_unsubscribe', ['0x1'], 1, [[[0], 'qty']]],
      ['eth_chainId', [], 0, []],
      ['eth_blockNumber', [], 0, []],
      ['eth_gasPrice', [], 0, []],
      ['eth_maxPriorityFeePerGas', [], 0, []],
      ['net_version', [], 0, []],
      ['web3_clientVersion', [], 0, []],
      ['eth_syncing', [], 0, []],
      ['eth_accounts', [], 0, []],
      ['eth_newBlockFilter', [], 0, []],
      [
        'eth_callBundle',
        [{ txs: [raw], blockNumber: '0x10', stateBlockNumber: 'latest' }],
        1,
        [
          [[0], 'obj'],
          [[0, 'txs', 0], 'data'],
          [[0, 'blockNumber'], 'qty'],
        ],
      ],
      [
        'eth_sendBundle',
        [{ txs: [raw], blockNumber: '0x10' }],
        1,
        [
          [[0], 'obj'],
          [[0, 'txs', 0], 'data'],
          [[0, 'blockNumber'], 'qty'],
        ],
      ],
    ];
    // Values that are malformed for a field of each kind.
    const wrongType = fc.constantFrom<unknown>(42, -1, 0.5, 2 ** 64, true, [], ['0x1'], { x: 1 });
    const badString = (kind: Kind, good: string) => {
      const naked = good.startsWith('0x') ? good.slice(2) : 'ab';
      const common: string[] = ['0xzz', '0x-1', '-0x1', ' 0x1', '0X1', '', 'ZERO'];
      // A count also takes a decimal string, so the bare digits of a good value are no fault there.
      if (kind !== 'count' || !/^[0-9]+$/.test(naked)) common.push(naked || 'ab');
      const byKind: Record<Kind, string[]> = {
        addr: ['0x123', `0x${'1'.repeat(39)}`, `0x${'1'.repeat(42)}`, '0x'],
        hash: ['0x123', `0x${'a'.repeat(63)}`, `0x${'a'.repeat(66)}`, '0x'],
        qty: ['0x', `0x${'f'.repeat(65)}`, `0x${'f'.repeat(300)}`, '0x1.5', '1e3'],
        data: ['0x1', '0x123', `0x${'a'.repeat(99)}`, '0xg0'],
        block: ['newest', 'Latest', '0x', `0x${'f'.repeat(14)}`, `0x${'f'.repeat(80)}`, '0x1g'],
        bool: ['true', 'false', '0x1'],
        obj: ['latest', '0x00', `0x${'a'.repeat(40)}`],
        count: ['0x', '-1', '1e3', `0x${'f'.repeat(80)}`],
        pct: ['50', '0x1'],
      };
      return fc.constantFrom(...common, ...byKind[kind]);
    };
    const clone = (v: unknown): unknown => JSON.parse(JSON.stringify(v));
    const setAt = (root: unknown[], path: Path, v: unknown): void => {
      let o = root as unknown as Record<string | number, unknown>;
      for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
      o[path[path.length - 1]!] = v;
    };
    const getAt = (root: unknown[], path: Path): unknown =>
      path.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], root);
    const broken = fc.constantFrom(...T).chain(([method, params, max, fields]) => {
      const extra = fc.constant({
        method,
        params: [...(clone(params) as unknown[]), 'extra'],
        why: 'extra param',
      });
      const bounded = max === 0 ? [] : [fc.constant({ method, params: [], why: 'no params' })];
      const firstRequiredOnly = fields.length === 0 ? [] : [extra];
      const field =
        fields.length === 0
          ? []
          : [
              fc.constantFrom(...fields).chain(([path, kind]) =>
                fc
                  .oneof(
                    kind === 'bool'
                      ? fc.constantFrom<unknown>(1, 'yes', [], {})
                      : kind === 'count'
                        ? fc.constantFrom<unknown>(-1, 0.5, 2 ** 64, true, [], {})
                        : wrongType,
                    badString(kind, String(getAt(params, path))),
                  )
                  .filter((v) => !(kind === 'obj' && Array.isArray(v) === false && typeof v === 'object'))
                  // [] at a topic position is "any topic" and as a filter's address "any address" (geth).
                  .filter(
                    (v) =>
                      !(
                        Array.isArray(v) &&
                        v.length === 0 &&
                        ((path.length === 3 && path[1] === 'topics') || path[path.length - 1] === 'address')
                      ),
                  )
                  .map((v) => {
                    const p = clone(params) as unknown[];
                    setAt(p, path, v);
                    return { method, params: p, why: `${path.join('.')} (${kind}) = ${JSON.stringify(v)}` };
                  }),
              ),
            ];
      return fc.oneof(...(max === 0 ? [extra] : [...firstRequiredOnly, ...bounded, ...field]));
    });
    for (const [method, params] of T) {
      const a = await call(method, params);
      expect(a.error?.code, `${method} ${a.error?.message}`).not.toBe(-32603);
    }
    await fc.assert(
      fc.asyncProperty(broken, async ({ method, params, why }) => {
        const a = await call(method, params);
        expect(a.error?.code, `${method} ${why}: ${JSON.stringify(a)}`).toBe(-32602);
        expect(a.error?.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 600 },
    );
  });

  it('lets only the connection that subscribed unsubscribe; feeHistory takes a decimal blockCount (geth)', async () => {
    const open = async () => {
      const ws = new WebSocket(net.wsUrl);
      await new Promise((res, rej) => {
        ws.once('open', res);
        ws.once('error', rej);
      });
      let next = 1;
      const waiting = new Map<number, (a: Answer) => void>();
      ws.on('message', (m) => {
        const a = JSON.parse(String(m)) as Answer & { id?: number };
        if (a.id !== undefined) waiting.get(a.id)?.(a);
      });
      const ask = (method: string, params: unknown[]) =>
        new Promise<Answer>((res) => {
          const id = next++;
          waiting.set(id, res);
          ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
        });
      return { ws, ask };
    };
    const a = await open();
    const b = await open();
    try {
      const sub = (await a.ask('eth_subscribe', ['newHeads'])).result as string;
      expect(sub).toMatch(/^0x[0-9a-f]{32}$/);
      expect((await b.ask('eth_unsubscribe', [sub])).result).toBe(false);
      expect((await call('eth_unsubscribe', [sub])).result).toBe(false); // HTTP holds none
      expect((await a.ask('eth_unsubscribe', [sub])).result).toBe(true);
      expect((await a.ask('eth_unsubscribe', [sub])).result).toBe(false);
    } finally {
      a.ws.close();
      b.ws.close();
    }
    const fh = await call('eth_feeHistory', ['4', 'latest', []]);
    expect(fh.error).toBeUndefined();
    expect((fh.result as { baseFeePerGas: string[] }).baseFeePerGas.length).toBeGreaterThanOrEqual(2);
  });

  it('answers a resent transaction "already known" and another one of a taken nonce as a refused replacement', async () => {
    const acct = privateKeyToAccount(demoKey(9));
    const nonce = Number(
      BigInt((await call('eth_getTransactionCount', [acct.address, 'pending'])).result as string),
    );
    const tx = (value: bigint) =>
      acct.signTransaction({
        chainId: EVM_CHAIN_ID,
        type: 'eip1559',
        to: ADDR,
        value,
        nonce,
        gas: 21_000n,
        maxFeePerGas: 2_000_000_000n,
        maxPriorityFeePerGas: 0n,
      });
    const first = await tx(1n);
    expect((await call('eth_sendRawTransaction', [first])).error).toBeUndefined();
    const again = await call('eth_sendRawTransaction', [first]);
    const other = await call('eth_sendRawTransaction', [await tx(2n)]);
    // Either can find the first one executed already (then the nonce is too low): only pending is asserted.
    if (again.error?.message !== undefined && !again.error.message.startsWith('nonce too low'))
      expect(again.error).toMatchObject({ code: -32000, message: 'already known' });
    if (other.error?.message !== undefined && !other.error.message.startsWith('nonce too low')) {
      expect(other.error.code).toBe(-32000);
      expect(other.error.message).toMatch(/^replacement transaction underpriced: /);
    }
    expect(other.error).toBeDefined();
  });

  it('still answers after all of it (and mixed batches answer item by item)', async () => {
    const r = await fetch(net.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] },
        { jsonrpc: '2.0', id: 2, method: 'eth_getBalance', params: ['nope'] },
        { jsonrpc: '2.0', id: 3, method: 'eth_blockNumber' },
      ]),
    });
    const out = (await r.json()) as { id: number; result?: string; error?: { code: number } }[];
    expect(out.find((o) => o.id === 1)?.result).toBe('0xdbba1');
    expect(out.find((o) => o.id === 2)?.error?.code).toBe(-32602);
    expect(out.find((o) => o.id === 3)?.result).toMatch(/^0x[0-9a-f]+$/);
  });
});
