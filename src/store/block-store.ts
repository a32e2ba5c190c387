/**
 * The block store: blocks, commit certificates, block hashes, the tx index, node metadata and component
 * sub-views, over one embedded database (an `Engine`: LevelDB or LMDB, see engine.ts). The key layout is
 * in keys.ts.
 *
 * Crash safety: `commitBlock` turns a block into one list of writes (block, certificate, block hash, one
 * tx-index entry per transaction, the caller's extra writes, and the head pointer) and hands it to the
 * engine as ONE atomic batch. The head pointer is the source of truth for the height: `open()` reads it
 * back, so after a crash at any moment the store holds either the whole block or nothing of it.
 * Commits are serialized through a promise chain, so concurrent callers cannot race on the height.
 * Durable (fsync) by default; `sync: false` trades power-loss durability for speed (tests, benchmarks).
 *
 * Integrity (ADR 0089): block, certificate and block-hash values carry a CRC-32 (checksum.ts) checked on
 * every read; a value that fails it, or one missing at a height the head pointer covers, is a
 * `STORE_CORRUPT` error naming the height, never a hole or a silently different block. `verify()`
 * scans everything (the `ordo store verify` command and the node's start-up check).
 *
 * Write faults: LevelDB keeps accepting writes after one failed to reach its log (ENOSPC), but those
 * later writes are dropped when the log is replayed on the next open (measured, ADR 0089). So after a
 * failed write the store accepts no other write until the engine has been closed and reopened, which is
 * tried once the disk has room again; reads go on meanwhile (they wait only during the reopen itself).
 */
import { existsSync, readdirSync, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  blockHash,
  decodeBlock,
  decodeCertificate,
  encodeBlock,
  encodeCertificate,
  txHash,
} from '../codec/index.ts';
import { bytesEqual, toHex } from '../crypto/index.ts';
import { errorMessage, OrdoError } from '../errors.ts';
import type { Block, CommitCertificate } from '../types.ts';
import { seal, unseal } from './checksum.ts';
import type { Engine, EngineName } from './engine.ts';
import {
  BLOCK_RANGE_HI,
  BLOCK_RANGE_LO,
  blockKey,
  CRC_FROM_KEY,
  certKey,
  checkExtraKey,
  checkUserKey,
  concat,
  decodeHead,
  decodeTxLocation,
  decodeU32,
  decodeU64,
  encodeHead,
  encodeU32,
  encodeU64,
  HASH_BYTES,
  HASH_RANGE_HI,
  HEAD_KEY,
  hashKey,
  LAYOUT_VERSION,
  LEGACY_LAYOUT_VERSION,
  metaKey,
  prefixEnd,
  subPrefix,
  txKey,
  txLocationWrites,
  VERSION_KEY,
} from './keys.ts';
import { tablesForKeys } from './leveldb-files.ts';
import type { BlockStore, JoinableKv, KvStore, KvWrite, SubOptions, TxLocation } from './types.ts';
import { damagedKeys, type VerifyOptions, type VerifyReport, verifyStore } from './verify.ts';

export type StoreErrorCode =
  | 'STORE_CLOSED'
  | 'STORE_OPEN_FAILED'
  | 'STORE_CORRUPT'
  | 'STORE_ENGINE_MISMATCH'
  | 'STORE_HEIGHT_MISMATCH'
  | 'STORE_CERT_MISMATCH'
  | 'STORE_PARENT_MISMATCH'
  | 'STORE_BAD_KEY'
  | 'STORE_BAD_HEIGHT'
  | 'STORE_WRITE_FAILED'
  | 'STORE_READ_FAILED'
  | 'STORE_REPAIR_MISMATCH';

export interface BlockStoreOptions {
  path: string;
  /** fsync every write before it resolves (default true). */
  sync?: boolean;
  logger?: Logger;
  /** prom-client registry for `ordo_store_*` metrics; none are registered when omitted. */
  registry?: Registry;
}

interface StoreMetrics {
  commitSeconds: Histogram;
  commitBytes: Counter;
  committedTxs: Counter;
  height: Gauge;
  damagedReads: Counter;
  repairedBlocks: Counter;
}

/** Reuse a metric already registered under `name` (a reopened store shares the node's registry). */
function metric<T>(registry: Registry | undefined, name: string, make: (registers: Registry[]) => T): T {
  const existing = registry?.getSingleMetric(name);
  return existing === undefined ? make(registry === undefined ? [] : [registry]) : (existing as T);
}

