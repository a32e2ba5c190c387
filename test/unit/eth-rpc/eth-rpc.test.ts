/**
 * Unit tests of the Ethereum RPC's parts: parameter parsing, raw-transaction admission (chain id from
 * RLP, Ethereum's messages), the in-flight reservation, revert reasons, log matching and filter
 * bounds, state overrides, and the RPC server's mount hook.
 */
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { RLP } from '@ethereumjs/rlp';
import { KECCAK256_NULL } from '@ethereumjs/util';
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { chainIdOf, decodeRaw, InFlight } from '../../../src/eth-rpc/admission.ts';
import type { EthBlock } from '../../../src/eth-rpc/chain.ts';
import { Filters, logMatches } from '../../../src/eth-rpc/filters.ts';
import {
  parseBlockRef,
  parseCallRequest,
  parseLogFilter,
  parseQuantity,
  parseStateOverrides,
  qty,
} from '../../../src/eth-rpc/params.ts';
import { EvmStateReader, revertReason } from '../../../src/eth-rpc/state.ts';
import { encodeEvmAccount, evmAccountKey } from '../../../src/exec/index.ts';
import { RpcServer } from '../../../src/rpc/server.ts';

const CHAIN = 900_001;
const common = createCustomCommon({ chainId: CHAIN }, Mainnet, { hardfork: Hardfork.Prague });
const account = privateKeyToAccount(`0x${'11'.repeat(32)}`);
const base = { to: account.address, value: 1n, gas: 21_000n, nonce: 0 } as const;
const hexToBytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.slice(2), 'hex'));

async function signed(o: Record<string, unknown> = {}): Promise<Uint8Array> {
  return hexToBytes(
    await account.signTransaction({
      chainId: CHAIN,
      type: 'eip1559',
      maxFeePerGas: 2_000_000_000n,
      maxPriorityFeePerGas: 0n,
      ...base,
      ...o,
    } as never),
  );
}

describe('params', () => {
  it('formats and parses quantities and block refs', () => {
    expect(qty(0n)).toBe('0x0');
    expect(qty(255)).toBe('0xff');
    expect(parseQuantity('0x01', 'x')).toBe(1n);
    expect(() => parseQuantity('1', 'x')).toThrow(/x must be a 0x-prefixed hex quantity/);
    expect(() => parseQuantity('0x100', 'x', 255n)).toThrow(/exceeds 0xff/);
    expect(parseBlockRef('latest')).toEqual({ tag: 'latest' });
    expect(parseBlockRef('0x10')).toEqual({ number: 16 });
    expect(parseBlockRef(undefined)).toEqual({ tag: 'latest' });
    expect(parseBlockRef({ blockNumber: '0x2' })).toEqual({ number: 2 });
    expect(() => parseBlockRef('0x' + 'f'.repeat(20))).toThrow(/block must be a block number/);
    expect(() => parseBlockRef(5)).toThrow(/got number 5/);
  });

  it('parses call requests, overrides and log filters strictly', () => {
    const r = parseCallRequest({ to: account.address, input: '0xab', gas: '0x5208' }, 100);
    expect(r.data).toEqual(new Uint8Array([0xab]));
    expect(r.gas).toBe(21_000n);
    expect(() => parseCallRequest({ data: `0x${'00'.repeat(101)}` }, 100)).toThrow(/longer than 100 bytes/);
    const o = parseStateOverrides({ [account.address]: { balance: '0x1', code: '0x60' } }, 100);
    expect(o[0]?.balance).toBe(1n);
    const f = parseLogFilter({ address: account.address, topics: [null, [`0x${'01'.repeat(32)}`]] });
    expect(f.topics[0]).toBeNull();
    expect(f.addresses).toHaveLength(1);
    // An empty set at a topic position matches any topic (geth), it does not match nothing.
    const any = parseLogFilter({ topics: [[], [`0x${'01'.repeat(32)}`]] });
    expect(any.topics[0]).toBeNull();
    expect(
      logMatches(any, new Uint8Array(20), [new Uint8Array(32).fill(7), new Uint8Array(32).fill(1)]),
    ).toBe(true);
  });
});

