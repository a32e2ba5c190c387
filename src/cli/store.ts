/**
 * `ordo store verify --home DIR`: scan the node's database for damage (checksums, missing values,
 * and with the default deep scan, decoding and hash links of every block) with progress on stderr, and
 * report the damaged heights. Exit 0 when clean, 3 when damage was found. Run it with the node stopped
 * (the database allows one process). Recovery is in docs/operating.md, "Storage faults".
 */
import { homePaths } from '../node/index.ts';
import { formatHeights, openStore, type VerifyProgress } from '../store/index.ts';
import { parse, strArg, UsageError } from './args.ts';

const USAGE = `Usage: ordo store verify --home DIR [options]

Options:
  --home DIR   node home (the database is DIR/data/db); stop the node first
  --quick      presence and checksums only (what the node checks at start), no decoding
  --json       print the report as JSON on stdout
  -h, --help   show this help`;

export async function storeCommand(argv: string[]): Promise<number> {
  const a = parse(
    argv,
    { home: { type: 'string' }, quick: { type: 'boolean' }, json: { type: 'boolean' } },
    USAGE,
    true,
  );
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [sub, ...extra] = a.positionals;
  if (sub !== 'verify') throw new UsageError('expected "verify"', USAGE);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, USAGE);
  const home = strArg(a, 'home');
  if (home === undefined) throw new UsageError('--home is required', USAGE);
  const path = homePaths(home).db;
  const store = await openStore({ path });
  let last = '';
  const progress = (p: VerifyProgress): void => {
    const line = `verify ${p.phase}: height ${p.height}/${p.head}, ${p.damaged} damaged`;
    if (line !== last) process.stderr.write(`${line}\n`);
    last = line;
  };
  try {
    const r = await store.verify({ deep: a.values.quick !== true, onProgress: progress });
    if (a.values.json === true) process.stdout.write(`${JSON.stringify(r)}\n`);
    else if (r.ok) {
      process.stdout.write(
        `store ${path} (${r.engine}) is intact: ${r.head} heights, ${r.checked.blocks} blocks, ${r.checked.certificates} certificates, ${r.checked.hashes} hashes${r.deep ? `, ${r.checked.txIndex} tx-index entries` : ''} checked\n`,
      );
    } else {
      const lines = [
        `store ${path} (${r.engine}) is DAMAGED: ${r.damagedCount} of ${r.head} heights: ${formatHeights(r.damagedHeights)}`,
      ];
      for (const h of r.damagedHeights.slice(0, 50))
        lines.push(`  height ${h}: ${(r.problems[h] ?? []).join('; ')}`);
      if (r.damagedHeights.length > 50)
        lines.push(`  ... ${r.damagedHeights.length - 50} more (--json lists them)`);
      for (const o of r.other) lines.push(`  ${o}`);
      for (const f of r.files) lines.push(`  file ${f.file}: heights ${formatHeights(f.heights)}`);
      lines.push('recovery: docs/operating.md, "Storage faults"');
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return r.ok ? 0 : 3;
  } finally {
    await store.close();
  }
}
