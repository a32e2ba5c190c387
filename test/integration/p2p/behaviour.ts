/**
 * The behavioural compliance suite every `Network` implementation must pass (libp2p on loopback and the
 * in-memory hub run the same cases): connectivity, gossip delivery (not to self), batched tx gossip,
 * request/response with errors and timeouts that leave no open streams, refusal to publish past a
 * topic's size limit, rejection and scoring of oversized and malformed messages, and graylisting +
 * disconnection of a spamming peer while honest traffic keeps flowing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeTxBatch } from '../../../src/codec/codec.ts';
import type { P2pConfigInput } from '../../../src/p2p/config.ts';
import type { P2pNetwork, Topic } from '../../../src/p2p/network.ts';
import { TxGossip } from '../../../src/p2p/tx-gossip.ts';
import type { TxEnvelope } from '../../../src/types.ts';

export interface Cluster {
  nets: P2pNetwork[];
  /** Wait until every node sees every other node subscribed to these topics. */
  ready(topics: Topic[]): Promise<void>;
  /** Let queued traffic move (memory: drain the queue; libp2p: yield briefly). */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

/** Build and start `n` connected networks; `configs[i]` overrides node i's limits/scoring. */
export type MakeCluster = (n: number, configs?: (P2pConfigInput | undefined)[]) => Promise<Cluster>;

export async function waitFor(
  cluster: Cluster,
  cond: () => boolean,
  what: string,
  timeoutMs = 8000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await cluster.settle();
  }
}

function tx(i: number, size = 200): TxEnvelope {
  const payload = new Uint8Array(size);
  new DataView(payload.buffer).setUint32(0, i);
  payload[size - 1] = 7;
  return { namespace: 1, payload };
}

const key = (t: TxEnvelope) => Buffer.from(t.payload).toString('hex');

