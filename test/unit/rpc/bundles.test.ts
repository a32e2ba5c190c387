import { describe, expect, it } from 'vitest';
import { demoRollups, type Genesis } from '../../../src/config/index.ts';
import { OrdoError } from '../../../src/errors.ts';
import type { BundleSimulator, BundleStatus, BundleStatusView } from '../../../src/mempool/index.ts';
import { registerBundleMethods } from '../../../src/rpc/bundles.ts';
import { RpcError } from '../../../src/rpc/index.ts';
import type { Bundle } from '../../../src/types.ts';

const genesis = { rollups: demoRollups() } as unknown as Genesis;
type Handler = (params: unknown[]) => unknown;

function setup(
  refuse?: { code: string; retryable?: boolean },
  maxTxBytes = 1000,
  simulate?: BundleSimulator['simulate'],
) {
  const handlers = new Map<string, Handler>();
  const submitted: Bundle[] = [];
  const cancels: unknown[] = [];
  const statuses = new Map<string, BundleStatus>();
  const view: BundleStatusView = {
    status: (h) => statuses.get(Buffer.from(h).toString('hex')),
    subscribe: () => () => {},
  };
  const ingress = {
    maxTxBytes,
    submitBundle: (b: Bundle) => {
      submitted.push(b);
      return refuse
        ? {
            ok: false as const,
            code: refuse.code as 'DUPLICATE',
            message: `refused: ${refuse.code}`,
            retryable: refuse.retryable ?? false,
          }
        : { ok: true as const, bundleHash: new Uint8Array(32).fill(7) };
    },
    cancelBundle: (r: unknown) => {
      cancels.push(r);
      return refuse
        ? {
            ok: false as const,
            code: refuse.code as 'UNKNOWN_BUNDLE',
            message: `refused: ${refuse.code}`,
            retryable: false,
          }
        : { ok: true as const, cancelled: [new Uint8Array(32).fill(1)] };
    },
  };
  registerBundleMethods({ register: (m: string, h: Handler) => handlers.set(m, h) } as never, {
    genesis,
    ingress,
    bundles: view,
    simulator: {
      simulate:
        simulate ??
        (async (b, opts) => ({
          applies: false,
          reason: 'leg 2 tx 0 reverted',
          height: opts?.height ?? 4,
          legs: b.legs.map((l) => ({
            namespace: l.namespace,
            executed: true,
            txs: [
              {
                hash: new Uint8Array(32).fill(2),
                status: 'revert' as const,
                gasUsed: 5n,
                returnData: new Uint8Array([1]),
              },
            ],
            stateRoot: new Uint8Array(32).fill(3),
          })),
        })),
    },
  });
  const call = (m: string, params: unknown[]) => handlers.get(m)!(params);
  return { call, submitted, cancels, statuses };
}

function rpcErr(f: () => unknown): RpcError {
  try {
    f();
  } catch (e) {
    if (e instanceof RpcError) return e;
    throw e;
  }
  throw new Error('expected an RpcError');
}

const uuid = '0f8fad5b-d9cb-469f-a165-70867728950e';
const key = `0x${'ab'.repeat(32)}`;
const sig = `0x${'cd'.repeat(64)}`;

