/**
 * `ordo start [--home DIR]`: runs a node until SIGINT/SIGTERM, then stops every component in reverse
 * order. Config, genesis and key problems stop start-up with an error naming the file and the field;
 * an address in use names the flag and config key to change (every listener is bound before consensus
 * starts, src/node/node.ts).
 */
import { statSync } from 'node:fs';
import { configSchema } from '../config/index.ts';
import { errorMessage, OrdoError } from '../errors.ts';
import {
  homePaths,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
  OrdoNode,
  ownerHint,
  resolveHome,
} from '../node/index.ts';
import { parse, strArg, UsageError } from './args.ts';

const USAGE = `Usage: ordo start [options]

Options:
  --home DIR             node home created by "ordo init" (default: $ORDO_HOME, else ~/.ordo)
  --rpc HOST:PORT        JSON-RPC listen address (overrides rpc.listen)
  --grpc HOST:PORT|off   rollup adapter gRPC listen address (overrides grpc.listen; "off" disables it)
  --p2p MULTIADDR        p2p listen address (overrides p2p.listen)
  --log-level LEVEL      ${LOG_LEVELS.join('|')} (overrides log.level)
  --log-format FORMAT    ${LOG_FORMATS.join('|')} (overrides log.format; auto = pretty on a terminal)
  -h, --help             show this help

Environment:
  ORDO_HOME=DIR          default home when --home is not given
  ORDO_ADMIN_RPC=1       enable ordo_admin_* methods (local testnets only)`;

/** The rules of the config keys the listen flags override (rpc.listen and grpc.listen, p2p.listen). */
const hostPort = configSchema.shape.rpc.shape.listen;
const multiaddr = configSchema.shape.p2p.shape.listen;

/** A listen address from a flag, checked by the same rule as its config key. */
function listenArg(
  v: string | undefined,
  flag: string,
  rule: typeof hostPort | typeof multiaddr,
): string | undefined {
  if (v === undefined) return undefined;
  const r = rule.safeParse(v);
  if (!r.success)
    throw new UsageError(`${flag}: ${r.error.issues[0]?.message ?? 'invalid'} (got "${v}")`, USAGE);
  return v;
}

function enumArg<T extends string>(
  v: string | undefined,
  flag: string,
  allowed: readonly T[],
): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got "${v}"`, USAGE);
  return v as T;
}

export async function startCommand(argv: string[]): Promise<number> {
  const a = parse(
    argv,
    {
      home: { type: 'string' },
      rpc: { type: 'string' },
      grpc: { type: 'string' },
      p2p: { type: 'string' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
    },
    USAGE,
  );
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const logLevel = enumArg<LogLevel>(strArg(a, 'log-level'), '--log-level', LOG_LEVELS);
  const logFormat = enumArg<LogFormat>(strArg(a, 'log-format'), '--log-format', LOG_FORMATS);
  const rpc = listenArg(strArg(a, 'rpc'), '--rpc', hostPort);
  const grpc = strArg(a, 'grpc') === 'off' ? 'off' : listenArg(strArg(a, 'grpc'), '--grpc', hostPort);
  const p2p = listenArg(strArg(a, 'p2p'), '--p2p', multiaddr);
  const home = resolveHome(strArg(a, 'home'));
  const configFile = homePaths(home).config;
  try {
    statSync(configFile);
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ENOENT')
      throw new OrdoError(
        'HOME_UNREADABLE',
        `cannot read ${configFile}: ${errorMessage(err)}${ownerHint(configFile, err)}`,
      );
    throw new OrdoError(
      'HOME_NOT_INITIALISED',
      `${configFile} does not exist: create the home with "ordo init --home ${home}", or point --home (or ORDO_HOME) at an existing one`,
    );
  }
  let fatal: unknown;
  let wake: () => void = () => {};
  const node = OrdoNode.load({
    home,
    ...(rpc !== undefined ? { rpcListen: rpc } : {}),
    ...(grpc !== undefined ? { grpcListen: grpc === 'off' ? null : grpc } : {}),
    ...(p2p !== undefined ? { p2pListen: p2p } : {}),
    ...(logLevel !== undefined ? { logLevel } : {}),
    ...(logFormat !== undefined ? { logFormat } : {}),
    adminRpc: process.env.ORDO_ADMIN_RPC === '1',
    onFatal: (err) => {
      fatal = err;
      wake();
    },
  });
  await node.start();
  process.stderr.write(
    `ordo node ${node.config.node.moniker} running: JSON-RPC ${node.rpcUrl}${node.grpcAddress ? `, gRPC ${node.grpcAddress}` : ''}\n`,
  );
  // `on`, not `once`, and kept during the stop: Ctrl-C under npm delivers SIGINT twice (from the
  // terminal and forwarded by npm), and a second signal with no listener would kill the node mid-stop.
  await new Promise<void>((resolve) => {
    wake = resolve;
    process.on('SIGINT', () => resolve());
    process.on('SIGTERM', () => resolve());
  });
  process.stderr.write(
    fatal === undefined ? 'stopping...\n' : `fatal: ${(fatal as Error).message ?? String(fatal)}; stopping\n`,
  );
  const hard = setTimeout(() => {
    process.stderr.write('stop timed out after 10 s; exiting\n');
    process.exit(1);
  }, 10_000);
  hard.unref();
  await node.stop();
  return fatal === undefined ? 0 : 1;
}
