/**
 * The node's start-up check of its database (issue #25 item 9, ADR 0089): before consensus starts,
 * every height up to the head must be present and pass its checksum (`store.verify()`, quick mode:
 * no decoding). A damaged store stops start-up with `STORE_CORRUPT` naming the database directory,
 * the damaged heights, the files holding them (LevelDB table files, from its MANIFEST) and the
 * recovery commands, instead of serving holes to rollups and peers.
 */
import type { Logger } from 'pino';
import { OrdoError } from '../errors.ts';
import { type EngineBlockStore, formatHeights } from '../store/index.ts';

export async function checkStore(store: EngineBlockStore, home: string, log: Logger): Promise<void> {
  const started = performance.now();
  let lastLog = started;
  const report = await store.verify({
    onProgress: (p) => {
      const now = performance.now();
      if (now - lastLog < 2000) return;
      lastLog = now;
      log.info({ phase: p.phase, height: p.height, head: p.head }, 'checking the store');
    },
  });
  const ms = Math.round(performance.now() - started);
  if (report.ok) {
    log.info({ head: report.head, ms }, 'store check passed');
    return;
  }
  const heights = formatHeights(report.damagedHeights.slice(0, 200));
  const files =
    report.files.length === 0
      ? ''
      : `; in ${report.files.map((f) => `${f.file} (heights ${formatHeights(f.heights.slice(0, 50))})`).join(', ')}`;
  throw new OrdoError(
    'STORE_CORRUPT',
    `the ${report.engine} database at ${report.path} is damaged: ${report.damagedCount} of ${report.head} heights (${heights}${report.damagedCount > 200 ? ', ...' : ''})${files}${report.other.length > 0 ? `; ${report.other.join('; ')}` : ''}. Refusing to start rather than serve missing blocks. Run \`ordo store verify --home ${home}\` for details; recovery (re-fetching the chain from peers) is in docs/operating.md "Storage faults"`,
    {
      path: report.path,
      damagedHeights: report.damagedHeights,
      damagedCount: report.damagedCount,
      files: report.files,
    },
  );
}
