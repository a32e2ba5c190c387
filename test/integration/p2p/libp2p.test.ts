/**
 * Real libp2p nodes on 127.0.0.1: the shared behavioural suite plus what only a real host has
 * (identity key persisted with mode 0600, bootstrap redial after a peer restarts, config errors).
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  decodeSyncRequest,
  decodeSyncResponse,
  encodeSyncRequest,
  encodeSyncResponse,
} from '../../../src/codec/codec.ts';
import { txHash } from '../../../src/codec/hashing.ts';
import type { P2pConfigInput } from '../../../src/p2p/config.ts';
import {
  createLibp2pNetwork,
  DEFAULT_FORWARD_DELAY_MS,
  DEFAULT_TX_FORWARD_DELAY_MS,
  forwardDelayFor,
} from '../../../src/p2p/libp2p/network.ts';
import type { P2pNetwork, Topic } from '../../../src/p2p/network.ts';
import { type Cluster, networkBehaviourSuite, waitFor } from './behaviour.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ordo-p2p-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function makeCluster(n: number, configs: (P2pConfigInput | undefined)[] = []): Promise<Cluster> {
  const dir = await tempDir();
  const nets: P2pNetwork[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const net = await createLibp2pNetwork({
        chainId: 'test-chain',
        listen: '/ip4/127.0.0.1/tcp/0',
        bootstrap: nets.map((p) => p.addresses()[0]!),
        identityKeyPath: join(dir, `node${i}.key`),
        heartbeatMs: 100,
        reconnect: { initialMs: 100, maxMs: 1000 },
        ...configs[i],
      });
      await net.start();
      nets.push(net);
    }
  } catch (err) {
    for (const net of nets) await net.stop();
    throw err;
  }
  const cluster: Cluster = {
    nets,
    async ready(topics: Topic[]) {
      await waitFor(
        cluster,
        () => nets.every((net) => topics.every((t) => net.topicPeers(t).length === n - 1)),
        'topic subscriptions',
      );
    },
    settle: () => sleep(25),
    async stop() {
      for (const net of nets) await net.stop();
    },
  };
  return cluster;
}

networkBehaviourSuite('libp2p', makeCluster);

describe('libp2p host', () => {
  const started: P2pNetwork[] = [];
  afterEach(async () => {
    for (const n of started.splice(0)) await n.stop();
  });

  it('persists its identity key with mode 0600 and keeps its peer id across restarts', async () => {
    const dir = await tempDir();
    const keyPath = join(dir, 'home', 'p2p.key');
    const opts = { chainId: 'c', listen: '/ip4/127.0.0.1/tcp/0', identityKeyPath: keyPath };
    const a = await createLibp2pNetwork(opts);
    const b = await createLibp2pNetwork(opts);
    expect(b.peerId).toBe(a.peerId);
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
  });

  it('redials a bootstrap peer with backoff after it restarts', async () => {
    const dir = await tempDir();
    const a = await createLibp2pNetwork({
      chainId: 'c',
      listen: '/ip4/127.0.0.1/tcp/0',
      identityKeyPath: join(dir, 'a.key'),
    });
    await a.start();
    started.push(a);
    const addr = a.addresses()[0]!;
    const b = await createLibp2pNetwork({
      chainId: 'c',
      listen: '/ip4/127.0.0.1/tcp/0',
      bootstrap: [addr],
      identityKeyPath: join(dir, 'b.key'),
      reconnect: { initialMs: 100, maxMs: 400 },
    });
    await b.start();
    started.push(b);
    const c: Cluster = { nets: [a, b], ready: async () => {}, settle: () => sleep(25), stop: async () => {} };
    await waitFor(c, () => b.peers().includes(a.peerId), 'initial connection');
    await a.stop();
    await waitFor(c, () => b.peers().length === 0, 'disconnect seen');
    // Same key, same port: b must find it again by itself.
    const port = addr.split('/')[4]!;
    const a2 = await createLibp2pNetwork({
      chainId: 'c',
      listen: `/ip4/127.0.0.1/tcp/${port}`,
      identityKeyPath: join(dir, 'a.key'),
    });
    await a2.start();
    started.push(a2);
    await waitFor(c, () => b.peers().includes(a2.peerId), 'reconnection');
  });

  it('blocks and unblocks peers on request (testnet partitions)', async () => {
    const c = await makeCluster(2);
    started.push(...c.nets);
    const [a, b] = c.nets as [P2pNetwork & { setBlockedPeers(ids: string[]): Promise<void> }, P2pNetwork];
    await waitFor(c, () => a.peers().includes(b.peerId), 'initial connection');
    await a.setBlockedPeers([b.peerId]);
    await waitFor(c, () => a.peers().length === 0 && b.peers().length === 0, 'partition');
    await sleep(500);
    expect(a.peers()).toEqual([]); // b's bootstrap redials are refused by a's gater
    await a.setBlockedPeers([]);
    await waitFor(c, () => a.peers().includes(b.peerId), 'heal');
  });

  it('carries sync status and txs-by-hash, and enforces request and response size limits', async () => {
    // b refuses requests over 1 KiB; a refuses responses over 2 KiB.
    const cluster = await makeCluster(2, [
      { limits: { maxResponseBytes: 2048 } },
      { limits: { maxRequestBytes: 1024 } },
    ]);
    started.push(...cluster.nets);
    const [a, b] = cluster.nets as [P2pNetwork, P2pNetwork];
    const stored = [1, 2, 3].map((i) => ({ namespace: i, payload: new Uint8Array([i, i, i]) }));
    b.handle('sync', async (_from, bytes) => {
      const req = decodeSyncRequest(bytes);
      if (req.kind === 'status') {
        return encodeSyncResponse({
          kind: 'status',
          status: { chainId: 'test-chain', height: 7, headHash: new Uint8Array(32).fill(7), baseHeight: 1 },
        });
      }
      if (req.kind === 'txs') {
        const wanted = new Set(req.hashes.map((h) => Buffer.from(h).toString('hex')));
        const txs = stored.filter((t) => wanted.has(Buffer.from(txHash(t)).toString('hex')));
        return encodeSyncResponse({ kind: 'txs', txs });
      }
      return new Uint8Array(4096); // too large for a's response limit
    });
    await waitFor(cluster, () => a.peers().includes(b.peerId), 'connection');
    const status = decodeSyncResponse(
      await a.request(b.peerId, 'sync', encodeSyncRequest({ kind: 'status' })),
    );
    expect(status).toMatchObject({ kind: 'status', status: { height: 7, baseHeight: 1 } });
    const hashes = [txHash(stored[0]!), txHash(stored[2]!), new Uint8Array(32)];
    const txs = decodeSyncResponse(
      await a.request(b.peerId, 'sync', encodeSyncRequest({ kind: 'txs', hashes })),
    );
    expect(txs.kind === 'txs' && txs.txs.map((t) => t.namespace)).toEqual([1, 3]);
    await expect(
      a.request(b.peerId, 'sync', encodeSyncRequest({ kind: 'blocks', fromHeight: 1, toHeight: 2 })),
    ).rejects.toMatchObject({ code: 'P2P_RESPONSE_TOO_LARGE' });
    const manyHashes = Array.from({ length: 40 }, () => new Uint8Array(32));
    await expect(
      a.request(b.peerId, 'sync', encodeSyncRequest({ kind: 'txs', hashes: manyHashes }), {
        timeoutMs: 3000,
      }),
    ).rejects.toMatchObject({ code: 'P2P_REQUEST_FAILED' });
    await waitFor(cluster, () => b.appScore(a.peerId) < 0, 'oversized request penalised');
    await waitFor(
      cluster,
      () => a.openRequestStreams() === 0 && b.openRequestStreams() === 0,
      'streams closed',
    );
  });

  it('reports gossip, validation and request metrics', async () => {
    const dir = await tempDir();
    const registry = new Registry();
    const a = await createLibp2pNetwork({
      chainId: 'm',
      listen: '/ip4/127.0.0.1/tcp/0',
      identityKeyPath: join(dir, 'a.key'),
      limits: { maxGossipBytes: { auction: 512 } },
      registry,
    });
    a.subscribe('auction', () => 'accept');
    a.handle('sync', async () => new Uint8Array([1]));
    await a.start();
    started.push(a);
    const b = await createLibp2pNetwork({
      chainId: 'm',
      listen: '/ip4/127.0.0.1/tcp/0',
      bootstrap: [a.addresses()[0]!],
      identityKeyPath: join(dir, 'b.key'),
    });
    b.subscribe('auction', () => 'accept');
    await b.start();
    started.push(b);
    const c: Cluster = { nets: [a, b], ready: async () => {}, settle: () => sleep(25), stop: async () => {} };
    await waitFor(
      c,
      () => a.topicPeers('auction').length === 1 && b.topicPeers('auction').length === 1,
      'subs',
    );
    await b.publish('auction', new Uint8Array(100));
    await b.publish('auction', new Uint8Array(1000));
    await b.request(a.peerId, 'sync', new Uint8Array([0]));
    await waitFor(c, () => a.appScore(b.peerId) < 0, 'oversized rejected');
    const text = await registry.metrics();
    expect(text).toMatch(/ordo_p2p_validation_total\{topic="auction",verdict="accept"\} 1/);
    expect(text).toMatch(/ordo_p2p_validation_total\{topic="auction",verdict="reject"\} 1/);
    expect(text).toMatch(/ordo_p2p_gossip_bytes_total\{topic="auction",direction="in"\} 1100/);
    expect(text).toMatch(/ordo_p2p_requests_served_total\{protocol="sync",outcome="ok"\} 1/);
    expect(text).toMatch(/ordo_p2p_peer_offences_total\{offence="invalid-message"\} 1/);
  });

  it('forwards a large message only after forwardDelayMs, and still through a relay', async () => {
    // a - b - c in a line: c hears a only through b, which holds large messages 300 ms first.
    const dir = await tempDir();
    const arrivals = new Map<string, number>();
    const node = async (name: string, bootstrap: string[]) => {
      const net = await createLibp2pNetwork({
        chainId: 'fwd',
        listen: '/ip4/127.0.0.1/tcp/0',
        bootstrap,
        identityKeyPath: join(dir, `${name}.key`),
        heartbeatMs: 100,
        forwardDelayMs: 300,
      });
      net.subscribe('auction', (m) => {
        arrivals.set(`${name}:${m.data.byteLength}`, performance.now());
        return 'accept';
      });
      await net.start();
      started.push(net);
      return net;
    };
    const a = await node('a', []);
    const b = await node('b', [a.addresses()[0]!]);
    const c = await node('c', [b.addresses()[0]!]);
    const cl: Cluster = {
      nets: [a, b, c],
      ready: async () => {},
      settle: () => sleep(25),
      stop: async () => {},
    };
    await waitFor(
      cl,
      () => b.topicPeers('auction').length === 2 && c.topicPeers('auction').length === 1,
      'line topology',
    );
    expect(a.peers()).not.toContain(c.peerId);
    await a.publish('auction', new Uint8Array(4096).fill(1));
    await a.publish('auction', new Uint8Array(100).fill(2));
    await waitFor(cl, () => arrivals.has('c:4096') && arrivals.has('c:100'), 'relayed to c');
    expect(arrivals.get('c:4096')! - arrivals.get('b:4096')!).toBeGreaterThanOrEqual(290);
  });

  it('sends each transaction batch once per validator of a full mesh, and still to a node connected to one of them', async () => {
    // v0..v3 fully connected, f (a full node) connected to v0 only. Relays hold txs batches 300 ms, so
    // the IDONTWANTs of peers that got a batch from its author stop every relay copy between validators,
    // while f still gets the other validators' batches (through v0) and they get f's.
    const dir = await tempDir();
    const seen: Set<number>[] = [];
    const registries: Registry[] = [];
    const node = async (i: number, bootstrap: string[]) => {
      const registry = new Registry();
      const net = await createLibp2pNetwork({
        chainId: 'dissemination',
        listen: '/ip4/127.0.0.1/tcp/0',
        bootstrap,
        identityKeyPath: join(dir, `n${i}.key`),
        heartbeatMs: 200,
        topicForwardDelayMs: { txs: 300 },
        registry,
      });
      const got = new Set<number>();
      net.subscribe('txs', (m) => {
        got.add(new DataView(m.data.buffer, m.data.byteOffset).getUint32(0));
        return 'accept';
      });
      await net.start();
      started.push(net);
      seen.push(got);
      registries.push(registry);
      return net;
    };
    const v: P2pNetwork[] = [];
    for (let i = 0; i < 4; i++)
      v.push(
        await node(
          i,
          v.map((x) => x.addresses()[0]!),
        ),
      );
    const f = await node(4, [v[0]!.addresses()[0]!]);
    const cl: Cluster = {
      nets: [...v, f],
      ready: async () => {},
      settle: () => sleep(25),
      stop: async () => {},
    };
    await waitFor(
      cl,
      () =>
        v[0]!.topicPeers('txs').length === 4 &&
        v.slice(1).every((x) => x.topicPeers('txs').length === 3) &&
        f.topicPeers('txs').length === 1,
      'four validators in a full mesh and a full node on v0',
    );
    for (const x of v.slice(1)) expect(x.peers()).not.toContain(f.peerId);
    await sleep(400); // mesh GRAFTs exchanged
    const batch = (id: number) => {
      const b = new Uint8Array(2000).fill(id & 0xff);
      new DataView(b.buffer).setUint32(0, id);
      return b;
    };
    const all = [...v, f];
    for (let k = 0; k < 10; k++) {
      for (const [i, net] of all.entries()) if (i < 4 || k < 5) await net.publish('txs', batch(i * 100 + k));
    }
    const total = 45;
    const own = (i: number) => (i < 4 ? 10 : 5);
    await waitFor(
      cl,
      () => seen.every((g, i) => g.size === total - own(i)),
      'every batch everywhere',
      15_000,
    );
    // Copies received on the wire (duplicates included) against batches validated, per validator.
    for (let i = 1; i < 4; i++) {
      const text = await registries[i]!.metrics();
      const copies = Number(
        /ordo_p2p_rpc_received_items_total\{kind="message",topic="txs"\} (\d+)/.exec(text)?.[1],
      );
      const validated = Number(
        /ordo_p2p_gossip_messages_total\{topic="txs",direction="in"\} (\d+)/.exec(text)?.[1],
      );
      expect(validated).toBe(total - own(i));
      // Without IDONTWANT each batch of v0, v2, v3 would arrive three times (author + two relays).
      expect(copies).toBeLessThan(1.5 * validated);
      expect(text).toMatch(/ordo_p2p_rpc_received_bytes_total \d+/);
    }
  });

  it('holds transaction batches longer than other gossip before forwarding by default', () => {
    expect(forwardDelayFor('txs', {})).toBe(DEFAULT_TX_FORWARD_DELAY_MS);
    expect(forwardDelayFor('consensus', {})).toBe(DEFAULT_FORWARD_DELAY_MS);
    expect(forwardDelayFor('txs', { forwardDelayMs: 5 })).toBe(DEFAULT_TX_FORWARD_DELAY_MS);
    expect(forwardDelayFor('txs', { topicForwardDelayMs: { txs: 0 } })).toBe(0);
    expect(forwardDelayFor('auction', { forwardDelayMs: 5, topicForwardDelayMs: { txs: 0 } })).toBe(5);
  });

  it('announces the configured addresses (p2p.announce) instead of its listen addresses', async () => {
    const dir = await tempDir();
    const a = await createLibp2pNetwork({
      chainId: 'c',
      listen: '/ip4/0.0.0.0/tcp/0',
      announce: ['/dns4/localhost/tcp/1234'],
      identityKeyPath: join(dir, 'a'),
    });
    await a.start();
    started.push(a);
    expect(a.addresses()).toEqual([`/dns4/localhost/tcp/1234/p2p/${a.peerId}`]);
  });

  it('refuses bad config with the field named', async () => {
    const dir = await tempDir();
    const base = { chainId: 'c', listen: '/ip4/127.0.0.1/tcp/0', identityKeyPath: join(dir, 'k') };
    await expect(createLibp2pNetwork({ ...base, bootstrap: ['/ip4/127.0.0.1/tcp/1'] })).rejects.toThrow(
      /bootstrap\[0\]/,
    );
    await expect(createLibp2pNetwork({ ...base, limits: { maxTxBytes: 0 } })).rejects.toThrow(
      /limits.maxTxBytes/,
    );
    await expect(createLibp2pNetwork({ ...base, listen: 'nonsense' })).rejects.toThrow(/listen/);
    await expect(createLibp2pNetwork({ ...base, topicForwardDelayMs: { txs: -1 } })).rejects.toThrow(
      /topicForwardDelayMs.txs/,
    );
    await expect(createLibp2pNetwork({ ...base, announce: ['/dns4/x/tcp/1', 'nonsense'] })).rejects.toThrow(
      /announce\[1\]/,
    );
    await expect(createLibp2pNetwork({ ...base, announce: ['/dns4/x/tcp/1/p2p/12D3KooWx'] })).rejects.toThrow(
      /announce\[0\]/,
    );
    // A port already in use fails start() with a typed error, and the network can be retried.
    const first = await createLibp2pNetwork(base);
    await first.start();
    started.push(first);
    const port = first.addresses()[0]!.split('/')[4]!;
    const clash = await createLibp2pNetwork({
      ...base,
      identityKeyPath: join(dir, 'k2'),
      listen: `/ip4/127.0.0.1/tcp/${port}`,
    });
    await expect(clash.start()).rejects.toMatchObject({ code: 'P2P_START_FAILED' });
    await clash.stop();
  });
});
