import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, loadConfig, validateConfig } from '../../../src/config/config.ts';
import {
  demoRollups,
  genesisHash,
  loadGenesis,
  makeGenesis,
  validateGenesis,
} from '../../../src/config/genesis.ts';
import { ConfigError } from '../../../src/config/schema-error.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordo-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const KEY = 'ab'.repeat(32);

describe('config', () => {
  it('fills defaults section by section', () => {
    const c = validateConfig({ rpc: { listen: '127.0.0.1:1234' } });
    expect(c.rpc.listen).toBe('127.0.0.1:1234');
    expect(c.rpc.maxBodyBytes).toBe(DEFAULT_CONFIG.rpc.maxBodyBytes);
    expect(c.mempool).toEqual(DEFAULT_CONFIG.mempool);
  });

  it('names the field and what is wrong', () => {
    expect(problems(() => validateConfig({ rpc: { listen: 'nope' } }))).toMatch(
      /rpc\.listen: expected host:port/,
    );
    expect(problems(() => validateConfig({ consensus: { timeoutProposeMs: -1 } }))).toMatch(
      /consensus\.timeoutProposeMs/,
    );
    expect(problems(() => validateConfig({ store: { engine: 'sqlite' } }))).toMatch(/store\.engine/);
    expect(problems(() => validateConfig({ mempool: { highWaterFraction: 0 } }))).toMatch(
      /mempool\.highWaterFraction/,
    );
    expect(problems(() => validateConfig({ consensus: { compactProposals: 'yes' } }))).toMatch(
      /consensus\.compactProposals/,
    );
    expect(
      problems(() => validateConfig({ consensus: { timeoutProposeMs: 100, busyBlockIntervalMs: 100 } })),
    ).toMatch(/consensus\.busyBlockIntervalMs: must be below timeoutProposeMs/);
    expect(
      problems(() =>
        validateConfig({
          consensus: { timeoutProposeMs: 200, busyBlockIntervalMs: 100, minBlockIntervalMs: 200 },
        }),
      ),
    ).toMatch(/consensus\.minBlockIntervalMs: must be below timeoutProposeMs/);
    expect(
      problems(() => validateConfig({ consensus: { timeoutProposeMs: 300, minBlockPeriodMs: 300 } })),
    ).toMatch(/consensus\.minBlockPeriodMs: must be below timeoutProposeMs/);
    // A short propose timeout with the period turned down (or off) stays valid.
    expect(() => validateConfig({ consensus: { timeoutProposeMs: 200, minBlockPeriodMs: 0 } })).not.toThrow();
    // A config written before minBlockPeriodMs existed, with a short propose timeout, still loads: the
    // unset period stays at most half the timeout.
    expect(validateConfig({ consensus: { timeoutProposeMs: 200 } }).consensus.minBlockPeriodMs).toBe(100);
    expect(validateConfig({ consensus: { timeoutProposeMs: 5000 } }).consensus.minBlockPeriodMs).toBe(250);
    expect(problems(() => validateConfig({ rpc: { lisen: '1:2' } }))).toMatch(/lisen/);
    expect(problems(() => validateConfig({ bogus: {} }))).toMatch(/bogus/);
    expect(problems(() => validateConfig({ p2p: { bootstrap: ['/ip4/1.2.3.4/tcp/1'] } }))).toMatch(
      /p2p\.bootstrap\.0/,
    );
  });

  it('grpc.maxFutureBlocks: default 1024, an integer in 0..1,000,000', () => {
    expect(DEFAULT_CONFIG.grpc.maxFutureBlocks).toBe(1024);
    // A config written before the key existed gets the old fixed bound.
    expect(validateConfig({ grpc: { listen: '127.0.0.1:9090' } }).grpc.maxFutureBlocks).toBe(1024);
    expect(validateConfig({ grpc: { maxFutureBlocks: 0 } }).grpc.maxFutureBlocks).toBe(0);
    expect(validateConfig({ grpc: { maxFutureBlocks: 1_000_000 } }).grpc.maxFutureBlocks).toBe(1_000_000);
    for (const bad of [-1, 1.5, 1_000_001, '10', null])
      expect(problems(() => validateConfig({ grpc: { maxFutureBlocks: bad } }))).toMatch(
        /grpc\.maxFutureBlocks/,
      );
  });

  it('rpc.ethCallTimeoutMs: default 5,000 (geth), 0 for no bound, else 100..600,000', () => {
    expect(DEFAULT_CONFIG.rpc.ethCallTimeoutMs).toBe(5_000);
    // A config written before the key existed gets geth's bound.
    expect(validateConfig({ rpc: { ethCallWorkers: 2 } }).rpc.ethCallTimeoutMs).toBe(5_000);
    for (const ok of [0, 100, 300, 600_000])
      expect(validateConfig({ rpc: { ethCallTimeoutMs: ok } }).rpc.ethCallTimeoutMs).toBe(ok);
    for (const bad of [-1, 1, 99, 1.5, 600_001, '5000', null])
      expect(problems(() => validateConfig({ rpc: { ethCallTimeoutMs: bad } }))).toMatch(
        /rpc\.ethCallTimeoutMs/,
      );
    expect(problems(() => validateConfig({ rpc: { ethCallTimeoutMs: 50 } }))).toMatch(
      /rpc\.ethCallTimeoutMs: must be 0 \(no bound\) or at least 100 ms/,
    );
  });

  it('reports unreadable and non-JSON files with their path', () => {
    expect(problems(() => loadConfig(join(dir, 'missing.json')))).toMatch(/missing\.json/);
    const f = join(dir, 'broken.json');
    writeFileSync(f, '{ "rpc": ');
    expect(problems(() => loadConfig(f))).toMatch(/broken\.json is not valid JSON/);
  });
});

