/**
 * The realistic mix of `npm run bench:testnet -- --mix` (issue 26 item 3): one real 4-validator
 * `ordo testnet up --load 0` (the four demo rollups: opaque 1, transfer 2, evm 3, evm-2 4) driven by this
 * process with a weighted open-loop load over every kind, plus cross-rollup bundles:
 *
 *   opaque     `size`-byte payloads on namespace 1;
 *   transfer   signed transfer-VM payments on namespace 2 (demo accounts 0..55);
 *   erc20      ERC-20 `transfer` calls on namespace 3 to a token deployed at setup, recipients spread over
 *              the senders (low contention);
 *   contention the same on namespace 4, every transfer to ONE address: each transaction writes the same
 *              balance slot, so the parallel executor's read sets collide;
 *   bundles    `BundlePlanner` + `sendBundles` (src/loadgen/bundles.ts, used as they are) over the three
 *              executed rollups from the reserved demo accounts 56..63, half of them cross-rollup.
 *
 * Senders stick to one node (as a wallet does): the load is four open-loop generators, one per node, each
 * with its own quarter of the accounts; a nonce sequence spread over four nodes would arrive out of
 * order and be refused (`NONCE_GAP_TOO_LARGE`) whenever gossip lags.
 *
 * Measured: committed tx/s per kind and submit → commit p50/p99 (the generator's per-source report);
 * submit → pre-confirmation for executed kinds: a transaction is pre-confirmed when the node it was
 * submitted to has executed its height (the node's Ethereum index announces each executed height on
 * `eth_subscribe newHeads` of `/evm/3`, after the executor persisted it; every executed rollup of a height
 * is executed in the same pass, so that time bounds the transfer rollup's too); bundles' own submit →
 * pre-confirmation from `sendBundles`; executor lag behind consensus per node, once a second from the
 * node's /metrics (`ordo_chain_height` − `ordo_exec_height`), with its trend (a least-squares slope over
 * the window: bounded means ≈ 0), and ms from a height's commit (as the follower saw it) to its execution; CPU per committed transaction as in the plain
 * benchmark (every testnet process from /proc, plus this process, which is the load generator here).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Abi, encodeDeployData, encodeFunctionData, type Hex, parseEther } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { WebSocket } from 'ws';
import { demoEvmKey, evmAddress } from '../../src/config/index.ts';
import {
  BlockFollower,
  BundlePlanner,
  type BundleSendReport,
  type CommitEvent,
  Erc20Payloads,
  LoadGenerator,
  type LoadReport,
  OpaquePayloads,
  sendBundles,
  summarize,
  TransferPayloads,
} from '../../src/loadgen/index.ts';
import { rpcCall } from '../../src/rpc/index.ts';
import type { TestnetReport } from '../../testnet/orchestrator.ts';
import { findFreeBasePort } from '../../testnet/setup.ts';
import { readState } from '../../testnet/state.ts';
import { TreeCpuSampler } from './proc-cpu.ts';

export interface MixShares {
  opaque: number;
  transfer: number;
  erc20: number;
  contention: number;
}

export interface MixOptions {
  repo: string;
  rate: number;
  durationSec: number;
  warmupSec: number;
  sizeBytes: number;
  shares: MixShares;
  bundlesPerSec: number;
  binary: boolean;
  /** One core's ed25519 verify (µs), measured by the caller. */
  verifyMicros: number;
  /** Write a V8 CPU profile of every node into this directory (`--cpu-prof DIR`). */
  cpuProfDir?: string;
  log: (line: string) => void;
}

const VALIDATORS = 4;
const NS = { opaque: 1, transfer: 2, erc20: 3, contention: 4 } as const;
const EVM_CHAIN_IDS = { 3: 900_001, 4: 900_002 } as const;
/** Load senders (transfer and EVM); 56..63 stay free for bundles. */
const LOAD_ACCOUNTS = Array.from({ length: 56 }, (_, i) => i);
const BUNDLE_ACCOUNTS = Array.from({ length: 8 }, (_, i) => 56 + i);
const HOT_RECIPIENT = '0x000000000000000000000000000000000000beef';
const DRAIN_MS = 10_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round1 = (x: number) => Math.round(x * 10) / 10;

