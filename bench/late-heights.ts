/**
 * Classify the heights of a kept mix testnet (`ORDO_BENCH_KEEP=1 npm run bench:testnet -- --mix ...`) that
 * needed more than one round, from every node's height timeline (docs/operating.md "Height timeline"),
 * and say for each whether the round-0 proposer's own executor was behind the others' (ADR 0307, 0308).
 *
 *   node bench/late-heights.ts --out FILE DIR [DIR ...]     (DIR: the kept testnet's nodes/ directory)
 *
 * Per late height h: `cause` from the round-0 proposer's timeline — `build_failed` (buildError),
 * `built_late` (its build ended more than 1 s into the height; `empty_wait` when that block was empty:
 * the heartbeat wait, consensus.heartbeatMs), `sent_late` (it left more than 500 ms
 * after the build), else `arrived_late`; for the first two, `results` says when the h - 2 results the
 * build waits for were executed, in ms since the proposer's height start: on the proposer, and on each
 * other node (wall-clock mapped; absent = before the height started there, the line at debug), and
 * `proposerBehindMs` = proposer − median of the others (positive: the proposer's executor was later).
 * `stallInBuildMs`: main-thread stalls of the proposer inside its build window. `allHeights`: over every
 * height that every node logged (all of them when the nodes log timelines at debug), the median of
 * proposer − median of the others for the h - 2 results, and for main-thread stall ms in the height's
 * first 2 s; the first also split by whether the proposer ran simulations in h - 1 or h. Needs nodes that log `executed` (ADR 0307 on); older checkouts give the causes only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeResult } from './lib/json-out.ts';

interface Round {
  round: number;
  buildStart?: number;
  buildEnd?: number;
  buildError?: string;
  proposalIn?: number;
  txs?: number;
}

interface Timeline {
  height: number;
  round: number;
  txs: number;
  decidedMs: number;
  rounds: Round[];
  executed?: [number, number, number, number, number][];
  loopStalls?: [number, number][];
  simulated?: [number, number];
  /** Wall-clock ms at which the height started on this node. */
  startAbs: number;
}

const { values: args, positionals } = parseArgs({
  options: { out: { type: 'string' } },
  allowPositionals: true,
});
if (positionals.length === 0) throw new Error('usage: node bench/late-heights.ts --out FILE DIR [DIR ...]');

/** Heights any node logged `committed block` for (the run's heights, whatever the timeline level). */
const committedHeights = new Set<number>();

function readNodes(dir: string): Map<string, Map<number, Timeline>> {
  const nodes = new Map<string, Map<number, Timeline>>();
  for (const node of readdirSync(dir).sort()) {
    let text: string;
    try {
      text = readFileSync(join(dir, node, 'node.log'), 'utf8');
    } catch {
      continue;
    }
    const byHeight = new Map<number, Timeline>();
    for (const line of text.split('\n')) {
      if (line.includes('"committed block"')) {
        const m = /"height":(\d+)/.exec(line);
        if (m !== null) committedHeights.add(Number(m[1]));
        continue;
      }
      if (!line.includes('"rounds"')) continue;
      try {
        const j = JSON.parse(line) as Omit<Timeline, 'startAbs'> & { time: string | number };
        if (!Array.isArray(j.rounds) || typeof j.height !== 'number') continue;
        const t = typeof j.time === 'number' ? j.time : Date.parse(j.time);
        byHeight.set(j.height, { ...j, startAbs: t - j.decidedMs });
      } catch {
        // not a timeline line
      }
    }
    nodes.set(node, byHeight);
  }
  return nodes;
}

const median = (xs: number[]): number | undefined => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/** When `node` finished executing `height` (wall-clock), from its timelines of that height onwards. */
function executedEnd(tls: Map<number, Timeline>, height: number): number | undefined {
  for (let h = height; h <= height + 5; h++) {
    const t = tls.get(h);
    const e = t?.executed?.find((x) => x[0] === height);
    if (t !== undefined && e !== undefined) return t.startAbs + e[4];
  }
  return undefined;
}

