/**
 * ed25519 through node:crypto (OpenSSL): strict RFC 8032 verification, the one signature rule every
 * Ordo node applies (facts.md: noble follows ZIP-215, which would let nodes disagree). KeyObjects are
 * cached so hot-path verification does not re-parse keys.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';

export const PUBLIC_KEY_LEN = 32;
export const SEED_LEN = 32;
export const SIGNATURE_LEN = 64;

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface Ed25519KeyPair {
  /** 32-byte seed (the RFC 8032 private key). */
  seed: Uint8Array;
  publicKey: Uint8Array;
}

export function generateKeyPair(): Ed25519KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pk8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return {
    seed: new Uint8Array(pk8.subarray(pk8.length - SEED_LEN)),
    publicKey: new Uint8Array(spki.subarray(spki.length - PUBLIC_KEY_LEN)),
  };
}

export function privateKeyObject(seed: Uint8Array): KeyObject {
  if (seed.byteLength !== SEED_LEN) throw new Error(`ed25519 seed must be ${SEED_LEN} bytes`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function publicKeyFromSeed(seed: Uint8Array): Uint8Array {
  const spki = createPublicKey(privateKeyObject(seed)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(spki.length - PUBLIC_KEY_LEN));
}

const pubCache = new Map<string, KeyObject>();
const PUB_CACHE_MAX = 10_000;

function publicKeyObject(pub: Uint8Array): KeyObject {
  const k = Buffer.from(pub.buffer, pub.byteOffset, pub.byteLength).toString('base64');
  let ko = pubCache.get(k);
  if (ko === undefined) {
    ko = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pub]), format: 'der', type: 'spki' });
    if (pubCache.size >= PUB_CACHE_MAX) pubCache.clear();
    pubCache.set(k, ko);
  }
  return ko;
}

/** A signer holding a parsed private key; create once per key. */
export class Ed25519Signer {
  readonly publicKey: Uint8Array;
  readonly #key: KeyObject;

  constructor(seed: Uint8Array) {
    this.#key = privateKeyObject(seed);
    this.publicKey = publicKeyFromSeed(seed);
  }

  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, message, this.#key));
  }
}

/** Verify an ed25519 signature; returns false (never throws) for malformed keys or signatures. */
export function verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.byteLength !== PUBLIC_KEY_LEN || signature.byteLength !== SIGNATURE_LEN) return false;
  try {
    return verify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}