function tokenArtifact(repo: string): { abi: Abi; bytecode: Hex } {
  return JSON.parse(readFileSync(join(repo, 'test', 'fixtures', 'evm', 'OrdoToken.json'), 'utf8')) as {
    abi: Abi;
    bytecode: Hex;
  };
}

/** Deploy a token on one EVM rollup from account 0 and give every load account a share; → its address. */
async function setupToken(url: string, ns: 3 | 4, repo: string, log: (l: string) => void): Promise<string> {
  const evm = `${url}/evm/${ns}`;
  const art = tokenArtifact(repo);
  const deployer = privateKeyToAccount(`0x${Buffer.from(demoEvmKey(0)).toString('hex')}`);
  const fees = { maxFeePerGas: 3_000_000_000n, maxPriorityFeePerGas: 0n, type: 'eip1559' as const };
  let nonce = Number(
    BigInt((await rpcCall(evm, 'eth_getTransactionCount', [deployer.address, 'pending'], 5000)) as string),
  );
  if (nonce !== 0)
    throw new Error(`namespace ${ns}: account 0 already sent ${nonce} transactions (not a fresh chain)`);
  const send = async (o: { to?: Hex; data: Hex; gas: bigint }): Promise<Hex> =>
    (await rpcCall(
      evm,
      'eth_sendRawTransaction',
      [await deployer.signTransaction({ chainId: EVM_CHAIN_IDS[ns], nonce: nonce++, ...fees, ...o })],
      5000,
    )) as Hex;
  const receipt = async (h: Hex): Promise<{ status: string; contractAddress: string | null }> => {
    for (let i = 0; i < 600; i++) {
      const r = (await rpcCall(evm, 'eth_getTransactionReceipt', [h], 5000)) as {
        status: string;
        contractAddress: string | null;
      } | null;
      if (r !== null) return r;
      await sleep(100);
    }
    throw new Error(`namespace ${ns}: no receipt for ${h} within 60 s`);
  };
  const deployData = encodeDeployData({
    abi: art.abi,
    bytecode: art.bytecode,
    args: ['Mix Token', 'MIX', parseEther('1000000000')],
  });
  const d = await receipt(await send({ data: deployData, gas: 3_000_000n }));
  if (d.status !== '0x1' || d.contractAddress === null)
    throw new Error(`namespace ${ns}: token deploy failed`);
  const token = d.contractAddress as Hex;
  const hashes: Hex[] = [];
  for (const i of LOAD_ACCOUNTS.slice(1)) {
    const data = encodeFunctionData({
      abi: art.abi,
      functionName: 'transfer',
      args: [evmAddress(demoEvmKey(i)) as Hex, parseEther('1000000')],
    });
    hashes.push(await send({ to: token, data, gas: 65_000n }));
  }
  for (const h of hashes) {
    const r = await receipt(h);
    if (r.status !== '0x1') throw new Error(`namespace ${ns}: token distribution ${h} failed`);
  }
  log(`namespace ${ns}: token ${token} deployed and spread over ${LOAD_ACCOUNTS.length} accounts`);
  return token;
}

/** Each node's executed heights, from `eth_subscribe newHeads` on its /evm/3 (see the module comment). */
class ExecWatch {
  readonly execAt = new Map<number, number>();
  executed = 0;
  readonly #ws: WebSocket;

  constructor(url: string) {
    this.#ws = new WebSocket(`${url.replace(/^http/, 'ws')}/evm/3`, { handshakeTimeout: 5000 });
    this.#ws.on('open', () =>
      this.#ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] })),
    );
    this.#ws.on('message', (data) => {
      const now = Date.now();
      try {
        const m = JSON.parse(data.toString()) as { params?: { result?: { number?: string } } };
        const n = m.params?.result?.number;
        if (typeof n !== 'string') return;
        const h = Number(BigInt(n));
        if (!this.execAt.has(h)) this.execAt.set(h, now);
        if (h > this.executed) this.executed = h;
      } catch {
        // a malformed notification: the next one carries the height
      }
    });
    this.#ws.on('error', () => {});
  }

  close(): void {
    this.#ws.terminate();
  }
}

