/**
 * Catch-up over the 'sync' request/response protocol. The server side answers `status` and
 * `blocks` (a height range, capped by count and response bytes) from the block store; `txs` requests
 * are passed to an optional handler the node composes in (the tx-by-hash lookup is not consensus').
 * The client side (`fetchCertifiedBlocks`) asks a peer for a range; the engine then hands every block
 * to the state machine, which verifies its certificate and parent link before committing it.
 * Repair (`repairFromPeers`, `BlockRepairer`, ADR 0145) uses the same `blocks` request to re-fetch
 * heights the local store lost, checks them as catch-up does, and rewrites them in place.
 */
import {
  blockDataHash,
  blockHash,
  decodeSyncRequest,
  decodeSyncResponse,
  encodeCertifiedBlock,
  encodeSyncRequest,
  encodeSyncResponse,
  LIMITS,
  txHash,
  validateBlockBasic,
} from '../codec/index.ts';
import { bytesEqual, latin1Key, ZERO_HASH } from '../crypto/index.ts';
import { errorMessage, OrdoError } from '../errors.ts';
import type { Network, PeerId, RequestHandler } from '../p2p/index.ts';
import type { BlockStore } from '../store/index.ts';
import type { CertifiedBlock, SyncStatus, TxEnvelope } from '../types.ts';
import { verifyCertificate } from './certificate.ts';
import type { VerifyFn } from './signing.ts';
import type { ValidatorSet } from './types.ts';

export interface SyncServerOptions {
  store: BlockStore;
  chainId: string;
  /** Serves `txs` requests when present (composed by the node). */
  txs?: (hashes: Uint8Array[]) => Promise<TxEnvelope[]>;
  /** Cap on blocks per response (default LIMITS.maxSyncBlocksPerRequest). */
  maxBlocks?: number;
}

/** A 'sync' protocol handler serving status and certified block ranges from the store. */
export function createSyncHandler(opts: SyncServerOptions): RequestHandler {
  const maxBlocks = Math.min(
    opts.maxBlocks ?? LIMITS.maxSyncBlocksPerRequest,
    LIMITS.maxSyncBlocksPerRequest,
  );
  const budget = LIMITS.maxSyncResponseBytes - 64 * 1024;
  return async (_from, data) => {
    let req: ReturnType<typeof decodeSyncRequest>;
    try {
      req = decodeSyncRequest(data);
    } catch (err) {
      return encodeSyncResponse({ kind: 'error', message: `bad request: ${errorMessage(err)}` });
    }
    try {
      switch (req.kind) {
        case 'status': {
          const height = opts.store.height();
          const headHash = height > 0 ? ((await opts.store.getBlockHash(height)) ?? ZERO_HASH) : ZERO_HASH;
          const status: SyncStatus = {
            chainId: opts.chainId,
            height,
            headHash,
            baseHeight: opts.store.baseHeight(),
          };
          return encodeSyncResponse({ kind: 'status', status });
        }
        case 'blocks': {
          const blocks: CertifiedBlock[] = [];
          const top = Math.min(req.toHeight, opts.store.height(), req.fromHeight + maxBlocks - 1);
          let bytes = 0;
          for (let h = Math.max(req.fromHeight, opts.store.baseHeight()); h <= top; h++) {
            const block = await opts.store.getBlock(h);
            const certificate = await opts.store.getCertificate(h);
            if (block === undefined || certificate === undefined) break;
            const size = encodeCertifiedBlock({ block, certificate }).byteLength + 16;
            if (blocks.length > 0 && bytes + size > budget) break;
            bytes += size;
            blocks.push({ block, certificate });
          }
          return encodeSyncResponse({ kind: 'blocks', blocks });
        }
        case 'txs': {
          if (opts.txs === undefined)
            return encodeSyncResponse({ kind: 'error', message: 'txs not served here' });
          return encodeSyncResponse({ kind: 'txs', txs: await opts.txs(req.hashes) });
        }
      }
    } catch (err) {
      return encodeSyncResponse({ kind: 'error', message: `server error: ${errorMessage(err)}` });
    }
  };
}

export async function fetchStatus(net: Network, peer: PeerId, timeoutMs: number): Promise<SyncStatus> {
  const res = decodeSyncResponse(
    await net.request(peer, 'sync', encodeSyncRequest({ kind: 'status' }), { timeoutMs }),
  );
  if (res.kind !== 'status') {
    throw new OrdoError('SYNC_BAD_RESPONSE', `peer ${peer} answered a status request with ${res.kind}`);
  }
  return res.status;
}

