/**
 * `ordo status --rpc URL`: asks a running node for `ordo_status` and prints it as JSON, with the full
 * Ethereum JSON-RPC URL of each EVM rollup (`rollups[].ethRpc`, e.g. http://127.0.0.1:8545/evm/3).
 */
import { parse, strArg, UsageError } from './args.ts';
import { rpcCall } from './rpc-client.ts';

const USAGE = `Usage: ordo status --rpc URL

Options:
  --rpc URL     the node's JSON-RPC endpoint, e.g. http://127.0.0.1:8545 (required)
  -h, --help    show this help`;

export async function statusCommand(argv: string[]): Promise<number> {
  const a = parse(argv, { rpc: { type: 'string' } }, USAGE);
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const url = strArg(a, 'rpc');
  if (url === undefined) throw new UsageError('--rpc is required', USAGE);
  const status = (await rpcCall(url, 'ordo_status', [])) as { rollups?: { ethRpc?: unknown }[] };
  const base = url.replace(/\/+$/, '');
  for (const r of status?.rollups ?? []) {
    if (typeof r.ethRpc === 'string' && r.ethRpc.startsWith('/')) r.ethRpc = `${base}${r.ethRpc}`;
  }
  process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
  return 0;
}