export function networkBehaviourSuite(name: string, make: MakeCluster): void {
  describe(`Network behaviour: ${name}`, () => {
    let cluster: Cluster | undefined;
    afterEach(async () => {
      await cluster?.stop();
      cluster = undefined;
    });

    it('connects every node to every other', async () => {
      cluster = await make(3);
      const c = cluster;
      await waitFor(c, () => c.nets.every((n) => n.peers().length === 2), 'full mesh');
      const ids = c.nets.map((n) => n.peerId);
      expect(new Set(ids).size).toBe(3);
      expect(c.nets[0]!.peers().sort()).toEqual([ids[1], ids[2]].sort());
    });

    it('delivers gossip to every other subscriber and not back to the publisher', async () => {
      cluster = await make(3);
      const c = cluster;
      const got: string[][] = c.nets.map(() => []);
      c.nets.forEach((n, i) => {
        n.subscribe('consensus', (m) => {
          got[i]!.push(`${m.from}:${Buffer.from(m.data).toString()}`);
          return 'accept';
        });
      });
      await c.ready(['consensus']);
      await c.nets[0]!.publish('consensus', Buffer.from('hello'));
      await waitFor(c, () => got[1]!.length === 1 && got[2]!.length === 1, 'delivery');
      await c.settle();
      expect(got[0]).toEqual([]);
      // `from` is the forwarding peer: usually the publisher, but gossipsub may deliver a relayed copy first.
      expect([`${c.nets[0]!.peerId}:hello`, `${c.nets[2]!.peerId}:hello`]).toContain(got[1]![0]);
      // Publishing the same bytes again is a new message id (consensus re-broadcasts votes to peers
      // that missed them), but content a peer already accepted within dedupeWindowMs is a replay:
      // ignored, not delivered twice. Copies of one publication are delivered once.
      await c.nets[0]!.publish('consensus', Buffer.from('hello'));
      await c.nets[1]!.publish('consensus', Buffer.from('again'));
      await waitFor(c, () => got[0]!.length === 1 && got[2]!.length === 2, 'second delivery');
      await c.settle();
      expect(got[1]).toHaveLength(1);
      expect(got[2]).toHaveLength(2);
      expect(got[2]![1]).toMatch(/:again$/);
    });

    it('refuses to publish a message above its topic limit, naming the size and the limit', async () => {
      cluster = await make(2, [{ limits: { maxGossipBytes: { consensus: 64 } } }]);
      const c = cluster;
      await c.nets[0]!.publish('consensus', new Uint8Array(64));
      await expect(c.nets[0]!.publish('consensus', new Uint8Array(65))).rejects.toMatchObject({
        code: 'GOSSIP_TOO_LARGE',
        message: 'consensus message is 65 bytes; the limit is 64',
        data: { topic: 'consensus', size: 65, max: 64 },
      });
    });

    it('gossips transactions in batches bounded by count', async () => {
      cluster = await make(3);
      const c = cluster;
      const admitted: Set<string>[] = c.nets.map(() => new Set());
      let published = 0;
      const origPublish = c.nets[0]!.publish.bind(c.nets[0]!);
      c.nets[0]!.publish = async (topic, data) => {
        if (topic === 'txs') published++;
        return origPublish(topic, data);
      };
      const gossips = c.nets.map(
        (n, i) =>
          new TxGossip({
            network: n,
            maxTxs: 50,
            flushMs: 5,
            admit: (t) => {
              const k = key(t);
              if (admitted[i]!.has(k)) return false;
              admitted[i]!.add(k);
              return true;
            },
          }),
      );
      await c.ready(['txs']);
      for (let i = 0; i < 120; i++) gossips[0]!.push(tx(i));
      await gossips[0]!.flush();
      await waitFor(c, () => admitted[1]!.size === 120 && admitted[2]!.size === 120, 'all txs at all nodes');
      expect(published).toBe(3); // 50 + 50 + 20
      for (const g of gossips) await g.stop();
    });

    it('serves requests, reports handler failures, and times out without leaving streams open', async () => {
      cluster = await make(2);
      const c = cluster;
      const [a, b] = c.nets as [P2pNetwork, P2pNetwork];
      let served = 0;
      b.handle('sync', async (from, req, signal) => {
        served++;
        if (req[0] === 1) return new Uint8Array([...req, from === a.peerId ? 42 : 0]);
        if (req[0] === 2) throw new Error('handler failed');
        // Never answers: waits until the requester goes away.
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        return new Uint8Array([0]);
      });
      await waitFor(c, () => a.peers().includes(b.peerId), 'connection');
      expect(await a.request(b.peerId, 'sync', new Uint8Array([1, 5]))).toEqual(new Uint8Array([1, 5, 42]));
      await expect(
        a.request(b.peerId, 'sync', new Uint8Array([2]), { timeoutMs: 3000 }),
      ).rejects.toMatchObject({
        code: 'P2P_REQUEST_FAILED',
      });
      const slow = a.request(b.peerId, 'sync', new Uint8Array([3]), { timeoutMs: 300 });
      const settled = slow.catch((e) => e);
      await c.settle();
      expect(await settled).toMatchObject({ code: 'P2P_REQUEST_TIMEOUT' });
      await waitFor(
        c,
        () => a.openRequestStreams() === 0 && b.openRequestStreams() === 0,
        'streams closed',
        3000,
      );
      expect(served).toBe(3);
      // The connection is still usable afterwards.
      expect(await a.request(b.peerId, 'sync', new Uint8Array([1]))).toEqual(new Uint8Array([1, 42]));
    });

    it('rejects oversized and malformed gossip and lowers the sender score', async () => {
      // Node 0 allows 1 KiB consensus messages; node 1 (misconfigured or hostile) allows more.
      cluster = await make(2, [{ limits: { maxGossipBytes: { consensus: 1024 } } }, undefined]);
      const c = cluster;
      const [r, s] = c.nets as [P2pNetwork, P2pNetwork];
      let handled = 0;
      r.subscribe('consensus', () => {
        handled++;
        return 'accept';
      });
      s.subscribe('consensus', () => 'accept');
      const rAdmitted: TxEnvelope[] = [];
      new TxGossip({
        network: r,
        admit: (t) => {
          rAdmitted.push(t);
          return true;
        },
      });
      new TxGossip({ network: s, admit: () => true });
      await c.ready(['consensus', 'txs']);
      expect(r.appScore(s.peerId)).toBe(0);
      await s.publish('consensus', new Uint8Array(4096).fill(1));
      await waitFor(c, () => r.appScore(s.peerId) < 0, 'score drop after oversized message');
      const afterOversize = r.appScore(s.peerId);
      expect(handled).toBe(0);
      await s.publish('txs', Buffer.from('definitely not a protobuf tx batch \xff\xff\xff\xff'));
      await waitFor(c, () => r.appScore(s.peerId) < afterOversize, 'score drop after malformed batch');
      // A batch that decodes but holds an invalid transaction (namespace 0) is rejected too.
      const beforeInvalid = r.appScore(s.peerId);
      await s.publish('txs', encodeTxBatch([{ namespace: 0, payload: new Uint8Array([1]) }]));
      await waitFor(c, () => r.appScore(s.peerId) < beforeInvalid, 'score drop after invalid tx');
      expect(rAdmitted).toHaveLength(0);
      // Within limits and valid: accepted.
      await s.publish('consensus', new Uint8Array(100).fill(2));
      await waitFor(c, () => handled === 1, 'valid message delivered');
    });

    it('graylists and disconnects a spamming peer while honest delivery continues', async () => {
      cluster = await make(3);
      const c = cluster;
      const [r, h, s] = c.nets as [P2pNetwork, P2pNetwork, P2pNetwork];
      const admitted = new Set<string>();
      const gr = new TxGossip({
        network: r,
        flushMs: 2,
        admit: (t) => {
          if (admitted.has(key(t))) return false;
          admitted.add(key(t));
          return true;
        },
      });
      const seenH = new Set<string>();
      const gh = new TxGossip({
        network: h,
        flushMs: 2,
        admit: (t) => {
          if (seenH.has(key(t))) return false;
          seenH.add(key(t));
          return true;
        },
      });
      new TxGossip({ network: s, admit: () => true });
      await c.ready(['txs']);
      let sent = 0;
      let spam = 0;
      // Interleave honest batches from h with garbage from s, bounded.
      for (let round = 0; round < 40 && r.peers().includes(s.peerId); round++) {
        for (let j = 0; j < 5; j++) gh.push(tx(sent++));
        await gh.flush();
        const garbage = new Uint8Array(64).fill(0xff);
        garbage[0] = round;
        await s.publish('txs', garbage).catch(() => {});
        spam++;
        await c.settle();
      }
      await waitFor(c, () => r.isGraylisted(s.peerId), 'spammer graylisted');
      await waitFor(c, () => !r.peers().includes(s.peerId), 'spammer disconnected');
      expect(spam).toBeLessThan(40);
      // Honest traffic keeps flowing after the spammer is gone.
      for (let j = 0; j < 20; j++) gh.push(tx(sent++));
      await gh.flush();
      await waitFor(c, () => admitted.size === sent, 'all honest txs delivered');
      expect(r.isGraylisted(h.peerId)).toBe(false);
      expect(r.appScore(h.peerId)).toBe(0);
      await gr.stop();
      await gh.stop();
    });
  });
}
