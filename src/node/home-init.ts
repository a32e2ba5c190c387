/**
 * Creating a node home (the layout of home.ts): a validator key (mode 0600), a validated config file,
 * and unless a genesis file is given a single-validator devnet genesis with the demo rollups and the
 * demo auction (docs/auction.md "Genesis").
 * Used by `ordo init` (src/cli/init.ts) and by the local testnet tooling (testnet/setup.ts).
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import {
  demoAlloc,
  demoAuction,
  demoRollups,
  loadGenesis,
  makeGenesis,
  type NodeConfig,
  validateConfig,
} from '../config/index.ts';
import { toHex } from '../crypto/index.ts';
import { homePaths } from './home.ts';
import { writeKeyFile } from './keys.ts';

export interface InitOptions {
  home: string;
  genesisFile?: string;
  chainId?: string;
  moniker?: string;
  config?: Partial<{ [K in keyof NodeConfig]: Partial<NodeConfig[K]> }>;
  force?: boolean;
}

/** Create a node home; returns the validator public key (hex). Used by the CLI and the testnet. */
export function initHome(o: InitOptions): { publicKey: string } {
  const p = homePaths(o.home);
  if (!o.force && existsSync(p.config)) {
    throw new Error(`${p.config} already exists; use --force to overwrite, or choose another --home`);
  }
  mkdirSync(p.keysDir, { recursive: true, mode: 0o700 });
  mkdirSync(p.dataDir, { recursive: true });
  const signer = writeKeyFile(p.validatorKey, undefined, { overwrite: o.force ?? false });
  const publicKey = toHex(signer.publicKey);
  if (o.genesisFile !== undefined) {
    loadGenesis(o.genesisFile);
    copyFileSync(o.genesisFile, p.genesis);
  } else {
    const rollups = demoRollups(demoAlloc());
    const genesis = makeGenesis({
      chainId: o.chainId ?? 'ordo-devnet',
      validators: [{ name: o.moniker ?? 'node0', publicKey, votingPower: 1 }],
      rollups,
      auction: demoAuction(rollups),
    });
    writeFileSync(p.genesis, `${JSON.stringify(genesis, null, 2)}\n`);
  }
  const partial: Record<string, unknown> = { node: { moniker: o.moniker ?? 'node0', mode: 'validator' } };
  for (const [k, v] of Object.entries(o.config ?? {}))
    partial[k] = { ...((partial[k] as object) ?? {}), ...v };
  const config = validateConfig(partial, p.config);
  writeFileSync(p.config, `${JSON.stringify(config, null, 2)}\n`);
  return { publicKey };
}
