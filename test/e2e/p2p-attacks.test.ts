/**
 * Issue #25 item 8 against a real `ordo` process: a peer in the test process (a real libp2p host)
 * sends prevotes signed by a key outside the validator set while claiming validator index 0, at the
 * current height and at old heights; the node counts them as rejections, penalises the sender and
 * disconnects it, and keeps committing. A second peer replays the node's own valid consensus messages
 * under fresh gossip ids; the node ignores the replays and disconnects it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeConsensusMessage } from '../../src/codec/codec.ts';
import { voteSignBytes } from '../../src/codec/hashing.ts';
import { ed25519Signer } from '../../src/consensus/index.ts';
import { createLibp2pNetwork, type P2pNetwork } from '../../src/p2p/index.ts';
import {
  freePort,
  initLoopbackHome,
  killAll,
  killNode,
  ordoSync,
  type RunningNode,
  rpc,
  startNode,
  waitFor,
} from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordo-e2e-p2p-'));
let node: RunningNode;
let nodeAddr = '';
let chainId = '';
const peers: P2pNetwork[] = [];

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${node.rpcUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return Number(line?.split(' ').pop() ?? 0);
}

const height = async () => ((await rpc(node.rpcUrl, 'ordo_status', [])) as { height: number }).height;

async function attacker(name: string): Promise<P2pNetwork> {
  const net = await createLibp2pNetwork({
    chainId,
    listen: '/ip4/127.0.0.1/tcp/0',
    bootstrap: [nodeAddr],
    identityKeyPath: join(dir, `${name}.key`),
    heartbeatMs: 100,
    reconnect: { initialMs: 60_000, maxMs: 60_000 },
  });
  peers.push(net);
  return net;
}

beforeAll(async () => {
  const home = join(dir, 'n0');
  const port = await freePort();
  const r = initLoopbackHome(home, { p2pPort: port });
  expect(r.status, r.stderr).toBe(0);
  const id = ordoSync(['testnet', 'peer-id', '--home', home]);
  expect(id.status, id.stderr).toBe(0);
  nodeAddr = `/ip4/127.0.0.1/tcp/${port}/p2p/${id.stdout.trim()}`;
  chainId = JSON.parse(readFileSync(join(home, 'genesis.json'), 'utf8')).chainId;
  node = await startNode(home);
  // Old heights (h - 5) must exist for the old-height attack.
  await waitFor('height 8', async () => ((await height()) >= 8 ? true : undefined), 60_000);
}, 90_000);

afterAll(async () => {
  for (const p of peers) await p.stop().catch(() => {});
  if (node !== undefined) await killNode(node, 'SIGTERM');
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('p2p attacks on a real node (issue #25)', () => {
  it.each([
    ['current and next', (h: number, i: number) => (i % 2 === 0 ? h + 1 : h)],
    ['old', (h: number) => Math.max(1, h - 5)],
  ])(
    'rejects prevotes at %s heights signed by a key outside the validator set, penalises and disconnects the sender',
    async (name, heightOf) => {
      const net = await attacker(`forger-${name}`);
      net.subscribe('consensus', () => 'accept');
      await net.start();
      await waitFor('gossip mesh', async () => (net.topicPeers('consensus').length > 0 ? true : undefined));
      const rejectsBefore = await metric('ordo_p2p_validation_total', 'verdict="reject"');
      const stranger = ed25519Signer(randomBytes(32));
      const h = await height();
      const offencesBefore = await metric('ordo_p2p_peer_offences_total', 'offence="invalid-message"');
      for (let i = 0; i < 30 && net.peers().length > 0; i++) {
        const vh = heightOf(h, i);
        const vote = {
          type: 'prevote' as const,
          height: vh,
          round: i,
          blockHash: null,
          validatorIndex: 0,
          signature: stranger.sign(voteSignBytes(chainId, 'prevote', vh, i, null)),
        };
        await net.publish('consensus', encodeConsensusMessage({ kind: 'vote', vote })).catch(() => {});
        await new Promise((r) => setTimeout(r, 20));
      }
      await waitFor('the node to disconnect the forger', async () =>
        net.peers().length === 0 ? true : undefined,
      );
      expect(await metric('ordo_p2p_validation_total', 'verdict="reject"')).toBeGreaterThan(rejectsBefore);
      expect(await metric('ordo_p2p_peer_offences_total', 'offence="invalid-message"')).toBeGreaterThan(
        offencesBefore,
      );
      // still committing
      const after = await height();
      await waitFor('progress', async () => ((await height()) > after ? true : undefined));
    },
  );

  it('ignores valid consensus messages replayed under fresh gossip ids and disconnects the replayer', async () => {
    const net = await attacker('replayer');
    const captured: Uint8Array[] = [];
    net.subscribe('consensus', (m) => {
      if (captured.length < 4) captured.push(m.data);
      return 'accept';
    });
    await net.start();
    await waitFor('a captured consensus message', async () => (captured.length > 0 ? true : undefined));
    const dupBefore = await metric('ordo_p2p_peer_offences_total', 'offence="spam"');
    for (let i = 0; i < 1000 && net.peers().length > 0; i++) {
      await net.publish('consensus', captured[0]!).catch(() => {});
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 10));
    }
    await waitFor('the node to disconnect the replayer', async () =>
      net.peers().length === 0 ? true : undefined,
    );
    expect(await metric('ordo_p2p_peer_offences_total', 'offence="spam"')).toBeGreaterThan(dupBefore);
    const after = await height();
    await waitFor('progress', async () => ((await height()) > after ? true : undefined));
  });
});
