/**
 * `ordo bid` (src/cli/bid.ts): command-line parsing and its usage errors, the choice of slot, and the
 * whole `place` flow (commit → inclusion → reveal in its window → outcome) against a fake chain whose
 * height advances each time the CLI waits, so nothing depends on wall-clock speed.
 */
import { describe, expect, it } from 'vitest';
import { auctionParams, revealWindow, verifyCommit } from '../../../src/auction/index.ts';
import { UsageError } from '../../../src/cli/args.ts';
import { type BidIo, chooseSlot, parseBidArgs, runBid } from '../../../src/cli/bid.ts';
import { demoAuctionSeed, demoDepositAuthoritySeed } from '../../../src/config/index.ts';
import { fromHex, publicKeyFromSeed, toHex } from '../../../src/crypto/index.ts';
import { evmTx } from '../exec/helpers.ts';

const P = auctionParams();
const usageErr = (argv: string[]) => {
  try {
    parseBidArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
};

describe('ordo bid: arguments', () => {
  it('parses each subcommand', () => {
    expect(parseBidArgs(['--help'])).toBe('help');
    expect(parseBidArgs(['info', '--rpc', 'http://x:1'])).toEqual({ sub: 'info', rpc: 'http://x:1' });
    const acc = parseBidArgs(['account', '--demo', '3']);
    expect(acc).toMatchObject({ sub: 'account', account: publicKeyFromSeed(demoAuctionSeed(3)) });
    const dep = parseBidArgs(['deposit', '--amount', '500', '--demo-authority', '--demo', '1']);
    expect(dep).toMatchObject({
      sub: 'deposit',
      amount: 500,
      authoritySeed: demoDepositAuthoritySeed(),
      to: publicKeyFromSeed(demoAuctionSeed(1)),
      timeoutMs: 60_000,
    });
    const key = 'ab'.repeat(32);
    expect(parseBidArgs(['withdraw', '--amount', '7', '--key', `0x${key}`, '--nonce', '2'])).toMatchObject({
      sub: 'withdraw',
      amount: 7,
      seed: fromHex(`0x${key}`),
      nonce: 2,
    });
    expect(
      parseBidArgs([
        'place',
        '--amount',
        '9',
        '--demo-bundle',
        '--demo',
        '0',
        '--slot',
        '40',
        '--timeout',
        '5',
      ]),
    ).toMatchObject({ sub: 'place', amount: 9, bundle: 'demo', slot: 40, lead: 2, timeoutMs: 5000 });
    expect(parseBidArgs(['place', '--amount', '9', '--bundle', 'b.json', '--key', key])).toMatchObject({
      bundle: { file: 'b.json' },
    });
    expect(parseBidArgs(['outcome', '12'])).toMatchObject({ sub: 'outcome', height: 12 });
  });

  it('refuses bad command lines with a usage error that says what is wrong', () => {
    const cases: [string[], RegExp][] = [
      [[], /subcommand is required/],
      [['bogus'], /unknown subcommand "bogus"/],
      [['info', 'extra'], /unexpected argument/],
      [['info', '--nope'], /Unknown option/],
      [['account'], /a key is needed/],
      [['account', '--demo', '16'], /--demo must be an integer in 0..15/],
      [['account', '--demo', '1', '--key', 'ab'.repeat(32)], /one of --key and --demo/],
      [['account', '--key', 'abc'], /--key must be 32 bytes of hex/],
      [['account', '--account', 'ab'.repeat(32), '--demo', '1'], /one of --account/],
      [['deposit', '--demo', '1', '--demo-authority'], /--amount is required/],
      [['deposit', '--amount', '5', '--demo', '1'], /--authority-key SEED_HEX and --demo-authority/],
      [['deposit', '--amount', '5', '--demo-authority'], /a key is needed/],
      [
        ['deposit', '--amount', '5', '--demo-authority', '--to', 'ab'.repeat(32), '--demo', '1'],
        /one of --to/,
      ],
      [['withdraw', '--amount', '0', '--demo', '1'], /--amount must be a positive integer/],
      [['withdraw', '--amount', '1.5', '--demo', '1'], /--amount must be a positive integer/],
      [['withdraw', '--amount', '9007199254740993', '--demo', '1'], /--amount/],
      [['place', '--amount', '5', '--demo', '1'], /--bundle FILE.json and --demo-bundle/],
      [['place', '--amount', '5', '--demo', '1', '--demo-bundle', '--bundle', 'x'], /--bundle FILE.json/],
      [['place', '--amount', '5', '--demo', '1', '--demo-bundle', '--slot', '0'], /--slot must be/],
      [['outcome'], /one HEIGHT/],
      [['outcome', 'x'], /HEIGHT must be a positive integer/],
    ];
    for (const [argv, re] of cases) expect(usageErr(argv), argv.join(' ')).toMatch(re);
  });

  it('chooses the next open slot, and refuses a slot whose commit window is closed or not open', () => {
    expect(chooseSlot(10, P, undefined, 2)).toBe(10 + 1 + 2 + 2);
    expect(chooseSlot(10, P, 13, 0)).toBe(13);
    expect(() => chooseSlot(10, P, 12, 0)).toThrow(/closed at block 10/);
    expect(() => chooseSlot(10, P, 200, 0)).toThrow(/opens at block 134/);
  });
});

/** A chain that makes one block per wait of the CLI; auction txs are committed in the next block. */
function fakeChain(opts: {
  win: boolean;
  /** The bid's bundle failed: invalid BUNDLE_FAILS with a penalty. */
  fails?: boolean;
  available?: string;
  disabled?: boolean;
  params?: Partial<typeof P>;
  bundleFile?: string;
}) {
  let height = 10;
  const chainId = 'bid-test';
  const txs = new Map<string, { height: number }>();
  let n = 0;
  let commitment = '';
  let revealedAt = 0;
  const calls: string[] = [];
  const progress: string[] = [];
  const include = () => {
    const h = `0x${(++n).toString(16).padStart(64, '0')}`;
    txs.set(h, { height: height + 1 });
    return { txHash: h };
  };
  const io: BidIo = {
    now: () => height * 1000,
    sleep: async () => {
      height++;
    },
    progress: (l) => progress.push(l),
    readFile: () => opts.bundleFile ?? '{"legs":[{"namespace":1,"txs":["0x01"]}]}',
    call: async (m, p) => {
      calls.push(m);
      const q = p[0] as Record<string, unknown>;
      switch (m) {
        case 'ordo_status':
          return {
            chainId,
            height,
            rollups: [
              { namespace: 1, kind: 'opaque', maxTxBytes: 4096 },
              { namespace: 2, kind: 'evm', evmChainId: 1, maxTxBytes: 4096 },
            ],
          };
        case 'ordo_getAuctionInfo':
          return opts.disabled
            ? { enabled: false }
            : {
                enabled: true,
                params: { ...P, ...opts.params, forfeitFee: P.forfeitFee.toString() },
                rollups: [],
                nextDepositNonce: 0,
              };
        case 'ordo_getAccount':
          return { available: opts.available ?? '1000000', withdrawNonce: 0 };
        case 'ordo_sendBidCommit': {
          verifyCommit(
            chainId,
            {
              slot: q.slot as number,
              bidder: fromHex(q.bidder as string),
              commitment: fromHex(q.commitment as string),
              signature: fromHex(q.signature as string),
            },
            height + 1,
            P,
          );
          commitment = q.commitment as string;
          return include();
        }
        case 'ordo_sendBidReveal': {
          const w = revealWindow(q.slot as number, P);
          if (height + 1 < w.first || height + 1 > w.last) throw new Error('reveal out of window');
          revealedAt = height + 1;
          return include();
        }
        case 'ordo_getTransactionStatus': {
          const t = txs.get(p[0] as string);
          return t !== undefined && t.height <= height
            ? { status: 'committed', height: t.height }
            : { status: 'pending' };
        }
        case 'ordo_getAuction': {
          const slot = p[0] as number;
          if (height < slot) return { height: slot, enabled: true, resolved: false, bids: [], winners: [] };
          return {
            height: slot,
            enabled: true,
            resolved: true,
            bids: [
              opts.fails
                ? { commitment, amount: '9', valid: false, reason: 'BUNDLE_FAILS', penalty: '1' }
                : { commitment, amount: '9', valid: true },
            ],
            winners: opts.win
              ? [{ namespace: 1, commitment, price: '5', proceeds: '5' }]
              : [{ namespace: 1, commitment: `0x${'11'.repeat(32)}`, price: '9', proceeds: '9' }],
          };
        }
        default:
          throw new Error(`unexpected ${m}`);
      }
    },
  };
  return { io, calls, progress, revealedAt: () => revealedAt };
}

describe('ordo bid place', () => {
  const plan = parseBidArgs(['place', '--amount', '9', '--demo-bundle', '--demo', '0', '--lead', '1']);
  if (plan === 'help') throw new Error('unreachable');

  it('commits, waits for inclusion, reveals in the reveal window and reports a win with price and proceeds', async () => {
    const c = fakeChain({ win: true });
    const out = (await runBid(plan, c.io)) as Record<string, unknown>;
    expect(out).toMatchObject({
      slot: 14,
      amount: '9',
      result: 'won',
      price: '5',
      proceeds: [{ namespace: 1, amount: '5' }],
      commitHeight: 11,
    });
    expect(c.revealedAt()).toBe(revealWindow(14, P).first);
    expect(c.calls.filter((m) => m.startsWith('ordo_send'))).toEqual([
      'ordo_sendBidCommit',
      'ordo_sendBidReveal',
    ]);
    expect(c.progress.join('\n')).toMatch(/commit sent[\s\S]*reveal sent[\s\S]*slot 14: won: price 5/);
  });

  it('reports a loss, and with a bundle file', async () => {
    const c = fakeChain({ win: false });
    const file = parseBidArgs(['place', '--amount', '9', '--bundle', 'b.json', '--demo', '0']);
    if (file === 'help') throw new Error('unreachable');
    expect(await runBid(file, c.io)).toMatchObject({ result: 'lost' });
  });

  it('reports a failing bid with the penalty it paid (ADR 0320)', async () => {
    const c = fakeChain({ win: false, fails: true });
    expect(await runBid(plan, c.io)).toMatchObject({
      result: 'invalid',
      reason: 'BUNDLE_FAILS',
      penalty: '1',
    });
    expect(c.progress.join('\n')).toMatch(
      /slot 14: invalid: BUNDLE_FAILS \(penalty 1 paid from the bid to its rollups' treasuries\)/,
    );
  });

  it('refuses before sending anything when funds are short or the auction is disabled', async () => {
    const poor = fakeChain({ win: true, available: '5' });
    await expect(runBid(plan, poor.io)).rejects.toThrow(/needs 1009 \(amount \+ forfeitFee bond\)/);
    expect(poor.calls).not.toContain('ordo_sendBidCommit');
    const off = fakeChain({ win: true, disabled: true });
    await expect(runBid(plan, off.io)).rejects.toMatchObject({ code: 'AUCTION_DISABLED' });
  });

  it('refuses a bundle that could never win before locking the bond: over the top budget or the simulation budget', async () => {
    const file = parseBidArgs(['place', '--amount', '9', '--bundle', 'b.json', '--demo', '0']);
    if (file === 'help') throw new Error('unreachable');
    const big = fakeChain({
      win: true,
      params: { maxTopBytes: 1024 },
      bundleFile: JSON.stringify({ legs: [{ namespace: 1, txs: [`0x${'ab'.repeat(2000)}`] }] }),
    });
    await expect(runBid(file, big.io)).rejects.toThrow(
      /2016 bytes .* at most 1024 bytes .*auction\.maxTopBytes/,
    );
    expect(big.calls).not.toContain('ordo_sendBidCommit');
    const tx = toHex(evmTx(0, { nonce: 0n, gasLimit: 2_000_000n, chainId: 1 }));
    const heavy = fakeChain({
      win: true,
      params: { maxSimGas: 1_000_000 },
      bundleFile: JSON.stringify({ legs: [{ namespace: 2, txs: [`0x${tx}`] }] }),
    });
    await expect(runBid(file, heavy.io)).rejects.toThrow(
      /declare 2000000 gas; .*at most 1000000 .*auction\.maxSimGas/,
    );
    expect(heavy.calls).not.toContain('ordo_sendBidCommit');
    // Within the slot's budget but above one bidder's share of it (ADR 0321): it could never be simulated.
    const overShare = fakeChain({
      win: true,
      params: { maxSimGas: 10_000_000, bidderSimShareBps: 1_000 },
      bundleFile: JSON.stringify({ legs: [{ namespace: 2, txs: [`0x${tx}`] }] }),
    });
    await expect(runBid(file, overShare.io)).rejects.toThrow(
      /declare 2000000 gas; .*at most 1000000 per bidder .*auction\.bidderSimShareBps/,
    );
    expect(overShare.calls).not.toContain('ordo_sendBidCommit');
  });

  it('signs deposits with the authority at the node’s next nonce', async () => {
    const c = fakeChain({ win: true });
    const sent: unknown[] = [];
    const io = {
      ...c.io,
      call: async (m: string, p: unknown[]) => {
        if (m === 'ordo_deposit') {
          sent.push(p[0]);
          return { txHash: `0x${'00'.repeat(31)}01` };
        }
        if (m === 'ordo_getTransactionStatus') return { status: 'committed', height: 11 };
        return c.io.call(m, p);
      },
    };
    const dep = parseBidArgs(['deposit', '--amount', '500', '--demo-authority', '--demo', '2']);
    if (dep === 'help') throw new Error('unreachable');
    expect(await runBid(dep, io)).toMatchObject({ height: 11 });
    expect(sent).toEqual([
      {
        account: `0x${toHex(publicKeyFromSeed(demoAuctionSeed(2)))}`,
        amount: '500',
        nonce: 0,
        signature: expect.stringMatching(/^0x[0-9a-f]{128}$/),
      },
    ]);
  });
});