describe('ordo_sendBundle', () => {
  it('builds a canonical bundle with default atomicity from the rollup kinds', () => {
    const { call, submitted } = setup();
    const r = call('ordo_sendBundle', [
      {
        legs: [
          { namespace: 3, txs: ['0x01'] },
          { namespace: 2, txs: ['0x0203'], revertingTxHashes: [`0x${'11'.repeat(32)}`] },
        ],
      },
    ]);
    expect(r).toEqual({ bundleHash: `0x${'07'.repeat(32)}` });
    expect(submitted[0]!.legs.map((l) => l.namespace)).toEqual([2, 3]);
    expect(submitted[0]!.atomicity).toBe('execution');
    expect(submitted[0]!.legs[0]!.revertingTxHashes).toHaveLength(1);
  });

  it('defaults to inclusion with an opaque leg and passes signer, uuid and window', () => {
    const { call, submitted } = setup();
    call('ordo_sendBundle', [
      {
        legs: [
          { namespace: 1, txs: ['0x01'] },
          { namespace: 2, txs: ['0x02'] },
        ],
        replacementUuid: uuid,
        signer: key,
        signature: sig,
        minHeight: 5,
        maxHeight: 9,
      },
    ]);
    const b = submitted[0]!;
    expect(b.atomicity).toBe('inclusion');
    expect(b.replacementUuid).toHaveLength(16);
    expect(b.signer).toHaveLength(32);
    expect([b.minHeight, b.maxHeight]).toEqual([5, 9]);
  });

  it.each([
    [[], 'expected'],
    [[{ legs: [] }], 'legs must be a non-empty array'],
    [[{ legs: [{ namespace: 0, txs: ['0x01'] }] }], 'legs[0].namespace'],
    [[{ legs: [{ namespace: 2, txs: [] }] }], 'legs[0].txs must be a non-empty array'],
    [[{ legs: [{ namespace: 2, txs: ['0xzz'] }] }], 'legs[0].txs[0] must be a 0x-prefixed hex'],
    [
      [
        {
          legs: [
            { namespace: 2, txs: ['0x01'] },
            { namespace: 2, txs: ['0x02'] },
          ],
        },
      ],
      'appears in two legs',
    ],
    [
      [{ legs: [{ namespace: 2, txs: ['0x01'], revertingTxHashes: ['0x12'] }] }],
      'revertingTxHashes[0] must be 32 bytes',
    ],
    [[{ legs: [{ namespace: 2, txs: ['0x01'] }], atomicity: 'all' }], 'atomicity'],
    [[{ legs: [{ namespace: 2, txs: ['0x01'] }], maxHeight: -1 }], 'maxHeight'],
    [
      [{ legs: [{ namespace: 2, txs: ['0x01'] }], replacementUuid: 'nope' }],
      'replacementUuid must be a UUID',
    ],
    [
      [{ legs: [{ namespace: 2, txs: ['0x01'] }], replacementUuid: uuid }],
      'replacementUuid needs a signed bundle',
    ],
    [
      [{ legs: [{ namespace: 2, txs: ['0x01'] }], signer: '0x01', signature: sig }],
      'signer must be 32 bytes',
    ],
    [
      [{ legs: [{ namespace: 2, txs: ['0x01'] }], signer: key, signature: '0x01' }],
      'signature must be 64 bytes',
    ],
    [[{ legs: [{ namespace: 2, txs: Array(101).fill('0x01') }] }], 'more than 100 transactions'],
    [[{ legs: [{ namespace: 2, txs: [`0x${'00'.repeat(1001)}`] }] }], 'the limit is 1000'],
    [
      [
        {
          legs: Array.from({ length: 400 }, (_, i) => ({ namespace: i + 1, txs: [`0x${'00'.repeat(999)}`] })),
        },
      ],
      'legs has 400 entries',
    ],
  ])('refuses bad params %j with -32602 naming the field', (params, msg) => {
    const { call, submitted } = setup();
    const e = rpcErr(() => call('ordo_sendBundle', params));
    expect(e.code).toBe(-32602);
    expect(e.message).toContain(msg);
    expect(submitted).toHaveLength(0);
  });

  it('refuses over 300,000 bytes in total', () => {
    const { call, submitted } = setup(undefined, 128 * 1024);
    const big = `0x${'00'.repeat(100_000)}`;
    const e = rpcErr(() =>
      call('ordo_sendBundle', [{ legs: [{ namespace: 2, txs: [big, big, big, '0x01'] }] }]),
    );
    expect(e.code).toBe(-32602);
    expect(e.data).toMatchObject({ code: 'BUNDLE_TOO_LARGE' });
    expect(submitted).toHaveLength(0);
  });

  it.each([
    ['UNKNOWN_NAMESPACE', -32602, false],
    ['BUNDLE_MALFORMED', -32602, false],
    ['BUNDLE_TOO_LARGE', -32602, false],
    ['ATOMICITY_UNSUPPORTED', -32602, false],
    ['BAD_SIGNATURE', -32001, false],
    ['WINDOW_PASSED', -32001, false],
    ['DUPLICATE', -32001, false],
    ['REPLACEMENT_FORBIDDEN', -32001, false],
    ['BUNDLE_POOL_FULL', -32002, true],
    ['OVERLOADED', -32003, true],
  ])('maps the pool refusal %s to %i with data.code', (code, rpcCode, retryable) => {
    const { call } = setup({ code, retryable });
    const e = rpcErr(() => call('ordo_sendBundle', [{ legs: [{ namespace: 2, txs: ['0x01'] }] }]));
    expect(e.code).toBe(rpcCode);
    expect(e.data).toMatchObject({ code, retryable });
  });
});

