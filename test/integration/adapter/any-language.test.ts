/**
 * Checks docs/adapter.md: a client written from the proto files and the documented rules alone (generic
 * proto-loader client, node:crypto, no Ordo code) verifies real slices, and rejects a tampered one.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { afterEach, describe, expect, it } from 'vitest';
import { type AdapterServer, startAdapterServer } from '../../../src/rollup-adapter/server.ts';
import { MemorySource, testRollup } from '../../../src/rollup-adapter/testing/memory-source.ts';

const PROTO = join(import.meta.dirname, '..', '..', '..', 'proto');
const sha = (...p: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const x of p) h.update(x);
  return h.digest();
};
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};

interface Node {
  min: number;
  max: number;
  hash: Buffer;
}
const inner = (l: Node, r: Node): Node => ({
  min: Math.min(l.min, r.min),
  max: Math.max(l.max, r.max),
  hash: sha(Buffer.from([1]), u32(l.min), u32(l.max), l.hash, u32(r.min), u32(r.max), r.hash),
});

type Msg = any;

/** The namespace proof: `leafHashes` are all of `ns`'s leaves of the NMT of `n` leaves with root commitment `root`. */
function nmtCheck(root: Buffer, n: number, ns: number, leafHashes: Buffer[], proof: Msg): string {
  const { start, end } = proof;
  const leaves = leafHashes.map((h) => sha(Buffer.from([0]), u32(ns), h));
  if (!(0 <= start && start <= end && end <= n && end - start === leaves.length)) return 'range';
  const nodes: Node[] = proof.nodes.map((x: Msg) => ({
    min: x.minNamespace,
    max: x.maxNamespace,
    hash: x.hash,
  }));
  let i = 0;
  let bad = '';
  const build = (lo: number, hi: number): Node => {
    if (hi <= start || lo >= end) {
      const node = nodes[i++];
      if (node === undefined) {
        bad = 'few nodes';
        return { min: 0, max: 0, hash: Buffer.alloc(32) };
      }
      if (hi <= start && !(node.max < ns)) bad = 'left overlaps';
      if (lo >= end && !(node.min > ns)) bad = 'right overlaps';
      return node;
    }
    if (hi - lo === 1) return { min: ns, max: ns, hash: leaves[lo - start]! };
    let k = 1;
    while (k * 2 < hi - lo) k *= 2;
    return inner(build(lo, lo + k), build(lo + k, hi));
  };
  const r = n === 0 ? { min: 0, max: 0, hash: sha() } : build(0, n);
  if (bad !== '' || i !== nodes.length) return bad || 'extra nodes';
  if (!sha(u32(r.min), u32(r.max), r.hash).equals(root)) return 'root';
  return 'ok';
}

