/**
 * Fuzzing of the JSON-RPC params (issue 25): random and near-valid params at every `ordo_*` and `eth_*`
 * method through the real handlers and dispatch (targets in ./rpc-targets.ts, in process, no network).
 * Fixed seeds, so a failure replays; FUZZ_RUNS raises the count, `npm run fuzz` runs for a time budget.
 * Every case is bounded by fast-check's per-case timeout (a hang fails the property).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  expectRpcAnswer,
  nearValidParams,
  openRpcHarness,
  type RpcFuzzHarness,
  randomParams,
} from './rpc-targets.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = Number(process.env.FUZZ_SEED ?? 20261205);

let h: RpcFuzzHarness;
beforeAll(async () => {
  h = await openRpcHarness();
});
afterAll(async () => {
  await h?.close();
});

/** Params the fuzzer once crashed a handler with (answered -32603), replayed first. */
const REGRESSIONS: [surface: string, method: string, params: unknown][] = [
  // gas × maxFeePerGas over 2^256-1: ethereumjs threw an untyped Error from createTx.
  ['eth', 'eth_call', [{ maxFeePerGas: `0x56${'00'.repeat(31)}` }]],
  ['eth', 'eth_estimateGas', [{ gasPrice: `0x56${'00'.repeat(28)}` }]],
];

describe('fuzz: JSON-RPC regressions', () => {
  it('replays the params that once crashed a handler', async () => {
    for (const [surface, m, p] of REGRESSIONS) {
      const s = h.surfaces.find((x) => x.name === surface)!;
      expectRpcAnswer(await s.call(m, p), s.codes, `${m} ${JSON.stringify(p)}`);
    }
  });
});

describe('fuzz: JSON-RPC methods answer a result or a documented error, whatever the params', () => {
  for (const surface of ['ordo', 'eth'] as const) {
    for (const [kind, params, seed] of [
      ['random', randomParams, SEED + 10],
      ['near-valid', nearValidParams, SEED + 11],
    ] as const) {
      it(`${surface}_* methods, ${kind} params`, async () => {
        const s = h.surfaces.find((x) => x.name === surface)!;
        await fc.assert(
          fc.asyncProperty(fc.constantFrom(...s.methods), params, async (m, p) => {
            expectRpcAnswer(await s.call(m, p), s.codes, `${m} ${JSON.stringify(p)?.slice(0, 200)}`);
          }),
          { seed, numRuns: RUNS, timeout: 10_000 },
        );
      }, 120_000);
    }
  }
});
