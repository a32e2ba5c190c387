/**
 * Fuzz targets: every decoder and verifier that reads bytes or objects from outside the node. A target
 * takes one input and either returns or throws a typed `OrdoError` (a clear error naming what was
 * wrong); anything else thrown (TypeError, RangeError, a protobufjs internal error) is a bug. Each
 * target also has a generator of VALID inputs, so the fuzzer mutates real encodings (bit flips,
 * truncations, insertions, splices) and not only random noise, which protobuf mostly rejects at once.
 *
 * Used by test/fuzz/decoders.test.ts (a fixed-seed, time-boxed run in every `npm test`) and by
 * `npm run fuzz` (bench/fuzz.ts: a longer run with a time budget per target and executions reported).
 */

import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { decodeRollupOutcome } from '../../src/codec/auction.ts';
import * as codec from '../../src/codec/codec.ts';
import { DEFAULT_CONFIG, validateConfig } from '../../src/config/config.ts';
import { demoRollups, makeGenesis, validateGenesis } from '../../src/config/genesis.ts';
import { encodeWalEntry, inspectWalBuffer } from '../../src/consensus/wal.ts';
import { Ed25519Signer } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { type NamespaceProof, nmtRoot, proveNamespace, verifyNamespaceProof } from '../../src/crypto/nmt.ts';
import { OrdoError } from '../../src/errors.ts';
import { decodeReceipt, decodeResult, encodeResult } from '../../src/exec/receipt.ts';
import { decodeHeaderBytes } from '../../src/rollup-adapter/verify.ts';
import { namespaceBlockFromWire } from '../../src/rollup-adapter/wire.ts';
import { unseal } from '../../src/store/checksum.ts';
import { decodeHead, decodeTxLocation, decodeU32, decodeU64 } from '../../src/store/keys.ts';
import type {
  Block,
  BlockHeader,
  CommitCertificate,
  ConsensusMessage,
  SyncRequest,
  TxEnvelope,
  Vote,
} from '../../src/types.ts';

export interface ByteTarget {
  name: string;
  run: (bytes: Uint8Array) => unknown;
  /** Valid encodings to mutate. */
  valid: fc.Arbitrary<Uint8Array>;
}

const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const sig64 = fc.uint8Array({ minLength: 64, maxLength: 64 });
const ns = fc.integer({ min: 1, max: 1000 });

const txArb: fc.Arbitrary<TxEnvelope> = fc.record({
  namespace: ns,
  payload: fc.uint8Array({ minLength: 1, maxLength: 300 }),
});

const headerArb = (txCount: number): fc.Arbitrary<BlockHeader> =>
  fc.record({
    chainId: fc.constantFrom('ordo-devnet', 'fuzz'),
    height: fc.integer({ min: 1, max: 1_000_000 }),
    round: fc.integer({ min: 0, max: 50 }),
    timeMs: fc.integer({ min: 1, max: 2 ** 42 }),
    parentHash: hash32,
    dataHash: hash32,
    proposer: hash32,
    txCount: fc.constant(txCount),
    lastCommitHash: hash32,
    resultsHash: hash32,
    auctionHash: hash32,
  });

const blockArb: fc.Arbitrary<Block> = fc
  .array(txArb, { maxLength: 12 })
  .map((txs) => [...txs].sort((a, b) => a.namespace - b.namespace))
  .chain((txs) => headerArb(txs.length).map((header) => ({ header, txs, bundles: [] })));

const voteArb: fc.Arbitrary<Vote> = fc.record({
  type: fc.constantFrom('prevote' as const, 'precommit' as const),
  height: fc.integer({ min: 1, max: 1_000_000 }),
  round: fc.integer({ min: 0, max: 50 }),
  blockHash: fc.option(hash32, { nil: null }),
  validatorIndex: fc.integer({ min: 0, max: 255 }),
  signature: sig64,
});

