/**
 * secp256k1 public-key recovery for Ethereum signatures through libsecp256k1 (the library geth uses)
 * compiled to WebAssembly by `tiny-secp256k1`, plugged into ethereumjs as
 * `Common.customCrypto.ecrecover` (ADR 0115). It replaces `@ethereumjs/util`'s `ecrecover` (pure-JS
 * `@noble/curves`), which was the largest single CPU cost of an EVM transaction: recovery runs once at
 * Ethereum admission and once in the executor's workers for every transaction, and in the ECRECOVER
 * precompile (0x01). Same contract as util's: v → recovery id (0/1, 27/28 or EIP-155 with chainId),
 * r and s left-padded to 32 bytes, returns the 64-byte uncompressed public key without its 0x04 prefix,
 * throws on anything that does not recover. The high-s rule for transactions stays ethereumjs' own check
 * (it runs before this); the precompile accepts high s, as libsecp256k1's recovery does.
 */
import { recover } from 'tiny-secp256k1';

function word(b: Uint8Array): Uint8Array {
  if (b.byteLength === 32) return b;
  const out = new Uint8Array(32);
  // As util's setLengthLeft: shorter inputs are left-padded, longer ones keep their last 32 bytes.
  if (b.byteLength < 32) out.set(b, 32 - b.byteLength);
  else out.set(b.subarray(b.byteLength - 32));
  return out;
}

export function ecrecover(
  msgHash: Uint8Array,
  v: bigint,
  r: Uint8Array,
  s: Uint8Array,
  chainId?: bigint,
): Uint8Array {
  const recovery = v === 0n || v === 1n ? v : chainId === undefined ? v - 27n : v - (chainId * 2n + 35n);
  if (recovery !== 0n && recovery !== 1n) throw new Error('Invalid signature v value');
  const sig = new Uint8Array(64);
  sig.set(word(r), 0);
  sig.set(word(s), 32);
  // tiny-secp256k1 throws on r or s of zero or ≥ n and on an r that is no x coordinate; null when the
  // point does not recover.
  const pub = recover(msgHash, sig, Number(recovery) as 0 | 1, false);
  if (pub === null) throw new Error('Invalid signature: no public key recovers');
  return pub.slice(1);
}

/** ethereumjs' `customCrypto` option for every Common of an EVM rollup (executor and Ethereum RPC). */
export const evmCustomCrypto = { ecrecover };
