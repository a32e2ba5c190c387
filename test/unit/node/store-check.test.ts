import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { OrdoError } from '../../../src/errors.ts';
import { checkStore } from '../../../src/node/store-check.ts';
import { openStore } from '../../../src/store/index.ts';
import { certKey } from '../../../src/store/keys.ts';
import { makeChain } from '../store/helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('node start-up store check', () => {
  it('passes on an intact store and refuses a damaged one naming the directory, the heights and the command', async () => {
    const home = mkdtempSync(join(tmpdir(), 'ordo-store-check-'));
    dirs.push(home);
    const path = join(home, 'data', 'db');
    const store = await openStore({ path, sync: false });
    for (const f of makeChain('chk', 9, 1)) await store.commitBlock(f.block, f.cert);
    const log = pino({ level: 'silent' });
    await checkStore(store, home, log);
    await store.writeBatch([{ key: certKey(6), value: undefined }]);
    let err: OrdoError | undefined;
    try {
      await checkStore(store, home, log);
    } catch (e) {
      err = e as OrdoError;
    }
    expect(err?.code).toBe('STORE_CORRUPT');
    expect(err?.message).toContain(path);
    expect(err?.message).toContain('1 of 9 heights (6)');
    expect(err?.message).toContain(`ordo store verify --home ${home}`);
    await store.close();
  });
});
