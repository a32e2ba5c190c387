/**
 * `ordo wal inspect|repair --home DIR`: the operator's tools for a consensus WAL the node refused at
 * start (`WAL_CORRUPT`, damage in the middle of the log; a torn tail is cut by the node itself).
 * `inspect` changes nothing: it lists the records by height and says where the damage is. `repair`
 * keeps a backup copy of the file and cuts the log at the first bad record (docs/operating.md,
 * "Storage faults"). Run both with the node stopped.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { inspectWalFile, repairWalFile, type WalInspection } from '../consensus/index.ts';
import { homePaths } from '../node/index.ts';
import { parse, strArg, UsageError } from './args.ts';

const USAGE = `Usage: ordo wal <inspect|repair> --home DIR [--json]

Commands:
  inspect   list the WAL's records per height and where it is damaged (changes nothing)
  repair    back up the WAL to cs.wal.corrupt-<ms> and cut it at the first bad record

Options:
  --home DIR   node home (the WAL is DIR/data/wal/cs.wal); stop the node first
  --json       print the result as JSON
  -h, --help   show this help`;

function summary(path: string, r: WalInspection): string {
  const lines = [`WAL ${path}: ${r.size} bytes, ${r.records.length} intact records before any damage`];
  const byHeight = new Map<number, number>();
  for (const rec of r.records) byHeight.set(rec.height, (byHeight.get(rec.height) ?? 0) + 1);
  for (const [h, n] of [...byHeight].sort((a, b) => a[0] - b[0])) lines.push(`  height ${h}: ${n} records`);
  const d = r.damage;
  if (d === undefined) lines.push('no damage');
  else {
    lines.push(
      `damage at byte offset ${d.offset}: ${d.reason}; ${
        d.torn
          ? 'no intact record follows (a torn tail: the node truncates it by itself at start)'
          : `intact records follow${d.nextIntactOffset === undefined ? '' : ` (first at offset ${d.nextIntactOffset})`}: the node refuses this log; \`ordo wal repair\` cuts it at offset ${d.offset}, dropping ${r.size - r.validEnd} bytes`
      }`,
    );
  }
  return lines.join('\n');
}

export async function walCommand(argv: string[]): Promise<number> {
  const a = parse(argv, { home: { type: 'string' }, json: { type: 'boolean' } }, USAGE, true);
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [sub, ...extra] = a.positionals;
  if (sub !== 'inspect' && sub !== 'repair') throw new UsageError('expected "inspect" or "repair"', USAGE);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, USAGE);
  const home = strArg(a, 'home');
  if (home === undefined) throw new UsageError('--home is required', USAGE);
  const path = join(homePaths(home).walDir, 'cs.wal');
  if (!existsSync(path)) {
    process.stderr.write(`no WAL at ${path}\n`);
    return 1;
  }
  const json = a.values.json === true;
  if (sub === 'inspect') {
    const r = inspectWalFile(path);
    process.stdout.write(json ? `${JSON.stringify({ path, ...r })}\n` : `${summary(path, r)}\n`);
    return r.damage === undefined || r.damage.torn ? 0 : 3;
  }
  const r = repairWalFile(path);
  if (json) process.stdout.write(`${JSON.stringify({ path, ...r })}\n`);
  else if (r.backup === undefined)
    process.stdout.write(`${summary(path, r.inspection)}\nnothing to repair\n`);
  else {
    process.stdout.write(
      `${summary(path, r.inspection)}\nrepaired: the log now ends at byte ${r.truncatedTo}; the original is kept at ${r.backup}\n`,
    );
  }
  return 0;
}
