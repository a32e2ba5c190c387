import { keccak_256 } from '@noble/hashes/sha3.js';
import { describe, expect, it } from 'vitest';
import { EthBundles, flashbotsBundleHash } from '../../../src/eth-rpc/bundles.ts';
import { RpcError } from '../../../src/rpc/index.ts';
import type { Bundle } from '../../../src/types.ts';

function setup(refuse?: string) {
  const got: Bundle[] = [];
  const b = new EthBundles({
    namespace: 3,
    maxTxBytes: 1000,
    submitBundle: (x) => {
      got.push(x);
      return refuse
        ? { ok: false, code: refuse as 'WINDOW_PASSED', message: `refused ${refuse}`, retryable: false }
        : { ok: true, bundleHash: new Uint8Array(32).fill(9) };
    },
  });
  return { b, got };
}

function err(f: () => unknown): RpcError {
  try {
    f();
  } catch (e) {
    if (e instanceof RpcError) return e;
    throw e;
  }
  throw new Error('expected an RpcError');
}

describe('eth_sendBundle', () => {
  it('maps onto a single-leg execution bundle pinned to the block height and answers the keccak bundle hash', () => {
    const { b, got } = setup();
    const rev = `0x${Buffer.from(keccak_256(Uint8Array.of(2))).toString('hex')}`;
    const r = b.sendBundle([{ txs: ['0x01', '0x02'], blockNumber: '0x10', revertingTxHashes: [rev] }]);
    const expected = keccak_256(
      Uint8Array.from([...keccak_256(Uint8Array.of(1)), ...keccak_256(Uint8Array.of(2))]),
    );
    expect(r.bundleHash).toBe(`0x${Buffer.from(expected).toString('hex')}`);
    expect(flashbotsBundleHash([Uint8Array.of(1), Uint8Array.of(2)])).toEqual(expected);
    expect(got[0]).toMatchObject({ atomicity: 'execution', minHeight: 16, maxHeight: 16 });
    expect(got[0]!.legs).toHaveLength(1);
    expect(got[0]!.legs[0]!.namespace).toBe(3);
    expect(b.ordoHashOf(r.bundleHash)).toEqual(new Uint8Array(32).fill(9));
  });

  it.each([
    [[{ txs: [], blockNumber: '0x1' }], 'txs must be a non-empty array'],
    [[{ txs: ['0xzz'], blockNumber: '0x1' }], 'txs[0]'],
    [[{ txs: ['0x01'] }], 'blockNumber'],
    [[{ txs: ['0x01'], blockNumber: '0x0' }], 'blockNumber must be at least 1'],
    [[{ txs: ['0x01'], blockNumber: '0x1', minTimestamp: -1 }], 'minTimestamp'],
    [[{ txs: ['0x01'], blockNumber: '0x1', revertingTxHashes: ['0x12'] }], 'revertingTxHashes[0]'],
    [[{ txs: Array(101).fill('0x01'), blockNumber: '0x1' }], 'the limit is 100'],
    [
      [{ txs: ['0x01'], blockNumber: '0x1', replacementUuid: '0f8fad5b-d9cb-469f-a165-70867728950e' }],
      'replacementUuid is not supported',
    ],
    [['x'], 'bundle must be an object'],
    [[{ txs: ['0x01'], blockNumber: '0x1' }, 'extra'], 'expected [{txs, blockNumber'],
  ])('refuses %j with -32602', (params, msg) => {
    const { b, got } = setup();
    const e = err(() => b.sendBundle(params));
    expect(e.code).toBe(-32602);
    expect(e.message).toContain(msg);
    expect(got).toHaveLength(0);
  });

  it('maps pool refusals like ordo_sendBundle', () => {
    const e = err(() => setup('WINDOW_PASSED').b.sendBundle([{ txs: ['0x01'], blockNumber: '0x1' }]));
    expect(e.code).toBe(-32001);
    expect(e.data).toMatchObject({ code: 'WINDOW_PASSED' });
  });

  it('answers the same bundle sent again with its bundleHash, as the Flashbots relay does', () => {
    const { b, got } = setup('DUPLICATE');
    const r = b.sendBundle([{ txs: ['0x01'], blockNumber: '0x1' }]);
    expect(r.bundleHash).toBe(`0x${Buffer.from(flashbotsBundleHash([Uint8Array.of(1)])).toString('hex')}`);
    expect(got).toHaveLength(1);
  });

  it('refuses the unsigned eth_cancelBundle with a clear error', () => {
    const e = err(() => setup().b.cancelBundle());
    expect(e.code).toBe(-32602);
    expect(e.message).toContain('ordo_cancelBundle');
  });
});
