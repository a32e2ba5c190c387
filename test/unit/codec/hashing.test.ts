/** Transaction ids: the definition, and the per-envelope memo that must never change what is hashed. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeTxBatch } from '../../../src/codec/codec.ts';
import { txHash } from '../../../src/codec/hashing.ts';

function reference(namespace: number, payload: Uint8Array): Uint8Array {
  const ns = Buffer.alloc(4);
  ns.writeUInt32BE(namespace);
  return new Uint8Array(createHash('sha256').update(ns).update(payload).digest());
}

describe('txHash', () => {
  it('is sha256(namespace u32 BE || payload), memoised per envelope and invisible to encoders', () => {
    const tx = { namespace: 7, payload: new Uint8Array([1, 2, 3]) };
    const before = encodeTxBatch([tx]);
    const h = txHash(tx);
    expect(h).toEqual(reference(7, tx.payload));
    expect(txHash(tx)).toBe(h); // the memo
    expect(Object.keys(tx)).toEqual(['namespace', 'payload']);
    expect(tx).toEqual({ namespace: 7, payload: new Uint8Array([1, 2, 3]) });
    expect(encodeTxBatch([tx])).toEqual(before);
    expect(structuredClone(tx)).toEqual({ namespace: 7, payload: new Uint8Array([1, 2, 3]) });
  });

  it('hashes frozen envelopes too', () => {
    const tx = Object.freeze({ namespace: 1, payload: new Uint8Array([9]) });
    const h = txHash(tx);
    expect(h).toEqual(reference(1, tx.payload));
    expect(txHash(tx)).toBe(h);
  });
});
