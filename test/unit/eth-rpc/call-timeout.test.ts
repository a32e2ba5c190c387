/**
 * The wall-clock bound as the Ethereum methods apply it (ADR 0288), with a stand-in simulator: eth_call
 * passes the simulator's CallTimeoutError on (the pool bounds each call, test/unit/eth-rpc/call-pool.test.ts),
 * eth_estimateGas has one budget for the whole request (every simulation gets the same deadline; past
 * it none starts), and a timeout inside the binary search ends the estimate instead of reading as "fails
 * at this gas". Each request answered the timeout is counted once, by method.
 */
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createTx } from '@ethereumjs/tx';
import { describe, expect, it } from 'vitest';
import type { BundleSimulate } from '../../../src/eth-rpc/call-bundle.ts';
import type { Simulator } from '../../../src/eth-rpc/call-pool.ts';
import { CallTimeoutError, sharedClock } from '../../../src/eth-rpc/call-timeout.ts';
import { RollupRpc } from '../../../src/eth-rpc/methods.ts';
import type { SimResult } from '../../../src/eth-rpc/state.ts';
import { RPC, RpcError } from '../../../src/rpc/index.ts';

const common = createCustomCommon({ chainId: 900_001 }, Mainnet, { hardfork: Hardfork.Prague });
const to = `0x${'07'.repeat(20)}`;

type Sim = Parameters<Simulator['simulate']>;

/** A RollupRpc whose calls go to `simulate`; only what eth_call and eth_estimateGas touch is real. */
function methods(
  simulate: (...a: Sim) => Promise<SimResult>,
  callTimeoutMs: number,
  simulateBundle?: BundleSimulate,
) {
  const counted: string[] = [];
  const rpc = new RollupRpc({
    namespace: 3,
    chainId: 900_001n,
    common,
    baseFee: 1_000_000_000n,
    feeRecipient: `0x${'00'.repeat(20)}`,
    chain: { head: () => 5, onBlock: () => () => {} } as never,
    state: {} as never,
    simulator: { simulate },
    callTimeoutMs,
    onCallTimeout: (m) => counted.push(m),
    mempool: {} as never,
    admission: {} as never,
    submit: () => {
      throw new Error('not used');
    },
    maxTxBytes: 100_000,
    blockGasLimit: 30_000_000n,
    clientVersion: 'test',
    ...(simulateBundle !== undefined ? { simulateBundle } : {}),
  });
  const m = rpc.methods();
  const call = (method: string, params: unknown[]) =>
    Promise.resolve()
      .then(() => m.get(method)!(params, {}))
      .then(
        (r) => r,
        (e: unknown) => e,
      );
  return { call, counted };
}

const ok = (gasUsed: bigint): SimResult => ({ ok: true, returnValue: new Uint8Array(0), gasUsed });
const outOfGas: SimResult = { ok: false, returnValue: new Uint8Array(0), gasUsed: 0n, error: 'out of gas' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the wall-clock bound in eth_call / eth_estimateGas (ADR 0288)', () => {
  it("eth_callBundle: a leg's timeout on its call worker is the answer, counted (ADR 0305)", async () => {
    const raw = createTx(
      {
        type: 2,
        nonce: 0n,
        gasLimit: 100_000n,
        maxFeePerGas: 2_000_000_000n,
        maxPriorityFeePerGas: 1n,
        to: to as `0x${string}`,
      },
      { common },
    )
      .sign(new Uint8Array(32).fill(7))
      .serialize();
    const { call, counted } = methods(
      () => Promise.reject(new Error('not used')),
      5_000,
      () => Promise.reject(new CallTimeoutError(5_000)),
    );
    const err = await call('eth_callBundle', [
      { txs: [`0x${Buffer.from(raw).toString('hex')}`], blockNumber: '0x1' },
    ]);
    expect(err).toBeInstanceOf(CallTimeoutError);
    expect(err).toMatchObject({ code: -32000, message: 'execution aborted (timeout = 5s)' });
    expect(counted).toEqual(['eth_callBundle']);
  });

  it("eth_call: the simulator's timeout is the answer, counted; no deadline is passed for a call", async () => {
    const opts: Sim[5][] = [];
    const { call, counted } = methods(async (...a) => {
      opts.push(a[5]);
      throw new CallTimeoutError(5_000);
    }, 5_000);
    const err = await call('eth_call', [{ to }]);
    expect(err).toBeInstanceOf(CallTimeoutError);
    expect(err).toMatchObject({ code: -32000, message: 'execution aborted (timeout = 5s)' });
    expect(counted).toEqual(['eth_call']);
    expect(opts[0]?.deadline).toBeUndefined();
  });

  it('eth_estimateGas: one budget per request; past it no simulation starts and the answer is the timeout', async () => {
    const starts: number[] = [];
    const deadlines: (number | undefined)[] = [];
    const before = sharedClock();
    const { call, counted } = methods(async (_req, _o, gas, _n, _t, o) => {
      starts.push(sharedClock());
      deadlines.push(o?.deadline);
      if (starts.length === 1) return ok(21_000n); // the run at the cap
      // Every step of the binary search takes at least 60 ms: ~25 of them need 1.5 s, past 300 ms.
      await sleep(60);
      return gas >= 1_000_000n ? ok(21_000n) : outOfGas;
    }, 300);
    const err = await call('eth_estimateGas', [{ to }]);
    expect(err).toBeInstanceOf(CallTimeoutError);
    expect(err).toMatchObject({ code: -32000, message: 'execution aborted (timeout = 300ms)' });
    expect(counted).toEqual(['eth_estimateGas']);
    // Every simulation was given the request's deadline, and none started past it.
    const deadline = deadlines[0]!;
    expect(deadline).toBeGreaterThanOrEqual(before + 300);
    expect(deadlines.every((d) => d === deadline)).toBe(true);
    expect(starts.every((s) => s < deadline)).toBe(true);
    expect(starts.length).toBeLessThan(20);
  });

  it("eth_estimateGas: a simulation stopped at the bound ends the estimate, not read as 'fails at this gas'", async () => {
    let n = 0;
    const { call, counted } = methods(async () => {
      n++;
      if (n === 2) throw new CallTimeoutError(5_000);
      return ok(50_000n);
    }, 5_000);
    expect(await call('eth_estimateGas', [{ to }])).toBeInstanceOf(CallTimeoutError);
    expect(n).toBe(2);
    expect(counted).toEqual(['eth_estimateGas']);
  });

  it("eth_estimateGas: an overloaded simulator's -32003 is the answer, not 'fails at this gas' (a too-high estimate)", async () => {
    let n = 0;
    const { call } = methods(async () => {
      n++;
      if (n === 2) throw new RpcError(RPC.OVERLOADED, 'too many queued simulations', { retryable: true });
      return ok(50_000n);
    }, 0);
    expect(await call('eth_estimateGas', [{ to }])).toMatchObject({ code: -32003 });
    expect(n).toBe(2);
  });

  it('with the bound off (0) no deadline is set and an estimate runs to its end', async () => {
    const deadlines: (number | undefined)[] = [];
    const { call, counted } = methods(async (_req, _o, gas, _n, _t, o) => {
      deadlines.push(o?.deadline);
      return gas >= 50_000n ? ok(50_000n) : outOfGas;
    }, 0);
    expect(await call('eth_estimateGas', [{ to }])).toBe('0xc350');
    expect(deadlines.every((d) => d === undefined)).toBe(true);
    expect(counted).toEqual([]);
  });
});
