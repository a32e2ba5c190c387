import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeConsensusMessage } from '../../../src/codec/codec.ts';
import { blockHash } from '../../../src/codec/hashing.ts';
import { verifyCertificate } from '../../../src/consensus/certificate.ts';
import { FileBlockStore } from '../../../src/consensus/testing/file-store.ts';
import { makeValidatorSet } from '../../../src/consensus/validators.ts';
import { Wal } from '../../../src/consensus/wal.ts';
import { publicKeyFromSeed } from '../../../src/crypto/ed25519.ts';
import { toHex } from '../../../src/crypto/hash.ts';

const CHILD = join(import.meta.dirname, 'fixtures', 'wal-child.ts');
let child: ChildProcess | null = null;
let dir = '';

afterEach(() => {
  if (child !== null && child.exitCode === null) child.kill('SIGKILL');
  child = null;
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

function published(): number {
  const f = join(dir, 'published.log');
  return existsSync(f)
    ? readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => l.endsWith('.')).length
    : 0;
}

/** Start the child, let it publish `moreLines` messages (bounded wait), wait `afterMs`, SIGKILL it. */
async function runAndKill(moreLines: number, afterMs: number): Promise<void> {
  const before = published();
  const c = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  child = c;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('child did not start')), 15_000);
    c.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('started')) {
        clearTimeout(t);
        resolve();
      }
    });
    c.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
  for (let i = 0; i < 1000 && published() < before + moreLines; i++)
    await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, afterMs));
  const exited = new Promise((r) => c.on('exit', r));
  c.kill('SIGKILL');
  await exited;
  child = null;
}

describe('crash safety under kill -9', () => {
  it('never publishes two different messages for one height/round/type and keeps a valid chain', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ordo-kill-'));
    for (const [lines, ms] of [
      [3, 0],
      [5, 7],
      [1, 2],
      [8, 13],
      [2, 1],
      [6, 5],
    ] as const) {
      await runAndKill(lines, ms);
    }
    expect(existsSync(join(dir, 'cs.wal'))).toBe(true);
    // The WAL opens (a torn tail is truncated, never a hard error after kill -9).
    Wal.open(join(dir, 'cs.wal')).wal.close();

    const signed = new Map<string, string>();
    const records = readFileSync(join(dir, 'published.log'), 'utf8')
      .split('\n')
      .filter((l) => l.length > 0);
    // Complete records end with '.'; a record the kill cut short (its message never sent) does not, at
    // most one per run.
    const lines = records.filter((l) => l.endsWith('.')).map((l) => l.slice(0, -1));
    expect(records.length - lines.length).toBeLessThanOrEqual(6);
    expect(lines.length).toBeGreaterThan(10);
    for (const l of lines) {
      const m = decodeConsensusMessage(new Uint8Array(Buffer.from(l, 'hex')));
      const k =
        m.kind === 'proposal'
          ? `proposal/${m.proposal.height}/${m.proposal.round}`
          : `${m.vote.type}/${m.vote.height}/${m.vote.round}`;
      const v =
        m.kind === 'proposal'
          ? toHex(blockHash(m.proposal.block))
          : m.vote.blockHash === null
            ? ''
            : toHex(m.vote.blockHash);
      const prev = signed.get(k);
      if (prev !== undefined) expect(prev, `conflicting ${k}`).toBe(v);
      signed.set(k, v);
    }

    const store = new FileBlockStore(join(dir, 'blocks.log'));
    await store.open();
    const set = makeValidatorSet([
      { publicKey: publicKeyFromSeed(new Uint8Array(32).fill(7)), votingPower: 1 },
    ]);
    expect(store.height()).toBeGreaterThan(3);
    for (let h = 1; h <= store.height(); h++) {
      const b = (await store.getBlock(h))!;
      verifyCertificate((await store.getCertificate(h))!, set, 'ordo-kill', blockHash(b));
      if (h > 1) expect(toHex(b.header.parentHash)).toBe(toHex(blockHash((await store.getBlock(h - 1))!)));
    }
    await store.close();
  }, 60_000);
});