/** Fetch certified blocks [from, to] from one peer; blocks come back in height order (checked). */
export async function fetchCertifiedBlocks(
  net: Network,
  peer: PeerId,
  from: number,
  to: number,
  timeoutMs: number,
): Promise<CertifiedBlock[]> {
  const res = decodeSyncResponse(
    await net.request(peer, 'sync', encodeSyncRequest({ kind: 'blocks', fromHeight: from, toHeight: to }), {
      timeoutMs,
    }),
  );
  if (res.kind === 'error') throw new OrdoError('SYNC_PEER_ERROR', `peer ${peer}: ${res.message}`);
  if (res.kind !== 'blocks') {
    throw new OrdoError('SYNC_BAD_RESPONSE', `peer ${peer} answered a blocks request with ${res.kind}`);
  }
  res.blocks.forEach((b, i) => {
    if (b.block.header.height !== from + i) {
      throw new OrdoError(
        'SYNC_BAD_RESPONSE',
        `peer ${peer} sent height ${b.block.header.height}, want ${from + i}`,
      );
    }
  });
  return res.blocks;
}

/** Transaction ids per `txs` request: 32-byte ids keep a request far below maxSyncRequestBytes. */
export const TXS_PER_REQUEST = 1024;

/**
 * Fetch transactions by id from one peer. Returns a map from id (latin1 string) to the transaction,
 * holding only transactions whose txHash really is one of the ids asked for: a peer cannot substitute.
 */
export async function fetchTxs(
  net: Network,
  peer: PeerId,
  hashes: Uint8Array[],
  timeoutMs: number,
): Promise<Map<string, TxEnvelope>> {
  const want = new Set(hashes.map(latin1Key));
  const out = new Map<string, TxEnvelope>();
  for (let i = 0; i < hashes.length; i += TXS_PER_REQUEST) {
    const slice = hashes.slice(i, i + TXS_PER_REQUEST);
    const res = decodeSyncResponse(
      await net.request(peer, 'sync', encodeSyncRequest({ kind: 'txs', hashes: slice }), { timeoutMs }),
    );
    if (res.kind === 'error') throw new OrdoError('SYNC_PEER_ERROR', `peer ${peer}: ${res.message}`);
    if (res.kind !== 'txs') {
      throw new OrdoError('SYNC_BAD_RESPONSE', `peer ${peer} answered a txs request with ${res.kind}`);
    }
    for (const tx of res.txs) {
      const k = latin1Key(txHash(tx));
      if (want.has(k)) out.set(k, tx);
    }
  }
  return out;
}

/** What repair needs from the store: the chain plus a way to rewrite one damaged height. */
export interface RepairableStore extends BlockStore {
  repairBlock(block: CertifiedBlock['block'], cert: CertifiedBlock['certificate']): Promise<void>;
}

export interface RepairOptions {
  net: Network;
  store: RepairableStore;
  chainId: string;
  validators: ValidatorSet;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** Signature check (tests and the simulator); ed25519 by default. */
  verify?: VerifyFn;
  log?: (level: 'info' | 'warn', msg: string, data: Record<string, unknown>) => void;
}

export interface RepairResult {
  repaired: number[];
  /** Heights no peer served a valid block for, with the last reason. */
  failed: { height: number; reason: string }[];
}

/** Intact heights a fetched run may span to join two damaged ones (fewer requests to each peer). */
const RUN_GAP = 8;

/**
 * Sorted heights as runs [from, to] of at most `max` heights each; heights at most RUN_GAP apart share
 * a run, so scattered damage costs few requests (the peer's request rate limit) and only the damaged
 * heights of a run are written.
 */
export function runsOf(heights: number[], max: number): [number, number][] {
  const out: [number, number][] = [];
  for (const h of [...new Set(heights)].sort((a, b) => a - b)) {
    const last = out[out.length - 1];
    if (last !== undefined && h - last[1] <= RUN_GAP + 1 && h - last[0] < max) last[1] = h;
    else out.push([h, h]);
  }
  return out;
}

/**
 * Re-fetch damaged heights from peers and rewrite them (issue #25 item 9, ADR 0145). Each height is asked
 * of the connected peers in turn; a block is written only when it passes what catch-up checks (basic
 * validity, its data hash, a certificate with more than 2/3 of the validators' power for exactly that
 * block) and what `store.repairBlock` checks against the intact neighbours. A peer that sends an invalid
 * block is skipped for the rest of the run. Never throws for a peer's fault: the heights no peer could
 * serve come back in `failed`.
 */