function makeMetrics(registry: Registry | undefined): StoreMetrics {
  return {
    commitSeconds: metric(
      registry,
      'ordo_store_commit_seconds',
      (registers) =>
        new Histogram({
          name: 'ordo_store_commit_seconds',
          help: 'Time to write one committed block batch',
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
          registers,
        }),
    ),
    commitBytes: metric(
      registry,
      'ordo_store_commit_bytes_total',
      (registers) =>
        new Counter({
          name: 'ordo_store_commit_bytes_total',
          help: 'Bytes of keys and values written by block commits',
          registers,
        }),
    ),
    committedTxs: metric(
      registry,
      'ordo_store_committed_txs_total',
      (registers) =>
        new Counter({
          name: 'ordo_store_committed_txs_total',
          help: 'Transactions indexed by block commits',
          registers,
        }),
    ),
    damagedReads: metric(
      registry,
      'ordo_store_damaged_reads_total',
      (registers) =>
        new Counter({
          name: 'ordo_store_damaged_reads_total',
          help: 'Reads of a block, certificate or block hash that was missing below the head, failed its checksum or did not decode',
          registers,
        }),
    ),
    repairedBlocks: metric(
      registry,
      'ordo_store_repaired_blocks_total',
      (registers) =>
        new Counter({
          name: 'ordo_store_repaired_blocks_total',
          help: 'Damaged heights rewritten with a certified block fetched from a peer',
          registers,
        }),
    ),
    // The node's one chain-height metric (consensus and the node no longer export their own copies).
    height: metric(
      registry,
      'ordo_chain_height',
      (registers) =>
        new Gauge({
          name: 'ordo_chain_height',
          help: 'Latest committed block height (durable in this node’s store)',
          registers,
        }),
    ),
  };
}

/** The errno code of a failed write (ENOSPC, EIO...), when the engine reports one. */
function errnoOf(err: unknown): { errno?: string } {
  const m = /\b(ENOSPC|EIO|EDQUOT|EROFS|ENOMEM)\b|No space left on device/.exec(errorMessage(err));
  if (m === null) return {};
  return { errno: m[1] ?? 'ENOSPC' };
}

/** Free bytes for an unprivileged writer on the filesystem holding `path` (undefined if unknown). */
function freeBytes(path: string): number | undefined {
  try {
    const s = statfsSync(path);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return undefined;
  }
}

/** Total size of LevelDB's write-ahead logs in `path` (what a reopen turns into a table). */
function logBytes(path: string): number {
  let n = 0;
  try {
    for (const f of readdirSync(path)) if (f.endsWith('.log')) n += statSync(join(path, f)).size;
  } catch {
    // not a directory we can list: no estimate
  }
  return n;
}

/** Committed blocks kept in memory for readers of the chain head (at most ~1 MiB each). */
export const RECENT_BLOCKS = 16;

type State = 'new' | 'opening' | 'open' | 'closing' | 'closed';

/** Files whose presence identifies an engine's database directory. */
const ENGINE_MARKERS: Record<EngineName, string> = { leveldb: 'CURRENT', lmdb: 'data.mdb' };

/** The engine that owns an existing database directory, or undefined for a new/empty one. */
export function detectEngine(path: string): EngineName | undefined {
  if (!existsSync(path)) return undefined;
  let names: string[];
  try {
    names = readdirSync(path);
  } catch {
    return undefined;
  }
  if (names.includes(ENGINE_MARKERS.lmdb)) return 'lmdb';
  if (names.includes(ENGINE_MARKERS.leveldb)) return 'leveldb';
  return undefined;
}

export class EngineBlockStore implements BlockStore {
  readonly path: string;
  readonly engineName: EngineName;
  private readonly engine: Engine;
  private readonly sync: boolean;
  private readonly log: Logger;
  private readonly metrics: StoreMetrics;
  private state: State = 'new';
  private head = 0;
  private headHash: Uint8Array | undefined;
  /** Tail of the commit queue: every commit waits for the previous one. */
  private commitChain: Promise<void> = Promise.resolve();
  /** Writes attached to a height's commit batch (attachToCommit), with who waits for them to be durable. */
  private readonly attached = new Map<
    number,
    { writes: KvWrite[]; waiters: { resolve: () => void; reject: (err: unknown) => void }[] }
  >();
  /** The highest height whose commit batch has been put together (attachments refused from then on). */
  private commitStarted = 0;
  /**
   * The last RECENT_BLOCKS committed blocks and certificates, as committed (their transactions carry
   * memoised ids). Readers of the chain head (the rollup adapter, RPC followers, the dashboard, peers
   * catching up) ask for each new block right after it commits: served from here, a block is neither
   * read back nor decoded nor re-hashed. Blocks are immutable once committed.
   */
  private readonly recent = new Map<number, { block: Block; cert: CommitCertificate; hash: Uint8Array }>();
  /** First height whose b/c/h values are sealed with a checksum (layout 2; 1 for stores created by it). */
  private crcFrom = 1;
  /** Set by a failed write: no other write until the engine has been reopened (see the header). */
  private writeFault: unknown;
  /** A reopen in progress: reads and writes wait for it. */
  private gate: Promise<void> | undefined;
  /** The engine is closed after a reopen whose open failed; the next access tries again. */
  private engineDown = false;
  /**
   * Told the height of every damaged read (a value missing below the head, failing its checksum or not
   * decoding), so the node can re-fetch that height from a peer (consensus/repair.ts) while the read
   * itself still fails with STORE_CORRUPT: a hole is never served.
   */
  onDamage: ((height: number) => void) | undefined;

  constructor(engine: Engine, opts: BlockStoreOptions) {
    this.engine = engine;
    this.engineName = engine.name;
    this.path = opts.path;
    this.sync = opts.sync ?? true;
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({ module: 'store', engine: engine.name });
    this.metrics = makeMetrics(opts.registry);
  }

  private fail(code: StoreErrorCode, problem: string, data: Record<string, unknown> = {}, cause?: unknown) {
    return new OrdoError(
      code,
      `store ${this.engineName} at ${this.path}: ${problem}`,
      { path: this.path, engine: this.engineName, ...data },
      cause === undefined ? undefined : { cause },
    );
  }

