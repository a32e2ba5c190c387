/**
 * The node's start-up check of its database (issue #25 item 9, ADR 0089, ADR 0145): before consensus
 * starts, every height up to the head must be present and pass its checksum (`store.verify()`, quick
 * mode: no decoding). A damaged store is either repaired from peers or refused:
 *
 *   checkStore        verify; when LevelDB could not read part of the block ranges and repair is
 *                     allowed, rebuild its tables first (`rebuildTables`: RepairDB, only when nothing
 *                     but block entries can be lost); when damaged and repair is allowed, return the
 *                     report (the node repairs once its network is up), else throw `STORE_CORRUPT` naming the database
 *                     directory, the damaged heights, the files holding them (LevelDB table files, from
 *                     its MANIFEST) and the recovery commands
 *   repairAtStart     wait for peers, re-fetch the damaged heights (consensus `repairFromPeers`: each
 *                     block checked against its certificate and the intact neighbours), rewrite them,
 *                     verify again; still damaged after the time budget: the same `STORE_CORRUPT` refusal
 *
 * Damage the re-fetch cannot mend (the tx index, malformed keys: `report.other`) is always refused.
 */
import type { Logger } from 'pino';
import {
  type RepairableStore,
  repairFromPeers,
  type ValidatorSet,
  type VerifyFn,
} from '../consensus/index.ts';
import { errorMessage, OrdoError } from '../errors.ts';
import type { Network } from '../p2p/index.ts';
import { type EngineBlockStore, formatHeights, type VerifyReport } from '../store/index.ts';

export interface CheckStoreOptions {
  /** Return a damaged report (to repair from peers) instead of refusing; default false. */
  allowRepair?: boolean;
}

async function verifyQuick(store: EngineBlockStore, log: Logger): Promise<VerifyReport> {
  let lastLog = performance.now();
  return store.verify({
    onProgress: (p) => {
      const now = performance.now();
      if (now - lastLog < 2000) return;
      lastLog = now;
      log.info({ phase: p.phase, height: p.height, head: p.head }, 'checking the store');
    },
  });
}

/** The refusal: which database, heights and files, and how to recover. */
export function storeCorruptError(report: VerifyReport, home: string, extra = ''): OrdoError {
  const heights = formatHeights(report.damagedHeights.slice(0, 200));
  const files =
    report.files.length === 0
      ? ''
      : `; in ${report.files.map((f) => `${f.file} (heights ${formatHeights(f.heights.slice(0, 50))})`).join(', ')}`;
  return new OrdoError(
    'STORE_CORRUPT',
    `the ${report.engine} database at ${report.path} is damaged: ${report.damagedCount} of ${report.head} heights (${heights}${report.damagedCount > 200 ? ', ...' : ''})${files}${report.other.length > 0 ? `; ${report.other.join('; ')}` : ''}${extra}. Refusing to start rather than serve missing blocks. Run \`ordo store verify --home ${home}\` for details; recovery (re-fetching the chain from peers) is in docs/operating.md "Storage faults"`,
    {
      path: report.path,
      damagedHeights: report.damagedHeights,
      damagedCount: report.damagedCount,
      files: report.files,
    },
  );
}

/** The engine failed to read part of the database (not only values failing their checksums). */
function engineReadFailed(report: VerifyReport): boolean {
  return (
    report.other.length > 0 ||
    Object.values(report.problems).some((ps) => ps.some((p) => p.includes('unreadable')))
  );
}

/** Heights the peers can restore: every listed damage is per height and nothing else is wrong. */
function repairable(report: VerifyReport): boolean {
  return report.other.length === 0 && report.damagedCount === report.damagedHeights.length;
}

/**
 * Verify the store. Intact: returns the report (`ok`). Damaged: throws `STORE_CORRUPT`, unless
 * `allowRepair` and the damage is per height, when the report is returned for `repairAtStart`.
 */
export async function checkStore(
  store: EngineBlockStore,
  home: string,
  log: Logger,
  opts: CheckStoreOptions = {},
): Promise<VerifyReport> {
  const started = performance.now();
  const report = await verifyQuick(store, log);
  const ms = Math.round(performance.now() - started);
  if (report.ok) {
    log.info({ head: report.head, ms }, 'store check passed');
    return report;
  }
  let current = report;
  if (opts.allowRepair === true && engineReadFailed(report)) {
    // LevelDB could not read parts of a table: rebuild it first (only block entries may be lost,
    // checked by rebuildTables), then the lost heights are missing ones the peers restore.
    log.warn(
      { other: report.other, files: report.files.map((f) => f.file) },
      'store has unreadable table blocks: rebuilding the tables before re-fetching from peers',
    );
    try {
      if (await store.rebuildTables()) current = await verifyQuick(store, log);
    } catch (err) {
      throw storeCorruptError(report, home, `; ${errorMessage(err)}`);
    }
  }
  if (opts.allowRepair === true && repairable(current)) {
    log.warn(
      {
        damaged: current.damagedCount,
        heights: formatHeights(current.damagedHeights.slice(0, 200)),
        files: report.files.map((f) => f.file),
        ms,
      },
      'store is damaged: the damaged heights will be re-fetched from peers before consensus starts',
    );
    return current;
  }
  throw storeCorruptError(current, home);
}

export interface RepairAtStartOptions {
  store: EngineBlockStore & RepairableStore;
  net: Network;
  chainId: string;
  validators: ValidatorSet;
  home: string;
  log: Logger;
  /** Total budget for finding peers and repairing (default 60 s). */
  timeoutMs?: number;
  /** Per request (default 10 s). */
  requestTimeoutMs?: number;
  /** Signature check of the certificates (tests); ed25519 by default. */
  verify?: VerifyFn;
}

/**
 * Re-fetch the damaged heights of `report` from peers and rewrite them, retrying until every height is
 * repaired and the store verifies, or the budget runs out: then `STORE_CORRUPT` as `checkStore` throws
 * it, saying what the peers answered.
 */
export async function repairAtStart(report: VerifyReport, o: RepairAtStartOptions): Promise<void> {
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  const started = Date.now();
  let current = report;
  let last = 'no peer connected';
  let wait = 250;
  while (Date.now() < deadline) {
    if (o.net.peers().length > 0) {
      const r = await repairFromPeers(current.damagedHeights, {
        net: o.net,
        store: o.store,
        chainId: o.chainId,
        validators: o.validators,
        verify: o.verify,
        timeoutMs: Math.max(1000, Math.min(o.requestTimeoutMs ?? 10_000, deadline - Date.now())),
        log: (level, msg, data) => o.log[level](data, msg),
      });
      if (r.failed.length > 0) last = `height ${r.failed[0]!.height}: ${r.failed[0]!.reason}`;
      current = await verifyQuick(o.store, o.log);
      if (current.ok) {
        o.log.warn(
          { repaired: report.damagedCount, ms: Date.now() - started },
          'store repaired: damaged heights re-fetched from peers and rewritten',
        );
        return;
      }
      if (!repairable(current)) break;
    }
    await new Promise((r) => setTimeout(r, Math.min(wait, Math.max(0, deadline - Date.now()))));
    wait = Math.min(2000, wait * 2);
  }
  throw storeCorruptError(
    current,
    o.home,
    `; re-fetching from peers for ${Math.round((Date.now() - started) / 1000)} s did not repair it (${last})`,
  );
}
