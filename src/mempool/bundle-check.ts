/**
 * Stateless admission checks of one bundle (docs/bundles.md): structure, sizes, namespaces, per-rollup
 * size limits, atomicity against rollup kinds, the executed rollups' payload check, reverting hashes
 * against the rollup's own tx hash, and the signer's ed25519 signature over the bundle hash. They need
 * only the genesis registry and injected functions, never the pool's state; the pool (bundle-pool.ts)
 * runs them first and then the stateful checks (window, duplicate, replacement, limits, committed txs).
 * Bundles from a client (built by an entry point) and from gossip (decoded by the codec) take the same
 * path, so a bundle is refused for the same reason whichever door it came through.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import {
  atomicityCode,
  bundleHash,
  bundleSignBytes,
  evmBlockGasLimit,
  evmGasCharge,
  LIMITS,
  txHash,
} from '../codec/index.ts';
import { bytesEqual, latin1Key, verifySignature } from '../crypto/index.ts';
import type { AtomicityCode, Bundle, Namespace, RollupKind, TxEnvelope } from '../types.ts';
import type { BundleRejectCode } from './bundle-types.ts';

/** What admission needs of a rollup in the genesis registry. */
export interface BundleRollup {
  namespace: Namespace;
  kind: RollupKind;
  maxTxBytes: number;
  /** evm: the block gas limit (ADR 0285; default 30,000,000). */
  evmGasLimit?: number;
}

/** The rollup's own hash of one of its transactions (sha256 tx id, keccak256 for EVM rollups). */
export type RollupTxHash = (namespace: Namespace, payload: Uint8Array) => Uint8Array;

/** An executed rollup's payload check: undefined when the payload decodes, else why not. */
export type BundlePayloadCheck = (namespace: Namespace, payload: Uint8Array) => string | undefined;

/** A bundle that passed the stateless checks, with what the pool and the builder need of it. */
export interface CheckedBundle {
  hash: Uint8Array;
  key: string;
  bundle: Bundle;
  /** Legs' transactions in the bundle's order (legs by namespace). */
  txs: TxEnvelope[];
  /** latin1 keys of the Ordo tx hashes (src/codec txHash) of `txs`, same order. */
  txKeys: string[];
  atomicity: AtomicityCode;
  /** Indices into `txs` allowed to revert. */
  reverting: Set<number>;
  /** Payload bytes of all transactions. */
  bytes: number;
}

export type CheckResult =
  | { ok: true; checked: CheckedBundle }
  | { ok: false; code: BundleRejectCode; message: string; bundleHash?: Uint8Array };

function refuse(code: BundleRejectCode, message: string, hash?: Uint8Array): CheckResult {
  return hash === undefined ? { ok: false, code, message } : { ok: false, code, message, bundleHash: hash };
}

/** Ordo's tx id for every rollup: sha256(u32 ns || payload) (src/codec txHash). */
export function ordoTxHash(namespace: Namespace, payload: Uint8Array): Uint8Array {
  return txHash({ namespace, payload });
}

/**
 * The rollups' own tx hashes (docs/bundles.md): keccak256 of the raw transaction for EVM rollups, Ordo's
 * txHash for the others. Reverting hashes are checked against these.
 */
export function rollupTxHasher(rollups: readonly BundleRollup[]): RollupTxHash {
  const evm = new Set(rollups.filter((r) => r.kind === 'evm').map((r) => r.namespace));
  return (namespace, payload) => (evm.has(namespace) ? keccak_256(payload) : ordoTxHash(namespace, payload));
}

/**
 * Run every stateless check, cheapest first; the signature (the most expensive) last. The bundle hash is
 * computed once the structure is known to be sound.
 */