/** A node's executor lag in heights from its /metrics (`ordo_chain_height` − `ordo_exec_height`), or null. */
async function nodeLag(url: string): Promise<number | null> {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    const chain = /^ordo_chain_height (\d+)/m.exec(text)?.[1];
    const exec = /^ordo_exec_height (\d+)/m.exec(text)?.[1];
    if (chain === undefined || exec === undefined) return null;
    return Math.max(0, Number(chain) - Number(exec));
  } catch {
    return null;
  }
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

function startTestnet(
  repo: string,
  dir: string,
  base: number,
  cpuProfDir: string | undefined,
): { child: ChildProcess; exited: Promise<number | null> } {
  const argv = [
    join(repo, 'bin', 'ordo.js'),
    'testnet',
    'up',
    '--validators',
    String(VALIDATORS),
    '--rollups',
    '4',
    '--load',
    '0',
    '--duration',
    '3600',
    '--dashboard',
    '0',
    '--base-port',
    String(base),
    '--dir',
    dir,
    '--report',
    join(dir, 'report.json'),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (cpuProfDir !== undefined) env.ORDO_TESTNET_NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${cpuProfDir}`;
  const child = spawn(process.execPath, argv, { cwd: repo, env, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return { child, exited };
}

export async function runMix(o: MixOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'ordo-bench-mix-'));
  mkdirSync(dir, { recursive: true });
  const base = await findFreeBasePort(VALIDATORS);
  const { child, exited } = startTestnet(o.repo, dir, base, o.cpuProfDir);
  const sampler = child.pid === undefined ? undefined : new TreeCpuSampler(child.pid);
  const watches: ExecWatch[] = [];
  let follower: BlockFollower | undefined;
  try {
    let urls: string[] = [];
    for (let i = 0; i < 180 && urls.length === 0; i++) {
      const s = readState(dir);
      if (s?.nodes.length === VALIDATORS && s.nodes.every((n) => n.state === 'running'))
        urls = s.nodes.map((n) => n.rpc);
      else await sleep(500);
    }
    if (urls.length === 0) throw new Error('the testnet did not come up within 90 s');
    for (let i = 0; i < 120; i++) {
      const s = (await rpcCall(urls[0]!, 'ordo_status', [], 3000).catch(() => ({ height: 0 }))) as {
        height: number;
      };
      if (s.height >= 2) break;
      await sleep(500);
    }
    o.log(`testnet up (${urls.join(' ')}); deploying tokens`);
    const [t3, t4] = await Promise.all([
      setupToken(urls[0]!, 3, o.repo, o.log),
      setupToken(urls[1]!, 4, o.repo, o.log),
    ]);
    const names = ['opaque', 'transfer', 'erc20', 'contention'] as const;
    const weights = names.map((n) => o.shares[n]);
    const active = weights.map((w) => w > 0);
    const sourcesKind = names.filter((_, i) => active[i]);
    for (const u of urls) watches.push(new ExecWatch(u));
    follower = new BlockFollower({ urls });
    const commitAt = new Map<number, number>();
    // Every block's proposal time and size: the chain's own throughput, whenever this process hears of it.
    const blocks: { timeMs: number; txs: number; round: number }[] = [];
    follower.onBlock((b) => {
      commitAt.set(b.height, b.observedAt);
      blocks.push({ timeMs: b.timeMs, txs: b.txs.length, round: b.round });
    });
    // Every measured commit (kind, target, sent, height, observed), matched after the run.
    const ev: CommitEvent[] = [];
    const gens = urls.map((url, t) => {
      const mine = LOAD_ACCOUNTS.filter((_, i) => i % urls.length === t);
      const starts = mine.map((a) => (a === 0 ? LOAD_ACCOUNTS.length : 0));
      const all = [
        new OpaquePayloads(NS.opaque, o.sizeBytes),
        new TransferPayloads(NS.transfer, mine),
        new Erc20Payloads({
          namespace: 3,
          evmChainId: EVM_CHAIN_IDS[3],
          token: t3,
          accounts: mine,
          startNonces: starts,
        }),
        new Erc20Payloads({
          namespace: 4,
          evmChainId: EVM_CHAIN_IDS[4],
          token: t4,
          accounts: mine,
          startNonces: starts,
          hotRecipient: HOT_RECIPIENT,
        }),
      ];
      return new LoadGenerator({
        urls: [url],
        rate: o.rate / urls.length,
        durationSec: o.durationSec,
        warmupSec: o.warmupSec,
        drainMs: DRAIN_MS,
        sources: all.filter((_, i) => active[i]),
        weights: weights.filter((w) => w > 0),
        follower: follower!,
        binary: o.binary,
        onCommit: (c) => ev.push({ ...c, target: t }),
      });
    });
    await follower.start();
    const lagSeries: { t: number; heights: number[] }[] = [];
    // Each node's own view, from its /metrics: ordo_chain_height − ordo_exec_height (robust to this
    // process being slow: the heights are the node's, not when we heard of them).
    let scraping = false;
    const lagTimer = setInterval(() => {
      if (scraping) return;
      scraping = true;
      const t = Date.now();
      void Promise.all(urls.map((u) => nodeLag(u)))
        .then((heights) => {
          // A node too busy to answer within the timeout is left out of this sample.
          if (heights.some((h) => h !== null)) lagSeries.push({ t, heights: heights.map((h) => h ?? -1) });
        })
        .finally(() => {
          scraping = false;
        });
    }, 1000);
    const cpu0: { at: number; c: NodeJS.CpuUsage }[] = [];
    const windowStart = Date.now() + o.warmupSec * 1000;
    const cpuTimer = setTimeout(
      () => cpu0.push({ at: Date.now(), c: process.cpuUsage() }),
      o.warmupSec * 1000,
    );
    o.log(
      `offering ${o.rate} tx/s (${names.map((n, i) => `${n} ${weights[i]}`).join(', ')}) + ${o.bundlesPerSec} bundles/s`,
    );
    const bundleRun: Promise<BundleSendReport | undefined> =
      o.bundlesPerSec > 0
        ? sleep(o.warmupSec * 1000).then(() =>
            sendBundles({
              urls,
              planner: new BundlePlanner({
                rollups: [
                  { namespace: 2, kind: 'transfer' },
                  { namespace: 3, kind: 'evm', evmChainId: EVM_CHAIN_IDS[3] },
                  { namespace: 4, kind: 'evm', evmChainId: EVM_CHAIN_IDS[4] },
                ],
                accounts: BUNDLE_ACCOUNTS,
                crossShare: 0.5,
                failShare: 0,
                runId: `${Date.now()}`,
                random: Math.random,
              }),
              rate: o.bundlesPerSec,
              durationMs: o.durationSec * 1000,
              call: rpcCall,
            }),
          )
        : Promise.resolve(undefined);
    const loads: LoadReport[] = await Promise.all(gens.map((g) => g.run()));
    const ownCpu =
      cpu0[0] === undefined
        ? 0
        : (() => {
            const c = process.cpuUsage(cpu0[0].c);
            return (c.user + c.system) / 1e6;
          })();
    clearTimeout(cpuTimer);
    const bundles = await bundleRun;
    clearInterval(lagTimer);
    // The measured window: from the first generator's start of measurement to the last one's end.
    const w = {
      startMs: Math.min(...loads.map((l) => l.window.startMs)),
      endMs: Math.max(...loads.map((l) => l.window.endMs)),
    };
    const windowSec = (w.endMs - w.startMs) / 1000;
    // ---- per kind: commits in the window, submit → commit, and submit → pre-confirmation (executed
    // kinds: the target node's execution time of the transaction's height)
    const commitMs = sourcesKind.map(() => [] as number[]);
    const preMs = sourcesKind.map(() => [] as number[]);
    const inWindow = sourcesKind.map(() => 0);
    const allCommit: number[] = [];
    const pre: number[] = [];
    let notPreconfirmed = 0;
    for (const c of ev) {
      const ms = Math.max(0, c.observedAt - c.sentAt);
      commitMs[c.source]!.push(ms);
      allCommit.push(ms);
      if (c.observedAt <= w.endMs) inWindow[c.source]!++;
      if (sourcesKind[c.source] === 'opaque') continue;
      const at = watches[c.target]?.execAt.get(c.height);
      if (at === undefined) {
        notPreconfirmed++;
        continue;
      }
      const p = Math.max(0, at - c.sentAt);
      preMs[c.source]!.push(p);
      pre.push(p);
    }
    const committedInWindow = inWindow.reduce((a2, b2) => a2 + b2, 0);
    const sum = (f: (l: LoadReport, i: number) => number) => (i: number) =>
      loads.reduce((n, l) => n + f(l, i), 0);
    const sentOf = sum((l, i) => l.perSource[i]?.sent ?? 0);
    const acceptedOf = sum((l, i) => l.perSource[i]?.accepted ?? 0);
    const rejectedOf = sum((l, i) => l.perSource[i]?.rejected ?? 0);
    const rejected: Record<string, number> = {};
    for (const l of loads)
      for (const [k, v] of Object.entries(l.rejected)) rejected[k] = (rejected[k] ?? 0) + v;
    const wsum = weights.reduce((a2, b2) => a2 + b2, 0);
    // ---- executor lag over the measured window
    const inWin = lagSeries.filter((s) => s.t >= w.startMs && s.t <= w.endMs);
    const lagMax = inWin.map((s) => Math.max(...s.heights));
    const unanswered = lagSeries.reduce((n, s) => n + s.heights.filter((h) => h < 0).length, 0);
    const execMs: number[] = [];
    const execMsT: number[] = [];
    for (const [h, at] of commitAt) {
      if (at < w.startMs || at > w.endMs) continue;
      for (const wa of watches) {
        const e = wa.execAt.get(h);
        if (e !== undefined) {
          execMs.push(e - at);
          execMsT.push((at - w.startMs) / 1000);
        }
      }
    }
    const third = Math.max(1, Math.floor(inWin.length / 3));
    const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
    const execSummary = summarize(execMs);
    const lag = {
      heightsBehindMax: lagMax.length === 0 ? null : Math.max(...lagMax),
      samples: inWin.length,
      /** Scrapes a node did not answer within 5 s (counted as -1 in `series`). */
      unanswered,
      heightsBehindMeanFirstThird: round1(mean(lagMax.slice(0, third))),
      heightsBehindMeanLastThird: round1(mean(lagMax.slice(-third))),
      heightsBehindSlopePerMin: round1(
        slope(
          inWin.map((s) => (s.t - w.startMs) / 60_000),
          lagMax,
        ),
      ),
      commitToExecMs: {
        p50: Math.round(execSummary.p50),
        p99: Math.round(execSummary.p99),
        max: Math.round(execSummary.max),
        slopeMsPerMin: Math.round(
          slope(
            execMsT.map((t) => t / 60),
            execMs,
          ),
        ),
      },
      series: inWin.map((s) => ({ t: round1((s.t - w.startMs) / 1000), behind: s.heights })),
    };
    // ---- CPU over the window
    const cpuSec = sampler?.cpuSecondsBetween(w.startMs, w.endMs);
    const sysSec = sampler?.systemSecondsBetween(w.startMs, w.endMs);
    const committed = committedInWindow;
    const totalCpu = cpuSec === undefined ? undefined : cpuSec + ownCpu;
    const cpuMicrosPerTx =
      totalCpu === undefined || committed === 0 ? null : Math.round((totalCpu * 1e6) / committed);
    // ---- stop the testnet: its report carries the safety check over every node's chain
    child.kill('SIGINT');
    const exitCode = await exited;
    let safety: TestnetReport['safety'] | null = null;
    try {
      safety = (JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as TestnetReport).safety;
    } catch {
      safety = null;
    }
    const preSummary = summarize(pre);
    const bundlePre = summarize(bundles?.preconfirmMs ?? []);
    const commitSummary = summarize(allCommit);
    return {
      windowSec: round1(windowSec),
      offeredTxPerSec: o.rate,
      shares: o.shares,
      committedTxPerSec: round1(committedInWindow / windowSec),
      // Every transaction of the blocks proposed in the window (by header time), the load's or not. Under
      // overload this process hears of commits late, and `committedTxPerSec` (commits it saw in the
      // window) undercounts what the chain did: this one does not depend on this process.
      chainTxPerSec: round1(
        blocks.filter((b) => b.timeMs >= w.startMs && b.timeMs <= w.endMs).reduce((n, b) => n + b.txs, 0) /
          windowSec,
      ),
      // Heights proposed in the window, and those whose block was proposed in a round after 0 (round 0 did
      // not decide; a block re-proposed from an earlier round would count under that round).
      heights: {
        inWindow: blocks.filter((b) => b.timeMs >= w.startMs && b.timeMs <= w.endMs).length,
        afterRound0: blocks.filter((b) => b.timeMs >= w.startMs && b.timeMs <= w.endMs && b.round > 0).length,
      },
      commitMs: { p50: Math.round(commitSummary.p50), p99: Math.round(commitSummary.p99) },
      perKind: sourcesKind.map((kind, i) => {
        const c = summarize(commitMs[i]!);
        const p = summarize(preMs[i]!);
        return {
          kind,
          offeredTxPerSec: round1((o.rate * o.shares[kind]) / wsum),
          sent: sentOf(i),
          accepted: acceptedOf(i),
          rejected: rejectedOf(i),
          committedTxPerSec: round1(inWindow[i]! / windowSec),
          commitP50Ms: Math.round(c.p50),
          commitP99Ms: Math.round(c.p99),
          preconfP50Ms: kind === 'opaque' ? null : Math.round(p.p50),
          preconfP99Ms: kind === 'opaque' ? null : Math.round(p.p99),
        };
      }),
      preconfMs: {
        count: preSummary.count,
        p50: Math.round(preSummary.p50),
        p99: Math.round(preSummary.p99),
        notPreconfirmed,
      },
      bundles:
        bundles === undefined
          ? null
          : {
              offeredPerSec: o.bundlesPerSec,
              offered: bundles.offered,
              accepted: bundles.accepted,
              refused: bundles.refused,
              applied: bundles.applied,
              reverted: bundles.reverted,
              dropped: bundles.dropped,
              unsettled: bundles.unsettled,
              preconfP50Ms: Math.round(bundlePre.p50),
              preconfP99Ms: Math.round(bundlePre.p99),
            },
      executorLag: lag,
      rejected,
      notSent: loads.reduce((n, l) => n + l.notSent, 0),
      uncommitted: loads.reduce((n, l) => n + l.uncommitted, 0),
      cpuMicrosPerTx,
      generatorCpuSecInWindow: round1(ownCpu),
      kernelCpuShare:
        cpuSec === undefined || sysSec === undefined || cpuSec === 0
          ? null
          : Math.round((sysSec / cpuSec) * 1000) / 1000,
      verifyEquivalentsPerTx:
        cpuMicrosPerTx === null || o.verifyMicros === 0
          ? null
          : Math.round((cpuMicrosPerTx / o.verifyMicros) * 100) / 100,
      conflictingCommits: safety?.conflictingCommits ?? null,
      checkedHeights: safety?.checkedHeights ?? null,
      testnetExitCode: exitCode,
      windowStartedAt: new Date(windowStart).toISOString(),
    };
  } finally {
    follower?.stop();
    for (const wa of watches) wa.close();
    sampler?.stop();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      await exited;
    }
    // ORDO_BENCH_KEEP=1 keeps the testnet directory (every node's log, config and store) to read after.
    if (process.env.ORDO_BENCH_KEEP === '1') o.log(`kept the testnet directory ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
