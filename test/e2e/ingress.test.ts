/**
 * One ingress, end to end (issue 21 item 1; issue 27's metrics): on a 4-validator testnet with two full
 * nodes, a transaction submitted through each entry point of every node commits:
 *  - JSON-RPC `ordo_submitTransaction(s)` and the gRPC adapter's `SubmitTransaction` (through the SDK) of
 *    the four validators and of a full node, all real OS processes;
 *  - the in-process adapter (and JSON-RPC and gRPC too) of a second full node, an `OrdoNode` started in
 *    this test process and joined to the others over libp2p.
 * A full node never proposes, so a submission it admits but does not gossip stays pending forever and
 * this test fails (0.1.0's gRPC and in-process paths did exactly that).
 * Then `/metrics` of a validator and of the in-process full node: every metric in docs/operating.md's
 * reference table is exported with its documented type, and the ones load must move have moved.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validatorSetOf } from '../../src/config/genesis.ts';
import { OrdoNode } from '../../src/node/node.ts';
import { createInProcessAdapter, OrdoRollupClient } from '../../src/rollup-adapter/index.ts';
import { findFreeBasePort, type NetworkLayout, setupNetwork } from '../../testnet/setup.ts';
import { killAll, REPO, type RunningNode, rpc, startNode, waitFor } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordo-e2e-ingress-'));
let layout: NetworkLayout;
const procs: RunningNode[] = [];
let inProc: OrdoNode | undefined;
const clients: OrdoRollupClient[] = [];

const hex = (s: string): string => `0x${Buffer.from(s).toString('hex')}`;
const toHex = (b: Uint8Array): string => `0x${Buffer.from(b).toString('hex')}`;

async function height(url: string): Promise<number> {
  return ((await rpc(url, 'ordo_status', [], 5000)) as { height: number }).height;
}

beforeAll(async () => {
  const basePort = await findFreeBasePort(6);
  layout = await setupNetwork({
    dir,
    validators: 4,
    fullNodes: 2,
    rollups: 3,
    basePort,
    chainId: 'e2e-ingress',
    config: { log: { level: 'warn' } },
  });
  const [embedded, ...external] = [layout.nodes[5]!, ...layout.nodes.slice(0, 5)];
  const started = await Promise.all(external.map((n) => startNode(n.home, {}, 60_000)));
  procs.push(...started);
  inProc = OrdoNode.load({ home: embedded.home, logger: pino({ level: 'warn' }) });
  await inProc.start();
}, 180_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await inProc?.stop();
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** Prometheus text → per metric family: its TYPE and the sum of its samples (histograms: `_count`). */
function parseMetrics(text: string): Map<string, { type: string; value: number }> {
  const out = new Map<string, { type: string; value: number }>();
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) {
      out.set(t[1]!, { type: t[2]!, value: 0 });
      continue;
    }
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/.exec(line);
    if (!m) continue;
    const name = m[1]!;
    const v = Number(m[3]);
    let family = out.get(name);
    if (family === undefined && name.endsWith('_count')) {
      const h = out.get(name.slice(0, -'_count'.length));
      if (h !== undefined && (h.type === 'histogram' || h.type === 'summary')) family = h;
    }
    if (family !== undefined && Number.isFinite(v)) family.value += v;
  }
  return out;
}

/** The reference table of docs/operating.md: `| \`name\` | type | labels | meaning |` rows. */
function documentedMetrics(): { name: string; type: string }[] {
  const doc = readFileSync(join(REPO, 'docs', 'operating.md'), 'utf8');
  const rows: { name: string; type: string }[] = [];
  for (const line of doc.split('\n')) {
    const m = /^\| `(ordo_[a-z0-9_]+)` \| (counter|gauge|histogram|summary) \|/.exec(line);
    if (m) rows.push({ name: m[1]!, type: m[2]! });
  }
  return rows;
}

