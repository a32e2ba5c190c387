/**
 * Flashbots-style bundles on an EVM rollup's Ethereum RPC (issue #24 item 5, docs/eth-rpc.md "Bundles"):
 * `eth_sendBundle {txs, blockNumber, minTimestamp?, maxTimestamp?, revertingTxHashes?, replacementUuid?}`
 * becomes a single-leg Ordo bundle for this rollup, with the rollup block number mapped to the Ordo height
 * (one rollup block per height: minHeight = maxHeight = blockNumber) and the default atomicity
 * `execution`. The answer is Flashbots' `bundleHash` (keccak256 of the concatenated keccak tx hashes); a
 * bounded map remembers the Ordo bundle hash behind it. Flashbots' `eth_cancelBundle` and
 * `replacementUuid` carry no signature, and Ordo replaces or cancels only signed bundles (ADR 0123), so
 * both are refused with a clear error pointing to `ordo_sendBundle` / `ordo_cancelBundle`.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { unsignedBundle } from '../codec/index.ts';
import type { BundleSubmitResult } from '../ingress/index.ts';
import { bundleRpcError, invalidParams, RPC, RpcError } from '../rpc/index.ts';
import type { Bundle } from '../types.ts';
import { arity, data, parseData, parseHash32, parseObject, parseQuantity } from './params.ts';

const MAX_TXS = 100;
const MAX_BYTES = 300_000;
const MAX_REMEMBERED = 10_000;

export interface EthBundleDeps {
  namespace: number;
  maxTxBytes: number;
  submitBundle: (b: Bundle) => BundleSubmitResult;
}

export class EthBundles {
  readonly #d: EthBundleDeps;
  /** Flashbots bundle hash (hex) → Ordo bundle hash, oldest first, bounded. */
  readonly #ordoHash = new Map<string, Uint8Array>();

  constructor(d: EthBundleDeps) {
    this.#d = d;
  }

  /** The Ordo bundle hash behind a Flashbots bundle hash this node answered (for ordo_getBundleStatus). */
  ordoHashOf(flashbotsHash: string): Uint8Array | undefined {
    return this.#ordoHash.get(flashbotsHash.toLowerCase());
  }

  sendBundle(params: unknown[]): { bundleHash: string } {
    arity(params, 1, 1, '[{txs, blockNumber, minTimestamp?, maxTimestamp?, revertingTxHashes?}]');
    const p = parseObject(params[0], 'bundle');
    if (p.replacementUuid !== undefined)
      throw invalidParams(
        'replacementUuid is not supported on eth_sendBundle: Ordo replaces only signed bundles; use ordo_sendBundle with signer and signature (docs/eth-rpc.md)',
      );
    if (!Array.isArray(p.txs) || p.txs.length === 0) throw invalidParams('txs must be a non-empty array');
    if (p.txs.length > MAX_TXS)
      throw invalidParams(`txs has ${p.txs.length} entries; the limit is ${MAX_TXS}`);
    let bytes = 0;
    const txs = p.txs.map((t: unknown, i: number) => {
      const b = parseData(t, `txs[${i}]`, this.#d.maxTxBytes);
      if (b.length === 0) throw invalidParams(`txs[${i}] is empty`);
      bytes += b.length;
      if (bytes > MAX_BYTES) throw invalidParams(`bundle is over ${MAX_BYTES} bytes`);
      return b;
    });
    const block = Number(parseQuantity(p.blockNumber, 'blockNumber', 0xffff_ffff_ffffn));
    if (block === 0) throw invalidParams('blockNumber must be at least 1');
    for (const k of ['minTimestamp', 'maxTimestamp'] as const)
      if (
        p[k] !== undefined &&
        (typeof p[k] !== 'number' || !Number.isSafeInteger(p[k]) || (p[k] as number) < 0)
      )
        throw invalidParams(`${k} must be a non-negative integer (seconds)`);
    const rev = p.revertingTxHashes ?? [];
    if (!Array.isArray(rev) || rev.length > txs.length)
      throw invalidParams(`revertingTxHashes must be an array of at most ${txs.length} hashes`);
    const revertingTxHashes = rev.map((h: unknown, i: number) => parseHash32(h, `revertingTxHashes[${i}]`));
    const bundle = unsignedBundle([{ namespace: this.#d.namespace, txs, revertingTxHashes }], {
      minHeight: block,
      maxHeight: block,
    });
    const r = this.#d.submitBundle(bundle);
    const fb = data(flashbotsBundleHash(txs));
    // The same bundle again (a searcher resending it) gets the same answer, as from Flashbots' relay.
    if (!r.ok && r.code === 'DUPLICATE') return { bundleHash: fb };
    if (!r.ok) throw bundleRpcError(r);
    this.#ordoHash.delete(fb);
    this.#ordoHash.set(fb, r.bundleHash);
    if (this.#ordoHash.size > MAX_REMEMBERED) this.#ordoHash.delete(this.#ordoHash.keys().next().value!);
    return { bundleHash: fb };
  }

  cancelBundle(): never {
    throw new RpcError(
      RPC.INVALID_PARAMS,
      'invalid params: eth_cancelBundle is unsigned and Ordo cancels only signed bundles; use ordo_cancelBundle (docs/eth-rpc.md)',
      { code: 'BAD_SIGNATURE' },
    );
  }
}

/** Flashbots' bundle hash: keccak256 of the concatenated keccak256 hashes of the raw transactions. */
export function flashbotsBundleHash(txs: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(32 * txs.length);
  txs.forEach((t, i) => {
    all.set(keccak_256(t), 32 * i);
  });
  return keccak_256(all);
}
