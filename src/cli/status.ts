/**
 * `ordo status [--rpc URL]`: asks a running node for `ordo_status` and prints it as JSON, with the
 * full Ethereum JSON-RPC URL of each EVM rollup (`rollups[].ethRpc`, e.g. http://127.0.0.1:8545/evm/3).
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
  const s = status as { rollups?: { ethRpc?: unknown }[] } | null;
  const base = url.replace(/\/+$/, '');
  for (const r of s?.rollups ?? []) {
    if (typeof r.ethRpc === 'string' && r.ethRpc.startsWith('/')) r.ethRpc = `${base}${r.ethRpc}`;
  }
  process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
  return 0;
}
