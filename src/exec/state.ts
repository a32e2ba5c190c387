/**
 * Per-rollup state store: the committed flat key/value state in memory, persisted in the node's
 * database through a `KvStore`, and the chained state commitment.
 *
 * Database layout (inside the rollup's KvStore namespace):
 *   "s" || stateKey        → value                 (current committed state)
 *   "r" || height u64 BE   → encodeResult(...)     (receipts + state root of that height)
 *   "h"                    → height u64 BE || root  (last executed height and its state root)
 * A block's state changes, its results and the new head land in one atomic batch, so a crash leaves
 * either the whole executed block or none of it; restarting reloads exactly the committed state.
 *
 * State commitment (identical on every node and across restarts):
 *   root(0) = sha256("ordo/state-genesis/v1" || ns u32 || entriesHash(all genesis entries))
 *   root(h) = sha256("ordo/state/v1" || ns u32 || h u64 || root(h−1) || entriesHash(diff(h)))
 * where diff(h) is the set of keys whose value differs after block h (deleted keys included), and
 * entriesHash streams, in byte order of keys, u32 keyLen || key || u8 present || u32 valLen || value.
 */
import { createHash } from 'node:crypto';
import { sha256 } from '../crypto/index.ts';
import { OrdoError } from '../errors.ts';
import type { KvStore, KvWrite } from '../store/index.ts';
import { decodeResult, encodeResult } from './receipt.ts';
import type { Bytes, NamespaceResult, Receipt } from './types.ts';
import type { Val } from './view.ts';

const HEAD_KEY = new Uint8Array([0x68]);
const S = 0x73;

