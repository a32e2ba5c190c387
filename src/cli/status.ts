/**
 * `ordo status [--rpc URL]`: asks a running node for `ordo_status` and prints it as JSON.
 */
import { DEFAULT_CONFIG } from '../config/index.ts';
import { isOrdoError, OrdoError } from '../errors.ts';
import { rpcCall } from '../rpc/index.ts';
import { parse, strArg } from './args.ts';

const DEFAULT_RPC = `http://${DEFAULT_CONFIG.rpc.listen}`;

const USAGE = `Usage: ordo status [--rpc URL]

Options:
  --rpc URL     the node's JSON-RPC endpoint (default ${DEFAULT_RPC}, the default rpc.listen)
  -h, --help    show this help`;

export async function statusCommand(argv: string[]): Promise<number> {
  const a = parse(argv, { rpc: { type: 'string' } }, USAGE);
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const url = strArg(a, 'rpc') ?? DEFAULT_RPC;
  let status: unknown;
  try {
    status = await rpcCall(url, 'ordo_status', []);
  } catch (err) {
    if (isOrdoError(err) && err.code === 'RPC_UNREACHABLE')
      throw new OrdoError(err.code, `${err.message}; is a node running there? --rpc URL names another`);
    throw err;
  }
  process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
  return 0;
}