describe('admission', () => {
  it('reads the chain id from the RLP of typed and legacy transactions', async () => {
    expect(chainIdOf(await signed())).toBe(BigInt(CHAIN));
    const legacy = hexToBytes(
      await account.signTransaction({ chainId: 7, type: 'legacy', gasPrice: 2_000_000_000n, ...base }),
    );
    expect(chainIdOf(legacy)).toBe(7n);
    expect(chainIdOf(new Uint8Array([0x02, 0xff]))).toBeUndefined();
  });

  it("refuses with Ethereum's messages", async () => {
    const ok = decodeRaw(await signed(), common, BigInt(CHAIN), 1000);
    expect(ok.fromHex).toBe(account.address.toLowerCase());
    expect(ok.maxCost).toBe(21_000n * 2_000_000_000n + 1n);
    expect(() => decodeRaw(new Uint8Array(2000), common, BigInt(CHAIN), 1000)).toThrow(/oversized data/);
    expect(() => decodeRaw(new Uint8Array([3, 0xc0]), common, BigInt(CHAIN), 1000)).toThrow(
      /transaction type not supported/,
    );
    const other = hexToBytes(
      await account.signTransaction({
        chainId: 5,
        type: 'eip1559',
        maxFeePerGas: 2n,
        maxPriorityFeePerGas: 0n,
        ...base,
      }),
    );
    expect(() => decodeRaw(other, common, BigInt(CHAIN), 1000)).toThrow(
      'invalid chain id for signer: have 5 want 900001',
    );
    expect(() => decodeRaw(new Uint8Array([0xde, 0xad]), common, BigInt(CHAIN), 1000)).toThrow(
      /-?RLP|decoded/,
    );
    const low = await signed({ gas: 20_000n });
    expect(() => decodeRaw(low, common, BigInt(CHAIN), 1000)).toThrow(
      'intrinsic gas too low: gas 20000, minimum needed 21000',
    );
    // A tip above the fee cap (no signer builds one): geth's words, not ethereumjs' decode error.
    const n = (v: number) => (v === 0 ? new Uint8Array(0) : Uint8Array.of(v));
    const tipAbove = Uint8Array.from([
      2,
      ...RLP.encode([
        CHAIN,
        n(0),
        n(5),
        n(2),
        21_000,
        hexToBytes(account.address),
        n(1),
        n(0),
        [],
        n(1),
        n(1),
        n(1),
      ]),
    ]);
    expect(() => decodeRaw(tipAbove, common, BigInt(CHAIN), 1000)).toThrow(
      /^max priority fee per gas higher than max fee per gas: maxPriorityFeePerGas: 5, maxFeePerGas: 2$/,
    );
  });

  it('reserves in-flight spending by nonce and forgets executed nonces', () => {
    const f = new InFlight(3);
    f.add('a', 0n, 10n);
    f.add('a', 1n, 20n);
    expect(f.reserved('a', 0n, 2n)).toBe(30n);
    expect(f.reserved('a', 1n, 2n)).toBe(20n); // nonce 0 executed
    expect(f.size()).toBe(1);
    f.add('b', 0n, 1n);
    f.add('c', 0n, 1n);
    f.add('d', 0n, 1n); // over the bound: the oldest sender (a) is forgotten
    expect(f.reserved('a', 0n, 10n)).toBe(0n);
    expect(f.size()).toBe(3);
  });
});

