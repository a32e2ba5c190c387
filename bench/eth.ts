/**
 * Ethereum RPC benchmark (issue 24), driven only through the `/evm/3` endpoints:
 * `--validators 1` (default) is one real `ordo start` whose EVM rollup funds --accounts extra accounts in
 * genesis; `--validators N` is `ordo testnet up --validators N --load 0` (N validator processes), whose
 * accounts are funded first with ETH transfers from the demo accounts.
 *
 *   setup:     deploy the ERC-20 fixture (test/fixtures/evm), spread tokens to every account (a fan-out
 *              tree, ≤ 16 transactions in flight per sender)
 *   transfers: for each --rate (a list steps up on the same network), --repeat windows of that many
 *              ERC-20 transfers a second for --duration s, open loop, each
 *              from the next account (viem-signed before the window, so client signing is not in it),
 *              sent with eth_sendRawTransaction round-robin over every node; receipts are collected per
 *              block on the first node (newHeads over WebSocket → eth_getBlockReceipts), so send → receipt
 *              latency is measured without polling every hash
 *   calls:     --calls eth_call balanceOf requests (of a different account each, cycling over the accounts) to the first node, --concurrency at a time, then the
 *              same number in JSON-RPC batches of --call-batch (4 batches in flight), each with the
 *              node's CPU per call (/proc of that node's process)
 *
 * Output (JSON, --out FILE and stdout): {sendToReceiptP50Ms, sendToReceiptP99Ms, ethCallPerSec,
 * ethCallNodeCpuMicros, ethCallMainThreadCpuMicros (that node's main thread only), ethCallClientCpuMicros
 * (this bench process, the client, which shares the host's cores), ethCallLoadAvg, ethCallBatchedPerSec,
 * erc20TransfersPerSec, cpuMicrosPerTx, loadAvg, perRate[…], runs[…]}: per rate
 * the medians over its runs; the headline figures are those of the highest rate that holds (p50 ≤ 300
 * ms, p99 ≤ 1 s, ≥ 95 % of the offered rate received), else of the lowest rate tried;
 * cpuMicrosPerTx is the user + system CPU of every process under test (the node, or the testnet's
 * orchestrator and every node) over the transfer window divided by the receipts; cpuMicrosPerTxAboveIdle
 * first subtracts what those processes burn with no load (idleCpuCores, measured for --idle s before the
 * windows), i.e. what a transfer adds. The machine is shared:
 * read loadAvg next to every figure.
 *
 *   npm run bench:eth -- --out FILE [--validators 1] [--accounts 1000] [--rate 200] [--duration 10]
 *                        [--repeat 1] [--calls 2000] [--concurrency 16] [--call-batch 50] [--idle 5] [--cpu-prof DIR [--cpu-prof-interval 1000]]
 *                        [--call-workers N]   (single node: rpc.ethCallWorkers, ADR 0205; 0 = calls on the main thread)
 *                        [--repo DIR]         (single node: run DIR/bin/ordo.js under this client, for node A/B)
 *                        [--call-warmup N]    (N unmeasured calls before each eth_call phase; default 0)
 *
 * The eth_call client (ADR 0245) is a bare keep-alive socket per in-flight request with every request
 * pre-built, and reports its own CPU per call (ethCallClientCpuMicros).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Abi, encodeDeployData, encodeFunctionData, type Hex, parseEther } from 'viem';
import { type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts';
import { WebSocket } from 'ws';
import { DEMO_BALANCE, demoEvmKey } from '../src/config/index.ts';
import { homePaths, initHome } from '../src/node/index.ts';
import { findFreeBasePort } from '../testnet/setup.ts';
import { writeResult } from './lib/json-out.ts';
import { treeTicks } from './lib/proc-cpu.ts';
import { ticksByThreadName, ticksPerSecond } from './lib/thread-cpu.ts';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    accounts: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '200' },
    duration: { type: 'string', default: '10' },
    calls: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    'cpu-prof': { type: 'string' },
    'cpu-prof-interval': { type: 'string', default: '1000' },
    validators: { type: 'string', default: '1' },
    repeat: { type: 'string', default: '1' },
    'call-batch': { type: 'string', default: '50' },
    idle: { type: 'string', default: '5' },
    'call-workers': { type: 'string' },
    repo: { type: 'string' },
    'call-warmup': { type: 'string', default: '0' },
  },
});
// Absolute: the nodes run with another working directory.
if (args['cpu-prof'] !== undefined) args['cpu-prof'] = resolve(args['cpu-prof']);
const ACCOUNTS = Math.max(16, Math.min(10_000, Number(args.accounts)));
/** --rate 200 or a list (100,200,400): each rate gets --repeat windows on the same network. */
const RATES = String(args.rate)
  .split(',')
  .map((x) => Math.max(1, Math.min(20_000, Number(x))));