const certArb: fc.Arbitrary<CommitCertificate> = fc.record({
  height: fc.integer({ min: 1, max: 1_000_000 }),
  round: fc.integer({ min: 0, max: 50 }),
  blockHash: hash32,
  sigs: fc.array(fc.record({ validatorIndex: fc.integer({ min: 0, max: 255 }), signature: sig64 }), {
    maxLength: 8,
  }),
});

const syncRequestArb: fc.Arbitrary<SyncRequest> = fc.oneof(
  fc.constant({ kind: 'status' as const }),
  fc
    .tuple(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 63 }))
    .map(([from, n]) => ({ kind: 'blocks' as const, fromHeight: from, toHeight: from + n })),
  fc.array(hash32, { minLength: 1, maxLength: 8 }).map((hashes) => ({ kind: 'txs' as const, hashes })),
);

const consensusArb: fc.Arbitrary<ConsensusMessage> = fc.oneof(
  voteArb.map((vote) => ({ kind: 'vote' as const, vote })),
  fc
    .tuple(blockArb, fc.integer({ min: -1, max: 5 }), fc.integer({ min: 0, max: 255 }), sig64)
    .map(([block, polRound, proposerIndex, signature]) => ({
      kind: 'proposal' as const,
      proposal: {
        height: block.header.height,
        round: block.header.round,
        polRound: Math.min(polRound, block.header.round - 1),
        block,
        proposerIndex,
        signature,
      },
    })),
);

/** Encodings that the encoder accepts: generated objects whose encoding throws are skipped. */
function encodings<T>(arb: fc.Arbitrary<T>, encode: (x: T) => Uint8Array): fc.Arbitrary<Uint8Array> {
  return arb
    .map((x) => {
      try {
        return encode(x);
      } catch {
        return undefined;
      }
    })
    .filter((b): b is Uint8Array => b !== undefined);
}

