import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CounterRollup, type CounterState, replay } from '../../../examples/counter-rollup/rollup.ts';
import { type AdapterServer, startAdapterServer } from '../../../src/rollup-adapter/server.ts';
import { MemorySource } from '../../../src/rollup-adapter/testing/memory-source.ts';

const enc = new TextEncoder();
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function getState(port: number): Promise<CounterState> {
  const res = await fetch(`http://127.0.0.1:${port}/state`);
  expect(res.status).toBe(200);
  return (await res.json()) as CounterState;
}

async function waitForHeight(r: CounterRollup, h: number): Promise<void> {
  for (let i = 0; i < 400 && r.state.height < h; i++) {
    if (r.error !== undefined) throw r.error;
    await new Promise((res) => setTimeout(res, 10));
  }
  expect(r.state.height).toBe(h);
}

describe('example counter rollup', () => {
  it('reaches the state of a direct replay across restarts of itself and of the node', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'counter-rollup-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const src = new MemorySource();
    const keys = ['a', 'b', 'c'];
    let n = 0;
    const produce = (count: number): void => {
      for (let i = 0; i < count; i++) {
        const h = src.height() + 1;
        const txs = [];
        if (h % 4 !== 0) {
          for (let j = 0; j < 3; j++) {
            n++;
            txs.push({
              namespace: 1,
              payload: enc.encode(JSON.stringify({ key: keys[n % 3], add: (n % 7) - 2 })),
            });
          }
        }
        if (h % 5 === 0) txs.push({ namespace: 1, payload: enc.encode('not json') });
        txs.push({ namespace: 2, payload: enc.encode(JSON.stringify({ key: 'a', add: 1000 })) });
        src.produceBlock(txs);
      }
    };
    let server: AdapterServer = await startAdapterServer({ source: src });
    cleanups.push(() => server.close());
    const port = server.port;
    const opts = {
      endpoints: [`127.0.0.1:${port}`],
      namespace: 1,
      chainId: src.chainId,
      validators: src.validators,
      dataDir: dir,
    };
    produce(15);
    let rollup = new CounterRollup(opts);
    cleanups.push(() => rollup.stop());
    let http = await rollup.start();
    await waitForHeight(rollup, 15);
    expect((await getState(http)).height).toBe(15);

    // Restart the rollup: it resumes from its saved height.
    await rollup.stop();
    produce(10);
    rollup = new CounterRollup(opts);
    http = await rollup.start();
    await waitForHeight(rollup, 25);

    // Restart the node it reads from (same port) while blocks keep coming.
    await server.close();
    produce(10);
    server = await startAdapterServer({ source: src, port });
    await waitForHeight(rollup, 35);
    produce(5);
    await waitForHeight(rollup, 40);

    const payloads: Uint8Array[] = [];
    for (let h = 1; h <= src.height(); h++) {
      const cb = await src.getCertifiedBlock(h);
      for (const tx of cb!.block.txs) if (tx.namespace === 1) payloads.push(tx.payload);
    }
    const expected = replay(payloads);
    const got = await getState(http);
    expect(got.counters).toEqual(expected.counters);
    expect(got.stateHash).toBe(expected.stateHash);
    expect(got.applied).toBe(expected.applied);
    expect(got.rejected).toBe(expected.rejected);
    expect(got.rejected).toBe(8);
    expect((await fetch(`http://127.0.0.1:${http}/nope`)).status).toBe(404);
  });
});

describe('example counter rollup as a process', () => {
  it('runs from main.ts with a config file, stops on SIGTERM and resumes from its saved height', async () => {
    const { spawn } = await import('node:child_process');
    const { writeFile } = await import('node:fs/promises');
    const { toHex } = await import('../../../src/crypto/hash.ts');
    const dir = await mkdtemp(join(tmpdir(), 'counter-proc-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const src = new MemorySource();
    const server = await startAdapterServer({ source: src });
    cleanups.push(() => server.close());
    const put = (k: number): void => {
      for (let i = 0; i < k; i++)
        src.produceBlock([{ namespace: 1, payload: enc.encode(JSON.stringify({ key: 'x', add: 2 })) }]);
    };
    put(5);
    const cfg = join(dir, 'config.json');
    await writeFile(
      cfg,
      JSON.stringify({
        endpoints: [`127.0.0.1:${server.port}`],
        namespace: 1,
        chainId: src.chainId,
        validators: src.validators.map((v) => ({
          publicKey: toHex(v.publicKey),
          votingPower: v.votingPower,
        })),
        dataDir: join(dir, 'data'),
        httpPort: 0,
      }),
    );
    const run = async (expectHeight: number): Promise<CounterState> => {
      const child = spawn(process.execPath, ['examples/counter-rollup/main.ts', cfg], {
        env: { ...process.env, LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      cleanups.push(() => child.kill('SIGKILL'));
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
      });
      let url: string | undefined;
      let st: CounterState | undefined;
      for (let i = 0; i < 300; i++) {
        url ??=
          /"state":"(http:\/\/127\.0\.0\.1:\d+\/state)"/.exec(out)?.[1] ?? /"url":"([^"]+)"/.exec(out)?.[1];
        if (url !== undefined) {
          st = (await (await fetch(url)).json()) as CounterState;
          if (st.height >= expectHeight) break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      return st!;
    };
    expect((await run(5)).counters).toEqual({ x: 10 });
    put(3);
    const st = await run(8);
    expect(st.height).toBe(8);
    expect(st.counters).toEqual({ x: 16 });
  });
});
