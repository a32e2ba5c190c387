/**
 * Noise reads without a copy of each large message (ADR 0272).
 *
 * `@chainsafe/libp2p-noise` decrypts each received Noise message with a destination for the plaintext
 * (`dst`): the message's own bytes, taken with `Uint8ArrayList.subarray`. A message that arrived in
 * several socket reads — every large transaction batch or block part — is a list of chunks, and that
 * `subarray` concatenates them into a new buffer (in the 5,000 tx/s profile ~4 % of a node's main
 * thread, allocation and copy). Only the WebAssembly open that noise-crypto.ts uses for small messages
 * writes into `dst`; the native open of larger ones reads the chunks in place and returns its own
 * output, so the copy was made and dropped.
 *
 * `leanNoiseReads(conn)` replaces the `decrypt` of a Noise connection with the library's loop, passing
 * `dst` only where it is used (a small message, or one already contiguous, where it is a view). The
 * plaintext, the errors and the package's metrics are the same.
 */
import { Uint8ArrayList } from 'uint8arraylist';
import { SMALL_FRAME_BYTES } from './noise-crypto.ts';

/** Noise's largest message, tag included (the library's NOISE_MSG_MAX_LENGTH_BYTES). */
const NOISE_MSG_MAX_BYTES = 65_535;
const TAG = 16;

type Bytes = Uint8Array | Uint8ArrayList;

/** What this module needs of a Noise connection (`@chainsafe/libp2p-noise`'s class is not exported). */
interface DecryptingConnLike {
  handshake?: { decrypt?: (ciphertext: Bytes, dst?: Uint8Array) => Bytes };
  metrics?: { decryptedPackets?: { increment(): void }; decryptErrors?: { increment(): void } };
  decrypt?: (chunk: Bytes) => Uint8ArrayList;
}

const patched = new WeakSet<object>();

/**
 * Make `conn` (a Noise connection as `secureInbound`/`secureOutbound` return it) open large received
 * messages without copying them together first. Anything without `decrypt` and a handshake with
 * `decrypt` is left as it is; calling it twice is harmless.
 */
export function leanNoiseReads(conn: unknown): void {
  if (typeof conn !== 'object' || conn === null || patched.has(conn)) return;
  const c = conn as DecryptingConnLike;
  const hs = c.handshake;
  if (typeof c.decrypt !== 'function' || typeof hs?.decrypt !== 'function') return;
  patched.add(conn);
  const open = hs.decrypt.bind(hs);
  c.decrypt = (chunk: Bytes): Uint8ArrayList => {
    const output = new Uint8ArrayList();
    for (let i = 0; i < chunk.byteLength; i += NOISE_MSG_MAX_BYTES) {
      const end = Math.min(i + NOISE_MSG_MAX_BYTES, chunk.byteLength);
      if (end - TAG < i) throw new Error('Invalid chunk');
      let plaintext: Bytes;
      try {
        if (chunk instanceof Uint8Array) {
          plaintext = open(chunk.subarray(i, end), chunk.subarray(i, end - TAG));
        } else if (end - i < SMALL_FRAME_BYTES) {
          plaintext = open(chunk.sublist(i, end), chunk.subarray(i, end - TAG));
        } else {
          plaintext = open(chunk.sublist(i, end));
        }
        c.metrics?.decryptedPackets?.increment();
      } catch (err) {
        c.metrics?.decryptErrors?.increment();
        throw err;
      }
      output.append(plaintext);
    }
    return output;
  };
}
