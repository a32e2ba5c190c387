/**
 * The node's p2p identity: an Ed25519 libp2p private key persisted in the node's home (protobuf-encoded,
 * file mode 0600). Loaded when present, generated and written atomically when missing, so a node keeps
 * its peer id across restarts and bootstrap lists stay valid.
 */
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { OrdoError } from '../../errors.ts';

const MAX_KEY_FILE_BYTES = 16 * 1024;

export async function loadOrCreateIdentity(path: string): Promise<PrivateKey> {
  let bytes: Uint8Array | undefined;
  try {
    const st = await stat(path);
    if (st.size > MAX_KEY_FILE_BYTES) {
      throw new OrdoError(
        'P2P_IDENTITY_INVALID',
        `p2p identity key file ${path} is ${st.size} bytes; too large`,
      );
    }
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (bytes !== undefined) {
    let key: PrivateKey;
    try {
      key = privateKeyFromProtobuf(bytes);
    } catch (err) {
      throw new OrdoError(
        'P2P_IDENTITY_INVALID',
        `p2p identity key file ${path} is not a valid libp2p private key`,
        { path },
        { cause: err },
      );
    }
    // Tighten permissions left loose by hand edits or copies.
    if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
    return key;
  }
  const key = await generateKeyPair('Ed25519');
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, privateKeyToProtobuf(key), { mode: 0o600 });
  await rename(tmp, path);
  return key;
}
