/**
 * The rollup adapter API tried from outside, as a rollup team writing a client in another language would:
 * a real `ordo start` process on 127.0.0.1, and a client built at runtime from proto/ alone (grpc-js and
 * proto-loader with the proto field names, protobufjs to decode the header, node:crypto for hashes and
 * signatures). Nothing here imports src/ or the SDK: every hash, proof and signature below is written
 * from docs/adapter.md, docs/wire.md and docs/bundles.md. It calls every RollupAdapter method, checks
 * the documented shapes and the documented gRPC status and `ordo-error-code` of each malformed request,
 * verifies slices (certificate, completeness proof, bundle spans, certified results, auction part) and
 * a bundle's pre-confirmation by the documented steps, and compares the bundle calls with JSON-RPC.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  initLoopbackHome,
  killAll,
  killNode,
  REPO,
  type RunningNode,
  startNode,
} from './harness.ts';

// Messages as a generic proto-loader client sees them (proto field names, uint64 as strings).
type Msg = any;

const PROTO = join(REPO, 'proto');
const dir = mkdtempSync(join(tmpdir(), 'ordo-e2e-adapter-contract-'));
let node: RunningNode;
let client: Msg;
let chainId = '';
let grpcAddress = '';
let validators: { key: Buffer; power: number }[] = [];
/** How many slices carried an auction part that verified (the devnet runs the auction every height). */
let auctionPartsVerified = 0;

// ------------------------------------------------------------------ bytes, as docs/wire.md writes them
const sha = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const u8 = (n: number): Buffer => Buffer.of(n);
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n: number | string): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
const lp = (x: Uint8Array): Buffer => Buffer.concat([u32(x.byteLength), x]);
const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
const txHash = (ns: number, payload: Uint8Array): Buffer => sha(u32(ns), payload);
const ed25519Public = (raw: Uint8Array) =>
  createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]),
    format: 'der',
    type: 'spki',
  });

// ------------------------------------------------------------------ the namespaced Merkle tree (docs/adapter.md)
interface NmtNode {
  min: number;
  max: number;
  hash: Buffer;
}
const innerNode = (l: NmtNode, r: NmtNode): NmtNode => ({
  min: Math.min(l.min, r.min),
  max: Math.max(l.max, r.max),
  hash: sha(u8(1), u32(l.min), u32(l.max), l.hash, u32(r.min), u32(r.max), r.hash),
});
const commitment = (n: NmtNode): Buffer => sha(u32(n.min), u32(n.max), n.hash);
const EMPTY: NmtNode = { min: 0, max: 0, hash: sha() };
const largestPow2Below = (n: number): number => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};

/** The root commitment of a whole tree of `(ns, leafHash)` leaves (already sorted). */
function nmtRoot(leaves: { ns: number; leafHash: Buffer }[]): Buffer {
  const build = (lo: number, hi: number): NmtNode => {
    if (hi - lo === 1) {
      const l = leaves[lo]!;
      return { min: l.ns, max: l.ns, hash: sha(u8(0), u32(l.ns), l.leafHash) };
    }
    const k = largestPow2Below(hi - lo);
    return innerNode(build(lo, lo + k), build(lo + k, hi));
  };
  return commitment(leaves.length === 0 ? EMPTY : build(0, leaves.length));
}

/**
 * docs/adapter.md "Verifying a NamespaceProof": `leafHashes` are all of namespace `ns`'s leaves in the tree
 * of `n` leaves whose root commitment is `root`. Returns 'ok' or what failed.
 */
function verifyNamespaceProof(root: Buffer, n: number, ns: number, leafHashes: Buffer[], proof: Msg): string {
  if (proof == null) return 'proof missing';
  const start = Number(proof.start);
  const end = Number(proof.end);
  if (!(start >= 0 && start <= end && end <= n && end - start === leafHashes.length)) return 'proof range';
  const nodes: NmtNode[] = (proof.nodes ?? []).map((x: Msg) => ({
    min: Number(x.min_namespace),
    max: Number(x.max_namespace),
    hash: Buffer.from(x.hash),
  }));
  let next = 0;
  let failed = '';
  const build = (lo: number, hi: number): NmtNode => {
    if (hi <= start || lo >= end) {
      const node = nodes[next++];
      if (node === undefined) {
        failed ||= 'proof too short';
        return EMPTY;
      }
      if (hi <= start && !(node.max < ns)) failed ||= 'left node reaches the namespace';
      if (lo >= end && !(node.min > ns)) failed ||= 'right node reaches the namespace';
      return node;
    }
    if (hi - lo === 1) return { min: ns, max: ns, hash: sha(u8(0), u32(ns), leafHashes[lo - start]!) };
    const k = largestPow2Below(hi - lo);
    return innerNode(build(lo, lo + k), build(lo + k, hi));
  };
  if (n === 0) return nodes.length === 0 && commitment(EMPTY).equals(root) ? 'ok' : 'empty tree';
  const r = build(0, n);
  if (failed !== '') return failed;
  if (next !== nodes.length) return 'proof too long';
  return commitment(r).equals(root) ? 'ok' : 'root';
}