  private assertOpen(): void {
    if (this.state !== 'open') {
      throw this.fail('STORE_CLOSED', `database is ${this.state === 'new' ? 'not open yet' : this.state}`);
    }
  }

  async open(): Promise<void> {
    if (this.state === 'open') return;
    if (this.state === 'opening' || this.state === 'closing') {
      throw this.fail('STORE_OPEN_FAILED', `cannot open while ${this.state}`);
    }
    const found = detectEngine(this.path);
    if (found !== undefined && found !== this.engineName) {
      throw this.fail(
        'STORE_ENGINE_MISMATCH',
        `directory holds a ${found} database; open it with engine '${found}' (or use another path)`,
        { found },
      );
    }
    this.state = 'opening';
    try {
      await this.engine.open();
    } catch (err) {
      this.state = 'closed';
      const msg = errorMessage(err);
      const cause = (err as { cause?: unknown }).cause;
      const detail = cause === undefined ? msg : `${msg} (${errorMessage(cause)})`;
      const corrupt =
        /corrupt|checksum|MDB_INVALID|MDB_CORRUPTED|MDB_VERSION_MISMATCH|not an LMDB file/i.test(detail);
      throw this.fail(
        corrupt ? 'STORE_CORRUPT' : 'STORE_OPEN_FAILED',
        `cannot open database: ${detail}`,
        {},
        err,
      );
    }
    try {
      await this.recover();
    } catch (err) {
      this.state = 'closed';
      await this.engine.close().catch(() => undefined);
      if (err instanceof OrdoError) throw err;
      throw this.fail('STORE_CORRUPT', `cannot read database state: ${errorMessage(err)}`, {}, err);
    }
    this.state = 'open';
    this.metrics.height.set(this.head);
    this.log.info({ path: this.path, height: this.head, sync: this.sync }, 'store opened');
  }

