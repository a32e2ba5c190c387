/**
 * The gossip message id and the replay guard's content key come from one hash pass (network.ts
 * `msgId` / `contentKeyOf`): the id must stay exactly sha256(topic ‖ payload ‖ nonce) — other nodes
 * compute it too — and the key must be what `ContentDedupe.key` gives for the payload without nonce.
 */
import { createHash } from 'node:crypto';
import type { Message } from '@libp2p/gossipsub';
import { describe, expect, it } from 'vitest';
import { ContentDedupe } from '../../../src/p2p/guards.ts';
import { contentKeyOf, msgId, PUBLISH_NONCE_BYTES } from '../../../src/p2p/libp2p/network.ts';

function message(topic: string, payload: Uint8Array, nonce: number): Message {
  const data = new Uint8Array(payload.byteLength + PUBLISH_NONCE_BYTES);
  data.set(payload);
  new DataView(data.buffer).setBigUint64(payload.byteLength, BigInt(nonce));
  return { type: 'unsigned', topic, data } as Message;
}

describe('gossip message id and content key', () => {
  const topic = '/ordo/test-chain/txs/1';
  const payload = new Uint8Array(10_000).map((_, i) => i * 7);

  it('the id is sha256 over topic and the whole frame, the key the same without the nonce', () => {
    const m = message(topic, payload, 42);
    const id = msgId(m);
    expect(Buffer.from(id).toString('hex')).toBe(
      createHash('sha256').update(topic).update(m.data).digest('hex'),
    );
    expect(contentKeyOf(m)).toBe(ContentDedupe.key(topic, payload));
  });

  it('a re-publication under a fresh nonce has a new id and the same content key', () => {
    const a = message(topic, payload, 1);
    const b = message(topic, payload, 2);
    expect(Buffer.from(msgId(a)).equals(Buffer.from(msgId(b)))).toBe(false);
    expect(contentKeyOf(a)).toBe(contentKeyOf(b));
  });

  it('a message whose id was never computed still gets the same key', () => {
    const m = message(topic, payload, 3);
    expect(contentKeyOf(m)).toBe(ContentDedupe.key(topic, payload));
  });

  it('a frame shorter than the nonce still gets an id', () => {
    const m = { type: 'unsigned', topic, data: new Uint8Array(3) } as Message;
    expect(msgId(m).byteLength).toBe(32);
  });
});
