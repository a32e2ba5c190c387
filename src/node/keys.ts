/**
 * Validator key files. A key file is JSON `{type: "ed25519", publicKey: hex, privateKey: hex seed}`,
 * written with mode 0600. Loading checks existence, permissions, JSON shape, lengths and that the
 * public key matches the seed; any problem stops start-up with an error naming the file and the problem.
 */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  bytesEqual,
  Ed25519Signer,
  fromHex,
  generateKeyPair,
  publicKeyFromSeed,
  toHex,
} from '../crypto/index.ts';
import { OrdoError } from '../errors.ts';

export type KeyErrorCode = 'KEY_MISSING' | 'KEY_UNREADABLE' | 'KEY_MALFORMED' | 'KEY_INSECURE' | 'KEY_EXISTS';

export class KeyError extends OrdoError<KeyErrorCode> {
  constructor(code: KeyErrorCode, message: string, file: string) {
    super(code, message, { file });
    this.name = 'KeyError';
  }
}

export interface KeyFile {
  type: 'ed25519';
  publicKey: string;
  privateKey: string;
}

export function writeKeyFile(
  file: string,
  seed?: Uint8Array,
  opts: { overwrite?: boolean } = {},
): Ed25519Signer {
  if (!opts.overwrite && existsSync(file))
    throw new KeyError('KEY_EXISTS', `key file ${file} already exists; refusing to overwrite`, file);
  const s = seed ?? generateKeyPair().seed;
  const body: KeyFile = { type: 'ed25519', publicKey: toHex(publicKeyFromSeed(s)), privateKey: toHex(s) };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return new Ed25519Signer(s);
}

export function loadKeyFile(file: string): Ed25519Signer {
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new Error('not a regular file');
    if ((st.mode & 0o077) !== 0) {
      throw new KeyError(
        'KEY_INSECURE',
        `validator key file ${file} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${file}`,
        file,
      );
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof KeyError) throw err;
    if ((err as { code?: unknown }).code === 'ENOENT')
      throw new KeyError('KEY_MISSING', `validator key file ${file} does not exist (run "ordo init")`, file);
    throw new KeyError(
      'KEY_UNREADABLE',
      `cannot read validator key file ${file}: ${(err as Error).message}${ownerHint(file, err)}`,
      file,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KeyError('KEY_MALFORMED', `validator key file ${file} is not valid JSON`, file);
  }
  const k = json as Partial<KeyFile>;
  if (k === null || typeof k !== 'object' || k.type !== 'ed25519') {
    throw new KeyError('KEY_MALFORMED', `validator key file ${file}: "type" must be "ed25519"`, file);
  }
  if (typeof k.privateKey !== 'string' || !/^[0-9a-fA-F]{64}$/.test(k.privateKey)) {
    throw new KeyError(
      'KEY_MALFORMED',
      `validator key file ${file}: "privateKey" must be 64 hex characters`,
      file,
    );
  }
  if (typeof k.publicKey !== 'string' || !/^[0-9a-fA-F]{64}$/.test(k.publicKey)) {
    throw new KeyError(
      'KEY_MALFORMED',
      `validator key file ${file}: "publicKey" must be 64 hex characters`,
      file,
    );
  }
  const signer = new Ed25519Signer(fromHex(k.privateKey));
  if (!bytesEqual(signer.publicKey, fromHex(k.publicKey))) {
    throw new KeyError(
      'KEY_MALFORMED',
      `validator key file ${file}: "publicKey" does not match "privateKey"`,
      file,
    );
  }
  return signer;
}

/**
 * For an EACCES on `file`: whose it is and what to run; '' otherwise. A key file is 0600 and a home 0700,
 * so only their owner can read them: when another uid wrote them (a home made on the host
 * and mounted into the container image, which runs as uid 1000), say whose it is and what to run.
 */
export function ownerHint(file: string, err: unknown): string {
  if ((err as { code?: unknown }).code !== 'EACCES' || typeof process.getuid !== 'function') return '';
  // The file itself, or the nearest directory above it this process can see (homes are mode 0700).
  let path = file;
  for (let i = 0; i < 16; i++) {
    try {
      const owner = statSync(path).uid;
      const me = process.getuid();
      if (owner === me) return '';
      const fix = path === file ? dirname(file) : path;
      return `; it belongs to uid ${owner} but this process runs as uid ${me}: chown -R ${me} ${fix} (or run as uid ${owner})`;
    } catch {
      if (dirname(path) === path) return '';
      path = dirname(path);
    }
  }
  return '';
}
