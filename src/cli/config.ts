/**
 * `ordo config validate [--home DIR | --file FILE]`: checks a node's config.json (and the genesis.json
 * next to it) without starting anything, printing every bad key with its value and what is allowed.
 * `ordo config reference`: prints the commented config reference (docs/config.md is this output).
 */
import { existsSync } from 'node:fs';
import { checkConfigAgainstGenesis, configReference, loadConfig, loadGenesis } from '../config/index.ts';
import { errorMessage } from '../errors.ts';
import { homePaths, resolveHome } from '../node/index.ts';
import { parse, strArg, UsageError } from './args.ts';

const USAGE = `Usage: ordo config <validate|reference> [options]

  validate        check config.json (and genesis.json when present) of a home; exit 1 if invalid
  reference       print the commented reference of every config key (docs/config.md)

Options of validate:
  --home DIR      node home (default: $ORDO_HOME, else ~/.ordo)
  --file FILE     check this config file instead of <home>/config.json (genesis is then not checked)
  -h, --help      show this help`;

export async function configCommand(argv: string[]): Promise<number> {
  const a = parse(argv, { home: { type: 'string' }, file: { type: 'string' } }, USAGE, true);
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [sub, ...extra] = a.positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, USAGE);
  if (sub === 'reference') {
    process.stdout.write(configReference());
    return 0;
  }
  if (sub !== 'validate')
    throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`, USAGE);
  const file = strArg(a, 'file');
  const paths = homePaths(resolveHome(strArg(a, 'home')));
  const checks: { what: string; file: string; run: () => unknown }[] = [
    { what: 'config', file: file ?? paths.config, run: () => loadConfig(file ?? paths.config) },
  ];
  if (file === undefined && existsSync(paths.genesis)) {
    checks.push({ what: 'genesis', file: paths.genesis, run: () => loadGenesis(paths.genesis) });
    // Settings valid alone that do not fit together (read only when both files are valid).
    checks.push({
      what: 'config against genesis',
      file: `${paths.config} with ${paths.genesis}`,
      run: () => {
        let both: [ReturnType<typeof loadConfig>, ReturnType<typeof loadGenesis>];
        try {
          both = [loadConfig(paths.config), loadGenesis(paths.genesis)];
        } catch {
          return 'skipped';
        }
        checkConfigAgainstGenesis(both[0], both[1], paths.config);
        return undefined;
      },
    });
  }
  let bad = 0;
  for (const c of checks) {
    try {
      if (c.run() !== 'skipped') process.stdout.write(`ok: ${c.file}\n`);
    } catch (err) {
      bad++;
      process.stderr.write(`${errorMessage(err)}\n`);
    }
  }
  return bad === 0 ? 0 : 1;
}