export const BYTE_TARGETS: ByteTarget[] = [
  { name: 'decodeTx', run: (b) => codec.decodeTx(b), valid: encodings(txArb, codec.encodeTx) },
  {
    name: 'decodeTxBatch',
    run: (b) => codec.decodeTxBatch(b),
    valid: encodings(fc.array(txArb, { maxLength: 16 }), codec.encodeTxBatch),
  },
  { name: 'decodeBlock', run: (b) => codec.decodeBlock(b), valid: encodings(blockArb, codec.encodeBlock) },
  { name: 'decodeVote', run: (b) => codec.decodeVote(b), valid: encodings(voteArb, codec.encodeVote) },
  {
    name: 'decodeCertificate',
    run: (b) => codec.decodeCertificate(b),
    valid: encodings(certArb, codec.encodeCertificate),
  },
  {
    name: 'decodeCertifiedBlock',
    run: (b) => codec.decodeCertifiedBlock(b),
    valid: encodings(fc.tuple(blockArb, certArb), ([block, certificate]) =>
      codec.encodeCertifiedBlock({ block, certificate }),
    ),
  },
  {
    name: 'decodeConsensusMessage',
    run: (b) => codec.decodeConsensusMessage(b),
    valid: encodings(consensusArb, codec.encodeConsensusMessage),
  },
  {
    name: 'decodeGossipConsensusMessage',
    run: (b) => codec.decodeGossipConsensusMessage(b, 1024 * 1024),
    valid: encodings(consensusArb, codec.encodeConsensusMessage),
  },
  {
    name: 'decodeEvidence',
    run: (b) => codec.decodeEvidence(b),
    valid: encodings(fc.tuple(voteArb, voteArb), ([voteA, voteB]) => codec.encodeEvidence({ voteA, voteB })),
  },
  {
    name: 'decodeSyncRequest',
    run: (b) => codec.decodeSyncRequest(b),
    valid: encodings(syncRequestArb, codec.encodeSyncRequest),
  },
  {
    name: 'decodeSyncResponse',
    run: (b) => codec.decodeSyncResponse(b),
    valid: encodings(
      fc.oneof(
        fc.array(txArb, { maxLength: 8 }).map((txs) => ({ kind: 'txs' as const, txs })),
        fc.string({ maxLength: 40 }).map((message) => ({ kind: 'error' as const, message })),
        fc.array(fc.tuple(blockArb, certArb), { maxLength: 3 }).map((l) => ({
          kind: 'blocks' as const,
          blocks: l.map(([block, certificate]) => ({ block, certificate })),
        })),
      ),
      codec.encodeSyncResponse,
    ),
  },
  {
    name: 'decodeBidCommit',
    run: (b) => codec.decodeBidCommit(b),
    valid: encodings(
      fc.record({
        slot: fc.integer({ min: 1, max: 1e6 }),
        bidder: hash32,
        commitment: hash32,
        signature: sig64,
      }),
      codec.encodeBidCommit,
    ),
  },
  {
    name: 'decodeBidReveal',
    run: (b) => codec.decodeBidReveal(b),
    valid: fc.uint8Array({ maxLength: 64 }),
  },
  {
    name: 'decodeHeaderBytes',
    run: (b) => decodeHeaderBytes(b),
    valid: encodings(headerArb(3), codec.encodeHeader),
  },
  {
    name: 'decodeBundle',
    run: (b) => codec.decodeBundle(b),
    valid: fc.uint8Array({ maxLength: 64 }),
  },
  {
    name: 'decodeBundleBatch',
    run: (b) => codec.decodeBundleBatch(b),
    valid: fc.uint8Array({ maxLength: 128 }),
  },
  {
    // A rollup's auction outcome, as served to rollups and re-hashed by the SDK.
    name: 'decodeRollupOutcome',
    run: (b) => decodeRollupOutcome(b),
    valid: fc.uint8Array({ minLength: 150, maxLength: 800 }),
  },
  {
    // Execution results read back from the store (exec state after a crash or a damaged disk).
    name: 'decodeResult',
    run: (b) => decodeResult(b),
    valid: fc
      .record({
        namespace: ns,
        height: fc.integer({ min: 1, max: 1e6 }),
        stateRoot: hash32,
      })
      .map((r) => encodeResult({ ...r, receipts: [] })),
  },
  { name: 'decodeReceipt', run: (b) => decodeReceipt(b), valid: fc.uint8Array({ maxLength: 96 }) },
  {
    // The consensus WAL reader (ordo wal inspect and Wal.open's scan): a log image of framed records.
    name: 'walReader',
    run: (b) => inspectWalBuffer(Buffer.from(b.buffer, b.byteOffset, b.byteLength)),
    valid: fc
      .array(
        consensusArb.map((message) => encodeWalEntry({ type: 'own', nowMs: 1, message })),
        { maxLength: 3 },
      )
      .map((records) => {
        const parts: Buffer[] = [Buffer.from('ORDOWAL1')];
        for (const r of records) {
          const head = Buffer.alloc(8);
          head.writeUInt32BE(r.length, 0);
          head.writeUInt32BE(crc32(r) >>> 0, 4);
          parts.push(head, r);
        }
        return new Uint8Array(Buffer.concat(parts));
      }),
  },
  {
    // The store's own value decoders (head pointer, tx location, checksummed values, counters).
    name: 'storeValues',
    run: (b) => {
      decodeHead(b);
      decodeTxLocation(b);
      decodeU32(b);
      decodeU64(b);
      return unseal(b);
    },
    valid: fc.uint8Array({ maxLength: 48 }),
  },
];

/** A mutation of a valid encoding: the kinds of damage a hostile peer or a bad disk produce. */
export const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 16 }) }),
);
export type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

export function mutate(bytes: Uint8Array, ms: Mutation[]): Uint8Array {
  let b = Uint8Array.from(bytes);
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    switch (m.kind) {
      case 'flip':
        if (at < b.length) b[at] = (b[at] as number) ^ (1 << m.bit);
        break;
      case 'set':
        if (at < b.length) b[at] = m.value;
        break;
      case 'truncate':
        b = b.slice(0, at);
        break;
      case 'insert':
        b = Uint8Array.from([...b.slice(0, at), ...m.bytes, ...b.slice(at)]);
        break;
      case 'delete':
        b = Uint8Array.from([...b.slice(0, at), ...b.slice(at + m.n)]);
        break;
    }
  }
  return b;
}