  /** Read the layout version and head pointer; refuse anything inconsistent rather than guess. */
  private async recover(): Promise<void> {
    const version = await this.engine.get(VERSION_KEY);
    const headBytes = await this.engine.get(HEAD_KEY);
    let upgradeFrom: number | undefined;
    if (version === undefined) {
      if (headBytes !== undefined)
        throw this.fail('STORE_CORRUPT', 'head pointer present but no layout version');
      await this.engine.write(
        [
          { key: VERSION_KEY, value: encodeU32(LAYOUT_VERSION) },
          { key: CRC_FROM_KEY, value: encodeU64(1) },
        ],
        this.sync,
      );
      this.crcFrom = 1;
    } else if (decodeU32(version) === LAYOUT_VERSION) {
      const from = await this.engine.get(CRC_FROM_KEY);
      const n = from === undefined ? undefined : decodeU64(from);
      if (n === undefined || n < 1) {
        throw this.fail(
          'STORE_CORRUPT',
          `layout ${LAYOUT_VERSION} store without a valid checksum start height`,
        );
      }
      this.crcFrom = n;
    } else if (decodeU32(version) === LEGACY_LAYOUT_VERSION) {
      upgradeFrom = 0; // decided below, once the head is known
    } else {
      throw this.fail(
        'STORE_CORRUPT',
        `unsupported layout version ${decodeU32(version) ?? `(${version.byteLength} bytes)`}; this build reads versions ${LEGACY_LAYOUT_VERSION} and ${LAYOUT_VERSION}`,
      );
    }
    if (upgradeFrom !== undefined) {
      // Layout 1 -> 2: values already stored stay as they are; from the next height on they are sealed.
      const legacyHead = headBytes === undefined ? undefined : decodeHead(headBytes);
      this.crcFrom = legacyHead === undefined ? 1 : legacyHead.height + 1;
      this.crcFrom = Math.max(1, this.crcFrom);
      await this.engine.write(
        [
          { key: VERSION_KEY, value: encodeU32(LAYOUT_VERSION) },
          { key: CRC_FROM_KEY, value: encodeU64(this.crcFrom) },
        ],
        this.sync,
      );
      this.log.info(
        { from: LEGACY_LAYOUT_VERSION, to: LAYOUT_VERSION, checksumsFromHeight: this.crcFrom },
        'store layout upgraded: blocks from this height on carry checksums',
      );
    }
    if (headBytes === undefined) {
      for await (const [k] of this.engine.iterate(BLOCK_RANGE_LO, BLOCK_RANGE_HI, false, 1)) {
        throw this.fail('STORE_CORRUPT', `block entries exist (first key ${toHex(k)}) but no head pointer`);
      }
      this.head = 0;
      this.headHash = undefined;
      return;
    }
    const head = decodeHead(headBytes);
    if (head === undefined) {
      throw this.fail('STORE_CORRUPT', `head pointer is malformed (${headBytes.byteLength} bytes)`);
    }
    const raw = await this.engine.get(hashKey(head.height));
    const stored = raw === undefined ? undefined : this.opened(head.height, raw);
    if (stored === undefined || !bytesEqual(stored, head.hash)) {
      throw this.fail(
        'STORE_CORRUPT',
        `head pointer names height ${head.height} but its block hash is missing or differs`,
        {
          height: head.height,
        },
      );
    }
    this.head = head.height;
    this.headHash = head.hash;
  }

  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'new') {
      this.state = 'closed';
      return;
    }
    if (this.state === 'closing') return;
    this.state = 'closing';
    // Let queued commits finish (they were accepted while open) before the engine goes away.
    await this.commitChain.catch(() => undefined);
    const orphaned = [...this.attached.values()].flatMap((a) => a.waiters);
    this.attached.clear();
    for (const w of orphaned)
      w.reject(new OrdoError('STORE_CLOSED', 'the store closed before the block of the attached writes'));
    try {
      await this.engine.close();
    } finally {
      this.state = 'closed';
      this.recent.clear();
      this.log.info({ path: this.path, height: this.head }, 'store closed');
    }
  }

  height(): number {
    return this.head;
  }

  baseHeight(): number {
    return 1;
  }

  /**
   * Adds `writes` (sub-view keys, see subKey()) to the atomic batch that will commit block `height`, so a
   * component's state for that height is exactly as durable as the block, without a write (and fsync)
   * of its own. Resolves once that batch is written; undefined when the height's commit has already been
   * put together (or the store is not open): the caller writes on its own then.
   */
  attachToCommit(height: number, writes: KvWrite[]): Promise<void> | undefined {
    if (this.state !== 'open' || height <= Math.max(this.commitStarted, this.head)) return undefined;
    for (const w of writes) checkExtraKey(w.key);
    let a = this.attached.get(height);
    if (a === undefined) {
      a = { writes: [], waiters: [] };
      this.attached.set(height, a);
    }
    for (const w of writes) a.writes.push(w);
    const entry = a;
    return new Promise((resolve, reject) => entry.waiters.push({ resolve, reject }));
  }

  commitBlock(block: Block, cert: CommitCertificate, extra: KvWrite[] = []): Promise<void> {
    this.assertOpen();
    const run = this.commitChain.then(() => this.doCommit(block, cert, extra));
    this.commitChain = run.catch(() => undefined);
    return run;
  }

  private async doCommit(block: Block, cert: CommitCertificate, extra: KvWrite[]): Promise<void> {
    if (this.state !== 'open' && this.state !== 'closing') this.assertOpen();
    const height = block.header.height;
    const expected = this.head + 1;
    if (height !== expected) {
      throw this.fail('STORE_HEIGHT_MISMATCH', `block height ${height} is not the next height ${expected}`, {
        height,
        expected,
      });
    }
    if (cert.height !== height) {
      throw this.fail(
        'STORE_CERT_MISMATCH',
        `certificate height ${cert.height} differs from block height ${height}`,
      );
    }
    const hash = blockHash(block);
    if (!bytesEqual(cert.blockHash, hash)) {
      throw this.fail('STORE_CERT_MISMATCH', `certificate at height ${height} is for another block`, {
        height,
        blockHash: toHex(hash),
        certBlockHash: toHex(cert.blockHash),
      });
    }
    if (this.headHash !== undefined && !bytesEqual(block.header.parentHash, this.headHash)) {
      throw this.fail(
        'STORE_PARENT_MISMATCH',
        `block ${height}'s parentHash is not the hash of block ${this.head}`,
        {
          height,
        },
      );
    }
    for (const w of extra) checkExtraKey(w.key);

    const started = performance.now();
    const writes = this.blockWrites(height, block, cert, hash);
    // First occurrence of a tx hash within the block wins (entries are written last-to-first, and a
    // later write of the same key in one batch overrides an earlier one); across blocks the latest wins.
    for (const w of txLocationWrites(block.txs.map(txHash), height)) writes.push(w);
    for (const w of extra) writes.push(w);
    this.commitStarted = Math.max(this.commitStarted, height);
    const att = this.attached.get(height);
    if (att !== undefined) for (const w of att.writes) writes.push(w);
    writes.push({ key: HEAD_KEY, value: encodeHead({ height, hash }) });

    try {
      await this.writable(writes);
      await this.engine.write(writes, this.sync);
    } catch (err) {
      if (err instanceof OrdoError && err.code === 'STORE_WRITE_FAILED') throw err;
      this.writeFault = err;
      throw this.fail(
        'STORE_WRITE_FAILED',
        `writing block ${height} failed: ${errorMessage(err)}`,
        { height, ...errnoOf(err) },
        err,
      );
    }
    this.head = height;
    this.headHash = hash;
    if (att !== undefined) {
      this.attached.delete(height);
      for (const w of att.waiters) w.resolve();
    }
    this.recent.set(height, { block, cert, hash });
    this.recent.delete(height - RECENT_BLOCKS);

    let bytes = 0;
    for (const w of writes) bytes += w.key.byteLength + (w.value?.byteLength ?? 0);
    this.metrics.commitSeconds.observe((performance.now() - started) / 1000);
    this.metrics.commitBytes.inc(bytes);
    this.metrics.committedTxs.inc(block.txs.length);
    this.metrics.height.set(height);
    this.log.debug({ height, txs: block.txs.length, bytes }, 'block committed');
  }

  /** One raw read under the store's open check (sub views use it too). */
  async readKey(key: Uint8Array, what: string): Promise<Uint8Array | undefined> {
    this.assertOpen();
    try {
      await this.ready();
      return await this.engine.get(key);
    } catch (err) {
      if (err instanceof OrdoError) throw err;
      const corrupt = /corrupt|checksum|bad block|bad entry/i.test(
        `${errorMessage(err)} ${errorMessage((err as { cause?: unknown }).cause ?? '')}`,
      );
      throw this.fail(
        corrupt ? 'STORE_CORRUPT' : 'STORE_READ_FAILED',
        `reading ${what} failed: ${errorMessage(err)}${corrupt ? '; the database is damaged: run `ordo store verify`' : ''}`,
        {},
        err,
      );
    }
  }

  /** readKey for a value of `height`: an engine read that reports corruption is damage at that height. */
  private async readAt(height: number, key: Uint8Array, what: string): Promise<Uint8Array | undefined> {
    try {
      return await this.readKey(key, what);
    } catch (err) {
      if (err instanceof OrdoError && err.code === 'STORE_CORRUPT') this.damaged(height);
      throw err;
    }
  }

  private checkHeight(height: number): boolean {
    return Number.isSafeInteger(height) && height >= 1 && height <= this.head;
  }

  async getBlock(height: number): Promise<Block | undefined> {
    this.assertOpen();
    if (!this.checkHeight(height)) return undefined;
    const hit = this.recent.get(height);
    if (hit !== undefined) return hit.block;
    const v = this.sealedValue(
      height,
      'block',
      await this.readAt(height, blockKey(height), `block ${height}`),
    );
    try {
      return decodeBlock(v);
    } catch (err) {
      this.damaged(height);
      throw this.fail(
        'STORE_CORRUPT',
        `stored block ${height} does not decode: ${errorMessage(err)}`,
        { height },
        err,
      );
    }
  }

  async getCertificate(height: number): Promise<CommitCertificate | undefined> {
    this.assertOpen();
    if (!this.checkHeight(height)) return undefined;
    const hit = this.recent.get(height);
    if (hit !== undefined) return hit.cert;
    const v = this.sealedValue(
      height,
      'certificate',
      await this.readAt(height, certKey(height), `certificate ${height}`),
    );
    try {
      return decodeCertificate(v);
    } catch (err) {
      this.damaged(height);
      throw this.fail(
        'STORE_CORRUPT',
        `stored certificate ${height} does not decode: ${errorMessage(err)}`,
        { height },
        err,
      );
    }
  }

  async getBlockHash(height: number): Promise<Uint8Array | undefined> {
    this.assertOpen();
    if (!this.checkHeight(height)) return undefined;
    // The recent heights' hashes are in memory: the Ethereum index asks for two of them per EVM rollup
    // at every height, and each read is a LevelDB round trip through the thread pool (ADR 0343).
    const hit = this.recent.get(height);
    if (hit !== undefined) return hit.hash.slice();
    const v = this.sealedValue(
      height,
      'block hash',
      await this.readAt(height, hashKey(height), `block hash ${height}`),
    );
    if (v.byteLength !== HASH_BYTES) {
      this.damaged(height);
      throw this.fail('STORE_CORRUPT', `stored block hash ${height} has ${v.byteLength} bytes`, { height });
    }
    return v;
  }

  async getTxLocation(hash: Uint8Array): Promise<TxLocation | undefined> {
    this.assertOpen();
    if (!(hash instanceof Uint8Array) || hash.byteLength !== HASH_BYTES) return undefined;
    const v = await this.readKey(txKey(hash), `tx index ${toHex(hash)}`);
    if (v === undefined) return undefined;
    const loc = decodeTxLocation(v);
    if (loc === undefined) {
      throw this.fail('STORE_CORRUPT', `tx index entry ${toHex(hash)} is malformed (${v.byteLength} bytes)`);
    }
    // An entry above the head cannot come from a committed block (batches are atomic); hide it anyway.
    return loc.height <= this.head ? loc : undefined;
  }

  async getMeta(key: string): Promise<Uint8Array | undefined> {
    return this.readKey(metaKey(key), `meta '${key}'`);
  }

  async putMeta(key: string, value: Uint8Array): Promise<void> {
    await this.writeBatch([{ key: metaKey(key), value }]);
  }

  /**
   * Rewrite a damaged height with a block fetched from a peer (consensus/repair.ts, after it checked the
   * certificate's signatures against the validator set). Only a height at or below the head, and only a
   * block that is certified and fits its neighbours: it must hash to the certificate's block hash, to the
   * stored block hash when that value is intact, and to the head hash at the head; its parent hash must
   * be the intact stored hash of the height below, and the intact block above must name it as parent.
   * Anything else is `STORE_REPAIR_MISMATCH` and nothing is written. The block, certificate and block hash
   * are written in one batch with the tx-index entries the height is missing (an entry that points
   * elsewhere is kept: across blocks the latest wins, as in commitBlock). Serialized with commits.
   */
  repairBlock(block: Block, cert: CommitCertificate): Promise<void> {
    this.assertOpen();
    const run = this.commitChain.then(() => this.doRepair(block, cert));
    this.commitChain = run.catch(() => undefined);
    return run;
  }

  /** The block, certificate and block-hash entries of a height (checksummed from `crcFrom` on). */
  private blockWrites(height: number, block: Block, cert: CommitCertificate, hash: Uint8Array): KvWrite[] {
    const body = (v: Uint8Array): Uint8Array => (height >= this.crcFrom ? seal(v) : v);
    return [
      { key: blockKey(height), value: body(encodeBlock(block)) },
      { key: certKey(height), value: body(encodeCertificate(cert)) },
      { key: hashKey(height), value: body(hash) },
    ];
  }

  private async doRepair(block: Block, cert: CommitCertificate): Promise<void> {
    this.assertOpen();
    const height = block.header.height;
    const mismatch = (problem: string) =>
      this.fail('STORE_REPAIR_MISMATCH', `cannot repair height ${height}: ${problem}`, { height });
    if (!this.checkHeight(height)) throw mismatch(`not a stored height (head ${this.head})`);
    if (cert.height !== height) throw mismatch(`the certificate is for height ${cert.height}`);
    const hash = blockHash(block);
    if (!bytesEqual(cert.blockHash, hash)) throw mismatch('the certificate is for another block');
    if (height === this.head && this.headHash !== undefined && !bytesEqual(hash, this.headHash))
      throw mismatch('the block is not the one the head pointer names');
    const intact = async (key: Uint8Array, h: number): Promise<Uint8Array | undefined> => {
      try {
        const v = await this.engine.get(key);
        return v === undefined ? undefined : this.opened(h, v);
      } catch {
        return undefined; // unreadable: damaged too, no evidence either way
      }
    };
    const stored = await intact(hashKey(height), height);
    if (stored !== undefined && stored.byteLength === HASH_BYTES && !bytesEqual(stored, hash))
      throw mismatch('the block does not hash to the stored block hash');
    if (height > 1) {
      const parent = await intact(hashKey(height - 1), height - 1);
      if (
        parent !== undefined &&
        parent.byteLength === HASH_BYTES &&
        !bytesEqual(parent, block.header.parentHash)
      )
        throw mismatch(`its parent hash is not the stored hash of height ${height - 1}`);
    }
    if (height < this.head) {
      const above = await intact(blockKey(height + 1), height + 1);
      let parentOfAbove: Uint8Array | undefined;
      try {
        parentOfAbove = above === undefined ? undefined : decodeBlock(above).header.parentHash;
      } catch {
        parentOfAbove = undefined;
      }
      if (parentOfAbove !== undefined && !bytesEqual(parentOfAbove, hash))
        throw mismatch(`the stored block ${height + 1} names another parent`);
    }
    const writes = this.blockWrites(height, block, cert, hash);
    let indexed = 0;
    for (const w of txLocationWrites(block.txs.map(txHash), height)) {
      let loc: TxLocation | undefined;
      try {
        const v = await this.engine.get(w.key);
        loc = v === undefined ? undefined : decodeTxLocation(v);
      } catch {
        loc = undefined;
      }
      if (loc !== undefined && loc.height !== height) continue;
      writes.push(w);
      indexed++;
    }
    await this.writeBatch(writes);
    this.metrics.repairedBlocks.inc();
    this.log.warn(
      { height, txs: block.txs.length, indexed },
      'damaged height rewritten with a certified block from a peer',
    );
  }

  /**
   * Rebuild damaged LevelDB table files (ADR 0145), for the start-up repair, before anything else uses
   * the store. A value re-fetched from a peer only shadows the damaged one: the damaged table block stays
   * in its file, and LevelDB's next compaction of that file fails, after which it refuses every write
   * (measured). LevelDB's RepairDB rewrites the tables without the unreadable blocks, so the entries of
   * those blocks are lost; that is safe only for block, certificate and block-hash entries (checked and
   * re-fetched from peers afterwards). So everything outside those ranges is read first, and any read
   * error there refuses the rebuild (`STORE_CORRUPT`, nothing changed). Returns false when the engine
   * cannot rebuild (LMDB).
   */
  async rebuildTables(): Promise<boolean> {
    this.assertOpen();
    await this.ready();
    if (this.engine.rebuild === undefined) return false;
    let entries = 0;
    for (const [lo, hi] of [
      [new Uint8Array(0), BLOCK_RANGE_LO],
      [HASH_RANGE_HI, undefined],
    ] as const) {
      try {
        for await (const _ of this.engine.iterate(lo, hi, false, Number.POSITIVE_INFINITY)) entries++;
      } catch (err) {
        throw this.fail(
          'STORE_CORRUPT',
          `cannot rebuild: entries other than blocks are unreadable too (after ${entries} entries): ${errorMessage(err)}`,
          {},
          err,
        );
      }
    }
    this.state = 'closing';
    this.recent.clear();
    try {
      await this.engine.close();
      await this.engine.rebuild();
      await this.engine.open();
      await this.recover();
    } catch (err) {
      this.state = 'closed';
      await this.engine.close().catch(() => undefined);
      throw this.fail('STORE_CORRUPT', `rebuilding the database failed: ${errorMessage(err)}`, {}, err);
    }
    this.state = 'open';
    this.log.warn(
      { path: this.path, checkedEntries: entries, head: this.head },
      'LevelDB tables rebuilt without their unreadable blocks (RepairDB; originals in lost/)',
    );
    return true;
  }

  /** Apply writes atomically (used by putMeta and sub views). */
  async writeBatch(writes: KvWrite[], sync: boolean = this.sync): Promise<void> {
    this.assertOpen();
    try {
      await this.writable(writes);
      await this.engine.write(writes, sync);
    } catch (err) {
      if (err instanceof OrdoError && err.code === 'STORE_WRITE_FAILED') throw err;
      this.writeFault = err;
      throw this.fail('STORE_WRITE_FAILED', `write failed: ${errorMessage(err)}`, errnoOf(err), err);
    }
  }

  /**
   * The payload of a checksummed value read at `height` (values below `crcFrom` are legacy: as stored).
   * Undefined when the checksum fails.
   */
  private opened(height: number, v: Uint8Array): Uint8Array | undefined {
    return height < this.crcFrom ? v : unseal(v);
  }

  /** Count a damaged read at `height` and tell the listener (which must not throw into the read). */
  private damaged(height: number): void {
    this.metrics.damagedReads.inc();
    try {
      this.onDamage?.(height);
    } catch (err) {
      this.log.warn({ err, height }, 'damage listener failed');
    }
  }

  /** A b/c/h value at a height the head covers: missing or failing its checksum is corruption. */
  private sealedValue(height: number, what: string, v: Uint8Array | undefined): Uint8Array {
    if (v === undefined) {
      this.damaged(height);
      throw this.fail(
        'STORE_CORRUPT',
        `stored ${what} ${height} is missing below the head (${this.head}): the database is damaged; run \`ordo store verify\``,
        { height },
      );
    }
    const p = this.opened(height, v);
    if (p === undefined) {
      this.damaged(height);
      throw this.fail(
        'STORE_CORRUPT',
        `stored ${what} ${height} fails its checksum: the database is damaged; run \`ordo store verify\``,
        { height },
      );
    }
    return p;
  }

  /** Wait for a reopen in progress, and reopen an engine a failed reopen left closed. */
  private async ready(): Promise<void> {
    if (this.gate !== undefined) await this.gate.catch(() => undefined);
    if (this.engineDown) await this.reopen();
  }

  /** Close and open the engine (single flight); on failure the engine stays down for the next try. */
  private reopen(rebuild = false): Promise<void> {
    if (this.gate !== undefined) return this.gate;
    const gate = (async () => {
      if (!this.engineDown) await this.engine.close().catch(() => undefined);
      this.engineDown = true;
      if (rebuild) await this.engine.rebuild?.();
      await this.engine.open();
      this.engineDown = false;
    })().finally(() => {
      this.gate = undefined;
    });
    this.gate = gate;
    return gate;
  }

  /**
   * Before a write: after a failed one, reopen the engine first (so nothing written later can be lost
   * with the torn log record), but only once the disk has room for what the reopen writes (the
   * recovered memtable: about the size of the engine's logs) plus this batch; otherwise fail at once
   * and keep serving reads.
   */
  private async writable(writes: KvWrite[]): Promise<void> {
    await this.ready();
    if (this.writeFault === undefined) return;
    let batch = 0;
    for (const w of writes) batch += w.key.byteLength + (w.value?.byteLength ?? 0);
    const need = logBytes(this.path) + 2 * batch + 256 * 1024;
    const free = freeBytes(this.path);
    if (free !== undefined && free < need) {
      throw this.fail(
        'STORE_WRITE_FAILED',
        `disk still too full to resume writing (${free} bytes free, ${need} needed): ${errorMessage(this.writeFault)}`,
        { free, need, ...errnoOf(this.writeFault) },
        this.writeFault,
      );
    }
    // LevelDB refuses every write after a compaction met an unreadable table block ("Corruption"):
    // a plain reopen would meet it again. Rebuild the tables instead (as at start, ADR 0145) when only
    // block entries can be lost, then hand the heights the rebuild dropped to the re-fetch.
    const rebuild =
      this.engine.rebuild !== undefined &&
      /corrupt/i.test(errorMessage(this.writeFault)) &&
      (await this.onlyBlocksUnreadable());
    try {
      await this.reopen(rebuild);
      if (rebuild) await this.reportLostHeights();
    } catch (err) {
      throw this.fail(
        'STORE_WRITE_FAILED',
        `reopening the database after a failed write failed: ${errorMessage(err)}`,
        errnoOf(err),
        err,
      );
    }
    this.log.warn(
      { path: this.path, after: errorMessage(this.writeFault) },
      'store reopened after a failed write; writes resume',
    );
    this.writeFault = undefined;
  }

  /** True when every entry outside the block, certificate and block-hash ranges reads (rebuild is safe). */
  private async onlyBlocksUnreadable(): Promise<boolean> {
    for (const [lo, hi] of [
      [new Uint8Array(0), BLOCK_RANGE_LO],
      [HASH_RANGE_HI, undefined],
    ] as const) {
      try {
        for await (const _ of this.engine.iterate(lo, hi, false, Number.POSITIVE_INFINITY));
      } catch (err) {
        this.log.error({ err }, 'entries other than blocks are unreadable: the tables are not rebuilt');
        return false;
      }
    }
    return true;
  }

  /** After a rebuild while running: the heights it dropped go to the damage listener (re-fetch). */
  private async reportLostHeights(): Promise<void> {
    this.recent.clear();
    const r = await this.verify();
    this.log.warn(
      { path: this.path, lost: r.damagedCount, other: r.other },
      'LevelDB tables rebuilt after a failed compaction (RepairDB); lost heights are re-fetched from peers',
    );
    for (const h of r.damagedHeights) this.damaged(h);
  }

  /** Entries in [lo, hi) for sub views; the store must stay open while iterating. */
  async *scan(
    lo: Uint8Array,
    hi: Uint8Array | undefined,
    reverse: boolean,
    limit: number,
  ): AsyncIterable<[Uint8Array, Uint8Array]> {
    this.assertOpen();
    try {
      await this.ready();
      yield* this.engine.iterate(lo, hi, reverse, limit);
    } catch (err) {
      if (err instanceof OrdoError) throw err;
      throw this.fail('STORE_READ_FAILED', `range scan failed: ${errorMessage(err)}`, {}, err);
    }
  }

  /**
   * Scan the store for damage (verify.ts): `deep` decodes and cross-checks everything, the default
   * checks presence and checksums only.
   */
  async verify(opts: VerifyOptions = {}): Promise<VerifyReport> {
    this.assertOpen();
    await this.ready();
    const report = await verifyStore(
      {
        path: this.path,
        engineName: this.engineName,
        head: this.head,
        open: (h, v) => this.opened(h, v),
        get: (k) => this.engine.get(k),
        iterate: (lo, hi) => this.engine.iterate(lo, hi, false, Number.POSITIVE_INFINITY),
      },
      opts,
    );
    report.files = this.filesOf(report);
    return report;
  }

  /** Which database files hold the damaged values (best effort; see leveldb-files.ts). */
  private filesOf(r: VerifyReport): { file: string; heights: number[] }[] {
    if (r.damagedHeights.length === 0) return [];
    if (this.engineName === 'lmdb') return [{ file: join(this.path, 'data.mdb'), heights: r.damagedHeights }];
    const byFile = new Map<string, Set<number>>();
    const heights: number[] = [];
    const keys: Uint8Array[] = [];
    for (const h of r.damagedHeights.slice(0, 1000)) {
      for (const k of damagedKeys(h, r.problems[h] ?? [])) {
        heights.push(h);
        keys.push(k);
      }
    }
    const found = tablesForKeys(this.path, keys);
    if (found === undefined) return [];
    found.forEach((files, i) => {
      const names = files.length > 0 ? files : [join(this.path, "LevelDB's write-ahead log (*.log)")];
      for (const f of names) {
        const set = byFile.get(f) ?? new Set<number>();
        set.add(heights[i]!);
        byFile.set(f, set);
      }
    });
    return [...byFile].map(([file, hs]) => ({ file, heights: [...hs].sort((a, b) => a - b) }));
  }

  sub(prefix: string, opts: SubOptions = {}): KvStore {
    return new SubStore(this, subPrefix(prefix), opts.sync ?? this.sync);
  }

  /**
   * The key a sub() view stores `key` under, for callers that pass extra writes to commitBlock so that
   * component state lands in the same atomic batch as the block.
   */
  subKey(prefix: string, key: Uint8Array): Uint8Array {
    checkUserKey(key);
    return concat(subPrefix(prefix), key);
  }
}