// ------------------------------------------------------------------ the header (ordo.v1.BlockHeader)
const pb = new protobuf.Root();
pb.resolvePath = (_origin, target) => join(PROTO, target);
pb.loadSync('ordo/v1/block.proto', { keepCase: true });
const HeaderType = pb.lookupType('ordo.v1.BlockHeader');
function decodeHeader(bytes: Uint8Array): Msg {
  return HeaderType.toObject(HeaderType.decode(bytes), { longs: String, bytes: Buffer, defaults: true });
}

const spanLeaf = (s: Msg): Buffer => {
  const reverting: number[] = (s.reverting ?? []).map(Number);
  return sha(
    ascii('ordo/span/v2'),
    s.bundle_hash,
    u32(s.namespace),
    u32(s.start),
    u32(s.count),
    u8(s.atomicity),
    u32(reverting.length),
    ...reverting.map(u32),
  );
};

/** docs/adapter.md "The NamespaceBlock and how to verify it", steps 1 to 6, plus "Auction outcome". */
function verifySlice(m: Msg, ns: number, expectedHeight: number): string {
  // 1. Header.
  const h = sha(m.header);
  if (!h.equals(m.block_hash)) return 'block_hash';
  const header = decodeHeader(m.header);
  if (header.chain_id !== chainId) return 'chain_id';
  const height = Number(header.height);
  if (height !== expectedHeight || Number(m.height) !== height || Number(m.certificate?.height) !== height)
    return 'height';
  if (header.time_ms !== m.time_ms) return 'time_ms';
  if (Number(m.namespace) !== ns) return 'namespace';
  // 2. Certificate.
  const c = m.certificate;
  if (!Buffer.from(c.block_hash).equals(h)) return 'certificate target';
  const cid = Buffer.from(chainId, 'utf8');
  const voteBytes = sha(ascii('ordo/vote/v1'), lp(cid), u8(2), u64(height), u32(c.round), lp(h));
  let signed = 0;
  let prev = -1;
  for (const s of c.sigs) {
    if (s.validator_index <= prev || s.validator_index >= validators.length) return 'signer index';
    prev = s.validator_index;
    const v = validators[s.validator_index]!;
    if (!verify(null, voteBytes, ed25519Public(v.key), s.signature)) return 'certificate signature';
    signed += v.power;
  }
  const total = validators.reduce((a, v) => a + v.power, 0);
  if (!(3 * signed > 2 * total)) return 'certificate power';
  // 3. Data hash.
  const dataHash = sha(ascii('ordo/data/v1'), m.txs_root, u32(m.span_count), m.spans_root);
  if (!dataHash.equals(header.data_hash)) return 'data_hash';
  // 4. Completeness of the transactions.
  const txs: Buffer[] = m.transactions;
  const txLeaves = txs.map((p) => txHash(ns, p));
  const t = verifyNamespaceProof(m.txs_root, header.tx_count, ns, txLeaves, m.proof);
  if (t !== 'ok') return `transactions: ${t}`;
  // 5. Bundle spans: inside the slice, sorted, not overlapping, and proven complete.
  let end = 0;
  for (const s of m.bundles) {
    if (Number(s.namespace) !== ns || s.start < end || s.start + s.count > txs.length) return 'span layout';
    end = s.start + s.count;
  }
  const sp = verifyNamespaceProof(m.spans_root, m.span_count, ns, m.bundles.map(spanLeaf), m.spans_proof);
  if (sp !== 'ok') return `spans: ${sp}`;
  // 6. Certified results of height - 2.
  const cr = m.certified_results;
  if (cr != null) {
    const hr = Number(cr.height);
    if (hr !== height - 2) return 'certified_results.height';
    const rh = sha(ascii('ordo/results/v1'), u64(hr), u32(cr.result_count), cr.results_root);
    if (!rh.equals(header.results_hash)) return 'results_hash';
    const leaf = sha(ascii('ordo/result/v1'), u64(hr), cr.state_root, cr.receipts_root);
    const r = verifyNamespaceProof(cr.results_root, cr.result_count, ns, [leaf], cr.proof);
    if (r !== 'ok') return `certified_results: ${r}`;
  }
  // Auction outcome (optional, verified when present).
  const a = m.auction;
  if (a != null) {
    auctionPartsVerified++;
    const ah = sha(ascii('ordo/auction/v1'), u64(height), u8(1), u32(a.count), a.outcome_root);
    if (!ah.equals(header.auction_hash)) return 'auction_hash';
    const leaves = a.outcome.length === 0 ? [] : [sha(ascii('ordo/auction-leaf/v1'), a.outcome)];
    const r = verifyNamespaceProof(a.outcome_root, a.count, ns, leaves, a.proof);
    if (r !== 'ok') return `auction: ${r}`;
  }
  return 'ok';
}