/** Returns normally for a value or a typed error; throws (fails the property) for anything else. */
export function expectTypedOutcome(run: () => unknown): void {
  try {
    run();
  } catch (err) {
    if (err instanceof OrdoError) return;
    throw new Error(
      `untyped ${(err as Error)?.name ?? typeof err}: ${(err as Error)?.message ?? String(err)}`,
    );
  }
}

/** Namespace-proof verification over mutated proofs: it must never throw and never accept a lie. */
export const nmtCase = fc
  .array(fc.record({ namespace: fc.integer({ min: 1, max: 6 }), hash: hash32 }), {
    minLength: 1,
    maxLength: 24,
  })
  .map((l) => [...l].sort((a, b) => a.namespace - b.namespace))
  .chain((leaves) =>
    fc.record({
      leaves: fc.constant(leaves),
      namespace: fc.integer({ min: 1, max: 6 }),
      tamper: fc.option(
        fc.oneof(
          fc.record({ kind: fc.constant('drop-leaf' as const) }),
          fc.record({ kind: fc.constant('node-hash' as const), at: fc.nat(), byte: fc.nat(31) }),
          fc.record({
            kind: fc.constant('node-range' as const),
            at: fc.nat(),
            min: fc.integer({ min: -2, max: 9 }),
            max: fc.integer({ min: -2, max: 9 }),
          }),
          fc.record({
            kind: fc.constant('range' as const),
            start: fc.integer({ min: -3, max: 30 }),
            end: fc.integer({ min: -3, max: 30 }),
          }),
          fc.record({ kind: fc.constant('total' as const), total: fc.integer({ min: -3, max: 40 }) }),
        ),
        { nil: undefined },
      ),
    }),
  );
export type NmtCase = typeof nmtCase extends fc.Arbitrary<infer C> ? C : never;

export function runNmtCase(c: NmtCase): void {
  const root = nmtRoot(c.leaves);
  const proof: NamespaceProof = proveNamespace(c.leaves, c.namespace);
  let hashes = c.leaves.filter((l) => l.namespace === c.namespace).map((l) => l.hash);
  let total = c.leaves.length;
  let p: NamespaceProof = { start: proof.start, end: proof.end, nodes: proof.nodes.map((n) => ({ ...n })) };
  const t = c.tamper;
  if (t !== undefined) {
    if (t.kind === 'drop-leaf') {
      if (hashes.length === 0) return;
      hashes = hashes.slice(1);
    } else if (t.kind === 'node-hash') {
      if (p.nodes.length === 0) return;
      const n = p.nodes[t.at % p.nodes.length]!;
      const h = Uint8Array.from(n.hash);
      h[t.byte] = (h[t.byte] as number) ^ 1;
      n.hash = h;
    } else if (t.kind === 'node-range') {
      if (p.nodes.length === 0) return;
      const n = p.nodes[t.at % p.nodes.length]!;
      if (n.min === t.min && n.max === t.max) return;
      n.min = t.min;
      n.max = t.max;
    } else if (t.kind === 'range') {
      if (t.start === p.start && t.end === p.end) return;
      p = { ...p, start: t.start, end: t.end };
    } else {
      if (t.total === total) return;
      total = t.total;
    }
  }
  const truth = c.leaves.filter((l) => l.namespace === c.namespace).map((l) => l.hash);
  const r = verifyNamespaceProof(root, total, c.namespace, hashes, p);
  if (t === undefined && !r.ok) throw new Error(`an honest proof was refused: ${r.reason}`);
  // A tampered proof may still verify when what it proves is true (e.g. the absence of a namespace holds
  // whatever leaf count is claimed); accepting anything but the namespace's exact leaves is a lie.
  const same = hashes.length === truth.length && hashes.every((h, i) => Buffer.compare(h, truth[i]!) === 0);
  if (r.ok && !same) throw new Error(`a tampered proof (${t?.kind}) made a false claim and was accepted`);
}

