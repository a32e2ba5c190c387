/**
 * The layout of a node's home directory, in one place:
 *   config.json            node config (validated at start)
 *   genesis.json           chain genesis (identical on every node)
 *   keys/validator.json    ed25519 validator key (mode 0600)
 *   keys/p2p.key           libp2p identity key (mode 0600)
 *   data/db/               embedded database (blocks, certificates, tx index, state)
 *   data/wal/              consensus write-ahead log
 */
import { join } from 'node:path';

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