/** The documented verification, step by step. Returns a reason or 'ok'. */
function verifyAsDocumented(
  m: Msg,
  ns: number,
  chainId: string,
  vals: { key: Buffer; power: number }[],
): string {
  const root = new protobuf.Root();
  root.resolvePath = (_o, t) => join(PROTO, t);
  root.loadSync('ordo/v1/block.proto');
  const header = root
    .lookupType('ordo.v1.BlockHeader')
    .toObject(root.lookupType('ordo.v1.BlockHeader').decode(m.header), { longs: Number });
  const h = sha(m.header);
  if (!h.equals(m.blockHash)) return 'block hash';
  if (header.chainId !== chainId || header.height !== Number(m.height)) return 'header';
  const c = m.certificate;
  if (!Buffer.from(c.blockHash).equals(h) || Number(c.height) !== header.height) return 'cert target';
  const cid = Buffer.from(chainId, 'utf8');
  const msg = sha(
    Buffer.from('ordo/vote/v1'),
    u32(cid.length),
    cid,
    Buffer.from([2]),
    u64(Number(c.height)),
    u32(c.round),
    u32(32),
    h,
  );
  let signed = 0;
  let prev = -1;
  for (const s of c.sigs) {
    if (s.validatorIndex <= prev || s.validatorIndex >= vals.length) return 'sig order';
    prev = s.validatorIndex;
    const v = vals[s.validatorIndex]!;
    const key = createPublicKey({
      key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), v.key]),
      format: 'der',
      type: 'spki',
    });
    if (!verify(null, msg, key, s.signature)) return 'signature';
    signed += v.power;
  }
  const total = vals.reduce((a, v) => a + v.power, 0);
  if (3 * signed <= 2 * total) return 'power';
  // data_hash = sha256("ordo/data/v1" || txs_root || u32 span_count || spans_root)
  const dataHash = sha(Buffer.from('ordo/data/v1'), m.txsRoot, u32(m.spanCount), m.spansRoot);
  if (!dataHash.equals(header.dataHash)) return 'data hash';
  const txLeaves = m.transactions.map((p: Buffer) => sha(u32(ns), p));
  const txs = nmtCheck(m.txsRoot, header.txCount ?? 0, ns, txLeaves, m.proof);
  if (txs !== 'ok') return txs;
  const spanLeaves = m.bundles.map((b: Msg) =>
    sha(
      Buffer.from('ordo/span/v2'),
      b.bundleHash,
      u32(b.namespace),
      u32(b.start),
      u32(b.count),
      Buffer.of(b.atomicity),
      u32((b.reverting ?? []).length),
      ...(b.reverting ?? []).map((r: number) => u32(r)),
    ),
  );
  const spans = nmtCheck(m.spansRoot, m.spanCount, ns, spanLeaves, m.spansProof);
  if (spans !== 'ok') return `spans ${spans}`;
  const cr = m.certifiedResults;
  if (cr != null) {
    // results_hash = sha256("ordo/results/v1" || u64 height || u32 count || results_root), of height - 2
    const rh = Number(cr.height);
    if (rh !== header.height - 2) return 'results height';
    const resultsHash = sha(Buffer.from('ordo/results/v1'), u64(rh), u32(cr.resultCount), cr.resultsRoot);
    if (!resultsHash.equals(header.resultsHash)) return 'results hash';
    const leaf = sha(Buffer.from('ordo/result/v1'), u64(rh), cr.stateRoot, cr.receiptsRoot);
    const res = nmtCheck(cr.resultsRoot, cr.resultCount, ns, [leaf], cr.proof);
    if (res !== 'ok') return `results ${res}`;
  }
  return 'ok';
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('docs/adapter.md verification recipe', () => {
  it('a proto-only client verifies real slices (with bundles and execution results) and rejects tampering', async () => {
    const src = new MemorySource({
      rollups: [testRollup(1, 'pay', 'transfer'), testRollup(2, 'other')],
      execute: (_h, _ns, txs) => ({ receipts: txs.map((t) => t.subarray(0, 1)), stateRoot: sha(...txs) }),
    });
    const enc = new TextEncoder();
    src.produceBlock([{ namespace: 2, payload: enc.encode('o1') }]);
    src.produceBlock(
      [1, 2, 3, 4, 5].map((i) => ({ namespace: i % 2 === 0 ? 2 : 1, payload: enc.encode(`t${i}`) })),
      {
        bundles: [
          { bundleHash: sha(enc.encode('b')), namespace: 1, start: 1, count: 2, atomicity: 1, reverting: [] },
        ],
      },
    );
    src.produceBlock([]);
    src.produceBlock([{ namespace: 1, payload: enc.encode('t6') }]);
    const server: AdapterServer = await startAdapterServer({ source: src });
    cleanups.push(() => server.close());
    const def = protoLoader.loadSync('ordo/adapter/v1/adapter.proto', {
      includeDirs: [PROTO],
      longs: String,
      defaults: true,
    });
    const Client = (grpc.loadPackageDefinition(def) as Msg).ordo.adapter.v1.RollupAdapter;
    const c = new Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
    cleanups.push(() => c.close());
    const call = c.StreamBlocks({ namespace: 1, fromHeight: 1 });
    cleanups.push(() => call.cancel());
    const got: Msg[] = [];
    for await (const m of call) {
      got.push(m);
      if (got.length === 4) break;
    }
    const vals = src.validators.map((v) => ({ key: Buffer.from(v.publicKey), power: v.votingPower }));
    for (const m of got) expect(verifyAsDocumented(m, 1, src.chainId, vals)).toBe('ok');
    const b2 = got[1]!;
    expect(b2.transactions.map((t: Buffer) => t.toString())).toEqual(['t1', 't3', 't5']);
    expect(b2.bundles).toHaveLength(1);
    expect(b2.bundles[0]).toMatchObject({ start: 1, count: 2, namespace: 1 });
    expect(b2.execution.receipts).toHaveLength(3);
    expect(got[0]!.transactions).toEqual([]);
    expect(got[2]!.transactions).toEqual([]);
    // From height 3 on, the header certifies the results of height - 2 (block 4: those of block 2).
    expect(got[0]!.certifiedResults).toBeNull();
    const b4 = got[3]!;
    expect(Number(b4.certifiedResults.height)).toBe(2);
    expect(Buffer.from(b4.certifiedResults.stateRoot).equals(Buffer.from(b2.execution.stateRoot))).toBe(true);
    const tampered = { ...b4, certifiedResults: { ...b4.certifiedResults, stateRoot: Buffer.alloc(32, 1) } };
    expect(verifyAsDocumented(tampered, 1, src.chainId, vals)).toBe('results root');
    // A bundle span changed or dropped: the documented check fails.
    const span = b2.bundles[0];
    expect(verifyAsDocumented({ ...b2, bundles: [{ ...span, count: 1 }] }, 1, src.chainId, vals)).toBe(
      'spans root',
    );
    expect(verifyAsDocumented({ ...b2, bundles: [] }, 1, src.chainId, vals)).not.toBe('ok');
    // One transaction removed, added, or reordered: the documented check fails.
    const t = b2.transactions;
    expect(verifyAsDocumented({ ...b2, transactions: [t[0], t[2]] }, 1, src.chainId, vals)).not.toBe('ok');
    expect(
      verifyAsDocumented({ ...b2, transactions: [...t, Buffer.from('x')] }, 1, src.chainId, vals),
    ).not.toBe('ok');
    expect(verifyAsDocumented({ ...b2, transactions: [t[1], t[0], t[2]] }, 1, src.chainId, vals)).not.toBe(
      'ok',
    );
    // Fewer than 2/3 of the signatures.
    const weak = { ...b2, certificate: { ...b2.certificate, sigs: b2.certificate.sigs.slice(0, 2) } };
    expect(verifyAsDocumented(weak, 1, src.chainId, vals)).toBe('power');
  });
});
