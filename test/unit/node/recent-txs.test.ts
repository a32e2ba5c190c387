import { describe, expect, it } from 'vitest';
import { txHash } from '../../../src/codec/hashing.ts';
import { RecentlyDecided } from '../../../src/node/recent-txs.ts';
import type { Block, TxEnvelope } from '../../../src/types.ts';

function block(height: number, txs: TxEnvelope[]): Block {
  return { header: { height } as Block['header'], txs, bundles: [] };
}
const tx = (ns: number, byte: number): TxEnvelope => ({
  namespace: ns,
  payload: new Uint8Array([byte, 1, 2]),
});

describe('recently decided transactions', () => {
  it('finds a transaction of any of the last blocks by id, and forgets older blocks', () => {
    const r = new RecentlyDecided(2);
    const a = tx(1, 1);
    const b = tx(2, 2);
    const c = tx(1, 3);
    r.add(block(1, [a]));
    r.add(block(2, [b]));
    expect(r.find(txHash(a))).toBe(a);
    expect(r.find(txHash(b))).toBe(b);
    r.add(block(3, [c]));
    expect(r.find(txHash(a))).toBeUndefined();
    expect(r.find(txHash(b))).toBe(b);
    expect(r.find(txHash(c))).toBe(c);
    expect(r.find(new Uint8Array(32))).toBeUndefined();
  });

  it('indexes a block added after an earlier lookup', () => {
    const r = new RecentlyDecided();
    const a = tx(1, 1);
    const b = tx(1, 2);
    r.add(block(1, [a]));
    expect(r.find(txHash(b))).toBeUndefined();
    r.add(block(2, [b]));
    expect(r.find(txHash(b))).toBe(b);
  });
});
