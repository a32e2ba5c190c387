/**
 * Bundles' canonical bytes: the bundle hash, what a searcher signs to submit, replace or cancel, and what
 * a node signs when it pre-confirms a bundle. These are fixed byte layouts (docs/wire.md, "Bundles"),
 * never protobuf bytes, so a client in any language recomputes them from the spec alone.
 *
 * Layouts (u8/u32/u64 big-endian, lp(x) = u32 length || x):
 *   bundle_body   = "ordo/bundle/v1" || lp(chain_id) || u8 atomicity || u64 min_height || u64 max_height
 *                   || lp(replacement_uuid) || lp(signer) || u32 leg_count || leg*
 *   leg           = u32 namespace || u32 tx_count || lp(tx)* || u32 reverting_count || hash32*
 *   bundle_hash   = sha256(bundle_body)
 *   sign bytes    = "ordo/bundle-sig/v1" || bundle_hash
 *   cancel bytes  = "ordo/bundle-cancel/v1" || lp(chain_id) || lp(replacement_uuid)
 *   preconf bytes = "ordo/preconf/v1" || lp(chain_id) || bundle_hash || u64 height || block_hash
 *                   || u8 outcome (1 applied, 2 reverted) || u32 leg_count || (u32 ns || state_root || receipts_root)*
 */
import { sha256 } from '../crypto/index.ts';
import type { AtomicityCode, Bundle, BundleAtomicity, BundleLeg } from '../types.ts';

const enc = new TextEncoder();
const BUNDLE_TAG = enc.encode('ordo/bundle/v1');
const SIG_TAG = enc.encode('ordo/bundle-sig/v1');
const CANCEL_TAG = enc.encode('ordo/bundle-cancel/v1');
const PRECONF_TAG = enc.encode('ordo/preconf/v1');

class Writer {
  private parts: Uint8Array[] = [];
  bytes(b: Uint8Array): this {
    this.parts.push(b);
    return this;
  }
  u8(n: number): this {
    return this.bytes(Uint8Array.of(n));
  }
  u32(n: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n);
    return this.bytes(b);
  }
  u64(n: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n));
    return this.bytes(b);
  }
  lp(b: Uint8Array): this {
    return this.u32(b.byteLength).bytes(b);
  }
  finish(): Uint8Array {
    let n = 0;
    for (const p of this.parts) n += p.byteLength;
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.byteLength;
    }
    return out;
  }
}

export function atomicityCode(a: BundleAtomicity): AtomicityCode {
  return a === 'execution' ? 1 : 2;
}

export function atomicityName(c: AtomicityCode): BundleAtomicity {
  return c === 1 ? 'execution' : 'inclusion';
}

/**
 * The canonical form of a bundle built by a client: legs sorted by namespace, reverting hashes sorted
 * bytewise with duplicates removed. Two legs for one namespace are refused by the decoder and by
 * admission, not merged here.
 */
export function canonicalBundle(b: Bundle): Bundle {
  const legs: BundleLeg[] = [...b.legs]
    .sort((x, y) => x.namespace - y.namespace)
    .map((l) => {
      const rev = [...l.revertingTxHashes].sort(Buffer.compare);
      const uniq = rev.filter((h, i) => i === 0 || Buffer.compare(rev[i - 1]!, h) !== 0);
      return { namespace: l.namespace, txs: l.txs, revertingTxHashes: uniq };
    });
  return { ...b, legs };
}

/**
 * An unsigned, execution-atomic bundle of these legs, with no replacement id: what `eth_sendBundle` and
 * `eth_callBundle` build for one EVM rollup, and what tests and benchmarks simulate. `window` bounds the
 * heights (0 = no bound, the default).
 */
export function unsignedBundle(
  legs: BundleLeg[],
  window: { minHeight?: number; maxHeight?: number } = {},
): Bundle {
  return {
    legs,
    atomicity: 'execution',
    minHeight: window.minHeight ?? 0,
    maxHeight: window.maxHeight ?? 0,
    replacementUuid: new Uint8Array(0),
    signer: new Uint8Array(0),
    signature: new Uint8Array(0),
  };
}

/** The canonical bundle body (everything but the signature). */
export function bundleBody(chainId: string, b: Bundle): Uint8Array {
  const w = new Writer()
    .bytes(BUNDLE_TAG)
    .lp(enc.encode(chainId))
    .u8(atomicityCode(b.atomicity))
    .u64(b.minHeight)
    .u64(b.maxHeight)
    .lp(b.replacementUuid)
    .lp(b.signer)
    .u32(b.legs.length);
  for (const l of b.legs) {
    w.u32(l.namespace).u32(l.txs.length);
    for (const tx of l.txs) w.lp(tx);
    w.u32(l.revertingTxHashes.length);
    for (const h of l.revertingTxHashes) w.bytes(h);
  }
  return w.finish();
}

/** The bundle hash: sha256 of the canonical body. Names the bundle in spans, statuses and bids. */
export function bundleHash(chainId: string, b: Bundle): Uint8Array {
  return sha256(bundleBody(chainId, b));
}

/** What the signer of a bundle signs (ed25519): the tag and the bundle hash. */
export function bundleSignBytes(hash: Uint8Array): Uint8Array {
  return new Writer().bytes(SIG_TAG).bytes(hash).finish();
}

/** What the signer of a replaceable bundle signs to cancel it. */
export function bundleCancelBytes(chainId: string, replacementUuid: Uint8Array): Uint8Array {
  return new Writer().bytes(CANCEL_TAG).lp(enc.encode(chainId)).lp(replacementUuid).finish();
}

/** One executed leg in a pre-confirmation: the rollup's state root and receipts root after the block. */
export interface PreconfLeg {
  namespace: number;
  stateRoot: Uint8Array;
  receiptsRoot: Uint8Array;
}

export interface PreconfBody {
  chainId: string;
  bundleHash: Uint8Array;
  height: number;
  blockHash: Uint8Array;
  outcome: 'applied' | 'reverted';
  /** Sorted by namespace; only executed rollups the bundle touches. */
  legs: PreconfLeg[];
}

/** A signed pre-confirmation: the body and the node's ed25519 key and signature over preconfSignBytes. */
export interface Preconfirmation extends PreconfBody {
  /** The node's ed25519 public key (32 bytes); a genesis validator's key for a validator node. */
  signer: Uint8Array;
  signature: Uint8Array;
}

/** What a node signs (ed25519, node key) to pre-confirm a bundle's execution. */
export function preconfSignBytes(p: PreconfBody): Uint8Array {
  const w = new Writer()
    .bytes(PRECONF_TAG)
    .lp(enc.encode(p.chainId))
    .bytes(p.bundleHash)
    .u64(p.height)
    .bytes(p.blockHash)
    .u8(p.outcome === 'applied' ? 1 : 2)
    .u32(p.legs.length);
  for (const l of p.legs) w.u32(l.namespace).bytes(l.stateRoot).bytes(l.receiptsRoot);
  return w.finish();
}

/** Parse a UUID string (8-4-4-4-12 hex) into its 16 bytes; undefined when malformed. */
export function parseUuid(s: string): Uint8Array | undefined {
  if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s))
    return undefined;
  return Uint8Array.from(Buffer.from(s.replaceAll('-', ''), 'hex'));
}

/** Format 16 bytes as a lowercase UUID string. */
export function formatUuid(b: Uint8Array): string {
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
