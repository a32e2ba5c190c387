/**
 * Catch-up over the 'sync' request/response protocol. The server side answers `status` and
 * `blocks` (a height range, capped by count and response bytes) from the block store; `txs` requests
 * are passed to an optional handler the node composes in (the tx-by-hash lookup is not consensus').
 * The client side (`fetchCertifiedBlocks`) asks a peer for a range; the engine then hands every block
 * to the state machine, which verifies its certificate and parent link before committing it.
 */
import {
  decodeSyncRequest,
  decodeSyncResponse,
  encodeCertifiedBlock,
  encodeSyncRequest,
  encodeSyncResponse,
  LIMITS,
  txHash,
} from '../codec/index.ts';
import { latin1Key, ZERO_HASH } from '../crypto/index.ts';
import { errorMessage, OrdoError } from '../errors.ts';
import type { Network, PeerId, RequestHandler } from '../p2p/index.ts';
import type { BlockStore } from '../store/index.ts';
import type { CertifiedBlock, SyncStatus, TxEnvelope } from '../types.ts';

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
