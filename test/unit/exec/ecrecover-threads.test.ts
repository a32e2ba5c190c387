/**
 * Which threads may load the native secp256k1 addon (ADR 0331). A worker thread that loaded it and is then
 * terminated can abort the whole process (the addon's finalizer throws a C++ `Napi::Error` during the
 * teardown), so only the main thread and workers that opted in (they promise to exit by themselves) load it;
 * every other worker recovers through the WebAssembly build with the same answers.
 */
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';

const ecrecoverUrl = new URL('../../../src/exec/evm/ecrecover.ts', import.meta.url).href;

/** Worker source: imports ecrecover.ts (opting in first when asked), recovers one key, reports. */
function probe(optIn: boolean): string {
  return `
    const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      const m = await import(${JSON.stringify(ecrecoverUrl)});
      if (${optIn}) m.allowNativeSecp256k1();
      const { h, r, s, v } = workerData;
      const key = Buffer.from(m.ecrecover(h, BigInt(v), r, s)).toString('hex');
      const loaded = Object.keys(require.cache).some((k) => k.includes('secp256k1/bindings'));
      parentPort.postMessage({ backend: m.ecrecoverBackend(), loaded, key });
    })();
  `;
}

function signature() {
  const sk = new Uint8Array(32).fill(9);
  const h = new Uint8Array(32).fill(4);
  const sig = secp256k1.sign(h, sk, { prehash: false, format: 'recovered' });
  const key = Buffer.from(secp256k1.getPublicKey(sk, false).subarray(1)).toString('hex');
  return { h, v: 27 + sig[0]!, r: sig.slice(1, 33), s: sig.slice(33, 65), key };
}

async function runProbe(optIn: boolean) {
  const { key, ...data } = signature();
  // The probe ends by itself after answering: never terminated (an opted-in one must not be).
  const w = new Worker(probe(optIn), { eval: true, workerData: data });
  const exited = new Promise((resolve) => w.once('exit', resolve));
  const m = await new Promise<{ backend: string; loaded: boolean; key: string }>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await exited;
  return { ...m, expected: key };
}

describe('native secp256k1 only in threads that are never terminated (ADR 0331)', () => {
  it('a worker that did not opt in recovers through WebAssembly and never loads the addon', async () => {
    const r = await runProbe(false);
    expect(r.backend).toBe('wasm');
    expect(r.loaded).toBe(false);
    expect(r.key).toBe(r.expected);
  });

  it('a worker that opted in uses the addon where it loads, with the same answer', async () => {
    const r = await runProbe(true);
    if (process.platform === 'linux' && process.arch === 'x64' && process.env.ORDO_SECP256K1 !== 'wasm') {
      expect(r.backend).toBe('native');
      expect(r.loaded).toBe(true);
    }
    expect(r.key).toBe(r.expected);
  });

  it('terminating workers that recover senders never aborts the process', () => {
    // In a child process, so an abort fails this test instead of the test runner's fork. Before ADR 0331
    // about one terminated worker in 50-150 ended the process with `terminate called after throwing an
    // instance of 'Napi::Error'`.
    const script = `
      import { Worker } from 'node:worker_threads';
      const code = ${JSON.stringify(probe(false))};
      const { h, v, r, s } = JSON.parse(process.argv[1], (k, x) => (Array.isArray(x) ? Uint8Array.from(x) : x));
      for (let round = 0; round < 15; round++) {
        const ws = Array.from({ length: 4 }, () => new Worker(code, { eval: true, execArgv: [], workerData: { h, v, r, s } }));
        await Promise.all(ws.map((w) => new Promise((ok) => w.once('message', ok))));
        await Promise.all(ws.map((w) => w.terminate()));
      }
      console.log('survived');
    `;
    const { key: _key, ...data } = signature();
    const arg = JSON.stringify(data, (_k, x) => (x instanceof Uint8Array ? [...x] : x));
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, arg], {
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(child.stderr).not.toContain('Napi::Error');
    expect({ status: child.status, signal: child.signal, stdout: child.stdout.trim() }).toEqual({
      status: 0,
      signal: null,
      stdout: 'survived',
    });
  }, 300_000);
});
