/**
 * The p2p identity key file: created with mode 0600 when missing, reused when present, refused with a
 * typed error when corrupt (never silently replaced, which would change the node's peer id).
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateIdentity } from '../../../src/p2p/libp2p/identity.ts';

let dir = '';
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('loadOrCreateIdentity', () => {
  it('creates, reuses, and refuses a corrupt key file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordo-id-'));
    const path = join(dir, 'nested', 'p2p.key');
    const k1 = await loadOrCreateIdentity(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const k2 = await loadOrCreateIdentity(path);
    expect(k2.equals(k1)).toBe(true);
    const bad = join(dir, 'bad.key');
    await writeFile(bad, 'garbage', { mode: 0o644 });
    await expect(loadOrCreateIdentity(bad)).rejects.toMatchObject({ code: 'P2P_IDENTITY_INVALID' });
  });
});
