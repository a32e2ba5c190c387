/**
 * Lays out a local testnet on disk: one home per node (src/node/home-init.ts `initHome`), a libp2p identity
 * per node created up front so every bootstrap list can name its peers, ONE genesis holding every
 * validator and the rollup registry (the four demo rollups — opaque, transfer, evm, evm-2 — plus extra opaque
 * rollups when more are asked for), written to every home. Ports come from a base:
 *   node i: JSON-RPC base+10i, gRPC base+10i+1, p2p base+10i+2   (all on 127.0.0.1)
 * or, with network namespaces (netns.ts), on the node's own address in its namespace (`hosts`).
 * and are checked free before anything is written, with an error naming the port and its use.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import {
  demoAlloc,
  demoAuction,
  demoRollups,
  type Genesis,
  makeGenesis,
  type RollupConfig,
} from '../src/config/index.ts';
import { OrdoError } from '../src/errors.ts';
import { homePaths, initHome } from '../src/node/index.ts';
import { loadOrCreateIdentity } from '../src/p2p/index.ts';

export type NodeRole = 'validator' | 'full';

export interface NodeLayout {
  id: string;
  role: NodeRole;
  home: string;
  /** The address every listener of the node binds (127.0.0.1, or its namespace's address). */
  host: string;
  rpcPort: number;
  grpcPort: number;
  p2pPort: number;
  rpc: string;
  grpc: string;
  p2p: string;
  peerId: string;
  publicKey: string;
}

export interface NetworkLayout {
  dir: string;
  chainId: string;
  genesis: Genesis;
  nodes: NodeLayout[];
}

export interface SetupOptions {
  dir: string;
  validators: number;
  fullNodes: number;
  rollups: number;
  basePort: number;
  chainId?: string;
  /** Extra config sections merged into every node's config (e.g. log level). */
  config?: Record<string, Record<string, unknown>>;
  /** Genesis without the `auction` section: the auction is disabled (`--no-auction`). */
  noAuction?: boolean;
  /** Node i listens on hosts[i] (network namespaces); default 127.0.0.1 for every node. */
  hosts?: string[];
}

export const PORTS_PER_NODE = 10;

export function nodeIds(validators: number, fullNodes: number): { id: string; role: NodeRole }[] {
  const out: { id: string; role: NodeRole }[] = [];
  for (let i = 0; i < validators; i++) out.push({ id: `node${i}`, role: 'validator' });
  for (let i = 0; i < fullNodes; i++) out.push({ id: `full${i}`, role: 'full' });
  return out;
}

/**
 * The genesis rollup registry for K rollups: the 4 demo rollups (opaque, transfer, evm, evm-2), then
 * opaque rollups 5..K. K = 3 keeps the older three-rollup registry (no second EVM rollup).
 */
export function testnetRollups(k: number): RollupConfig[] {
  if (!Number.isInteger(k) || k < 3) {
    throw new OrdoError(
      'TESTNET_BAD_OPTION',
      `--rollups must be >= 3 (one opaque, one transfer, one evm), got ${k}`,
    );
  }
  const demo = demoRollups(demoAlloc()).slice(0, Math.min(k, 4));
  const base = demo[0]!;
  for (let ns = 5; ns <= k; ns++) demo.push({ ...base, namespace: ns, name: `opaque-${ns}` });
  return demo;
}

export function portsFor(basePort: number, index: number): { rpc: number; grpc: number; p2p: number } {
  const b = basePort + index * PORTS_PER_NODE;
  return { rpc: b, grpc: b + 1, p2p: b + 2 };
}

/** Resolve when the port can be bound on 127.0.0.1; reject with a clear error otherwise. */
export function checkPortFree(port: number, what: string): Promise<void> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', (err: NodeJS.ErrnoException) => {
      rej(
        new OrdoError(
          'TESTNET_PORT_IN_USE',
          `port ${port} (${what}) is not free on 127.0.0.1: ${err.code ?? err.message}; ` +
            'stop whatever uses it or choose another --base-port / --dashboard',
          { port, what },
        ),
      );
    });
    s.listen(port, '127.0.0.1', () => s.close(() => res()));
  });
}