/** docs/wire.md: receipts_root = NMT over (ns, sha256("ordo/receipt/v1" || receipt)). */
const receiptsRoot = (ns: number, receipts: Buffer[]): Buffer =>
  nmtRoot(receipts.map((r) => ({ ns, leafHash: sha(ascii('ordo/receipt/v1'), r) })));

// ------------------------------------------------------------------ gRPC helpers
interface Refusal {
  code: number;
  ordo: string;
  retryable: string;
  details: string;
  resume: string;
}
const refusalOf = (e: Msg): Refusal => ({
  code: e.code,
  ordo: String(e.metadata?.get('ordo-error-code')[0] ?? ''),
  retryable: String(e.metadata?.get('ordo-retryable')[0] ?? ''),
  details: String(e.details ?? ''),
  resume: String(e.metadata?.get('ordo-resume-height')[0] ?? ''),
});

function call<T = Msg>(method: string, req: Msg): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](req, { deadline: Date.now() + 10_000 }, (err: Msg, res: T) =>
      err ? reject(err) : resolve(res),
    );
  });
}
async function refusal(method: string, req: Msg): Promise<Refusal> {
  try {
    await call(method, req);
  } catch (e) {
    return refusalOf(e);
  }
  throw new Error(`${method} did not fail`);
}

