/**
 * The `ordo` CLI: parses the command line and dispatches to subcommands. Each subcommand lives in its
 * own module and returns an exit code; usage errors exit 2, runtime errors exit 1 with one line that
 * says what went wrong.
 */
import { errorMessage, isOrdoError } from '../errors.ts';
import { UsageError } from './args.ts';

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  init: {
    summary: 'create a node home: keys, config and (by default) a devnet genesis',
    load: async () => (await import('./init.ts')).initCommand,
  },
  start: {
    summary: 'run a node from its home directory',
    load: async () => (await import('./start.ts')).startCommand,
  },
  status: {
    summary: "print a running node's status over JSON-RPC",
    load: async () => (await import('./status.ts')).statusCommand,
  },
  testnet: {
    summary: 'run and control a local multi-node testnet',
    load: async () => (await import('./testnet.ts')).testnetCommand,
  },
  store: {
    summary: 'check the database for damage (store verify)',
    load: async () => (await import('./store.ts')).storeCommand,
  },
  wal: {
    summary: 'inspect or repair the consensus write-ahead log',
    load: async () => (await import('./wal.ts')).walCommand,
  },
  bench: {
    summary: 'open-loop load generator against one or more nodes',
    load: async () => (await import('./bench.ts')).benchCommand,
  },
};

export const USAGE = `Usage: ordo <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([n, c]) => `  ${n.padEnd(9)} ${c.summary}`)
  .join('\n')}

Run "ordo <command> --help" for a command's options.`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return cmd === undefined ? 2 : 0;
  }
  const entry = COMMANDS[cmd];
  if (entry === undefined) {
    process.stderr.write(`error: unknown command "${cmd}"\n\n${USAGE}\n`);
    return 2;
  }
  try {
    return await (await entry.load())(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n\n${err.usage}\n`);
      return 2;
    }
    const code = isOrdoError(err) ? ` [${err.code}]` : '';
    process.stderr.write(`error${code}: ${errorMessage(err)}\n`);
    if (process.env.ORDO_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return 1;
  }
}
