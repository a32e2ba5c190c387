/**
 * `ordo start --home DIR [--rpc HOST:PORT]`: runs a node until SIGINT/SIGTERM, then stops every
 * component in reverse order. Config, genesis and key problems stop start-up with an error naming the
 * file and the field.
 */
import { OrdoNode } from '../node/index.ts';
import { parse, strArg, UsageError } from './args.ts';

const USAGE = `Usage: ordo start --home DIR [options]

Options:
  --home DIR        node home created by "ordo init" (required)
  --rpc HOST:PORT   override rpc.listen from the config file
  -h, --help        show this help

Environment:
  ORDO_ADMIN_RPC=1  enable ordo_admin_* methods (local testnets only)`;

export async function startCommand(argv: string[]): Promise<number> {
  const a = parse(argv, { home: { type: 'string' }, rpc: { type: 'string' } }, USAGE);
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const home = strArg(a, 'home');
  if (home === undefined) throw new UsageError('--home is required', USAGE);
  const rpc = strArg(a, 'rpc');
  let fatal: unknown;
  let wake: () => void = () => {};
  const node = OrdoNode.load({
    home,
    ...(rpc !== undefined ? { rpcListen: rpc } : {}),
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
  await new Promise<void>((resolve) => {
    wake = resolve;
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
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
