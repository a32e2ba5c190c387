/** docs/rpc.md defines the transaction hash with a worked example; it must match `txHash`. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { txHash } from '../../../src/codec/hashing.ts';
import { toHex } from '../../../src/crypto/hash.ts';

describe('transaction hash as documented in docs/rpc.md', () => {
  it('matches the worked example', () => {
    const doc = readFileSync(new URL('../../../docs/rpc.md', import.meta.url), 'utf8');
    const m = /`0x([0-9a-f]{64})`/.exec(doc.slice(doc.indexOf('**Transaction hash.**')));
    expect(m).not.toBeNull();
    const h = txHash({ namespace: 1, payload: new Uint8Array([1, 2, 3, 4]) });
    expect(toHex(h)).toBe(m![1]);
  });
});
