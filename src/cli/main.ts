/**
 * The `ordo` CLI: parses the command line and dispatches to subcommands. Each subcommand lives in its
 * own module and returns an exit code; usage errors exit 2, runtime errors exit 1 with one line that
 * says what went wrong.
 */
import { readFileSync } from 'node:fs';
import { errorMessage, isOrdoError } from '../errors.ts';
import { UsageError } from './args.ts';

/** The package version (package.json next to bin/ and src/). */
export function ordoVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

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
  config: {
    summary: 'check a config file (validate) or print the config reference',
    load: async () => (await import('./config.ts')).configCommand,
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
  bid: {
    summary: 'bid in the MEV auction: info, account, deposit, withdraw, place, outcome',
    load: async () => (await import('./bid.ts')).bidCommand,
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

Options:
  --version, -v  print the version
  --help, -h     show this help

Run "ordo help <command>" (or "ordo <command> --help") for a command's options.`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === '-v' || cmd === 'version') {
    process.stdout.write(`ordo ${ordoVersion()} (node ${process.versions.node})\n`);
    return 0;
  }
  if (cmd === 'help' && rest[0] !== undefined) {
    // `ordo help <command>` is `ordo <command> --help`.
    if (COMMANDS[rest[0]] === undefined) {
      process.stderr.write(`error: unknown command "${rest[0]}"\n\n${USAGE}\n`);
      return 2;
    }
    return main([rest[0], '--help']);
  }
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
