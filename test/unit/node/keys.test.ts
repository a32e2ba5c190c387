import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../../src/crypto/ed25519.ts';
import { KeyError, loadKeyFile, writeKeyFile } from '../../../src/node/keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordo-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keyError(fn: () => unknown): KeyError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KeyError);
    return err as KeyError;
  }
  throw new Error('expected a KeyError');
}

describe('validator key files', () => {
  it('writes mode 0600 and loads a working signer', () => {
    const f = join(dir, 'k1.json');
    const s = writeKeyFile(f);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    const loaded = loadKeyFile(f);
    const msg = new TextEncoder().encode('hello');
    expect(verifySignature(s.publicKey, msg, loaded.sign(msg))).toBe(true);
    expect(keyError(() => writeKeyFile(f)).code).toBe('KEY_EXISTS');
  });

  it('names the file and the problem', () => {
    const missing = keyError(() => loadKeyFile(join(dir, 'none.json')));
    expect(missing.code).toBe('KEY_MISSING');
    expect(missing.message).toContain('none.json');

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, 'not json', { mode: 0o600 });
    expect(keyError(() => loadKeyFile(bad)).code).toBe('KEY_MALFORMED');

    const short = join(dir, 'short.json');
    writeFileSync(short, JSON.stringify({ type: 'ed25519', publicKey: 'aa', privateKey: 'bb' }), {
      mode: 0o600,
    });
    expect(keyError(() => loadKeyFile(short)).message).toMatch(/short\.json: "privateKey" must be 64 hex/);

    const f = join(dir, 'k2.json');
    writeKeyFile(f);
    const k = JSON.parse(readFileSync(f, 'utf8'));
    writeFileSync(f, JSON.stringify({ ...k, publicKey: 'cd'.repeat(32) }), { mode: 0o600 });
    expect(keyError(() => loadKeyFile(f)).message).toMatch(/does not match/);

    const open = join(dir, 'open.json');
    writeKeyFile(open);
    chmodSync(open, 0o644);
    expect(keyError(() => loadKeyFile(open)).code).toBe('KEY_INSECURE');
  });
});