describe('state', () => {
  it('decodes Error(string) and Panic reasons', () => {
    const err =
      '0x08c379a0' +
      '0000000000000000000000000000000000000000000000000000000000000020' +
      '0000000000000000000000000000000000000000000000000000000000000003' +
      '626f6f0000000000000000000000000000000000000000000000000000000000';
    expect(revertReason(hexToBytes(err))).toBe('boo');
    expect(revertReason(hexToBytes(`0x4e487b71${'00'.repeat(31)}11`))).toBe('panic: 0x11');
    expect(revertReason(hexToBytes('0x12345678'))).toBeUndefined();
  });

  it("refuses a call below its intrinsic gas with geth's -32000, not an internal error", async () => {
    const r = new EvmStateReader(() => undefined, common);
    const to = new Uint8Array(20).fill(7);
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: { code?: number; message?: string }) => ({ code: e.code, message: e.message }),
      );
    // 21,000 plus the EIP-7623 calldata floor of one non-zero byte (4 tokens × 10); also a creation (the slow path).
    expect(await refusal(r.simulate({ to, data: Uint8Array.of(0x12) }, [], 21_000n, 2, 1000))).toEqual({
      code: -32000,
      message: 'intrinsic gas too low: have 21000, want 21040',
    });
    expect(await refusal(r.simulate({ data: Uint8Array.of(0) }, [], 21_000n, 2, 1000))).toEqual({
      code: -32000,
      message: expect.stringMatching(/^intrinsic gas too low: have 21000, want \d+$/),
    });
  });

  it('runs calls over committed state plus overrides without writing', async () => {
    const state = new Map<string, string>();
    const addr = hexToBytes(account.address);
    const emptyCode = Buffer.from(KECCAK256_NULL).toString('latin1');
    state.set(evmAccountKey(addr), encodeEvmAccount({ nonce: 3n, balance: 50n, codeHash: emptyCode }));
    const r = new EvmStateReader((k) => state.get(k), common);
    expect(r.account(addr)).toMatchObject({ nonce: 3n, balance: 50n });
    expect(r.account(new Uint8Array(20)).balance).toBe(0n);
    expect(r.code(addr)).toHaveLength(0);
    // code: return BALANCE(CALLER) → 0x33 0x31 0x60 0x00 0x52 0x60 0x20 0x60 0x00 0xf3
    const target = new Uint8Array(20).fill(7);
    const code = hexToBytes('0x333160005260206000f3');
    const before = new Map(state);
    const out = await r.simulate(
      { from: new Uint8Array(20).fill(9), to: target },
      parseStateOverrides(
        {
          [`0x${'07'.repeat(20)}`]: { code: '0x333160005260206000f3' },
          [`0x${'09'.repeat(20)}`]: { balance: '0x2a' },
        },
        1000,
      ),
      100_000n,
      1,
      0,
    );
    expect(code.length).toBe(10);
    expect(out.ok).toBe(true);
    expect(BigInt(`0x${Buffer.from(out.returnValue).toString('hex')}`)).toBe(42n);
    expect(state).toEqual(before);
  });
});

describe('filters', () => {
  const t1 = new Uint8Array(32).fill(1);
  const a = new Uint8Array(20).fill(2);
  it('matches logs by address and topic position', () => {
    expect(logMatches({ addresses: [], topics: [] }, a, [t1])).toBe(true);
    expect(logMatches({ addresses: [new Uint8Array(20)], topics: [] }, a, [t1])).toBe(false);
    expect(logMatches({ addresses: [a], topics: [null, [t1]] }, a, [t1])).toBe(false);
    expect(logMatches({ addresses: [a], topics: [[t1]] }, a, [t1, t1])).toBe(true);
  });

  it('bounds filters and expires idle ones', () => {
    let now = 0;
    const f = new Filters({ maxFilters: 2, idleMs: 1000, now: () => now, maxBuffered: 2 });
    const id = f.newBlockFilter();
    f.newBlockFilter();
    expect(() => f.newBlockFilter()).toThrow(/too many filters/);
    const block = (n: number) =>
      ({ number: n, hash: new Uint8Array(32).fill(n), txs: [] }) as unknown as EthBlock;
    for (let i = 1; i <= 5; i++) f.onBlock(block(i));
    expect(f.changes(id)).toHaveLength(2); // only the newest two are kept
    now = 5000;
    expect(() => f.changes(id)).toThrow(/filter not found/);
    expect(f.size()).toBe(0);
  });

  it('expires idle filters as blocks come, without an install or a poll (nothing buffered for them)', () => {
    let now = 0;
    const f = new Filters({ idleMs: 1000, now: () => now });
    const id = f.newLogFilter({ addresses: [], topics: [] });
    const block = (n: number) =>
      ({ number: n, hash: new Uint8Array(32).fill(n), txs: [] }) as unknown as EthBlock;
    f.onBlock(block(1));
    expect(f.size()).toBe(1);
    now = 1001;
    f.onBlock(block(2));
    expect(f.size()).toBe(0);
    expect(() => f.logFilter(id)).toThrow(/filter not found/);
    const other = f.newLogFilter({ addresses: [], topics: [] });
    now = 3000;
    expect(() => f.logFilter(other)).toThrow(/filter not found/); // expired, not yet swept by a block
  });
});

