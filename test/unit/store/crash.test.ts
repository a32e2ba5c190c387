/**
 * Crash atomicity, for both engines: a real child process commits blocks in a loop (durable mode) and is
 * killed with SIGKILL at a random moment. On reopen every block up to height() must be complete (block,
 * certificate, hash, every tx index entry, the extra write of its batch) and nothing of height()+1 may
 * exist. Every block the child reported as committed must still be there.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeBlock, encodeCertificate } from '../../../src/codec/codec.ts';
import { txHash } from '../../../src/codec/hashing.ts';
import { ZERO_HASH } from '../../../src/crypto/hash.ts';
import { type EngineName, openStore } from '../../../src/store/index.ts';
import { blockKey, certKey, hashKey, txKey } from '../../../src/store/keys.ts';
import { crashExtraKey, crashTxCount, makeBlock } from './helpers.ts';

const WRITER = join(import.meta.dirname, 'fixtures', 'crash-writer.ts');
const MAX_BLOCKS = 400;
const ROUNDS = 2;

interface Run {
  lastReported: number;
  exit: { code: number | null; signal: NodeJS.Signals | null };
}

const children = new Set<ChildProcess>();

/** Start the writer, kill it with SIGKILL once it has committed `killAfter` blocks plus a random delay. */
function runAndKill(engine: EngineName, path: string, seed: string, killAfter: number, delayMs: number) {
  return new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, engine, path, seed, String(MAX_BLOCKS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let lastReported = 0;
    let killScheduled = false;
    let buf = '';
    let stderr = '';
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^committed (\d+)$/.exec(line);
        if (m) lastReported = Number(m[1]);
        if (m && !killScheduled && lastReported >= killAfter) {
          killScheduled = true;
          setTimeout(() => child.kill('SIGKILL'), delayMs);
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      children.delete(child);
      if (code !== null && code !== 0) reject(new Error(`writer exited with ${code}: ${stderr}`));
      else resolve({ lastReported, exit: { code, signal } });
    });
  });
}

afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});

describe.each(['leveldb', 'lmdb'] as EngineName[])('crash atomicity (%s)', (engine) => {
  it('leaves only whole blocks after SIGKILL at a random moment', async () => {
    const dir = mkdtempSync(join(tmpdir(), `ordo-crash-${engine}-`));
    const path = join(dir, 'db');
    const seed = `crash-${engine}`;
    try {
      let verifiedUpTo = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const killAfter = verifiedUpTo + 1 + Math.floor(Math.random() * 10);
        const run = await runAndKill(engine, path, seed, killAfter, Math.floor(Math.random() * 25));
        const store = await openStore({ path, engine, sync: true });
        try {
          const height = store.height();
          expect(run.exit.signal).toBe('SIGKILL');
          expect(height).toBeGreaterThanOrEqual(run.lastReported);
          let parent: Uint8Array = ZERO_HASH;
          for (let h = 1; h <= height + 1; h++) {
            const f = makeBlock(seed, h, parent, crashTxCount(h));
            const extra = await store.readKey(store.subKey('crash', crashExtraKey(h)), 'extra');
            if (h <= height) {
              const block = await store.getBlock(h);
              expect(block && encodeBlock(block)).toEqual(encodeBlock(f.block));
              const cert = await store.getCertificate(h);
              expect(cert && encodeCertificate(cert)).toEqual(encodeCertificate(f.cert));
              expect(await store.getBlockHash(h)).toEqual(f.hash);
              for (let i = 0; i < f.block.txs.length; i++) {
                expect(await store.getTxLocation(txHash(f.block.txs[i]!))).toEqual({ height: h, index: i });
              }
              expect(extra).toEqual(f.hash);
            } else {
              // Nothing of the first uncommitted block may exist, read raw below the store's height check.
              expect(await store.readKey(blockKey(h), 'block')).toBeUndefined();
              expect(await store.readKey(certKey(h), 'cert')).toBeUndefined();
              expect(await store.readKey(hashKey(h), 'hash')).toBeUndefined();
              for (const tx of f.block.txs)
                expect(await store.readKey(txKey(txHash(tx)), 'tx')).toBeUndefined();
              expect(extra).toBeUndefined();
            }
            parent = f.hash;
          }
          verifiedUpTo = height;
        } finally {
          await store.close();
        }
      }
      expect(verifiedUpTo).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