export async function checkPorts(o: {
  basePort: number;
  count: number;
  extra?: { port: number; what: string }[];
}) {
  const checks: Promise<void>[] = [];
  for (let i = 0; i < o.count; i++) {
    const p = portsFor(o.basePort, i);
    if (p.p2p > 65535) {
      throw new OrdoError(
        'TESTNET_BAD_OPTION',
        `--base-port ${o.basePort} leaves no room for ${o.count} nodes`,
      );
    }
    checks.push(checkPortFree(p.rpc, `node ${i} JSON-RPC`));
    checks.push(checkPortFree(p.grpc, `node ${i} gRPC`));
    checks.push(checkPortFree(p.p2p, `node ${i} p2p`));
  }
  for (const e of o.extra ?? []) if (e.port !== 0) checks.push(checkPortFree(e.port, e.what));
  await Promise.all(checks);
}

function portFree(port: number): Promise<boolean> {
  return checkPortFree(port, 'probe').then(
    () => true,
    () => false,
  );
}

/** A random base port (30000-59990) whose first `nodes` port triples are all free. */
export async function findFreeBasePort(nodes: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    // Below Linux's ephemeral range (32768+), where outgoing connections could take a port between
    // this check and the node binding it.
    const base = 20_000 + Math.floor(Math.random() * (1_270 - nodes)) * 10;
    let ok = true;
    for (let i = 0; i < nodes && ok; i++) {
      const p = portsFor(base, i);
      ok = (await portFree(p.rpc)) && (await portFree(p.grpc)) && (await portFree(p.p2p));
    }
    if (ok) return base;
  }
  throw new OrdoError('TESTNET_PORT_IN_USE', 'found no free range of ports for the testnet');
}

/** Write every home, key, config and the shared genesis. Wipes `dir/nodes` first. */
export async function setupNetwork(o: SetupOptions): Promise<NetworkLayout> {
  if (o.validators < 1) throw new OrdoError('TESTNET_BAD_OPTION', '--validators must be >= 1');
  const dir = resolve(o.dir);
  const nodesDir = join(dir, 'nodes');
  if (existsSync(nodesDir)) rmSync(nodesDir, { recursive: true, force: true });
  mkdirSync(nodesDir, { recursive: true });
  const chainId = o.chainId ?? 'ordo-testnet';
  const ids = nodeIds(o.validators, o.fullNodes);

  const nodes: NodeLayout[] = [];
  for (const [i, n] of ids.entries()) {
    const home = join(nodesDir, n.id);
    const ports = portsFor(o.basePort, i);
    const host = o.hosts?.[i] ?? '127.0.0.1';
    const p2pKey = await loadOrCreateIdentity(homePaths(home).p2pKey);
    const peerId = peerIdFromPrivateKey(p2pKey).toString();
    nodes.push({
      id: n.id,
      role: n.role,
      home,
      rpcPort: ports.rpc,
      grpcPort: ports.grpc,
      p2pPort: ports.p2p,
      host,
      rpc: `http://${host}:${ports.rpc}`,
      grpc: `${host}:${ports.grpc}`,
      p2p: `/ip4/${host}/tcp/${ports.p2p}/p2p/${peerId}`,
      peerId,
      publicKey: '',
    });
  }
  for (const n of nodes) {
    const extra = o.config ?? {};
    const r = initHome({
      home: n.home,
      chainId,
      moniker: n.id,
      force: true,
      config: {
        ...extra,
        node: { moniker: n.id, mode: n.role },
        rpc: { ...(extra.rpc ?? {}), listen: `${n.host}:${n.rpcPort}` },
        grpc: { listen: n.grpc },
        p2p: {
          ...(extra.p2p ?? {}),
          listen: `/ip4/${n.host}/tcp/${n.p2pPort}`,
          bootstrap: nodes.filter((m) => m !== n).map((m) => m.p2p),
        },
      },
    });
    n.publicKey = r.publicKey;
  }
  const rollups = testnetRollups(o.rollups);
  const genesis = makeGenesis({
    chainId,
    validators: nodes
      .filter((n) => n.role === 'validator')
      .map((n) => ({ name: n.id, publicKey: n.publicKey })),
    rollups,
    ...(o.noAuction === true ? {} : { auction: demoAuction(rollups) }),
  });
  const text = `${JSON.stringify(genesis, null, 2)}\n`;
  writeFileSync(join(dir, 'genesis.json'), text);
  for (const n of nodes) writeFileSync(homePaths(n.home).genesis, text);
  return { dir, chainId, genesis, nodes };
}
