/**
 * `ordo init [--home DIR]`: creates the home layout (src/node/home.ts), a validator key (mode 0600), a
 * config file, and unless --genesis is given a single-validator devnet genesis with the three demo
 * rollups (1 opaque, 2 transfer, 3 evm, 4 evm-2). Refuses to overwrite an existing home unless --force.
 */
import { DEFAULT_CONFIG } from '../config/index.ts';
import { homePaths, type InitOptions, initHome, resolveHome } from '../node/index.ts';
import { parse, strArg } from './args.ts';

const USAGE = `Usage: ordo init [options]

Options:
  --home DIR         node home directory to create (default: $ORDO_HOME, else ~/.ordo)
  --genesis FILE     copy this genesis instead of creating a single-validator devnet genesis
  --chain-id ID      chain id of the generated genesis (default: ordo-devnet)
  --moniker NAME     node name (default: node0)
  --rpc HOST:PORT    JSON-RPC listen address (default: ${DEFAULT_CONFIG.rpc.listen})
  --grpc HOST:PORT   rollup adapter gRPC listen address (default: ${DEFAULT_CONFIG.grpc.listen})
  --p2p MULTIADDR    p2p listen address (default: ${DEFAULT_CONFIG.p2p.listen})
  --force            overwrite an existing config/genesis/key
  -h, --help         show this help`;

export async function initCommand(argv: string[]): Promise<number> {
  const a = parse(
    argv,
    {
      home: { type: 'string' },
      genesis: { type: 'string' },
      'chain-id': { type: 'string' },
      moniker: { type: 'string' },
      rpc: { type: 'string' },
      grpc: { type: 'string' },
      p2p: { type: 'string' },
      force: { type: 'boolean' },
    },
    USAGE,
  );
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const home = resolveHome(strArg(a, 'home'));
  const config: InitOptions['config'] = {};
  const rpc = strArg(a, 'rpc');
  const grpc = strArg(a, 'grpc');
  const p2p = strArg(a, 'p2p');
  if (rpc !== undefined) config.rpc = { listen: rpc };
  if (grpc !== undefined) config.grpc = { listen: grpc };
  if (p2p !== undefined) config.p2p = { listen: p2p };
  const r = initHome({
    home,
    ...(strArg(a, 'genesis') !== undefined ? { genesisFile: strArg(a, 'genesis') } : {}),
    ...(strArg(a, 'chain-id') !== undefined ? { chainId: strArg(a, 'chain-id') } : {}),
    ...(strArg(a, 'moniker') !== undefined ? { moniker: strArg(a, 'moniker') } : {}),
    config,
    force: a.values.force === true,
  });
  const p = homePaths(home);
  process.stdout.write(
    `initialised ${home}\n  validator key  ${p.validatorKey} (public key ${r.publicKey})\n  config         ${p.config}\n  genesis        ${p.genesis}\nstart it with: ordo start --home ${home}\n`,
  );
  return 0;
}