export interface ObjectTarget {
  name: string;
  run: (value: unknown) => unknown;
  /** Valid values, mutated field by field. */
  valid: unknown;
}

const demoGenesis = makeGenesis({
  chainId: 'fuzz',
  validators: [0, 1, 2, 3].map((i) => ({
    name: `v${i}`,
    publicKey: toHex(new Ed25519Signer(new Uint8Array(32).fill(i + 1)).publicKey),
  })),
  rollups: demoRollups(),
  genesisTimeMs: 1_700_000_000_000,
});

/** Parsed JSON (config, genesis) and decoded protobuf objects (adapter wire) from untrusted sources. */
export const OBJECT_TARGETS: ObjectTarget[] = [
  { name: 'validateConfig', run: (v) => validateConfig(v, 'fuzz.json'), valid: DEFAULT_CONFIG },
  { name: 'validateGenesis', run: (v) => validateGenesis(v, 'fuzz.json'), valid: demoGenesis },
  {
    name: 'namespaceBlockFromWire',
    run: (v) => namespaceBlockFromWire(v as Parameters<typeof namespaceBlockFromWire>[0]),
    valid: {
      namespace: 2,
      height: 7,
      blockHash: new Uint8Array(32).fill(1),
      timeMs: 1_700_000_000_000,
      header: codec.encodeHeader({
        chainId: 'fuzz',
        height: 7,
        round: 0,
        timeMs: 1_700_000_000_000,
        parentHash: new Uint8Array(32),
        dataHash: new Uint8Array(32),
        proposer: new Uint8Array(32),
        txCount: 1,
        lastCommitHash: new Uint8Array(32),
        resultsHash: new Uint8Array(32),
        auctionHash: new Uint8Array(32),
      }),
      transactions: [new Uint8Array(3)],
      bundles: [
        { bundleHash: new Uint8Array(32), namespace: 2, start: 0, count: 1, atomicity: 1, reverting: [] },
      ],
      certificate: {
        height: 7,
        round: 0,
        blockHash: new Uint8Array(32).fill(1),
        sigs: [{ validatorIndex: 0, signature: new Uint8Array(64) }],
      },
      proof: { start: 0, end: 1, nodes: [{ minNamespace: 3, maxNamespace: 3, hash: new Uint8Array(32) }] },
      execution: { receipts: [new Uint8Array(4)], stateRoot: new Uint8Array(32) },
      txsRoot: new Uint8Array(32),
      spanCount: 0,
      spansRoot: new Uint8Array(32),
      spansProof: { start: 0, end: 0, nodes: [] },
    },
  },
];

/** A JSON-ish value: what a parser hands a validator. */
export const jsonValue = fc.jsonValue({ maxDepth: 4 });

/** Replace the value at a random path of `base` (a deep copy) with `value`, or delete it. */
export const objectMutation = fc.record({
  path: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
  value: fc.oneof(jsonValue, fc.constant(undefined), fc.uint8Array({ maxLength: 8 })),
});
export type ObjectMutation = typeof objectMutation extends fc.Arbitrary<infer M> ? M : never;

export function mutateObject(base: unknown, m: ObjectMutation): unknown {
  const copy = structuredClone(base) as unknown;
  let node = copy;
  for (let i = 0; i < m.path.length; i++) {
    if (node === null || typeof node !== 'object' || ArrayBuffer.isView(node)) return copy;
    const keys = Object.keys(node);
    if (keys.length === 0) return copy;
    const key = keys[(m.path[i] as number) % keys.length] as string;
    const rec = node as Record<string, unknown>;
    const child = rec[key];
    if (i === m.path.length - 1 || child === null || typeof child !== 'object' || ArrayBuffer.isView(child)) {
      if (m.value === undefined) delete rec[key];
      else rec[key] = m.value;
      return copy;
    }
    node = rec[key];
  }
  return copy;
}
