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
 *
 * It also gives the connection's length-prefix decoder a length reader that does not throw (ADR 0302).
 * `@libp2p/utils`'s LengthPrefixedDecoder learns that fewer than two bytes are buffered only from its
 * length reader throwing a RangeError, and the package's `uint16BEDecode` does exactly that at the end
 * of every received chunk that held whole messages: an Error with its stack captured per socket read
 * (1.4 % of a node's main thread at 5,000 tx/s), plus a `subarray` and a DataView per length read. The
 * replacement reads the two bytes in place and, with fewer than two, answers 65,535 (Noise's largest
 * message): the decoder then sees that the message is not all there and waits for more, as after the
 * throw. Real lengths are 0–65,535, so no message is mistaken for another.
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
  decoder?: { lengthDecoder?: (data: LengthSource) => number };
}

/** What a length is read from: a chunk, or a list of chunks (any version of Uint8ArrayList). */
type LengthSource = Uint8Array | { readonly byteLength: number; get(index: number): number };

/**
 * The 2-byte big-endian length of the next Noise message, read in place; NOISE_MSG_MAX_BYTES when
 * fewer than two bytes are buffered (the decoder then waits for more, without an exception).
 */
export function noiseLengthOrWait(data: LengthSource): number {
  if (data.byteLength < 2) return NOISE_MSG_MAX_BYTES;
  if (data instanceof Uint8Array) return (data[0]! << 8) | data[1]!;
  return (data.get(0) << 8) | data.get(1);
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
  if (typeof c.decoder === 'object' && c.decoder !== null && typeof c.decoder.lengthDecoder === 'function') {
    c.decoder.lengthDecoder = noiseLengthOrWait;
  }
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