describe('genesis', () => {
  const good = () =>
    makeGenesis({
      chainId: 'c1',
      validators: [{ name: 'v0', publicKey: KEY }],
      rollups: demoRollups(),
      genesisTimeMs: 1,
    });

  it('accepts the devnet genesis and hashes it canonically', () => {
    const g = good();
    expect(g.rollups.map((r) => r.kind)).toEqual(['opaque', 'transfer', 'evm', 'evm']);
    // Two EVM rollups with their own chain ids (EVM ↔ EVM bundles out of the box).
    expect(g.rollups.filter((r) => r.kind === 'evm').map((r) => r.evmChainId)).toEqual([900_001, 900_002]);
    expect(genesisHash(g)).toEqual(genesisHash(JSON.parse(JSON.stringify(g))));
  });

  it('rejects bad validators and rollups with the field named', () => {
    const g = good();
    expect(problems(() => validateGenesis({ ...g, validators: [] }))).toMatch(/validators/);
    expect(
      problems(() => validateGenesis({ ...g, validators: [{ name: 'x', publicKey: 'zz', votingPower: 1 }] })),
    ).toMatch(/validators\.0\.publicKey/);
    const dupNs = { ...g, rollups: [g.rollups[0], { ...g.rollups[1], namespace: 1 }] };
    expect(problems(() => validateGenesis(dupNs))).toMatch(/rollups\.1\.namespace: duplicate namespace/);
    const noChain = { ...g, rollups: [{ ...g.rollups[2], evmChainId: undefined }] };
    expect(problems(() => validateGenesis(noChain))).toMatch(/rollups\.0\.evmChainId: required/);
    const badKind = { ...g, rollups: [{ ...g.rollups[0], kind: 'wasm' }] };
    expect(problems(() => validateGenesis(badKind))).toMatch(/rollups\.0\.kind/);
    const badAlloc = { ...g, rollups: [{ ...g.rollups[2], alloc: [{ address: 'xyz', balance: '1' }] }] };
    expect(problems(() => validateGenesis(badAlloc))).toMatch(/rollups\.0\.alloc\.0\.address/); // The EVM block gas limit (ADR 0285): EVM rollups only, an integer from 21,000 to 2^50.
    const gasOn = (r: (typeof g.rollups)[number], v: unknown) => ({
      ...g,
      rollups: [{ ...r, evmGasLimit: v }],
    });
    expect(() => validateGenesis(gasOn(g.rollups[2]!, 10_000_000))).not.toThrow();
    expect(problems(() => validateGenesis(gasOn(g.rollups[1]!, 10_000_000)))).toMatch(
      /rollups\.0\.evmGasLimit: only allowed for kind "evm"/,
    );
    expect(problems(() => validateGenesis(gasOn(g.rollups[2]!, 20_999)))).toMatch(/rollups\.0\.evmGasLimit/);
    expect(problems(() => validateGenesis(gasOn(g.rollups[2]!, 2 ** 51)))).toMatch(/rollups\.0\.evmGasLimit/);
    expect(problems(() => validateGenesis(gasOn(g.rollups[2]!, 1.5e6 + 0.5)))).toMatch(
      /rollups\.0\.evmGasLimit/,
    );
  });

  it('reports an unreadable genesis file', () => {
    expect(problems(() => loadGenesis(join(dir, 'nope.json')))).toMatch(
      /cannot read genesis file .*nope\.json/,
    );
  });
});
