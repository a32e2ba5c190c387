/**
 * Issue #25 item 8 on real libp2p hosts over loopback TCP: content replays under fresh gossip ids are
 * ignored and, past the duplicate rate, penalised until the sender is disconnected; a banned peer
 * cannot come straight back under a new identity from the same address; request floods are refused.
 * The exemption of loopback from the per-address identity rate is switched off here (it exists so
 * local testnets, all on 127.0.0.1, are not throttled).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Libp2pNetworkOptions } from '../../../src/p2p/libp2p/network.ts';
import { createLibp2pNetwork } from '../../../src/p2p/libp2p/network.ts';
import type { P2pNetwork } from '../../../src/p2p/network.ts';

const dirs: string[] = [];
const nets: P2pNetwork[] = [];
afterEach(async () => {
  for (const n of nets.splice(0)) await n.stop();
});
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
async function until(what: string, fn: () => boolean, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (fn()) return;
  throw new Error(`timed out waiting for ${what}`);
}

async function host(name: string, extra: Partial<Libp2pNetworkOptions> = {}): Promise<P2pNetwork> {
  const dir = await mkdtemp(join(tmpdir(), 'ordo-p2p-guards-'));
  dirs.push(dir);
  const net = await createLibp2pNetwork({
    chainId: 'guards',
    listen: '/ip4/127.0.0.1/tcp/0',
    identityKeyPath: join(dir, `${name}.key`),
    heartbeatMs: 100,
    forwardDelayMs: 0,
    ...extra,
  });
  await net.start();
  nets.push(net);
  return net;
}

const victimConfig = {
  limits: { newIdentitiesPerAddressPerMinute: 3, duplicatesPerPeerPerSecond: 5, requestsPerPeerPerSecond: 5 },
  scoring: { ipColocationWhitelist: [] },
};

describe('p2p guards (real libp2p hosts)', () => {
  it('ignores replayed content under fresh gossip ids and disconnects a peer that keeps replaying', async () => {
    const delivered: string[] = [];
    const victim = await host('victim', victimConfig);
    victim.subscribe('consensus', (m) => {
      delivered.push(new TextDecoder().decode(m.data));
      return 'accept';
    });
    const attacker = await host('attacker', { bootstrap: [victim.addresses()[0]!] });
    attacker.subscribe('consensus', () => 'accept');
    await until('mesh', () => attacker.topicPeers('consensus').includes(victim.peerId));
    // Each publish carries a fresh nonce, so gossipsub sees a new message id every time.
    for (let i = 0; i < 40 && attacker.peers().includes(victim.peerId); i++) {
      await attacker.publish('consensus', new TextEncoder().encode('a valid vote'));
      await sleep(5);
    }
    await until('the victim to drop the attacker', () => !victim.peers().includes(attacker.peerId));
    expect(delivered).toEqual(['a valid vote']);
    expect(victim.appScore(attacker.peerId)).toBeLessThan(-50);
  });

  it('refuses a banned peer coming back under a new identity from the same address', async () => {
    const victim = await host('victim2', victimConfig);
    victim.subscribe('consensus', () => 'accept');
    const honest = await host('honest', { bootstrap: [victim.addresses()[0]!] });
    await until('honest connected', () => victim.peers().includes(honest.peerId));
    const bad = await host('bad', { bootstrap: [victim.addresses()[0]!] });
    await until('bad connected', () => victim.peers().includes(bad.peerId));
    for (let i = 0; i < 10; i++) victim.reportPeer(bad.peerId, 'invalid-message');
    await until('bad dropped', () => !victim.peers().includes(bad.peerId));
    // The same operator, a fresh peer id, the same address: refused.
    const again = await host('bad-again', { bootstrap: [victim.addresses()[0]!] });
    await sleep(1_500);
    expect(victim.peers()).not.toContain(again.peerId);
    // A known identity from that address still reconnects.
    await honest.stop();
    nets.splice(nets.indexOf(honest), 1);
    await until('honest gone', () => !victim.peers().includes(honest.peerId));
    await honest.start();
    nets.push(honest);
    await until('honest back', () => victim.peers().includes(honest.peerId));
  });
});
