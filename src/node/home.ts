/**
 * The layout of a node's home directory, in one place:
 *   config.json            node config (validated at start)
 *   genesis.json           chain genesis (identical on every node)
 *   keys/validator.json    ed25519 validator key (mode 0600)
 *   keys/p2p.key           libp2p identity key (mode 0600)
 *   data/db/               embedded database (blocks, certificates, tx index, state)
 *   data/wal/              consensus write-ahead log
 *
 * Where the home is: `--home DIR`, else the ORDO_HOME environment variable, else `~/.ordo`.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The environment variable that names the default home. */
export const HOME_ENV = 'ORDO_HOME';

/** `--home` if given, else $ORDO_HOME, else ~/.ordo (absolute). */
export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const v = flag ?? (env[HOME_ENV] !== undefined && env[HOME_ENV] !== '' ? env[HOME_ENV] : undefined);
  return resolve(v ?? join(homedir(), '.ordo'));
}

export interface HomePaths {
  home: string;
  config: string;
  genesis: string;
  keysDir: string;
  validatorKey: string;
  p2pKey: string;
  dataDir: string;
  db: string;
  walDir: string;
}

export function homePaths(home: string): HomePaths {
  return {
    home,
    config: join(home, 'config.json'),
    genesis: join(home, 'genesis.json'),
    keysDir: join(home, 'keys'),
    validatorKey: join(home, 'keys', 'validator.json'),
    p2pKey: join(home, 'keys', 'p2p.key'),
    dataDir: join(home, 'data'),
    db: join(home, 'data', 'db'),
    walDir: join(home, 'data', 'wal'),
  };
}