/** The first `n` messages of a stream (then cancelled), or the error that ended it first. */
function take(req: Msg, n: number, timeoutMs = 15_000): Promise<Msg[]> {
  return new Promise((resolve, reject) => {
    const s = client.StreamBlocks(req);
    const got: Msg[] = [];
    const timer = setTimeout(() => {
      s.cancel();
      reject(new Error(`stream gave ${got.length} of ${n} messages in ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('data', (m: Msg) => {
      got.push(m);
      if (got.length === n) {
        clearTimeout(timer);
        s.cancel();
        resolve(got);
      }
    });
    s.on('error', (e: Msg) => {
      clearTimeout(timer);
      if (got.length < n) reject(e);
    });
  });
}
async function streamRefusal(req: Msg): Promise<Refusal> {
  try {
    await take(req, 1);
  } catch (e) {
    return refusalOf(e);
  }
  throw new Error('the stream did not fail');
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; Date.now() < deadline && i < 1000; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function jsonRpc(method: string, params: unknown[]): Promise<Msg> {
  const res = await fetch(node.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return res.json();
}

const head = async (): Promise<number> => Number((await call('GetCommitmentState', {})).soft.height);

/** A transfer (docs/executor.md) from a fresh key: amount 0, fee 0, nonce 0 succeed without a balance. */
function freshTransfer(ns: number): Buffer {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const from = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
  const body = Buffer.concat([u8(1), from, Buffer.alloc(32, 7), u64(0), u64(0), u64(0)]);
  const sig = sign(null, Buffer.concat([ascii('ordo/transfer/v1'), u32(ns), body]), privateKey);
  return Buffer.concat([body, sig]);
}

/** docs/wire.md "Bundles": the bundle hash over the canonical body. */
function bundleHashOf(
  legs: { namespace: number; txs: Buffer[]; reverting: Buffer[] }[],
  atomicity: 1 | 2,
): Buffer {
  const sorted = [...legs].sort((a, b) => a.namespace - b.namespace);
  const parts = [
    ascii('ordo/bundle/v1'),
    lp(Buffer.from(chainId, 'utf8')),
    u8(atomicity),
    u64(0),
    u64(0),
    lp(Buffer.alloc(0)),
    lp(Buffer.alloc(0)),
    u32(sorted.length),
  ];
  for (const l of sorted) {
    parts.push(u32(l.namespace), u32(l.txs.length), ...l.txs.map(lp), u32(l.reverting.length));
    parts.push(...[...l.reverting].sort(Buffer.compare));
  }
  return sha(...parts);
}

beforeAll(async () => {
  const home = join(dir, 'n0');
  const grpcPort = await freePort();
  const r = initLoopbackHome(home, { grpcPort, logLevel: 'warn', heartbeatMs: 100 });
  expect(r.status, r.stderr).toBe(0);
  // What a rollup takes from genesis, never from the node (docs/adapter.md).
  const genesis = JSON.parse(readFileSync(join(home, 'genesis.json'), 'utf8'));
  chainId = genesis.chainId;
  validators = genesis.validators.map((v: Msg) => ({
    key: Buffer.from(v.publicKey, 'hex'),
    power: v.votingPower,
  }));
  node = await startNode(home);
  const def = protoLoader.loadSync('ordo/adapter/v1/adapter.proto', {
    includeDirs: [PROTO],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
  });
  const Client = (grpc.loadPackageDefinition(def) as Msg).ordo.adapter.v1.RollupAdapter;
  grpcAddress = `127.0.0.1:${grpcPort}`;
  client = new Client(grpcAddress, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': 8 * 1024 * 1024,
  });
  await until('three blocks', async () => ((await head()) >= 3 ? true : undefined));
}, 60_000);

afterAll(async () => {
  client?.close();
  if (node !== undefined) await killNode(node, 'SIGTERM');
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('the adapter API from proto/ and the docs alone (real node)', () => {
  it('GetCommitmentState: chain id, soft level as documented, firm reserved', async () => {
    const s = await call('GetCommitmentState', {});
    expect(s.chain_id).toBe(chainId);
    expect(Number(s.soft.height)).toBeGreaterThanOrEqual(3);
    expect(s.soft.block_hash).toHaveLength(32);
    expect(Number(s.soft.time_ms)).toBeGreaterThan(0);
    expect(Number(s.firm.height)).toBe(0);
    // The soft block is the one the stream serves at that height.
    const [m] = await take({ namespace: 1, from_height: s.soft.height }, 1);
    expect(Buffer.from(m.block_hash).equals(s.soft.block_hash)).toBe(true);
    expect(m.time_ms).toBe(s.soft.time_ms);
  });

  it('a transaction and two bundles go in, and their slices verify by the documented steps', async () => {
    // SubmitTransaction: tx_hash = sha256(u32(namespace) || payload).
    const payload = Buffer.from(`adapter-contract ${Date.now()}`);
    const sub = await call('SubmitTransaction', { namespace: 1, payload });
    expect(sub).toMatchObject({ accepted: true, reject_code: '', retryable: false });
    expect(Buffer.from(sub.tx_hash).equals(txHash(1, payload))).toBe(true);

    // Bundle 1: an opaque leg (so DEFAULT means inclusion) with a reverting hash, and a transfer leg;
    // legs given out of order (the node sorts them).
    const o1 = Buffer.from('adapter-contract o1');
    const o2 = Buffer.from('adapter-contract o2');
    const tA = freshTransfer(2);
    const b1Legs = [
      { namespace: 2, txs: [tA], reverting: [] },
      { namespace: 1, txs: [o1, o2], reverting: [txHash(1, o2)] },
    ];
    const r1 = await call('SubmitBundle', {
      legs: b1Legs.map((l) => ({ namespace: l.namespace, txs: l.txs, reverting_tx_hashes: l.reverting })),
    });
    const b1 = bundleHashOf(b1Legs, 2);
    expect(Buffer.from(r1.bundle_hash).equals(b1)).toBe(true);
    expect(r1.replaced).toHaveLength(0);
    // Bundle 2: one transfer leg, DEFAULT = execution (every leg executed): gets a pre-confirmation.
    const tB = freshTransfer(2);
    const r2 = await call('SubmitBundle', { legs: [{ namespace: 2, txs: [tB] }] });
    const b2 = bundleHashOf([{ namespace: 2, txs: [tB], reverting: [] }], 1);
    expect(Buffer.from(r2.bundle_hash).equals(b2)).toBe(true);

    // The same bundle again, through JSON-RPC and through gRPC: DUPLICATE both ways.
    const dupRpc = await jsonRpc('ordo_sendBundle', [
      { legs: [{ namespace: 2, txs: [`0x${tB.toString('hex')}`] }] },
    ]);
    expect(dupRpc.error?.data?.code).toBe('DUPLICATE');
    expect(await refusal('SubmitBundle', { legs: [{ namespace: 2, txs: [tB] }] })).toMatchObject({
      code: grpc.status.ALREADY_EXISTS,
      ordo: 'DUPLICATE',
      retryable: 'false',
    });

    // GetTransactionStatus: committed with the height and its position in the block body.
    const st = await until('the transaction to commit', async () => {
      const s = await call('GetTransactionStatus', { tx_hash: sub.tx_hash });
      return s.status === 'TX_STATUS_COMMITTED' ? s : undefined;
    });
    const txHeight = Number(st.height);
    const [txBlock] = await take({ namespace: 1, from_height: String(txHeight) }, 1);
    expect(verifySlice(txBlock, 1, txHeight)).toBe('ok');
    const pos = txBlock.transactions.findIndex((t: Buffer) => t.equals(payload));
    expect(pos).toBeGreaterThanOrEqual(0);
    expect(st.index).toBe(txBlock.proof.start + pos);

    // GetBundleStatus, until bundle 2 is certified (its results are in the header two heights later).
    const s1 = await until('bundle 1 to commit', async () => {
      const s = await call('GetBundleStatus', { bundle_hash: b1 });
      return s.status === 'BUNDLE_STATUS_COMMITTED' ? s : undefined;
    });
    const s2 = await until('bundle 2 to be certified', async () => {
      const s = await call('GetBundleStatus', { bundle_hash: b2 });
      return s.status === 'BUNDLE_STATUS_COMMITTED' && s.certified ? s : undefined;
    });

    // Bundle 1's spans: one per leg, the same as the certified spans of the slices at its height.
    const h1 = Number(s1.height);
    expect(s1.spans.map((s: Msg) => s.namespace).sort()).toEqual([1, 2]);
    for (const ns of [1, 2]) {
      const [m] = await take({ namespace: ns, from_height: String(h1) }, 1);
      expect(verifySlice(m, ns, h1)).toBe('ok');
      const span = m.bundles.find((s: Msg) => Buffer.from(s.bundle_hash).equals(b1));
      expect(span).toBeDefined();
      expect(s1.spans.find((s: Msg) => s.namespace === ns)).toEqual(span);
      expect(span.atomicity).toBe(2);
      const legTxs = ns === 1 ? [o1, o2] : [tA];
      const inSlice = m.transactions.slice(span.start, span.start + span.count);
      expect(inSlice.map((t: Buffer) => t.toString('hex'))).toEqual(legTxs.map((t) => t.toString('hex')));
      expect(span.reverting).toEqual(ns === 1 ? [1] : []);
    }

    // Bundle 2: applied, pre-confirmed by a genesis validator over preconf_bytes (docs/wire.md), and
    // those roots are the rollup's execution at that height and its certified results two heights on.
    const h2 = Number(s2.height);
    expect(s2.outcome).toBe('BUNDLE_OUTCOME_APPLIED');
    // Receipt `index` is the transaction's position in the rollup's slice (its index in `transactions`
    // and `execution.receipts`), checked against the certified span below.
    expect(s2.legs).toEqual([
      {
        namespace: 2,
        receipts: [{ index: expect.any(Number), status: 'success', gas_used: expect.any(String), error: '' }],
      },
    ]);
    const p = s2.preconfirmation;
    expect(Number(p.height)).toBe(h2);
    expect(p.outcome).toBe('BUNDLE_OUTCOME_APPLIED');
    expect(p.legs.map((l: Msg) => l.namespace)).toEqual([2]);
    const signer = validators.findIndex((v) => v.key.equals(p.signer));
    expect(signer).toBeGreaterThanOrEqual(0);
    const preconfBytes = Buffer.concat([
      ascii('ordo/preconf/v1'),
      lp(Buffer.from(chainId, 'utf8')),
      b2,
      u64(p.height),
      p.block_hash,
      u8(1),
      u32(p.legs.length),
      ...p.legs.flatMap((l: Msg) => [u32(l.namespace), l.state_root, l.receipts_root]),
    ]);
    expect(verify(null, preconfBytes, ed25519Public(p.signer), p.signature)).toBe(true);
    const slices = await take({ namespace: 2, from_height: String(h2) }, 3);
    slices.forEach((m, i) => {
      expect(verifySlice(m, 2, h2 + i)).toBe('ok');
    });
    const [atH2, , atH2plus2] = slices;
    expect(Buffer.from(atH2.block_hash).equals(p.block_hash)).toBe(true);
    const span2 = atH2.bundles.find((s: Msg) => Buffer.from(s.bundle_hash).equals(b2));
    expect(span2).toMatchObject({ count: 1, atomicity: 1 });
    expect(s2.legs[0].receipts[0].index).toBe(span2.start);
    expect(atH2.transactions[span2.start].equals(tB)).toBe(true);
    const leg = p.legs[0];
    expect(Buffer.from(atH2.execution.state_root).equals(leg.state_root)).toBe(true);
    expect(atH2.execution.receipts).toHaveLength(atH2.transactions.length);
    expect(receiptsRoot(2, atH2.execution.receipts).equals(leg.receipts_root)).toBe(true);
    const cr = atH2plus2.certified_results;
    expect(Number(cr.height)).toBe(h2);
    expect(Buffer.from(cr.state_root).equals(leg.state_root)).toBe(true);
    expect(Buffer.from(cr.receipts_root).equals(leg.receipts_root)).toBe(true);

    // The same statuses through JSON-RPC ordo_getBundleStatus (docs/rpc.md "Bundles"). Both bundles have
    // an executed leg, so each gRPC status is read again once executed: s1 was taken at commit, and its
    // execution may have arrived since (comparing it then to a later JSON-RPC read was a race).
    for (const hash of [b1, b2]) {
      const g = await until('the bundle to be executed', async () => {
        const s = await call('GetBundleStatus', { bundle_hash: hash });
        return s.outcome !== undefined && s.outcome !== 'BUNDLE_OUTCOME_NONE' ? s : undefined;
      });
      const j = (await jsonRpc('ordo_getBundleStatus', [`0x${hash.toString('hex')}`])).result;
      expect(j.status).toBe('committed');
      expect(j.height).toBe(Number(g.height));
      expect(j.spans.map((s: Msg) => ({ ...s, bundleHash: s.bundleHash.toLowerCase() }))).toEqual(
        g.spans.map((s: Msg) => ({
          bundleHash: `0x${Buffer.from(s.bundle_hash).toString('hex')}`,
          namespace: s.namespace,
          start: s.start,
          count: s.count,
          atomicity: s.atomicity,
          reverting: s.reverting,
        })),
      );
      // The executed legs' outcome and receipts (same index: the position in the rollup's slice).
      const outcome = { BUNDLE_OUTCOME_APPLIED: 'applied', BUNDLE_OUTCOME_REVERTED: 'reverted' } as Msg;
      expect(j.execution?.outcome).toBe(outcome[g.outcome]);
      expect(
        j.execution?.legs.map((l: Msg) => ({
          namespace: l.namespace,
          receipts: l.receipts.map((r: Msg) => ({ index: r.index, status: r.status, gasUsed: r.gasUsed })),
        })),
      ).toEqual(
        g.legs.map((l: Msg) => ({
          namespace: l.namespace,
          receipts: l.receipts.map((r: Msg) => ({ index: r.index, status: r.status, gasUsed: r.gas_used })),
        })),
      );
    }
  });

  // The same contract from another language: test/e2e/clients/adapter_client.py generates its stubs with
  // docs/adapter.md's grpcio-tools command and verifies slices by the documented steps (Python 3 with
  // grpcio, grpcio-tools and cryptography; .ci/run installs Debian's). Skipped where no such python3 exists.
  const python = ['python3', '/usr/bin/python3'].find(
    (p) => spawnSync(p, ['-c', 'import grpc, grpc_tools, cryptography']).status === 0,
  );
  it.skipIf(python === undefined)(
    'a Python client generated from proto/ verifies slices as the docs say',
    async () => {
      const work = join(dir, 'python-client');
      mkdirSync(work, { recursive: true });
      const script = join(REPO, 'test', 'e2e', 'clients', 'adapter_client.py');
      const { stdout } = await promisify(execFile)(
        python as string,
        [script, grpcAddress, join(dir, 'n0', 'genesis.json'), PROTO, work],
        { timeout: 120_000 },
      );
      expect(stdout).toMatch(/^ok: stubs generated, \d+ slices verified/);
    },
    130_000,
  );

  it('StreamBlocks: from 0 means 1, consecutive heights, resume without gap, waits ahead of the head', async () => {
    const first = await take({ namespace: 4, from_height: '0' }, 3);
    expect(first.map((m) => Number(m.height))).toEqual([1, 2, 3]);
    first.forEach((m, i) => {
      // An unused rollup: empty slices with proofs of absence, which verify.
      expect(m.transactions).toEqual([]);
      expect(verifySlice(m, 4, i + 1)).toBe('ok');
    });
    // Resume from last + 1 on a new call: the next height, no gap, no duplicate.
    const [resumed] = await take({ namespace: 4, from_height: '4' }, 1);
    expect(Number(resumed.height)).toBe(4);
    expect(decodeHeader(resumed.header).parent_hash.equals(first[2].block_hash)).toBe(true);
    // Ahead of the head (within maxFutureBlocks): the call waits, then serves that height.
    const ahead = (await head()) + 3;
    const [m] = await take({ namespace: 1, from_height: String(ahead) }, 1);
    expect(Number(m.height)).toBe(ahead);
    expect(verifySlice(m, 1, ahead)).toBe('ok');
    expect(auctionPartsVerified).toBeGreaterThan(0);
  });

  it('answers every malformed or refused request with the documented status and code', async () => {
    // StreamBlocks (docs/adapter.md "Errors").
    expect(await streamRefusal({ namespace: 0 })).toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      ordo: 'INVALID_ARGUMENT',
    });
    expect(await streamRefusal({ namespace: 99 })).toMatchObject({
      code: grpc.status.NOT_FOUND,
      ordo: 'UNKNOWN_NAMESPACE',
    });
    const far = (await head()) + 5000;
    expect(await streamRefusal({ namespace: 1, from_height: String(far) })).toMatchObject({
      code: grpc.status.OUT_OF_RANGE,
      ordo: 'FROM_HEIGHT_TOO_FAR',
    });
    expect(await streamRefusal({ namespace: 1, from_height: '18446744073709551615' })).toMatchObject({
      code: grpc.status.OUT_OF_RANGE,
      ordo: 'FROM_HEIGHT_TOO_FAR',
    });
    // GetTransactionStatus.
    expect(await refusal('GetTransactionStatus', { tx_hash: Buffer.alloc(5) })).toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      ordo: 'INVALID_ARGUMENT',
    });
    const unknown = await call('GetTransactionStatus', { tx_hash: Buffer.alloc(32, 9) });
    expect(unknown.status).toBe('TX_STATUS_UNKNOWN');
    // SubmitTransaction: refusals are results, not gRPC errors.
    const cases: [Msg, string][] = [
      [{ namespace: 0, payload: Buffer.from('x') }, 'INVALID_NAMESPACE'],
      [{ namespace: 99, payload: Buffer.from('x') }, 'UNKNOWN_NAMESPACE'],
      [{ namespace: 1, payload: Buffer.alloc(0) }, 'EMPTY_TX'],
      [{ namespace: 1, payload: Buffer.alloc(200 * 1024, 1) }, 'TX_TOO_LARGE'],
    ];
    for (const [req, code] of cases) {
      const r = await call('SubmitTransaction', req);
      expect(r, code).toMatchObject({ accepted: false, reject_code: code, retryable: false });
      expect(Buffer.from(r.tx_hash).equals(txHash(req.namespace, req.payload)), code).toBe(true);
      expect(r.message.length).toBeGreaterThan(0);
    }
    // A request above the documented 1 MiB receive limit: RESOURCE_EXHAUSTED from gRPC itself.
    const huge = await refusal('SubmitTransaction', { namespace: 1, payload: Buffer.alloc(1100 * 1024, 1) });
    expect(huge.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    // SubmitBundle (docs/adapter.md "Bundles").
    const tx = (s: string) => [Buffer.from(`adapter-contract bad ${s}`)];
    const bundleCases: [Msg, number, string][] = [
      [{ legs: [] }, grpc.status.INVALID_ARGUMENT, 'BUNDLE_MALFORMED'],
      [{ legs: [{ namespace: 1, txs: [] }] }, grpc.status.INVALID_ARGUMENT, 'BUNDLE_MALFORMED'],
      [
        { legs: [{ namespace: 1, txs: tx('a') }], signer: Buffer.alloc(3) },
        grpc.status.INVALID_ARGUMENT,
        'BUNDLE_MALFORMED',
      ],
      [
        { legs: [{ namespace: 1, txs: tx('b') }], replacement_uuid: Buffer.alloc(16, 1) },
        grpc.status.INVALID_ARGUMENT,
        'BUNDLE_MALFORMED',
      ],
      [{ legs: [{ namespace: 0, txs: tx('n') }] }, grpc.status.INVALID_ARGUMENT, 'BUNDLE_MALFORMED'],
      [{ legs: [{ namespace: 99, txs: tx('c') }] }, grpc.status.INVALID_ARGUMENT, 'UNKNOWN_NAMESPACE'],
      [
        { legs: [{ namespace: 1, txs: tx('u') }], atomicity: 7 },
        grpc.status.INVALID_ARGUMENT,
        'BUNDLE_MALFORMED',
      ],
      [
        { legs: [{ namespace: 1, txs: tx('d') }], atomicity: 'BUNDLE_ATOMICITY_EXECUTION' },
        grpc.status.INVALID_ARGUMENT,
        'ATOMICITY_UNSUPPORTED',
      ],
      [
        { legs: [{ namespace: 1, txs: tx('e'), reverting_tx_hashes: [Buffer.alloc(32, 3)] }] },
        grpc.status.INVALID_ARGUMENT,
        'REVERTING_HASH_UNKNOWN',
      ],
      [
        { legs: [{ namespace: 1, txs: Array.from({ length: 101 }, (_, i) => Buffer.from(`t${i}`)) }] },
        grpc.status.INVALID_ARGUMENT,
        'BUNDLE_TOO_LARGE',
      ],
      [
        {
          legs: [{ namespace: 1, txs: tx('f') }],
          signer: Buffer.alloc(32, 1),
          signature: Buffer.alloc(64, 2),
        },
        grpc.status.INVALID_ARGUMENT,
        'BAD_SIGNATURE',
      ],
      [
        { legs: [{ namespace: 1, txs: tx('g') }], max_height: '1' },
        grpc.status.FAILED_PRECONDITION,
        'WINDOW_PASSED',
      ],
    ];
    for (const [req, status, code] of bundleCases) {
      const r = await refusal('SubmitBundle', req);
      expect(r, code).toMatchObject({ code: status, ordo: code, retryable: 'false' });
      expect(r.details.length, code).toBeGreaterThan(0);
    }
    // GetBundleStatus.
    expect(await refusal('GetBundleStatus', { bundle_hash: Buffer.alloc(31) })).toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      ordo: 'INVALID_ARGUMENT',
    });
    expect(await refusal('GetBundleStatus', { bundle_hash: Buffer.alloc(32, 5) })).toMatchObject({
      code: grpc.status.NOT_FOUND,
      ordo: 'BUNDLE_UNKNOWN',
    });
    // Bytes that are not a protobuf message at all: the documented gRPC status, and the node lives on.
    const raw = await new Promise<Refusal>((resolve) => {
      client.makeUnaryRequest(
        '/ordo.adapter.v1.RollupAdapter/GetTransactionStatus',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from([0x0a, 0xff, 0xff, 0xff]),
        (err: Msg) => resolve(refusalOf(err)),
      );
    });
    expect(raw.code).toBe(grpc.status.INTERNAL);
    expect(Number((await call('GetCommitmentState', {})).soft.height)).toBeGreaterThan(0);
  });

  it('a node shutting down ends a live stream with UNAVAILABLE, CLOSED and the height to resume from', async () => {
    const s = client.StreamBlocks({ namespace: 1, from_height: String(await head()) });
    const got: number[] = [];
    const ended = new Promise<Refusal>((resolve) => s.on('error', (e: Msg) => resolve(refusalOf(e))));
    s.on('data', (m: Msg) => got.push(Number(m.height)));
    await until('a live block', async () => (got.length >= 2 ? true : undefined));
    await killNode(node, 'SIGTERM');
    const r = await ended;
    expect(r).toMatchObject({ code: grpc.status.UNAVAILABLE, ordo: 'CLOSED' });
    // The first height the server did not write: the rule "resume from your last height + 1" never skips it.
    expect(Number(r.resume)).toBeGreaterThan(got.at(-1)!);
    expect(Number(r.resume)).toBeLessThanOrEqual(got.at(-1)! + 1 + 8);
  });
});
