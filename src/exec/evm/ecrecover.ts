/**
 * secp256k1 public-key recovery for Ethereum signatures through libsecp256k1 (the library geth uses),
 * plugged into ethereumjs as `Common.customCrypto.ecrecover` (ADR 0115, ADR 0235). It replaces
 * `@ethereumjs/util`'s `ecrecover` (pure-JS `@noble/curves`), which was the largest single CPU cost of an
 * EVM transaction: recovery runs once at Ethereum and bundle admission and once in the executor's
 * workers for every transaction, and in the ECRECOVER precompile (0x01).
 *
 * Two builds of the same C library: the native addon of the `secp256k1` package (its prebuilt binary for
 * the platform, loaded through node-gyp-build; ~4.5x faster per recovery than WebAssembly) and, where no
 * binary loads, `tiny-secp256k1`'s WebAssembly build. Both run libsecp256k1's own parse and recovery, so
 * nodes with either accept and refuse the same signatures (test/unit/exec/ecrecover.test.ts checks them
 * against each other and against noble). `ecrecoverBackend()` says which one this thread uses.
 *
 * Threads (ADR 0331): the addon is built with C++ exceptions and its object's finalizer throws while a
 * worker thread is torn down by `worker.terminate()`; a C++ exception escaping a finalizer ends the whole
 * process (`terminate called after throwing an instance of 'Napi::Error'`). So the addon loads on the main
 * thread, and in a worker thread only after that thread called `allowNativeSecp256k1()`: a promise that it
 * is only ever stopped by exiting itself (the executor's workers, exec/worker.ts). Every other worker
 * (Ethereum call workers, which are terminated when a call overruns its bound) recovers through the
 * WebAssembly build: same library, same answers.
 *
 * Same contract as util's: v → recovery id (0/1, 27/28 or EIP-155 with chainId), r and s left-padded to
 * 32 bytes, returns the 64-byte uncompressed public key without its 0x04 prefix, throws on anything that
 * does not recover. The high-s rule for transactions stays ethereumjs' own check (it runs before this);
 * the precompile accepts high s, as libsecp256k1's recovery does.
 */
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { recover } from 'tiny-secp256k1';

function word(b: Uint8Array): Uint8Array {
  if (b.byteLength === 32) return b;
  const out = new Uint8Array(32);
  // As util's setLengthLeft: shorter inputs are left-padded, longer ones keep their last 32 bytes.
  if (b.byteLength < 32) out.set(b, 32 - b.byteLength);
  else out.set(b.subarray(b.byteLength - 32));
  return out;
}

/** Recovers the 65-byte uncompressed key of a 64-byte compact signature, or null/throws when none. */
export type RecoverRaw = (msgHash: Uint8Array, sig: Uint8Array, recovery: 0 | 1) => Uint8Array | null;

/** tiny-secp256k1 (WebAssembly): throws on r or s of zero or ≥ n and on an r that is no x coordinate;
 * null when the point does not recover. */
export const recoverWasm: RecoverRaw = (msgHash, sig, recovery) => recover(msgHash, sig, recovery, false);

interface NativeSecp256k1 {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array;
  ecdsaSign(msg32: Uint8Array, seckey: Uint8Array): { signature: Uint8Array; recid: number };
}

/** The native addon, or undefined where its binary does not load (no prebuilt for the platform). */
function loadNative(): NativeSecp256k1 | undefined {
  if (process.env.ORDO_SECP256K1 === 'wasm') return undefined;
  try {
    return createRequire(import.meta.url)('secp256k1/bindings.js') as NativeSecp256k1;
  } catch {
    return undefined;
  }
}

/** Whether this thread may load the addon: the main thread, or a worker that promised to exit itself. */
let nativeAllowed = isMainThread;
/** The addon once this thread tried to load it (null: it does not load), undefined before. */
let loaded: NativeSecp256k1 | null | undefined = isMainThread ? (loadNative() ?? null) : undefined;

/** The addon where this thread may use it and it loads; resolved on first use in a worker. */
function native(): NativeSecp256k1 | undefined {
  if (loaded === undefined) {
    if (!nativeAllowed) return undefined;
    loaded = loadNative() ?? null;
  }
  return loaded ?? undefined;
}

/**
 * Lets this worker thread load the native addon (ADR 0331). Call it only from a worker that is never
 * stopped with `worker.terminate()` while it runs, only by exiting itself (`process.exit`, or its event
 * loop ending): a terminated thread that loaded the addon can abort the whole process.
 */
export function allowNativeSecp256k1(): void {
  nativeAllowed = true;
}

/** The addon's recovery; it throws on a signature that does not parse (r or s zero or ≥ n) or recover. */
function recoverWith(addon: NativeSecp256k1): RecoverRaw {
  return (msgHash, sig, recovery) => addon.ecdsaRecover(sig, recovery, msgHash, false);
}

/** The native addon's recovery where it loaded at import (the main thread), undefined elsewhere. */
export const recoverNative: RecoverRaw | undefined = loaded ? recoverWith(loaded) : undefined;

type NobleSign = typeof secp256k1.sign;

/**
 * ethereumjs' `customCrypto.ecsign` for clients that sign many transactions (the load generator): the
 * native addon's RFC 6979 signature with low s, which is byte for byte the one `@noble/curves` makes
 * (test/unit/exec/ecrecover.test.ts), at a small fraction of its CPU. It answers only what ethereumjs
 * asks when signing a transaction (a 32-byte hash, the "recovered" format, no extra entropy); anything
 * else, and every call where the addon does not load, goes to noble.
 */
export const ecsign: NobleSign = (msgHash, secretKey, opts) => {
  const addon = native();
  if (
    addon === undefined ||
    opts?.format !== 'recovered' ||
    opts.prehash !== false ||
    (opts.extraEntropy !== undefined && opts.extraEntropy !== false)
  )
    return secp256k1.sign(msgHash, secretKey, opts);
  const { signature, recid } = addon.ecdsaSign(msgHash, secretKey);
  const out = new Uint8Array(65);
  out[0] = recid;
  out.set(signature, 1);
  return out;
};

/**
 * Which libsecp256k1 build this thread recovers with now: 'native' or 'wasm' (ORDO_SECP256K1=wasm forces
 * it; worker threads that did not call `allowNativeSecp256k1` use 'wasm').
 */
export function ecrecoverBackend(): 'native' | 'wasm' {
  return native() === undefined ? 'wasm' : 'native';
}

const recoverRaw: RecoverRaw = (msgHash, sig, recovery) => {
  const addon = native();
  return addon === undefined
    ? recoverWasm(msgHash, sig, recovery)
    : addon.ecdsaRecover(sig, recovery, msgHash, false);
};

export function ecrecover(
  msgHash: Uint8Array,
  v: bigint,
  r: Uint8Array,
  s: Uint8Array,
  chainId?: bigint,
): Uint8Array {
  return ecrecoverWith(recoverRaw, msgHash, v, r, s, chainId);
}

/** `ecrecover` through a given build (tests compare the two). */
export function ecrecoverWith(
  raw: RecoverRaw,
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
  const pub = raw(msgHash, sig, Number(recovery) as 0 | 1);
  if (pub === null) throw new Error('Invalid signature: no public key recovers');
  return pub.slice(1);
}

/** ethereumjs' `customCrypto` option for every Common of an EVM rollup (executor and Ethereum RPC). */
export const evmCustomCrypto = { ecrecover };

/** The same for a client that also signs (the load generator): native signing where the addon loads. */
export const evmSigningCrypto = { ecrecover, ecsign };