export function checkBundle(
  chainId: string,
  b: Bundle,
  rollups: ReadonlyMap<Namespace, BundleRollup>,
  rollupTxHash: RollupTxHash,
  checkPayload: BundlePayloadCheck | undefined,
): CheckResult {
  // Structure (the codec already enforces it for gossip; entry points may build bundles by hand).
  if (!Array.isArray(b.legs) || b.legs.length === 0) return refuse('BUNDLE_MALFORMED', 'bundle has no legs');
  if (b.legs.length > LIMITS.maxBundleLegs)
    return refuse('BUNDLE_MALFORMED', `bundle has ${b.legs.length} legs; limit ${LIMITS.maxBundleLegs}`);
  if (b.atomicity !== 'execution' && b.atomicity !== 'inclusion')
    return refuse('BUNDLE_MALFORMED', 'atomicity must be "execution" or "inclusion"');
  for (const [name, v] of [
    ['minHeight', b.minHeight],
    ['maxHeight', b.maxHeight],
  ] as const)
    if (!Number.isSafeInteger(v) || v < 0)
      return refuse('BUNDLE_MALFORMED', `${name} must be a non-negative integer`);
  if (b.maxHeight !== 0 && b.maxHeight < b.minHeight)
    return refuse(
      'WINDOW_PASSED',
      `maxHeight ${b.maxHeight} is below minHeight ${b.minHeight}: the window is empty`,
    );
  let prevNs = 0;
  let count = 0;
  let bytes = 0;
  for (const [i, leg] of b.legs.entries()) {
    if (!Number.isInteger(leg.namespace) || leg.namespace < 1 || leg.namespace > 0xffff_ffff)
      return refuse('BUNDLE_MALFORMED', `legs[${i}].namespace must be a uint32 >= 1`);
    if (leg.namespace <= prevNs)
      return refuse(
        'BUNDLE_MALFORMED',
        `legs must be sorted by namespace with one leg per namespace (leg ${i})`,
      );
    prevNs = leg.namespace;
    if (leg.txs.length === 0) return refuse('BUNDLE_MALFORMED', `legs[${i}] has no transactions`);
    for (const [j, tx] of leg.txs.entries()) {
      if (tx.byteLength === 0) return refuse('BUNDLE_MALFORMED', `legs[${i}].txs[${j}] is empty`);
      bytes += tx.byteLength;
    }
    count += leg.txs.length;
    for (const [j, h] of leg.revertingTxHashes.entries()) {
      if (h.byteLength !== 32)
        return refuse('BUNDLE_MALFORMED', `legs[${i}].revertingTxHashes[${j}] must be 32 bytes`);
      if (j > 0 && Buffer.compare(leg.revertingTxHashes[j - 1]!, h) >= 0)
        return refuse('BUNDLE_MALFORMED', `legs[${i}].revertingTxHashes must be sorted and unique`);
    }
  }
  if (b.signer.byteLength !== 0 && b.signer.byteLength !== 32)
    return refuse('BAD_SIGNATURE', 'signer must be a 32-byte ed25519 public key');
  if ((b.signer.byteLength === 0) !== (b.signature.byteLength === 0))
    return refuse('BAD_SIGNATURE', 'signer and signature must both be set or both be empty');
  if (b.signature.byteLength !== 0 && b.signature.byteLength !== 64)
    return refuse('BAD_SIGNATURE', 'signature must be 64 bytes (ed25519)');
  if (b.replacementUuid.byteLength !== 0 && b.replacementUuid.byteLength !== 16)
    return refuse('BUNDLE_MALFORMED', 'replacementUuid must be 16 bytes');
  if (b.replacementUuid.byteLength !== 0 && b.signer.byteLength === 0)
    return refuse('BAD_SIGNATURE', 'a replacementUuid needs a signed bundle (signer and signature)');

  // Sizes.
  if (count > LIMITS.maxBundleTxs)
    return refuse('BUNDLE_TOO_LARGE', `bundle has ${count} transactions; limit ${LIMITS.maxBundleTxs}`);
  if (bytes > LIMITS.maxBundleBytes)
    return refuse(
      'BUNDLE_TOO_LARGE',
      `bundle carries ${bytes} bytes of transactions; limit ${LIMITS.maxBundleBytes}`,
    );

  // Rollups: known, per-rollup size, atomicity vs kind, payload check.
  let opaqueLeg: Namespace | undefined;
  for (const leg of b.legs) {
    const r = rollups.get(leg.namespace);
    if (r === undefined)
      return refuse('UNKNOWN_NAMESPACE', `namespace ${leg.namespace} is not in the genesis rollup registry`);
    if (r.kind === 'opaque') opaqueLeg ??= leg.namespace;
    for (const [j, tx] of leg.txs.entries())
      if (tx.byteLength > r.maxTxBytes)
        return refuse(
          'BUNDLE_TOO_LARGE',
          `namespace ${leg.namespace} tx ${j} is ${tx.byteLength} bytes; the rollup's maxTxBytes is ${r.maxTxBytes}`,
        );
    // A leg must fit one block of its rollup: an EVM leg's declared gas within the block gas limit.
    const gasLimit = evmBlockGasLimit(r);
    if (gasLimit !== undefined) {
      let gas = 0;
      for (const tx of leg.txs) gas += evmGasCharge(tx);
      if (gas > gasLimit)
        return refuse(
          'BUNDLE_TOO_LARGE',
          `namespace ${leg.namespace}'s transactions declare ${gas} gas; the rollup's block gas limit is ${gasLimit}`,
        );
    }
  }
  if (b.atomicity === 'execution' && opaqueLeg !== undefined)
    return refuse(
      'ATOMICITY_UNSUPPORTED',
      `atomicity "execution" needs every leg on an executed rollup; namespace ${opaqueLeg} is opaque (use "inclusion")`,
    );
  if (checkPayload !== undefined)
    for (const leg of b.legs) {
      if (rollups.get(leg.namespace)!.kind === 'opaque') continue;
      for (const [j, tx] of leg.txs.entries()) {
        const problem = checkPayload(leg.namespace, tx);
        if (problem !== undefined)
          return refuse('INVALID_TX', `namespace ${leg.namespace} tx ${j}: ${problem}`);
      }
    }

  // Reverting hashes name transactions of their own leg (the rollup's own hash).
  const txs: TxEnvelope[] = [];
  const txKeys: string[] = [];
  const reverting = new Set<number>();
  const seen = new Set<string>();
  for (const leg of b.legs) {
    const own = leg.txs.map((tx) => rollupTxHash(leg.namespace, tx));
    for (const h of leg.revertingTxHashes) {
      const at = own.findIndex((x) => bytesEqual(x, h));
      if (at < 0)
        return refuse(
          'REVERTING_HASH_UNKNOWN',
          `revertingTxHashes of namespace ${leg.namespace} names 0x${Buffer.from(h).toString('hex')}, not a transaction of that leg`,
        );
      reverting.add(txs.length + at);
    }
    for (const payload of leg.txs) {
      const tx: TxEnvelope = { namespace: leg.namespace, payload };
      const k = latin1Key(txHash(tx));
      if (seen.has(k))
        return refuse('BUNDLE_MALFORMED', `namespace ${leg.namespace} holds the same transaction twice`);
      seen.add(k);
      txs.push(tx);
      txKeys.push(k);
    }
  }

  const hash = bundleHash(chainId, b);
  if (b.signer.byteLength !== 0 && !verifySignature(b.signer, bundleSignBytes(hash), b.signature))
    return refuse('BAD_SIGNATURE', 'the signature does not verify against signer over the bundle hash', hash);
  return {
    ok: true,
    checked: {
      hash,
      key: latin1Key(hash),
      bundle: b,
      txs,
      txKeys,
      atomicity: atomicityCode(b.atomicity),
      reverting,
      bytes,
    },
  };
}