function latin1Bytes(s: string): Uint8Array {
  const b = Buffer.from(s, 'latin1');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function stateKey(k: Bytes): Uint8Array {
  return latin1Bytes('s' + k);
}

function resultKey(height: number): Uint8Array {
  const b = Buffer.alloc(9);
  b[0] = 0x72;
  b.writeBigUInt64BE(BigInt(height), 1);
  return new Uint8Array(b.buffer, b.byteOffset, 9);
}

/** Hash sorted entries (value null = deleted). */
export function entriesHash(entries: [Bytes, Val][]): Uint8Array {
  const sorted = entries.slice().sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  // Serialize into one buffer (entries are small; one hash update is much cheaper than thousands).
  let size = 0;
  for (const [k, v] of sorted) size += 5 + k.length + (v === null ? 0 : 4 + v.length);
  const buf = Buffer.allocUnsafe(size);
  let o = 0;
  for (const [k, v] of sorted) {
    o = buf.writeUInt32BE(k.length, o);
    o += buf.write(k, o, 'latin1');
    if (v === null) {
      buf[o++] = 0;
    } else {
      buf[o++] = 1;
      o = buf.writeUInt32BE(v.length, o);
      o += buf.write(v, o, 'latin1');
    }
  }
  return new Uint8Array(createHash('sha256').update(buf.subarray(0, o)).digest());
}

export function genesisRoot(namespace: number, entries: Map<Bytes, Bytes>): Uint8Array {
  const ns = Buffer.alloc(4);
  ns.writeUInt32BE(namespace);
  return new Uint8Array(
    createHash('sha256')
      .update('ordo/state-genesis/v1')
      .update(ns)
      .update(entriesHash([...entries]))
      .digest(),
  );
}

export function chainRoot(
  namespace: number,
  height: number,
  prev: Uint8Array,
  diff: [Bytes, Val][],
): Uint8Array {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(namespace, 0);
  b.writeBigUInt64BE(BigInt(height), 4);
  return new Uint8Array(
    createHash('sha256').update('ordo/state/v1').update(b).update(prev).update(entriesHash(diff)).digest(),
  );
}

export class RollupState {
  readonly namespace: number;
  readonly kv: KvStore;
  /** Committed state. */
  readonly state = new Map<Bytes, Bytes>();
  height = 0;
  root: Uint8Array = new Uint8Array(32);
  /** Encoded results of the last RECENT_RESULTS committed heights (getResult without a store read). */
  readonly #recent = new Map<number, Uint8Array>();

  constructor(namespace: number, kv: KvStore) {
    this.namespace = namespace;
    this.kv = kv;
  }

  /** Load committed state, or write genesis on first start. */
  async open(genesis: () => Map<Bytes, Bytes>): Promise<void> {
    const head = await this.kv.get(HEAD_KEY);
    if (head === undefined) {
      const g = genesis();
      const root = genesisRoot(this.namespace, g);
      const writes: KvWrite[] = [];
      for (const [k, v] of g) writes.push({ key: stateKey(k), value: latin1Bytes(v) });
      writes.push({ key: HEAD_KEY, value: encodeHead(0, root) });
      await this.kv.batch(writes);
      for (const [k, v] of g) this.state.set(k, v);
      this.height = 0;
      this.root = root;
      return;
    }
    if (head.byteLength !== 40) {
      throw new OrdoError(
        'EXEC_CORRUPT_STATE',
        `executor head record of namespace ${this.namespace} is corrupt`,
      );
    }
    const hb = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
    this.height = Number(hb.readBigUInt64BE(0));
    this.root = new Uint8Array(hb.subarray(8, 40));
    for await (const [k, v] of this.kv.range({ gte: new Uint8Array([S]), lt: new Uint8Array([S + 1]) })) {
      this.state.set(Buffer.from(k.subarray(1)).toString('latin1'), Buffer.from(v).toString('latin1'));
    }
  }

  /**
   * Persist block `height`: net diff of `writes` against committed state, chained root, receipts, head
   * — one atomic batch — then apply to memory. Returns the results and the net diff (for replicas).
   */
  async commit(
    height: number,
    writes: Map<Bytes, Val>,
    receipts: Receipt[],
  ): Promise<{ result: NamespaceResult; diff: [Bytes, Val][] }> {
    const c = this.prepare(height, writes, receipts);
    await this.kv.batch(c.writes);
    c.apply();
    return { result: c.result, diff: c.diff };
  }

  /**
   * What `commit` writes for block `height`, without writing it: the caller persists `writes` (in one
   * batch, possibly with other rollups' — ADR 0344) and then calls `apply`, which updates memory.
   * Nothing changes until `apply`; a failed write leaves the state as it was.
   */
  prepare(height: number, writes: Map<Bytes, Val>, receipts: Receipt[]): PreparedCommit {
    if (height !== this.height + 1) {
      throw new OrdoError(
        'EXEC_HEIGHT_GAP',
        `namespace ${this.namespace}: expected height ${this.height + 1}, got ${height}`,
      );
    }
    const diff: [Bytes, Val][] = [];
    for (const [k, v] of writes) {
      const cur = this.state.get(k) ?? null;
      if (cur !== v) diff.push([k, v]);
    }
    const root = chainRoot(this.namespace, height, this.root, diff);
    const encoded = encodeResult({ namespace: this.namespace, height, stateRoot: root, receipts });
    const kvw: KvWrite[] = [];
    for (const [k, v] of diff) kvw.push({ key: stateKey(k), value: v === null ? undefined : latin1Bytes(v) });
    kvw.push({ key: resultKey(height), value: encoded });
    kvw.push({ key: HEAD_KEY, value: encodeHead(height, root) });
    const result: NamespaceResult = {
      namespace: this.namespace,
      height,
      stateRoot: root,
      receipts,
      resultsHash: sha256(encoded),
    };
    return {
      writes: kvw,
      result,
      diff,
      apply: () => {
        if (this.height !== height - 1) {
          throw new OrdoError(
            'EXEC_HEIGHT_GAP',
            `namespace ${this.namespace}: expected height ${this.height + 1}, got ${height}`,
          );
        }
        for (const [k, v] of diff) {
          if (v === null) this.state.delete(k);
          else this.state.set(k, v);
        }
        this.height = height;
        this.root = root;
        this.#recent.set(height, encoded);
        this.#recent.delete(height - RECENT_RESULTS);
      },
    };
  }

  /**
   * The results of `height`, decoded from the bytes that were stored: the last RECENT_RESULTS heights'
   * bytes are kept in memory (the Ethereum index and the adapter ask for each height right after it is
   * executed; ADR 0343), older ones are read from the store. Every call returns a fresh object.
   */
  async getResult(height: number): Promise<NamespaceResult | undefined> {
    const b = this.#recent.get(height) ?? (await this.kv.get(resultKey(height)));
    return b === undefined ? undefined : decodeResult(b);
  }
}

/** Heights whose results a RollupState keeps in memory after committing them. */
export const RECENT_RESULTS = 16;

/** A block's state commit, computed but not yet written (RollupState.prepare). */
export interface PreparedCommit {
  /** The rollup view's writes: state changes, the results record, the head. */
  writes: KvWrite[];
  result: NamespaceResult;
  diff: [Bytes, Val][];
  /** After `writes` are persisted: apply the diff and the new head in memory. */
  apply(): void;
}

function encodeHead(height: number, root: Uint8Array): Uint8Array {
  const b = Buffer.alloc(40);
  b.writeBigUInt64BE(BigInt(height), 0);
  b.set(root, 8);
  return new Uint8Array(b.buffer, b.byteOffset, 40);
}