async function scrape(rpcUrl: string): Promise<Map<string, { type: string; value: number }>> {
  const res = await fetch(`${rpcUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
  expect(res.status).toBe(200);
  return parseMetrics(await res.text());
}

/** Metrics that a few committed, submitted transactions must move on every node that took one. */
const MOVING = [
  'ordo_chain_height',
  'ordo_consensus_commits_total',
  'ordo_consensus_committed_txs_total',
  'ordo_consensus_block_interval_seconds',
  'ordo_consensus_validator_signed_total',
  'ordo_store_commit_seconds',
  'ordo_store_committed_txs_total',
  'ordo_block_txs',
  'ordo_ingress_submitted_total',
  'ordo_tx_submit_to_commit_seconds',
  'ordo_mempool_admitted_total',
  'ordo_mempool_wait_seconds',
  'ordo_p2p_gossip_messages_total',
  'ordo_p2p_gossip_bytes_total',
];

describe('one ingress on a 4-validator testnet with full nodes', () => {
  it('commits a transaction submitted through every entry point of every node; metrics are exported and move', async () => {
    const validator = procs[0]!;
    const embedded = inProc!;
    await waitFor('the in-process full node to follow the chain', async () =>
      embedded.height >= 2 ? true : undefined,
    );
    await waitFor('node0 to commit', async () => ((await height(validator.rpcUrl)) >= 2 ? true : undefined));
    const before = [await scrape(validator.rpcUrl), await scrape(embedded.rpcUrl)];

    const validators = validatorSetOf(layout.genesis).validators;
    const sdk = (endpoint: string): OrdoRollupClient => {
      const c = new OrdoRollupClient({
        endpoints: [endpoint],
        namespace: 1,
        chainId: layout.chainId,
        validators,
      });
      clients.push(c);
      return c;
    };

    const submitted: { via: string; hash: string }[] = [];
    const endpoints = [
      ...layout.nodes.slice(0, 5).map((n, i) => ({ id: n.id, rpcUrl: procs[i]!.rpcUrl, grpc: n.grpc })),
      { id: 'full1-in-process', rpcUrl: embedded.rpcUrl, grpc: embedded.grpcAddress! },
    ];
    for (const n of endpoints) {
      const viaRpc = `ingress e2e ${n.id} json-rpc`;
      const r = (await rpc(
        n.rpcUrl,
        'ordo_submitTransaction',
        [{ namespace: 1, data: hex(viaRpc) }],
        5000,
      )) as {
        hash: string;
        duplicate?: boolean;
      };
      expect(r.duplicate, n.id).toBeUndefined();
      submitted.push({ via: `${n.id} json-rpc`, hash: r.hash });

      const many = (await rpc(
        n.rpcUrl,
        'ordo_submitTransactions',
        [[{ namespace: 1, data: hex(`ingress e2e ${n.id} json-rpc batch`) }]],
        5000,
      )) as { accepted: number; hashes: string[] };
      expect(many.accepted, n.id).toBe(1);
      submitted.push({ via: `${n.id} json-rpc ordo_submitTransactions`, hash: many.hashes[0]! });

      const g = await sdk(n.grpc).submitTransaction(Buffer.from(`ingress e2e ${n.id} grpc`));
      expect(g, `${n.id} grpc`).toMatchObject({ accepted: true });
      submitted.push({ via: `${n.id} grpc`, hash: toHex(g.txHash) });
    }
    const ip = await createInProcessAdapter(embedded.adapterSource()).submitTransaction({
      namespace: 1,
      payload: Buffer.from('ingress e2e full1 in-process adapter'),
    });
    expect(ip).toMatchObject({ accepted: true });
    submitted.push({ via: 'full1 in-process adapter', hash: toHex(ip.txHash) });

    // The same error codes whatever the door: an unknown namespace is UNKNOWN_NAMESPACE on every one.
    const badRpc = (await fetch(embedded.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'ordo_submitTransaction',
        params: [{ namespace: 4242, data: '0x01' }],
      }),
    }).then((res) => res.json())) as { error: { data: { code: string } } };
    expect(badRpc.error.data.code).toBe('UNKNOWN_NAMESPACE');
    const badIp = await createInProcessAdapter(embedded.adapterSource()).submitTransaction({
      namespace: 4242,
      payload: new Uint8Array([1]),
    });
    expect(badIp).toMatchObject({ accepted: false, rejectCode: 'UNKNOWN_NAMESPACE' });

    // Every one commits, as seen by a validator and by the full nodes.
    for (const url of [validator.rpcUrl, procs[4]!.rpcUrl, embedded.rpcUrl]) {
      for (const s of submitted) {
        await waitFor(
          `${s.via} (${s.hash}) committed, seen from ${url}`,
          async () => {
            const st = (await rpc(url, 'ordo_getTransactionStatus', [s.hash], 5000)) as { status: string };
            return st.status === 'committed' ? true : undefined;
          },
          60_000,
          200,
        );
      }
    }

    // /metrics: every documented metric is there with its documented type; load metrics moved.
    const documented = documentedMetrics();
    expect(documented.length).toBeGreaterThan(30);
    const after = [await scrape(validator.rpcUrl), await scrape(embedded.rpcUrl)];
    for (const [k, m] of after.entries()) {
      const who = k === 0 ? 'validator node0' : 'in-process full node';
      for (const d of documented) {
        expect(m.get(d.name)?.type, `${d.name} on ${who}`).toBe(d.type);
      }
      // ... and the table is complete: every exported ordo_ metric (besides process defaults) has a row.
      const names = new Set(documented.map((d) => d.name));
      const undocumented = [...m.keys()].filter((n) => !n.startsWith('ordo_process_') && !names.has(n));
      expect(undocumented, `exported by ${who} but missing from docs/operating.md`).toEqual([]);
      for (const name of MOVING) {
        expect(m.get(name)?.value ?? 0, `${name} moved on ${who}`).toBeGreaterThan(
          before[k]!.get(name)?.value ?? 0,
        );
      }
      // Each family once (a family registered twice would break the scrape itself; this names it).
      const types = [
        ...(await (await fetch(`${k === 0 ? validator.rpcUrl : embedded.rpcUrl}/metrics`)).text()).matchAll(
          /^# TYPE (\S+)/gm,
        ),
      ].map((x) => x[1]);
      expect(types.length).toBe(new Set(types).size);
    }
    // A validator signs; per-validator signing is recorded for all four on every node.
    expect(after[0]!.get('ordo_consensus_wal_fsync_seconds')!.value).toBeGreaterThan(0);
    expect(after[1]!.get('ordo_consensus_validator_signed_total')!.value).toBeGreaterThan(0);
  }, 300_000);
});