/** A key/value view under one prefix; keys the caller sees never include the prefix. */
class SubStore implements JoinableKv {
  private readonly store: EngineBlockStore;
  private readonly prefix: Uint8Array;
  private readonly end: Uint8Array | undefined;

  private readonly sync: boolean;
  /** What batchViews needs to put this view's writes in one batch with other views of the store. */
  readonly joint: JoinableKv['joint'];

  constructor(store: EngineBlockStore, prefix: Uint8Array, sync: boolean) {
    this.store = store;
    this.sync = sync;
    this.prefix = prefix;
    this.end = prefixEnd(prefix);
    this.joint = {
      base: store,
      sync,
      rawKey: (key) => this.full(key),
      writeRaw: (writes, s) => store.writeBatch(writes, s),
    };
  }

  private full(key: Uint8Array): Uint8Array {
    checkUserKey(key);
    return concat(this.prefix, key);
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const k = this.full(key);
    return this.store.readKey(k, 'sub key');
  }

  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    await this.store.writeBatch([{ key: this.full(key), value }], this.sync);
  }

  async del(key: Uint8Array): Promise<void> {
    await this.store.writeBatch([{ key: this.full(key), value: undefined }], this.sync);
  }

  async batch(writes: KvWrite[]): Promise<void> {
    if (writes.length === 0) return;
    await this.store.writeBatch(
      writes.map((w) => ({ key: this.full(w.key), value: w.value })),
      this.sync,
    );
  }

  async *range(opts: {
    gte?: Uint8Array;
    lt?: Uint8Array;
    limit?: number;
    reverse?: boolean;
  }): AsyncIterable<[Uint8Array, Uint8Array]> {
    const lo = opts.gte === undefined ? this.prefix : this.full(opts.gte);
    const hi = opts.lt === undefined ? this.end : this.full(opts.lt);
    const limit = opts.limit ?? Number.POSITIVE_INFINITY;
    if (limit <= 0) return;
    const n = this.prefix.byteLength;
    for await (const [k, v] of this.store.scan(lo, hi, opts.reverse ?? false, limit)) {
      yield [k.subarray(n), v];
    }
  }
}