const DURATION = Math.max(1, Math.min(600, Number(args.duration)));
const CALLS = Math.max(1, Math.min(1_000_000, Number(args.calls)));
const CONCURRENCY = Math.max(1, Math.min(256, Number(args.concurrency)));
const VALIDATORS = Math.max(1, Math.min(7, Number(args.validators)));
const REPEAT = Math.max(1, Math.min(10, Number(args.repeat)));
const CALL_BATCH = Math.max(1, Math.min(1000, Number(args['call-batch'])));
/** --call-warmup N: calls run before each eth_call phase and not measured (JIT warm-up of its thread). */
const CALL_WARMUP = Math.max(0, Math.min(1_000_000, Number(args['call-warmup'])));
/** Seconds of no load measured before the transfer windows: the processes' idle CPU (consensus, timers). */
const IDLE = Math.max(0, Math.min(60, Number(args.idle)));
/** --call-workers N: the node's rpc.ethCallWorkers (ADR 0205; single node only); default: the config default. */
const CALL_WORKERS =
  args['call-workers'] === undefined ? undefined : Math.max(0, Math.min(16, Number(args['call-workers'])));

/** --cpu-prof-interval µs: the profiles' sampling interval (Node's default 1000; larger costs less). */
const PROF_INTERVAL = Math.max(100, Math.min(100_000, Number(args['cpu-prof-interval'])));

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
/**
 * --repo DIR (single node only): run the node of another checkout (its bin/ordo.js) under this bench's
 * client, so an A/B compares nodes and not benches; the home is initialised by this checkout's code.
 */
const NODE_REPO = args.repo ?? REPO;
if (args.repo !== undefined && VALIDATORS > 1) {
  process.stderr.write('--repo runs one node of another checkout: use it with --validators 1\n');
  process.exit(2);
}
const CHAIN_ID = 900_001;
const NS = 3;
const artifact = JSON.parse(
  readFileSync(join(REPO, 'test', 'fixtures', 'evm', 'OrdoToken.json'), 'utf8'),
) as {
  abi: Abi;
  bytecode: Hex;
};

const keyOf = (i: number): Hex =>
  `0x${createHash('sha256').update(`ordo-bench-eth-${i}`).digest('hex')}` as Hex;

interface Rc {
  status: string;
  contractAddress: Hex | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) => process.stderr.write(`${m}\n`);

/** user + system ticks of a process, or with `thread` of one of its threads (the main thread: its pid). */
function cpuTicks(pid: number, thread?: number): number {
  const s = readFileSync(
    thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`,
    'utf8',
  );
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}
// One keep-alive pool of at most 64 sockets (the node refuses more than rpc.maxConnectionsPerAddress,
// 128, from one address): an open-loop sender must not open a socket per request when the node lags.
// Idle sockets are dropped after 3 s, before the server's 5 s keep-alive timeout closes them under a
// request (which shows as "socket hang up" / ECONNRESET).
const agent = new HttpAgent({ keepAlive: true, maxSockets: 64, timeout: 3_000 });

function rpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  return post(url, { jsonrpc: '2.0', id: 1, method, params }, method);
}

function post(url: string, payload: unknown, method: string): Promise<unknown> {
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          try {
            const j = JSON.parse(Buffer.concat(chunks).toString('utf8')) as
              | { result?: unknown; error?: { message: string } }
              | unknown[];
            if (Array.isArray(j)) resolve(j);
            else if (j.error !== undefined) reject(new Error(`${method}: ${j.error.message}`));
            else resolve(j.result);
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method}: no answer within 30 s`)));
    req.on('error', (err) => reject(new Error(`${method}: ${err.message}`)));
    req.end(body);
  });
}

/**
 * One keep-alive HTTP/1.1 connection for the eth_call phase, leaner than `http.request` (the client
 * shares the host's two cores with the node, and its CPU per call should not set the figure): requests
 * are pre-built buffers (request line, headers and body), one is in flight at a time, and only the
 * status, the length (content-length or chunked) and the body are taken from the answer.
 */
class RawConn {
  readonly #sock: Socket;
  #buf: Buffer = Buffer.alloc(0);
  #want: { resolve: (body: Buffer) => void; reject: (err: Error) => void } | undefined;
  #error: Error | undefined;

  private constructor(sock: Socket) {
    this.#sock = sock;
    sock.setNoDelay(true);
    sock.on('data', (c: Buffer) => {
      this.#buf = this.#buf.length === 0 ? c : Buffer.concat([this.#buf, c]);
      this.#parse();
    });
    const fail = (err: Error) => {
      this.#error ??= err;
      const w = this.#want;
      this.#want = undefined;
      w?.reject(this.#error);
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('eth_call: the node closed the connection')));
  }