describe('RpcServer.mount', () => {
  it('serves a separate method table at a path', async () => {
    const s = new RpcServer({
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 10_000,
      maxConnections: 10,
      maxBatchRequests: 10,
      requestTimeoutMs: 5000,
    });
    s.register('root_only', () => 'root');
    s.mount('/evm/3', new Map([['eth_chainId', () => '0x1']]));
    expect(() => s.mount('/', new Map())).toThrow(RangeError);
    await s.start();
    try {
      const post = async (path: string, method: string) =>
        (await (
          await fetch(`http://127.0.0.1:${s.port}${path}`, {
            method: 'POST',
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method }),
          })
        ).json()) as { result?: string; error?: { code: number; message: string } };
      expect((await post('/evm/3', 'eth_chainId')).result).toBe('0x1');
      expect((await post('/evm/3/?x=1', 'eth_chainId')).result).toBe('0x1');
      expect((await post('/evm/3', 'root_only')).error).toEqual({
        code: -32601,
        message: 'method not found: root_only',
      });
      expect((await post('/', 'root_only')).result).toBe('root');
      expect((await post('/', 'eth_chainId')).error?.code).toBe(-32601);
    } finally {
      await s.stop();
    }
  });
});

describe('ingress admission hook', () => {
  it('refuses what the per-kind admission refuses, before the mempool', async () => {
    const { createIngress } = await import('../../../src/ingress/index.ts');
    const added: unknown[] = [];
    const ingress = createIngress({
      rollups: [{ namespace: 3, maxTxBytes: 1000 }],
      mempool: {
        add: (tx) => {
          added.push(tx);
          return { ok: true, hash: new Uint8Array(32) };
        },
      },
      gossip: { push: () => {} },
      admission: (tx) =>
        tx.payload[0] === 1 ? { code: 'INVALID_TX', message: 'insufficient funds' } : undefined,
    });
    expect(
      ingress.submitTransaction({ namespace: 3, payload: new Uint8Array([1]) }, 'eth_rpc'),
    ).toMatchObject({
      ok: false,
      code: 'INVALID_TX',
      message: 'insufficient funds',
      retryable: false,
    });
    expect(added).toHaveLength(0);
    expect(ingress.submitTransaction({ namespace: 3, payload: new Uint8Array([2]) }, 'eth_rpc').ok).toBe(
      true,
    );
    expect(added).toHaveLength(1);
  });
});

describe('mempool nextNonce (the pending transaction count)', () => {
  it('is the end of the contiguous pending run, else the committed nonce', async () => {
    const { createMempool } = await import('../../../src/mempool/index.ts');
    const { rollup, nonceTx, classifyNonceTx } = await import('../mempool/helpers.ts');
    const pool = createMempool({
      rollups: [rollup(1), rollup(2, { kind: 'transfer' })],
      classify: classifyNonceTx,
      accountNonce: (_ns, sender) => (sender === 'alice' ? 5n : 0n),
      limits: { maxTotalTxs: 100, maxTotalBytes: 100_000 },
    });
    expect(pool.nextNonce(1, 'alice')).toBeUndefined(); // opaque lane: no nonces
    expect(pool.nextNonce(2, 'alice')).toBe(5n);
    expect(pool.add(nonceTx(2, 'alice', 5), 'rpc').ok).toBe(true);
    expect(pool.add(nonceTx(2, 'alice', 6), 'rpc').ok).toBe(true);
    expect(pool.add(nonceTx(2, 'alice', 8), 'rpc').ok).toBe(true); // held: nonce 7 missing
    expect(pool.nextNonce(2, 'alice')).toBe(7n);
    expect(pool.nextNonce(2, 'bob')).toBe(0n);
  });
});