export async function repairFromPeers(heights: number[], o: RepairOptions): Promise<RepairResult> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const repaired: number[] = [];
  const reasons = new Map<number, string>();
  const skip = new Set<PeerId>();
  const wanted = new Set(heights);
  for (const [from, to] of runsOf(heights, LIMITS.maxSyncBlocksPerRequest)) {
    let next = from;
    for (const peer of o.net.peers()) {
      if (next > to) break;
      if (skip.has(peer)) continue;
      while (next <= to) {
        let blocks: CertifiedBlock[];
        try {
          blocks = await fetchCertifiedBlocks(o.net, peer, next, to, timeoutMs);
        } catch (err) {
          reasons.set(next, `peer ${peer}: ${errorMessage(err)}`);
          break;
        }
        if (blocks.length === 0) {
          reasons.set(next, `peer ${peer} does not have height ${next}`);
          break;
        }
        let bad = false;
        for (const { block, certificate } of blocks) {
          const h = block.header.height;
          if (!wanted.has(h)) {
            next = h + 1; // an intact height between two damaged ones
            continue;
          }
          try {
            validateBlockBasic(block);
            if (!bytesEqual(block.header.dataHash, blockDataHash(block)))
              throw new OrdoError('SYNC_BAD_RESPONSE', 'data hash does not match the transactions');
            verifyCertificate(certificate, o.validators, o.chainId, blockHash(block), { verify: o.verify });
          } catch (err) {
            reasons.set(h, `peer ${peer} sent an invalid block: ${errorMessage(err)}`);
            o.log?.('warn', 'peer sent an invalid block for repair', {
              peer,
              height: h,
              err: errorMessage(err),
            });
            skip.add(peer);
            bad = true;
            break;
          }
          try {
            await o.store.repairBlock(block, certificate);
          } catch (err) {
            // A certified block that does not fit the intact neighbours: not this peer's fault alone.
            reasons.set(h, errorMessage(err));
            o.log?.('warn', 'certified block does not fit the stored chain', {
              peer,
              height: h,
              err: errorMessage(err),
            });
            bad = true;
            break;
          }
          repaired.push(h);
          reasons.delete(h);
          next = h + 1;
        }
        if (bad) break;
      }
    }
    for (let h = next; h <= to; h++)
      if (wanted.has(h) && !repaired.includes(h))
        reasons.set(h, reasons.get(next) ?? reasons.get(h) ?? 'no connected peer');
  }
  const failed = [...reasons]
    .filter(([h]) => wanted.has(h) && !repaired.includes(h))
    .sort((a, b) => a[0] - b[0])
    .map(([height, reason]) => ({ height, reason }));
  return { repaired, failed };
}

/**
 * Repairs damaged heights reported while the node runs (the store's `onDamage`): heights are queued and
 * re-fetched in the background, one run at a time; what no peer could serve is retried with a backoff
 * (1 s doubling to 60 s). The read that found the damage still fails; reads after the repair succeed.
 */
export class BlockRepairer {
  readonly #o: RepairOptions;
  readonly #pending = new Set<number>();
  #running = false;
  #stopped = false;
  #backoffMs = 1000;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(o: RepairOptions) {
    this.#o = o;
  }

  /** Queue a damaged height (cheap, idempotent). */
  report(height: number): void {
    if (this.#stopped || !Number.isSafeInteger(height) || height < 1) return;
    if (this.#pending.size >= 100_000) return;
    this.#pending.add(height);
    if (!this.#running && this.#timer === undefined) this.#schedule(0);
  }

  /** Heights waiting for a repair. */
  pending(): number[] {
    return [...this.#pending].sort((a, b) => a - b);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#run();
    }, ms);
    this.#timer.unref?.();
  }

  async #run(): Promise<void> {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    try {
      const heights = this.pending();
      for (const h of heights) this.#pending.delete(h);
      const r = await repairFromPeers(heights, this.#o);
      if (r.repaired.length > 0)
        this.#o.log?.('info', 'damaged heights re-fetched from peers', { heights: r.repaired.length });
      for (const f of r.failed) this.#pending.add(f.height);
      if (r.failed.length > 0) {
        this.#o.log?.('warn', 'damaged heights not repaired yet; retrying', {
          heights: r.failed.length,
          first: r.failed[0],
          retryMs: this.#backoffMs,
        });
      } else this.#backoffMs = 1000;
    } catch (err) {
      this.#o.log?.('warn', 'block repair failed', { err: errorMessage(err) });
    } finally {
      this.#running = false;
    }
    if (!this.#stopped && this.#pending.size > 0) {
      const wait = this.#backoffMs;
      this.#backoffMs = Math.min(60_000, this.#backoffMs * 2);
      this.#schedule(wait);
    }
  }
}
