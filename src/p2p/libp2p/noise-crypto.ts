/**
 * The cipher implementation handed to `@chainsafe/libp2p-noise` (its `crypto` option). Every Noise
 * transport frame is one ChaCha20-Poly1305 seal or open with the session key. The package's default
 * passes the raw 32-byte key to `createCipheriv` for every frame, and Node imports that key afresh on
 * each call: ~21 µs per 200-byte frame against ~5 µs with a `KeyObject` made once (measured on this
 * machine, Node 24; ADR 0064). Here the KeyObject is made once per session key and reused.
 *
 * Small frames (< 512 bytes) go to the WebAssembly implementation the package itself uses for small
 * payloads (faster below that size than the native call's fixed cost); larger ones to OpenSSL. The
 * handshake functions (X25519, HKDF) are the package's own pure-JS ones: they run a few times per
 * connection. The output is byte-for-byte what any other Noise implementation produces (tested against
 * the package's pure-JS crypto).
 */
import { createCipheriv, createDecipheriv, createHash, createSecretKey, type KeyObject } from 'node:crypto';
import { ChaCha20Poly1305, newInstance } from '@chainsafe/as-chacha20poly1305';
import { type ICryptoInterface, pureJsCrypto } from '@chainsafe/libp2p-noise';
import { Uint8ArrayList } from 'uint8arraylist';

const ALGO = 'chacha20-poly1305';
const TAG = 16;
/** Below this many bytes the WebAssembly seal/open is faster than one native cipher call. */
export const SMALL_FRAME_BYTES = 512;

const wasm = new ChaCha20Poly1305(newInstance());

/**
 * Session key → KeyObject. Keyed by the key array the Noise cipher state holds for the whole session;
 * the bytes are kept and compared too, so a key array changed in place can never reuse a stale key.
 */
const keys = new WeakMap<Uint8Array, { bytes: Buffer; key: KeyObject }>();

function keyObject(k: Uint8Array): KeyObject {
  const hit = keys.get(k);
  if (hit?.bytes.equals(k)) return hit.key;
  const bytes = Buffer.from(k);
  const key = createSecretKey(bytes);
  keys.set(k, { bytes, key });
  return key;
}

function contiguous(data: Uint8Array | Uint8ArrayList): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray();
}

function seal(
  plaintext: Uint8Array | Uint8ArrayList,
  nonce: Uint8Array,
  ad: Uint8Array,
  k: Uint8Array,
): Uint8Array | Uint8ArrayList {
  if (plaintext.byteLength < SMALL_FRAME_BYTES) return wasm.seal(k, nonce, contiguous(plaintext), ad);
  const cipher = createCipheriv(ALGO, keyObject(k), nonce, { authTagLength: TAG });
  cipher.setAAD(ad, { plaintextLength: plaintext.byteLength });
  if (plaintext instanceof Uint8Array) {
    const body = cipher.update(plaintext);
    const final = cipher.final();
    const tag = cipher.getAuthTag();
    return Buffer.concat([body, final, tag], body.byteLength + final.byteLength + tag.byteLength);
  }
  const out = new Uint8ArrayList();
  for (const part of plaintext) out.append(cipher.update(part));
  const final = cipher.final();
  if (final.byteLength > 0) out.append(final);
  out.append(cipher.getAuthTag());
  return out;
}

function open(
  ciphertext: Uint8Array | Uint8ArrayList,
  nonce: Uint8Array,
  ad: Uint8Array,
  k: Uint8Array,
  dst?: Uint8Array,
): Uint8Array | Uint8ArrayList {
  if (ciphertext.byteLength < TAG) throw new Error('chacha20-poly1305: ciphertext shorter than its tag');
  if (ciphertext.byteLength < SMALL_FRAME_BYTES) {
    const plain = wasm.open(k, nonce, contiguous(ciphertext), ad, dst);
    if (plain === null || plain === undefined) throw new Error('chacha20-poly1305: authentication failed');
    return plain;
  }
  const bodyLen = ciphertext.byteLength - TAG;
  const decipher = createDecipheriv(ALGO, keyObject(k), nonce, { authTagLength: TAG });
  decipher.setAAD(ad, { plaintextLength: bodyLen });
  decipher.setAuthTag(ciphertext.subarray(bodyLen));
  if (ciphertext instanceof Uint8Array) {
    const body = decipher.update(ciphertext.subarray(0, bodyLen));
    const final = decipher.final();
    return final.byteLength > 0 ? Buffer.concat([body, final]) : body;
  }
  const out = new Uint8ArrayList();
  for (const part of ciphertext.sublist(0, bodyLen)) out.append(decipher.update(part));
  const final = decipher.final();
  if (final.byteLength > 0) out.append(final);
  return out;
}

export const noiseCrypto: ICryptoInterface = {
  ...pureJsCrypto,
  hashSHA256(data) {
    const h = createHash('sha256');
    if (data instanceof Uint8Array) return h.update(data).digest();
    for (const part of data) h.update(part);
    return h.digest();
  },
  chaCha20Poly1305Encrypt: seal,
  chaCha20Poly1305Decrypt: open,
};
