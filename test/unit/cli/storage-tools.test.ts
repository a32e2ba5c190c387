/**
 * `ordo wal inspect|repair` and `ordo store verify` on a node home (stdout/stderr captured).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { Wal, type WalEntry } from '../../../src/consensus/wal.ts';
import { openStore } from '../../../src/store/index.ts';
import { blockKey } from '../../../src/store/keys.ts';
import { makeChain } from '../store/helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function home(): string {
  const d = mkdtempSync(join(tmpdir(), 'ordo-cli-storage-'));
  dirs.push(d);
  mkdirSync(join(d, 'data', 'wal'), { recursive: true });
  return d;
}

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  const code = await main(argv);
  vi.restoreAllMocks();
  return { code, out, err };
}

const timeout = (round: number): WalEntry => ({
  type: 'input',
  input: { kind: 'timeout', timeout: { step: 'prevote', height: 7, round }, nowMs: 1000 + round },
});

describe('ordo wal', () => {
  it('inspect reports mid-file damage (exit 3) and repair cuts there, keeping a backup; then the log opens', async () => {
    const h = home();
    const path = join(h, 'data', 'wal', 'cs.wal');
    const { wal } = Wal.open(path);
    const offsets: number[] = [];
    for (let r = 0; r < 4; r++) {
      offsets.push(wal.size);
      wal.append(timeout(r));
    }
    wal.close();
    const b = readFileSync(path);
    b.writeUInt32BE(0xfffffff0, offsets[1]!);
    writeFileSync(path, b);
    expect(() => Wal.open(path)).toThrow(/ordo wal repair/);

    const inspect = await run(['wal', 'inspect', '--home', h]);
    expect(inspect.code).toBe(3);
    expect(inspect.out).toContain(`damage at byte offset ${offsets[1]}`);
    expect(inspect.out).toContain('height 7: 1 records');

    const repair = await run(['wal', 'repair', '--home', h]);
    expect(repair.code).toBe(0);
    expect(repair.out).toMatch(/original is kept at .*cs\.wal\.corrupt-\d+/);
    expect(readdirSync(join(h, 'data', 'wal')).some((f) => f.startsWith('cs.wal.corrupt-'))).toBe(true);
    const back = Wal.open(path);
    back.wal.close();
    expect(back.entries).toEqual([timeout(0)]);
    expect((await run(['wal', 'inspect', '--home', h])).out).toContain('no damage');
  });

  it('usage errors exit 2', async () => {
    expect((await run(['wal', 'fix', '--home', '/x'])).code).toBe(2);
    expect((await run(['wal', 'inspect'])).code).toBe(2);
  });
});

describe('ordo store verify', () => {
  it('exit 0 on an intact store, 3 with the damaged heights otherwise', async () => {
    const h = home();
    const path = join(h, 'data', 'db');
    const store = await openStore({ path, sync: false });
    for (const f of makeChain('cli', 12, 2)) await store.commitBlock(f.block, f.cert);
    await store.close();
    const ok = await run(['store', 'verify', '--home', h]);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('is intact: 12 heights');
    expect(ok.err).toContain('verify blocks: height 12/12');

    const s2 = await openStore({ path, sync: false });
    await s2.writeBatch([
      { key: blockKey(4), value: undefined },
      { key: blockKey(5), value: new Uint8Array([1, 2, 3, 4, 5]) },
    ]);
    await s2.close();
    const bad = await run(['store', 'verify', '--home', h]);
    expect(bad.code).toBe(3);
    expect(bad.out).toContain('DAMAGED: 2 of 12 heights: 4-5');
    expect(bad.out).toContain('height 4: block missing');
    expect(bad.out).toContain('height 5: block fails its checksum');
    const json = await run(['store', 'verify', '--home', h, '--quick', '--json']);
    expect(JSON.parse(json.out)).toMatchObject({ ok: false, damagedHeights: [4, 5], deep: false });
  });
});
