/**
 * The compose testnet's one-shot key ceremony (testnet/compose.yaml, service `init`): creates the homes
 * of N validators under one directory (default /homes), each with its own keys (written by this
 * container's user, the same non-root `node` user the node containers run as, so the 0600 key files
 * are readable by them), one shared genesis naming every validator, and configs that listen on all
 * interfaces, bootstrap from the others by their compose service names (/dns4/nodeI/tcp/26656) and
 * announce that same name (p2p.announce), so the only address a node gives its peers is one they can
 * reach on the compose network (without it libp2p would also hand out 127.0.0.1, which is the peer's
 * own loopback, and container addresses that change when a container is recreated).
 * Idempotent: when the genesis exists it only says so, so `docker compose up` again reuses the chain.
 *
 *   node testnet/compose-init.ts [--out DIR] [--nodes N] [--chain-id ID]
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { demoAuction, makeGenesis } from '../src/config/index.ts';
import { homePaths, initHome } from '../src/node/index.ts';
import { loadOrCreateIdentity } from '../src/p2p/index.ts';
import { testnetRollups } from './setup.ts';

export interface ComposeInitOptions {
  out: string;
  nodes: number;
  chainId: string;
  /** Host name of node i on the compose network (default `node<i>`). */
  host?: (i: number) => string;
}

/** Create the homes; returns false when they already exist (nothing is changed then). */
export async function composeInit(o: ComposeInitOptions): Promise<boolean> {
  const genesisFile = join(o.out, 'genesis.json');
  if (existsSync(genesisFile)) return false;
  const host = o.host ?? ((i: number) => `node${i}`);
  mkdirSync(o.out, { recursive: true });
  const nodes: { id: string; home: string; peerId: string; publicKey: string }[] = [];
  for (let i = 0; i < o.nodes; i++) {
    const home = join(o.out, host(i));
    const key = await loadOrCreateIdentity(homePaths(home).p2pKey);
    nodes.push({ id: host(i), home, peerId: peerIdFromPrivateKey(key).toString(), publicKey: '' });
  }
  for (const n of nodes) {
    n.publicKey = initHome({
      home: n.home,
      chainId: o.chainId,
      moniker: n.id,
      force: true,
      config: {
        rpc: { listen: '0.0.0.0:8545' },
        grpc: { listen: '0.0.0.0:9090' },
        p2p: {
          listen: '/ip4/0.0.0.0/tcp/26656',
          bootstrap: nodes.filter((m) => m !== n).map((m) => `/dns4/${m.id}/tcp/26656/p2p/${m.peerId}`),
          announce: [`/dns4/${n.id}/tcp/26656`],
        },
        log: { level: 'info', format: 'json' },
      },
    }).publicKey;
  }
  const rollups = testnetRollups(4);
  const genesis = makeGenesis({
    chainId: o.chainId,
    validators: nodes.map((n) => ({ name: n.id, publicKey: n.publicKey })),
    rollups,
    auction: demoAuction(rollups),
  });
  const text = `${JSON.stringify(genesis, null, 2)}\n`;
  for (const n of nodes) writeFileSync(homePaths(n.home).genesis, text);
  writeFileSync(genesisFile, text); // last: its presence means "done"
  return true;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: '/homes' },
      nodes: { type: 'string', default: '4' },
      'chain-id': { type: 'string', default: 'ordo-compose' },
    },
  });
  const nodes = Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 64) {
    process.stderr.write(`--nodes must be an integer in 1..64, got "${values.nodes}"\n`);
    process.exit(2);
  }
  const created = await composeInit({ out: values.out, nodes, chainId: values['chain-id'] });
  process.stdout.write(
    created
      ? `created ${nodes} validator homes and one genesis in ${values.out}\n`
      : `${values.out}/genesis.json exists; keeping the existing homes\n`,
  );
}