describe('ordo_cancelBundle', () => {
  it('passes a signed cancel to the ingress', () => {
    const { call, cancels } = setup();
    expect(call('ordo_cancelBundle', [{ replacementUuid: uuid, signer: key, signature: sig }])).toEqual({
      cancelled: [`0x${'01'.repeat(32)}`],
    });
    expect(cancels).toHaveLength(1);
  });

  it('refuses a missing signature and maps cancel after inclusion', () => {
    expect(
      rpcErr(() => setup().call('ordo_cancelBundle', [{ replacementUuid: uuid, signer: key }])).message,
    ).toContain('signature');
    const e = rpcErr(() =>
      setup({ code: 'ALREADY_COMMITTED' }).call('ordo_cancelBundle', [
        { replacementUuid: uuid, signer: key, signature: sig },
      ]),
    );
    expect(e.code).toBe(-32001);
    expect(e.data).toMatchObject({ code: 'ALREADY_COMMITTED' });
  });
});

describe('ordo_getBundleStatus', () => {
  it('renders a status and answers null for an unknown bundle', () => {
    const { call, statuses } = setup();
    statuses.set('07'.repeat(32), {
      status: 'committed',
      height: 12,
      execution: {
        outcome: 'applied',
        legs: [{ namespace: 2, receipts: [{ index: 0, status: 'success', gasUsed: 21000n }] }],
      },
      certified: false,
    });
    expect(call('ordo_getBundleStatus', [`0x${'07'.repeat(32)}`])).toEqual({
      status: 'committed',
      height: 12,
      execution: {
        outcome: 'applied',
        legs: [{ namespace: 2, receipts: [{ index: 0, status: 'success', gasUsed: '21000' }] }],
      },
      certified: false,
    });
    expect(call('ordo_getBundleStatus', [`0x${'08'.repeat(32)}`])).toBeNull();
    expect(rpcErr(() => call('ordo_getBundleStatus', ['0x12'])).code).toBe(-32602);
  });
});

describe('ordo_callBundle', () => {
  it('simulates through the simulator and renders per-leg results', async () => {
    const { call, submitted } = setup();
    const r = await call('ordo_callBundle', [{ legs: [{ namespace: 2, txs: ['0x01'] }] }, { height: 9 }]);
    expect(r).toEqual({
      applies: false,
      reason: 'leg 2 tx 0 reverted',
      height: 9,
      legs: [
        {
          namespace: 2,
          executed: true,
          txs: [{ hash: `0x${'02'.repeat(32)}`, status: 'revert', gasUsed: '5', returnData: '0x01' }],
          stateRoot: `0x${'03'.repeat(32)}`,
        },
      ],
    });
    expect(submitted).toHaveLength(0);
  });

  it('refuses a bad height and a malformed bundle with -32602', async () => {
    const { call } = setup();
    await expect(
      (async () =>
        call('ordo_callBundle', [{ legs: [{ namespace: 2, txs: ['0x01'] }] }, { height: 'latest' }]))(),
    ).rejects.toMatchObject({ code: -32602 });
    await expect((async () => call('ordo_callBundle', [{ legs: [] }]))()).rejects.toMatchObject({
      code: -32602,
    });
  });

  it('answers a simulation that executed blocks kept moving under as retryable -32003 EXEC_SIM_UNSTABLE', async () => {
    // What the executor throws (src/exec/executor.ts) when every attempt saw the executed heads move.
    const { call } = setup(undefined, 1000, async () => {
      throw new OrdoError('EXEC_SIM_UNSTABLE', 'executed heads moved during simulation');
    });
    const err = await (async () =>
      call('ordo_callBundle', [{ legs: [{ namespace: 2, txs: ['0x01'] }] }]))().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({
      code: -32003,
      message: 'executed heads moved during simulation',
      data: { code: 'EXEC_SIM_UNSTABLE', retryable: true, retryAfterMs: 200 },
    });
  });

  it("answers the node's simulation gas rate as retryable -32003 EXEC_SIM_BUSY with its own wait (ADR 0297)", async () => {
    const { call } = setup(undefined, 1000, async () => {
      throw new OrdoError('EXEC_SIM_BUSY', 'this node simulates at most 5000000 gas of bundles a second', {
        gas: 600_000,
        gasPerSec: 5_000_000,
        retryAfterMs: 37,
      });
    });
    await expect(
      (async () => call('ordo_callBundle', [{ legs: [{ namespace: 2, txs: ['0x01'] }] }]))(),
    ).rejects.toMatchObject({
      code: -32003,
      data: { code: 'EXEC_SIM_BUSY', retryable: true, retryAfterMs: 37, gas: 600_000 },
    });
  });

  it('keeps other simulator failures internal (not retryable)', async () => {
    const boom = new OrdoError('EXEC_NOT_STARTED', 'executor is not started');
    const { call } = setup(undefined, 1000, async () => {
      throw boom;
    });
    await expect(
      (async () => call('ordo_callBundle', [{ legs: [{ namespace: 2, txs: ['0x01'] }] }]))(),
    ).rejects.toBe(boom);
  });
});