  static open(host: string, port: number): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const sock = connect(port, host, () => {
        sock.off('error', reject);
        resolve(new RawConn(sock));
      });
      sock.once('error', reject);
    });
  }

  /** Send one pre-built request; resolves with the answer's body (rejects on a non-200 status). */
  request(req: Buffer): Promise<Buffer> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#want !== undefined) return Promise.reject(new Error('RawConn: one request at a time'));
    return new Promise((resolve, reject) => {
      this.#want = { resolve, reject };
      this.#sock.write(req);
    });
  }

  close(): void {
    this.#sock.destroy();
  }

  #parse(): void {
    const buf = this.#buf;
    const he = buf.indexOf('\r\n\r\n');
    if (he < 0 || this.#want === undefined) return;
    const head = buf.toString('latin1', 0, he);
    const status = Number(head.slice(9, 12));
    let body: Buffer;
    let end: number;
    const len = /\r\ncontent-length: *([0-9]+)/i.exec(head);
    if (len !== null) {
      end = he + 4 + Number(len[1]);
      if (buf.length < end) return;
      body = buf.subarray(he + 4, end);
    } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      // The session-9 baseline answers chunked (no content-length), one chunk and the terminator.
      const parts: Buffer[] = [];
      let at = he + 4;
      for (;;) {
        const le = buf.indexOf('\r\n', at);
        if (le < 0) return;
        const size = Number.parseInt(buf.toString('latin1', at, le), 16);
        if (buf.length < le + 2 + size + 2) return;
        if (size === 0) {
          end = le + 4;
          break;
        }
        parts.push(buf.subarray(le + 2, le + 2 + size));
        at = le + 2 + size + 2;
      }
      body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    } else {
      this.#want.reject(new Error(`eth_call: an answer with neither content-length nor chunking:\n${head}`));
      this.#want = undefined;
      return;
    }
    this.#buf = buf.subarray(end);
    const w = this.#want;
    this.#want = undefined;
    if (status === 200) w.resolve(body);
    else w.reject(new Error(`eth_call: HTTP ${status}: ${body.toString('utf8').slice(0, 300)}`));
  }
}

/** A POST of a JSON body as one pre-built HTTP/1.1 request (keep-alive). */
function rawPost(url: URL, body: string): Buffer {
  const b = Buffer.from(body);
  return Buffer.concat([
    Buffer.from(
      `POST ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\n` +
        `content-length: ${b.length}\r\nconnection: keep-alive\r\n\r\n`,
      'latin1',
    ),
    b,
  ]);
}

/** Occurrences of `needle` in `hay` (the minimal check of a batch's answers). */
function count(hay: Buffer, needle: Buffer): number {
  let n = 0;
  for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + needle.length)) n++;
  return n;
}

function startNode(home: string): Promise<{ proc: ChildProcess; rpcUrl: string; stderr: () => string }> {
  // --cpu-prof DIR: the node writes a V8 CPU profile there when it stops (where its time goes).
  const prof =
    args['cpu-prof'] === undefined
      ? []
      : ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof'], '--cpu-prof-interval', String(PROF_INTERVAL)];
  const proc = spawn(
    process.execPath,
    [...prof, join(NODE_REPO, 'bin', 'ordo.js'), 'start', '--home', home],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let err = '';
    let exited: string | undefined;
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`node did not start within 60 s:\n${err.slice(-3000)}`));
    }, 60_000);
    proc.stderr!.on('data', (d) => {
      err += d;
      if (err.length > 1_000_000) err = err.slice(-100_000);
      const m = /JSON-RPC (http:\/\/[0-9.]+:[0-9]+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, rpcUrl: m[1]!, stderr: () => (exited === undefined ? err : `${err}\n${exited}`) });
      }
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      exited = `node exited (code ${code}, signal ${signal})`;
      reject(new Error(`node exited (${code}) before starting:\n${err.slice(-3000)}`));
    });
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Target {
  /** Every node's `/evm/3` URL (transfers are spread over them); calls and receipts use the first. */
  urls: string[];
  /** The process tree charged for CPU (the node, or the testnet orchestrator and all its nodes). */
  rootPid: number;
  /** The first node's pid (eth_call CPU). */
  callPid: number;
  /** Every node's pid (CPU per transfer by thread name). */
  nodePids: number[];
  stop(): Promise<void>;
  log(): string;
}

async function stopProc(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  await new Promise((r) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      r(undefined);
    }, 15_000);
    proc.once('exit', () => {
      clearTimeout(t);
      r(undefined);
    });
  });
}

/** One `ordo start` whose EVM rollup funds the bench accounts in genesis. */
async function singleNode(dir: string, accounts: PrivateKeyAccount[]): Promise<Target> {
  const home = join(dir, 'n0');
  initHome({
    home,
    config: {
      rpc: { listen: '127.0.0.1:0', ...(CALL_WORKERS !== undefined ? { ethCallWorkers: CALL_WORKERS } : {}) },
      grpc: { listen: null },
      p2p: { listen: '/ip4/127.0.0.1/tcp/0' },
      log: { level: (process.env.BENCH_NODE_LOG as 'warn' | undefined) ?? 'warn' },
    },
  });
  const genesisPath = homePaths(home).genesis;
  const genesis = JSON.parse(readFileSync(genesisPath, 'utf8')) as {
    rollups: { kind: string; alloc?: { address: string; balance: string }[] }[];
  };
  const evm = genesis.rollups.find((r) => r.kind === 'evm')!;
  evm.alloc = [...(evm.alloc ?? []), ...accounts.map((a) => ({ address: a.address, balance: DEMO_BALANCE }))];
  writeFileSync(genesisPath, JSON.stringify(genesis, null, 2));
  const { proc, rpcUrl, stderr } = await startNode(home);
  return {
    urls: [`${rpcUrl}/evm/${NS}`],
    rootPid: proc.pid!,
    callPid: proc.pid!,
    nodePids: [proc.pid!],
    stop: () => stopProc(proc),
    log: stderr,
  };
}

