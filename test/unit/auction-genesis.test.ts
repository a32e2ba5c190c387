/**
 * The genesis `auction` section (src/config/genesis.ts): the devnet section validates and resolves to
 * the documented defaults, bad values are refused with an error naming the key, and no rollup may use the
 * auction's reserved namespace.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_AUCTION_LANE, DEFAULT_AUCTION_PARAMS } from '../../src/auction/index.ts';
import { AUCTION_NAMESPACE } from '../../src/codec/index.ts';
import {
  auctionSetupOf,
  checkConfigAgainstGenesis,
  DEMO_AUCTION_BIDDERS,
  demoAuction,
  demoAuctionSeed,
  demoDepositAuthoritySeed,
  demoRollups,
  type Genesis,
  validateConfig,
  validateGenesis,
} from '../../src/config/index.ts';
import { bytesEqual, publicKeyFromSeed, toHex } from '../../src/crypto/index.ts';

const rollups = demoRollups();
const base = {
  chainId: 'g-test',
  genesisTimeMs: 0,
  validators: [{ name: 'v', publicKey: 'ab'.repeat(32), votingPower: 1 }],
  rollups,
};

function refusal(g: unknown): string {
  try {
    validateGenesis(g);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('genesis auction section', () => {
  it('the devnet section: 16 funded bidders, the demo authority, reserve 100 everywhere, defaults', () => {
    const g = validateGenesis({ ...base, auction: demoAuction(rollups) });
    const s = auctionSetupOf(g)!;
    expect(s.params).toEqual(DEFAULT_AUCTION_PARAMS);
    expect(s.lane).toEqual(DEFAULT_AUCTION_LANE);
    expect(s.accounts).toHaveLength(DEMO_AUCTION_BIDDERS);
    expect(s.accounts.every((a) => a.balance === 1_000_000_000n)).toBe(true);
    expect(toHex(s.accounts[3]!.account)).toBe(toHex(publicKeyFromSeed(demoAuctionSeed(3))));
    expect(bytesEqual(s.depositAuthority, publicKeyFromSeed(demoDepositAuthoritySeed()))).toBe(true);
    expect([...s.reserves.values()]).toEqual(rollups.map(() => 100n));
    expect(new Set([...s.treasuries.values()].map(toHex)).size).toBe(rollups.length);
  });

  it('absent or disabled: no auction', () => {
    expect(auctionSetupOf(validateGenesis(base))).toBeUndefined();
    const off = validateGenesis({ ...base, auction: { ...demoAuction(rollups), enabled: false } });
    expect(auctionSetupOf(off)).toBeUndefined();
  });

  it('parameters, amounts and lane override the defaults; unlisted rollups get reserve 0', () => {
    const a = {
      ...demoAuction(rollups),
      commitOffset: 4,
      forfeitFee: '18446744073709551615',
      rollups: [{ namespace: 2, reservePrice: '7', treasury: 'cd'.repeat(32) }],
      lane: { maxTxsPerBlock: 16 },
      maxTopBytes: 200_000,
      maxTopTxs: 300,
      maxSimGas: 0,
      failPenaltyBps: 0,
      bidderSimShareBps: 0,
    };
    const s = auctionSetupOf(validateGenesis({ ...base, auction: a }) as Genesis)!;
    expect(s.params.commitOffset).toBe(4);
    // 0: a failing bid costs nothing, the rule before ADR 0320; absent: the default 1,000 (10 %).
    expect(s.params.failPenaltyBps).toBe(0);
    expect(
      auctionSetupOf(validateGenesis({ ...base, auction: demoAuction(rollups) }))!.params.failPenaltyBps,
    ).toBe(1_000);
    // 0: no per-bidder share of the simulation budget, the rule before ADR 0321; absent: 1,000 (10 %).
    expect(s.params.bidderSimShareBps).toBe(0);
    expect(
      auctionSetupOf(validateGenesis({ ...base, auction: demoAuction(rollups) }))!.params.bidderSimShareBps,
    ).toBe(1_000);
    expect([s.params.maxTopBytes, s.params.maxTopTxs, s.params.maxSimGas]).toEqual([200_000, 300, 0]);
    expect(s.params.forfeitFee).toBe((1n << 64n) - 1n);
    expect(s.reserves.get(2)).toBe(7n);
    expect(s.reserves.get(1)).toBe(0n);
    expect(bytesEqual(s.treasuries.get(1)!, s.forfeitSink)).toBe(true);
    expect(s.lane).toEqual({ ...DEFAULT_AUCTION_LANE, maxTxsPerBlock: 16 });
  });

  it('refuses bad values, naming the key', () => {
    const a = demoAuction(rollups);
    expect(refusal({ ...base, auction: { ...a, commitOffset: 1 } })).toMatch(/auction\.commitOffset/);
    expect(refusal({ ...base, auction: { ...a, commitOffset: 3, revealOffset: 3 } })).toMatch(
      /auction\.commitOffset: must exceed auction\.revealOffset/,
    );
    expect(refusal({ ...base, auction: { ...a, forfeitFee: '18446744073709551616' } })).toMatch(
      /auction\.forfeitFee: must be at most 2\^64 - 1/,
    );
    expect(refusal({ ...base, auction: { ...a, depositAuthority: '0x12' } })).toMatch(
      /auction\.depositAuthority/,
    );
    expect(
      refusal({
        ...base,
        auction: { ...a, rollups: [{ namespace: 99, reservePrice: '1', treasury: 'cd'.repeat(32) }] },
      }),
    ).toMatch(/auction\.rollups\.0\.namespace: not a namespace of the rollup registry/);
    expect(refusal({ ...base, auction: { ...a, accounts: [a.accounts![0]!, a.accounts![0]!] } })).toMatch(
      /auction\.accounts\.1\.account: duplicate account/,
    );
    expect(refusal({ ...base, auction: { ...a, lane: { maxPendingBytes: 1024 } } })).toMatch(
      /auction\.lane\.maxPendingBytes/,
    );
    expect(refusal({ ...base, auction: { ...a, bogus: 1 } })).toMatch(/bogus/);
    expect(refusal({ ...base, auction: { ...a, maxTopBytes: 2_000_000 } })).toMatch(/auction\.maxTopBytes/);
    expect(refusal({ ...base, auction: { ...a, maxTopTxs: 0 } })).toMatch(/auction\.maxTopTxs/);
    expect(refusal({ ...base, auction: { ...a, maxSimGas: 300_000_001 } })).toMatch(/auction\.maxSimGas/);
    expect(refusal({ ...base, auction: { ...a, failPenaltyBps: 10_001 } })).toMatch(
      /auction\.failPenaltyBps/,
    );
    expect(refusal({ ...base, auction: { ...a, failPenaltyBps: 2.5 } })).toMatch(/auction\.failPenaltyBps/);
    expect(refusal({ ...base, auction: { ...a, bidderSimShareBps: 10_001 } })).toMatch(
      /auction\.bidderSimShareBps/,
    );
    expect(refusal({ ...base, auction: { ...a, bidderSimShareBps: -1 } })).toMatch(
      /auction\.bidderSimShareBps/,
    );
  });

  it('a node config whose blocks cannot hold the top budget is refused, naming both settings', () => {
    const g = validateGenesis({ ...base, auction: demoAuction(rollups) });
    const config = validateConfig({});
    expect(() => checkConfigAgainstGenesis(config, g)).not.toThrow();
    const small = validateConfig({ consensus: { maxBlockBytes: 256 * 1024, maxBlockTxs: 500 } });
    let message = '';
    try {
      checkConfigAgainstGenesis(small, g, 'config.json');
    } catch (err) {
      expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
      message = (err as Error).message;
    }
    expect(message).toMatch(/config\.json does not fit the genesis/);
    expect(message).toMatch(
      /consensus\.maxBlockBytes: 262144 .* \(auction\.maxTopBytes\); set it to at least 526336/,
    );
    expect(message).toMatch(/consensus\.maxBlockTxs: 500 .* \(auction\.maxTopTxs\)/);
    // Without an auction nothing is demanded.
    expect(() => checkConfigAgainstGenesis(small, validateGenesis(base))).not.toThrow();
  });

  it('no rollup may use the auction namespace', () => {
    const bad = [...rollups, { ...rollups[0]!, namespace: AUCTION_NAMESPACE, name: 'sneaky' }];
    expect(refusal({ ...base, rollups: bad })).toMatch(
      new RegExp(`rollups\\.${rollups.length}\\.namespace: namespace ${AUCTION_NAMESPACE} is reserved`),
    );
  });
});