function analyse(dir: string) {
  const nodes = readNodes(dir);
  const heights = new Set<number>();
  for (const m of nodes.values()) for (const h of m.keys()) heights.add(h);
  const late = [];
  for (const h of [...heights].sort((a, b) => a - b)) {
    let proposer: string | undefined;
    for (const [n, m] of nodes)
      if (m.get(h)?.rounds.find((r) => r.round === 0)?.buildStart !== undefined) proposer = n;
    const pt = proposer === undefined ? undefined : nodes.get(proposer)!.get(h);
    if (pt === undefined || pt.round === 0) continue;
    const r0 = pt.rounds.find((r) => r.round === 0)!;
    const cause =
      r0.buildError !== undefined
        ? 'build_failed'
        : (r0.buildEnd ?? 0) > 1000 && r0.txs === 0
          ? 'empty_wait'
          : (r0.buildEnd ?? 0) > 1000
            ? 'built_late'
            : r0.proposalIn !== undefined && r0.proposalIn - (r0.buildEnd ?? 0) > 500
              ? 'sent_late'
              : 'arrived_late';
    const row: Record<string, unknown> = {
      height: h,
      decidedRound: pt.round,
      txs: pt.txs,
      proposer,
      cause,
      build: [r0.buildStart, r0.buildEnd, r0.buildError],
    };
    if (cause === 'build_failed' || cause === 'built_late') {
      const rel = (abs: number | undefined) =>
        abs === undefined ? undefined : Math.round(abs - pt.startAbs);
      const mine = rel(executedEnd(nodes.get(proposer!)!, h - 2));
      const others: Record<string, number | null> = {};
      for (const [n, m] of nodes) if (n !== proposer) others[n] = rel(executedEnd(m, h - 2)) ?? null;
      // A node whose timeline of h lacks h - 2 had it before h started there (0 is an upper bound).
      const otherEnds = Object.values(others).map((x) => x ?? 0);
      const med = median(otherEnds);
      row.results = { proposer: mine ?? null, others };
      row.proposerBehindMs = mine === undefined || med === undefined ? null : mine - Math.max(0, med);
      const [bs, be] = [r0.buildStart ?? 0, r0.buildEnd ?? 0];
      row.stallInBuildMs = (pt.loopStalls ?? [])
        .map(([s, ms]) => Math.max(0, Math.min(be, s + ms) - Math.max(bs, s)))
        .reduce((a, b) => a + b, 0);
      row.simulated = pt.simulated ?? null;
    }
    late.push(row);
  }
  // Every height whose timelines are logged on every node (all of them when nodes log at debug): the
  // proposer's h - 2 results and main-thread stalls in the height's first 2 s against the others'.
  const behind: number[] = [];
  const behindSims: number[] = [];
  const behindNoSims: number[] = [];
  const stallDiff: number[] = [];
  const stallsAbs = new Map<string, [number, number][]>();
  for (const [n, m] of nodes) {
    const seen = new Map<number, number>();
    for (const t of m.values())
      for (const [s, ms] of t.loopStalls ?? []) seen.set(Math.round(t.startAbs + s), ms);
    stallsAbs.set(n, [...seen]);
  }
  const stalled = (n: string, a: number, b: number): number =>
    (stallsAbs.get(n) ?? []).reduce((x, [s, ms]) => x + Math.max(0, Math.min(b, s + ms) - Math.max(a, s)), 0);
  for (const h of heights) {
    let proposer: string | undefined;
    for (const [n, m] of nodes)
      if (m.get(h)?.rounds.find((r) => r.round === 0)?.buildStart !== undefined) proposer = n;
    const pt = proposer === undefined ? undefined : nodes.get(proposer)!.get(h);
    if (pt === undefined) continue;
    const others = [...nodes.keys()].filter((n) => n !== proposer);
    if (!others.every((n) => nodes.get(n)!.has(h))) continue;
    const mine = executedEnd(nodes.get(proposer!)!, h - 2);
    const theirs = others.map((n) => executedEnd(nodes.get(n)!, h - 2)).filter((x) => x !== undefined);
    const med = median(theirs);
    if (mine !== undefined && med !== undefined && theirs.length === others.length) {
      behind.push(mine - med);
      // Did the proposer simulate (presimulation after h - 1, or the build's select) in h - 1 or h?
      const sims = (pt.simulated?.[0] ?? 0) + (nodes.get(proposer!)!.get(h - 1)?.simulated?.[0] ?? 0);
      (sims > 0 ? behindSims : behindNoSims).push(mine - med);
    }
    const a = pt.startAbs;
    const o = median(others.map((n) => stalled(n, a, a + 2000)));
    if (o !== undefined) stallDiff.push(stalled(proposer!, a, a + 2000) - o);
  }
  const allHeights = {
    compared: behind.length,
    proposerBehindMsMedian: median(behind) ?? null,
    proposerLaterCount: behind.filter((x) => x > 0).length,
    withSimulations: {
      compared: behindSims.length,
      proposerBehindMsMedian: median(behindSims) ?? null,
      proposerLaterCount: behindSims.filter((x) => x > 0).length,
    },
    withoutSimulations: {
      compared: behindNoSims.length,
      proposerBehindMsMedian: median(behindNoSims) ?? null,
      proposerLaterCount: behindNoSims.filter((x) => x > 0).length,
    },
    stallsCompared: stallDiff.length,
    proposerStallMsMinusOthersMedian: median(stallDiff) ?? null,
  };
  const counts: Record<string, number> = {};
  for (const r of late) counts[r.cause as string] = (counts[r.cause as string] ?? 0) + 1;
  const committed = committedHeights.size;
  committedHeights.clear();
  return {
    dir,
    heights: Math.max(committed, heights.size),
    afterRound0: late.length,
    causes: counts,
    allHeights,
    late,
  };
}

const out = positionals.map(analyse);
writeResult(out, args.out);