/** `ordo testnet up --validators N --load 0`: N validator processes; the bench accounts are funded later. */
async function testnet(dir: string, validators: number): Promise<Target> {
  const base = await findFreeBasePort(validators);
  const prof =
    args['cpu-prof'] === undefined
      ? {}
      : {
          ORDO_TESTNET_NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${args['cpu-prof']} --cpu-prof-interval=${PROF_INTERVAL}`,
        };
  const proc = spawn(
    process.execPath,
    [
      join(REPO, 'bin', 'ordo.js'),
      'testnet',
      'up',
      '--validators',
      String(validators),
      '--rollups',
      '3',
      '--load',
      '0',
      '--dashboard',
      '0',
      '--base-port',
      String(base),
      '--dir',
      join(dir, 'testnet'),
    ],
    { cwd: REPO, env: { ...process.env, ...prof }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const append = (d: Buffer) => {
    out += d.toString();
    if (out.length > 1_000_000) out = out.slice(-100_000);
  };
  proc.stderr!.on('data', append);
  const banner = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGTERM');
      reject(new Error(`testnet did not come up within 120 s:\n${out.slice(-3000)}`));
    }, 120_000);
    proc.stdout!.on('data', (d: Buffer) => {
      append(d);
      if (/dashboard http/.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`testnet exited (${code}) before coming up:\n${out.slice(-3000)}`));
    });
  });
  const nodes = [...banner.matchAll(/rpc (http:\/\/[0-9.]+:[0-9]+) .* pid ([0-9]+)/g)].map((m) => ({
    url: `${m[1]}/evm/${NS}`,
    pid: Number(m[2]),
  }));
  if (nodes.length !== validators) throw new Error(`expected ${validators} nodes in the banner:\n${banner}`);
  return {
    urls: nodes.map((n) => n.url),
    rootPid: proc.pid!,
    callPid: nodes[0]!.pid,
    nodePids: nodes.map((n) => n.pid),
    stop: async () => {
      // --cpu-prof: a node writes its main thread's profile only when it exits, which on a loaded host
      // can take longer than the orchestrator's grace before SIGKILL: stop the nodes first, unhurried.
      if (args['cpu-prof'] !== undefined) await stopPids(nodes.map((n) => n.pid));
      await stopProc(proc);
    },
    log: () => out,
  };
}

/** SIGTERM to each pid, then wait (≤ 120 s) until every one has exited. */
async function stopPids(pids: number[]): Promise<void> {
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 1200 && pids.some(alive); i++) await sleep(100);
}

function treeCpuSeconds(root: number): number {
  let t = 0;
  for (const v of treeTicks(root).values()) t += v;
  return t / HZ;
}
const HZ = ticksPerSecond();
/** The monotonic clock V8 CPU profiles use, in µs. */
const monoMicros = (): number => Number(process.hrtime.bigint() / 1000n);
/** The median; with an even count, the mean of the two middle values (rounded). */
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : Math.round(((s[m - 1]! + s[m]!) / 2) * 100) / 100;
};

async function main(): Promise<void> {
  if (args['cpu-prof'] !== undefined) mkdirSync(args['cpu-prof'], { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'ordo-bench-eth-'));
  const accounts: PrivateKeyAccount[] = Array.from({ length: ACCOUNTS }, (_, i) =>
    privateKeyToAccount(keyOf(i)),
  );
  const target = VALIDATORS === 1 ? await singleNode(dir, accounts) : await testnet(dir, VALIDATORS);
  const url = target.urls[0]!;
  const nonces = new Map<string, number>();
  const fees = { maxFeePerGas: 2_000_000_000n, maxPriorityFeePerGas: 0n, type: 'eip1559' as const };
  const sign = (a: PrivateKeyAccount, o: { to?: Hex; data?: Hex; gas: bigint; value?: bigint }) => {
    const nonce = nonces.get(a.address) ?? 0;
    nonces.set(a.address, nonce + 1);
    return a.signTransaction({ chainId: CHAIN_ID, nonce, ...fees, ...o });
  };
  const send = (raw: Hex, to = url) => rpc(to, 'eth_sendRawTransaction', [raw]) as Promise<Hex>;
  // Receipts polled every 50 ms through the bounded pool (viem's waitForTransactionReceipt per hash
  // would open a fetch connection per hash, past the node's per-address connection limit).
  const wait = async (hashes: Hex[]) => {
    const got = new Map<Hex, Rc>();
    for (let i = 0; i < 2_400 && got.size < hashes.length; i++) {
      const todo = hashes.filter((h) => !got.has(h));
      const rcs = await Promise.all(
        todo.map((h) => rpc(url, 'eth_getTransactionReceipt', [h]) as Promise<Rc | null>),
      );
      rcs.forEach((r, k) => {
        if (r !== null) got.set(todo[k]!, r);
      });
      if (got.size < hashes.length) await sleep(50);
    }
    if (got.size < hashes.length) throw new Error(`${hashes.length - got.size} receipts missing after 120 s`);
    return hashes.map((h) => got.get(h)!);
  };

  try {
    const demo = (i: number) => privateKeyToAccount(`0x${Buffer.from(demoEvmKey(i)).toString('hex')}`);
    // ---- setup 0 (testnet): fund the accounts with ETH from the demo accounts, ≤ 16 in flight each
    if (VALIDATORS > 1) {
      const hashes: Hex[] = [];
      for (let i = 0; i < accounts.length; i++) {
        const from = demo(1 + (i % 63));
        hashes.push(
          await send(await sign(from, { to: accounts[i]!.address, value: parseEther('1000'), gas: 21_000n })),
        );
        if (hashes.length % 63 === 0 && Math.floor(hashes.length / 63) % 16 === 0)
          await wait(hashes.slice(-63 * 16));
      }
      const bad = (await wait(hashes)).filter((r) => r.status !== '0x1').length;
      if (bad > 0) throw new Error(`funding: ${bad} of ${hashes.length} transfers failed`);
      log(`funded ${accounts.length} accounts`);
    }
    // ---- setup: deploy, then spread tokens with a fan-out tree (≤ 16 in flight per sender)
    const deployer = demo(0);
    const deployData = encodeDeployData({
      abi: artifact.abi,
      bytecode: artifact.bytecode,
      args: ['Bench Token', 'BENCH', parseEther('1000000000')],
    });
    const [deployRc] = await wait([await send(await sign(deployer, { data: deployData, gas: 3_000_000n }))]);
    if (deployRc?.status !== '0x1' || deployRc.contractAddress === null) throw new Error('deploy failed');
    const token = deployRc.contractAddress;
    log(`token deployed at ${token}`);
    const transferData = (to: Hex, v: bigint) =>
      encodeFunctionData({ abi: artifact.abi, functionName: 'transfer', args: [to, v] });
    const holders: PrivateKeyAccount[] = [deployer];
    let next = 0;
    for (let round = 0; next < accounts.length && round < 4; round++) {
      const hashes: Hex[] = [];
      const senders = [...holders];
      for (const s of senders) {
        for (let k = 0; k < 16 && next < accounts.length; k++) {
          const to = accounts[next++]!;
          // Senders give away at most 16/17 of what they got: 1,000 tokens × 17^(3 − round) each.
          const amount = parseEther('1000') * 17n ** BigInt(Math.max(0, 3 - round));
          hashes.push(
            await send(await sign(s, { to: token, data: transferData(to.address, amount), gas: 65_000n })),
          );
          holders.push(to);
        }
      }
      const rcs = await wait(hashes);
      const bad = rcs.filter((r) => r.status !== '0x1').length;
      if (bad > 0) throw new Error(`setup round ${round}: ${bad} of ${rcs.length} token transfers failed`);
      log(`setup round ${round}: ${holders.length - 1} holders`);
    }

    // ---- receipts: newHeads over WebSocket on the first node → eth_getBlockReceipts
    const sentAt = new Map<string, number>();
    const run = { latencies: [] as number[], failed: 0, failedSample: [] as string[], lastReceiptAt: 0 };
    // Every block from the first announced one on is fetched once, in order: a head announced after a
    // gap (a dropped WebSocket, reconnected) fetches the blocks in between too, timed at that head.
    let fetching = Promise.resolve();
    let nextBlock: bigint | undefined;
    const receiptsOf = async (n: string, seenAt: number) => {
      // A pooled keep-alive socket the server just closed answers "socket hang up": retry, and never
      // let one lost block's receipts end the run (its transactions count as missing).
      let rcs = null as { transactionHash: string; status: string }[] | null;
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          rcs = (await rpc(url, 'eth_getBlockReceipts', [n])) as typeof rcs;
          break;
        } catch (err) {
          if (attempt === 2) log(`block ${n}: receipts not fetched: ${(err as Error).message}`);
        }
      }
      for (const r of rcs ?? []) {
        const t0 = sentAt.get(r.transactionHash);
        if (t0 === undefined) continue;
        sentAt.delete(r.transactionHash);
        run.latencies.push(seenAt - t0);
        run.lastReceiptAt = seenAt;
        if (r.status !== '0x1') {
          run.failed++;
          if (run.failedSample.length < 3) run.failedSample.push(r.transactionHash);
        }
      }
    };
    let ws: WebSocket | undefined;
    let closing = false;
    const connect = async (): Promise<void> => {
      const sock = new WebSocket(url.replace('http://', 'ws://'));
      ws = sock;
      await new Promise<void>((res, rej) => {
        sock.once('open', () => res());
        sock.once('error', rej);
      });
      sock.on('message', (m) => {
        const msg = JSON.parse(m.toString()) as {
          method?: string;
          params?: { result?: { number?: string } };
        };
        const n = msg.params?.result?.number;
        if (msg.method !== 'eth_subscription' || n === undefined) return;
        const seenAt = performance.now();
        const head = BigInt(n);
        const from = nextBlock ?? head;
        if (head < from) return;
        nextBlock = head + 1n;
        fetching = fetching.then(async () => {
          for (let b = from; b <= head; b++) await receiptsOf(`0x${b.toString(16)}`, seenAt);
        });
      });
      sock.on('error', () => {});
      sock.once('close', () => {
        if (closing) return;
        log('newHeads WebSocket closed: reconnecting');
        void sleep(200).then(() => connect().catch((err: Error) => log(`reconnect failed: ${err.message}`)));
      });
      sock.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] }));
    };
    await connect();
    await sleep(200);

    // ---- idle: the CPU the processes burn with no transactions (empty blocks, votes, timers), so each
    // window's CPU per transfer can also be given above that floor (at 100 tx/s on 4 validators the
    // floor is most of the total)
    let idleCores = 0;
    if (IDLE > 0) {
      await sleep(1_000);
      const i0 = treeCpuSeconds(target.rootPid);
      const t = performance.now();
      await sleep(IDLE * 1000);
      idleCores = (treeCpuSeconds(target.rootPid) - i0) / ((performance.now() - t) / 1000);
      log(`idle: ${idleCores.toFixed(2)} cores`);
    }

    // ---- transfers: REPEAT windows; each pre-signs, then sends open-loop at RATE over every node
    const runs: Record<string, unknown>[] = [];
    let collapsedAt: number | undefined;
    for (const RATE of RATES.flatMap((r) => Array.from({ length: REPEAT }, () => r))) {
      // Once a rate collapsed (under half of its transfers got receipts), higher rates only pile on.
      if (collapsedAt !== undefined && RATE >= collapsedAt) continue;
      const rep = runs.filter((r) => r.offeredRate === RATE).length;
      const total = RATE * DURATION;
      const signed: Hex[] = [];
      for (let i = 0; i < total; i++) {
        const from = accounts[i % accounts.length]!;
        const to = accounts[(i + 1) % accounts.length]!;
        signed.push(await sign(from, { to: token, data: transferData(to.address, 1n), gas: 65_000n }));
      }
      log(`run ${rep + 1}/${REPEAT}: signed ${total} transfers; sending at ${RATE}/s for ${DURATION} s`);
      run.latencies = [];
      run.failed = 0;
      run.failedSample = [];
      run.lastReceiptAt = 0;
      const load0 = loadavg();
      const threads0 = target.nodePids.map((p) => ticksByThreadName(p));
      const cpu0 = treeCpuSeconds(target.rootPid);
      const t0 = performance.now();
      const mono0 = monoMicros();
      let refused = 0;
      const refusedSample: string[] = [];
      const inflight: Promise<void>[] = [];
      for (let i = 0; i < total; i++) {
        const due = t0 + (i * 1000) / RATE;
        const now = performance.now();
        if (due > now) await sleep(due - now);
        const raw = signed[i]!;
        const at = performance.now();
        inflight.push(
          send(raw, target.urls[i % target.urls.length]).then(
            (h) => {
              sentAt.set(h, at);
            },
            (err: Error) => {
              refused++;
              if (refusedSample.length < 3) refusedSample.push(err.message);
            },
          ),
        );
      }
      await Promise.all(inflight);
      const sendSeconds = (performance.now() - t0) / 1000;
      for (let i = 0; i < 600 && sentAt.size > 0; i++) await sleep(100);
      await fetching;
      const cpu1 = treeCpuSeconds(target.rootPid);
      const mono1 = monoMicros();
      const load1 = loadavg();
      // CPU per receipt by thread name, summed over the nodes (main thread, executor workers, GC helpers…)
      const byThread: Record<string, number> = {};
      target.nodePids.forEach((p, k) => {
        for (const [name, t] of ticksByThreadName(p)) {
          const d = t - (threads0[k]!.get(name) ?? 0);
          if (d > 0) byThread[name] = (byThread[name] ?? 0) + d;
        }
      });
      for (const name of Object.keys(byThread))
        byThread[name] = Math.round(((byThread[name]! / HZ) * 1e6) / Math.max(1, run.latencies.length));
      // --cpu-prof: the first window on the monotonic clock V8 profiles use (µs), for bench/eth-stages.ts.
      if (args['cpu-prof'] !== undefined && runs.length === 0)
        writeFileSync(
          join(args['cpu-prof'], 'window.json'),
          `${JSON.stringify({ startMicros: mono0, endMicros: mono1 })}\n`,
        );
      for (const h of run.failedSample) {
        const rc = (await rpc(url, 'eth_getTransactionReceipt', [h])) as { gasUsed: string };
        log(`failed ${h} gasUsed ${rc.gasUsed}`);
      }
      const window = Math.max(sendSeconds, (run.lastReceiptAt - t0) / 1000);
      const receipts = run.latencies.length;
      const lat = [...run.latencies].sort((a, b) => a - b);
      const cpuSeconds = cpu1 - cpu0;
      const r = {
        sendToReceiptP50Ms: Math.round(percentile(lat, 50)),
        sendToReceiptP99Ms: Math.round(percentile(lat, 99)),
        erc20TransfersPerSec: Math.round(receipts / window),
        offeredRate: RATE,
        sent: total,
        refused,
        ...(refusedSample.length > 0 ? { refusedSample } : {}),
        receipts,
        failed: run.failed,
        missing: sentAt.size,
        cpuSeconds: Number(cpuSeconds.toFixed(2)),
        cpuCores: Number((cpuSeconds / window).toFixed(2)),
        cpuMicrosPerTx: Math.round((cpuSeconds * 1e6) / Math.max(1, receipts)),
        cpuMicrosPerTxAboveIdle: Math.round(
          (Math.max(0, cpuSeconds - idleCores * window) * 1e6) / Math.max(1, receipts),
        ),
        threadCpuMicrosPerTx: byThread,
        loadAvg: Number(load1[0]!.toFixed(2)),
        loadavgBefore: load0.map((x) => Number(x.toFixed(2))),
        loadavgAfter: load1.map((x) => Number(x.toFixed(2))),
      };
      log(JSON.stringify(r));
      runs.push(r);
      if (receipts < total / 2) {
        collapsedAt = RATE;
        log(`rate ${RATE}/s collapsed (${receipts} of ${total} receipts): no further windows at or above it`);
      }
      if (sentAt.size > 0 || refused > 0) {
        // Transactions without a receipt may have been dropped: the next window's nonces must not
        // depend on them. Restart every account from its pending nonce.
        await Promise.all(
          accounts.map(async (a) => {
            // A pooled keep-alive socket the server just closed answers "socket hang up": retry.
            let n = '0x0';
            for (let attempt = 0; ; attempt++) {
              try {
                n = (await rpc(url, 'eth_getTransactionCount', [a.address, 'pending'])) as string;
                break;
              } catch (err) {
                if (attempt === 2) throw err;
              }
            }
            nonces.set(a.address, Number(BigInt(n)));
          }),
        );
      }
      sentAt.clear();
    }
    closing = true;
    ws?.close();

    // ---- eth_call throughput on the first node: single requests, then JSON-RPC batches
    // balanceOf of a different account each call (the same call over and over would flatter any cache)
    const callOf = (i: number) => ({
      jsonrpc: '2.0',
      method: 'eth_call',
      params: [
        {
          to: token,
          data: encodeFunctionData({
            abi: artifact.abi,
            functionName: 'balanceOf',
            args: [accounts[i % accounts.length]!.address],
          }),
        },
        'latest',
      ],
    });
    const calls = Array.from({ length: Math.min(CALLS, accounts.length) }, (_, i) => callOf(i));
    // The client's work is kept out of the figure as far as it can be: every request is built before
    // the phase (HTTP request line, headers, body), each of the --concurrency connections is a bare
    // keep-alive socket (RawConn), and an answer is only checked for a result and no error.
    const target0 = new URL(url);
    const singleReqs = calls.map((c, i) => rawPost(target0, JSON.stringify({ ...c, id: i })));
    const batchReqs = new Map<number, Buffer>();
    const batchReq = (first: number, n: number): Buffer => {
      const key = (first % calls.length) * 1_000_000 + n;
      let b = batchReqs.get(key);
      if (b === undefined) {
        b = rawPost(
          target0,
          JSON.stringify(
            Array.from({ length: n }, (_, i) => ({ ...calls[(first + i) % calls.length]!, id: i })),
          ),
        );
        batchReqs.set(key, b);
      }
      return b;
    };
    for (let first = 0; first < CALLS; first += CALL_BATCH)
      batchReq(first, Math.min(CALL_BATCH, CALLS - first));
    const RESULT = Buffer.from('"result":"0x');
    const ERROR = Buffer.from('"error"');
    // One answer parsed in full, as a sanity check of what the phases then only skim.
    {
      const conn = await RawConn.open(target0.hostname, Number(target0.port));
      const one = JSON.parse((await conn.request(singleReqs[0]!)).toString('utf8')) as { result?: string };
      conn.close();
      if (typeof one.result !== 'string' || !/^0x[0-9a-f]{64}$/.test(one.result))
        throw new Error(`eth_call balanceOf answered ${JSON.stringify(one)}`);
    }
    const callPhase = async (batch: number, concurrency: number) => {
      const conns = await Promise.all(
        Array.from({ length: concurrency }, () => RawConn.open(target0.hostname, Number(target0.port))),
      );
      /** `total` calls over the connections, answers skimmed (see above). */
      const drive = async (total: number) => {
        let done = 0;
        await Promise.all(
          conns.map(async (conn) => {
            while (done < total) {
              const n = Math.min(batch, total - done);
              const first = done;
              done += n;
              if (batch === 1) {
                const body = await conn.request(singleReqs[first % calls.length]!);
                if (body.indexOf(RESULT) < 0 || body.indexOf(ERROR) >= 0)
                  throw new Error(`eth_call failed: ${body.toString('utf8').slice(0, 300)}`);
              } else {
                const body = await conn.request(batchReq(first, n));
                if (count(body, RESULT) !== n || body.indexOf(ERROR) >= 0)
                  throw new Error(`a batched eth_call failed: ${body.toString('utf8').slice(0, 300)}`);
              }
            }
          }),
        );
      };
      // --call-warmup calls first, not measured: the thread that will run this phase's EVM (the
      // worker for single requests, the main thread for batch entries) may not have run a call yet,
      // and its JIT warm-up would otherwise be charged to the phase.
      if (CALL_WARMUP > 0) await drive(CALL_WARMUP);
      const cpu0 = cpuTicks(target.callPid);
      const main0 = cpuTicks(target.callPid, target.callPid);
      const threads0 = ticksByThreadName(target.callPid);
      const load0 = loadavg()[0]!;
      const client0 = process.cpuUsage();
      const c0 = performance.now();
      await drive(CALLS);
      const seconds = (performance.now() - c0) / 1000;
      const cpu = (cpuTicks(target.callPid) - cpu0) / HZ;
      const main = (cpuTicks(target.callPid, target.callPid) - main0) / HZ;
      const client = process.cpuUsage(client0);
      for (const c of conns) c.close();
      // CPU per call by thread name (the call worker, V8's GC helpers, libuv...): where the process's
      // CPU beyond the main thread goes.
      const byThread: Record<string, number> = {};
      for (const [name, t] of ticksByThreadName(target.callPid)) {
        const us = Math.round((((t - (threads0.get(name) ?? 0)) / HZ) * 1e6) / CALLS);
        if (us > 0) byThread[name] = us;
      }
      return {
        threadCpuMicrosPerCall: byThread,
        // this bench process's own CPU per call (the client shares the host's cores with the node)
        clientCpuMicrosPerCall: Math.round((client.user + client.system) / CALLS),
        loadAvg: load0,
        perSec: Math.round(CALLS / seconds),
        nodeCpuMicrosPerCall: Math.round((cpu * 1e6) / CALLS),
        mainThreadCpuMicrosPerCall: Math.round((main * 1e6) / CALLS),
      };
    };
    const single = await callPhase(1, CONCURRENCY);
    const batched = await callPhase(CALL_BATCH, 4);
    const loadEnd = loadavg();

    // Per offered rate: medians over its runs; it holds when p50 ≤ 300 ms, p99 ≤ 1 s (the issue's
    // targets) and ≥ 95 % of the offered rate got receipts. The headline is the highest rate that holds
    // (else the lowest rate tried), next to every rate's medians.
    const perRate = RATES.filter((rate) => runs.some((r) => r.offeredRate === rate)).map((rate) => {
      const rs = runs.filter((r) => r.offeredRate === rate);
      const num = (k: string) => median(rs.map((r) => r[k] as number));
      const m = {
        offeredRate: rate,
        sendToReceiptP50Ms: num('sendToReceiptP50Ms'),
        sendToReceiptP99Ms: num('sendToReceiptP99Ms'),
        erc20TransfersPerSec: num('erc20TransfersPerSec'),
        cpuMicrosPerTx: num('cpuMicrosPerTx'),
        cpuMicrosPerTxAboveIdle: num('cpuMicrosPerTxAboveIdle'),
        cpuCores: num('cpuCores'),
        loadAvg: num('loadAvg'),
      };
      return {
        ...m,
        holds:
          m.sendToReceiptP50Ms <= 300 &&
          m.sendToReceiptP99Ms <= 1000 &&
          m.erc20TransfersPerSec >= 0.95 * rate,
      };
    });
    const head = [...perRate].reverse().find((r) => r.holds) ?? perRate[0]!;
    const result = {
      bench: 'eth',
      date: new Date().toISOString(),
      host: { cores: availableParallelism() },
      params: {
        validators: VALIDATORS,
        accounts: ACCOUNTS,
        rates: RATES,
        durationSec: DURATION,
        repeat: REPEAT,
        calls: CALLS,
        concurrency: CONCURRENCY,
        callBatch: CALL_BATCH,
        callWorkers: CALL_WORKERS ?? 'default',
        nodeRepo: NODE_REPO,
        callWarmup: CALL_WARMUP,
        client: 'raw keep-alive sockets, pre-built requests (RawConn)',
      },
      offeredRate: head.offeredRate,
      holds: head.holds,
      sendToReceiptP50Ms: head.sendToReceiptP50Ms,
      sendToReceiptP99Ms: head.sendToReceiptP99Ms,
      ethCallPerSec: single.perSec,
      ethCallNodeCpuMicros: single.nodeCpuMicrosPerCall,
      ethCallMainThreadCpuMicros: single.mainThreadCpuMicrosPerCall,
      ethCallBatchedPerSec: batched.perSec,
      ethCallBatchedNodeCpuMicros: batched.nodeCpuMicrosPerCall,
      ethCallBatchedMainThreadCpuMicros: batched.mainThreadCpuMicrosPerCall,
      ethCallClientCpuMicros: single.clientCpuMicrosPerCall,
      ethCallBatchedClientCpuMicros: batched.clientCpuMicrosPerCall,
      ethCallLoadAvg: single.loadAvg,
      ethCallThreadCpuMicros: single.threadCpuMicrosPerCall,
      ethCallBatchedThreadCpuMicros: batched.threadCpuMicrosPerCall,
      erc20TransfersPerSec: head.erc20TransfersPerSec,
      cpuMicrosPerTx: head.cpuMicrosPerTx,
      cpuMicrosPerTxAboveIdle: head.cpuMicrosPerTxAboveIdle,
      idleCpuCores: Number(idleCores.toFixed(3)),
      loadAvg: head.loadAvg,
      perRate,
      loadAvgAtEnd: loadEnd.map((x) => Number(x.toFixed(2))),
      runs,
      note:
        (VALIDATORS === 1
          ? 'single validator, in one process'
          : `${VALIDATORS}-validator testnet (ordo testnet up), transfers spread over every node`) +
        '; receipts timed when their block is announced on the first node (newHeads); medians over runs; ' +
        'headline = the highest offered rate that holds (p50 <= 300 ms, p99 <= 1 s, >= 95 % received), else the lowest tried; ' +
        'cpuMicrosPerTx = CPU of every node process over the window / receipts (AboveIdle: minus idleCpuCores x window, ' +
        `measured over ${IDLE} s with no load before the windows); eth_call on the first node ` +
        `(single: ${CONCURRENCY} requests in flight; batched: JSON-RPC batches of ${CALL_BATCH}, 4 in flight)`,
    };
    writeResult(result, args.out);
  } catch (err) {
    log(`node's log (tail):\n${target.log().slice(-4000)}`);
    throw err;
  } finally {
    await target.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
